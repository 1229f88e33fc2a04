"""Real client code over cyssl: asyncio, http.client, urllib, urllib3, requests, httpx,
aiohttp and smtplib, with explicit cyssl contexts and after inject_into_ssl(). The server
is cyssl's too and records the negotiated group: X25519MLKEM768 proves a connection ran
on cyssl at both ends (this interpreter's OpenSSL cannot negotiate it)."""
import asyncio
import http.client
import http.server
import smtplib
import socket
import ssl
import threading
import urllib.request

import pytest

import cyssl


class HTTPSServer:
    """A threaded HTTPS server on cyssl that answers every GET with 'ok <group>'."""

    def __init__(self, pki_files, lib=cyssl):
        self.groups = []
        context = lib.SSLContext(lib.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(pki_files.certfile, pki_files.keyfile)
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                channel = getattr(self.connection, "_sslobj", None)
                group = channel.conn.group.name if hasattr(channel, "conn") else "openssl"
                server.groups.append(group)
                body = ("ok %s" % group).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True,
                                                do_handshake_on_connect=False)
        self.port = self.httpd.server_address[1]
        self.url = "https://localhost:%d/" % self.port
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def https_server(pki_files):
    server = HTTPSServer(pki_files)
    yield server
    server.close()


@pytest.fixture
def client_context(pki_files):
    return cyssl.create_default_context(cafile=str(pki_files.cafile))


def test_http_client(https_server, client_context):
    conn = http.client.HTTPSConnection("localhost", https_server.port, context=client_context)
    conn.request("GET", "/")
    assert isinstance(conn.sock, ssl.SSLSocket) and conn.sock.version() == "TLSv1.3"
    response = conn.getresponse()
    assert response.status == 200 and response.read() == b"ok X25519MLKEM768"
    conn.close()


def test_urllib_request(https_server, client_context):
    with urllib.request.urlopen(https_server.url, context=client_context) as response:
        assert response.read() == b"ok X25519MLKEM768"


def test_urllib_verification_failure_is_urlerror(https_server):
    strict = cyssl.create_default_context()          # the system roots: our test CA is unknown
    with pytest.raises(urllib.error.URLError) as info:
        urllib.request.urlopen(https_server.url, context=strict)
    assert isinstance(info.value.reason, ssl.SSLCertVerificationError)


def test_requests_and_urllib3_with_a_cyssl_context(https_server, client_context, pki_files):
    import requests
    import urllib3
    pool = urllib3.PoolManager(ssl_context=client_context)
    assert pool.request("GET", https_server.url).data == b"ok X25519MLKEM768"

    class Adapter(requests.adapters.HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            kwargs["ssl_context"] = client_context
            return super().init_poolmanager(*args, **kwargs)
    with requests.Session() as session:
        session.mount("https://", Adapter())
        assert session.get(https_server.url, verify=str(pki_files.cafile)).text == "ok X25519MLKEM768"


def test_httpx_with_a_cyssl_context(https_server, client_context):
    import httpx
    with httpx.Client(verify=client_context) as client:
        assert client.get(https_server.url).text == "ok X25519MLKEM768"


def test_aiohttp_with_a_cyssl_context(https_server, client_context):
    import aiohttp

    async def fetch():
        async with aiohttp.ClientSession() as session:
            async with session.get(https_server.url, ssl=client_context) as response:
                return await response.text()
    assert asyncio.run(fetch()) == "ok X25519MLKEM768"


def test_asyncio_both_roles_and_start_tls(pki_files, client_context):
    server_context = cyssl.SSLContext(cyssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(pki_files.certfile, pki_files.keyfile)
    seen = []

    async def handle(reader, writer):
        seen.append(writer.get_extra_info("ssl_object").version())
        line = await reader.readline()
        writer.write(line.upper())
        await writer.drain()
        writer.close()

    async def plain_then_tls(reader, writer):
        line = await reader.readline()                  # "STARTTLS\n" in the clear
        writer.write(b"GO\n")
        await writer.drain()
        await writer.start_tls(server_context)
        line = await reader.readline()
        writer.write(line.upper())
        await writer.drain()
        writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_context)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client_context,
                                                       server_hostname="localhost")
        writer.write(b"hello\n")
        await writer.drain()
        assert await reader.readline() == b"HELLO\n"
        assert writer.get_extra_info("ssl_object").selected_alpn_protocol() is None
        assert writer.get_extra_info("peercert")["subjectAltName"][0] == ("DNS", "localhost")
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()

        server = await asyncio.start_server(plain_then_tls, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"STARTTLS\n")
        await writer.drain()
        assert await reader.readline() == b"GO\n"
        await writer.start_tls(client_context, server_hostname="localhost")
        writer.write(b"secret\n")
        await writer.drain()
        assert await reader.readline() == b"SECRET\n"
        writer.close()
        server.close()
        await server.wait_closed()

    asyncio.run(main())
    assert seen == ["TLSv1.3"]


def test_asyncio_verification_failure_propagates(https_server):
    async def main():
        strict = cyssl.create_default_context()
        with pytest.raises(ssl.SSLCertVerificationError):
            await asyncio.wait_for(asyncio.open_connection("127.0.0.1", https_server.port, ssl=strict,
                                                           server_hostname="localhost"), 10)
    asyncio.run(main())


def test_inject_into_ssl(https_server):
    import requests
    import urllib3
    before = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)    # a stdlib context made earlier
    cyssl.inject_into_ssl()
    try:
        fresh = ssl.create_default_context(cafile=str(https_server_cafile(https_server)))
        assert isinstance(fresh, cyssl.SSLContext)
        # Contexts made before the injection stay usable and recognisable (unlike truststore).
        assert isinstance(before, ssl.SSLContext)
        before.verify_mode = ssl.CERT_REQUIRED
        before.options |= ssl.OP_NO_TICKET
        before.minimum_version = ssl.TLSVersion.TLSv1_2
        with urllib.request.urlopen(https_server.url, context=fresh) as response:
            assert response.read() == b"ok X25519MLKEM768"
        # urllib3 builds its default context from the injected class.
        pool = urllib3.PoolManager(ca_certs=str(https_server_cafile(https_server)))
        assert pool.request("GET", https_server.url).data == b"ok X25519MLKEM768"
        assert requests.get(https_server.url, verify=str(https_server_cafile(https_server))).text \
            == "ok X25519MLKEM768"
        # httpx builds its context with ssl.create_default_context() at call time.
        import httpx
        with httpx.Client(verify=str(https_server_cafile(https_server))) as client:
            assert client.get(https_server.url).text == "ok X25519MLKEM768"
        # aiohttp made its default contexts at import (before this injection), so a
        # context from the injected ssl module is passed explicitly, as code written
        # against the stdlib would.
        import aiohttp

        async def fetch():
            context = ssl.create_default_context(cafile=str(https_server_cafile(https_server)))
            async with aiohttp.ClientSession() as session:
                async with session.get(https_server.url, ssl=context) as response:
                    return await response.text()
        assert asyncio.run(fetch()) == "ok X25519MLKEM768"
    finally:
        cyssl.extract_from_ssl()
    assert ssl.SSLContext is cyssl.inject._ORIGINAL
    assert not isinstance(ssl.create_default_context(), cyssl.SSLContext)


def https_server_cafile(server):
    return server.cafile


@pytest.fixture(autouse=True)
def _cafile(https_server, pki_files):
    https_server.cafile = pki_files.cafile


class MiniSMTPServer:
    """Just enough SMTP for a STARTTLS session on a cyssl server socket."""

    def __init__(self, pki_files):
        self.context = cyssl.SSLContext(cyssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(pki_files.certfile, pki_files.keyfile)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.messages = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        conn, _ = self.listener.accept()
        conn.settimeout(10)
        f = conn.makefile("rwb")
        f.write(b"220 localhost ESMTP\r\n")
        f.flush()
        tls = False
        while True:
            line = f.readline()
            if not line:
                break
            verb = line.split()[0].upper() if line.split() else b""
            if verb == b"EHLO":
                f.write(b"250-localhost\r\n" + (b"" if tls else b"250-STARTTLS\r\n") + b"250 OK\r\n")
            elif verb == b"STARTTLS":
                f.write(b"220 go ahead\r\n")
                f.flush()
                conn = self.context.wrap_socket(conn, server_side=True)
                f = conn.makefile("rwb")
                tls = True
                continue
            elif verb == b"MAIL" or verb == b"RCPT":
                f.write(b"250 OK\r\n")
            elif verb == b"DATA":
                f.write(b"354 go\r\n")
                f.flush()
                body = b""
                while True:
                    part = f.readline()
                    if part == b".\r\n":
                        break
                    body += part
                self.messages.append((tls, body))
                f.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                f.write(b"221 bye\r\n")
                f.flush()
                break
            else:
                f.write(b"500 what\r\n")
            f.flush()
        conn.close()
        self.listener.close()


def test_smtplib_starttls(pki_files, client_context):
    server = MiniSMTPServer(pki_files)
    with smtplib.SMTP("localhost", server.port, timeout=10) as smtp:
        smtp.starttls(context=client_context)
        assert isinstance(smtp.sock, ssl.SSLSocket) and smtp.sock.version() == "TLSv1.3"
        smtp.sendmail("a@example.com", ["b@example.com"], "Subject: hi\r\n\r\nover cyssl")
    server.thread.join(10)
    assert server.messages and server.messages[0][0] is True
    assert b"over cyssl" in server.messages[0][1]


def test_get_server_certificate(https_server, pki_files):
    pem = cyssl.get_server_certificate(("localhost", https_server.port), ca_certs=str(pki_files.cafile))
    assert cyssl.PEM_cert_to_DER_cert(pem) == pki_files.leaf.der()
    assert cyssl.get_server_certificate(("localhost", https_server.port)) == pem   # unverified


def test_sendfile_over_tls(pki_files, tmp_path):
    """SSLSocket.sendfile falls back to send() (os.sendfile cannot encrypt)."""
    payload = bytes(range(256)) * 1000
    path = tmp_path / "payload.bin"
    path.write_bytes(payload)
    server_context = cyssl.SSLContext(cyssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(pki_files.certfile, pki_files.keyfile)
    listener = socket.create_server(("127.0.0.1", 0))
    received = bytearray()

    def serve():
        conn, _ = listener.accept()
        with server_context.wrap_socket(conn, server_side=True) as tls:
            while len(received) < len(payload):
                chunk = tls.recv(65536)
                if not chunk:
                    break
                received.extend(chunk)
            tls.sendall(b"done")
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client_context = cyssl.create_default_context(cafile=str(pki_files.cafile))
    with socket.create_connection(listener.getsockname()) as raw:
        with client_context.wrap_socket(raw, server_hostname="localhost") as tls:
            with open(path, "rb") as f:
                assert tls.sendfile(f) == len(payload)
            # Read before closing: closing with unread bytes (the server's session
            # tickets) makes the kernel reset the connection and drop data in flight.
            assert tls.recv(4) == b"done"
    thread.join(10)
    listener.close()
    assert bytes(received) == payload
