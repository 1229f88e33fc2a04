"""A read over a socket whose send direction is full (a peer that sends but does not read)
returns the data that arrived, as the stdlib's does, instead of waiting to send first:

- an answer the received bytes called for after the data (a KeyUpdate reply, the alert
  for a bad record) goes as far as the socket takes it, the rest at its next use;
- a write the caller is to retry (it raised SSLWantWriteError) does not hold up reads:
  a full-duplex peer may read only once we have read.

The stdlib reading over the same kind of socket is the oracle each time."""
import os
import select
import socket
import ssl
import threading
import time

import pytest

import cyssl
from test_api_sslobject import client_context, server_context

WAIT = 3.0           # a read that waits on the send direction takes at least this long


class SilentPeer:
    """A cyssl server over one end of a socket pair that, after the handshake, never reads:
    ``send(batch_of)`` sends the bytes ``batch_of(server, outgoing)`` makes; ``close()`` ends
    it (also after 10 s, so a reader stuck sending is freed)."""

    def __init__(self, pki_files, version, sock):
        ctx = server_context(pki_files, cyssl)
        ctx.maximum_version = version
        self.sock = sock
        self.incoming, self.outgoing = cyssl.MemoryBIO(), cyssl.MemoryBIO()
        self.server = ctx.wrap_bio(self.incoming, self.outgoing, server_side=True)
        self.batch_of = None
        self.ready, self.go, self.done = threading.Event(), threading.Event(), threading.Event()
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
            self.ready.set()                     # from now on nothing is read
            if self.go.wait(10):
                self.sock.sendall(self.batch_of(self.server, self.outgoing))
            self.done.wait(10)
        except Exception as exc:                 # reported by close()
            self.failures.append(exc)
        finally:
            self.sock.close()

    def send(self, batch_of):
        self.batch_of = batch_of
        self.go.set()

    def close(self):
        self.done.set()
        self.thread.join(10)
        assert not self.thread.is_alive() and not self.failures, self.failures


def data_then_key_update(server, outgoing):
    server.write(b"hello")
    server.conn.update_keys(True)                 # the reader owes a KeyUpdate back
    return outgoing.read() + server.conn.outgoing()


def data_then_forged_record(server, outgoing):
    server.write(b"hello")
    server.write(b"world")
    batch = outgoing.read()
    return batch[:-20] + bytes([batch[-20] ^ 1]) + batch[-19:]


def fill_send_direction(tls):
    """Junk into the socket until the kernel takes no more (the peer never reads it)."""
    tls.settimeout(0)
    try:
        while True:
            os.write(tls.fileno(), bytes(65536))
    except BlockingIOError:
        pass


def connect(pki_files, lib, version):
    ours, theirs = socket.socketpair()
    ours.settimeout(10)
    peer = SilentPeer(pki_files, version, theirs)
    tls = client_context(pki_files, lib).wrap_socket(ours, server_hostname="localhost")
    # Our side may finish first (TLS 1.3): nothing more is sent until the peer has too.
    assert peer.ready.wait(10), peer.failures
    tls.setblocking(False)
    with pytest.raises(ssl.SSLWantReadError):    # TLS 1.3 tickets read, not left to wake a select
        tls.recv(100)
    return tls, peer


@pytest.mark.parametrize("batch_of, version", [
    (data_then_key_update, ssl.TLSVersion.TLSv1_3),
    (data_then_forged_record, ssl.TLSVersion.TLSv1_3),
    (data_then_forged_record, ssl.TLSVersion.TLSv1_2)], ids=["keyupdate", "forged-tls13", "forged-tls12"])
@pytest.mark.parametrize("timeout", [WAIT, None], ids=["timeout", "blocking"])
@pytest.mark.parametrize("lib", [cyssl, ssl], ids=["cyssl", "stdlib"])
def test_a_read_returns_the_data_while_the_send_buffer_is_full(pki_files, lib, batch_of, version,
                                                                timeout):
    tls, peer = connect(pki_files, lib, version)
    try:
        fill_send_direction(tls)
        tls.settimeout(timeout)
        peer.send(batch_of)
        started = time.monotonic()
        assert tls.recv(100) == b"hello"
        assert time.monotonic() - started < WAIT / 2
    finally:
        peer.close()                             # frees a reader stuck sending
        tls.close()


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3],
                         ids=["tls12", "tls13"])
@pytest.mark.parametrize("lib", [cyssl, ssl], ids=["cyssl", "stdlib"])
def test_a_read_is_not_held_by_a_write_to_retry(pki_files, lib, version):
    """Non-blocking: writes until SSLWantWriteError, then the peer's data is read (not
    another SSLWantWriteError from the read); the write's retry still takes its bytes."""
    tls, peer = connect(pki_files, lib, version)
    try:
        tls.setblocking(False)
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


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3],
                         ids=["tls12", "tls13"])
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
