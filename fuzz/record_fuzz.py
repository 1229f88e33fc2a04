"""Fuzz the record deframer: RecordLayer.receive / next_record, plaintext and with a
reader key for TLS 1.3 (all three suites) and TLS 1.2 (AES-GCM with its explicit nonce,
ChaCha20-Poly1305).

Input: mode byte, flags byte, then ops (see _common.encode_ops):
  0 RAW  bytes go on the wire as they are
  1 REC  data[0] = content type, data[1:] = content: a record, sealed with the reader's
         key (by a reference sealer, not the engine's) when the mode has one
  2 INNER  TLS 1.3: data is the whole TLSInnerPlaintext (type and padding included)
  3 BIG  data[0] type, data[1:3] length, data[3] fill byte: a large record
  4 HDR  data[0] type, data[1:3] record version, data[3:] content
  5 CORRUPT  flip bit data[0] of the last record on the wire
  6 SKIP  the sealer skips data[0] sequence numbers
  7 CCS  a plaintext change_cipher_spec record with content data
The wire is fed in chunks chosen by the flags (whole, byte by byte, fixed sizes, bytes
or bytearray, draining lazily) and every record the engine returns is compared with an
independent reference deframer: same records, same point of failure, same alert.
"""
import _common
from _common import FuzzBug, Sealer, TLSError, decode_ops, encode_ops, feature, record_header

RecordLayer = _common.record.RecordLayer
RecordProtection = _common.record.RecordProtection
BY_CODE = _common.BY_CODE

# mode -> suite code (None: plaintext)
MODES = [None, 0x1301, 0x1302, 0x1303, 0xC02B, 0xC030, 0xCCA8]
LIMITS = [16384, 16384, 1023, 63]
PROTOCOL_VERSION, UNEXPECTED_MESSAGE, BAD_RECORD_MAC, RECORD_OVERFLOW = 70, 10, 20, 22


def keys_for(suite):
    key = bytes(range(1, suite.aead.key_length + 1))
    iv = bytes(range(100, 100 + suite.fixed_iv_length))
    return key, iv


class RefError(Exception):
    def __init__(self, alert, why):
        super().__init__(why)
        self.alert = alert
        self.why = why


def reference_deframe(wire, suite, receive_limit):
    """Records as RFC 8446 5 / RFC 5246 6.2 (and cyssl's documented choices) say:
    returns (records, RefError or None)."""
    opener = None
    if suite is not None:
        key, iv = keys_for(suite)
        opener = Sealer(suite, key, iv)
    out = []
    i = 0
    while len(wire) - i >= 5:
        ctype, major, minor = wire[i], wire[i + 1], wire[i + 2]
        length = (wire[i + 3] << 8) | wire[i + 4]
        if major != 3:
            return out, RefError(PROTOCOL_VERSION, "version major %d" % major)
        if not 20 <= ctype <= 23:
            return out, RefError(UNEXPECTED_MESSAGE, "record type %d" % ctype)
        protected = opener is not None and not (opener.tls13 and ctype == 20)
        if protected and not opener.tls13 and minor != 3:
            return out, RefError(PROTOCOL_VERSION, "TLS 1.2 record version 3.%d" % minor)
        limit = 16384 if not protected else (16384 + 256 if opener.tls13 else 16384 + 2048)
        if length > limit:
            return out, RefError(RECORD_OVERFLOW, "length %d > %d" % (length, limit))
        if len(wire) - i < 5 + length:
            break
        header = wire[i:i + 5]
        body = wire[i + 5:i + 5 + length]
        i += 5 + length
        if protected:
            if opener.tls13 and ctype != 23:
                return out, RefError(UNEXPECTED_MESSAGE, "unprotected record after keys")
            explicit = 0 if (opener.tls13 or opener.chacha) else 8
            if len(body) - explicit < 16 + (1 if opener.tls13 else 0):
                return out, RefError(BAD_RECORD_MAC, "too short for a tag")
            seq = opener.sequence
            try:
                if opener.tls13:
                    plain = opener.aead.decrypt(opener._nonce(seq), body, header)
                else:
                    nonce = (opener.iv + body[:8]) if explicit else opener._nonce(seq)
                    n = len(body) - explicit - 16
                    aad = seq.to_bytes(8, "big") + record_header(ctype, n)
                    plain = opener.aead.decrypt(nonce, body[explicit:], aad)
            except Exception:   # InvalidTag
                return out, RefError(BAD_RECORD_MAC, "authentication")
            opener.sequence += 1
            if opener.tls13:
                if len(plain) > receive_limit + 1 and not _common.known("padding-limit"):
                    # RFC 8446 5.4: the whole TLSInnerPlaintext, padding included, is
                    # limited to 2^14 + 1 (RFC 8449: record_size_limit, likewise).
                    return out, RefError(RECORD_OVERFLOW, "inner plaintext %d" % len(plain))
                stripped = plain.rstrip(b"\x00")
                if not stripped:
                    return out, RefError(UNEXPECTED_MESSAGE, "no content type")
                ctype = stripped[-1]
                plain = stripped[:-1]
                if ctype not in (21, 22, 23) and not (_common.known("inner-type") and ctype != 20):
                    # RFC 8446 5: an unexpected record type is unexpected_message;
                    # change_cipher_spec is never protected.
                    return out, RefError(UNEXPECTED_MESSAGE, "inner content type %d" % ctype)
        else:
            plain = body
        if len(plain) > receive_limit:
            return out, RefError(RECORD_OVERFLOW, "plaintext %d > %d" % (len(plain), receive_limit))
        if not plain and ctype in (21, 22):
            return out, RefError(UNEXPECTED_MESSAGE, "zero-length %d" % ctype)
        out.append((ctype, bytes(plain)))
    return out, None


def build_wire(ops, suite):
    sealer = None
    if suite is not None:
        key, iv = keys_for(suite)
        sealer = Sealer(suite, key, iv)
    wire = bytearray()
    last = None

    def record(ctype, content, version=0x0303):
        if sealer is None:
            return record_header(ctype, len(content), version) + content
        return sealer.seal(ctype, content, version=version)

    for op, data in ops:
        kind = op % 8
        start = len(wire)
        if kind == 0:
            wire += data
        elif kind == 1 and data:
            wire += record(data[0], data[1:])
        elif kind == 2:
            if sealer is not None and sealer.tls13:
                wire += sealer.seal_inner(data)
            elif data:
                wire += record(data[0], data[1:])
        elif kind == 3 and len(data) >= 4:
            length = min((data[1] << 8) | data[2], 20000)
            wire += record(data[0], bytes([data[3]]) * length)
        elif kind == 4 and len(data) >= 3:
            wire += record(data[0], data[3:], (data[1] << 8) | data[2])
        elif kind == 5 and last is not None and data:
            s, e = last
            if e > s:
                pos = s + (data[0] * 7919) % (e - s)
                wire[pos] ^= 1 << (data[0] % 8)
            continue
        elif kind == 6 and sealer is not None and data:
            sealer.sequence += data[0]
            continue
        elif kind == 7:
            wire += record_header(20, len(data)) + data
        if len(wire) > start:
            last = (start, len(wire))
    return bytes(wire)


def chunks(wire, pattern):
    if pattern == 0 or not wire:
        return [wire]
    if pattern == 1:
        return [wire[i:i + 1] for i in range(len(wire))] if len(wire) <= 4096 else [wire]
    if pattern in (2, 3):
        size = 5 if pattern == 2 else 7
        return [wire[i:i + size] for i in range(0, len(wire), size)]
    if pattern == 4:
        out, i, x = [], 0, len(wire) | 1
        while i < len(wire):
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF
            step = 1 + x % 300
            out.append(wire[i:i + step])
            i += step
        return out
    if pattern == 5:
        half = len(wire) // 2
        return [wire[:half], wire[half:]]
    if pattern == 6:
        return [wire[:3], wire[3:]]
    return [wire[:-1], wire[-1:]]


def run_engine(wire, suite, receive_limit, pattern, as_bytearray, lazy):
    layer = RecordLayer()
    layer.receive_limit = receive_limit
    if suite is not None:
        key, iv = keys_for(suite)
        layer.set_reader(RecordProtection(suite, key, iv))
    got = []
    pieces = chunks(wire, pattern)
    try:
        for n, piece in enumerate(pieces):
            layer.receive(bytearray(piece) if as_bytearray and n % 2 == 0 else bytes(piece))
            while True:
                rec = layer.next_record()
                if rec is None:
                    break
                got.append((rec[0], bytes(rec[1])))
                if lazy:
                    break
        while True:
            rec = layer.next_record()
            if rec is None:
                break
            got.append((rec[0], bytes(rec[1])))
    except TLSError as err:
        _common.check_tls_error(err, "record")
        return got, err, layer
    return got, None, layer


def _short(records):
    return "[%s]" % ", ".join("(%d, %d bytes %s)" % (t, len(p), p[:16].hex()) for t, p in records[:6])


def TestOneInput(data):
    if len(data) < 2:
        return
    suite_code = MODES[data[0] % len(MODES)]
    suite = BY_CODE[suite_code] if suite_code else None
    flags = data[1]
    pattern, as_bytearray, lazy = flags & 7, bool(flags & 8), bool(flags & 16)
    receive_limit = LIMITS[(flags >> 5) & 3]
    ops = decode_ops(data[2:])
    wire = build_wire(ops, suite)
    expected, ref_error = reference_deframe(wire, suite, receive_limit)
    got, err, layer = run_engine(wire, suite, receive_limit, pattern, as_bytearray, lazy)

    mode = suite.name if suite else "plaintext"
    for ctype, payload in got:
        feature("record", mode, ctype if 20 <= ctype <= 23 else "other",
                min(len(payload), 17000) // 2048)
    if err is not None:
        _common.error_feature("record/" + mode, err)
    if ref_error is not None:
        feature("record", mode, "ref", ref_error.alert, ref_error.why.split(" ")[0])

    if got != expected[:len(got)]:
        raise FuzzBug("record layer returned %s, the reference %s" % (_short(got), _short(expected)))
    for ctype, payload in got:
        if ctype not in (20, 21, 22, 23) and not _common.known("inner-type"):
            raise FuzzBug("record layer returned content type %d" % ctype)
        if len(payload) > receive_limit:
            raise FuzzBug("record layer returned %d bytes over receive_limit %d"
                          % (len(payload), receive_limit))
    if err is None and ref_error is not None:
        raise FuzzBug("the reference refuses the stream (%s, alert %d) after %d records, "
                      "the record layer accepted it" % (ref_error.why, ref_error.alert, len(got)))
    if err is not None:
        if ref_error is None or len(got) != len(expected):
            raise FuzzBug("record layer failed (%s) after %d records where the reference "
                          "accepts %d" % (err, len(got), len(expected)))
        if err.alert != ref_error.alert:
            raise FuzzBug("record layer alert %s (%s), reference alert %d (%s)"
                          % (err.alert_name, err.reason, ref_error.alert, ref_error.why))
    elif len(got) != len(expected):
        raise FuzzBug("record layer returned %d records, the reference %d" % (len(got), len(expected)))
    else:
        # Whatever is left is an incomplete record, and the layer must say so.
        consumed = sum(5 + len(p) for _, p in got) if suite is None else None
        if consumed is not None and layer.incoming_size != len(wire) - consumed:
            raise FuzzBug("incoming_size %d, expected %d" % (layer.incoming_size, len(wire) - consumed))


# ---------------------------------------------------------------- mutation

def CustomMutator(data, max_size, seed):
    import random
    rng = random.Random(seed)
    if len(data) < 2 or rng.randrange(5) == 0:
        return _common.byte_mutate(data, max_size)
    head = bytearray(data[:2])
    ops = decode_ops(data[2:])
    choice = rng.randrange(8)
    if choice == 0:
        head[rng.randrange(2)] = rng.randrange(256)
    elif choice == 1 and ops:
        i = rng.randrange(len(ops))
        op, d = ops[i]
        ops[i] = (op, _common.byte_mutate(d, max(64, 2 * len(d))))
    elif choice == 2:
        ops.insert(rng.randrange(len(ops) + 1), _random_op(rng))
    elif choice == 3 and ops:
        del ops[rng.randrange(len(ops))]
    elif choice == 4 and ops:
        ops.insert(rng.randrange(len(ops) + 1), ops[rng.randrange(len(ops))])
    elif choice == 5 and len(ops) > 1:
        i, j = rng.randrange(len(ops)), rng.randrange(len(ops))
        ops[i], ops[j] = ops[j], ops[i]
    elif choice == 6 and ops:
        i = rng.randrange(len(ops))
        ops[i] = (rng.randrange(8), ops[i][1])
    else:
        ops.append(_random_op(rng))
    return (bytes(head) + encode_ops(ops))[:max_size]


def _random_op(rng):
    kind = rng.randrange(8)
    ctype = rng.choice([20, 21, 22, 23, 23, 22, 0, 24, 255, 19])
    if kind == 0:
        return 0, bytes(rng.randrange(256) for _ in range(rng.randint(0, 12)))
    if kind == 2:
        inner = bytes(rng.randrange(256) for _ in range(rng.randint(0, 6)))
        tail = bytes([rng.choice([21, 22, 23, 20, 0, 1, 99])]) + bytes(rng.choice([0, 0, 1, 5, 300]))
        return 2, inner + tail
    if kind == 3:
        length = rng.choice([0, 1, 63, 64, 1023, 1024, 16383, 16384, 16385, 16640, 16641, 18432, 18433])
        return 3, bytes([ctype]) + length.to_bytes(2, "big") + bytes([rng.choice([0, 1, 0x41])])
    if kind == 4:
        return 4, bytes([ctype]) + rng.choice([b"\x03\x01", b"\x03\x03", b"\x03\x04", b"\x02\x00",
                                                b"\x03\x00", b"\xfe\xfd"]) + b"hello"
    if kind == 5:
        return 5, bytes([rng.randrange(256)])
    if kind == 6:
        return 6, bytes([rng.choice([1, 2, 255])])
    if kind == 7:
        return 7, rng.choice([b"\x01", b"", b"\x02", b"\x01\x01"])
    content = rng.choice([b"", b"\x01", b"\x02\x28", b"\x01\x00", b"\x16\x00\x00\x00", b"x" * 40])
    return 1, bytes([ctype]) + content


def CustomCrossover(data1, data2, max_size, seed):
    import random
    rng = random.Random(seed)
    ops1 = decode_ops(data1[2:])
    ops2 = decode_ops(data2[2:])
    cut1 = rng.randint(0, len(ops1))
    cut2 = rng.randint(0, len(ops2))
    return (data1[:2] + encode_ops(ops1[:cut1] + ops2[cut2:]))[:max_size]


def seeds():
    """(name, bytes) seed inputs for make_seeds.py."""
    out = []
    for mode in range(len(MODES)):
        for flags in (0, 1, 0x0A, 0x14, 0x24, 0x63):
            ops = [(1, b"\x16" + bytes.fromhex("0100000403030000")),
                   (1, b"\x17hello"),
                   (1, b"\x15\x01\x00")]
            if mode in (1, 2, 3):
                ops += [(2, b"data\x17\x00\x00\x00"), (7, b"\x01"), (2, b"\x17" + b"\x00" * 20)]
            ops += [(3, b"\x17" + (16384).to_bytes(2, "big") + b"A"), (0, b"\x17\x03\x03\x00")]
            out.append(("mode%d-flags%02x" % (mode, flags), bytes([mode, flags]) + encode_ops(ops)))
        out.append(("mode%d-big" % mode, bytes([mode, 0]) + encode_ops(
            [(3, b"\x17" + (16385).to_bytes(2, "big") + b"B")])))
        out.append(("mode%d-corrupt" % mode, bytes([mode, 4]) + encode_ops(
            [(1, b"\x17abc"), (5, b"\x09"), (1, b"\x17def")])))
    return out


if __name__ == "__main__":
    _common.main(TestOneInput, mutator=CustomMutator, crossover=CustomCrossover, max_len=24000)
