# cython: language_level=3
"""TLS 1.2 handshake messages (RFC 5246 section 7.4, RFC 8422 for ECDHE, RFC 5077 tickets)
that differ from TLS 1.3's; the shared ones (hellos, CertificateVerify, Finished) are in
messages."""
from cyssl.tls.codec cimport Reader, Writer
from cyssl.tls.errors import decode_error
from cyssl.tls.messages cimport (CERTIFICATE, CERTIFICATE_REQUEST, CLIENT_KEY_EXCHANGE,
                                 NEW_SESSION_TICKET, SERVER_HELLO_DONE, SERVER_KEY_EXCHANGE)
from cyssl.tls.messages import frame, illegal_parameter

NAMED_CURVE = 3
# ClientCertificateType (RFC 5246 7.4.4, RFC 8422 5.5)
RSA_SIGN = 1
ECDSA_SIGN = 64


def parse_certificate12(body):
    """Certificate: the DER chain, leaf first (may be empty from a client)."""
    cdef Reader r = Reader(body)
    cdef Reader entries = r.sub24()
    r.expect_end("Certificate")
    chain = []
    while not entries.at_end():
        der = entries.vec24()
        if not der:
            raise decode_error("empty certificate in Certificate")
        chain.append(der)
    return chain


def encode_certificate12(chain):
    cdef Writer w = Writer(4096)
    cdef Py_ssize_t mark = w.begin(3)
    for der in chain:
        w.vec24(der)
    w.end(mark, 3)
    return frame(CERTIFICATE, w.getvalue())


def ecdhe_params(int group, public):
    """ServerECDHParams: named_curve, the group, the public point (what gets signed)."""
    cdef Writer w = Writer(len(public) + 4)
    w.u8(NAMED_CURVE)
    w.u16(group)
    w.vec8(public)
    return w.getvalue()


def parse_server_key_exchange(body):
    """ECDHE ServerKeyExchange: (group, public, params bytes, scheme, signature)."""
    cdef Reader r = Reader(body)
    if r.u8() != NAMED_CURVE:
        raise illegal_parameter("ServerKeyExchange without a named curve")
    group = r.u16()
    public = r.vec8()
    if not public:
        raise decode_error("empty ECDH public key")
    params = bytes(body[:r.position])
    scheme = r.u16()
    signature = r.vec16()
    r.expect_end("ServerKeyExchange")
    return group, public, params, scheme, signature


def encode_server_key_exchange(params, int scheme, signature):
    cdef Writer w = Writer(len(params) + len(signature) + 4)
    w.write(params)
    w.u16(scheme)
    w.vec16(signature)
    return frame(SERVER_KEY_EXCHANGE, w.getvalue())


def parse_certificate_request12(body):
    """(certificate types, signature schemes, CA names)."""
    cdef Reader r = Reader(body)
    types = list(r.vec8())
    cdef Reader schemes_reader = r.sub16()
    cdef Reader names = r.sub16()
    r.expect_end("CertificateRequest")
    if not types:
        raise decode_error("empty certificate_types")
    schemes = []
    if schemes_reader.remaining % 2 or not schemes_reader.remaining:
        raise decode_error("malformed supported_signature_algorithms")
    while not schemes_reader.at_end():
        schemes.append(schemes_reader.u16())
    authorities = []
    while not names.at_end():
        authorities.append(names.vec16())
    return types, schemes, authorities


def encode_certificate_request12(schemes, authorities=()):
    cdef Writer w = Writer()
    w.vec8(bytes((ECDSA_SIGN, RSA_SIGN)))
    cdef Py_ssize_t mark = w.begin(2)
    for scheme in schemes:
        w.u16(scheme)
    w.end(mark, 2)
    mark = w.begin(2)
    for name in authorities or ():
        w.vec16(name)
    w.end(mark, 2)
    return frame(CERTIFICATE_REQUEST, w.getvalue())


def encode_server_hello_done():
    return frame(SERVER_HELLO_DONE, b"")


def parse_client_key_exchange(body):
    cdef Reader r = Reader(body)
    public = r.vec8()
    r.expect_end("ClientKeyExchange")
    if not public:
        raise decode_error("empty ECDH public key")
    return public


def encode_client_key_exchange(public):
    cdef Writer w = Writer(len(public) + 1)
    w.vec8(public)
    return frame(CLIENT_KEY_EXCHANGE, w.getvalue())


def parse_new_session_ticket12(body):
    """(lifetime hint, ticket)."""
    cdef Reader r = Reader(body)
    lifetime = r.u32()
    ticket = r.vec16()
    r.expect_end("NewSessionTicket")
    return lifetime, ticket


def encode_new_session_ticket12(lifetime, ticket):
    cdef Writer w = Writer(len(ticket) + 6)
    w.u32(lifetime)
    w.vec16(ticket)
    return frame(NEW_SESSION_TICKET, w.getvalue())
