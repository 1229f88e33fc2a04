"""codec: bounds-checked Reader and Writer for TLS wire structures."""
import pytest
from hypothesis import given, strategies as st

from cyssl.tls.codec import Reader, Writer
from cyssl.tls.errors import TLSError

DECODE_ERROR = 50


def assert_decode_error(fn):
    with pytest.raises(TLSError) as info:
        fn()
    assert info.value.alert == DECODE_ERROR
    assert info.value.alert_name == "decode_error"
    return info.value


def test_integers_are_big_endian():
    r = Reader(bytes.fromhex("01 0203 040506 0708090a"))
    assert (r.u8(), r.u16(), r.u24(), r.u32()) == (1, 0x0203, 0x040506, 0x0708090A)
    assert r.at_end() and r.remaining == 0


@pytest.mark.parametrize("method,size", [("u8", 1), ("u16", 2), ("u24", 3), ("u32", 4)])
def test_integer_over_read_is_decode_error(method, size):
    for available in range(size):
        r = Reader(b"\xff" * available)
        assert_decode_error(getattr(r, method))
        assert r.position == 0          # a failed read consumes nothing


@pytest.mark.parametrize("method,width", [("vec8", 1), ("vec16", 2), ("vec24", 3)])
def test_vector_longer_than_buffer_is_decode_error(method, width):
    prefix = (5).to_bytes(width, "big")
    assert getattr(Reader(prefix + b"abcde"), method)() == b"abcde"
    assert_decode_error(lambda: getattr(Reader(prefix + b"abcd"), method)())
    assert_decode_error(lambda: getattr(Reader(prefix[:-1]), method)())   # truncated prefix


def test_take_skip_rest():
    r = Reader(b"abcdef")
    assert r.take(2) == b"ab"
    r.skip(1)
    assert r.rest() == b"def"
    assert_decode_error(lambda: r.take(1))
    assert_decode_error(lambda: Reader(b"ab").skip(3))
    assert_decode_error(lambda: Reader(b"ab").take(-1))


def test_nested_vectors_are_bounded_by_their_parent():
    # outer<2> contains inner<1>("hi") and a u8; the inner reader cannot see past "hi".
    data = bytes.fromhex("0004") + b"\x02hi" + b"\x07" + b"after"
    r = Reader(data)
    outer = r.sub16()
    inner = outer.sub8()
    assert inner.take(2) == b"hi"
    assert_decode_error(inner.u8)
    inner.expect_end()
    assert outer.u8() == 7
    outer.expect_end()
    assert r.rest() == b"after"


def test_sub_reader_cannot_extend_past_parent():
    r = Reader(b"\x00\x10abc")          # claims 16 bytes, has 3
    assert_decode_error(r.sub16)
    assert_decode_error(lambda: Reader(b"\x05ab").sub8())
    assert_decode_error(lambda: Reader(b"\x00\x00\x09ab").sub24())
    assert_decode_error(lambda: Reader(b"ab").sub(3))


def test_expect_end_reports_trailing_bytes():
    r = Reader(b"\x01\x02")
    r.u8()
    err = assert_decode_error(lambda: r.expect_end("ServerHello"))
    assert "ServerHello" in str(err) and err.reason == "LENGTH_MISMATCH"


def test_reader_accepts_any_contiguous_buffer():
    for data in (b"\x01\x02", bytearray(b"\x01\x02"), memoryview(b"\x00\x01\x02")[1:]):
        assert Reader(data).u16() == 0x0102
    assert Reader(b"").at_end()
    with pytest.raises(TypeError):
        Reader(12)


def test_writer_integers_and_vectors():
    w = Writer()
    w.u8(1)
    w.u16(0x0203)
    w.u24(0x040506)
    w.u32(0x0708090A)
    w.vec8(b"ab")
    w.vec16(b"cd")
    w.vec24(b"")
    assert w.getvalue() == bytes.fromhex("01 0203 040506 0708090a 02 6162 0002 6364 000000")
    assert len(w) == 20


def test_writer_back_patches_nested_lengths():
    w = Writer(capacity=1)                 # forces growth on the way
    outer = w.begin(2)
    w.u8(9)
    inner = w.begin(3)
    w.write(b"x" * 300)
    w.end(inner, 3)
    w.end(outer, 2)
    data = w.getvalue()
    assert data[:2] == (1 + 3 + 300).to_bytes(2, "big")
    r = Reader(data).sub16()
    assert r.u8() == 9 and r.vec24() == b"x" * 300
    r.expect_end()


@pytest.mark.parametrize("method,limit", [("u8", 0xFF), ("u16", 0xFFFF), ("u24", 0xFFFFFF)])
def test_writer_rejects_out_of_range_integers(method, limit):
    w = Writer()
    getattr(w, method)(limit)
    with pytest.raises(TLSError):
        getattr(w, method)(limit + 1)


@pytest.mark.parametrize("width", [1, 2])
def test_writer_rejects_vector_too_long_for_its_prefix(width):
    w = Writer()
    mark = w.begin(width)
    w.write(b"\0" * (1 << (8 * width)))
    with pytest.raises(TLSError) as info:
        w.end(mark, width)
    assert info.value.alert_name == "internal_error"


def test_writer_rejects_bad_marks():
    w = Writer()
    with pytest.raises(ValueError):
        w.begin(4)
    with pytest.raises(ValueError):
        w.end(0, 2)


@given(st.lists(st.one_of(
    st.tuples(st.just("u8"), st.integers(0, 0xFF)),
    st.tuples(st.just("u16"), st.integers(0, 0xFFFF)),
    st.tuples(st.just("u24"), st.integers(0, 0xFFFFFF)),
    st.tuples(st.just("u32"), st.integers(0, 0xFFFFFFFF)),
    st.tuples(st.just("vec8"), st.binary(max_size=255)),
    st.tuples(st.just("vec16"), st.binary(max_size=600)),
    st.tuples(st.just("vec24"), st.binary(max_size=600)),
), max_size=20))
def test_round_trip(items):
    w = Writer()
    for method, value in items:
        getattr(w, method)(value)
    r = Reader(w.getvalue())
    assert [(method, getattr(r, method)()) for method, _ in items] == items
    r.expect_end()


@given(st.binary(max_size=64))
def test_arbitrary_input_only_ever_raises_decode_error(data):
    r = Reader(data)
    try:
        while True:
            sub = r.sub16()
            sub.vec8()
            sub.u24()
            sub.expect_end()
    except TLSError as err:
        assert err.alert == DECODE_ERROR
