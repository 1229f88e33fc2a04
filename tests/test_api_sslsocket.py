"""SSLSocket in blocking, timeout and non-blocking modes (the stdlib's contract), against
the stdlib's ssl on the other end of a loopback TCP connection."""
import selectors
import socket
import ssl
import threading

import pytest

import cyssl


def stdlib_server_ctx(pki_files):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki_files.certfile, pki_files.keyfile)
    return ctx


def cyssl_client_ctx(pki_files):
    ctx = cyssl.SSLContext(cyssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki_files.cafile)
    return ctx


class ServerThread:
    """A one-connection TLS server in a thread: runs ``handler(tls_socket)``."""

    def __init__(self, context, handler):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.listener.settimeout(10)
        self.address = self.listener.getsockname()
        self.error = None
        self.thread = threading.Thread(target=self._run, args=(context, handler), daemon=True)
        self.thread.start()

    def _run(self, context, handler):
        try:
            conn, _ = self.listener.accept()
            conn.settimeout(10)
            with context.wrap_socket(conn, server_side=True) as tls:
                handler(tls)
        except Exception as exc:               # reported by join()
            self.error = exc
        finally:
            self.listener.close()

    def join(self):
        self.thread.join(15)
        if self.error is not None:
            raise self.error


def echo(tls):
    while True:
        data = tls.recv(65536)
        if not data:
            break
        tls.sendall(data)


@pytest.mark.parametrize("server_lib", ["stdlib", "cyssl"])
def test_blocking_client_and_server(pki_files, server_lib):
    if server_lib == "stdlib":
        server_ctx = stdlib_server_ctx(pki_files)
    else:
        server_ctx = cyssl.SSLContext(cyssl.PROTOCOL_TLS_SERVER)
        server_ctx.load_cert_chain(pki_files.certfile, pki_files.keyfile)
    server = ServerThread(server_ctx, echo)
    client_ctx = cyssl_client_ctx(pki_files) if server_lib == "stdlib" else \
        ssl.create_default_context(cafile=str(pki_files.cafile))
    with socket.create_connection(server.address) as raw:
        with client_ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            assert isinstance(tls, ssl.SSLSocket)
            assert tls.version() == "TLSv1.3"
            payload = bytes(range(256)) * 4096                  # 1 MiB
            tls.sendall(payload)
            received = bytearray()
            while len(received) < len(payload):
                received += tls.recv(65536)
            assert received == payload
            with tls.makefile("rwb") as f:
                f.write(b"line one\n")
                f.flush()
                assert f.readline() == b"line one\n"
    server.join()


def test_connect_wraps_before_connecting_and_getpeercert(pki_files):
    server = ServerThread(stdlib_server_ctx(pki_files), echo)
    tls = cyssl_client_ctx(pki_files).wrap_socket(socket.socket(), server_hostname="localhost")
    with tls:
        tls.connect(server.address)
        assert tls.getpeercert()["subjectAltName"][0] == ("DNS", "localhost")
        assert tls.cipher()[1] == "TLSv1.3" and tls.pending() == 0
        assert tls.fileno() >= 0
    server.join()


def test_timeout_raises_socket_timeout(pki_files):
    def silent(tls):
        tls.recv(1)
    server = ServerThread(stdlib_server_ctx(pki_files), silent)
    with socket.create_connection(server.address) as raw:
        with cyssl_client_ctx(pki_files).wrap_socket(raw, server_hostname="localhost") as tls:
            tls.settimeout(0.2)
            with pytest.raises(socket.timeout):
                tls.recv(10)
            tls.sendall(b"x")
    server.join()


def test_non_blocking_handshake_loop_from_the_docs(pki_files):
    server = ServerThread(stdlib_server_ctx(pki_files), echo)
    raw = socket.create_connection(server.address)
    tls = cyssl_client_ctx(pki_files).wrap_socket(raw, server_hostname="localhost",
                                                  do_handshake_on_connect=False)
    tls.setblocking(False)
    selector = selectors.DefaultSelector()
    while True:                                   # the loop the ssl documentation shows
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            selector.register(tls, selectors.EVENT_READ)
            assert selector.select(5)
            selector.unregister(tls)
        except ssl.SSLWantWriteError:
            selector.register(tls, selectors.EVENT_WRITE)
            assert selector.select(5)
            selector.unregister(tls)
    with pytest.raises(ssl.SSLWantReadError):
        tls.recv(10)
    # Write far more than the kernel buffers take: WantWrite, retried with the same data.
    payload = bytes(range(256)) * 20000
    sent = 0
    received = bytearray()
    while len(received) < len(payload):
        if sent < len(payload):
            try:
                sent += tls.send(payload[sent:sent + 65536])
            except ssl.SSLWantWriteError:
                pass
        try:
            received += tls.recv(65536)
        except ssl.SSLWantReadError:
            selector.register(tls, selectors.EVENT_READ | selectors.EVENT_WRITE)
            selector.select(1)
            selector.unregister(tls)
    assert received == payload                    # nothing lost, nothing twice
    tls.setblocking(True)
    tls.close()
    server.join()


def test_unwrap_returns_a_plaintext_socket(pki_files):
    def server_handler(tls):
        assert tls.recv(5) == b"hello"
        plain = tls.unwrap()
        assert plain.recv(5) == b"plain"
        plain.sendall(b"reply")
    server = ServerThread(stdlib_server_ctx(pki_files), server_handler)
    with socket.create_connection(server.address) as raw:
        tls = cyssl_client_ctx(pki_files).wrap_socket(raw, server_hostname="localhost")
        tls.sendall(b"hello")
        plain = tls.unwrap()
        plain.sendall(b"plain")
        assert plain.recv(5) == b"reply"
    server.join()


def test_refused_socket_operations(pki_files):
    server = ServerThread(stdlib_server_ctx(pki_files), echo)
    with socket.create_connection(server.address) as raw:
        with cyssl_client_ctx(pki_files).wrap_socket(raw, server_hostname="localhost") as tls:
            with pytest.raises(ValueError):
                tls.recvfrom(10)
            with pytest.raises(ValueError):
                tls.sendto(b"x", ("127.0.0.1", 1))
            with pytest.raises(NotImplementedError):
                tls.dup()
            with pytest.raises(ValueError):
                tls.send(b"x", 1)
    server.join()


def test_handshake_failure_is_an_ssl_error_and_closes(pki_files):
    server = ServerThread(stdlib_server_ctx(pki_files), echo)
    stranger = cyssl.SSLContext(cyssl.PROTOCOL_TLS_CLIENT)
    with socket.create_connection(server.address) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            stranger.wrap_socket(raw, server_hostname="localhost")
    with pytest.raises(ssl.SSLError):
        server.join()


def test_server_accept_and_client_certificates(pki_files):
    server_ctx = cyssl.SSLContext(cyssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(pki_files.certfile, pki_files.keyfile)
    server_ctx.load_verify_locations(pki_files.cafile)
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    seen = []
    server = ServerThread(server_ctx, lambda tls: (seen.append(tls.getpeercert()), echo(tls)))
    client_ctx = ssl.create_default_context(cafile=str(pki_files.cafile))
    client_ctx.load_cert_chain(pki_files.client_certfile, pki_files.client_keyfile)
    with socket.create_connection(server.address) as raw:
        with client_ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(b"ping")
            assert tls.recv(4) == b"ping"
    server.join()
    assert seen[0]["subjectAltName"] == (("DNS", "client.example"),)


@pytest.mark.parametrize("client_lib", [cyssl, ssl], ids=["cyssl", "stdlib"])
def test_sendall_and_recv_into_take_any_buffer_as_the_stdlib(pki_files, client_lib):
    """sendall() sends bytes, bytearrays, memoryviews and arrays whole (nothing for empty
    data) and refuses str as the stdlib does; recv_into() without nbytes fills up to the
    buffer's size in bytes, whatever its item size."""
    import array
    received = []

    def collect(tls):
        while True:
            data = tls.recv(65536)
            if not data:
                break
            received.append(data)
            if sum(map(len, received)) >= 7 + 3 + 2 + 8 + 70000:
                tls.sendall(b"0123456789")
                break

    server = ServerThread(stdlib_server_ctx(pki_files), collect)
    with socket.create_connection(server.address, timeout=10) as raw:
        client_ctx = client_lib.SSLContext(client_lib.PROTOCOL_TLS_CLIENT)
        client_ctx.load_verify_locations(pki_files.cafile)
        with client_ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(b"")
            tls.sendall(b"bytes-1")
            tls.sendall(bytearray(b"ba2"))
            tls.sendall(memoryview(b"xmv3")[1:3])
            tls.sendall(array.array("i", [1, 2]))
            tls.sendall(bytes(70000))
            with pytest.raises(TypeError):
                tls.sendall("text")
            words = array.array("i", [0])                # 4 bytes by nbytes, 1 item
            assert tls.recv_into(words) == 4 and words.tobytes() == b"0123"
            rest = bytearray(16)
            got = 0
            while got < 6:
                got += tls.recv_into(memoryview(rest)[got:])
            assert bytes(rest[:6]) == b"456789"
    server.join()
    assert b"".join(received) == (b"bytes-1" + b"ba2" + b"mv" + array.array("i", [1, 2]).tobytes()
                                  + bytes(70000))
