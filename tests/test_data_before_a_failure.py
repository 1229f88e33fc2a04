"""Application data that arrives in the same batch as a failure after it (a forged record,
a fatal alert) is read first and the failure is reported to the read after it, as the
stdlib (OpenSSL, which reads a record at a time) does: nothing the peer did send is
lost. Each situation is played with the stdlib reading too, as the oracle."""
import ssl

import pytest

import cyssl
from test_api_sslobject import Pair, client_context, server_context

VERSIONS = [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3]


def forged_second_record(server):
    server.write(b"world")                       # its record is the one forged
    return lambda batch: batch[:-20] + bytes([batch[-20] ^ 1]) + batch[-19:]


def fatal_alert(server):
    server.conn.send_alert(80)                   # internal_error
    return lambda batch: batch + server.conn.outgoing()


def junk_after(server):
    # Not a whole record after the data, so read(n) decrypts the data into a bytes object
    # of its own before the junk header fails.
    return lambda batch: batch + b"\x17\x09\x09\x00\x05"


def close_notify(server):
    server.conn.close()
    return lambda batch: batch + server.conn.outgoing()


def reads(pki_files, reader_lib, version, into_buffer, situation):
    """What a client of ``reader_lib`` gets from a cyssl server's b"hello" followed, in
    the same batch, by ``situation``: the data read, then the next two outcomes."""
    server_ctx = server_context(pki_files, cyssl)
    server_ctx.maximum_version = version
    pair = Pair(client_context(pki_files, reader_lib), server_ctx, cyssl.MemoryBIO)
    pair.handshake()
    pair.server.write(b"hello")
    rewrite = situation(pair.server)
    pair.c_in.write(rewrite(pair.s_out.read()))
    data, outcomes = b"", []
    buffer = bytearray(100)
    while len(outcomes) < 2:
        try:
            chunk = (bytes(buffer[:pair.client.read(100, buffer)]) if into_buffer
                     else pair.client.read(100))
        except ssl.SSLError as err:
            outcomes.append((type(err).__name__, err.reason))
            continue
        if chunk:
            data += chunk
        else:
            outcomes.append("end of stream")
    return data, outcomes


@pytest.mark.parametrize("situation", [forged_second_record, fatal_alert, junk_after, close_notify])
@pytest.mark.parametrize("into_buffer", [True, False], ids=["buffer", "bytes"])
@pytest.mark.parametrize("version", VERSIONS, ids=["tls12", "tls13"])
def test_data_before_a_failure_is_read_first(pki_files, version, into_buffer, situation):
    ours = reads(pki_files, cyssl, version, into_buffer, situation)
    assert ours[0] == b"hello"
    assert ours == reads(pki_files, ssl, version, into_buffer, situation)


@pytest.mark.parametrize("version", VERSIONS, ids=["tls12", "tls13"])
def test_unwrap_and_write_after_the_data_report_the_failure(pki_files, version):
    """The failure left for later is not lost to the next call that is not a read: unwrap()
    raises it as the stdlib's does (which reads the bad record then); write() raises it
    too (the stdlib's would still succeed, not having read the record yet)."""
    outcomes = {}
    for lib in (cyssl, ssl):
        server_ctx = server_context(pki_files, cyssl)
        server_ctx.maximum_version = version
        for call in ("unwrap", "write"):
            pair = Pair(client_context(pki_files, lib), server_ctx, cyssl.MemoryBIO)
            pair.handshake()
            pair.server.write(b"hello")
            pair.c_in.write(forged_second_record(pair.server)(pair.s_out.read()))
            assert pair.client.read(100) == b"hello"
            try:
                getattr(pair.client, call)(*((b"more",) if call == "write" else ()))
                outcomes[lib, call] = "ok"
            except ssl.SSLError as err:
                outcomes[lib, call] = err.reason
    assert outcomes[cyssl, "unwrap"] == outcomes[ssl, "unwrap"] == "DECRYPTION_FAILED_OR_BAD_RECORD_MAC"
    assert outcomes[cyssl, "write"] == "DECRYPTION_FAILED_OR_BAD_RECORD_MAC"


def serve_then_close(sock, server_ctx, situation):
    """A cyssl server over ``sock``: the handshake, then what ``situation`` writes (b"hello"
    and something calling for an answer) in one batch, then the socket closed, so the
    alert or answer the reader owes cannot go."""
    incoming, outgoing = cyssl.MemoryBIO(), cyssl.MemoryBIO()
    server = server_ctx.wrap_bio(incoming, outgoing, server_side=True)
    while True:
        try:
            server.do_handshake()
            break
        except ssl.SSLWantReadError:
            pass
        sock.sendall(outgoing.read())
        data = sock.recv(65536)
        if not data:
            raise EOFError("the reader gave up during the handshake")
        incoming.write(data)
    sock.sendall(outgoing.read())
    rewrite = situation(server)
    sock.sendall(rewrite(outgoing.read()))
    sock.close()


def key_update_requested(server):
    server.conn.update_keys(True)          # the reader owes a KeyUpdate back
    server.write(b"hello")
    return lambda batch: batch


def forged_record_after(server):
    server.write(b"hello")
    return forged_second_record(server)


@pytest.mark.parametrize("situation, version", [
    (forged_record_after, ssl.TLSVersion.TLSv1_2), (forged_record_after, ssl.TLSVersion.TLSv1_3),
    (key_update_requested, ssl.TLSVersion.TLSv1_3)], ids=["forged-tls12", "forged-tls13", "keyupdate"])
@pytest.mark.parametrize("into_buffer", [True, False], ids=["recv_into", "recv"])
def test_over_a_socket_data_comes_first_when_the_answer_cannot_be_sent(pki_files, situation,
                                                                      version, into_buffer):
    """Received bytes that bring data and call for an answer the socket can no longer take
    (the alert for a forged record after the data, a KeyUpdate): the data is read first,
    as from the stdlib, not lost to the failed send."""
    import socket
    import threading
    results = {}
    for lib in (cyssl, ssl):
        server_ctx = server_context(pki_files, cyssl)
        server_ctx.maximum_version = version
        ours, theirs = socket.socketpair()
        ours.settimeout(10)
        theirs.settimeout(10)
        failures = []

        def serve():
            try:
                serve_then_close(theirs, server_ctx, situation)
            except Exception as exc:            # reported by the assertion below
                failures.append(exc)
                theirs.close()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        with client_context(pki_files, lib).wrap_socket(ours, server_hostname="localhost") as tls:
            thread.join(10)
            assert not thread.is_alive() and not failures, failures
            got = []
            for _ in range(3):
                try:
                    got.append(tls.recv_into(bytearray(100)) if into_buffer else tls.recv(100))
                except ssl.SSLError as err:
                    got.append(err.reason)
        results[lib] = got
    assert results[cyssl][0] in (b"hello", 5)
    assert results[cyssl] == results[ssl]


class _Broken:
    """A handshake state machine with a bug: any message makes it raise."""

    def handle(self, *message):
        raise ValueError("a bug")


@pytest.mark.parametrize("into_buffer", [True, False], ids=["buffer", "bytes"])
def test_an_internal_error_after_data_is_raised_not_taken_for_an_end(pki_files, into_buffer):
    """A bug met after data in the same batch (here, on a KeyUpdate) fails closed like any
    failure: the data first, then INTERNAL_ERROR, not a quiet end of stream."""
    pair = Pair(client_context(pki_files, cyssl), server_context(pki_files, cyssl), cyssl.MemoryBIO)
    pair.handshake()
    pair.pump()
    with pytest.raises(ssl.SSLWantReadError):
        pair.client.read(100)                  # the server's tickets, before the bug
    pair.server.write(b"hello")
    pair.server.conn.update_keys(False)
    pair.client.conn.handshake = _Broken()
    pair.c_in.write(pair.s_out.read() + pair.server.conn.outgoing())
    buffer = bytearray(100)
    read = (lambda: bytes(buffer[:pair.client.read(100, buffer)])) if into_buffer else (
        lambda: pair.client.read(100))
    assert read() == b"hello"
    with pytest.raises(ssl.SSLError) as info:
        read()
    assert info.value.reason == "INTERNAL_ERROR"
