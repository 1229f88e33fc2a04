# cython: language_level=3
"""What the two TLS 1.2 roles share: the hello checks both sides make (RFC 5746, RFC 7627,
RFC 8422 point formats), the key block, and the base class with the transcript, the
ChangeCipherSpec switch and the Finished exchange."""

from cyssl.tls import keyschedule
from cyssl.tls.connection cimport Connection
from cyssl.tls.errors import TLSError
from cyssl.tls.errors cimport DECODE_ERROR, HANDSHAKE_FAILURE
from cyssl.tls.messages cimport EXT_EC_POINT_FORMATS, EXT_EXTENDED_MASTER_SECRET, EXT_RENEGOTIATION_INFO
from cyssl.tls.messages import check_finished, encode_finished, illegal_parameter, unexpected_message

# Key exchange groups TLS 1.2 can use (no hybrid KEMs: RFC 8422 ECDHE only).
TLS12_GROUPS = frozenset([0x001D, 0x0017, 0x0018])


def handshake_failure(str message, str reason):
    return TLSError(HANDSHAKE_FAILURE, reason, message)


def check_secure_hello_extensions(extensions, config):
    """RFC 5746 and RFC 7627 on a TLS 1.2 hello; returns whether EMS was agreed."""
    info = extensions.get(EXT_RENEGOTIATION_INFO)
    if info is None:
        raise handshake_failure("peer does not support secure renegotiation (RFC 5746)",
                                "UNSAFE_LEGACY_RENEGOTIATION_DISABLED")
    if info != b"\x00":
        raise handshake_failure("renegotiation_info is not empty in an initial handshake",
                                "RENEGOTIATION_MISMATCH")
    if EXT_EXTENDED_MASTER_SECRET in extensions:
        if extensions[EXT_EXTENDED_MASTER_SECRET]:
            raise TLSError(DECODE_ERROR, "BAD_EXTENSION", "non-empty extended_master_secret")
        return True
    if config.require_extended_master_secret:
        raise handshake_failure("peer does not support the extended master secret (RFC 7627)",
                                "INCONSISTENT_EXTMS")
    return False


def check_point_formats(extensions):
    formats = extensions.get(EXT_EC_POINT_FORMATS)
    if formats is not None and (len(formats) < 2 or formats[0] != len(formats) - 1 or 0 not in formats[1:]):
        raise illegal_parameter("ec_point_formats without uncompressed points")


def traffic_keys12(suite, master_secret, client_random, server_random):
    """(client key, client iv, server key, server iv) from the key block (RFC 5246 6.3)."""
    key_length, iv_length = suite.aead.key_length, suite.fixed_iv_length
    block = keyschedule.key_block12(suite.hash_name, master_secret, server_random, client_random,
                                    2 * (key_length + iv_length))
    client_key, block = block[:key_length], block[key_length:]
    server_key, block = block[:key_length], block[key_length:]
    return client_key, block[:iv_length], server_key, block[iv_length:2 * iv_length]


def install_keys12(Connection conn, master_secret, server_random, bint for_client):
    """Prepare both directions (``master_secret``: bytes or an HMACKey); the write key
    is switched on now (after our CCS), the read key when the peer's CCS arrives."""
    from cyssl.tls.record import RecordProtection
    suite = conn.suite
    client_key, client_iv, server_key, server_iv = traffic_keys12(
        suite, master_secret, conn.client_random, server_random)
    client_side = RecordProtection(suite, client_key, client_iv)
    server_side = RecordProtection(suite, server_key, server_iv)
    if for_client:
        return client_side, server_side
    return server_side, client_side


class Handshake12:
    """Base of both TLS 1.2 handshake machines. Subclasses set ``is_client`` and keep
    ``conn``, ``transcript``, ``messages`` (the raw log CertificateVerify signs),
    ``master_secret`` and ``server_random``."""
    is_client = True

    def _record(self, raw):
        self.transcript.update(raw)
        if self.messages is not None:
            self.messages += raw

    def _send(self, message):
        self.conn.send_handshake(message)
        self._record(message)

    def _derive_keys(self):
        conn = self.conn
        conn.log_secret("CLIENT_RANDOM", self.master_secret)
        # The key block and both Finished come from the master secret: one set of HMAC
        # states serves all three PRF runs.
        self.master_key = keyschedule.HMACKey(self.master_secret, conn.suite.hash_name)
        self.writer, self.reader = install_keys12(conn, self.master_key, self.server_random,
                                                  self.is_client)

    def _send_finished(self):
        """Our ChangeCipherSpec (plaintext), the new write key, our Finished."""
        conn = self.conn
        conn.send_change_cipher_spec()
        conn.records.set_writer(self.writer)
        verify_data = keyschedule.finished12(conn.suite.hash_name, self.master_key,
                                             self.is_client, self.transcript.digest())
        if self.is_client:
            conn.client_finished = verify_data
        else:
            conn.server_finished = verify_data
        self._send(encode_finished(verify_data))

    def _switch_read_key(self):
        """The peer's ChangeCipherSpec: its messages are protected from here on."""
        if not self.conn.handshake_buffer.empty:
            raise unexpected_message("handshake message spans change_cipher_spec",
                                     "NOT_ON_RECORD_BOUNDARY")
        self.conn.records.set_reader(self.reader)

    def _check_peer_finished(self, body, raw):
        conn = self.conn
        expected = keyschedule.finished12(conn.suite.hash_name, self.master_key,
                                          not self.is_client, self.transcript.digest())
        check_finished(expected, body, "server" if self.is_client else "client")
        if self.is_client:
            conn.server_finished = expected
        else:
            conn.client_finished = expected
        self._record(raw)

    def _complete(self):
        conn = self.conn
        conn.server_random = self.server_random
        conn.exporter_secret = self.master_secret
        conn.app_data_readable = True
        conn.handshake_complete = True
        self.messages = None
