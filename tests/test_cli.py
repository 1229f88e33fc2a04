"""python -m cyssl client / server (and --help of every command), run as a user runs
them: subprocesses talking over 127.0.0.1, plus curl as an independent client.

The server is started with ``--port 0``; its first line of output names the port it
listens on, and the test reads it from there.
"""
import hashlib
import os
import queue
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading

import pytest

import cyssl
import pki
from peers import recv_to_eof

# The subprocesses import the same cyssl as this test process (the source tree or the
# installed package, whichever pytest runs against).
_CYSSL_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(cyssl.__file__)))
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(
    [_CYSSL_ROOT] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
ENV.pop("SSLKEYLOGFILE", None)
TIMEOUT = 30

EXIT_USAGE, EXIT_NETWORK, EXIT_TLS = 2, 3, 4


def cyssl_command(*args):
    return [sys.executable, "-m", "cyssl"] + [str(a) for a in args]


def run_cyssl(*args):
    return subprocess.run(cyssl_command(*args), capture_output=True, text=True, env=ENV,
                          stdin=subprocess.DEVNULL, timeout=TIMEOUT)


class Server:
    """``python -m cyssl server --port 0 ...`` in the background. Its output is read by a
    thread, so waiting for a line can time out instead of hanging the test."""

    def __init__(self, *args):
        self.proc = subprocess.Popen(cyssl_command("server", "--port", "0", *args),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=ENV)
        self.lines = queue.Queue()
        self.output = []
        threading.Thread(target=self._pump, daemon=True).start()
        first = self.next_line()
        assert first.startswith("listening on "), first
        self.port = int(first.rsplit(":", 1)[1])
        certificate = self.next_line()
        assert certificate.startswith("certificate: "), certificate
        self.certfile = certificate[len("certificate: "):]

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def next_line(self, timeout=TIMEOUT):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("server printed nothing for %ds; so far: %r"
                                 % (timeout, self.output)) from None
        if line is None:
            raise AssertionError("server ended early (%r): stdout %r, stderr %r"
                                 % (self.proc.wait(), self.output, self.proc.stderr.read()))
        self.output.append(line)
        return line

    def wait_for(self, text):
        """The next line containing ``text``."""
        while True:
            line = self.next_line()
            if text in line:
                return line

    def finish(self, interrupt=False):
        """(exit code, all stdout lines, stderr) once the server has ended."""
        if interrupt:
            self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=TIMEOUT)
        while True:
            line = self.lines.get(timeout=TIMEOUT)
            if line is None:
                break
            self.output.append(line)
        return code, self.output, self.proc.stderr.read()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture
def chain_files(tmp_path):
    """A root, an intermediate and a localhost leaf; (certfile, keyfile, cafile)."""
    root = pki.CA.root()
    intermediate = root.intermediate()
    leaf = intermediate.leaf()
    certfile, keyfile = pki.write_chain(tmp_path, leaf, intermediate)
    cafile = tmp_path / "root.pem"
    cafile.write_bytes(root.cert_pem())
    return certfile, keyfile, cafile


def closed_port():
    """A port on 127.0.0.1 nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- --help ----------------------------------------------------------------------------

@pytest.mark.parametrize("command, options", [
    ([], ["demo", "client", "server", "exit codes"]),
    (["demo"], ["--message"]),
    (["client"], ["HOST:PORT", "--alpn", "--cafile", "--servername", "--insecure", "--timeout"]),
    (["server"], ["--cert", "--key", "--port", "--host", "--alpn", "--once"]),
])
def test_help(command, options):
    result = run_cyssl(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python -m cyssl")
    for option in options:
        assert option in result.stdout


# --- client against server ----------------------------------------------------------------

def test_client_against_server_with_throwaway_certificate():
    with Server("--once") as server:
        with open(server.certfile) as f:
            der = ssl.PEM_cert_to_DER_cert(f.read())
        result = run_cyssl("client", "127.0.0.1:%d" % server.port, "--cafile", server.certfile,
                           "--alpn", "h2", "http/1.1")
        code, out, err = server.finish()
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert "  version:       TLSv1.3" in lines
    assert "  key exchange:  X25519MLKEM768" in lines
    assert "  ALPN:          http/1.1" in lines
    assert any(line.startswith("  cipher suite:  TLS_") for line in lines)
    assert any(line.startswith("  verification:  OK") for line in lines)
    assert any(line.startswith("  handshake:     ") and " ms" in line for line in lines)
    assert "peer certificate chain (1, as sent by the peer):" in lines
    assert "  [0] subject:  CN=localhost" in lines
    assert "      issuer:   CN=localhost" in lines
    assert "      SANs:     DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1" in lines
    assert any(line.startswith("      valid:    ") and " GMT  until  " in line for line in lines)

    assert code == 0, err
    digest = hashlib.sha256(der).hexdigest().upper()
    fingerprint = ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))
    assert "  SHA-256 fingerprint: %s" % fingerprint in out
    assert any("X25519MLKEM768" in line and "ALPN=http/1.1" in line for line in out), out
    assert not os.path.exists(server.certfile)          # the throwaway files are removed


def test_client_shows_the_whole_chain(chain_files):
    certfile, keyfile, cafile = chain_files
    with Server("--once", "--cert", certfile, "--key", keyfile) as server:
        assert server.certfile == str(certfile)
        result = run_cyssl("client", "localhost:%d" % server.port, "--cafile", cafile)
        code, out, err = server.finish()
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "connected to localhost:%d, server name localhost" % server.port in lines
    assert "  ALPN:          (none)" in lines
    assert "peer certificate chain (2, as sent by the peer):" in lines
    index = lines.index("  [0] subject:  CN=localhost")
    assert lines[index + 1] == "      issuer:   CN=cyssl test intermediate"
    assert lines[index + 3] == "      SANs:     DNS:localhost, IP Address:127.0.0.1, " \
                               "IP Address:0:0:0:0:0:0:0:1"
    index = lines.index("  [1] subject:  CN=cyssl test intermediate")
    assert lines[index + 1] == "      issuer:   CN=cyssl test root"
    assert lines[index + 3] == "      SANs:     (none)"
    assert code == 0, err
    assert any("SNI=localhost" in line for line in out), out


def test_client_insecure_skips_verification():
    with Server("--once") as server:
        result = run_cyssl("client", "127.0.0.1:%d" % server.port, "--insecure")
        server.finish()
    assert result.returncode == 0, result.stderr
    assert "  verification:  skipped (--insecure)" in result.stdout.splitlines()
    assert "  [0] subject:  CN=localhost" in result.stdout.splitlines()


def ipv6_loopback_available():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback_available(), reason="no IPv6 loopback (::1) here")
def test_client_and_server_over_ipv6():
    with Server("--once", "--host", "::1") as server:
        assert server.output[0] == "listening on [::1]:%d" % server.port
        result = run_cyssl("client", "[::1]:%d" % server.port, "--cafile", server.certfile)
        code, out, err = server.finish()
    assert result.returncode == 0, result.stderr
    assert "connected to [::1]:%d, server name ::1" % server.port in result.stdout
    assert "  version:       TLSv1.3" in result.stdout.splitlines()
    assert code == 0, err


# --- client failures ----------------------------------------------------------------------

def test_client_connection_refused():
    result = run_cyssl("client", "127.0.0.1:%d" % closed_port(), "--timeout", "5")
    assert result.returncode == EXIT_NETWORK, result
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert "cannot connect to 127.0.0.1:" in result.stderr
    assert "refused" in result.stderr.lower()


def test_client_wrong_servername_fails_verification():
    with Server("--once") as server:
        result = run_cyssl("client", "127.0.0.1:%d" % server.port, "--cafile", server.certfile,
                           "--servername", "wrong.example")
        code, out, err = server.finish()
    assert result.returncode == EXIT_TLS, result
    assert len(result.stderr.splitlines()) == 1
    assert "Hostname mismatch" in result.stderr
    assert "'wrong.example'" in result.stderr
    assert "verify_code 62" in result.stderr                # X509_V_ERR_HOSTNAME_MISMATCH
    # The server saw the client's alert; with --once that is its exit code too.
    assert code == EXIT_TLS, (out, err)
    assert any("handshake failed" in line and "bad certificate" in line for line in out), out


def test_client_untrusted_certificate():
    with Server("--once") as server:
        result = run_cyssl("client", "127.0.0.1:%d" % server.port)   # system trust store
        server.finish()
    assert result.returncode == EXIT_TLS, result
    assert "self-signed certificate" in result.stderr
    assert "verify_code 18" in result.stderr      # X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT


@pytest.mark.parametrize("args, message", [
    (["127.0.0.1:http"], "bad port"),
    (["127.0.0.1:0"], "bad port"),
    (["::1:443"], "[ADDR]:PORT"),
    (["127.0.0.1:443", "--cafile", "/nonexistent/ca.pem"], "cannot load --cafile"),
    ([], "required: HOST:PORT"),
])
def test_client_usage_errors(args, message):
    result = run_cyssl("client", *args)
    assert result.returncode == EXIT_USAGE, result
    assert message in result.stderr


def test_server_usage_errors(tmp_path):
    result = run_cyssl("server", "--key", tmp_path / "key.pem")
    assert result.returncode == EXIT_USAGE
    assert "--key needs --cert" in result.stderr
    result = run_cyssl("server", "--cert", tmp_path / "missing.pem")
    assert result.returncode == EXIT_USAGE
    assert "cannot load the certificate and key" in result.stderr


def test_server_port_in_use():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run_cyssl("server", "--port", taken.getsockname()[1])
    assert result.returncode == EXIT_NETWORK, result
    assert "cannot listen on 127.0.0.1 port" in result.stderr


# --- the server ------------------------------------------------------------------------

def test_server_answers_every_request_on_a_connection():
    """Two requests on one connection (keep-alive, then Connection: close); what came
    from the client is escaped in the page."""
    with Server("--once") as server:
        context = cyssl.create_default_context(cafile=server.certfile)
        context.set_alpn_protocols(["http/1.1"])
        with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as raw, \
                context.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(b"GET /first HTTP/1.1\r\nHost: localhost\r\n\r\n"
                        b"GET /<b>second</b> HTTP/1.1\r\nHost: localhost\r\n"
                        b"Connection: close\r\n\r\n")
            response = recv_to_eof(tls)
        code, out, err = server.finish()
    text = response.decode()
    assert text.count("HTTP/1.1 200 OK\r\n") == 2
    first, second = text.split("HTTP/1.1 200 OK\r\n")[1:]
    assert "Connection: keep-alive" in first and "GET /first HTTP/1.1" in first
    assert "Connection: close" in second
    assert "GET /&lt;b&gt;second&lt;/b&gt; HTTP/1.1" in second and "<b>" not in second
    for page in (first, second):
        assert "<tr><th>TLS version</th><td>TLSv1.3</td></tr>" in page
        assert "<tr><th>Key exchange</th><td>X25519MLKEM768</td></tr>" in page
        assert "<tr><th>ALPN</th><td>http/1.1</td></tr>" in page
        assert "<tr><th>SNI</th><td>localhost</td></tr>" in page
    assert code == 0, err


def test_server_serves_connections_in_threads_and_stops_on_ctrl_c():
    with Server() as server:
        # A client that connects and never speaks must not hold up the next one.
        with socket.create_connection(("127.0.0.1", server.port)):
            result = run_cyssl("client", "127.0.0.1:%d" % server.port, "--cafile", server.certfile)
            assert result.returncode == 0, result.stderr
            server.wait_for("X25519MLKEM768")
            result = run_cyssl("client", "127.0.0.1:%d" % server.port, "--cafile", server.certfile)
            assert result.returncode == 0, result.stderr
        code, out, err = server.finish(interrupt=True)
    assert code == 0
    assert "stopped" in out           # (the stalled connection's log line may come after)
    assert "Traceback" not in err, err
    assert not os.path.exists(server.certfile)


# --- curl ------------------------------------------------------------------------------

CURL = shutil.which("curl")


@pytest.mark.skipif(CURL is None, reason="curl is not installed (Debian package curl)")
def test_curl_against_server(chain_files):
    certfile, keyfile, cafile = chain_files
    with Server("--once", "--cert", certfile, "--key", keyfile) as server:
        result = subprocess.run(
            [CURL, "--silent", "--show-error", "--cacert", str(cafile),
             "--resolve", "localhost:%d:127.0.0.1" % server.port,
             "--write-out", "\nHTTP %{http_code}",
             "https://localhost:%d/hello?from=curl" % server.port],
            capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
        code, out, err = server.finish()
    assert result.returncode == 0, result.stderr
    body, _, status = result.stdout.rpartition("\n")
    assert status == "HTTP 200"
    assert "<h1>Hello from cyssl</h1>" in body
    assert "<tr><th>TLS version</th><td>TLSv1.3</td></tr>" in body
    assert "<tr><th>SNI</th><td>localhost</td></tr>" in body
    assert "<tr><th>ALPN</th><td>http/1.1</td></tr>" in body
    assert "GET /hello?from=curl HTTP/1.1" in body
    assert code == 0, err
    assert any("GET /hello?from=curl HTTP/1.1" in line for line in out), out
