"""A read over a socket whose send direction is full (a peer that sends but does not read)
returns the data that arrives, as the stdlib's does, instead of waiting to send first:

- a KeyUpdate reply (OpenSSL sends it with the next write) and the alert for a bad record
  go as far as the socket takes them without waiting, the rest at its next use;
- a write the caller is to retry (it raised SSLWantWriteError) does not hold up reads:
  a full-duplex peer may read only once we have read;
- what the peer waits for (a post-handshake authentication answer) is still sent in full
  by the read, even while another thread's write waits on the socket, or another
  reader's send leaves for lack of room.

The stdlib reading over the same kind of socket is the oracle, except where it fails."""
import os
import queue
import select
import socket
import ssl
import threading
import time

import pytest

import cyssl
from test_api_sslobject import client_context, server_context

WAIT = 3.0           # a read that waits on the send direction takes at least this long

# Without MSG_DONTWAIT (Windows) a read sends what it owes waiting, as before (README); and
# os.write, which fills the send direction here, does not take a socket there.
pytestmark = pytest.mark.skipif(not hasattr(socket, "MSG_DONTWAIT"),
                                reason="needs MSG_DONTWAIT (not on Windows)")
TLS13 = ssl.TLSVersion.TLSv1_3


class Peer:
    """A TLS server over one end of a socket pair, run by a thread that does the handshake
    and then only what ``do`` asks, reading nothing unless asked to."""

    def __init__(self, sock, version=TLS13, lib=cyssl, setup=None, pki_files=None):
        ctx = server_context(pki_files, lib)
        ctx.maximum_version = version
        if setup is not None:
            setup(ctx)
        self.sock = sock
        self.incoming, self.outgoing = lib.MemoryBIO(), lib.MemoryBIO()
        self.server = ctx.wrap_bio(self.incoming, self.outgoing, server_side=True)
        self.ready = threading.Event()
        self.commands = queue.Queue()
        self.failures = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            while True:
                try:
                    self.server.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    pass
                self.sock.sendall(self.outgoing.read())
                data = self.sock.recv(65536)
                if not data:
                    raise EOFError("the reader gave up during the handshake")
                self.incoming.write(data)
            self.sock.sendall(self.outgoing.read())
            self.ready.set()                     # from now on nothing is read unless asked
            while True:
                command = self.commands.get(timeout=15)
                if command is None:
                    break
                command(self)
        except Exception as exc:                 # reported by close()
            self.failures.append(exc)
        finally:
            self.sock.close()                    # also frees a reader stuck sending

    def do(self, command):
        self.commands.put(command)

    def send(self, batch_of):
        """Send the bytes ``batch_of(server, outgoing)`` makes."""
        self.do(lambda peer: peer.sock.sendall(batch_of(peer.server, peer.outgoing)))

    def close(self):
        self.commands.put(None)
        self.thread.join(15)
        assert not self.thread.is_alive() and not self.failures, self.failures


def connect(pki_files, lib, version=TLS13, server_lib=cyssl, server_setup=None, client_setup=None):
    ours, theirs = socket.socketpair()
    ours.settimeout(10)
    peer = Peer(theirs, version, server_lib, server_setup, pki_files)
    ctx = client_context(pki_files, lib)
    if client_setup is not None:
        client_setup(ctx)
    tls = ctx.wrap_socket(ours, server_hostname="localhost")
    # Our side may finish first (TLS 1.3): nothing more is sent until the peer has too.
    assert peer.ready.wait(10), peer.failures
    tls.setblocking(False)
    with pytest.raises(ssl.SSLWantReadError):    # TLS 1.3 tickets read, not left to wake a select
        tls.recv(100)
    return tls, peer


def fill_send_direction(tls):
    """Junk into the socket until the kernel takes no more (the peer never reads it)."""
    tls.settimeout(0)
    try:
        while True:
            os.write(tls.fileno(), bytes(65536))
    except BlockingIOError:
        pass


def data_then_key_update(server, outgoing):
    server.write(b"hello")
    server.conn.update_keys(True)                 # the reader owes a KeyUpdate back
    return outgoing.read() + server.conn.outgoing()


def key_update_alone(server, outgoing):
    server.conn.update_keys(True)
    return server.conn.outgoing()


def world(server, outgoing):
    server.write(b"world")
    return outgoing.read()


def forged_record(server, outgoing):
    server.write(b"world")
    batch = outgoing.read()
    return batch[:-20] + bytes([batch[-20] ^ 1]) + batch[-19:]


def data_then_forged_record(server, outgoing):
    server.write(b"hello")
    return outgoing.read() + forged_record(server, outgoing)


def key_update_requests(before_each=b"", after=b""):
    """A batch for Peer.send: 500 KeyUpdate requests, each after the data ``before_each``,
    then the data ``after``."""
    def batch(server, outgoing):
        out = []
        for _ in range(500):
            if before_each:
                server.write(before_each)
                out.append(outgoing.read())
            server.conn.update_keys(True)
            out.append(server.conn.outgoing())
        if after:
            server.write(after)
            out.append(outgoing.read())
        return b"".join(out)
    return batch


def drain_until(marker, plaintexts, after_each=None):
    """A peer command: read and decrypt everything until ``marker`` arrives (its
    plaintext goes to ``plaintexts``); sends what the engine queues meanwhile, and what
    ``after_each(peer)`` writes after each receipt."""
    def command(peer):
        peer.sock.settimeout(10)
        plain = bytearray()
        while not plain.endswith(marker):
            data = peer.sock.recv(1 << 16)
            if not data:
                break
            peer.incoming.write(data)
            try:
                while True:
                    plain += peer.server.read(1 << 16)
            except ssl.SSLWantReadError:
                pass
            if after_each is not None:
                after_each(peer)
            peer.sock.sendall(peer.outgoing.read())
        plaintexts.append(bytes(plain))
    return command


def fill_with_writes(tls, chunk):
    """Non-blocking writes of ``chunk`` until SSLWantWriteError; the count that went."""
    tls.setblocking(False)
    sent = 0
    with pytest.raises(ssl.SSLWantWriteError):
        while True:
            sent += tls.send(chunk)
    return sent


def retry_write(tls, chunk):
    """Retry the write that raised SSLWantWriteError until it goes."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        select.select([], [tls], [], 1)
        try:
            return tls.send(chunk)
        except ssl.SSLWantWriteError:
            pass
    raise AssertionError("the retried write never went")


def retry_then_end(tls, peer, chunk, sent, plaintexts):
    """Retry the owed write of ``chunk``, then send b"end", while the peer drains (a
    drain_until(b"end", plaintexts) command): it must have decrypted the ``sent`` bytes
    of chunks, the retried chunk and b"end", nothing more, nothing less."""
    tls.setblocking(False)
    sent += retry_write(tls, chunk)
    tls.settimeout(10)
    tls.sendall(b"end")
    peer.close()
    assert plaintexts == [chunk * (sent // len(chunk)) + b"end"]


def timed(call):
    started = time.monotonic()
    try:
        outcome = call()
    except (ssl.SSLError, OSError) as exc:
        outcome = type(exc).__name__
    return outcome, time.monotonic() - started < WAIT / 2


@pytest.mark.parametrize("first", [data_then_key_update, key_update_alone],
                         ids=["data-keyupdate", "keyupdate-alone"])
@pytest.mark.parametrize("timeout", [WAIT, None], ids=["timeout", "blocking"])
def test_reads_go_on_while_a_key_update_reply_waits(pki_files, first, timeout):
    """The peer asks for a KeyUpdate (with data or alone), then sends more: each read
    returns its data at once; the reply waits for room, not the reads."""
    outcomes = {}
    for lib in (cyssl, ssl):
        tls, peer = connect(pki_files, lib)
        try:
            fill_send_direction(tls)
            tls.settimeout(timeout)
            peer.send(first)
            got = [timed(lambda: tls.recv(100))] if first is data_then_key_update else []
            peer.send(world)
            got.append(timed(lambda: tls.recv(100)))
            outcomes[lib] = got
        finally:
            peer.close()
            tls.close()
    assert outcomes[cyssl] == outcomes[ssl]
    assert outcomes[cyssl][-1] == (b"world", True)


@pytest.mark.parametrize("first", [data_then_key_update, key_update_alone],
                         ids=["data-keyupdate", "keyupdate-alone"])
def test_non_blocking_reads_want_read_not_write_while_a_key_update_reply_waits(pki_files, first):
    """Non-blocking reads after select: data or SSLWantReadError, never SSLWantWriteError
    for the reply that cannot be sent."""
    outcomes = {}
    for lib in (cyssl, ssl):
        tls, peer = connect(pki_files, lib)
        got = []

        def read():
            select.select([tls], [], [], WAIT)
            try:
                got.append(tls.recv(100))
            except ssl.SSLError as exc:
                got.append(type(exc).__name__)
        try:
            fill_send_direction(tls)
            peer.send(first)
            read()
            peer.send(world)
            read()
            read()
            outcomes[lib] = got
        finally:
            peer.close()
            tls.close()
    # Whether the stdlib's second read meets the KeyUpdate alone (SSLWantReadError) or
    # "world" already behind it depends on timing: compare the data and that nothing but
    # SSLWantReadError came between.
    data = {lib: [x for x in got if x != "SSLWantReadError"] for lib, got in outcomes.items()}
    assert data[cyssl] == data[ssl] == ([b"hello", b"world"] if first is data_then_key_update
                                        else [b"world"]), outcomes


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, TLS13], ids=["tls12", "tls13"])
@pytest.mark.parametrize("timeout", [WAIT, None], ids=["timeout", "blocking"])
@pytest.mark.parametrize("lib", [cyssl, ssl], ids=["cyssl", "stdlib"])
def test_data_before_a_forged_record_is_read_while_the_send_buffer_is_full(pki_files, lib, version,
                                                                           timeout):
    tls, peer = connect(pki_files, lib, version)
    try:
        fill_send_direction(tls)
        tls.settimeout(timeout)
        peer.send(data_then_forged_record)
        assert timed(lambda: tls.recv(100)) == (b"hello", True)
    finally:
        peer.close()
        tls.close()


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, TLS13], ids=["tls12", "tls13"])
@pytest.mark.parametrize("timeout", [WAIT, None], ids=["timeout", "blocking"])
def test_the_failure_after_the_data_is_raised_without_waiting_to_send_its_alert(pki_files, version,
                                                                               timeout):
    """The read after the data raises the forged record's failure at once; its alert goes
    only if the socket takes it. (Here cyssl does better than the stdlib, whose OpenSSL
    waits to send the alert first: a peer that never reads would hold the read forever.)"""
    tls, peer = connect(pki_files, cyssl, version)
    try:
        fill_send_direction(tls)
        tls.settimeout(timeout)
        peer.send(data_then_forged_record)
        assert tls.recv(100) == b"hello"
        started = time.monotonic()
        with pytest.raises(ssl.SSLError) as info:
            tls.recv(100)
        assert info.value.reason == "DECRYPTION_FAILED_OR_BAD_RECORD_MAC"
        assert time.monotonic() - started < WAIT / 2
    finally:
        peer.close()
        tls.close()


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, TLS13], ids=["tls12", "tls13"])
@pytest.mark.parametrize("lib", [cyssl, ssl], ids=["cyssl", "stdlib"])
def test_a_read_is_not_held_by_a_write_to_retry(pki_files, lib, version):
    """Non-blocking: writes until SSLWantWriteError, then the peer's data (with a KeyUpdate
    request in TLS 1.3) is read, not another SSLWantWriteError from the read; the retried
    write still waits for room. Then the peer reads everything: the stream arrives whole,
    the reply after the retried write's bytes (before them it would cut that record)."""
    tls, peer = connect(pki_files, lib, version)
    try:
        chunk = os.urandom(16384)
        sent = fill_with_writes(tls, chunk)
        peer.send(data_then_key_update if version == TLS13 else
                  lambda server, outgoing: server.write(b"hello") and outgoing.read())
        assert select.select([tls], [], [], WAIT)[0]
        assert tls.recv(100) == b"hello"
        with pytest.raises(ssl.SSLWantWriteError):   # the peer still reads nothing
            tls.send(chunk)
        plaintexts = []
        peer.do(drain_until(b"end", plaintexts))
        retry_then_end(tls, peer, chunk, sent, plaintexts)
    finally:
        peer.close()
        tls.close()


def test_key_update_replies_held_back_go_out_once_and_in_order(pki_files):
    """The peer asks for thousands of KeyUpdates, reading nothing, until the replies fill a
    small send buffer: every read still returns its data at once. Then the peer reads
    everything and our last write arrives: each reply went exactly once and in order (a
    lost or repeated one would leave the peer a key apart). (The stdlib's reads time out
    here after about a dozen requests: its OpenSSL then writes the replies from SSL_read,
    waiting for room.)"""
    tls, peer = connect(pki_files, cyssl)
    try:
        tls.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        tls.settimeout(WAIT)

        requests = key_update_requests(before_each=b"0123456789")
        for _ in range(4):
            peer.send(requests)
            got = 0
            while got < 5000:
                data, quick = timed(lambda: tls.recv(5000))
                assert quick and isinstance(data, bytes) and data, data
                got += len(data)
            assert got == 5000
        assert not select.select([], [tls], [], 0)[1]   # the replies did fill the send direction
        plaintexts = []
        peer.do(drain_until(b"end", plaintexts))
        tls.sendall(b"end")
        peer.close()
        assert plaintexts == [b"end"]
    finally:
        peer.close()
        tls.close()


def pha_contexts(pki_files):
    """(server_setup, client_setup) for post-handshake client authentication."""
    def server_setup(ctx):
        ctx.load_verify_locations(pki_files.cafile)
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.post_handshake_auth = True

    def client_setup(ctx):
        ctx.load_cert_chain(pki_files.client_certfile, pki_files.client_keyfile)
        ctx.post_handshake_auth = True
    return server_setup, client_setup


def say_when_certified(peer):
    """After each receipt (drain_until): b"got cert" once the client's certificate came."""
    if peer.server.getpeercert() and not getattr(peer, "certified", False):
        peer.certified = True
        peer.server.write(b"got cert")


def read_until_certified(tls, got):
    """A reader thread's work: ``tls``'s reads into ``got`` until b"got cert" or the end."""
    while True:
        data = tls.recv(100)
        got.append(data)
        if not data or data == b"got cert":
            return


def ask_for_certificate(peer):
    peer.server.verify_client_post_handshake()
    peer.server.write(b"x")                       # sends the CertificateRequest too
    peer.sock.sendall(peer.outgoing.read())


def test_a_read_sends_a_post_handshake_auth_answer_whole_behind_a_write_to_retry(pki_files):
    """One thread, a write to retry (the peer read nothing), then the server asks for the
    client's certificate and reads: the read that gets the request sends the answer in
    full, waiting for room, after the owed write's bytes (the server waits for it before
    it says more: left for a later write, it would never go). The stream arrives whole.
    (The stdlib's read fails here with BAD_LENGTH: its OpenSSL cannot write the answer
    while a write is pending.)"""
    server_setup, client_setup = pha_contexts(pki_files)
    tls, peer = connect(pki_files, cyssl, server_lib=ssl, server_setup=server_setup,
                        client_setup=client_setup)
    try:
        chunk = os.urandom(16384)
        sent = fill_with_writes(tls, chunk)
        plaintexts = []
        peer.do(ask_for_certificate)
        peer.do(drain_until(b"end", plaintexts, say_when_certified))
        tls.settimeout(10)
        assert tls.recv(100) == b"x"
        assert tls.recv(100) == b"got cert"
        retry_then_end(tls, peer, chunk, sent, plaintexts)
    finally:
        peer.close()
        tls.close()


def start(target):
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def start_stuck_writer(tls):
    """A thread whose sendall waits for room (the peer reads nothing), and the list its
    outcome ("sent" or the exception) goes to."""
    outcome = []

    def writer():
        try:
            tls.sendall(bytes(8 << 20))
            outcome.append("sent")
        except (ssl.SSLError, OSError) as exc:
            outcome.append(exc)
    thread = start(writer)
    time.sleep(0.3)                               # it waits for room now
    return thread, outcome


@pytest.mark.parametrize("lib", [cyssl, ssl], ids=["cyssl", "stdlib"])
def test_a_reader_thread_fails_cleanly_while_a_writer_thread_waits(pki_files, lib):
    """One thread's write waits on the socket (the peer reads nothing) while another reads
    a forged record: the reader gets the ssl error, as from the stdlib (the alert cannot
    be queued behind the writer's bytes while they are being sent: no BufferError)."""
    tls, peer = connect(pki_files, lib)
    try:
        tls.settimeout(WAIT)
        start(lambda: pytest.raises((ssl.SSLError, OSError), tls.sendall, bytes(8 << 20)))
        time.sleep(0.3)                           # the writer waits for room now
        peer.send(forged_record)
        with pytest.raises(ssl.SSLError) as info:
            tls.recv(100)
        assert info.value.reason == "DECRYPTION_FAILED_OR_BAD_RECORD_MAC"
    finally:
        peer.close()
        tls.close()


def test_a_post_handshake_auth_answer_leaves_while_another_thread_writes(pki_files):
    """A full-duplex client: one thread uploads (its write waits: the server reads only
    later), another reads. The server asks for the client's certificate, then reads the
    upload and waits for the certificate: the reader's answer must leave, behind the
    upload's bytes. (The stdlib does not support this use: its reader fails with
    BAD_LENGTH, its writer with an EOF error; cyssl's send lock serialises the two.)"""
    upload = bytes(8 << 20)
    server_setup, client_setup = pha_contexts(pki_files)
    tls, peer = connect(pki_files, cyssl, server_lib=ssl, server_setup=server_setup,
                        client_setup=client_setup)
    try:
        tls.settimeout(None)
        uploaded, got = [], []
        writer = start(lambda: uploaded.append(tls.sendall(upload)))
        time.sleep(0.3)                           # the writer waits: the server reads nothing
        reading = start(lambda: read_until_certified(tls, got))

        plaintexts = []
        peer.do(ask_for_certificate)
        peer.do(drain_until(b"end", plaintexts, say_when_certified))
        reading.join(15)
        writer.join(15)
        assert uploaded == [None]
        assert got == [b"x", b"got cert"]
        tls.sendall(b"end")
        peer.close()
        assert plaintexts == [upload + b"end"]
    finally:
        peer.close()
        tls.close()


@pytest.mark.parametrize("lib", [cyssl, ssl], ids=["cyssl", "stdlib"])
def test_a_reset_met_by_the_reader_while_a_writer_sends(pki_files, lib):
    """A writer thread waits in its send (the peer reads nothing); the peer then goes away
    without reading, and the reader's recv meets the reset: an EOF in the ssl module's
    terms for the reader (b"" with suppress_ragged_eofs), an error for the writer, as
    from the stdlib; not a BufferError from dropping the bytes the writer is sending."""
    tls, peer = connect(pki_files, lib)
    try:
        tls.settimeout(WAIT)
        writing, writer_outcome = start_stuck_writer(tls)
        peer.do(lambda peer: peer.sock.close())
        assert tls.recv(100) == b""
        writing.join(WAIT + 2)
        assert len(writer_outcome) == 1 and isinstance(writer_outcome[0], OSError)
    finally:
        peer.close()
        tls.close()


@pytest.mark.parametrize("timeout", [0.5, 0.0], ids=["timeout", "non-blocking"])
def test_a_second_writer_waits_for_the_first_no_longer_than_the_timeout(pki_files, timeout):
    """A writer thread is stuck in its send (the peer reads nothing); a second write waits
    for it only as long as the socket's timeout says: a timeout error, or on a
    non-blocking socket SSLWantWriteError at once. (cyssl only: the stdlib lets two
    threads into SSL_write together.)"""
    tls, peer = connect(pki_files, cyssl)
    try:
        tls.settimeout(None)
        writing, writer_outcome = start_stuck_writer(tls)
        tls.settimeout(timeout)
        started = time.monotonic()
        with pytest.raises(socket.timeout if timeout else ssl.SSLWantWriteError):
            tls.send(b"x")
        assert timeout * 0.8 <= time.monotonic() - started < timeout + 2
        peer.do(lambda peer: peer.sock.close())
        writing.join(WAIT)
        assert len(writer_outcome) == 1 and isinstance(writer_outcome[0], OSError)
    finally:
        peer.close()
        tls.close()


def test_a_signal_handler_sending_inside_a_send_is_refused(pki_files):
    """A signal handler that writes to the socket whose send it interrupted gets a
    RuntimeError (as io's buffered writers give), instead of waiting for itself forever
    or putting its bytes inside a record."""
    import signal
    tls, peer = connect(pki_files, cyssl)
    previous = signal.signal(signal.SIGUSR1, lambda signum, frame: tls.send(b"x"))
    # To this thread itself (handlers run in the main thread, and only a signal sent to
    # it interrupts its wait in the socket).
    alarm = threading.Timer(0.5, signal.pthread_kill, (threading.get_ident(), signal.SIGUSR1))
    try:
        tls.settimeout(WAIT)
        alarm.start()
        with pytest.raises(RuntimeError, match="reentrant"):
            tls.sendall(bytes(8 << 20))               # waits for room: the peer reads nothing
    finally:
        alarm.cancel()
        alarm.join()
        signal.signal(signal.SIGUSR1, previous)
        peer.close()
        tls.close()


@pytest.mark.parametrize("writes", [1, 64], ids=["one-write", "many-writes"])
def test_two_writer_threads_each_send_all_their_bytes(pki_files, writes):
    """A second thread writing while the first one's writes wait for room (one big one,
    or many one after another) is not taken for a retry of the first one's: each
    thread's bytes all arrive, once. (cyssl only: the stdlib lets two threads into
    SSL_write together, which OpenSSL does not allow.)"""
    tls, peer = connect(pki_files, cyssl)
    try:
        tls.settimeout(10)
        size = (8 << 20) // writes
        first = start(lambda: [tls.sendall(bytes(size)) for _ in range(writes)])
        time.sleep(0.3)                           # it waits for room now
        second = start(lambda: tls.sendall(b"\x01" * (1 << 20)))
        time.sleep(0.3)
        plaintexts = []
        peer.do(drain_until(b"end", plaintexts))
        second.join(10)
        first.join(10)
        tls.sendall(b"end")
        peer.close()
        got = plaintexts[0]
        assert got.count(0) == 8 << 20 and got.count(1) == 1 << 20 and got.endswith(b"end")
    finally:
        peer.close()
        tls.close()


def test_a_post_handshake_auth_answer_leaves_while_another_reader_sends_what_it_can(
        pki_files, monkeypatch):
    """Two reader threads. KeyUpdate replies fill the send direction (the peer reads
    nothing); one reader is sending the rest of them without waiting when the other gets
    a certificate request. That send finds no room and leaves; the answer must still go,
    behind the replies, once the peer reads: the second reader waits for the first one's
    send, then sends in full. (Before, it left its answer to that send and then waited
    for the peer, which waited for the answer.) The first reader's send is held in place
    by a stand-in for socket.send that lets it go on only when told."""
    import cyssl.socketchannel as socketchannel
    server_setup, client_setup = pha_contexts(pki_files)
    tls, peer = connect(pki_files, cyssl, server_setup=server_setup, client_setup=client_setup)
    try:
        tls.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        tls.settimeout(WAIT)

        requests = key_update_requests(after=b"ok")
        while select.select([], [tls], [], 0)[1]:       # until the replies fill it
            peer.send(requests)
            assert tls.recv(100) == b"ok"

        first_sends, go_on = threading.Event(), threading.Event()
        real_send = socketchannel._send

        def held_send(sock, data, *flags):
            if threading.current_thread() is first:
                first_sends.set()
                go_on.wait(10)
            return real_send(sock, data, *flags)
        monkeypatch.setattr(socketchannel, "_send", held_send)
        tls.settimeout(None)
        got = []
        # Not start(): held_send must find ``first`` bound before the thread runs.
        first = threading.Thread(target=read_until_certified, args=(tls, got), daemon=True)
        first.start()
        assert first_sends.wait(10)                     # it holds the send lock now
        peer.do(ask_for_certificate)
        second = start(lambda: read_until_certified(tls, got))
        time.sleep(0.3)                                 # it has the request now
        go_on.set()                                     # no room: the first send leaves
        time.sleep(0.3)
        plaintexts = []
        peer.do(drain_until(b"end", plaintexts, say_when_certified))
        deadline = time.monotonic() + WAIT
        while b"got cert" not in got and time.monotonic() < deadline:
            time.sleep(0.05)
        assert b"x" in got and b"got cert" in got, got
        tls.sendall(b"end")
        peer.close()                                    # the other reader meets the EOF
        first.join(WAIT)
        second.join(WAIT)
        assert not first.is_alive() and not second.is_alive()
        assert plaintexts == [b"end"]
    finally:
        go_on.set()
        peer.close()
        tls.close()
