"""A read over a socket whose send direction is full (a peer that sends but does not read)
returns the data that arrives, as the stdlib's does, instead of waiting to send first:

- a KeyUpdate reply (OpenSSL sends it with the next write) and the alert for a bad record
  go as far as the socket takes them without waiting, the rest at its next use;
- a write the caller is to retry (it raised SSLWantWriteError) does not hold up reads:
  a full-duplex peer may read only once we have read;
- what the peer waits for (a post-handshake authentication answer) is still sent in full
  by the read, even while another thread's write waits on the socket.

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
    assert outcomes[cyssl] == outcomes[ssl]
    assert b"world" in outcomes[cyssl] and "SSLWantWriteError" not in outcomes[cyssl]


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
    """Non-blocking: writes until SSLWantWriteError, then the peer's data is read (not
    another SSLWantWriteError from the read); the write's retry still waits for room."""
    tls, peer = connect(pki_files, lib, version)
    try:
        chunk = bytes(16384)
        with pytest.raises(ssl.SSLWantWriteError):
            while True:
                tls.send(chunk)
        peer.send(lambda server, outgoing: server.write(b"hello") and outgoing.read())
        assert select.select([tls], [], [], WAIT)[0]
        assert tls.recv(100) == b"hello"
        with pytest.raises(ssl.SSLWantWriteError):   # the peer still reads nothing
            tls.send(chunk)
    finally:
        peer.close()
        tls.close()


def start(target):
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


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

    def server_setup(ctx):
        ctx.load_verify_locations(pki_files.cafile)
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.post_handshake_auth = True

    def client_setup(ctx):
        ctx.load_cert_chain(pki_files.client_certfile, pki_files.client_keyfile)
        ctx.post_handshake_auth = True
    tls, peer = connect(pki_files, cyssl, server_lib=ssl, server_setup=server_setup,
                        client_setup=client_setup)
    try:
        tls.settimeout(None)
        uploaded, got = [], []
        writer = start(lambda: uploaded.append(tls.sendall(upload)))
        time.sleep(0.3)                           # the writer waits: the server reads nothing

        def reader():
            while True:
                data = tls.recv(100)
                got.append(data)
                if not data or data == b"got cert":
                    return
        reading = start(reader)

        def ask(peer):
            peer.server.verify_client_post_handshake()
            peer.server.write(b"x")               # sends the CertificateRequest too
            peer.sock.sendall(peer.outgoing.read())

        def drain_then_answer(peer):
            peer.sock.settimeout(0.5)
            received, deadline = 0, time.monotonic() + 10
            while time.monotonic() < deadline and not (received == len(upload)
                                                       and peer.server.getpeercert()):
                try:
                    data = peer.sock.recv(1 << 16)
                except socket.timeout:
                    continue
                if not data:
                    break
                peer.incoming.write(data)
                try:
                    while True:
                        received += len(peer.server.read(1 << 16))
                except ssl.SSLWantReadError:
                    pass
                peer.sock.sendall(peer.outgoing.read())
            if peer.server.getpeercert():
                peer.server.write(b"got cert")
                peer.sock.sendall(peer.outgoing.read())
        peer.do(ask)
        peer.do(drain_then_answer)
        reading.join(15)
        writer.join(15)
        assert uploaded == [None]
        assert got == [b"x", b"got cert"]
    finally:
        peer.close()
        tls.close()
