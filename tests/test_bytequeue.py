"""The byte queue under MemoryBIO and a connection's received application data: any mix
of writes (bytes large and small, bytearrays, memoryviews, records small enough to arrive
as bytes or large enough to arrive as views of the decryption buffer) and reads of any
size gives back the same stream, in order, with nothing lost or repeated. MemoryBIO is
checked against the stdlib's own, operation by operation."""
import ssl

from hypothesis import given, settings, strategies as st

import cyssl
from test_api_sslobject import Pair, client_context, server_context

_payload = st.one_of(st.binary(max_size=40), st.binary(min_size=1000, max_size=3000))
_write = st.tuples(st.sampled_from(["bytes", "bytearray", "memoryview"]), _payload)
_read = st.one_of(st.just(-1), st.integers(min_value=0, max_value=4000))
_operations = st.lists(st.one_of(st.tuples(st.just("write"), _write),
                                 st.tuples(st.just("read"), _read)), max_size=40)


@settings(max_examples=300, deadline=None)
@given(_operations)
def test_memorybio_matches_the_stdlibs(operations):
    ours, theirs = cyssl.MemoryBIO(), ssl.MemoryBIO()
    for op, arg in operations:
        if op == "write":
            kind, data = arg
            make = {"bytes": bytes, "bytearray": bytearray, "memoryview": memoryview}[kind]
            assert ours.write(make(data)) == theirs.write(make(data))
        else:
            assert ours.read(arg) == theirs.read(arg)
        assert ours.pending == theirs.pending
    assert ours.read() == theirs.read() and ours.pending == 0


def test_memorybio_copies_what_may_change_and_shares_what_may_not():
    bio = cyssl.MemoryBIO()
    mutable = bytearray(b"abc")
    bio.write(mutable)
    mutable[:] = b"xyz"
    big = bytes(5000)
    bio.write(big)
    assert bio.read(3) == b"abc" and bio.read() is big


_records = st.lists(st.one_of(st.integers(min_value=1, max_value=100),
                              st.integers(min_value=2049, max_value=20000)),
                    min_size=1, max_size=12)
_reads = st.lists(st.tuples(st.booleans(), st.integers(min_value=1, max_value=25000)),
                  min_size=1, max_size=30)


@settings(max_examples=60, deadline=None)
@given(sizes=_records, reads=_reads)
def test_received_data_comes_out_whole_and_in_order(pki_files, sizes, reads):
    """Records of every size queued at once, read back by read(n) and read(n, buffer)."""
    pair = Pair(client_context(pki_files, ssl), server_context(pki_files, cyssl), cyssl.MemoryBIO)
    pair.handshake()
    sent = b"".join(bytes([i % 251 + 1]) * size for i, size in enumerate(sizes))
    for i, size in enumerate(sizes):
        pair.client.write(bytes([i % 251 + 1]) * size)
    pair.pump()
    got = bytearray()
    for into_buffer, n in reads:
        if len(got) == len(sent):
            break
        if into_buffer:
            buffer = bytearray(n)
            count = pair.server.read(n, buffer)
            got += buffer[:count]
        else:
            got += pair.server.read(n)
    while len(got) < len(sent):
        got += pair.server.read(1 << 16)
    assert got == sent and pair.server.pending() == 0
