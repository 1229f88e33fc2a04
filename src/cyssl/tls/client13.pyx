# cython: language_level=3
"""The TLS 1.3 client handshake (RFC 8446), as an explicit state machine.

Each state names the messages it accepts; anything else is unexpected_message. The
machine drives a Connection: it sends messages through it, installs keys on it and
records what was negotiated there.
"""
import os

from cyssl.crypto import groups, signatures
from cyssl.tls import keyschedule
from cyssl.tls.connection cimport Connection
from cyssl.tls.errors import TLSError
from cyssl.tls.errors cimport (DECODE_ERROR, DECRYPT_ERROR, MISSING_EXTENSION, PROTOCOL_VERSION,
                               UNSUPPORTED_EXTENSION)
from cyssl.tls.messages cimport *
from cyssl.tls.messages import (ClientHello, ServerHello, NewSessionTicket, OfferedPsks, check_finished,
                                DOWNGRADE_TLS11, DOWNGRADE_TLS12, TLS12, TLS13, check_allowed,
                                decode_alpn, decode_record_size_limit, decode_server_key_share,
                                decode_u16, decode_u16_list, decode_certificate_authorities,
                                decode_opaque16, encode_alpn, encode_certificate,
                                encode_certificate_verify, encode_finished, encode_key_shares,
                                encode_opaque16, encode_server_name, encode_u16, encode_u16_list,
                                handshake_name, illegal_parameter, parse_certificate,
                                parse_certificate_request, parse_certificate_verify,
                                parse_encrypted_extensions, unexpected_message)
from cyssl.tls.suites import BY_CODE
from cyssl.tls.tickets import Session, Session12
from cyssl.tls.verification import verify_peer_chain

cdef enum State:
    WAIT_SERVER_HELLO = 1
    WAIT_ENCRYPTED_EXTENSIONS = 2
    WAIT_CERTIFICATE_OR_REQUEST = 3
    WAIT_CERTIFICATE = 4
    WAIT_CERTIFICATE_VERIFY = 5
    WAIT_FINISHED = 6
    CONNECTED = 7

SERVER_HELLO_EXTENSIONS = frozenset([EXT_SUPPORTED_VERSIONS, EXT_KEY_SHARE, EXT_PRE_SHARED_KEY])
RETRY_REQUEST_EXTENSIONS = frozenset([EXT_SUPPORTED_VERSIONS, EXT_KEY_SHARE, EXT_COOKIE])
ENCRYPTED_EXTENSIONS_ALLOWED = frozenset([EXT_SERVER_NAME, EXT_SUPPORTED_GROUPS, EXT_ALPN,
                                          EXT_RECORD_SIZE_LIMIT, EXT_HEARTBEAT, EXT_EARLY_DATA])
CERTIFICATE_REQUEST_EXTENSIONS = frozenset([EXT_SIGNATURE_ALGORITHMS, EXT_SIGNATURE_ALGORITHMS_CERT,
                                            EXT_CERTIFICATE_AUTHORITIES, EXT_STATUS_REQUEST,
                                            EXT_SCT, EXT_OID_FILTERS])
PSK_DHE_KE = 1


def missing_extension(str message):
    return TLSError(MISSING_EXTENSION, "MISSING_EXTENSION", message)


def decrypt_error(str message, str reason):
    return TLSError(DECRYPT_ERROR, reason, message)


def client_connection(config, server_name=None, session=None):
    """A client Connection with its ClientHello already queued in ``outgoing()``."""
    conn = Connection(config, False)
    conn.handshake = ClientHandshake(conn, server_name, session)
    conn.handshake.start()
    return conn


def _is_ip_literal(str name):
    # Only digits and dots (IPv4) or a colon (IPv6) can be an address: skip the
    # ipaddress parser for every ordinary host name.
    if ":" not in name and not name.replace(".", "").isdigit():
        return False
    import ipaddress
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


cdef class ClientHandshake:
    # Declared attributes: the state machine's fields are C struct slots, not a dict.
    cdef public Connection conn
    cdef public int state
    cdef public bint offers12, offers13, retried, ccs_sent
    cdef public object config, server_name, sni, session, session12, session_id, transcript
    cdef public object key_shares, cookie, retry_suite, offered, psk, early_schedule
    cdef public object cert_request, schedule, client_hs, server_hs, peer_key
    cdef public object resumption_secret, sent_hello

    def __init__(self, Connection conn, server_name, session):
        self.conn = conn
        self.config = conn.config
        self.server_name = server_name
        # SNI carries DNS names only (RFC 6066 section 3), never IP literals.
        self.sni = server_name if server_name and not _is_ip_literal(server_name) else None
        self.session = session
        self.state = WAIT_SERVER_HELLO
        self.transcript = keyschedule.Transcript()
        self.key_shares = {}
        self.cookie = None
        self.retried = False
        self.retry_suite = None
        self.ccs_sent = False
        self.offered = set()
        self.psk = None
        self.early_schedule = None
        self.cert_request = None
        self.schedule = None

    # ClientHello ------------------------------------------------------------

    def start(self):
        conn = self.conn
        config = self.config
        conn.client_random = os.urandom(32)
        self.offers13 = TLS13 in config.versions
        self.offers12 = TLS12 in config.versions
        self.session12 = None
        if isinstance(self.session, Session12):
            if self.offers12 and self._session12_fits(self.session):
                self.session12 = self.session
            self.session = None
        self.session_id = os.urandom(32) if config.middlebox_compatibility or self.offers12 else b""
        if self.session12 is not None and self.session12.session_id:
            self.session_id = self.session12.session_id
        if self.offers13:
            for group in config.key_share_groups:
                self.key_shares[group] = groups.GROUPS[group].generate()
        if self.session is not None and not (self.offers13 and self._session_fits(self.session)):
            self.session = None
        conn.records.plaintext_version = 0x0301       # initial ClientHello (RFC 8446 5.1)
        self._send_client_hello()
        conn.records.plaintext_version = 0x0303
        conn.ccs_allowed = self.offers13          # middlebox CCS: a TLS 1.3 thing only

    def _session_fits(self, session):
        suite = BY_CODE.get(session.suite)
        return (suite is not None and suite.tls13
                and any(BY_CODE[c].hash_name == suite.hash_name for c in self.config.tls13_suites)
                and session.usable(self._now_ms())
                and (session.server_name or None) == (self.server_name or None))

    def _session12_fits(self, session):
        return (session.suite in self.config.tls12_suites and session.usable(self._now_ms())
                and (session.server_name or None) == (self.server_name or None))

    def _now_ms(self):
        return int(self.conn.now() * 1000)

    def _send_client_hello(self):
        config = self.config
        extensions = []
        if self.sni:
            extensions.append((EXT_SERVER_NAME, encode_server_name(self.sni)))
        versions = [v for v in config.versions if v in (TLS13, TLS12)]
        extensions.append((EXT_SUPPORTED_VERSIONS, encode_u16_list(versions, 1)))
        extensions.append((EXT_SUPPORTED_GROUPS, encode_u16_list(config.groups)))
        extensions.append((EXT_SIGNATURE_ALGORITHMS, encode_u16_list(config.signature_schemes)))
        if self.offers13:
            extensions.append((EXT_KEY_SHARE, encode_key_shares(
                [(g, share.public_bytes()) for g, share in self.key_shares.items()])))
            extensions.append((EXT_PSK_KEY_EXCHANGE_MODES, bytes((1, PSK_DHE_KE))))
        if self.offers12:
            # TLS 1.2's safety extensions (RFC 7627, 5746, 8422) and tickets (RFC 5077).
            extensions.append((EXT_EXTENDED_MASTER_SECRET, b""))
            extensions.append((EXT_RENEGOTIATION_INFO, b"\x00"))
            extensions.append((EXT_EC_POINT_FORMATS, b"\x01\x00"))
            ticket = self.session12.ticket if self.session12 is not None else None
            extensions.append((EXT_SESSION_TICKET, ticket or b""))
        if config.alpn_protocols:
            extensions.append((EXT_ALPN, encode_alpn(config.alpn_protocols)))
        if config.record_size_limit:
            extensions.append((EXT_RECORD_SIZE_LIMIT, encode_u16(config.record_size_limit)))
            self.conn.records.receive_limit = config.record_size_limit - 1
        if config.post_handshake_auth:
            extensions.append((EXT_POST_HANDSHAKE_AUTH, b""))
        if self.cookie is not None:
            extensions.append((EXT_COOKIE, encode_opaque16(self.cookie)))
        psks = None
        if self.session is not None:
            suite = BY_CODE[self.session.suite]
            hash_length = keyschedule.HASH_LENGTHS[suite.hash_name]
            psks = OfferedPsks([(self.session.ticket, self.session.obfuscated_age(self._now_ms()))],
                               [bytes(hash_length)])
            extensions.append((EXT_PRE_SHARED_KEY, psks.encode()))    # last (RFC 8446 4.2.11)
        self.offered = {t for t, _ in extensions}
        suites = (list(config.tls13_suites) if self.offers13 else []) + \
            (list(config.tls12_suites) if self.offers12 else [])
        hello = ClientHello(self.conn.client_random, self.session_id, suites, extensions)
        raw = hello.encode()
        if psks is not None:
            raw = self._with_binder(psks, raw)
        self.transcript.update(raw)
        self.sent_hello = raw
        self.conn.send_handshake(raw)

    def _with_binder(self, psks, raw):
        """Fill in the PSK binder: an HMAC over the transcript up to the binders."""
        suite = BY_CODE[self.session.suite]
        truncated = raw[:len(raw) - psks.binders_length]
        transcript = self.transcript.copy()
        if transcript.hash_name is None:
            transcript.select_hash(suite.hash_name)
        transcript.update(truncated)
        # The early secret is kept: it goes on to the handshake secret if the server
        # accepts the PSK.
        self.early_schedule = keyschedule.KeySchedule(suite.hash_name, psk=self.session.psk)
        psks.binders = [self.early_schedule.binder(transcript.digest())]
        # The binders are the hello's last bytes and keep their length: splice them in.
        return truncated + psks.encode_binders()

    # Dispatch ---------------------------------------------------------------

    def handle(self, int msg_type, body, raw):
        state = self.state
        if state == CONNECTED:
            return self._post_handshake(msg_type, body, raw)
        if state == WAIT_SERVER_HELLO and msg_type == SERVER_HELLO:
            return self._server_hello(body, raw)
        if state == WAIT_ENCRYPTED_EXTENSIONS and msg_type == ENCRYPTED_EXTENSIONS:
            return self._encrypted_extensions(body, raw)
        if state == WAIT_CERTIFICATE_OR_REQUEST and msg_type == CERTIFICATE_REQUEST:
            return self._certificate_request(body, raw)
        if state in (WAIT_CERTIFICATE_OR_REQUEST, WAIT_CERTIFICATE) and msg_type == CERTIFICATE:
            return self._certificate(body, raw)
        if state == WAIT_CERTIFICATE_VERIFY and msg_type == CERTIFICATE_VERIFY:
            return self._certificate_verify(body, raw)
        if state == WAIT_FINISHED and msg_type == FINISHED:
            return self._finished(body, raw)
        raise unexpected_message("unexpected %s" % handshake_name(msg_type))

    # ServerHello / HelloRetryRequest ----------------------------------------

    def _server_hello(self, body, raw):
        hello = ServerHello.parse(body)
        extensions = hello.extensions
        version = extensions.get(EXT_SUPPORTED_VERSIONS)
        if version is None:
            return self._older_server_hello(hello, raw)
        if decode_u16(version) != TLS13 or not self.offers13:
            raise illegal_parameter("server selected a version that was not offered",
                                    "BAD_PROTOCOL_VERSION_NUMBER")
        if hello.legacy_version != 0x0303:
            raise illegal_parameter("ServerHello legacy_version must be TLS 1.2")
        if hello.session_id != self.session_id:
            raise illegal_parameter("ServerHello does not echo the session id",
                                    "INVALID_SESSION_ID")
        if hello.compression_method != 0:
            raise illegal_parameter("compression selected", "INVALID_COMPRESSION_ALGORITHM")
        if hello.cipher_suite not in self.config.tls13_suites or not self.offers13 or \
                self.retry_suite not in (None, hello.cipher_suite):
            raise illegal_parameter("server chose a cipher suite that was not offered "
                                    "(or not the one of its HelloRetryRequest)",
                                    "WRONG_CIPHER_RETURNED")
        if hello.is_retry_request:
            return self._retry_request(hello, raw)
        self._check_offered(extensions, SERVER_HELLO_EXTENSIONS, "ServerHello")
        suite = BY_CODE[hello.cipher_suite]
        conn = self.conn
        psk = None
        if EXT_PRE_SHARED_KEY in extensions:
            if self.session is None or decode_u16(extensions[EXT_PRE_SHARED_KEY]) != 0:
                raise illegal_parameter("server selected a PSK that was not offered")
            if BY_CODE[self.session.suite].hash_name != suite.hash_name:
                raise illegal_parameter("resumed suite does not match the ticket's hash")
            psk = self.session.psk
            conn.peer_chain = list(self.session.peer_chain)          # what the ticket resumes
            conn.verified_chain = list(self.session.verified_chain)
        if EXT_KEY_SHARE not in extensions:
            raise missing_extension("ServerHello without key_share (psk_ke was not offered)")
        group, share = decode_server_key_share(extensions[EXT_KEY_SHARE])
        if group not in self.key_shares:
            raise illegal_parameter("key share for a group we sent no share for", "BAD_KEY_SHARE")
        try:
            shared = self.key_shares[group].exchange(share)
        except groups.InvalidKeyShare as err:
            raise illegal_parameter(str(err), "BAD_KEY_SHARE") from None
        self.key_shares = {}                  # private keys are no longer needed
        if self.transcript.hash_name is None:
            self.transcript.select_hash(suite.hash_name)
        self.transcript.update(raw)
        conn.suite = suite
        conn.version = TLS13
        conn.group = groups.GROUPS[group]
        conn.resumed = psk is not None
        self.psk = psk
        schedule = (self.early_schedule if psk is not None
                    else keyschedule.KeySchedule(suite.hash_name))
        self.early_schedule = None
        schedule.derive_handshake_secret(shared)
        self.client_hs, self.server_hs = schedule.handshake_traffic_secrets(self.transcript.digest())
        self.schedule = schedule
        conn.log_secret("CLIENT_HANDSHAKE_TRAFFIC_SECRET", self.client_hs)
        conn.log_secret("SERVER_HANDSHAKE_TRAFFIC_SECRET", self.server_hs)
        if self.config.middlebox_compatibility and not self.ccs_sent:
            conn.send_change_cipher_spec()
            self.ccs_sent = True
        conn.set_read_secret(self.server_hs)
        conn.set_write_secret(self.client_hs)
        self.state = WAIT_ENCRYPTED_EXTENSIONS

    def _older_server_hello(self, hello, raw):
        """A ServerHello without supported_versions: TLS 1.2 or older."""
        if self.offers13 and hello.random[-8:] in (DOWNGRADE_TLS12, DOWNGRADE_TLS11):
            # RFC 8446 4.1.3: a TLS 1.3 server was made to negotiate down.
            raise illegal_parameter("server signals a downgrade from TLS 1.3", "TLS13_DOWNGRADE")
        if hello.legacy_version != TLS12 or not self.offers12 or self.retried:
            raise TLSError(PROTOCOL_VERSION, "UNSUPPORTED_PROTOCOL",
                           "server chose TLS version %#06x, which was not offered"
                           % hello.legacy_version)
        if self.conn.ccs_received:     # TLS 1.2 has no CCS before the server's Finished
            raise unexpected_message("change_cipher_spec before the ServerHello",
                                     "UNEXPECTED_CCS_MESSAGE")
        from cyssl.tls.client12 import Client12Handshake
        self.key_shares = {}
        machine = Client12Handshake(self)
        self.conn.handshake = machine
        self.conn.ccs_allowed = False
        machine.server_hello(hello, raw)

    def _check_offered(self, extensions, allowed, str where):
        check_allowed(extensions, allowed, where)
        for ext_type in extensions:
            if ext_type not in self.offered and ext_type != EXT_COOKIE:
                raise TLSError(UNSUPPORTED_EXTENSION, "UNSOLICITED_EXTENSION",
                               "%s carries extension %d that was not offered" % (where, ext_type))

    def _retry_request(self, hello, raw):
        if self.retried:
            raise unexpected_message("second HelloRetryRequest")
        self.retried = True
        extensions = hello.extensions
        check_allowed(extensions, RETRY_REQUEST_EXTENSIONS, "HelloRetryRequest")
        changed = False
        if EXT_KEY_SHARE in extensions:
            group = decode_u16(extensions[EXT_KEY_SHARE])
            if group not in self.config.groups or group in self.key_shares:
                raise illegal_parameter("HelloRetryRequest asks for an unusable group",
                                        "BAD_KEY_SHARE")
            self.key_shares = {group: groups.GROUPS[group].generate()}
            changed = True
        if EXT_COOKIE in extensions:
            self.cookie = decode_opaque16(extensions[EXT_COOKIE])
            if not self.cookie:
                raise TLSError(DECODE_ERROR, "BAD_LENGTH", "empty cookie")
            changed = True
        if not changed:
            raise illegal_parameter("HelloRetryRequest would not change the ClientHello")
        suite = BY_CODE[hello.cipher_suite]
        self.retry_suite = suite.code
        self.transcript.select_hash(suite.hash_name)
        self.transcript.restart_with_message_hash()
        self.transcript.update(raw)
        if self.session is not None and BY_CODE[self.session.suite].hash_name != suite.hash_name:
            self.session = None               # the ticket cannot be used with this hash
        if self.config.middlebox_compatibility and not self.ccs_sent:
            self.conn.send_change_cipher_spec()
            self.ccs_sent = True
        self._send_client_hello()

    # Encrypted server flight ------------------------------------------------

    def _encrypted_extensions(self, body, raw):
        extensions = parse_encrypted_extensions(body)
        self._check_offered(extensions, ENCRYPTED_EXTENSIONS_ALLOWED, "EncryptedExtensions")
        conn = self.conn
        if EXT_EARLY_DATA in extensions:
            raise illegal_parameter("early data accepted but not offered")
        if EXT_SERVER_NAME in extensions and extensions[EXT_SERVER_NAME]:
            raise TLSError(DECODE_ERROR, "BAD_EXTENSION", "non-empty server_name in EncryptedExtensions")
        if EXT_ALPN in extensions:
            chosen = decode_alpn(extensions[EXT_ALPN])
            if len(chosen) != 1 or chosen[0] not in self.config.alpn_protocols:
                raise illegal_parameter("server chose an ALPN protocol that was not offered",
                                        "INVALID_ALPN_PROTOCOL")
            conn.alpn_protocol = chosen[0]
        if EXT_RECORD_SIZE_LIMIT in extensions:
            limit = decode_record_size_limit(extensions[EXT_RECORD_SIZE_LIMIT])
            conn.records.max_fragment = min(16384, limit - 1)
        self.transcript.update(raw)
        self.state = WAIT_FINISHED if self.psk is not None else WAIT_CERTIFICATE_OR_REQUEST

    def _certificate_request(self, body, raw):
        context, extensions = parse_certificate_request(body)
        check_allowed(extensions, CERTIFICATE_REQUEST_EXTENSIONS, "CertificateRequest")
        if context:
            raise illegal_parameter("non-empty certificate_request_context in the handshake")
        self.cert_request = self._read_certificate_request(context, extensions)
        self.transcript.update(raw)
        self.state = WAIT_CERTIFICATE

    def _read_certificate_request(self, context, extensions):
        if EXT_SIGNATURE_ALGORITHMS not in extensions:
            raise missing_extension("CertificateRequest without signature_algorithms")
        schemes = decode_u16_list(extensions[EXT_SIGNATURE_ALGORITHMS])
        authorities = None
        if EXT_CERTIFICATE_AUTHORITIES in extensions:
            authorities = decode_certificate_authorities(extensions[EXT_CERTIFICATE_AUTHORITIES])
        return context, schemes, authorities

    def _certificate(self, body, raw):
        context, chain = parse_certificate(body)
        if context:
            raise illegal_parameter("non-empty certificate_request_context from the server")
        if not chain:
            raise TLSError(DECODE_ERROR, "PEER_DID_NOT_RETURN_A_CERTIFICATE",
                           "server sent no certificate")
        conn = self.conn
        self.peer_key, conn.verified_chain = verify_peer_chain(
            self.config, chain, self.server_name, "server")
        conn.peer_chain = chain
        self.transcript.update(raw)
        self.state = WAIT_CERTIFICATE_VERIFY

    def _certificate_verify(self, body, raw):
        scheme, signature = parse_certificate_verify(body)
        check_certificate_verify(self.config, self.peer_key, scheme, signature,
                                 self.transcript.digest(), True)
        self.conn.peer_signature_scheme = scheme
        self.transcript.update(raw)
        self.state = WAIT_FINISHED

    def _finished(self, body, raw):
        conn = self.conn
        expected = conn.finished_verify_data(False, self.transcript.digest())
        check_finished(expected, body, "server")
        conn.server_finished = expected
        self.transcript.update(raw)
        schedule = self.schedule
        schedule.derive_master_secret()
        transcript_hash = self.transcript.digest()
        client_ap, server_ap = schedule.application_traffic_secrets(transcript_hash)
        conn.exporter_secret = schedule.exporter_master_secret(transcript_hash)
        conn.log_secret("CLIENT_TRAFFIC_SECRET_0", client_ap)
        conn.log_secret("SERVER_TRAFFIC_SECRET_0", server_ap)
        conn.log_secret("EXPORTER_SECRET", conn.exporter_secret)
        conn.set_read_secret(server_ap)
        conn.app_data_readable = True
        conn.ccs_allowed = False
        if self.cert_request is not None:
            send_client_certificate(conn, self.transcript, self.cert_request, self.client_hs)
        verify_data = conn.finished_verify_data(True, self.transcript.digest())
        finished = encode_finished(verify_data)
        conn.client_finished = verify_data
        conn.send_handshake(finished)
        self.transcript.update(finished)
        self.resumption_secret = schedule.resumption_master_secret(self.transcript.digest())
        self.schedule = None
        conn.set_write_secret(client_ap)
        conn.handshake_complete = True
        self.cert_request = None
        self.state = CONNECTED
        # An established connection keeps only what later messages need (the
        # transcript only for post-handshake authentication); the handshake secrets go.
        self.client_hs = self.server_hs = None
        conn.keys_settled()
        self.sent_hello = self.offered = self.peer_key = self.key_shares = None
        if not self.config.post_handshake_auth:
            self.transcript = None

    # After the handshake ----------------------------------------------------

    def _post_handshake(self, int msg_type, body, raw):
        conn = self.conn
        if msg_type == NEW_SESSION_TICKET:
            ticket = NewSessionTicket.parse(body)
            if EXT_EARLY_DATA in ticket.extensions and len(ticket.extensions[EXT_EARLY_DATA]) != 4:
                raise TLSError(DECODE_ERROR, "BAD_EXTENSION", "malformed early_data in ticket")
            if ticket.lifetime:
                psk = keyschedule.resumption_psk(conn.suite.hash_name, self.resumption_secret,
                                                 ticket.nonce)
                conn.session = Session(ticket.ticket, psk, conn.suite.code, ticket.lifetime,
                                       ticket.age_add, self._now_ms(), conn.alpn_protocol,
                                       self.server_name, conn.peer_chain, conn.verified_chain)
        elif msg_type == KEY_UPDATE:
            conn.on_key_update(body)
        elif msg_type == CERTIFICATE_REQUEST and self.config.post_handshake_auth:
            context, extensions = parse_certificate_request(body)
            check_allowed(extensions, CERTIFICATE_REQUEST_EXTENSIONS, "CertificateRequest")
            if not context:
                raise illegal_parameter("empty context in a post-handshake CertificateRequest")
            request = self._read_certificate_request(context, extensions)
            transcript = self.transcript.copy()
            transcript.update(raw)
            send_client_certificate(conn, transcript, request, conn.write_secret)
            verify_data = conn.finished_verify_data(True, transcript.digest())
            conn.send_handshake(encode_finished(verify_data))
            conn.answer_awaited = True        # the server waits for it: a read sends it first
        else:
            raise unexpected_message("unexpected %s after the handshake" % handshake_name(msg_type))


def check_certificate_verify(config, peer_key, int scheme, signature, transcript_hash, bint from_server):
    """Verify the peer's CertificateVerify (RFC 8446 4.4.3), or raise the right alert."""
    known = signatures.SCHEMES.get(scheme)
    if (known is None or not known.tls13_ok or scheme not in config.signature_schemes
            or not signatures.key_matches(scheme, peer_key, True)):
        raise illegal_parameter("signature scheme %#06x not offered or not fit for the key" % scheme,
                                "WRONG_SIGNATURE_TYPE")
    data = signatures.certificate_verify_input(transcript_hash, from_server)
    try:
        signatures.verify(peer_key, scheme, data, signature)
    except signatures.InvalidSignature:
        raise decrypt_error("CertificateVerify signature does not verify", "BAD_SIGNATURE") from None


def send_client_certificate(Connection conn, transcript, request, base_key):
    """Our Certificate (+ CertificateVerify) in answer to a CertificateRequest; an empty
    Certificate when we have no certificate or none that fits the request."""
    context, schemes, _authorities = request
    config = conn.config
    chosen = signatures.choose_credential(config.credentials, schemes, True)
    message = encode_certificate(context, chosen[0] if chosen is not None else [])
    conn.send_handshake(message)
    transcript.update(message)
    if chosen is not None:
        _chain, key, scheme = chosen
        data = signatures.certificate_verify_input(transcript.digest(), False)
        message = encode_certificate_verify(scheme, signatures.sign(key, scheme, data))
        conn.send_handshake(message)
        transcript.update(message)
