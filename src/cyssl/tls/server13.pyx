# cython: language_level=3
"""The TLS 1.3 server handshake (RFC 8446), as an explicit state machine.

The server picks the suite (client order unless configured otherwise), its most
preferred group the client supports (asking with a HelloRetryRequest, cookie included,
when the client sent no share for it), resumes from a stateless ticket when a binder
proves the client holds the PSK, and otherwise authenticates with its certificate,
optionally asking for the client's.
"""
import hmac
import os

from cyssl.crypto import groups, signatures
from cyssl.tls import keyschedule
from cyssl.tls.client13 import check_certificate_verify, decrypt_error, missing_extension
from cyssl.tls.config import VERIFY_NONE, VERIFY_REQUIRED
from cyssl.tls.connection cimport Connection
from cyssl.tls.errors import TLSError
from cyssl.tls.errors cimport (CERTIFICATE_REQUIRED, HANDSHAKE_FAILURE, INTERNAL_ERROR,
                               NO_APPLICATION_PROTOCOL, PROTOCOL_VERSION)
from cyssl.tls.messages cimport *
from cyssl.tls.messages import (ClientHello, ServerHello, NewSessionTicket, OfferedPsks, check_finished,
                                HRR_RANDOM, TLS12, TLS13, check_allowed, decode_alpn, decode_key_shares,
                                decode_psk_modes, decode_record_size_limit, decode_server_name,
                                decode_u16_list, decode_opaque16, encode_alpn, encode_certificate,
                                encode_certificate_authorities, encode_certificate_request,
                                encode_certificate_verify, encode_encrypted_extensions,
                                encode_finished, encode_opaque16, encode_server_key_share,
                                encode_u16, encode_u16_list, handshake_name, illegal_parameter,
                                parse_certificate, parse_certificate_verify, unexpected_message)
from cyssl.tls.suites import BY_CODE
from cyssl.tls.tickets import TicketState
from cyssl.tls.verification import verify_peer_chain

cdef enum State:
    WAIT_CLIENT_HELLO = 1
    WAIT_SECOND_CLIENT_HELLO = 2
    WAIT_CERTIFICATE = 3
    WAIT_CERTIFICATE_VERIFY = 4
    WAIT_FINISHED = 5
    CONNECTED = 6

CLIENT_HELLO_EXTENSIONS = frozenset([
    EXT_SERVER_NAME, EXT_STATUS_REQUEST, EXT_SUPPORTED_GROUPS, EXT_SIGNATURE_ALGORITHMS,
    EXT_HEARTBEAT, EXT_ALPN, EXT_SCT, EXT_PADDING, EXT_RECORD_SIZE_LIMIT, EXT_PRE_SHARED_KEY,
    EXT_EARLY_DATA, EXT_SUPPORTED_VERSIONS, EXT_COOKIE, EXT_PSK_KEY_EXCHANGE_MODES,
    EXT_CERTIFICATE_AUTHORITIES, EXT_POST_HANDSHAKE_AUTH, EXT_SIGNATURE_ALGORITHMS_CERT,
    EXT_KEY_SHARE])
PSK_DHE_KE = 1
# How far the client's idea of a ticket's age may stray from ours (RFC 8446 8.3).
TICKET_AGE_TOLERANCE_MS = 10000


def server_connection(config):
    """A server Connection waiting for a ClientHello."""
    conn = Connection(config, True)
    conn.handshake = ServerHandshake(conn)
    return conn


def choose_version(hello, config):
    """The highest version both sides speak (RFC 8446 4.2.1), else protocol_version."""
    versions = hello.extensions.get(EXT_SUPPORTED_VERSIONS)
    if versions is not None:
        offered = decode_u16_list(versions, 1)
    else:
        offered = [TLS12] if hello.legacy_version >= TLS12 else []
    for version in config.versions:
        if version in offered:
            return version
    raise TLSError(PROTOCOL_VERSION, "UNSUPPORTED_PROTOCOL",
                   "no protocol version in common (client offers %s)"
                   % ", ".join("%#06x" % v for v in offered) or "nothing usable")


def negotiate_extensions(Connection conn, extensions):
    """What both versions decide alike: the server name (and its callback, which may switch
    the configuration) and ALPN. Returns the configuration in force."""
    if EXT_SERVER_NAME in extensions:
        conn.server_name = decode_server_name(extensions[EXT_SERVER_NAME])
    config = conn.config
    callback = config.servername_callback
    if callback is not None:                   # called with None too, as OpenSSL does
        alert = callback(conn, conn.server_name)
        if alert is not None:
            raise TLSError(alert, "CALLBACK_FAILED", "server name callback refused %r"
                           % conn.server_name)
        config = conn.config
    if EXT_ALPN in extensions and config.alpn_protocols:
        offered = decode_alpn(extensions[EXT_ALPN])
        for protocol in config.alpn_protocols:
            if protocol in offered:
                conn.alpn_protocol = protocol
                break
        else:
            raise TLSError(NO_APPLICATION_PROTOCOL, "NO_APPLICATION_PROTOCOL",
                           "no ALPN protocol in common")
    return config


def peer_record_size_limit(Connection conn, extensions):
    if EXT_RECORD_SIZE_LIMIT not in extensions:
        return None
    limit = decode_record_size_limit(extensions[EXT_RECORD_SIZE_LIMIT])
    conn.records.max_fragment = min(16384, limit - 1)
    return limit


cdef class ServerHandshake:
    # Declared attributes: the state machine's fields are C struct slots, not a dict.
    cdef public Connection conn
    cdef public int state
    cdef public bint ccs_sent, requested_certificate, pha_offered
    cdef public object config, transcript, first_hello, cookie, psk, early_schedule, pha
    cdef public object client_ap, group, peer_record_size_limit, resumption_secret, schedule
    cdef public object peer_key

    def __init__(self, Connection conn):
        self.conn = conn
        self.config = conn.config
        self.state = WAIT_CLIENT_HELLO
        self.transcript = keyschedule.Transcript()
        self.first_hello = None
        self.cookie = None
        self.ccs_sent = False
        self.psk = None
        self.early_schedule = None
        self.requested_certificate = False
        self.pha = None                    # (context, transcript) of a post-handshake request

    def handle(self, int msg_type, body, raw):
        state = self.state
        if msg_type == KEY_UPDATE and self.conn.handshake_complete:
            return self.conn.on_key_update(body)
        if state in (WAIT_CLIENT_HELLO, WAIT_SECOND_CLIENT_HELLO) and msg_type == CLIENT_HELLO:
            return self._client_hello(body, raw)
        if state == WAIT_CERTIFICATE and msg_type == CERTIFICATE:
            return self._client_certificate(body, raw)
        if state == WAIT_CERTIFICATE_VERIFY and msg_type == CERTIFICATE_VERIFY:
            return self._client_certificate_verify(body, raw)
        if state == WAIT_FINISHED and msg_type == FINISHED:
            return self._client_finished(body, raw)
        raise unexpected_message("unexpected %s" % handshake_name(msg_type))

    # ClientHello ------------------------------------------------------------

    def _client_hello(self, body, raw):
        conn = self.conn
        hello = ClientHello.parse(body)
        extensions = hello.extensions
        retry = self.state == WAIT_SECOND_CLIENT_HELLO
        if not retry:
            version = choose_version(hello, self.config)
            if version == TLS12:
                from cyssl.tls.server12 import Server12Handshake
                machine = Server12Handshake(self)
                conn.handshake = machine
                return machine.client_hello(hello, raw)
        if hello.compression_methods != b"\x00":
            raise illegal_parameter("TLS 1.3 ClientHello offers compression",
                                    "INVALID_COMPRESSION_ALGORITHM")
        check_allowed(extensions, CLIENT_HELLO_EXTENSIONS, "ClientHello")
        if EXT_PRE_SHARED_KEY in extensions and hello.extension_order[-1] != EXT_PRE_SHARED_KEY:
            raise illegal_parameter("pre_shared_key is not the last extension")
        if EXT_KEY_SHARE not in extensions:
            raise missing_extension("ClientHello without key_share")
        if EXT_SUPPORTED_GROUPS not in extensions:
            raise missing_extension("ClientHello with key_share but no supported_groups")
        client_groups = decode_u16_list(extensions[EXT_SUPPORTED_GROUPS])
        shares = dict(decode_key_shares(extensions[EXT_KEY_SHARE]))
        for group in shares:
            if group not in client_groups:
                raise illegal_parameter("key share for a group not in supported_groups")
        if retry:
            self._check_second_hello(hello, shares)
        else:
            conn.client_random = hello.random
            conn.offered_suites = list(hello.cipher_suites)
            conn.ccs_allowed = True
            self.first_hello = hello
            self._choose_parameters(hello)
        suite = conn.suite
        group = self.group
        if group not in shares:
            if retry:
                raise illegal_parameter("second ClientHello still lacks the requested key share",
                                        "BAD_KEY_SHARE")
            return self._send_retry_request(hello, raw)
        try:
            our_share, shared = groups.GROUPS[group].respond(shares[group])
        except groups.InvalidKeyShare as err:
            raise illegal_parameter(str(err), "BAD_KEY_SHARE") from None
        if not retry:
            self.transcript.select_hash(suite.hash_name)
        selected = self._resume(hello, raw, extensions)    # if taken, the hello is hashed
        if selected is None:
            if EXT_SIGNATURE_ALGORITHMS not in extensions:
                raise missing_extension("ClientHello without signature_algorithms")
            self.transcript.update(raw)
        self._send_server_flight(hello, group, our_share, shared, selected)

    def _choose_parameters(self, hello):
        """Suite, group, host name and ALPN, decided once, on the first ClientHello."""
        conn = self.conn
        config = self.config
        extensions = hello.extensions
        ours = config.tls13_suites
        if config.server_preference:
            chosen = [s for s in ours if s in hello.cipher_suites]
        else:
            chosen = [s for s in hello.cipher_suites if s in ours]
        if not chosen:
            raise TLSError(HANDSHAKE_FAILURE, "NO_SHARED_CIPHER", "no cipher suite in common")
        conn.suite = BY_CODE[chosen[0]]
        conn.version = TLS13
        client_groups = decode_u16_list(extensions[EXT_SUPPORTED_GROUPS])
        common = [g for g in config.groups if g in client_groups]
        if not common:
            raise TLSError(HANDSHAKE_FAILURE, "NO_SUITABLE_KEY_SHARE", "no key exchange group in common")
        self.group = common[0]
        conn.group = groups.GROUPS[self.group]
        self.config = negotiate_extensions(conn, extensions)
        self.peer_record_size_limit = peer_record_size_limit(conn, extensions)

    def _check_second_hello(self, hello, shares):
        """RFC 8446 4.1.2: after a retry the client may change only the key share and
        add the cookie."""
        first = self.first_hello
        if (hello.random != first.random or hello.session_id != first.session_id
                or hello.cipher_suites != first.cipher_suites):
            raise illegal_parameter("second ClientHello differs from the first")
        if len(shares) != 1:
            raise illegal_parameter("second ClientHello must carry one key share")
        cookie = hello.extensions.get(EXT_COOKIE)
        if cookie is None or not hmac.compare_digest(decode_opaque16(cookie), self.cookie):
            raise illegal_parameter("second ClientHello does not echo the cookie")

    def _send_retry_request(self, hello, raw):
        conn = self.conn
        suite = conn.suite
        self.cookie = os.urandom(32)
        extensions = [(EXT_SUPPORTED_VERSIONS, encode_u16(TLS13)),
                      (EXT_KEY_SHARE, encode_u16(self.group)),
                      (EXT_COOKIE, encode_opaque16(self.cookie))]
        retry = ServerHello(HRR_RANDOM, hello.session_id, suite.code, extensions).encode()
        self.transcript.select_hash(suite.hash_name)
        self.transcript.update(raw)
        self.transcript.restart_with_message_hash()
        self.transcript.update(retry)
        conn.send_handshake(retry)
        if hello.session_id and self.config.middlebox_compatibility:
            conn.send_change_cipher_spec()
            self.ccs_sent = True
        self.state = WAIT_SECOND_CLIENT_HELLO

    def _resume(self, hello, raw, extensions):
        """The index of the PSK we accept, or None for a full handshake. A ticket we cannot
        use is passed over; a usable ticket whose binder fails ends the handshake."""
        conn = self.conn
        config = self.config
        if EXT_PRE_SHARED_KEY not in extensions:
            return None
        if EXT_PSK_KEY_EXCHANGE_MODES not in extensions:
            raise missing_extension("pre_shared_key without psk_key_exchange_modes")
        if PSK_DHE_KE not in decode_psk_modes(extensions[EXT_PSK_KEY_EXCHANGE_MODES]):
            return None
        offered = OfferedPsks.parse(extensions[EXT_PRE_SHARED_KEY])
        if config.ticket_keys is None:
            return None
        suite = conn.suite
        now_ms = int(conn.now() * 1000)
        for index, (identity, obfuscated_age) in enumerate(offered.identities):
            sealed = config.ticket_keys.open(identity)
            state = TicketState.decode(sealed) if sealed is not None else None
            if state is None:
                continue
            ticket_suite = BY_CODE.get(state.suite)
            if ticket_suite is None or not ticket_suite.tls13 or ticket_suite.hash_name != suite.hash_name:
                continue
            age = now_ms - state.issued_ms
            if not 0 <= age < state.lifetime * 1000:
                continue
            client_age = (obfuscated_age - state.age_add) & 0xFFFFFFFF
            if abs(client_age - age) > TICKET_AGE_TOLERANCE_MS:
                continue
            if (state.server_name or None) != (conn.server_name or None):
                continue
            transcript = self.transcript.copy()
            transcript.update(raw[:len(raw) - offered.binders_length])
            early_schedule = keyschedule.KeySchedule(suite.hash_name, psk=state.psk)
            expected = early_schedule.binder(transcript.digest())
            if not hmac.compare_digest(expected, offered.binders[index]):
                raise decrypt_error("PSK binder does not verify", "BINDER_DOES_NOT_VERIFY")
            self.psk = state.psk
            self.early_schedule = early_schedule
            conn.resumed = True
            conn.peer_chain = list(state.peer_chain)
            if state.alpn and conn.alpn_protocol is not None and state.alpn != conn.alpn_protocol:
                self.psk = None                 # a different protocol: resume nothing
                conn.resumed = False
                conn.peer_chain = []
                return None
            transcript.update(raw[len(raw) - offered.binders_length:])
            self.transcript = transcript           # the hello, hashed once
            return index
        return None

    # Server flight ----------------------------------------------------------

    def _send_server_flight(self, hello, int group, our_share, shared, selected):
        conn = self.conn
        config = self.config
        suite = conn.suite
        hash_name = suite.hash_name
        extensions = [(EXT_SUPPORTED_VERSIONS, encode_u16(TLS13)),
                      (EXT_KEY_SHARE, encode_server_key_share(group, our_share))]
        if selected is not None:
            extensions.append((EXT_PRE_SHARED_KEY, encode_u16(selected)))
        server_hello = ServerHello(os.urandom(32), hello.session_id, suite.code, extensions).encode()
        conn.send_handshake(server_hello)
        self.transcript.update(server_hello)
        if hello.session_id and config.middlebox_compatibility and not self.ccs_sent:
            conn.send_change_cipher_spec()
            self.ccs_sent = True
        schedule = (self.early_schedule if self.psk is not None
                    else keyschedule.KeySchedule(hash_name))
        self.early_schedule = None
        schedule.derive_handshake_secret(shared)
        client_hs, server_hs = schedule.handshake_traffic_secrets(self.transcript.digest())
        conn.log_secret("CLIENT_HANDSHAKE_TRAFFIC_SECRET", client_hs)
        conn.log_secret("SERVER_HANDSHAKE_TRAFFIC_SECRET", server_hs)
        conn.set_write_secret(server_hs)
        conn.set_read_secret(client_hs)
        # A client that refuses our ServerHello has no keys yet: it alerts in plaintext,
        # until its first protected record (OpenSSL accepts this too).
        conn.records.plaintext_alerts = True

        encrypted = []
        if conn.alpn_protocol is not None:
            encrypted.append((EXT_ALPN, encode_alpn([conn.alpn_protocol])))
        if conn.server_name is not None and selected is None:
            encrypted.append((EXT_SERVER_NAME, b""))
        if self.peer_record_size_limit is not None and config.record_size_limit:
            encrypted.append((EXT_RECORD_SIZE_LIMIT, encode_u16(config.record_size_limit)))
            conn.records.receive_limit = config.record_size_limit - 1
        self._send(encode_encrypted_extensions(encrypted))
        if selected is None:
            self._authenticate(hello)
        verify_data = conn.finished_verify_data(True, self.transcript.digest())
        conn.server_finished = verify_data
        self._send(encode_finished(verify_data))
        schedule.derive_master_secret()
        transcript_hash = self.transcript.digest()
        client_ap, server_ap = schedule.application_traffic_secrets(transcript_hash)
        conn.exporter_secret = schedule.exporter_master_secret(transcript_hash)
        conn.log_secret("CLIENT_TRAFFIC_SECRET_0", client_ap)
        conn.log_secret("SERVER_TRAFFIC_SECRET_0", server_ap)
        conn.log_secret("EXPORTER_SECRET", conn.exporter_secret)
        conn.set_write_secret(server_ap)
        self.client_ap = client_ap
        self.schedule = schedule
        self.state = WAIT_CERTIFICATE if self.requested_certificate else WAIT_FINISHED

    def _send(self, message):
        self.conn.send_handshake(message)
        self.transcript.update(message)

    def _authenticate(self, hello):
        """CertificateRequest (when we verify clients), Certificate, CertificateVerify."""
        config = self.config
        extensions = hello.extensions
        client_schemes = decode_u16_list(extensions[EXT_SIGNATURE_ALGORITHMS])
        if not config.credentials:
            raise TLSError(HANDSHAKE_FAILURE, "NO_CERTIFICATE_ASSIGNED", "no server certificate configured")
        if not signatures.any_known(client_schemes):
            # OpenSSL's reasons: none of the client's schemes is one we know at all, or
            # (below) none that our certificate keys can make.
            raise TLSError(HANDSHAKE_FAILURE, "NO_SHARED_SIGNATURE_ALGORITHMS",
                           "no signature scheme in common")
        chosen = signatures.choose_credential(config.credentials, client_schemes, True)
        if chosen is None:
            raise TLSError(HANDSHAKE_FAILURE, "NO_SUITABLE_SIGNATURE_ALGORITHM",
                           "no signature scheme in common for our certificate")
        chain, key, scheme = chosen
        # With post-handshake authentication on, the server asks later, on demand, as
        # OpenSSL's SSL_VERIFY_POST_HANDSHAKE does.
        if config.verify_mode != VERIFY_NONE and not config.post_handshake_auth:
            self._send(encode_certificate_request(b"", self._request_extensions()))
            self.requested_certificate = True
        self._send(encode_certificate(b"", chain))
        data = signatures.certificate_verify_input(self.transcript.digest(), True)
        self._send(encode_certificate_verify(scheme, signatures.sign(key, scheme, data)))

    def _request_extensions(self):
        extensions = [(EXT_SIGNATURE_ALGORITHMS, encode_u16_list(self.config.signature_schemes))]
        if self.config.certificate_authorities:
            extensions.append((EXT_CERTIFICATE_AUTHORITIES,
                               encode_certificate_authorities(self.config.certificate_authorities)))
        return extensions

    # Client authentication and Finished ---------------------------------------

    def _client_certificate(self, body, raw):
        conn = self.conn
        got_context, chain = parse_certificate(body)
        context = self.pha[0] if self.pha is not None else b""
        if got_context != context:
            raise illegal_parameter("certificate_request_context does not match")
        self._transcript().update(raw)
        if not chain:
            if self.config.verify_mode == VERIFY_REQUIRED:
                raise TLSError(CERTIFICATE_REQUIRED, "PEER_DID_NOT_RETURN_A_CERTIFICATE",
                               "peer did not return a certificate")
            self.state = WAIT_FINISHED
            return
        self.peer_key, conn.verified_chain = verify_peer_chain(self.config, chain, None, "client")
        conn.peer_chain = chain
        self.state = WAIT_CERTIFICATE_VERIFY

    def _client_certificate_verify(self, body, raw):
        scheme, signature = parse_certificate_verify(body)
        transcript = self._transcript()
        check_certificate_verify(self.config, self.peer_key, scheme, signature,
                                 transcript.digest(), False)
        self.conn.peer_signature_scheme = scheme
        transcript.update(raw)
        self.state = WAIT_FINISHED

    def _transcript(self):
        return self.pha[1] if self.pha is not None else self.transcript

    def _client_finished(self, body, raw):
        conn = self.conn
        # Under the client's handshake secret, or after the handshake its current
        # application traffic secret (RFC 8446 4.4): either way our read secret.
        transcript = self._transcript()
        expected = conn.finished_verify_data(False, transcript.digest())
        check_finished(expected, body, "client")
        if self.pha is None:
            conn.client_finished = expected
        if self.pha is not None:               # post-handshake authentication done
            self.pha = None
            self.state = CONNECTED
            return
        self.transcript.update(raw)
        conn.set_read_secret(self.client_ap)
        conn.app_data_readable = True
        conn.ccs_allowed = False
        self.resumption_secret = self.schedule.resumption_master_secret(self.transcript.digest())
        self.schedule = None
        conn.handshake_complete = True
        self.state = CONNECTED
        # An established connection keeps only what later messages need: the
        # transcript only for post-handshake authentication, which the client offered.
        self.pha_offered = EXT_POST_HANDSHAKE_AUTH in self.first_hello.extensions
        self.first_hello = None
        conn.keys_settled()
        if not self.pha_offered:
            self.transcript = None
        # As OpenSSL: num_tickets after a full handshake, one after a resumption.
        self._send_tickets(min(self.config.num_tickets, 1) if conn.resumed else self.config.num_tickets)

    def _send_tickets(self, int count):
        conn = self.conn
        config = self.config
        if config.ticket_keys is None or count <= 0:
            return
        suite = conn.suite
        lifetime = min(int(config.ticket_lifetime), 604800)
        now_ms = int(conn.now() * 1000)
        for i in range(count):
            nonce = i.to_bytes(2, "big")
            psk = keyschedule.resumption_psk(suite.hash_name, self.resumption_secret, nonce)
            age_add = int.from_bytes(os.urandom(4), "big")
            state = TicketState(suite.code, psk, now_ms, age_add, lifetime, conn.alpn_protocol,
                                conn.server_name, conn.peer_chain)
            ticket = config.ticket_keys.seal(state.encode())
            conn.send_handshake(NewSessionTicket(lifetime, age_add, nonce, ticket, []).encode())

    # After the handshake ----------------------------------------------------

    def request_client_certificate(self):
        """Post-handshake client authentication (RFC 8446 4.6.2): send a CertificateRequest;
        the client's Certificate, CertificateVerify and Finished follow."""
        conn = self.conn
        if not conn.handshake_complete or self.state != CONNECTED:
            raise TLSError(INTERNAL_ERROR, "INTERNAL_ERROR", "cannot request a certificate now")
        if not self.pha_offered:
            raise TLSError(INTERNAL_ERROR, "EXTENSION_NOT_RECEIVED",
                           "client did not offer post-handshake authentication")
        context = os.urandom(8)
        request = encode_certificate_request(context, self._request_extensions())
        transcript = self.transcript.copy()
        transcript.update(request)
        self.pha = (context, transcript)
        conn.send_handshake(request)
        self.state = WAIT_CERTIFICATE
