# cython: language_level=3
"""The TLS 1.2 client handshake (RFC 5246), modern subset: ECDHE with ECDSA or RSA
signatures, AEAD suites only, extended master secret (RFC 7627) and secure renegotiation
indication (RFC 5746) required, no renegotiation. Entered from the TLS 1.3 client when
the ServerHello picks TLS 1.2."""
from cyssl.crypto import groups, signatures
from cyssl.tls import keyschedule
from cyssl.tls.errors import TLSError
from cyssl.tls.errors cimport DECODE_ERROR, DECRYPT_ERROR, NO_RENEGOTIATION
from cyssl.tls.messages cimport *
from cyssl.tls.messages import (check_allowed, decode_alpn, encode_certificate_verify,
                                handshake_name, illegal_parameter, unexpected_message)
from cyssl.tls.messages12 import (encode_certificate12, encode_client_key_exchange,
                                  parse_certificate12, parse_certificate_request12,
                                  parse_new_session_ticket12, parse_server_key_exchange)
from cyssl.tls.suites import BY_CODE
from cyssl.tls.handshake12 import (Handshake12, TLS12_GROUPS, check_point_formats,
                                   check_secure_hello_extensions, handshake_failure)
from cyssl.tls.tickets import Session12
from cyssl.tls.verification import verify_peer_chain

cdef enum State:
    WAIT_CERTIFICATE = 1
    WAIT_SERVER_KEY_EXCHANGE = 2
    WAIT_REQUEST_OR_DONE = 3
    WAIT_SERVER_HELLO_DONE = 4
    WAIT_NEW_SESSION_TICKET = 5
    WAIT_CHANGE_CIPHER_SPEC = 6
    WAIT_FINISHED = 7
    CONNECTED = 8

HELLO_REQUEST = 0
SERVER_HELLO_EXTENSIONS = frozenset([EXT_RENEGOTIATION_INFO, EXT_EXTENDED_MASTER_SECRET,
                                     EXT_EC_POINT_FORMATS, EXT_SESSION_TICKET, EXT_ALPN,
                                     EXT_SERVER_NAME, EXT_RECORD_SIZE_LIMIT, EXT_STATUS_REQUEST])


class Client12Handshake(Handshake12):
    """Takes over from the ClientHello machine at a TLS 1.2 ServerHello."""
    is_client = True

    def __init__(self, hello_machine):
        self.conn = hello_machine.conn
        self.config = hello_machine.config
        self.server_name = hello_machine.server_name
        self.offered = hello_machine.offered
        self.transcript = hello_machine.transcript
        self.messages = bytearray(hello_machine.sent_hello)   # TLS 1.2 CertificateVerify signs these
        self.session = hello_machine.session12
        self.offered_session_id = hello_machine.session_id
        self.state = WAIT_CERTIFICATE
        self.cert_request = None
        self.expect_ticket = False
        self.ticket = None

    def server_hello(self, hello, raw):
        conn = self.conn
        config = self.config
        extensions = hello.extensions
        suite = BY_CODE.get(hello.cipher_suite)
        if suite is None or suite.tls13 or hello.cipher_suite not in config.tls12_suites:
            raise illegal_parameter("server chose a cipher suite that was not offered",
                                    "WRONG_CIPHER_RETURNED")
        if hello.compression_method != 0:
            raise illegal_parameter("compression selected", "INVALID_COMPRESSION_ALGORITHM")
        check_allowed(extensions, SERVER_HELLO_EXTENSIONS, "ServerHello")
        for ext_type in extensions:
            if ext_type not in self.offered:
                raise TLSError(110, "UNSOLICITED_EXTENSION",
                               "ServerHello carries extension %d that was not offered" % ext_type)
        self.extended_master_secret = check_secure_hello_extensions(extensions, config)
        check_point_formats(extensions)
        if EXT_ALPN in extensions:
            chosen = decode_alpn(extensions[EXT_ALPN])
            if len(chosen) != 1 or chosen[0] not in config.alpn_protocols:
                raise illegal_parameter("server chose an ALPN protocol that was not offered",
                                        "INVALID_ALPN_PROTOCOL")
            conn.alpn_protocol = chosen[0]
        self.expect_ticket = EXT_SESSION_TICKET in extensions
        conn.suite = suite
        conn.version = 0x0303
        self.server_random = hello.random
        self.session_id = hello.session_id
        self.transcript.select_hash(suite.hash_name)
        self._record(raw)
        session = self.session
        # The server resumes by echoing the session ID we sent with the session (or ticket).
        if (session is not None and hello.session_id and hello.session_id == self.offered_session_id
                and session.suite == suite.code):
            if session.extended_master_secret != self.extended_master_secret:
                raise handshake_failure("resumed session changes the extended master secret",
                                        "INCONSISTENT_EXTMS")
            self.master_secret = session.master_secret
            conn.resumed = True
            conn.peer_chain = list(session.peer_chain)
            conn.verified_chain = list(session.verified_chain)
            self._derive_keys()
            self.state = WAIT_NEW_SESSION_TICKET if self.expect_ticket else WAIT_CHANGE_CIPHER_SPEC
        else:
            self.state = WAIT_CERTIFICATE

    def handle(self, int msg_type, body, raw):
        state = self.state
        if msg_type == HELLO_REQUEST:
            if body:                                    # empty by definition (RFC 5246 7.4.1.1)
                raise TLSError(DECODE_ERROR, "LENGTH_MISMATCH", "HelloRequest with a body")
            if state == CONNECTED:
                self.conn.send_alert(NO_RENEGOTIATION, 1)        # a warning: we go on
            return                # mid-handshake it "will be ignored", outside the transcript
        if state == CONNECTED:
            raise unexpected_message("unexpected %s after the handshake" % handshake_name(msg_type))
        if state == WAIT_CERTIFICATE and msg_type == CERTIFICATE:
            return self._certificate(body, raw)
        if state == WAIT_SERVER_KEY_EXCHANGE and msg_type == SERVER_KEY_EXCHANGE:
            return self._server_key_exchange(body, raw)
        if state == WAIT_REQUEST_OR_DONE and msg_type == CERTIFICATE_REQUEST:
            self.cert_request = parse_certificate_request12(body)
            self._record(raw)
            self.state = WAIT_SERVER_HELLO_DONE
            return
        if state in (WAIT_REQUEST_OR_DONE, WAIT_SERVER_HELLO_DONE) and msg_type == SERVER_HELLO_DONE:
            return self._server_hello_done(body, raw)
        if state == WAIT_NEW_SESSION_TICKET and msg_type == NEW_SESSION_TICKET:
            self.ticket = parse_new_session_ticket12(body)
            self._record(raw)
            self.state = WAIT_CHANGE_CIPHER_SPEC
            return
        if state == WAIT_FINISHED and msg_type == FINISHED:
            return self._finished(body, raw)
        raise unexpected_message("unexpected %s" % handshake_name(msg_type))

    def _certificate(self, body, raw):
        chain = parse_certificate12(body)
        if not chain:
            raise TLSError(DECODE_ERROR, "PEER_DID_NOT_RETURN_A_CERTIFICATE", "server sent no certificate")
        conn = self.conn
        self.peer_key, conn.verified_chain = verify_peer_chain(self.config, chain, self.server_name, "server")
        if not signatures.key_fits_auth(self.peer_key, conn.suite.auth):  # RFC 8422 5.1
            raise TLSError(43, "WRONG_CERTIFICATE_TYPE",
                           "%s suite with a certificate of another key type" % conn.suite.auth)
        conn.peer_chain = chain
        self._record(raw)
        self.state = WAIT_SERVER_KEY_EXCHANGE

    def _server_key_exchange(self, body, raw):
        group, public, params, scheme, signature = parse_server_key_exchange(body)
        if group not in TLS12_GROUPS or group not in self.config.groups:
            raise illegal_parameter("server chose a group that was not offered", "WRONG_CURVE")
        known = signatures.SCHEMES.get(scheme)
        if (known is None or scheme not in self.config.signature_schemes
                or not signatures.key_matches(scheme, self.peer_key, False)):
            raise illegal_parameter("signature scheme %#06x not offered or not fit for the key" % scheme,
                                    "WRONG_SIGNATURE_TYPE")
        signed = self.conn.client_random + self.server_random + params
        try:
            signatures.verify(self.peer_key, scheme, signed, signature)
        except signatures.InvalidSignature:
            raise TLSError(DECRYPT_ERROR, "BAD_SIGNATURE",
                           "ServerKeyExchange signature does not verify") from None
        share = groups.GROUPS[group].generate()
        try:
            self.pre_master_secret = share.exchange(public)
        except groups.InvalidKeyShare as err:
            raise illegal_parameter(str(err), "BAD_ECPOINT") from None
        self.our_public = share.public_bytes()
        self.conn.group = groups.GROUPS[group]
        self.conn.peer_signature_scheme = scheme
        self._record(raw)
        self.state = WAIT_REQUEST_OR_DONE

    def _server_hello_done(self, body, raw):
        if body:
            raise TLSError(DECODE_ERROR, "LENGTH_MISMATCH", "ServerHelloDone with a body")
        self._record(raw)
        conn = self.conn
        config = self.config
        chosen = None
        if self.cert_request is not None:
            _types, schemes, _names = self.cert_request
            chosen = signatures.choose_credential(config.credentials, schemes, False)
            self._send(encode_certificate12(chosen[0] if chosen is not None else []))
        self._send(encode_client_key_exchange(self.our_public))
        hash_name = conn.suite.hash_name
        if self.extended_master_secret:
            self.master_secret = keyschedule.extended_master_secret12(
                hash_name, self.pre_master_secret, self.transcript.digest())
        else:
            self.master_secret = keyschedule.master_secret12(
                hash_name, self.pre_master_secret, conn.client_random, self.server_random)
        self.pre_master_secret = None
        if chosen is not None:
            _chain, key, scheme = chosen
            signature = signatures.sign(key, scheme, bytes(self.messages))
            self._send(encode_certificate_verify(scheme, signature))
        self._derive_keys()
        self._send_finished()
        self.state = WAIT_NEW_SESSION_TICKET if self.expect_ticket else WAIT_CHANGE_CIPHER_SPEC

    def change_cipher_spec(self):
        if self.state == WAIT_NEW_SESSION_TICKET and not self.conn.resumed:
            raise unexpected_message("change_cipher_spec before the promised NewSessionTicket",
                                     "UNEXPECTED_CCS_MESSAGE")
        if self.state not in (WAIT_CHANGE_CIPHER_SPEC, WAIT_NEW_SESSION_TICKET):
            raise unexpected_message("change_cipher_spec out of place", "UNEXPECTED_CCS_MESSAGE")
        self._switch_read_key()
        self.state = WAIT_FINISHED

    def _finished(self, body, raw):
        conn = self.conn
        self._check_peer_finished(body, raw)
        if conn.resumed:
            self._send_finished()
        self._complete()
        lifetime, ticket = self.ticket if self.ticket is not None else (0, None)
        if conn.resumed and ticket is None:
            conn.session = self.session          # not renewed: the session goes on as it was
        elif ticket or self.session_id:
            conn.session = Session12(self.session_id, ticket, self.master_secret, conn.suite.code,
                                     self.extended_master_secret, lifetime, int(conn.now() * 1000),
                                     conn.alpn_protocol, self.server_name, conn.peer_chain,
                                     conn.verified_chain)
        self.state = CONNECTED
