# cython: language_level=3
"""Handshake messages and their extensions, to and from bytes (RFC 8446 section 4).

Each message is a small class with ``parse(body)`` (a classmethod taking the message
body, without the 4-byte handshake header) and ``encode()`` (the whole message, header
included). Parsers read through the bounds-checked codec: a short or overlong field
is ``decode_error``; a well-formed but forbidden value is ``illegal_parameter``.
Extensions are kept as raw bodies keyed by type, decoded by the accessor that needs
them, so an unknown extension costs nothing and is ignored.
"""
import hmac

from cyssl.tls.codec cimport Reader, Writer
from cyssl.tls.errors import TLSError, decode_error
from cyssl.tls.errors cimport (DECODE_ERROR, DECRYPT_ERROR, ILLEGAL_PARAMETER, UNEXPECTED_MESSAGE,
                               UNSUPPORTED_EXTENSION)
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE

HANDSHAKE_NAMES = {
    CLIENT_HELLO: "ClientHello", SERVER_HELLO: "ServerHello",
    NEW_SESSION_TICKET: "NewSessionTicket", END_OF_EARLY_DATA: "EndOfEarlyData",
    ENCRYPTED_EXTENSIONS: "EncryptedExtensions", CERTIFICATE: "Certificate",
    SERVER_KEY_EXCHANGE: "ServerKeyExchange", CERTIFICATE_REQUEST: "CertificateRequest",
    SERVER_HELLO_DONE: "ServerHelloDone", CERTIFICATE_VERIFY: "CertificateVerify",
    CLIENT_KEY_EXCHANGE: "ClientKeyExchange", FINISHED: "Finished", KEY_UPDATE: "KeyUpdate",
    MESSAGE_HASH: "message_hash",
}

# ServerHello.random of a HelloRetryRequest: SHA-256("HelloRetryRequest") (RFC 8446 4.1.3).
HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")
# Last 8 bytes of ServerHello.random when a TLS 1.3 server negotiates an older version.
DOWNGRADE_TLS12 = b"DOWNGRD\x01"
DOWNGRADE_TLS11 = b"DOWNGRD\x00"

TLS13 = 0x0304
TLS12 = 0x0303


def illegal_parameter(str message, str reason="ILLEGAL_PARAMETER"):
    return TLSError(ILLEGAL_PARAMETER, reason, message)


def unexpected_message(str message, str reason="UNEXPECTED_MESSAGE"):
    return TLSError(UNEXPECTED_MESSAGE, reason, message)


def check_finished(bytes expected, body, str sender):
    """The peer's Finished ``body`` against the verify_data we computed: its length is
    fixed, so another length is decode_error; a wrong value is decrypt_error
    (constant-time comparison)."""
    if len(body) != len(expected):
        raise TLSError(DECODE_ERROR, "BAD_DIGEST_LENGTH",
                       "%s Finished of %d bytes, not %d" % (sender, len(body), len(expected)))
    if not hmac.compare_digest(expected, bytes(body)):
        raise TLSError(DECRYPT_ERROR, "DIGEST_CHECK_FAILED", "%s Finished does not verify" % sender)


def handshake_name(int msg_type):
    return HANDSHAKE_NAMES.get(msg_type, "handshake message %d" % msg_type)


cdef class HandshakeBuffer:
    """Reassembles handshake messages from record payloads: one message may span many
    records and one record may hold many messages. A message whose header announces
    more than ``max_message`` bytes is refused before its body is buffered."""

    def __cinit__(self, Py_ssize_t max_message=65536):
        self._buf = bytearray()
        self._start = 0
        self.max_message = max_message

    cpdef add(self, data):
        if self._start:
            del self._buf[:self._start]
            self._start = 0
        self._buf += data

    @property
    def empty(self):
        """True when no partial message is buffered (a key change must happen here)."""
        return PyByteArray_GET_SIZE(self._buf) == self._start

    cpdef object next_message(self):
        """``(msg_type, body, raw)`` of the next whole message, or None; ``raw`` is the
        message with its header, as the transcript needs it."""
        cdef Py_ssize_t avail = PyByteArray_GET_SIZE(self._buf) - self._start
        cdef const unsigned char* p
        cdef Py_ssize_t length
        if avail < 4:
            return None
        p = <const unsigned char*>PyByteArray_AS_STRING(self._buf) + self._start
        length = (p[1] << 16) | (p[2] << 8) | p[3]
        if length > self.max_message:
            raise TLSError(DECODE_ERROR, "EXCESSIVE_MESSAGE_SIZE",
                           "%s of %d bytes exceeds the limit of %d"
                           % (handshake_name(p[0]), length, self.max_message))
        if avail < 4 + length:
            return None
        msg_type = p[0]
        raw = bytes(self._buf[self._start:self._start + 4 + length])
        self._start += 4 + length
        return msg_type, raw[4:], raw


def frame(int msg_type, body):
    """A handshake message: type || uint24 length || body."""
    cdef Writer w = Writer(len(body) + 4)
    w.u8(msg_type)
    w.vec24(body)
    return w.getvalue()


# Extensions ---------------------------------------------------------------

def parse_extensions(Reader r, str where):
    """``{type: body}`` from an extensions block; a duplicate is illegal_parameter.
    Returns the dict and the types in order (pre_shared_key must come last)."""
    cdef Reader block = r.sub16()
    cdef dict found = {}
    cdef list order = []
    while not block.at_end():
        ext_type = block.u16()
        body = block.vec16()
        if ext_type in found:
            raise illegal_parameter("duplicate extension %d in %s" % (ext_type, where),
                                    "DUPLICATE_EXTENSION")
        found[ext_type] = body
        order.append(ext_type)
    return found, order


def encode_extensions(Writer w, extensions):
    """Write ``[(type, body), ...]`` as an extensions block."""
    cdef Py_ssize_t mark = w.begin(2)
    for ext_type, body in extensions:
        w.u16(ext_type)
        w.vec16(body)
    w.end(mark, 2)


def check_allowed(dict extensions, allowed, str where):
    """RFC 8446 4.2: a known extension in a message that may not carry it is illegal."""
    for ext_type in extensions:
        if ext_type in KNOWN_TLS13_EXTENSIONS and ext_type not in allowed:
            raise illegal_parameter("extension %d not allowed in %s" % (ext_type, where),
                                    "UNSOLICITED_EXTENSION")


KNOWN_TLS13_EXTENSIONS = frozenset([
    EXT_SERVER_NAME, EXT_STATUS_REQUEST, EXT_SUPPORTED_GROUPS, EXT_SIGNATURE_ALGORITHMS,
    EXT_HEARTBEAT, EXT_ALPN, EXT_SCT, EXT_PADDING, EXT_RECORD_SIZE_LIMIT, EXT_PRE_SHARED_KEY,
    EXT_EARLY_DATA, EXT_SUPPORTED_VERSIONS, EXT_COOKIE, EXT_PSK_KEY_EXCHANGE_MODES,
    EXT_CERTIFICATE_AUTHORITIES, EXT_OID_FILTERS, EXT_POST_HANDSHAKE_AUTH,
    EXT_SIGNATURE_ALGORITHMS_CERT, EXT_KEY_SHARE])


def decode_u16_list(body, int length_width=2, bint allow_empty=False):
    """A vector of uint16 (supported_groups, signature_algorithms, cipher suites)."""
    cdef Reader r = Reader(body)
    cdef Reader items = r.sub16() if length_width == 2 else r.sub8()
    r.expect_end()
    if items.left() % 2 or (items.left() == 0 and not allow_empty):
        raise decode_error("malformed list of 16-bit values")
    result = []
    while not items.at_end():
        result.append(items.u16())
    return result


def encode_u16_list(values, int length_width=2):
    cdef Writer w = Writer()
    cdef Py_ssize_t mark = w.begin(length_width)
    for v in values:
        w.u16(v)
    w.end(mark, length_width)
    return w.getvalue()


def decode_server_name(body):
    """server_name (RFC 6066): the host_name, or None for an empty extension."""
    if not body:
        return None
    cdef Reader r = Reader(body)
    cdef Reader names = r.sub16()
    r.expect_end()
    host = None
    while not names.at_end():
        name_type = names.u8()
        name = names.vec16()
        if name_type == 0:
            if host is not None:
                raise illegal_parameter("two host names in server_name")
            if not name or b"\x00" in name:
                raise decode_error("malformed host name in server_name")
            try:
                host = name.decode("ascii")
            except UnicodeDecodeError:
                raise decode_error("non-ASCII host name in server_name") from None
    return host


def encode_server_name(str host):
    cdef Writer w = Writer()
    cdef Py_ssize_t mark = w.begin(2)
    w.u8(0)
    w.vec16(host.encode("ascii"))
    w.end(mark, 2)
    return w.getvalue()


def decode_alpn(body):
    """application_layer_protocol_negotiation (RFC 7301): the protocol names."""
    cdef Reader r = Reader(body)
    cdef Reader names = r.sub16()
    r.expect_end()
    protocols = []
    while not names.at_end():
        name = names.vec8()
        if not name:
            raise decode_error("empty ALPN protocol name")
        protocols.append(name)
    if not protocols:
        raise decode_error("empty ALPN protocol list")
    return protocols


def encode_alpn(protocols):
    cdef Writer w = Writer()
    cdef Py_ssize_t mark = w.begin(2)
    for name in protocols:
        w.vec8(name)
    w.end(mark, 2)
    return w.getvalue()


def decode_key_shares(body):
    """ClientHello key_share: [(group, key_exchange)]; a repeated group is illegal."""
    cdef Reader r = Reader(body)
    cdef Reader entries = r.sub16()
    r.expect_end()
    shares = []
    seen = set()
    while not entries.at_end():
        group = entries.u16()
        share = entries.vec16()
        if not share:
            raise decode_error("empty key share")
        if group in seen:
            raise illegal_parameter("two key shares for group %#x" % group)
        seen.add(group)
        shares.append((group, share))
    return shares


def encode_key_shares(shares):
    cdef Writer w = Writer()
    cdef Py_ssize_t mark = w.begin(2)
    for group, share in shares:
        w.u16(group)
        w.vec16(share)
    w.end(mark, 2)
    return w.getvalue()


def decode_server_key_share(body):
    cdef Reader r = Reader(body)
    group = r.u16()
    share = r.vec16()
    r.expect_end()
    if not share:
        raise decode_error("empty key share")
    return group, share


def encode_server_key_share(int group, share):
    cdef Writer w = Writer()
    w.u16(group)
    w.vec16(share)
    return w.getvalue()


def decode_u16(body):
    cdef Reader r = Reader(body)
    value = r.u16()
    r.expect_end()
    return value


def encode_u16(int value):
    return bytes((value >> 8, value & 0xFF))


def decode_opaque16(body):
    cdef Reader r = Reader(body)
    value = r.vec16()
    r.expect_end()
    return value


def encode_opaque16(value):
    cdef Writer w = Writer()
    w.vec16(value)
    return w.getvalue()


def decode_psk_modes(body):
    cdef Reader r = Reader(body)
    modes = list(r.vec8())
    r.expect_end()
    if not modes:
        raise decode_error("empty psk_key_exchange_modes")
    return modes


def decode_certificate_authorities(body):
    cdef Reader r = Reader(body)
    cdef Reader names = r.sub16()
    r.expect_end()
    result = []
    while not names.at_end():
        name = names.vec16()
        if not name:
            raise decode_error("empty distinguished name")
        result.append(name)
    if not result:
        raise decode_error("empty certificate_authorities")
    return result


def encode_certificate_authorities(names):
    cdef Writer w = Writer()
    cdef Py_ssize_t mark = w.begin(2)
    for name in names:
        w.vec16(name)
    w.end(mark, 2)
    return w.getvalue()


def decode_record_size_limit(body):
    value = decode_u16(body)
    if value < 64:
        raise illegal_parameter("record_size_limit %d below 64" % value)
    return value


class OfferedPsks:
    """ClientHello pre_shared_key: identities [(identity, obfuscated_age)] and binders."""
    __slots__ = ("identities", "binders", "binders_length")

    def __init__(self, identities, binders):
        self.identities = identities
        self.binders = binders
        # bytes the binders occupy at the end of the ClientHello (the truncation point)
        self.binders_length = 2 + sum(1 + len(b) for b in binders)

    @classmethod
    def parse(cls, body):
        cdef Reader r = Reader(body)
        cdef Reader ids = r.sub16()
        cdef Reader binders = r.sub16()
        r.expect_end()
        identities = []
        while not ids.at_end():
            identity = ids.vec16()
            age = ids.u32()
            if not identity:
                raise decode_error("empty PSK identity")
            identities.append((identity, age))
        binder_list = []
        while not binders.at_end():
            binder = binders.vec8()
            if len(binder) < 32:
                raise decode_error("PSK binder too short")
            binder_list.append(binder)
        if not identities or not binder_list:
            raise decode_error("empty PSK identities or binders")
        if len(identities) != len(binder_list):
            raise illegal_parameter("PSK identities and binders do not pair up")
        return cls(identities, binder_list)

    def encode(self):
        cdef Writer w = Writer()
        cdef Py_ssize_t mark = w.begin(2)
        for identity, age in self.identities:
            w.vec16(identity)
            w.u32(age)
        w.end(mark, 2)
        return w.getvalue() + self.encode_binders()

    def encode_binders(self):
        """The binders list alone: the last ``binders_length`` bytes of the ClientHello."""
        cdef Writer w = Writer()
        cdef Py_ssize_t mark = w.begin(2)
        for binder in self.binders:
            w.vec8(binder)
        w.end(mark, 2)
        return w.getvalue()


# Messages -----------------------------------------------------------------

class ClientHello:
    __slots__ = ("legacy_version", "random", "session_id", "cipher_suites", "compression_methods",
                 "extensions", "extension_order")

    def __init__(self, random, session_id, cipher_suites, extensions, legacy_version=TLS12,
                 compression_methods=b"\x00"):
        self.legacy_version = legacy_version
        self.random = random
        self.session_id = session_id
        self.cipher_suites = cipher_suites
        self.compression_methods = compression_methods
        self.extensions = extensions              # [(type, body)] when building, dict parsed
        self.extension_order = [t for t, _ in extensions] if isinstance(extensions, list) else None

    @classmethod
    def parse(cls, body):
        cdef Reader r = Reader(body)
        legacy_version = r.u16()
        random = r.take(32)
        session_id = r.vec8()
        if len(session_id) > 32:
            raise illegal_parameter("legacy_session_id longer than 32 bytes")
        suites = r.vec16()
        if len(suites) % 2 or not suites:
            raise decode_error("malformed cipher_suites")
        compression = r.vec8()
        if not compression:
            raise decode_error("empty compression_methods")
        if r.at_end():                       # no extensions at all: a pre-TLS 1.2 hello
            extensions, order = {}, []
        else:
            extensions, order = parse_extensions(r, "ClientHello")
        r.expect_end("ClientHello")
        hello = cls(random, session_id,
                    [(suites[i] << 8) | suites[i + 1] for i in range(0, len(suites), 2)],
                    extensions, legacy_version, compression)
        hello.extension_order = order
        return hello

    def encode(self):
        cdef Writer w = Writer(512)
        w.u16(self.legacy_version)
        w.write(self.random)
        w.vec8(self.session_id)
        cdef Py_ssize_t mark = w.begin(2)
        for suite in self.cipher_suites:
            w.u16(suite)
        w.end(mark, 2)
        w.vec8(self.compression_methods)
        encode_extensions(w, self.extensions)
        return frame(CLIENT_HELLO, w.getvalue())


class ServerHello:
    """ServerHello, or a HelloRetryRequest when ``random == HRR_RANDOM``."""
    __slots__ = ("legacy_version", "random", "session_id", "cipher_suite", "compression_method",
                 "extensions")

    def __init__(self, random, session_id, cipher_suite, extensions, legacy_version=TLS12,
                 compression_method=0):
        self.legacy_version = legacy_version
        self.random = random
        self.session_id = session_id
        self.cipher_suite = cipher_suite
        self.compression_method = compression_method
        self.extensions = extensions

    @property
    def is_retry_request(self):
        return self.random == HRR_RANDOM

    @classmethod
    def parse(cls, body):
        cdef Reader r = Reader(body)
        legacy_version = r.u16()
        random = r.take(32)
        session_id = r.vec8()
        if len(session_id) > 32:
            raise illegal_parameter("legacy_session_id_echo longer than 32 bytes")
        suite = r.u16()
        compression = r.u8()
        if r.at_end():
            extensions = {}
        else:
            extensions, _ = parse_extensions(r, "ServerHello")
        r.expect_end("ServerHello")
        return cls(random, session_id, suite, extensions, legacy_version, compression)

    def encode(self):
        cdef Writer w = Writer(256)
        w.u16(self.legacy_version)
        w.write(self.random)
        w.vec8(self.session_id)
        w.u16(self.cipher_suite)
        w.u8(self.compression_method)
        encode_extensions(w, self.extensions)
        return frame(SERVER_HELLO, w.getvalue())


def parse_encrypted_extensions(body):
    cdef Reader r = Reader(body)
    extensions, _ = parse_extensions(r, "EncryptedExtensions")
    r.expect_end("EncryptedExtensions")
    return extensions


def encode_encrypted_extensions(extensions):
    cdef Writer w = Writer()
    encode_extensions(w, extensions)
    return frame(ENCRYPTED_EXTENSIONS, w.getvalue())


def parse_certificate_request(body):
    """TLS 1.3 CertificateRequest: (context, extensions)."""
    cdef Reader r = Reader(body)
    context = r.vec8()
    extensions, _ = parse_extensions(r, "CertificateRequest")
    r.expect_end("CertificateRequest")
    return context, extensions


def encode_certificate_request(context, extensions):
    cdef Writer w = Writer()
    w.vec8(context)
    encode_extensions(w, extensions)
    return frame(CERTIFICATE_REQUEST, w.getvalue())


def parse_certificate(body):
    """TLS 1.3 Certificate: (context, [DER certificates]). cyssl solicits no per-entry
    extension (no OCSP, no SCT), so any is unsupported_extension (RFC 8446 4.4.2, 4.2)."""
    cdef Reader r = Reader(body)
    context = r.vec8()
    cdef Reader entries = r.sub24()
    r.expect_end("Certificate")
    chain = []
    while not entries.at_end():
        der = entries.vec24()
        if not der:
            raise decode_error("empty certificate in Certificate")
        if parse_extensions(entries, "CertificateEntry")[0]:
            raise TLSError(UNSUPPORTED_EXTENSION, "UNSOLICITED_EXTENSION",
                           "unsolicited extension in a CertificateEntry")
        chain.append(der)
    return context, chain


def encode_certificate(context, chain):
    cdef Writer w = Writer(4096)
    w.vec8(context)
    cdef Py_ssize_t mark = w.begin(3)
    for der in chain:
        w.vec24(der)
        w.u16(0)                                   # no per-certificate extensions
    w.end(mark, 3)
    return frame(CERTIFICATE, w.getvalue())


def parse_certificate_verify(body):
    cdef Reader r = Reader(body)
    scheme = r.u16()
    signature = r.vec16()
    r.expect_end("CertificateVerify")
    if not signature:
        raise decode_error("empty signature")
    return scheme, signature


def encode_certificate_verify(int scheme, signature):
    cdef Writer w = Writer(len(signature) + 4)
    w.u16(scheme)
    w.vec16(signature)
    return frame(CERTIFICATE_VERIFY, w.getvalue())


def encode_finished(verify_data):
    return frame(FINISHED, verify_data)


class NewSessionTicket:
    __slots__ = ("lifetime", "age_add", "nonce", "ticket", "extensions")

    def __init__(self, lifetime, age_add, nonce, ticket, extensions):
        self.lifetime = lifetime
        self.age_add = age_add
        self.nonce = nonce
        self.ticket = ticket
        self.extensions = extensions

    @classmethod
    def parse(cls, body):
        cdef Reader r = Reader(body)
        lifetime = r.u32()
        age_add = r.u32()
        nonce = r.vec8()
        ticket = r.vec16()
        if not ticket:
            raise decode_error("empty session ticket")
        extensions, _ = parse_extensions(r, "NewSessionTicket")
        r.expect_end("NewSessionTicket")
        if lifetime > 604800:
            raise illegal_parameter("ticket lifetime over 7 days")
        return cls(lifetime, age_add, nonce, ticket, extensions)

    def encode(self):
        cdef Writer w = Writer(len(self.ticket) + 32)
        w.u32(self.lifetime)
        w.u32(self.age_add)
        w.vec8(self.nonce)
        w.vec16(self.ticket)
        encode_extensions(w, self.extensions)
        return frame(NEW_SESSION_TICKET, w.getvalue())


def parse_key_update(body):
    """KeyUpdate: True when the peer asks us to update too."""
    cdef Reader r = Reader(body)
    request = r.u8()
    r.expect_end("KeyUpdate")
    if request > 1:
        raise illegal_parameter("KeyUpdate request_update %d" % request)
    return request == 1


def encode_key_update(bint update_requested):
    return frame(KEY_UPDATE, b"\x01" if update_requested else b"\x00")
