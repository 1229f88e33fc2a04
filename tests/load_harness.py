"""Many clients against one cyssl echo server, with misbehaving clients among them.

Two servers with one interface (``address``, ``results``, ``peak``, ``close()``): a
threaded SSLSocket server (a thread per connection, a handshake timeout on the socket)
and an asyncio server (``asyncio.start_server`` with a cyssl context and
``ssl_handshake_timeout``). Each echoes what it reads and records, per client port, the
TLS version and the (length, sha256) of everything it echoed, or how the connection
ended.

Good clients send random payloads of varied sizes (some across 16 KiB records), read each
echo back in full and compare digests, then close with close_notify. Faulty clients
(``FAULTS``) stall or vanish at each handshake state, driven by a sans-IO client
(close_scenarios.Peer) over a raw socket, so they can stop anywhere.
"""
import asyncio
import gc
import hashlib
import os
import random
import socket
import ssl
import struct
import threading
import time

import cyssl
from close_scenarios import Peer, cut, make_contexts, records

SIZES = (1, 517, 4096, 16383, 16384, 16385, 40000, 65537, 100000)
IDLE_TIMEOUT = 60.0

# kind -> (what the faulty client does, whether it stalls the handshake: then only the
# server's handshake timeout can end it)
FAULTS = {
    "silent": ("connects and sends nothing", True),
    "half-hello": ("sends half a ClientHello, then nothing", True),
    "vanish-mid-hello": ("sends half a ClientHello and closes", False),
    "vanish-after-hello": ("sends a ClientHello and closes", False),
    "vanish-after-server-flight": ("reads the server's flight and closes", False),
    "reset-before-finished": ("answers all but its Finished, then a TCP reset", False),
    "stall-before-finished": ("answers all but its Finished, then nothing", True),
    "vanish-after-handshake": ("completes the handshake and closes, no data", False),
    "stall-after-handshake": ("completes the handshake, then nothing", False),
    "vanish-mid-record": ("sends 1.5 application records and closes", False),
    "stall-mid-record": ("sends 1.5 application records, then nothing", False),
}
HANDSHAKE_STALLS = [kind for kind, (_, stalls) in FAULTS.items() if stalls]


def client_contexts(pki_files):
    """(library, TLS version, client context) for the four kinds of client."""
    return [(lib, version, make_contexts(lib, pki_files, version)[0])
            for lib in (cyssl, ssl) for version in (13, 12)]


def server_context(pki_files):
    ctx = cyssl.SSLContext(cyssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki_files.certfile, pki_files.keyfile)
    return ctx


def payloads(seed, count=3):
    """The payloads of client ``seed``, made one at a time (memory stays low)."""
    rng = random.Random(seed)
    for _ in range(count):
        yield rng.randbytes(rng.choice(SIZES))


class Digest:
    """(length, sha256) of a stream, as close_scenarios.digest gives for bytes."""

    def __init__(self):
        self.hash = hashlib.sha256()
        self.length = 0

    def update(self, data):
        self.hash.update(data)
        self.length += len(data)

    def value(self):
        return self.length, self.hash.hexdigest()


def open_fds():
    return len(os.listdir("/proc/self/fd"))


def rss():
    """Resident set size in bytes, after a collection."""
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class _Tally:
    """Results per client address and the number of connections open at once."""

    def __init__(self):
        self.results = {}
        self.active = 0
        self.peak = 0
        self._lock = threading.Lock()

    def opened(self):
        with self._lock:
            self.active += 1
            self.peak = max(self.peak, self.active)

    def closed(self, peer, result):
        with self._lock:
            self.active -= 1
            self.results[peer] = result


class ThreadedServer(_Tally):
    """An SSLSocket echo server: a thread per connection; the handshake runs under the
    socket's timeout, so a stalled client costs one thread for that long."""

    def __init__(self, context, handshake_timeout):
        super().__init__()
        self.context = context
        self.handshake_timeout = handshake_timeout
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=1024)
        self.address = self.listener.getsockname()
        self.threads = []
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    def _accept(self):
        while True:
            try:
                conn, addr = self.listener.accept()
            except OSError:
                return                                   # closed
            thread = threading.Thread(target=self._serve, args=(conn, addr), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _serve(self, conn, peer):
        self.opened()
        result = None
        try:
            conn.settimeout(self.handshake_timeout)
            with self.context.wrap_socket(conn, server_side=True,
                                          suppress_ragged_eofs=False) as tls:
                tls.settimeout(IDLE_TIMEOUT)
                echoed = Digest()
                while True:
                    data = tls.recv(65536)
                    if not data:                         # close_notify
                        break
                    tls.sendall(data)
                    echoed.update(data)
                result = ("ok", tls.version(), echoed.value())
                tls.unwrap().close()
        except Exception as exc:                         # noqa: BLE001 -- recorded
            result = result or ("error", type(exc).__name__)
        finally:
            conn.close()
            self.closed(peer, result)

    def close(self):
        self.listener.shutdown(socket.SHUT_RDWR)        # wakes the blocked accept()
        self.listener.close()
        self.acceptor.join(10)
        assert not self.acceptor.is_alive()
        for thread in self.threads:
            thread.join(IDLE_TIMEOUT)
        assert not any(thread.is_alive() for thread in self.threads)


class AsyncioServer(_Tally):
    """``asyncio.start_server`` with a cyssl context, its loop in a thread of its own."""

    def __init__(self, context, handshake_timeout):
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.loop_errors = []
        self.loop.set_exception_handler(lambda loop, ctx: self.loop_errors.append(ctx))
        started = threading.Event()

        async def start():
            self.server = await asyncio.start_server(
                self._handle, "127.0.0.1", 0, ssl=context, backlog=1024,
                ssl_handshake_timeout=handshake_timeout)
            self.address = self.server.sockets[0].getsockname()
            started.set()
        self.thread = threading.Thread(target=self._run, args=(start(),), daemon=True)
        self.thread.start()
        assert started.wait(10)

    def _run(self, start):
        self.loop.run_until_complete(start)
        self.loop.run_forever()
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()

    async def _handle(self, reader, writer):
        self.opened()
        peer = writer.get_extra_info("peername")
        version = writer.get_extra_info("ssl_object").version()
        echoed = Digest()
        result = None
        try:
            while True:
                data = await asyncio.wait_for(reader.read(65536), IDLE_TIMEOUT)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
                echoed.update(data)
            result = ("ok", version, echoed.value())
            writer.close()
            await writer.wait_closed()
        except Exception as exc:                         # noqa: BLE001 -- recorded
            result = result or ("error", type(exc).__name__)
            writer.close()
        finally:
            self.closed(peer, result)

    def close(self):
        async def stop():
            self.server.close()
            await self.server.wait_closed()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), IDLE_TIMEOUT)
        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(IDLE_TIMEOUT + 10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        assert not self.thread.is_alive()


def good_client(address, ctx, seed, barrier):
    """Handshake, wait for every other client (so all are connected at once), echo each
    payload, close_notify. Returns (port, version, digest of all it sent)."""
    sent = Digest()
    with socket.create_connection(address, timeout=IDLE_TIMEOUT) as raw:
        me = raw.getsockname()
        try:
            tls = ctx.wrap_socket(raw, server_hostname="localhost")
            barrier.wait()
        except BaseException:
            barrier.abort()
            raise
        with tls:
            for payload in payloads(seed):
                tls.sendall(payload)
                back = bytearray()
                while len(back) < len(payload):
                    chunk = tls.recv(len(payload) - len(back))
                    assert chunk, "the server closed early"
                    back += chunk
                assert hashlib.sha256(back).digest() == hashlib.sha256(payload).digest()
                sent.update(payload)
            version = tls.version()
            tls.unwrap()
    return me, version, sent.value()


class Gate:
    """Opens when ``expected`` asyncio clients have arrived."""

    def __init__(self, expected):
        self.expected = expected
        self.arrived = 0
        self.event = asyncio.Event()

    async def arrive(self):
        self.arrived += 1
        if self.arrived == self.expected:
            self.event.set()
        await asyncio.wait_for(self.event.wait(), IDLE_TIMEOUT)


async def good_asyncio_client(address, ctx, seed, gate):
    """good_client over asyncio streams."""
    sent = Digest()
    reader, writer = await asyncio.open_connection(*address, ssl=ctx, server_hostname="localhost")
    me = writer.get_extra_info("sockname")
    version = writer.get_extra_info("ssl_object").version()
    await gate.arrive()
    for payload in payloads(seed):
        writer.write(payload)
        await writer.drain()
        back = await reader.readexactly(len(payload))
        assert hashlib.sha256(back).digest() == hashlib.sha256(payload).digest()
        sent.update(payload)
    writer.close()
    await writer.wait_closed()
    return me, version, sent.value()


class FaultyClient(threading.Thread):
    """One misbehaving client (``kind`` in FAULTS) on a raw socket from its own loopback
    address ``source`` (so no later client reuses its address and port). It records
    ``me`` (its address) and, for a stall, how long the server took to drop it
    (``dropped_after``; None when the harness released it first)."""

    def __init__(self, address, kind, lib, ctx, release, source):
        super().__init__(daemon=True)
        self.address, self.kind, self.lib, self.ctx = address, kind, lib, ctx
        self.release, self.source = release, source
        self.me = None
        self.sent = b""                                  # application data in whole records
        self.dropped_after = None
        self.ready = threading.Event()                   # it has reached its state
        self.error = None

    def run(self):
        try:
            with socket.create_connection(self.address, timeout=IDLE_TIMEOUT,
                                          source_address=(self.source, 0)) as raw:
                self.me = raw.getsockname()
                self._misbehave(raw)
        except Exception as exc:                         # noqa: BLE001 -- checked by the test
            self.error = exc
        finally:
            self.ready.set()

    def _misbehave(self, raw):
        kind = self.kind
        client = Peer(self.lib, self.ctx, server_side=False)
        client.step()
        hello = client.take()
        if kind == "silent":
            return self._stall(raw)
        if kind in ("half-hello", "vanish-mid-hello"):
            raw.sendall(hello[:len(hello) // 2])
            return self._stall(raw) if kind == "half-hello" else None
        raw.sendall(hello)
        if kind == "vanish-after-hello":
            return
        answer = self._receive_until(raw, client, lambda: client.take() or None)
        if kind == "vanish-after-server-flight":
            return
        if kind.endswith("before-finished"):
            raw.sendall(cut(answer, "but-last"))
            return _reset(raw) if kind.startswith("reset") else self._stall(raw)
        raw.sendall(answer)
        self._receive_until(raw, client, lambda: client.done or None)   # TLS 1.2: the server's Finished
        if kind == "vanish-after-handshake":
            return
        if kind == "stall-after-handshake":
            return self._stall(raw)
        client.obj.write(b"x" * 20000)
        data = client.take()
        raw.sendall(data[:len(data) - len(records(data)[-1]) // 2])
        self.sent = b"x" * 16384
        if kind == "stall-mid-record":
            return self._stall(raw)

    @staticmethod
    def _receive_until(raw, client, result):
        while True:
            done = result()
            if done is not None:
                return done
            data = raw.recv(65536)
            assert data, "the server closed during the handshake"
            client.feed(data)
            client.step()

    def _stall(self, raw):
        """Say nothing until released, or until the server drops the connection."""
        self.ready.set()
        started = time.monotonic()
        raw.settimeout(0.05)
        while not self.release.is_set():
            try:
                if not raw.recv(65536):
                    self.dropped_after = time.monotonic() - started
                    return
            except socket.timeout:
                pass
            except ConnectionResetError:
                self.dropped_after = time.monotonic() - started
                return


def _reset(raw):
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
