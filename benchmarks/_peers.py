"""Peers for benchmarks/run.py: certificates, contexts, memory-BIO pairs, loopback servers.

Everything here works the same for both libraries: ``lib`` is "ssl" (the stdlib) or
"cyssl", and ``module(lib)`` imports it on first use (so a memory-measuring child that
runs the stdlib never loads cyssl). Servers listen on 127.0.0.1 only, every socket has a
timeout, and every thread is a daemon, so nothing here can keep a run alive for long.
"""
import asyncio
import importlib
import os
import socket
import sys
import threading
import time
import traceback

HOST = "localhost"          # the name the certificates carry (and 127.0.0.1)
ADDRESS = "127.0.0.1"
KEY_TYPES = ("ecdsa", "rsa")
_PKI_KEY_TYPES = {"ecdsa": "ecdsa-p256", "rsa": "rsa-2048"}


def module(lib):
    return importlib.import_module(lib)


# Certificates ---------------------------------------------------------------------------

def write_pki(directory):
    """A root and a leaf for localhost/127.0.0.1 per key type (ECDSA P-256, RSA-2048), as
    PEM files under ``directory``: root-<kt>.pem, chain-<kt>.pem (the leaf), key-<kt>.pem."""
    tests = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests")
    sys.path.insert(0, tests)
    try:
        import pki
    finally:
        sys.path.remove(tests)
    for key_type, pki_type in _PKI_KEY_TYPES.items():
        root = pki.CA.root(pki_type, name="cyssl bench root " + key_type)
        leaf = root.leaf(hosts=(HOST, ADDRESS), key_type=pki_type)
        with open(os.path.join(directory, "root-%s.pem" % key_type), "wb") as f:
            f.write(root.cert_pem())
        with open(os.path.join(directory, "chain-%s.pem" % key_type), "wb") as f:
            f.write(leaf.cert_pem())
        with open(os.path.join(directory, "key-%s.pem" % key_type), "wb") as f:
            f.write(leaf.key_pem())
    return directory


def pki_objects(directory, key_type="ecdsa"):
    """(root certificate, leaf certificate, leaf private key) as cryptography objects."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    def read(name):
        with open(os.path.join(directory, "%s-%s.pem" % (name, key_type)), "rb") as f:
            return f.read()
    return (x509.load_pem_x509_certificate(read("root")),
            x509.load_pem_x509_certificate(read("chain")),
            load_pem_private_key(read("key"), None))


# Contexts -------------------------------------------------------------------------------

def contexts(lib, pki_dir, key_type="ecdsa", tls12=False, group="X25519", ciphers=None,
             tls13_suite=None):
    """(client context, server context) for ``lib``, configured alike on both ends.

    The client verifies the server's chain (CERT_REQUIRED, hostname checked) against the
    root. ``group``: cyssl's only key-exchange group on both ends (set_ecdh_curve); None
    keeps cyssl's default (X25519MLKEM768 first). The stdlib keeps its default (x25519 is
    OpenSSL 3.0's only key share). ``ciphers``: an OpenSSL cipher string for TLS 1.2, set on
    both. ``tls13_suite``: pins cyssl's TLS 1.3 suite (a private attribute: the stdlib
    offers no way to choose TLS 1.3 suites in 3.11, so only cyssl can be pinned).
    """
    mod = module(lib)
    server = mod.SSLContext(mod.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(os.path.join(pki_dir, "chain-%s.pem" % key_type),
                           os.path.join(pki_dir, "key-%s.pem" % key_type))
    client = mod.SSLContext(mod.PROTOCOL_TLS_CLIENT)
    client.load_verify_locations(os.path.join(pki_dir, "root-%s.pem" % key_type))
    for ctx in (client, server):
        if tls12:
            ctx.maximum_version = mod.TLSVersion.TLSv1_2
        if group and lib == "cyssl":
            ctx.set_ecdh_curve(group)
            if tls12 and key_type == "ecdsa" and ctx is client:
                # A TLS 1.2 client must list the certificate's curve too (RFC 8422
                # section 4), as the stdlib's default list does; set_ecdh_curve takes one.
                ctx._groups = ctx._groups + [0x0017]
                ctx._changed()
        if ciphers:
            ctx.set_ciphers(ciphers)
        if tls13_suite is not None:
            if lib != "cyssl":
                raise ValueError("the stdlib cannot choose a TLS 1.3 suite")
            ctx._tls13_suites = [tls13_suite]
            ctx._changed()
    return client, server


# Memory-BIO pairs -----------------------------------------------------------------------

class Pair:
    """A client and a server SSLObject in one process, each over its own library's
    MemoryBIOs; bytes are moved between them by hand."""

    __slots__ = ("c", "s", "ci", "co", "si", "so")

    def __init__(self, client_lib, client_ctx, server_lib, server_ctx, session=None):
        cmod, smod = module(client_lib), module(server_lib)
        self.ci, self.co = cmod.MemoryBIO(), cmod.MemoryBIO()
        self.si, self.so = smod.MemoryBIO(), smod.MemoryBIO()
        self.c = client_ctx.wrap_bio(self.ci, self.co, server_hostname=HOST, session=session)
        self.s = server_ctx.wrap_bio(self.si, self.so, server_side=True)

    def handshake(self, spent=None):
        """Drive both ends to the end of the handshake (at most 8 flights). ``spent``, a
        list of two floats, gathers the seconds inside the client's and the server's
        ``do_handshake`` calls."""
        c, s, ci, co, si, so = self.c, self.s, self.ci, self.co, self.si, self.so
        want_read = module("ssl").SSLWantReadError
        clock = time.perf_counter
        client_done = server_done = False
        for _ in range(8):
            if not client_done:
                start = clock() if spent is not None else 0.0
                try:
                    c.do_handshake()
                    client_done = True
                except want_read:
                    pass
                if spent is not None:
                    spent[0] += clock() - start
            si.write(co.read())
            if not server_done:
                start = clock() if spent is not None else 0.0
                try:
                    s.do_handshake()
                    server_done = True
                except want_read:
                    pass
                if spent is not None:
                    spent[1] += clock() - start
            ci.write(so.read())
            if client_done and server_done:
                return self
        raise RuntimeError("handshake did not finish in 8 flights")

    def settle(self):
        """One byte each way: the client has then read what the server sent after its
        handshake (TLS 1.3 tickets), so ``c.session`` is resumable and no BIO holds data."""
        self.s.write(b"s")
        self.ci.write(self.so.read())
        if self.c.read(16) != b"s":
            raise RuntimeError("server->client byte lost")
        self.c.write(b"c")
        self.si.write(self.co.read())
        if self.s.read(16) != b"c":
            raise RuntimeError("client->server byte lost")
        return self

    def negotiated(self):
        """(version, cipher, group) as the client sees them; group only from cyssl."""
        group = None
        for end in (self.c, self.s):
            conn = getattr(end, "conn", None)
            if conn is not None and getattr(conn, "group", None) is not None:
                group = conn.group.name
        return self.c.version(), self.c.cipher()[0], group


def handshake_once(client_lib, client_ctx, server_lib, server_ctx, session=None, spent=None):
    return Pair(client_lib, client_ctx, server_lib, server_ctx, session).handshake(spent)


def transfer_chunk_fn(pair, chunk):
    """A function moving ``chunk`` client -> server through the pair (the receiver reads
    into a preallocated buffer, as a careful application would)."""
    c, s, co, si = pair.c, pair.s, pair.co, pair.si
    size = len(chunk)
    buffer = bytearray(size)

    def transfer():
        c.write(chunk)
        si.write(co.read())
        got = 0
        while got < size:
            got += s.read(size, buffer)
    return transfer


# Blocking-socket servers ----------------------------------------------------------------
#
# A client opens a connection, finishes the handshake and sends one mode byte:
#   H  hello: the server answers b"x" and waits for the client to close (a handshake test)
#   S  sink:  8 more bytes give a block size; the server counts what it receives and sends
#             b"k" after each whole block (so the client knows the data arrived)
#   E  echo:  whatever arrives is sent back

_BENIGN = (ConnectionError, EOFError, socket.timeout)


def _recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        more = sock.recv(n - len(data))
        if not more:
            raise EOFError("peer closed after %d of %d bytes" % (len(data), n))
        data += more
    return data


class ThreadedServer:
    """A loopback TLS server: an accepting thread, then one thread per connection."""

    def __init__(self, lib, server_ctx, timeout):
        self.lib, self.ctx, self.timeout = lib, server_ctx, timeout
        self.errors = []
        self._stop = threading.Event()
        self.listener = socket.create_server((ADDRESS, 0), backlog=256)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, name="bench-accept-" + lib,
                                        daemon=True)
        self._thread.start()

    def _accept(self):
        while not self._stop.is_set():
            try:
                raw, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw):
        raw.settimeout(self.timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            with self.ctx.wrap_socket(raw, server_side=True) as tls:
                mode = _recv_exactly(tls, 1)
                if mode == b"H":
                    tls.sendall(b"x")
                    tls.recv(1)
                elif mode == b"S":
                    block = int.from_bytes(_recv_exactly(tls, 8), "big")
                    buffer = bytearray(1 << 18)
                    count = 0
                    while True:
                        n = tls.recv_into(buffer)
                        if not n:
                            break
                        count += n
                        while count >= block:
                            count -= block
                            tls.sendall(b"k")
                elif mode == b"E":
                    while True:
                        data = tls.recv(65536)
                        if not data:
                            break
                        tls.sendall(data)
        except _BENIGN:
            pass
        except module("ssl").SSLError as err:
            # a client closing without close_notify in the middle of our read is expected
            if "EOF" not in type(err).__name__ and "EOF" not in str(err):
                self._record()
        except Exception:
            self._record()
        finally:
            raw.close()

    def _record(self):
        if len(self.errors) < 20:
            self.errors.append(traceback.format_exc())

    def close(self):
        self._stop.set()
        self._thread.join(5)
        self.listener.close()


def connect(lib, client_ctx, port, timeout, mode, session=None):
    raw = socket.create_connection((ADDRESS, port), timeout=timeout)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        tls = client_ctx.wrap_socket(raw, server_hostname=HOST, session=session)
    except BaseException:
        raw.close()
        raise
    tls.sendall(mode)
    return tls


def hello(lib, client_ctx, port, timeout):
    """One whole connection: handshake, the server's b"x", close."""
    tls = connect(lib, client_ctx, port, timeout, b"H")
    try:
        if _recv_exactly(tls, 1) != b"x":
            raise RuntimeError("bad hello answer")
    finally:
        tls.close()


def sink_connection(lib, client_ctx, port, timeout, block):
    tls = connect(lib, client_ctx, port, timeout, b"S" + block.to_bytes(8, "big"))
    return tls


def send_block_fn(tls, block, chunk):
    """A function sending ``block`` bytes in ``chunk``s, then waiting for the sink's ack."""
    chunks = block // len(chunk)

    def send_block():
        for _ in range(chunks):
            tls.sendall(chunk)
        if _recv_exactly(tls, 1) != b"k":
            raise RuntimeError("bad sink ack")
    return send_block


def ping_fn(tls, message):
    size = len(message)
    buffer = bytearray(size)
    view = memoryview(buffer)

    def ping():
        tls.sendall(message)
        got = 0
        while got < size:
            n = tls.recv_into(view[got:])
            if not n:
                raise EOFError("echo server closed")
            got += n
    return ping


def memory_ping_fn(pair, message):
    """One 64-byte exchange each way through a memory-BIO pair: the CPU cost of a small
    request and reply at both ends, without a socket or a scheduler in the way."""
    c, s, ci, co, si, so = pair.c, pair.s, pair.ci, pair.co, pair.si, pair.so
    size = len(message)

    def ping():
        c.write(message)
        si.write(co.read())
        s.write(s.read(size))
        ci.write(so.read())
        if len(c.read(size)) != size:
            raise RuntimeError("short echo")
    return ping


# asyncio ----------------------------------------------------------------------------------

class AsyncioPeers:
    """An event loop of its own holding a TLS server and the client connections to it
    (sink and echo, as above), driven one ``run(coroutine)`` at a time."""

    def __init__(self, lib, client_ctx, server_ctx, timeout):
        self.lib, self.timeout = lib, timeout
        self.client_ctx, self.server_ctx = client_ctx, server_ctx
        self.loop = asyncio.new_event_loop()
        self.errors = []
        self.server = self.run(asyncio.start_server(self._serve, ADDRESS, 0, ssl=server_ctx))
        self.port = self.server.sockets[0].getsockname()[1]
        self.writers = []

    def run(self, coroutine):
        return self.loop.run_until_complete(asyncio.wait_for(coroutine, self.timeout))

    async def _serve(self, reader, writer):
        try:
            mode = await reader.readexactly(1)
            if mode == b"S":
                block = int.from_bytes(await reader.readexactly(8), "big")
                count = 0
                while True:
                    data = await reader.read(1 << 18)
                    if not data:
                        break
                    count += len(data)
                    while count >= block:
                        count -= block
                        writer.write(b"k")
            elif mode == b"E":
                while True:
                    data = await reader.read(65536)
                    if not data:
                        break
                    writer.write(data)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except Exception:
            if len(self.errors) < 20:
                self.errors.append(traceback.format_exc())
        finally:
            writer.close()

    async def _open(self, mode):
        reader, writer = await asyncio.open_connection(ADDRESS, self.port, ssl=self.client_ctx,
                                                       server_hostname=HOST)
        writer.write(mode)
        self.writers.append(writer)
        return reader, writer

    def send_block_fn(self, block, chunk):
        reader, writer = self.run(self._open(b"S" + block.to_bytes(8, "big")))
        chunks = block // len(chunk)

        async def send_block():
            for _ in range(chunks):
                writer.write(chunk)
                await writer.drain()
            if await reader.readexactly(1) != b"k":
                raise RuntimeError("bad sink ack")
        return lambda: self.run(send_block())

    def ping_fn(self, message, count):
        reader, writer = self.run(self._open(b"E"))
        size = len(message)

        async def pings():
            for _ in range(count):
                writer.write(message)
                await reader.readexactly(size)
        return lambda: self.run(pings())

    def close(self):
        """Close clients, then the server; a close that does not finish in time is recorded
        (it would be a hang in the library's shutdown path)."""
        async def shut():
            for writer in self.writers:
                writer.close()
            for writer in self.writers:
                try:
                    await writer.wait_closed()
                except (ConnectionError, module("ssl").SSLError):
                    pass
            self.server.close()
            await self.server.wait_closed()
        try:
            self.run(shut())
        except asyncio.TimeoutError:
            self.errors.append("asyncio close did not finish within %ss" % self.timeout)
        finally:
            self.loop.close()


class ServerProcess:
    """A ThreadedServer in a child interpreter: the client's library then has this
    process (and its GIL) to itself, as when client and server are separate programs."""

    def __init__(self, lib, pki, timeout):
        import subprocess
        self.timeout = timeout
        self.errors = []
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "serve", lib, pki, str(timeout)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.strip().isdigit():
            self.proc.kill()
            raise RuntimeError("server process for %s did not start" % lib)
        self.port = int(line)

    def close(self):
        """End the child (it stops when its stdin closes) and collect its errors."""
        try:
            self.proc.stdin.close()
            report = self.proc.stdout.read()
            self.proc.wait(self.timeout)
        except Exception as exc:
            self.proc.kill()
            self.errors.append("server process did not stop: %r" % exc)
            return
        if report.strip():
            self.errors.append(report)


def start_server(lib, server_ctx, pki, timeout, in_process):
    """A loopback server of ``lib``: a thread of this process, or a child process."""
    if in_process:
        return ThreadedServer(lib, server_ctx, timeout)
    return ServerProcess(lib, pki, timeout)


def _serve_main(lib, pki, timeout):
    _, server = contexts(lib, pki)
    server_ = ThreadedServer(lib, server, float(timeout))
    print(server_.port, flush=True)
    sys.stdin.read()                      # until the parent closes our stdin
    server_.close()
    for error in server_.errors:
        print(error)


if __name__ == "__main__" and sys.argv[1:2] == ["serve"]:
    _serve_main(*sys.argv[2:5])
