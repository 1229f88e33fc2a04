"""Ending a TLS connection at each point of its life, to compare cyssl with the stdlib.

One scenario drives the endpoint under test, *ours* (an SSLObject over memory BIOs or an
SSLSocket over loopback TCP, from the stdlib or from cyssl), against a sans-IO *peer* (an
SSLObject of either library) whose bytes the harness carries by hand. So the harness
decides exactly how much of the peer's output ours has seen when the peer stops: nothing,
half a record, the hello, a whole flight but its Finished, ... Then the peer acts
(transport EOF, TCP reset, close_notify, a fatal alert) and ours does its last operations:
finish the handshake, read until the end, write, handshake again. The outcome (what was
read, and how each operation ended: its value or its exception's class, errno and reason)
is compared with the outcome of the same scenario with the stdlib as ours: the oracle is
OpenSSL at our end.

States, from ours' point of view (the peer's flights counted from its first):

    start              nothing received (a client's ClientHello never arrived)
    mid-hello          half of the peer's first record (its ClientHello or ServerHello)
    after-hello        client: the ServerHello record alone; server: the ClientHello, and
                       ours has answered (the peer never sees the answer)
    before-finished    the flight with the peer's Finished, all but its last record
    after-finished     client: the server's flight (TLS 1.3: ours is connected; TLS 1.2:
                       ours sent its Finished); server: the client's Finished (ours is
                       connected); the peer has not seen ours' answer
    established        both ends connected, everything delivered
    mid-record         then the peer sends data in two records; ours gets 1.5 of them
    after-close-notify the peer sends data and close_notify; ours gets all of it
    peer-rejects       the peer refuses the handshake with an alert of its own choosing:
                       as a client it does not trust ours' certificate; as a server it
                       requires a client certificate ours does not have

Actions ("+"-joined steps, in order): eof (the transport ends: write_eof on a BIO,
shutdown(SHUT_WR) of the TCP socket), reset (a TCP RST), close_notify, alert (a fatal
handshake_failure from a cyssl peer, under its current keys; the stdlib can only be
made to send one as the first record, crafted, or after the handshake, bad_record_mac
for a tampered record of ours), none.
"""
import faulthandler
import fcntl
import hashlib
import select
import socket
import ssl
import struct
import termios
import time
from contextlib import contextmanager
from typing import NamedTuple

import cyssl
from peers import StdlibPeer

LIBS = {"stdlib": ssl, "cyssl": cyssl}
HANDSHAKE_FAILURE = 40
PAYLOAD = bytes(range(256)) * 80                     # 20480 bytes: two records
LATE_WRITE = b"late write"

# State -> (peer flights delivered whole, how much of the next one ours gets)
_CUTS = {
    "client": {
        13: {"start": (0, "none"), "mid-hello": (0, "half"), "after-hello": (0, "first"),
             "before-finished": (0, "but-last"), "after-finished": (1, "none")},
        12: {"start": (0, "none"), "mid-hello": (0, "half"), "after-hello": (0, "first"),
             "before-finished": (1, "but-last"), "after-finished": (1, "none")},
    },
    "server": {version: {"start": (0, "none"), "mid-hello": (0, "half"),
                         "after-hello": (1, "none"), "before-finished": (1, "but-last"),
                         "after-finished": (2, "none")} for version in (13, 12)},
}
HANDSHAKE_STATES = ("start", "mid-hello", "after-hello", "before-finished", "after-finished")
DATA_STATES = ("established", "mid-record", "after-close-notify")
STATES = HANDSHAKE_STATES + DATA_STATES
ACTIONS = {"bio": ("eof", "close_notify", "close_notify+eof", "alert", "alert+eof"),
           "socket": ("eof", "reset", "close_notify+eof", "alert+eof")}
ACTIONS["stdlib-bio"] = ACTIONS["bio"]


class Infeasible(Exception):
    """The peer's library cannot act so in this state (see ``feasible``)."""


def feasible(transport, peer_lib, role, version, state, action):
    """Whether the scenario makes sense and the peer's library can play it. A close_notify
    or an alert needs a record boundary where the peer's keys are the ones ours expects
    (so not inside a flight or a record); over TCP the peer always ends the transport
    (ours would wait for ever); OpenSSL sends close_notify only once connected."""
    steps = action.split("+")
    if ("reset" in steps) != (transport == "socket" and steps[-1] == "reset"):
        return False
    if transport == "socket" and steps[-1] not in ("eof", "reset"):
        return False
    speaks = [step for step in steps if step in ("close_notify", "alert")]
    if not speaks:
        return True
    if state in ("mid-hello", "before-finished", "mid-record", "after-close-notify") or (
            state == "after-hello" and role == "client"):
        return False
    if peer_lib == "cyssl":
        return True
    peer_connected = state == "established" or (
        state == "after-finished" and role == "server" and version == 13)
    if "close_notify" in speaks and not peer_connected:
        return False
    return "alert" not in speaks or state in ("start", "established")


def make_contexts(lib, pki_files, version=13):
    """(client, server) contexts of ``lib`` that trust each other, capped at ``version``."""
    server = lib.SSLContext(lib.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(pki_files.certfile, pki_files.keyfile)
    client = lib.SSLContext(lib.PROTOCOL_TLS_CLIENT)
    client.load_verify_locations(pki_files.cafile)
    if version == 12:
        for ctx in (client, server):
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    return client, server


def rejecting_contexts(lib, pki_files, version=13):
    """(client, server) that refuse the handshake: the client trusts no one, the server
    requires a client certificate."""
    _, server = make_contexts(lib, pki_files, version)
    server.load_verify_locations(pki_files.cafile)
    server.verify_mode = ssl.CERT_REQUIRED
    client = lib.SSLContext(lib.PROTOCOL_TLS_CLIENT)
    if version == 12:
        client.maximum_version = ssl.TLSVersion.TLSv1_2
    return client, server


def records(data):
    """Split a byte stream into whole TLS records."""
    out, i = [], 0
    while i < len(data):
        end = i + 5 + int.from_bytes(data[i + 3:i + 5], "big")
        assert end <= len(data), "a record split across deliveries"
        out.append(data[i:end])
        i = end
    return out


def cut(flight, how):
    """The part of a peer flight that ours gets to see."""
    recs = records(flight)
    if how == "none":
        return b""
    if how == "half":
        return recs[0][:len(recs[0]) // 2]
    if how == "first":
        return recs[0]
    assert how == "but-last" and len(recs) > 1, (how, len(recs))
    return b"".join(recs[:-1])


class Peer(StdlibPeer):
    """The other end: an SSLObject of either library over the stdlib's memory BIOs."""

    def __init__(self, lib, ctx, server_side):
        super().__init__(ctx, server_side, None if server_side else "localhost")
        self.lib = lib

    def feed(self, data):
        self.incoming.write(data)

    def take(self):
        data = self.outgoing.read()
        engine = getattr(self.obj, "conn", None)          # cyssl: bytes queued directly
        return data + engine.outgoing() if engine is not None else data

    def _engine(self):
        """cyssl's engine, made now if need be (a client's ClientHello, which ours never
        received, is dropped: the peer speaks first with what it was asked to send)."""
        if self.obj.conn is None:
            self.step()
            self.take()
        return self.obj.conn

    def close_notify(self):
        if self.lib is ssl and not self.done:
            raise Infeasible("OpenSSL refuses SSL_shutdown during its handshake")
        if self.lib is cyssl and not self.done:
            # cyssl's unwrap() refuses too (SHUTDOWN_WHILE_IN_INIT, as the stdlib's); its
            # engine sends what a peer giving up mid-handshake would.
            self._engine().close()
            return
        try:
            self.obj.unwrap()
        except ssl.SSLWantReadError:
            pass

    def alert(self, state, ours):
        """A fatal handshake_failure alert under the peer's current keys (cyssl), or
        whatever the stdlib can be made to send in this state."""
        if self.lib is cyssl:
            self._engine().send_alert(HANDSHAKE_FAILURE)
        elif state == "start":                             # nothing encrypted yet
            self.outgoing.write(bytes((21, 3, 3, 0, 2, 2, HANDSHAKE_FAILURE)))
        elif state == "established":
            # OpenSSL sends bad_record_mac for a record of ours that fails to decrypt.
            ours.tls.write(b"tampered with")
            data = bytearray(ours.output(0.5))
            data[-1] ^= 1
            self.feed(bytes(data))
            try:
                self.obj.read(100)
                raise AssertionError("the stdlib peer accepted a tampered record")
            except ssl.SSLError:
                pass
        else:
            raise Infeasible("no way to make OpenSSL send an alert here")

    def step_failing(self):
        """step(); True once the peer has given up on the handshake."""
        try:
            self.step()
            return False
        except ssl.SSLError:
            return True


class BioEnd:
    """Ours: an SSLObject over MemoryBIOs of its own library."""
    bio = None

    def __init__(self, lib, ctx, server_side, suppress_ragged_eofs=True):
        bio = self.bio or lib.MemoryBIO
        self.incoming, self.outgoing = bio(), bio()
        self.obj = ctx.wrap_bio(self.incoming, self.outgoing, server_side=server_side,
                                server_hostname=None if server_side else "localhost")
        self.tls = self.obj

    def output(self, wait=0.0):
        return self.outgoing.read()

    def deliver(self, data):
        self.incoming.write(data)

    def eof(self):
        self.incoming.write_eof()

    def reset(self):
        raise Infeasible("memory BIOs have no reset")

    def blocking(self):
        pass

    def close(self):
        pass


class SocketEnd:
    """Ours: an SSLSocket over loopback TCP, non-blocking while the harness steps the
    handshake, with a timeout for the last operations; the harness holds the other
    socket."""

    def __init__(self, lib, ctx, server_side, suppress_ragged_eofs=True):
        with socket.create_server(("127.0.0.1", 0)) as listener:
            mine = socket.create_connection(listener.getsockname())
            self.raw, _ = listener.accept()
        if server_side:
            mine, self.raw = self.raw, mine
        self.raw.settimeout(5)
        self.tls = ctx.wrap_socket(mine, server_side=server_side,
                                   server_hostname=None if server_side else "localhost",
                                   do_handshake_on_connect=False,
                                   suppress_ragged_eofs=suppress_ragged_eofs)
        self.tls.setblocking(False)

    def output(self, wait=0.0):
        data = b""
        while select.select([self.raw], [], [], wait)[0]:
            chunk = self.raw.recv(1 << 20)
            if not chunk:
                break
            data += chunk
            wait = 0.0
        return data

    def deliver(self, data):
        self.raw.sendall(data)

    def eof(self):
        self.raw.shutdown(socket.SHUT_WR)

    def reset(self):
        # Only once the kernel has sent everything: a reset drops unsent bytes.
        for _ in range(100):
            if not struct.unpack("i", fcntl.ioctl(self.raw, termios.TIOCOUTQ, b"\0" * 4))[0]:
                break
            time.sleep(0.01)
        self.raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.raw.close()

    def blocking(self):
        self.tls.settimeout(5)

    def close(self):
        self.tls.close()
        self.raw.close()


class StdlibBioEnd(BioEnd):
    """Ours: an SSLObject over the stdlib's MemoryBIOs, as asyncio makes them."""
    bio = ssl.MemoryBIO


TRANSPORTS = {"bio": BioEnd, "stdlib-bio": StdlibBioEnd, "socket": SocketEnd}


def step(ours):
    """One non-blocking do_handshake() of ours; True once it is done."""
    try:
        ours.tls.do_handshake()
        return True
    except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
        return False


def outcome_of(call):
    """("ok", value) or the exception as (class name, errno, reason)."""
    try:
        return ("ok", call())
    except Exception as exc:                    # noqa: BLE001 -- the outcome is the point
        return (type(exc).__name__, getattr(exc, "errno", None), getattr(exc, "reason", None))


class Outcome(NamedTuple):
    handshake: tuple
    received: tuple                 # (length, sha256) of what ours read
    end_of_reading: tuple           # how the last read ended
    late_write: tuple               # then a write
    late_handshake: tuple           # then do_handshake() again

    def __str__(self):
        return "handshake=%s read=%d bytes, then %s; write=%s; handshake=%s" % (
            self.handshake, self.received[0], self.end_of_reading, self.late_write,
            self.late_handshake)


def _pump(ours, peer, stop, hold=lambda out: False):
    """Move bytes both ways until ``hold(ours_output)`` (before the peer sees it) or
    ``stop(ours_done, ours_output, peer_flight, peer_failed)`` (which may deliver the
    flight itself) is true. The peer may give up: its alert is then its flight. Waits a
    little when nothing moves (TCP)."""
    idle = 0
    for _ in range(60):
        done = step(ours)
        out = ours.output(0.002 * idle)
        if hold(out):
            peer.take()                          # what the peer had to say is lost too
            return
        failed = False
        if out:
            peer.feed(out)
            failed = peer.step_failing()
        flight = peer.take()
        if stop(done, out, flight, failed):
            return
        if flight:
            ours.deliver(flight)
        idle = 0 if out or flight else idle + 1
    raise AssertionError("the handshake stalled")


def _advance(ours, peer, role, version, state):
    """Run the handshake until ``state``; the rest of the peer's flight is lost."""
    flights_wanted, how = _CUTS[role][version][state]
    delivered = []

    def hold(out):                               # ours' answer never reaches the peer
        return len(delivered) == flights_wanted and how == "none"

    def stop(done, out, flight, failed):
        if flight and len(delivered) == flights_wanted:
            ours.deliver(cut(flight, how))
            return True
        if flight:
            delivered.append(flight)
        return False
    peer.step()                                  # a client peer speaks first
    _pump(ours, peer, stop, hold)


def _establish(ours, peer):
    idle = []

    def stop(done, out, flight, failed):
        idle.append(not out and not flight)
        return done and peer.done and idle[-2:] == [True, True]
    peer.step()
    _pump(ours, peer, stop)


def _until_peer_fails(ours, peer):
    def stop(done, out, flight, failed):
        if failed:
            ours.deliver(flight)
        return failed
    peer.step()
    _pump(ours, peer, stop)


def _act(action, ours, peer, state):
    """The peer's last moves."""
    for move in action.split("+"):
        if move == "close_notify":
            peer.close_notify()
        elif move == "alert":
            peer.alert(state, ours)
        ours.deliver(peer.take())
        if move == "eof":
            ours.eof()
        elif move == "reset":
            ours.reset()


@contextmanager
def bounded(seconds=30):
    """A scenario that hangs (a busy loop in compiled code ignores signals and socket
    timeouts) ends the test run with every thread's traceback instead of hanging CI."""
    faulthandler.dump_traceback_later(seconds, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def play(our_lib, peer_lib, transport, role, version, state, action, pki_files,
         suppress_ragged_eofs=True):
    """Run one scenario; returns its Outcome."""
    server_side = role == "server"
    our_client, our_server = make_contexts(LIBS[our_lib], pki_files, version)
    peer_contexts = rejecting_contexts if state == "peer-rejects" else make_contexts
    peer_client, peer_server = peer_contexts(LIBS[peer_lib], pki_files, version)
    peer = Peer(LIBS[peer_lib], peer_client if server_side else peer_server, not server_side)
    ours = TRANSPORTS[transport](LIBS[our_lib], our_server if server_side else our_client,
                                 server_side, suppress_ragged_eofs)
    with bounded():
        try:
            if state in HANDSHAKE_STATES:
                _advance(ours, peer, role, version, state)
            elif state == "peer-rejects":
                _until_peer_fails(ours, peer)
            else:
                _establish(ours, peer)
                if state == "mid-record":
                    peer.obj.write(PAYLOAD)
                    data = peer.take()
                    ours.deliver(data[:len(data) - len(records(data)[-1]) // 2])
                elif state == "after-close-notify":
                    peer.obj.write(PAYLOAD)
                    peer.close_notify()
                    ours.deliver(peer.take())
            _act(action, ours, peer, state)
            ours.blocking()
            return _finish(ours.tls)
        finally:
            ours.close()


def _finish(tls):
    """Ours' last operations, each attempted whatever the previous one did."""
    handshake = outcome_of(tls.do_handshake)
    received = bytearray()
    for _ in range(100):
        end = outcome_of(lambda: tls.read(65536))
        if end[0] != "ok" or not end[1]:
            break
        received += end[1]
    late_write = outcome_of(lambda: tls.write(LATE_WRITE))
    return Outcome(handshake, digest(received), end, late_write, outcome_of(tls.do_handshake))


def digest(data):
    """(length, sha256) of bytes read: what Outcome.received holds."""
    return len(data), hashlib.sha256(data).hexdigest()


def play_our_close(our_lib, peer_lib, transport, role, version, pki_files):
    """Ours sends close_notify first (unwrap), then writes and reads; the peer reads it
    and answers with its own; ours unwraps again, then reads and writes. Returns the
    outcomes in that order (an unwrapped socket shows as "socket")."""
    server_side = role == "server"
    our_client, our_server = make_contexts(LIBS[our_lib], pki_files, version)
    peer_client, peer_server = make_contexts(LIBS[peer_lib], pki_files, version)
    peer = Peer(LIBS[peer_lib], peer_client if server_side else peer_server, not server_side)
    ours = TRANSPORTS[transport](LIBS[our_lib], our_server if server_side else our_client,
                                 server_side)
    tls = ours.tls

    def unwrap():
        result = tls.unwrap()
        return "socket" if isinstance(result, socket.socket) else result
    with bounded():
        try:
            _establish(ours, peer)
            results = [outcome_of(unwrap), outcome_of(lambda: tls.write(b"after close")),
                       outcome_of(lambda: tls.read(10))]
            peer.feed(ours.output(0.5))
            results.append(outcome_of(lambda: peer.obj.read(10)))
            peer.close_notify()
            ours.deliver(peer.take())
            return results + [outcome_of(unwrap), outcome_of(lambda: tls.read(10)),
                              outcome_of(lambda: tls.write(b"x"))]
        finally:
            ours.close()
