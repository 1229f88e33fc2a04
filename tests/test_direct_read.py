"""read(n, buffer) decrypts an application data record straight into the caller's buffer
when nothing is queued and the record fits, and read(n) into a new bytes object: the
data must come out whole and in order whatever the record and buffer sizes, other
records in between (tickets) must still be handled, and a record that fails
authentication must leave no plaintext behind. A whole bytearray's terminating NUL may
hold TLS 1.3's content type byte while a record opens into it: it must read 0 again
after every read, whatever happened."""
import os
import ssl

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import cyssl
from terminator import byte_after
from test_api_sslobject import Pair, client_context, server_context

SIZES = [1, 100, 16383, 16384, 16385, 40000]


def _pair(pki_files, cyssl_role, version):
    if cyssl_role == "client":
        server = server_context(pki_files)
        client = client_context(pki_files)
    else:
        server = server_context(pki_files, cyssl)
        client = client_context(pki_files, ssl)
    for ctx in (client, server):
        ctx.maximum_version = version
    pair = Pair(client, server, cyssl.MemoryBIO)
    pair.handshake()
    ours, theirs = (pair.client, pair.server) if cyssl_role == "client" else (pair.server, pair.client)
    return pair, ours, theirs


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3], ids=["tls12", "tls13"])
@pytest.mark.parametrize("cyssl_role", ["client", "server"])
@pytest.mark.parametrize("size", [100, 16383, 16384, 16385, 65536])
@pytest.mark.parametrize("into_buffer", [True, False], ids=["buffer", "bytes"])
def test_data_arrives_whole_and_in_order(pki_files, cyssl_role, version, size, into_buffer):
    """read(size, buffer) and read(size) (which decrypts into a new bytes object of the
    record's size when nothing is queued and the record fits ``size``)."""
    pair, ours, theirs = _pair(pki_files, cyssl_role, version)
    sent = bytearray()
    for i, length in enumerate(SIZES):
        chunk = bytes([i + 1]) * length
        theirs.write(chunk)
        sent += chunk
    pair.pump()
    got = bytearray()
    buffer = bytearray(size)
    while len(got) < len(sent):
        if into_buffer:
            n = ours.read(size, buffer)
            assert 0 < n <= size and byte_after(buffer) == b"\0"
            got += buffer[:n]
        else:
            data = ours.read(size)
            assert type(data) is bytes and 0 < len(data) <= size
            got += data
    assert got == sent
    with pytest.raises(ssl.SSLWantReadError):
        ours.read(size, buffer) if into_buffer else ours.read(size)


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3], ids=["tls12", "tls13"])
@pytest.mark.parametrize("into_buffer", [True, False], ids=["buffer", "bytes"])
def test_tickets_before_data_are_still_handled(pki_files, version, into_buffer):
    """A TLS 1.3 server's NewSessionTickets share the flight with its first data: read
    with room for any record, the client keeps the session too."""
    pair, ours, theirs = _pair(pki_files, "client", version)
    theirs.write(b"hello")
    pair.pump()
    buffer = bytearray(1 << 16)
    if into_buffer:
        assert ours.read(len(buffer), buffer) == 5 and buffer[:5] == b"hello"
    else:
        assert ours.read(len(buffer)) == b"hello"
    assert ours.session is not None


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3], ids=["tls12", "tls13"])
@pytest.mark.parametrize("into_buffer", [True, False], ids=["buffer", "bytes"])
def test_a_forged_record_leaves_no_plaintext_in_the_buffer(pki_files, version, into_buffer):
    pair, ours, theirs = _pair(pki_files, "server", version)
    theirs.write(b"\x55" * 1000)
    record = bytearray(pair.c_out.read())
    record[-20] ^= 1                       # inside the ciphertext, before the tag
    pair.s_in.write(bytes(record))
    buffer = bytearray(b"\xaa" * 4096)
    with pytest.raises(ssl.SSLError) as info:
        ours.read(len(buffer), buffer) if into_buffer else ours.read(len(buffer))
    assert info.value.reason == "DECRYPTION_FAILED_OR_BAD_RECORD_MAC"
    assert b"\x55" not in buffer            # (read(n) was given no buffer: nothing to see)
    assert byte_after(buffer) == b"\0"
    with pytest.raises(ssl.SSLError):       # the connection stays failed
        ours.read(len(buffer), buffer) if into_buffer else ours.read(len(buffer))


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3], ids=["tls12", "tls13"])
@pytest.mark.parametrize("size", [1, 1000, 16384])
def test_a_record_fills_a_whole_bytearray_exactly(pki_files, version, size):
    """A record of exactly the buffer's size opens into it (TLS 1.3: its content type
    byte borrowing the bytearray's NUL for a moment); a forged one leaves nothing, and the
    NUL is back either way. A view of the same bytearray has no NUL to lend, and gets
    the same data."""
    pair, ours, theirs = _pair(pki_files, "client", version)
    buffer = bytearray(size)
    for i in range(3):
        theirs.write(bytes([i + 1]) * size)
    pair.pump()
    assert ours.read(size, buffer) == size and buffer == bytes([1]) * size
    assert byte_after(buffer) == b"\0"
    assert ours.read(size, memoryview(buffer)) == size and buffer == bytes([2]) * size
    longer = bytearray(b"\xee" * (size + 1))    # room for more: its last byte is no NUL
    assert ours.read(size, longer) == size and longer == bytes([3]) * size + b"\xee"
    theirs.write(b"\x55" * size)
    record = bytearray(pair.s_out.read())
    record[-1] ^= 1                        # the tag: the plaintext is written, then wiped
    pair.c_in.write(bytes(record))
    buffer[:] = b"\xaa" * size
    with pytest.raises(ssl.SSLError) as info:
        ours.read(size, buffer)
    assert info.value.reason == "DECRYPTION_FAILED_OR_BAD_RECORD_MAC"
    assert b"\x55" not in buffer and byte_after(buffer) == b"\0"


def test_a_key_update_opened_into_a_whole_bytearray_gives_its_nul_back(world):
    """A KeyUpdate (5 bytes, 6 with its type byte) opens into a 5-byte bytearray as a
    data record would, and goes on to the engine: the NUL is back after it, and after
    the data that follows."""
    from hostile import duel, run
    target, peer = duel(world, "client", "1.3")
    assert run(target, peer, eof=False).completed
    buffer = bytearray(5)
    peer.update_keys(False)
    target.incoming.write(peer.outgoing())
    with pytest.raises(ssl.SSLWantReadError):
        target.obj.read(5, buffer)
    assert byte_after(buffer) == b"\0"
    peer.send(b"after")
    target.incoming.write(peer.outgoing())
    assert target.obj.read(5, buffer) == 5 and buffer == b"after"
    assert byte_after(buffer) == b"\0"


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3], ids=["tls12", "tls13"])
@pytest.mark.parametrize("buffer_size", [16384, 1 << 16])
def test_sslsocket_recv_into_gets_everything(pki_files, version, buffer_size):
    """The same over a socket: SSLSocket.recv_into reads through the direct path (into a
    16 KiB bytearray, a TLS 1.3 record of 16 KiB borrows its NUL)."""
    import socket
    import threading
    sent = b"".join(bytes([i + 1]) * size for i, size in enumerate(SIZES * 3))
    server_ctx = server_context(pki_files)
    server_ctx.maximum_version = version
    ours, theirs = socket.socketpair()
    ours.settimeout(10)
    theirs.settimeout(10)

    def serve():
        with server_ctx.wrap_socket(theirs, server_side=True) as tls:
            tls.sendall(sent)
            tls.recv(1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    with client_context(pki_files).wrap_socket(ours, server_hostname="localhost") as tls:
        got = bytearray()
        buffer = bytearray(buffer_size)
        while len(got) < len(sent):
            n = tls.recv_into(buffer)
            assert n > 0 and byte_after(buffer) == b"\0"
            got += buffer[:n]
        tls.sendall(b"x")
    thread.join(10)
    assert got == sent


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3], ids=["tls12", "tls13"])
def test_a_queued_record_is_not_overtaken_by_one_that_fits(pki_files, version):
    """Two records in one batch: the first is too large for the buffer and is queued, so
    the second, small enough to decrypt into the buffer, must wait behind it."""
    pair, ours, theirs = _pair(pki_files, "client", version)
    theirs.write(b"a" * 3000)
    theirs.write(b"b")
    pair.pump()
    buffer = bytearray(2)
    got = bytearray()
    while len(got) < 3001:
        n = ours.read(2, buffer)
        got += buffer[:n]
    assert got == b"a" * 3000 + b"b"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from hostile import World
    return World(tmp_path_factory.mktemp("direct-read"))


@pytest.mark.parametrize("into_buffer", [True, False], ids=["buffer", "bytes"])
@pytest.mark.parametrize("role", ["client", "server"])
@pytest.mark.parametrize("size", [3, 4, 5, 304, 305, 306])
def test_a_padded_record_reaches_a_reader_its_content_fits(world, role, size, into_buffer):
    """A TLS 1.3 record whose inner plaintext (4 bytes, type, 300 bytes of padding) is
    larger than the reader's buffer still delivers its content when that fits (copied
    out of cyssl's own buffer), and is queued and read in parts when it does not."""
    from hostile import duel, expect_ok, run
    target, peer = duel(world, role, "1.3")
    target.read_size, target.into_buffer = size, into_buffer
    outcome = run(target, peer, after_handshake=lambda p: p.seal(23, b"ping", padding=300))
    expect_ok(outcome)


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3], ids=["tls12", "tls13"])
def test_a_batch_of_records_comes_out_of_one_read(pki_files, version):
    """read(n) hands a record its own bytes object only when no other whole record
    follows it; a batch (what asyncio gets from one socket read) comes out of one read,
    in one bytes object, not one object per record for asyncio to join again."""
    pair, ours, theirs = _pair(pki_files, "client", version)
    for i in range(3):
        theirs.write(bytes([i + 1]) * 16384)
    pair.pump()
    assert ours.read(1 << 18) == b"\x01" * 16384 + b"\x02" * 16384 + b"\x03" * 16384
    theirs.write(b"alone")
    pair.pump()
    assert ours.read(1 << 18) == b"alone"
    # The same when the batch's first record was left partial by the read before it:
    # completed, it is not mistaken for a record that nothing follows.
    for i in range(3):
        theirs.write(bytes([i + 4]) * 16384)
    batch = pair.s_out.read()
    pair.c_in.write(batch[:100])
    with pytest.raises(ssl.SSLWantReadError):
        ours.read(1 << 18)
    pair.c_in.write(batch[100:])
    assert ours.read(1 << 18) == b"\x04" * 16384 + b"\x05" * 16384 + b"\x06" * 16384


ACTIONS = st.lists(st.one_of(
    st.tuples(st.just("data"), st.integers(1, 40000)),
    st.tuples(st.just("padded"), st.integers(1, 3000), st.integers(0, 3000)),
    st.tuples(st.just("empty")),
    st.tuples(st.just("keyupdate"), st.booleans()),
    st.tuples(st.just("deliver")),
    st.tuples(st.just("deliver part"), st.integers(0, 70000)),
), max_size=12)
READS = st.lists(st.tuples(st.booleans(), st.integers(1, 70000)), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(version=st.sampled_from(["1.2", "1.3"]), actions=ACTIONS, reads=READS)
def test_any_records_and_reads_give_the_stream_back(world, version, actions, reads):
    """Records of any size (TLS 1.3: padded ones, KeyUpdates between them), delivered in
    any batches, cut anywhere (a socket read ends where it ends: the record it leaves
    partial is completed from the next one, which is read in place after it), read with
    any mix of read(n) and read(n, buffer) sizes: the data comes out whole, once and in
    order, whichever of the direct paths each record takes."""
    from hostile import duel, run
    target, peer = duel(world, "client", version)
    assert run(target, peer, eof=False).completed
    sent, got = bytearray(), bytearray()
    held = b""                                  # sent by the peer, not yet delivered
    index = 0

    def read_all():
        nonlocal index
        while True:
            into_buffer, size = reads[index % len(reads)]
            index += 1
            try:
                if into_buffer:
                    buffer = bytearray(size)
                    try:
                        chunk = buffer[:target.obj.read(size, buffer)]
                    finally:
                        assert byte_after(buffer) == b"\0"
                else:
                    chunk = target.obj.read(size)
            except ssl.SSLWantReadError:
                break
            assert 0 < len(chunk) <= size
            got.extend(chunk)
        answer = target.outgoing.read()
        if answer:
            peer.receive(answer)

    for action in actions + [("deliver",)]:
        kind = action[0]
        if kind == "data":
            payload = os.urandom(action[1])
            peer.send(payload)
            sent.extend(payload)
        elif kind == "padded" and version == "1.3":
            payload = os.urandom(action[1])
            peer.seal(23, payload, padding=action[2])
            sent.extend(payload)
        elif kind == "empty":
            peer.put_record(23, b"")
        elif kind == "keyupdate" and version == "1.3":
            peer.update_keys(action[1])
        elif kind == "deliver":
            target.incoming.write(held + peer.outgoing())
            held = b""
            read_all()
        elif kind == "deliver part":
            held += peer.outgoing()
            part, held = held[:action[1]], held[action[1]:]
            if part:
                target.incoming.write(part)
                read_all()
    assert got == sent


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3], ids=["tls12", "tls13"])
def test_a_batch_fills_a_large_buffer_in_one_read(pki_files, version):
    """read(n, buffer) takes the records of a batch one after another into the buffer
    while they fit; one that does not is queued and comes with the next read, after
    them: nothing is overtaken, nothing lost."""
    pair, ours, theirs = _pair(pki_files, "client", version)
    records = [bytes([i + 1]) * 16384 for i in range(3)] + [b"tail"]
    for record in records:
        theirs.write(record)
    pair.pump()
    buffer = bytearray(1 << 18)
    assert ours.read(len(buffer), buffer) == 3 * 16384 + 4
    assert buffer[:3 * 16384 + 4] == b"".join(records)
    assert byte_after(buffer) == b"\0"
    for record in records:
        theirs.write(record)
    pair.pump()
    buffer = bytearray(40000)                  # room for two records, not the third
    first = ours.read(len(buffer), buffer)
    assert first == 2 * 16384 and buffer[:first] == records[0] + records[1]
    assert ours.pending() == 16384 + 4
    got = bytearray()
    while len(got) < 16384 + 4:
        got += buffer[:ours.read(len(buffer), buffer)]
    assert got == records[2] + records[3]
    with pytest.raises(ssl.SSLWantReadError):
        ours.read(len(buffer), buffer)


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3], ids=["tls12", "tls13"])
@pytest.mark.parametrize("second", [1, 16384])
def test_a_forged_record_after_delivered_ones_leaves_them_and_nothing_else(pki_files, version,
                                                                          second):
    """A batch read into one whole bytearray: the first record goes in, the second is
    forged (TLS 1.3: sized to borrow the bytearray's NUL). The read returns the first
    record's data; none of the second's plaintext stays, the NUL is back, and the next
    read reports the forgery."""
    pair, ours, theirs = _pair(pki_files, "client", version)
    theirs.write(b"\x11" * 1000)
    first = pair.s_out.read()
    theirs.write(b"\x55" * second)
    forged = bytearray(pair.s_out.read())
    forged[-1] ^= 1                        # the tag: the plaintext is written, then wiped
    pair.c_in.write(first + bytes(forged))
    buffer = bytearray(b"\xaa" * (1000 + second))
    assert ours.read(len(buffer), buffer) == 1000
    assert buffer[:1000] == b"\x11" * 1000 and b"\x55" not in buffer
    assert byte_after(buffer) == b"\0"
    with pytest.raises(ssl.SSLError) as info:
        ours.read(len(buffer), buffer)
    assert info.value.reason == "DECRYPTION_FAILED_OR_BAD_RECORD_MAC"
    assert b"\x55" not in buffer and byte_after(buffer) == b"\0"
