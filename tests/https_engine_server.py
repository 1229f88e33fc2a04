"""A small threaded HTTPS/1.1 server on 127.0.0.1 built on the cyssl sans-IO engine, for
tests with real clients (browsers, curl, ...).

Each accepted TCP connection gets its own thread (browsers open several sockets at once,
some only as preconnects that never carry a request): a cyssl server Connection, driven
by openssl_cli.SocketDriver, one HTTP request read, one response written with
``Connection: close``, then close_notify and a lingering close. Every connection leaves
one dict in ``server.records`` (what the handshake negotiated, the request line, or the
error that ended it); a failing connection never stops the server. Every socket operation
is bounded by ``io_timeout`` and the number of connections served by ``max_connections``.

    with EngineHTTPSServer(lambda: server_config(leaf, alpn_protocols=[b"http/1.1"])) as srv:
        ... fetch https://localhost:%d/ % srv.port ...
        srv.records
"""
import html
import socket
import threading
import time

from cyssl.tls.server13 import server_connection
from openssl_cli import SocketDriver

VERSION_NAMES = {0x0304: "TLSv1.3", 0x0303: "TLSv1.2"}
MAX_REQUEST_HEAD = 65536


def version_name(version):
    return VERSION_NAMES.get(version, "0x%04x" % version if version else None)


def handshake_summary(conn):
    """What a server Connection negotiated, as plain values."""
    return {
        "handshake_complete": bool(conn.handshake_complete),
        "version": version_name(conn.version),
        "suite": conn.suite.name if conn.suite is not None else None,
        "group": conn.group.name if conn.group is not None else None,
        "alpn": conn.alpn_protocol.decode("ascii", "replace") if conn.alpn_protocol else None,
        "server_name": conn.server_name,
        "resumed": bool(conn.resumed),
        "peer_certificates": len(conn.peer_chain or ()),      # the client's chain
        # the server handshake keeps the cookie it sent in a HelloRetryRequest
        "hello_retry": getattr(conn.handshake, "cookie", None) is not None,
    }


def default_page(record):
    """The HTML page for ``/``: it shows what this connection negotiated."""
    fields = "".join('<p id=%s>%s</p>\n' % (key, html.escape(str(record.get(key))))
                     for key in ("group", "suite", "version", "alpn", "server_name"))
    return ("<!DOCTYPE html>\n<html><head><title>cyssl engine</title></head>\n"
            "<body>\n<h1>cyssl TLS engine</h1>\n%s</body></html>\n" % fields).encode()


class EngineHTTPSServer:
    """``config_factory()`` returns the TLSConfig for each new connection."""

    def __init__(self, config_factory, host="127.0.0.1", port=0, io_timeout=10.0,
                 max_connections=64, page=default_page):
        self.config_factory = config_factory
        self.host = host
        self.io_timeout = io_timeout
        self.max_connections = max_connections
        self.page = page
        self.records = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = []
        self._live = set()                    # sockets being served, unblocked by stop()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, port))
        self._listener.listen(16)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept_loop, name="https-engine-accept",
                                          daemon=True)

    # Lifetime ---------------------------------------------------------------

    def start(self):
        self._acceptor.start()
        return self

    def stop(self, timeout=10.0):
        """Stop accepting, wake the connection threads, wait (bounded) for them."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        if self._acceptor.is_alive():
            self._acceptor.join(max(0.0, deadline - time.monotonic()))
        self._listener.close()
        with self._lock:
            live = list(self._live)
        for sock in live:
            try:
                sock.shutdown(socket.SHUT_RDWR)         # a blocked recv returns at once
            except OSError:
                pass
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def snapshot(self):
        with self._lock:
            return [dict(r) for r in self.records]

    def completed(self):
        """Records of connections whose handshake completed."""
        return [r for r in self.snapshot() if r.get("handshake_complete")]

    def wait_for(self, predicate, timeout=5.0):
        """Wait until predicate(snapshot()) holds; returns whether it did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.snapshot()):
                return True
            time.sleep(0.02)
        return predicate(self.snapshot())

    # Connections ------------------------------------------------------------

    def _accept_loop(self):
        served = 0
        while not self._stop.is_set() and served < self.max_connections:
            try:
                sock, addr = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            served += 1
            record = {"peer": "%s:%d" % addr[:2]}
            with self._lock:
                self.records.append(record)
                self._live.add(sock)
            thread = threading.Thread(target=self._serve, args=(sock, record),
                                      name="https-engine-conn-%d" % served, daemon=True)
            self._threads.append(thread)
            thread.start()

    def _update(self, record, **values):
        with self._lock:
            record.update(values)

    def _serve(self, sock, record):
        conn = None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = server_connection(self.config_factory())
            driver = SocketDriver(conn, sock, timeout=self.io_timeout)
            driver.until(lambda: conn.handshake_complete or self._stop.is_set())
            self._update(record, **handshake_summary(conn))
            if not conn.handshake_complete:
                raise TimeoutError("server stopped during the handshake")
            head = self._read_request_head(driver, conn)
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            self._update(record, request=request_line)
            conn.send(self._response(request_line, record))
            conn.close()                                    # close_notify
            driver.flush()
            self._update(record, responded=True)
            self._linger(sock, conn, record)
        except Exception as err:                            # recorded, never fatal
            values = handshake_summary(conn) if conn is not None else {}
            values["error"] = "%s: %s" % (type(err).__name__, err)
            if conn is not None:
                try:                                        # deliver a queued alert
                    data = conn.outgoing()
                    if data:
                        sock.sendall(data)
                except Exception:
                    pass
            self._update(record, **values)
        finally:
            with self._lock:
                self._live.discard(sock)
            sock.close()

    def _read_request_head(self, driver, conn):
        buffer = conn.read()
        while b"\r\n\r\n" not in buffer:
            if self._stop.is_set():
                raise TimeoutError("server stopped before a request arrived")
            if len(buffer) > MAX_REQUEST_HEAD:
                raise ValueError("request head over %d bytes" % MAX_REQUEST_HEAD)
            if conn.close_received:
                raise EOFError("client sent close_notify before a request")
            driver.pump_once()
            buffer += conn.read()
        return buffer

    def _response(self, request_line, record):
        parts = request_line.split()
        path = parts[1].split("?", 1)[0] if len(parts) >= 2 else ""     # "/?query" is "/"
        if len(parts) >= 2 and parts[0] in ("GET", "HEAD") and path == "/":
            status, ctype, body = "200 OK", "text/html; charset=utf-8", self.page(record)
        else:
            status, ctype, body = "404 Not Found", "text/plain", b"not found\n"
        head = ("HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
                "Cache-Control: no-store\r\nConnection: close\r\n\r\n" % (status, ctype, len(body)))
        if parts and parts[0] == "HEAD":
            body = b""
        return head.encode("latin-1") + body

    def _linger(self, sock, conn, record, timeout=2.0):
        """Half-close and read until the client closes (or a short timeout), so unread
        input never turns our close into a reset that could cost the client the reply."""
        try:
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(0.2)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and not self._stop.is_set():
                try:
                    data = sock.recv(65536)
                except socket.timeout:
                    continue
                if not data:
                    break
                try:
                    conn.receive(data)
                except Exception:
                    break
        except OSError:
            pass
        self._update(record, close_notify_received=bool(conn.close_received))
