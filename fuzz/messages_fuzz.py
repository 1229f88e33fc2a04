"""Fuzz every handshake message parser, the extension decoders, the TLS 1.2 messages,
codec.Reader, HandshakeBuffer, ticket state decoding, peer certificate verification
and getpeercert()'s DER decoder.

Input: one selector byte (which parser, see PARSERS), then the body. Each parser may
raise only TLSError (peercert: ValueError, its documented contract). What parses must
also survive a round trip: encoding the parsed value gives the same bytes back (where
the encoding is canonical) and parsing that again gives the same value. codec.Reader
and HandshakeBuffer are run against small reference models (differential).
"""
import random

import _common
from _common import FuzzBug, TLSError, feature

m = _common.messages
m12 = _common.messages12
codec = _common.codec
tickets = _common.tickets
handshake12 = _common.handshake12


def _same(a, b, what):
    if a != b:
        raise FuzzBug("%s does not round-trip: %r != %r" % (what, _clip(a), _clip(b)))


def _clip(value):
    text = repr(value)
    return text if len(text) < 300 else text[:300] + "..."


def _plus_empty_extensions(body, had_extensions):
    return body if had_extensions else body + b"\x00\x00"


def _hello_has_extension_block(body, client):
    parsed = _common.parse_hello(body, client)
    return parsed is not None and len(parsed[0]) < len(body)


# ---------------------------------------------------------------- parsers

def p_client_hello(body):
    h = m.ClientHello.parse(body)
    again = m.ClientHello(h.random, h.session_id, h.cipher_suites,
                          [(t, h.extensions[t]) for t in h.extension_order],
                          h.legacy_version, h.compression_methods).encode()
    _same(again[4:], _plus_empty_extensions(body, _hello_has_extension_block(body, True)),
          "ClientHello")
    feature("ch", len(h.extension_order) > 0)


def p_server_hello(body):
    h = m.ServerHello.parse(body)
    again = m.ServerHello(h.random, h.session_id, h.cipher_suite, list(h.extensions.items()),
                          h.legacy_version, h.compression_method).encode()
    _same(again[4:], _plus_empty_extensions(body, _hello_has_extension_block(body, False)),
          "ServerHello")
    feature("sh", h.is_retry_request)


def p_encrypted_extensions(body):
    ext = m.parse_encrypted_extensions(body)
    _same(m.encode_encrypted_extensions(list(ext.items()))[4:], body, "EncryptedExtensions")


def p_certificate(body):
    context, chain = m.parse_certificate(body)
    again = m.encode_certificate(context, chain)[4:]
    _same(m.parse_certificate(again), (context, chain), "Certificate")
    if len(again) == len(body):        # no per-entry extensions: canonical
        _same(again, body, "Certificate")


def p_certificate_request(body):
    context, ext = m.parse_certificate_request(body)
    _same(m.encode_certificate_request(context, list(ext.items()))[4:], body, "CertificateRequest")


def p_certificate_verify(body):
    scheme, sig = m.parse_certificate_verify(body)
    _same(m.encode_certificate_verify(scheme, sig)[4:], body, "CertificateVerify")


def p_new_session_ticket(body):
    t = m.NewSessionTicket.parse(body)
    again = m.NewSessionTicket(t.lifetime, t.age_add, t.nonce, t.ticket,
                               list(t.extensions.items())).encode()
    _same(again[4:], body, "NewSessionTicket")


def p_key_update(body):
    value = m.parse_key_update(body)
    _same(m.encode_key_update(value)[4:], body, "KeyUpdate")


def p_offered_psks(body):
    psks = m.OfferedPsks.parse(body)
    _same(psks.encode(), body, "OfferedPsks")
    if psks.binders_length != 2 + sum(1 + len(b) for b in psks.binders):
        raise FuzzBug("binders_length")
    if not body.endswith(m.OfferedPsks(psks.identities, psks.binders).encode()[-psks.binders_length:]):
        raise FuzzBug("binders_length does not cut at the binders")


def p_extensions(body):
    found, order = m.parse_extensions(codec.Reader(body), "fuzz")
    if list(found) != order:
        raise FuzzBug("extension order")
    w = codec.Writer()
    m.encode_extensions(w, list(found.items()))
    _same(w.getvalue(), body[:len(w.getvalue())], "extensions")


def p_u16_list2(body):
    values = m.decode_u16_list(body)
    _same(m.encode_u16_list(values), body, "u16 list")


def p_u16_list1(body):
    values = m.decode_u16_list(body, 1)
    _same(m.encode_u16_list(values, 1), body, "u16 list/1")


def p_u16_list_empty(body):
    values = m.decode_u16_list(body, 2, True)
    _same(m.encode_u16_list(values), body, "u16 list (empty allowed)")


def p_server_name(body):
    host = m.decode_server_name(body)
    if host is not None:
        _same(m.decode_server_name(m.encode_server_name(host)), host, "server_name")
        feature("sni", len(host) > 0)


def p_alpn(body):
    _same(m.encode_alpn(m.decode_alpn(body)), body, "ALPN")


def p_key_shares(body):
    _same(m.encode_key_shares(m.decode_key_shares(body)), body, "key_share")


def p_server_key_share(body):
    group, share = m.decode_server_key_share(body)
    _same(m.encode_server_key_share(group, share), body, "server key_share")


def p_u16(body):
    _same(m.encode_u16(m.decode_u16(body)), body, "u16")


def p_opaque16(body):
    _same(m.encode_opaque16(m.decode_opaque16(body)), body, "opaque16")


def p_psk_modes(body):
    _same(bytes([len(m.decode_psk_modes(body))]) + bytes(m.decode_psk_modes(body)), body, "psk modes")


def p_certificate_authorities(body):
    _same(m.encode_certificate_authorities(m.decode_certificate_authorities(body)), body, "CAs")


def p_record_size_limit(body):
    value = m.decode_record_size_limit(body)
    if not 64 <= value <= 0xFFFF:
        raise FuzzBug("record_size_limit %d" % value)


def p_certificate12(body):
    chain = m12.parse_certificate12(body)
    _same(m12.encode_certificate12(chain)[4:], body, "Certificate (1.2)")


def p_server_key_exchange(body):
    group, public, params, scheme, sig = m12.parse_server_key_exchange(body)
    _same(params, m12.ecdhe_params(group, public), "ServerECDHParams")
    _same(m12.encode_server_key_exchange(params, scheme, sig)[4:], body, "ServerKeyExchange")


def p_certificate_request12(body):
    types, schemes, names = m12.parse_certificate_request12(body)
    again = m12.encode_certificate_request12(schemes, names)[4:]
    _same(m12.parse_certificate_request12(again)[1:], (schemes, names), "CertificateRequest (1.2)")
    if types == [64, 1]:
        _same(again, body, "CertificateRequest (1.2)")


def p_client_key_exchange(body):
    _same(m12.encode_client_key_exchange(m12.parse_client_key_exchange(body))[4:], body, "CKE")


def p_new_session_ticket12(body):
    lifetime, ticket = m12.parse_new_session_ticket12(body)
    _same(m12.encode_new_session_ticket12(lifetime, ticket)[4:], body, "NewSessionTicket (1.2)")


def p_point_formats(body):
    handshake12.check_point_formats({11: body})


def p_secure_hello(body):
    # body: flags byte, then renegotiation_info body
    if not body:
        return
    extensions = {}
    if body[0] & 1:
        extensions[0xFF01] = body[1:]
    if body[0] & 2:
        extensions[23] = b"" if body[0] & 4 else b"\x00"
    config = _common.TLSConfig(require_extended_master_secret=bool(body[0] & 8))
    handshake12.check_secure_hello_extensions(extensions, config)


def p_ticket_state(body):
    state = tickets.TicketState.decode(body)       # None for anything malformed; no raise
    if state is not None:
        again = tickets.TicketState.decode(state.encode())
        _same(again.psk if again else None, state.psk, "TicketState")


def p_ticket_state12(body):
    state = tickets.TicketState12.decode(body)
    if state is not None:
        again = tickets.TicketState12.decode(state.encode())
        _same(again.master_secret if again else None, state.master_secret, "TicketState12")


_verify_configs = None


def p_verify_chain(body):
    """Peer certificate chains (TLS 1.2 Certificate body after a flags byte) through
    verification.verify_peer_chain, as a verifying client or server would."""
    global _verify_configs
    if not body:
        return
    if _verify_configs is None:
        trust = _common.pki().trust()
        _verify_configs = [
            _common.TLSConfig(verify_mode=2, trust_store=trust, check_hostname=True),
            _common.TLSConfig(verify_mode=2, trust_store=trust, check_hostname=True,
                              partial_chain=True, check_common_name=True),
            _common.TLSConfig(verify_mode=0),
        ]
    flags = body[0]
    try:
        chain = m12.parse_certificate12(body[1:])
    except TLSError:
        return
    if not chain:
        return
    config = _verify_configs[flags % 3]
    purpose = "client" if flags & 4 else "server"
    name = [None, "localhost", "127.0.0.1", "client.example", "*.example", "xn--x"][(flags >> 3) % 6]
    from cyssl.tls.verification import verify_peer_chain
    key, verified = verify_peer_chain(config, chain, name, purpose)
    feature("verify", flags % 3, purpose, len(verified))


def p_peercert(body):
    from cyssl.crypto.peercert import decode_certificate
    try:
        info = decode_certificate(body)
    except ValueError as err:
        feature("peercert", "ValueError", _common._NUMBERS.sub("#", str(err))[:60])
        return
    feature("peercert", tuple(sorted(info)))


# ---------------------------------------------------------------- codec.Reader model

class ModelError(Exception):
    pass


class ModelReader:
    def __init__(self, data, pos, end):
        self.data, self.pos, self.end = data, pos, end

    def need(self, n):
        if n < 0 or n > self.end - self.pos:
            raise ModelError()

    def take(self, n):
        self.need(n)
        self.pos += n
        return self.data[self.pos - n:self.pos]

    def uint(self, width):
        return int.from_bytes(self.take(width), "big")

    def sub(self, n):
        self.need(n)
        child = ModelReader(self.data, self.pos, self.pos + n)
        self.pos += n
        return child


def p_reader(body):
    """body: program length, program, data. Runs the same calls on codec.Reader and the
    model; values and failures must agree."""
    if not body:
        return
    k = body[0]
    program, data = body[1:1 + k], body[1 + k:]
    kind = k % 3
    buf = data if kind == 0 else (bytearray(data) if kind == 1 else memoryview(data))
    start = program[0] % (len(data) + 2) if program else 0
    end = (program[1] % (len(data) + 3)) - 1 if len(program) > 1 else -1
    model_end = len(data) if end < 0 else end
    model_ok = end <= len(data) and 0 <= start <= model_end
    try:
        reader = codec.Reader(buf, start=start, end=end)
    except ValueError:
        if model_ok:
            raise FuzzBug("Reader(start=%d, end=%d) refused a valid window of %d bytes"
                          % (start, end, len(data)))
        return
    if not model_ok:
        raise FuzzBug("Reader(start=%d, end=%d) accepted a bad window of %d bytes"
                      % (start, end, len(data)))
    stack = [(reader, ModelReader(bytes(data), start, model_end))]
    i = 2
    while i < len(program) and stack:
        op = program[i] % 20
        arg = program[i + 1] if i + 1 < len(program) else 0
        i += 2
        r, mr = stack[-1]
        if op == 19:
            stack.pop()
            continue
        try:
            value = _reader_call(r, op, arg, stack)
            model_error = None
        except TLSError as err:
            value, model_error = err, None
        try:
            expected = _model_call(mr, op, arg, stack)
        except ModelError:
            expected = ModelError
        if isinstance(value, TLSError):
            if expected is not ModelError:
                raise FuzzBug("Reader op %d(%d) failed (%s), the model gives %r" % (op, arg, value, expected))
            feature("reader", op, "fail")
            continue
        if expected is ModelError:
            raise FuzzBug("Reader op %d(%d) gave %r, the model fails" % (op, arg, _clip(value)))
        if value != expected:
            raise FuzzBug("Reader op %d(%d) gave %r, the model %r" % (op, arg, _clip(value), _clip(expected)))
        if r.remaining != mr.end - mr.pos or r.position != mr.pos:
            raise FuzzBug("Reader position/remaining disagree with the model after op %d" % op)
        feature("reader", op)
        del model_error


def _reader_call(r, op, arg, stack):
    if op == 0:
        return r.u8()
    if op == 1:
        return r.u16()
    if op == 2:
        return r.u24()
    if op == 3:
        return r.u32()
    if op == 4:
        return r.take(arg)
    if op == 5:
        return r.take(arg - 128)
    if op == 6:
        r.skip(arg)
        return None
    if op == 7:
        return r.vec8()
    if op == 8:
        return r.vec16()
    if op == 9:
        return r.vec24()
    if op in (10, 11, 12, 13):
        child = [lambda: r.sub(arg), r.sub8, r.sub16, r.sub24][op - 10]()
        stack.append((child, None))
        return child.remaining
    if op == 14:
        return r.rest()
    if op == 15:
        r.expect_end()
        return None
    if op == 16:
        return r.at_end()
    if op == 17:
        return r.remaining
    return r.position


def _model_call(mr, op, arg, stack):
    """The model's answer; for sub-readers, completes the pair pushed by _reader_call."""
    def push(child):
        pair = stack[-1]
        if pair[1] is None:
            stack[-1] = (pair[0], child)
        return child.end - child.pos
    try:
        if op == 0:
            return mr.uint(1)
        if op == 1:
            return mr.uint(2)
        if op == 2:
            return mr.uint(3)
        if op == 3:
            return mr.uint(4)
        if op == 4:
            return mr.take(arg)
        if op == 5:
            return mr.take(arg - 128)
        if op == 6:
            mr.take(arg)
            return None
        if op in (7, 8, 9):
            return mr.take(mr.uint(op - 6))
        if op == 10:
            return push(mr.sub(arg))
        if op in (11, 12, 13):
            return push(mr.sub(mr.uint(op - 10)))
        if op == 14:
            return mr.take(mr.end - mr.pos)
        if op == 15:
            if mr.pos != mr.end:
                raise ModelError()
            return None
        if op == 16:
            return mr.pos == mr.end
        if op == 17:
            return mr.end - mr.pos
        return mr.pos
    except ModelError:
        if stack and stack[-1][1] is None:
            stack.pop()          # the engine made a child the model could not: mismatch later
        raise


# ---------------------------------------------------------------- HandshakeBuffer model

def p_handshake_buffer(body):
    """body: max_message selector, then chunk lengths and data interleaved."""
    if not body:
        return
    limit = [65536, 0, 1, 16, 300, 16777215][body[0] % 6]
    hb = m.HandshakeBuffer(limit)
    stream = bytearray()
    done = 0
    i = 1
    got = []
    while i < len(body):
        n = body[i] % 40
        chunk = body[i + 1:i + 1 + n]
        i += 1 + n
        hb.add(chunk)
        stream += chunk
        while True:
            # the model
            expected = None
            failure = False
            if len(stream) - done >= 4:
                length = int.from_bytes(stream[done + 1:done + 4], "big")
                if length > limit:
                    failure = True
                elif len(stream) - done >= 4 + length:
                    raw = bytes(stream[done:done + 4 + length])
                    expected = (raw[0], raw[4:], raw)
            try:
                message = hb.next_message()
            except TLSError:
                if not failure:
                    raise FuzzBug("HandshakeBuffer refused a message the model accepts")
                feature("hsbuf", "limit", body[0] % 6)
                return
            if failure:
                raise FuzzBug("HandshakeBuffer accepted a message over max_message %d" % limit)
            if message is None:
                if expected is not None:
                    raise FuzzBug("HandshakeBuffer holds back a whole message")
                break
            if (message[0], bytes(message[1]), bytes(message[2])) != expected:
                raise FuzzBug("HandshakeBuffer gave %r, the model %r" % (_clip(message), _clip(expected)))
            done += 4 + len(expected[1])
            got.append(message[0])
        if hb.empty != (done == len(stream)):
            raise FuzzBug("HandshakeBuffer.empty is %s with %d bytes pending"
                          % (hb.empty, len(stream) - done))
    feature("hsbuf", len(got) > 0, min(len(got), 4))


# ---------------------------------------------------------------- dispatch

PARSERS = [
    ("ClientHello", p_client_hello, 1),
    ("ServerHello", p_server_hello, 2),
    ("EncryptedExtensions", p_encrypted_extensions, 8),
    ("Certificate", p_certificate, 11),
    ("CertificateRequest", p_certificate_request, 13),
    ("CertificateVerify", p_certificate_verify, 15),
    ("NewSessionTicket", p_new_session_ticket, 4),
    ("KeyUpdate", p_key_update, 24),
    ("OfferedPsks", p_offered_psks, None),
    ("extensions", p_extensions, None),
    ("u16_list", p_u16_list2, None),
    ("u16_list/1", p_u16_list1, None),
    ("u16_list/empty", p_u16_list_empty, None),
    ("server_name", p_server_name, None),
    ("alpn", p_alpn, None),
    ("key_shares", p_key_shares, None),
    ("server_key_share", p_server_key_share, None),
    ("u16", p_u16, None),
    ("opaque16", p_opaque16, None),
    ("psk_modes", p_psk_modes, None),
    ("certificate_authorities", p_certificate_authorities, None),
    ("record_size_limit", p_record_size_limit, None),
    ("Certificate12", p_certificate12, 11),
    ("ServerKeyExchange", p_server_key_exchange, 12),
    ("CertificateRequest12", p_certificate_request12, 13),
    ("ClientKeyExchange", p_client_key_exchange, 16),
    ("NewSessionTicket12", p_new_session_ticket12, 4),
    ("point_formats", p_point_formats, None),
    ("secure_hello", p_secure_hello, None),
    ("TicketState", p_ticket_state, None),
    ("TicketState12", p_ticket_state12, None),
    ("verify_chain", p_verify_chain, None),
    ("peercert", p_peercert, None),
    ("Reader", p_reader, None),
    ("HandshakeBuffer", p_handshake_buffer, None),
]
INDEX = {name: i for i, (name, _, _) in enumerate(PARSERS)}


def TestOneInput(data):
    if not data:
        return
    name, parse, _ = PARSERS[data[0] % len(PARSERS)]
    body = bytes(data[1:])
    try:
        parse(body)
        feature(name, "ok")
    except TLSError as err:
        _common.check_tls_error(err, name)
        _common.error_feature(name, err)
    except Exception as exc:   # noqa: BLE001
        if not _common.waived(exc):
            raise
        feature(name, "known", _common.exception_signature(exc))


def CustomMutator(data, max_size, seed):
    rng = random.Random(seed)
    if not data or rng.randrange(4) == 0:
        return _common.byte_mutate(data, max_size)
    _, _, msg_type = PARSERS[data[0] % len(PARSERS)]
    if msg_type is not None:
        body = _common.mutate_handshake_body(msg_type, bytes(data[1:]), max_size - 1, rng)
    else:
        body = _common.byte_mutate(bytes(data[1:]), max_size - 1)
    return bytes(data[:1]) + body


def CustomCrossover(data1, data2, max_size, seed):
    rng = random.Random(seed)
    if not data1 or not data2:
        return data1
    # Another input's body under this selector: a message tried by a neighbouring parser.
    if rng.randrange(2):
        return (data1[:1] + data2[1:])[:max_size]
    cut1, cut2 = rng.randint(1, len(data1)), rng.randint(1, len(data2))
    return (data1[:cut1] + data2[cut2:])[:max_size]


if __name__ == "__main__":
    _common.main(TestOneInput, mutator=CustomMutator, crossover=CustomCrossover, max_len=8192)
