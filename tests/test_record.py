"""Record layer: framing, deframing and AEAD protection for TLS 1.3 and TLS 1.2."""
import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cyssl.tls.errors import TLSError
from cyssl.tls.record import RecordLayer, RecordProtection
from cyssl.tls.suites import ALL_SUITES, TLS12_SUITES, TLS13_SUITES

CCS, ALERT, HANDSHAKE, APPDATA = 20, 21, 22, 23
SIZES = [0, 1, 2, 255, 256, 1000, 16383, 16384]
suite_ids = [s.name for s in ALL_SUITES]


def new_keys(suite):
    return os.urandom(suite.aead.key_length), os.urandom(suite.fixed_iv_length)


def pair(suite):
    key, iv = new_keys(suite)
    return RecordProtection(suite, key, iv), RecordProtection(suite, key, iv)


def writer_layer(suite, key, iv):
    layer = RecordLayer()
    layer.set_writer(RecordProtection(suite, key, iv))
    return layer


def reader_layer(suite, key, iv):
    layer = RecordLayer()
    layer.set_reader(RecordProtection(suite, key, iv))
    return layer


def drain(reader):
    records = []
    while (record := reader.next_record()) is not None:
        records.append((record[0], bytes(record[1])))
    return records


def expect_alert(name, fn):
    with pytest.raises(TLSError) as info:
        fn()
    assert info.value.alert_name == name, info.value
    return info.value


def sample_stream(suite, key, iv):
    writer = writer_layer(suite, key, iv)
    writer.write(HANDSHAKE, b"h" * 40)
    writer.write(APPDATA, b"")
    writer.write(APPDATA, bytes(range(100)))
    writer.write(ALERT, b"\x01\x00")
    return writer.take_outgoing()


EXPECTED_SAMPLE = [(HANDSHAKE, b"h" * 40), (APPDATA, b""), (APPDATA, bytes(range(100))),
                   (ALERT, b"\x01\x00")]


@pytest.mark.parametrize("suite", ALL_SUITES, ids=suite_ids)
@pytest.mark.parametrize("size", SIZES)
def test_round_trip_every_suite_and_size(suite, size):
    sealer, opener = pair(suite)
    for content_type in (HANDSHAKE, APPDATA):
        data = os.urandom(max(size, 1) if content_type == HANDSHAKE else size)
        record = sealer.seal_record(content_type, data)
        expansion = 5 + 16 + (1 if suite.tls13 else suite.explicit_nonce_length)
        assert len(record) == len(data) + expansion
        assert record[0] == (APPDATA if suite.tls13 else content_type)
        assert record[1:3] == b"\x03\x03"
        assert int.from_bytes(record[3:5], "big") == len(record) - 5
        assert opener.open_record(record) == (content_type, data)
    assert sealer.sequence == opener.sequence == 2


@pytest.mark.parametrize("suite", ALL_SUITES, ids=suite_ids)
def test_stream_cut_at_every_byte_position_deframes_identically(suite):
    key, iv = new_keys(suite)
    stream = sample_stream(suite, key, iv)
    for cut in range(len(stream) + 1):
        reader = reader_layer(suite, key, iv)
        got = []
        for chunk in (stream[:cut], stream[cut:]):
            reader.receive(chunk)
            got += drain(reader)
        assert got == EXPECTED_SAMPLE, cut
        assert reader.incoming_size == 0


@pytest.mark.parametrize("suite", [TLS13_SUITES[0], TLS12_SUITES[0]], ids=lambda s: s.name)
def test_stream_fed_one_byte_at_a_time(suite):
    key, iv = new_keys(suite)
    stream = sample_stream(suite, key, iv)
    reader = reader_layer(suite, key, iv)
    got = []
    for i in range(len(stream)):
        reader.receive(stream[i:i + 1])
        got += drain(reader)
    assert got == EXPECTED_SAMPLE


def test_plaintext_records_before_keys():
    writer, reader = RecordLayer(), RecordLayer()
    writer.plaintext_version = 0x0301          # an initial ClientHello may say TLS 1.0
    writer.write(HANDSHAKE, b"\x01\x00\x00\x00")
    stream = writer.take_outgoing()
    assert stream == bytes.fromhex("16 0301 0004 01000000")
    reader.receive(stream)
    assert drain(reader) == [(HANDSHAKE, b"\x01\x00\x00\x00")]


@pytest.mark.parametrize("suite", [TLS13_SUITES[0], TLS12_SUITES[2]], ids=lambda s: s.name)
def test_fragmentation_respects_max_fragment(suite):
    key, iv = new_keys(suite)
    writer, reader = writer_layer(suite, key, iv), reader_layer(suite, key, iv)
    data = os.urandom(40000)
    writer.write(APPDATA, data)                # default: 2^14 per record
    reader.receive(writer.take_outgoing())
    records = drain(reader)
    assert [len(p) for _, p in records] == [16384, 16384, 40000 - 32768]
    writer.max_fragment = 1000                 # e.g. a peer's record_size_limit
    writer.write(APPDATA, data)
    reader.receive(writer.take_outgoing())
    records = drain(reader)
    assert all(len(p) <= 1000 for _, p in records) and len(records) == 40
    assert b"".join(p for _, p in records) == data
    writer.max_fragment = 0
    with pytest.raises(ValueError):
        writer.write(APPDATA, b"x")


@pytest.mark.parametrize("suite", TLS13_SUITES, ids=lambda s: s.name)
def test_tls13_padding_is_stripped(suite):
    key, iv = new_keys(suite)
    aead = suite.aead.new(key)
    inner = b"hello" + bytes([HANDSHAKE]) + bytes(300)
    length = len(inner) + 16
    header = bytes([APPDATA, 3, 3, length >> 8, length & 0xFF])
    record = header + aead.encrypt(iv, inner, header)     # sequence 0: nonce == IV
    assert RecordProtection(suite, key, iv).open_record(record) == (HANDSHAKE, b"hello")


@pytest.mark.parametrize("suite", TLS13_SUITES, ids=lambda s: s.name)
def test_tls13_all_zero_inner_plaintext_is_unexpected_message(suite):
    key, iv = new_keys(suite)
    inner = bytes(20)
    header = bytes([APPDATA, 3, 3, 0, len(inner) + 16])
    record = header + suite.aead.new(key).encrypt(iv, inner, header)
    expect_alert("unexpected_message", lambda: RecordProtection(suite, key, iv).open_record(record))


@pytest.mark.parametrize("suite", TLS12_SUITES, ids=lambda s: s.name)
def test_tls12_nonce_and_additional_data_follow_rfc5246(suite):
    """An independent computation of the TLS 1.2 AEAD record (RFC 5288, RFC 7905)."""
    key, iv = new_keys(suite)
    sealer = RecordProtection(suite, key, iv, sequence=0x01020304)
    record = sealer.seal_record(HANDSHAKE, b"payload")
    seq = (0x01020304).to_bytes(8, "big")
    if suite.explicit_nonce_length:
        nonce = iv + seq
        assert record[5:13] == seq             # the explicit nonce is the sequence number
        ciphertext = record[13:]
    else:
        nonce = bytes(a ^ b for a, b in zip(iv, bytes(4) + seq))
        ciphertext = record[5:]
    aad = seq + bytes([HANDSHAKE, 3, 3, 0, 7])
    assert suite.aead.new(key).decrypt(nonce, ciphertext, aad) == b"payload"


@pytest.mark.parametrize("suite", ALL_SUITES, ids=suite_ids)
def test_every_flipped_ciphertext_or_tag_byte_is_bad_record_mac(suite):
    sealer, _ = pair(suite)
    key, iv = new_keys(suite)
    sealer = RecordProtection(suite, key, iv)
    record = sealer.seal_record(APPDATA, b"sixteen byte msg")
    for position in range(5, len(record)):
        tampered = bytearray(record)
        tampered[position] ^= 0x01
        expect_alert("bad_record_mac",
                     lambda: RecordProtection(suite, key, iv).open_record(bytes(tampered)))


@pytest.mark.parametrize("suite", ALL_SUITES, ids=suite_ids)
def test_flipped_header_bytes_never_yield_data(suite):
    key, iv = new_keys(suite)
    record = RecordProtection(suite, key, iv).seal_record(APPDATA, b"x" * 100)
    for position in range(5):
        for bit in range(8):
            tampered = bytearray(record)
            tampered[position] ^= 1 << bit
            reader = reader_layer(suite, key, iv)
            reader.receive(bytes(tampered))
            try:
                result = reader.next_record()
            except TLSError as err:
                assert err.alert_name in ("bad_record_mac", "record_overflow", "protocol_version",
                                          "unexpected_message"), (position, bit, err)
            else:
                assert result is None, (position, bit)      # length grew: waits for more


@pytest.mark.parametrize("suite", [TLS13_SUITES[0], TLS12_SUITES[0]], ids=lambda s: s.name)
def test_header_version_minor_is_authenticated_or_checked(suite):
    key, iv = new_keys(suite)
    record = bytearray(RecordProtection(suite, key, iv).seal_record(APPDATA, b"data"))
    record[2] = 0x01
    reader = reader_layer(suite, key, iv)
    reader.receive(bytes(record))
    expect_alert("bad_record_mac" if suite.tls13 else "protocol_version", reader.next_record)


@pytest.mark.parametrize("suite", [TLS13_SUITES[2], TLS12_SUITES[0]], ids=lambda s: s.name)
def test_reordered_or_replayed_records_fail(suite):
    key, iv = new_keys(suite)
    sealer = RecordProtection(suite, key, iv)
    first, second = sealer.seal_record(APPDATA, b"1"), sealer.seal_record(APPDATA, b"2")
    expect_alert("bad_record_mac", lambda: RecordProtection(suite, key, iv).open_record(second))
    opener = RecordProtection(suite, key, iv)
    opener.open_record(first)
    expect_alert("bad_record_mac", lambda: opener.open_record(first))


@pytest.mark.parametrize("suite", ALL_SUITES, ids=suite_ids)
def test_too_short_protected_record_is_bad_record_mac(suite):
    key, iv = new_keys(suite)
    for body in range(0, 16 + suite.explicit_nonce_length + 1):
        reader = reader_layer(suite, key, iv)
        reader.receive(bytes([APPDATA, 3, 3, 0, body]) + bytes(body))
        expect_alert("bad_record_mac", reader.next_record)


@pytest.mark.parametrize("protection,limit", [(None, 16384), (TLS13_SUITES[0], 16384 + 256),
                                              (TLS12_SUITES[0], 16384 + 2048)],
                         ids=["plaintext", "tls13", "tls12"])
def test_oversize_record_header_is_record_overflow_before_the_body_arrives(protection, limit):
    reader = RecordLayer()
    if protection is not None:
        reader.set_reader(RecordProtection(protection, *new_keys(protection)))
    ok = bytes([APPDATA, 3, 3]) + limit.to_bytes(2, "big")
    reader.receive(ok)
    assert reader.next_record() is None            # legal length: waits for the body
    reader = RecordLayer()
    if protection is not None:
        reader.set_reader(RecordProtection(protection, *new_keys(protection)))
    reader.receive(bytes([APPDATA, 3, 3]) + (limit + 1).to_bytes(2, "big"))
    expect_alert("record_overflow", reader.next_record)


@pytest.mark.parametrize("suite", [TLS13_SUITES[0], TLS12_SUITES[2]], ids=lambda s: s.name)
def test_decrypted_plaintext_over_limit_is_record_overflow(suite):
    key, iv = new_keys(suite)
    aead = suite.aead.new(key)
    content = bytes(16385)
    if suite.tls13:
        inner = content + bytes([APPDATA])
        header = bytes([APPDATA, 3, 3]) + (len(inner) + 16).to_bytes(2, "big")
        record = header + aead.encrypt(iv, inner, header)
    else:
        nonce = iv
        aad = bytes(8) + bytes([APPDATA, 3, 3]) + len(content).to_bytes(2, "big")
        body = aead.encrypt(nonce, content, aad)
        record = bytes([APPDATA, 3, 3]) + len(body).to_bytes(2, "big") + body
    reader = reader_layer(suite, key, iv)
    reader.receive(record)
    expect_alert("record_overflow", reader.next_record)


def test_receive_limit_lowers_accepted_plaintext():
    suite = TLS13_SUITES[0]
    key, iv = new_keys(suite)
    writer, reader = writer_layer(suite, key, iv), reader_layer(suite, key, iv)
    reader.receive_limit = 511            # as after advertising record_size_limit 512
    writer.write(APPDATA, bytes(511))
    reader.receive(writer.take_outgoing())
    assert len(drain(reader)[0][1]) == 511
    writer.write(APPDATA, bytes(512))
    reader.receive(writer.take_outgoing())
    expect_alert("record_overflow", reader.next_record)


def test_malformed_headers_fail_at_once():
    for junk, reason in ((b"HELLO WORLD\r\n", "WRONG_VERSION_NUMBER"),
                         (b"GET / HTTP/1.1\r\n", "HTTP_REQUEST"),       # OpenSSL's names
                         (b"HEAD / HTTP/1.1\r\n", "HTTP_REQUEST"),
                         (b"CONNECT host:443 HTTP/1.1\r\n", "HTTPS_PROXY_REQUEST")):
        reader = RecordLayer()
        reader.receive(junk)
        err = expect_alert("protocol_version", reader.next_record)
        assert err.reason == reason
    for content_type in (0, 19, 24, 255):
        reader = RecordLayer()
        reader.receive(bytes([content_type, 3, 3, 0, 1, 0]))
        expect_alert("unexpected_message", reader.next_record)


def test_partial_header_waits():
    reader = RecordLayer()
    for i in range(5):
        reader.receive(bytes([HANDSHAKE, 3, 3, 0, 1])[i:i + 1])
        assert reader.next_record() is None
    reader.receive(b"\x01")
    assert drain(reader) == [(HANDSHAKE, b"\x01")]


def test_zero_length_handshake_or_alert_record_is_refused():
    for content_type in (HANDSHAKE, ALERT):
        reader = RecordLayer()
        reader.receive(bytes([content_type, 3, 3, 0, 0]))
        expect_alert("unexpected_message", reader.next_record)
    reader = RecordLayer()
    reader.receive(bytes([APPDATA, 3, 3, 0, 0]))
    assert drain(reader) == [(APPDATA, b"")]


def test_tls13_unprotected_records_after_keys():
    suite = TLS13_SUITES[0]
    reader = reader_layer(suite, *new_keys(suite))
    reader.receive(bytes([CCS, 3, 3, 0, 1, 1]))           # middlebox-compatibility CCS
    assert drain(reader) == [(CCS, b"\x01")]
    reader.receive(bytes([HANDSHAKE, 3, 3, 0, 1, 1]))
    expect_alert("unexpected_message", reader.next_record)


def test_sequence_number_wrap_is_refused():
    suite = TLS13_SUITES[2]                                # ChaCha20: no usage limit first
    key, iv = new_keys(suite)
    sealer = RecordProtection(suite, key, iv, sequence=2**64 - 2)
    opener = RecordProtection(suite, key, iv, sequence=2**64 - 2)
    assert opener.open_record(sealer.seal_record(APPDATA, b"last")) == (APPDATA, b"last")
    assert sealer.sequence == 2**64 - 1
    expect_alert("internal_error", lambda: sealer.seal_record(APPDATA, b"wraps"))


def test_key_usage_limit_stops_sealing_and_keeps_the_stream_intact():
    suite = TLS13_SUITES[0]
    key, iv = new_keys(suite)
    protection = RecordProtection(suite, key, iv, sequence=suite.aead.confidentiality_limit - 1)
    assert not protection.exhausted
    layer = RecordLayer()
    layer.set_writer(protection)
    layer.write(APPDATA, b"one more")
    assert protection.exhausted
    before = layer.outgoing_size
    err = expect_alert("internal_error", lambda: layer.write(APPDATA, b"x" * 40000))
    assert err.reason == "KEY_USAGE_LIMIT_REACHED"
    assert layer.outgoing_size == before                  # nothing half-written


def test_aes_gcm_limit_is_rfc8446_figure():
    assert TLS13_SUITES[0].aead.confidentiality_limit == int(2 ** 24.5)


def test_rejects_wrong_key_and_iv_lengths():
    suite = TLS13_SUITES[0]
    with pytest.raises(ValueError):
        RecordProtection(suite, bytes(15), bytes(12))
    with pytest.raises(ValueError):
        RecordProtection(suite, bytes(16), bytes(4))
    with pytest.raises(ValueError):
        RecordProtection(TLS12_SUITES[0], bytes(16), bytes(12))


@pytest.mark.parametrize("vectors", ["rfc8448_simple", "rfc8448_hrr"])
def test_rfc8448_records(vectors, request):
    """Every protected record printed in RFC 8448 sections 3 and 5, both ways."""
    data = request.getfixturevalue(vectors)
    suite = TLS13_SUITES[0]
    assert data["cipher_suite"] == suite.name
    assert data["record_examples"]
    for example in data["record_examples"]:
        key, iv = bytes.fromhex(example["key"]), bytes.fromhex(example["iv"])
        inner = bytes.fromhex(example["inner_plaintext"])
        expected = bytes.fromhex(example["protected_record"])
        content, content_type = inner[:-1], inner[-1]
        sealer = RecordProtection(suite, key, iv, sequence=example["seq"])
        assert sealer.seal_record(content_type, content) == expected, example["description"]
        opener = RecordProtection(suite, key, iv, sequence=example["seq"])
        assert opener.open_record(expected) == (content_type, content)


def test_bare_aead_agrees_with_rfc8448_first_server_record(rfc8448_simple):
    """Sanity of the vectors themselves, independent of cyssl."""
    example = rfc8448_simple["record_examples"][0]
    record = bytes.fromhex(example["protected_record"])
    nonce = bytes.fromhex(example["iv"])                   # sequence 0
    inner = AESGCM(bytes.fromhex(example["key"])).decrypt(nonce, record[5:], record[:5])
    assert inner == bytes.fromhex(example["inner_plaintext"])


@pytest.mark.parametrize("suite", TLS13_SUITES, ids=lambda s: s.name)
def test_tls13_unknown_inner_content_type_is_unexpected_message(suite):
    key, iv = new_keys(suite)
    inner = b"data" + bytes([0x30])                        # not a TLS content type
    header = bytes([APPDATA, 3, 3, 0, len(inner) + 16])
    record = header + suite.aead.new(key).encrypt(iv, inner, header)
    expect_alert("unexpected_message", lambda: RecordProtection(suite, key, iv).open_record(record))


@pytest.mark.parametrize("suite", TLS13_SUITES, ids=lambda s: s.name)
def test_tls13_inner_plaintext_over_2_14_plus_1_is_record_overflow(suite):
    """RFC 8446 5.4: content, type and padding together are at most 2^14 + 1 bytes, even
    when the content alone would fit."""
    key, iv = new_keys(suite)
    inner = b"x" + bytes([APPDATA]) + bytes(16384)          # 16386 bytes, content is 1
    length = len(inner) + 16
    header = bytes([APPDATA, 3, 3, length >> 8, length & 0xFF])
    record = header + suite.aead.new(key).encrypt(iv, inner, header)
    expect_alert("record_overflow", lambda: RecordProtection(suite, key, iv).open_record(record))


@pytest.mark.parametrize("suite", [TLS13_SUITES[0], TLS12_SUITES[0], None],
                         ids=["tls13", "tls12", "plaintext"])
def test_large_writes_and_small_ones_interleave_in_order(suite):
    """A large write into an empty stream is sealed into its own bytes object (handed over
    whole); writes after it, large or small, follow it in order; sizes always agree."""
    key, iv = new_keys(suite) if suite else (None, None)
    writer = writer_layer(suite, key, iv) if suite else RecordLayer()
    reader = reader_layer(suite, key, iv) if suite else RecordLayer()
    big, small = os.urandom(40000), b"s" * 10
    writer.write(APPDATA, big)
    first = writer.outgoing_size
    out = writer.take_outgoing()
    assert len(out) == first and writer.outgoing_size == 0
    writer.write(APPDATA, big)
    writer.write(APPDATA, small)
    writer.write(APPDATA, big[:2000])
    out += writer.take_outgoing()
    assert writer.outgoing_size == 0 and writer.take_outgoing() == b""
    reader.receive(out)
    chunks = [data for _, data in drain(reader)]
    assert b"".join(chunks) == big + big + small + big[:2000]
    assert max(map(len, chunks)) == 16384


@pytest.mark.parametrize("suite", [TLS13_SUITES[0], TLS12_SUITES[0]], ids=lambda s: s.name)
def test_protected_handshake_messages_share_records_in_order(suite):
    """write_handshake packs messages under one key into one record; any other write, a
    key change or take_outgoing frames them first, so order and keys stay right."""
    key, iv = new_keys(suite)
    key2, iv2 = new_keys(suite)
    writer = writer_layer(suite, key, iv)
    for message in (b"a" * 10, b"b" * 20, b"c" * 16384):
        writer.write_handshake(message)
    writer.write(APPDATA, b"data")
    writer.write_handshake(b"d" * 5)
    writer.set_writer(RecordProtection(suite, key2, iv2))     # "d" goes under the old key
    writer.write_handshake(b"e" * 7)
    assert writer.outgoing_size > 0
    stream = writer.take_outgoing()
    reader = reader_layer(suite, key, iv)
    reader.receive(stream)
    got = []
    for _ in range(4):
        ctype, payload = reader.next_record()     # the view is valid until the next call
        got.append((ctype, bytes(payload)))
    assert got == [(HANDSHAKE, b"a" * 10 + b"b" * 20 + b"c" * 16354),
                   (HANDSHAKE, b"c" * 30), (APPDATA, b"data"), (HANDSHAKE, b"d" * 5)]
    reader.set_reader(RecordProtection(suite, key2, iv2))
    assert [(c, bytes(p)) for c, p in [reader.next_record()]] == [(HANDSHAKE, b"e" * 7)]
    assert reader.next_record() is None


def test_plaintext_handshake_messages_keep_a_record_each():
    layer = RecordLayer()
    layer.write_handshake(b"hello")
    layer.write_handshake(b"again")
    reader = RecordLayer()
    reader.receive(layer.take_outgoing())
    assert drain(reader) == [(HANDSHAKE, b"hello"), (HANDSHAKE, b"again")]


@pytest.mark.parametrize("suite", [TLS13_SUITES[0], TLS12_SUITES[0]], ids=lambda s: s.name)
def test_a_sealed_record_is_reused_only_once_nobody_else_holds_it(suite):
    """A full record handed out is sealed into again for the next one only when its
    consumers have let it go: one still held (itself, or through a view) never changes,
    and a reused one hashes by its new contents."""
    key, iv = new_keys(suite)
    writer, reader = writer_layer(suite, key, iv), reader_layer(suite, key, iv)
    payloads = [os.urandom(16384) for _ in range(5)]

    def send(i):
        writer.write(APPDATA, payloads[i])
        return writer.take_outgoing()

    def check(record, i):
        reader.receive(record)
        assert drain(reader) == [(APPDATA, payloads[i])]

    first = send(0)
    first_copy = bytes(bytearray(first))
    check(first, 0)
    second = send(1)                              # ``first`` is still held: a new object
    assert second is not first and first == first_copy
    check(second, 1)
    view = memoryview(second)
    third = send(2)                               # held through a view only: still kept
    assert third is not second and bytes(view) == bytes(second)
    check(third, 2)
    del first, second, view
    hash(third)                                   # cached, then let go
    third_id = id(third)
    del third
    fourth = send(3)
    assert id(fourth) == third_id                 # sealed into the same object again
    assert hash(fourth) == hash(bytes(bytearray(fourth)))
    check(fourth, 3)



@pytest.mark.parametrize("suite", [TLS13_SUITES[0], TLS12_SUITES[0]], ids=lambda s: s.name)
def test_any_cuts_of_a_stream_into_bytes_bytearrays_and_views_deframe_identically(suite):
    """Received bytes objects are read in place from where they complete the record left
    partial before them; other buffers are copied. Cut anywhere, of any kind, drained
    after every piece or only now and then, the records come out the same."""
    import random
    key, iv = new_keys(suite)
    writer = writer_layer(suite, key, iv)
    expected = []
    for size in (16384, 5, 16384, 0, 300, 16384, 16384, 1, 9000):
        payload = os.urandom(size)
        writer.write(APPDATA, payload)
        expected += [(APPDATA, payload[i:i + 16384]) for i in range(0, max(size, 1), 16384)]
    stream = writer.take_outgoing()
    rng = random.Random(1)
    for trial in range(200):
        reader = reader_layer(suite, key, iv)
        got, start = [], 0
        while start < len(stream):
            end = min(len(stream), start + rng.choice([1, 4, 5, 6, 100, 16000, 16410, 40000]))
            piece = stream[start:end]
            reader.receive(rng.choice([bytes, bytearray, memoryview])(piece))
            if rng.random() < 0.6:
                got += drain(reader)
            start = end
        got += drain(reader)
        assert got == expected, trial
        assert reader.incoming_size == 0
