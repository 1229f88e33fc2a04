# cython: language_level=3
"""The TLS 1.2 server handshake (RFC 5246), modern subset: ECDHE with ECDSA or RSA
signatures, AEAD suites, extended master secret and secure renegotiation required, no
renegotiation; resumption by session ticket (RFC 5077, under the same rotating keys as
TLS 1.3 tickets) or by session ID (a bounded cache). Entered from the TLS 1.3 server
machine when the ClientHello settles on TLS 1.2."""
import os

from cyssl.crypto import groups, signatures
from cyssl.tls import keyschedule
from cyssl.tls.handshake12 import (Handshake12, TLS12_GROUPS, check_point_formats,
                                   check_secure_hello_extensions, handshake_failure)
from cyssl.tls.config import VERIFY_NONE, VERIFY_REQUIRED
from cyssl.tls.errors import TLSError
from cyssl.tls.errors cimport (DECODE_ERROR, DECRYPT_ERROR,
                               INAPPROPRIATE_FALLBACK, NO_RENEGOTIATION)
from cyssl.tls.messages cimport *
from cyssl.tls.messages import (DOWNGRADE_TLS12, TLS13, ServerHello, decode_u16_list, encode_alpn,
                                handshake_name, parse_certificate_verify, unexpected_message)
from cyssl.tls.messages12 import (ecdhe_params, encode_certificate12, encode_certificate_request12,
                                  encode_new_session_ticket12, encode_server_hello_done,
                                  encode_server_key_exchange, parse_certificate12,
                                  parse_client_key_exchange)
from cyssl.tls.server13 import negotiate_extensions
from cyssl.tls.suites import BY_CODE
from cyssl.tls.tickets import TicketState12
from cyssl.tls.verification import verify_peer_chain

cdef enum State:
    WAIT_CERTIFICATE = 1
    WAIT_CLIENT_KEY_EXCHANGE = 2
    WAIT_CERTIFICATE_VERIFY = 3
    WAIT_CHANGE_CIPHER_SPEC = 4
    WAIT_FINISHED = 5
    CONNECTED = 6

FALLBACK_SCSV = 0x5600
RENEGOTIATION_SCSV = 0x00FF


def _client_groups(extensions):
    """The client's curves; without supported_groups, P-256 only (RFC 8422 section 4)."""
    if EXT_SUPPORTED_GROUPS in extensions:
        return decode_u16_list(extensions[EXT_SUPPORTED_GROUPS])
    return [0x0017]


class Server12Handshake(Handshake12):
    is_client = False

    def __init__(self, hello_machine):
        self.conn = hello_machine.conn
        self.config = hello_machine.config
        self.transcript = hello_machine.transcript
        self.messages = bytearray()
        self.state = WAIT_CLIENT_KEY_EXCHANGE
        self.requested_certificate = False
        self.peer_key = None
        self.client_schemes = []               # signature_algorithms, read with the suite

    # ClientHello --------------------------------------------------------------

    def client_hello(self, hello, raw):
        conn = self.conn
        extensions = hello.extensions
        conn.client_random = hello.random
        conn.offered_suites = list(hello.cipher_suites)
        conn.version = 0x0303
        if FALLBACK_SCSV in hello.cipher_suites and TLS13 in self.config.versions:
            raise TLSError(INAPPROPRIATE_FALLBACK, "INAPPROPRIATE_FALLBACK",
                           "client fell back to TLS 1.2 but we speak TLS 1.3")
        if b"\x00" not in hello.compression_methods:
            raise TLSError(DECODE_ERROR, "NO_COMPRESSION_SPECIFIED", "null compression not offered")
        if RENEGOTIATION_SCSV in hello.cipher_suites and EXT_RENEGOTIATION_INFO not in extensions:
            extensions[EXT_RENEGOTIATION_INFO] = b"\x00"
        self.extended_master_secret = check_secure_hello_extensions(extensions, self.config)
        check_point_formats(extensions)
        config = self.config = negotiate_extensions(conn, extensions)
        self._choose_suite(hello)
        self.transcript.select_hash(conn.suite.hash_name)
        self._record(raw)
        if self._resume(hello):
            return
        self._full_handshake(hello)

    def _choose_suite(self, hello):
        """A suite both offer that one of our credentials can authenticate: its key type,
        for ECDSA a curve the client named, and a signature scheme the client offered
        (so with an RSA and an ECDSA chain, a client verifying only RSA signatures gets
        an ECDHE-RSA suite, as from OpenSSL)."""
        conn = self.conn
        config = self.config
        extensions = hello.extensions
        client_groups = _client_groups(extensions)
        auths = config.key_auths()
        if EXT_SIGNATURE_ALGORITHMS in extensions:
            # Kept for the full handshake's choice of chain and scheme.
            self.client_schemes = decode_u16_list(extensions[EXT_SIGNATURE_ALGORITHMS])
            if not signatures.any_known(self.client_schemes):
                raise handshake_failure("no signature scheme in common",
                                        "NO_SHARED_SIGNATURE_ALGORITHMS")
            auths = [a for a, (_chain, key) in zip(auths, config.credentials)
                     if signatures.choose(key, self.client_schemes, False) is not None]
        usable = [c for c in config.tls12_suites
                  if any(signatures.auth_fits(a, BY_CODE[c].auth, client_groups) for a in auths)]
        if config.server_preference:
            chosen = [c for c in usable if c in hello.cipher_suites]
        else:
            chosen = [c for c in hello.cipher_suites if c in usable]
        if not chosen:
            raise handshake_failure("no cipher suite in common", "NO_SHARED_CIPHER")
        conn.suite = BY_CODE[chosen[0]]

    def _server_hello(self, session_id, extra=()):
        conn = self.conn
        random = os.urandom(32)
        if TLS13 in self.config.versions:
            random = random[:24] + DOWNGRADE_TLS12        # RFC 8446 4.1.3
        self.server_random = random
        extensions = [(EXT_RENEGOTIATION_INFO, b"\x00")]
        if self.extended_master_secret:
            extensions.append((EXT_EXTENDED_MASTER_SECRET, b""))
        if conn.alpn_protocol is not None:
            extensions.append((EXT_ALPN, encode_alpn([conn.alpn_protocol])))
        extensions += list(extra)
        self._send(ServerHello(random, session_id, conn.suite.code, extensions).encode())

    def _tickets_on(self, hello):
        return (EXT_SESSION_TICKET in hello.extensions and self.config.ticket_keys is not None
                and self.config.num_tickets > 0)

    # Resumption ---------------------------------------------------------------

    def _resume(self, hello):
        conn = self.conn
        config = self.config
        state = sealed = None
        ticket = hello.extensions.get(EXT_SESSION_TICKET)
        if ticket and config.ticket_keys is not None:
            sealed = config.ticket_keys.open(ticket)
            state = TicketState12.decode(sealed) if sealed is not None else None
        if state is None and hello.session_id and config.session_cache is not None:
            state = config.session_cache.get(hello.session_id)
        if (state is None or state.suite != conn.suite.code
                or state.extended_master_secret != self.extended_master_secret
                or (state.server_name or None) != (conn.server_name or None)
                or state.expired(int(conn.now() * 1000))):
            return False
        self.master_secret = state.master_secret
        conn.resumed = True
        conn.peer_chain = list(state.peer_chain)
        conn.verified_chain = list(state.peer_chain) if state.verified else []
        # A ticket under the current key stays good: renew only the others (as OpenSSL).
        new_ticket = self._tickets_on(hello) and not (
            ticket and sealed is not None and config.ticket_keys.is_current(ticket))
        self._server_hello(hello.session_id,
                           [(EXT_SESSION_TICKET, b"")] if new_ticket else [])
        if new_ticket:
            self._send_ticket()
        self._derive_keys()
        self._send_finished()
        self.state = WAIT_CHANGE_CIPHER_SPEC
        return True

    # Full handshake -------------------------------------------------------------

    def _full_handshake(self, hello):
        conn = self.conn
        config = self.config
        extensions = hello.extensions
        if not config.credentials:
            raise handshake_failure("no server certificate configured", "NO_CERTIFICATE_ASSIGNED")
        client_groups = _client_groups(extensions)
        common = [g for g in config.groups if g in TLS12_GROUPS and g in client_groups]
        if not common:
            raise handshake_failure("no elliptic curve in common", "NO_SHARED_GROUPS")
        group = common[0]
        # The credentials that can authenticate the chosen suite (its key type, and for
        # ECDSA a curve the client named), then the one the client's schemes prefer.
        auth = conn.suite.auth
        fitting = [credential for credential, key_auth in zip(config.credentials, config.key_auths())
                   if signatures.auth_fits(key_auth, auth, client_groups)]
        chosen = signatures.choose_credential(fitting, self.client_schemes, False)
        if chosen is None:
            raise handshake_failure("no signature scheme in common for our certificate",
                                    "NO_SUITABLE_SIGNATURE_ALGORITHM")
        chain, key, scheme = chosen
        self.session_id = os.urandom(32) if config.session_cache is not None else b""
        extra = []
        if self._tickets_on(hello):
            extra.append((EXT_SESSION_TICKET, b""))
            self.send_ticket = True
        else:
            self.send_ticket = False
        if EXT_EC_POINT_FORMATS in extensions:
            extra.append((EXT_EC_POINT_FORMATS, b"\x01\x00"))
        if conn.server_name is not None:
            extra.append((EXT_SERVER_NAME, b""))
        self._server_hello(self.session_id, extra)
        self._send(encode_certificate12(chain))
        share = groups.GROUPS[group].generate()
        params = ecdhe_params(group, share.public_bytes())
        signed = conn.client_random + self.server_random + params
        self._send(encode_server_key_exchange(params, scheme,
                                              signatures.sign(key, scheme, signed)))
        self.share = share
        conn.group = groups.GROUPS[group]
        if config.verify_mode != VERIFY_NONE:
            self._send(encode_certificate_request12(config.signature_schemes,
                                                    config.certificate_authorities))
            self.requested_certificate = True
        self._send(encode_server_hello_done())
        self.state = WAIT_CERTIFICATE if self.requested_certificate else WAIT_CLIENT_KEY_EXCHANGE

    def handle(self, int msg_type, body, raw):
        state = self.state
        if state == CONNECTED:
            if msg_type == CLIENT_HELLO:
                self.conn.send_alert(NO_RENEGOTIATION, 1)          # refused; we go on
                return
            raise unexpected_message("unexpected %s after the handshake" % handshake_name(msg_type))
        if state == WAIT_CERTIFICATE and msg_type == CERTIFICATE:
            return self._client_certificate(body, raw)
        if state == WAIT_CLIENT_KEY_EXCHANGE and msg_type == CLIENT_KEY_EXCHANGE:
            return self._client_key_exchange(body, raw)
        if state == WAIT_CERTIFICATE_VERIFY and msg_type == CERTIFICATE_VERIFY:
            return self._client_certificate_verify(body, raw)
        if state == WAIT_FINISHED and msg_type == FINISHED:
            return self._client_finished(body, raw)
        raise unexpected_message("unexpected %s" % handshake_name(msg_type))

    def _client_certificate(self, body, raw):
        conn = self.conn
        chain = parse_certificate12(body)
        self._record(raw)
        if not chain:
            if self.config.verify_mode == VERIFY_REQUIRED:
                # TLS 1.2 has no certificate_required alert (RFC 5246 7.4.6).
                raise handshake_failure("peer did not return a certificate",
                                        "PEER_DID_NOT_RETURN_A_CERTIFICATE")
        else:
            self.peer_key, conn.verified_chain = verify_peer_chain(self.config, chain, None, "client")
            conn.peer_chain = chain
        self.state = WAIT_CLIENT_KEY_EXCHANGE

    def _client_key_exchange(self, body, raw):
        conn = self.conn
        public = parse_client_key_exchange(body)
        try:
            pre_master_secret = self.share.exchange(public)
        except groups.InvalidKeyShare as err:
            raise TLSError(47, "BAD_ECPOINT", str(err)) from None
        self.share = None
        self._record(raw)
        hash_name = conn.suite.hash_name
        if self.extended_master_secret:
            self.master_secret = keyschedule.extended_master_secret12(
                hash_name, pre_master_secret, self.transcript.digest())
        else:
            self.master_secret = keyschedule.master_secret12(
                hash_name, pre_master_secret, conn.client_random, self.server_random)
        self._derive_keys()
        self.state = WAIT_CERTIFICATE_VERIFY if self.peer_key is not None else WAIT_CHANGE_CIPHER_SPEC

    def _client_certificate_verify(self, body, raw):
        scheme, signature = parse_certificate_verify(body)
        known = signatures.SCHEMES.get(scheme)
        if (known is None or scheme not in self.config.signature_schemes
                or not signatures.key_matches(scheme, self.peer_key, False)):
            raise TLSError(47, "WRONG_SIGNATURE_TYPE", "signature scheme %#06x not usable" % scheme)
        try:
            signatures.verify(self.peer_key, scheme, bytes(self.messages), signature)
        except signatures.InvalidSignature:
            raise TLSError(DECRYPT_ERROR, "BAD_SIGNATURE", "CertificateVerify does not verify") from None
        self.conn.peer_signature_scheme = scheme
        self._record(raw)
        self.state = WAIT_CHANGE_CIPHER_SPEC

    def change_cipher_spec(self):
        if self.state != WAIT_CHANGE_CIPHER_SPEC:
            raise unexpected_message("change_cipher_spec out of place", "UNEXPECTED_CCS_MESSAGE")
        self._switch_read_key()
        self.state = WAIT_FINISHED

    def _client_finished(self, body, raw):
        conn = self.conn
        self._check_peer_finished(body, raw)
        if not conn.resumed:
            if self.send_ticket:
                self._send_ticket()
            if self.session_id:
                self.config.session_cache.put(self.session_id, self._state())
            self._send_finished()
        self._complete()
        self.state = CONNECTED

    # Keys, tickets, Finished ----------------------------------------------------

    def _state(self):
        conn = self.conn
        return TicketState12(conn.suite.code, self.master_secret, self.extended_master_secret,
                             int(conn.now() * 1000), min(int(self.config.ticket_lifetime), 604800),
                             conn.server_name, conn.peer_chain, bool(conn.verified_chain))

    def _send_ticket(self):
        state = self._state()
        self._send(encode_new_session_ticket12(state.lifetime,
                                               self.config.ticket_keys.seal(state.encode())))
