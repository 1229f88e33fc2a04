"""Wire check: Wireshark's tshark, given only cyssl's key log (SSLContext.keylog_filename),
decrypts a captured cyssl connection and shows the HTTP inside in clear.

A cyssl client and a cyssl server (both through the ssl API, on 127.0.0.1) exchange one
HTTP/1.1 request and response carrying fresh tokens while dumpcap (or tshark itself, if
dumpcap cannot) captures the loopback interface; then tshark reads the capture with the
key log of one side. TLS 1.3 (X25519MLKEM768, cyssl's default) and TLS 1.2, each with the
client's and with the server's key log. Controls: the tokens are not in the capture's bytes,
and tshark without the key log shows no HTTP.

tshark comes from Debian (apt_packages installs it when missing, as root, non-interactive);
capturing on loopback needs root (CI is root). When neither is possible the tests skip,
saying why.
"""
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

import cyssl
from apt_packages import report, require
from interop_matrix import recv_until
from peers import recv_to_eof

PACKAGES = {"tshark": "tshark", "dumpcap": "tshark"}       # dumpcap: wireshark-common, a dependency
IO_TIMEOUT = 10.0
PROC_TIMEOUT = 60
VERSIONS = {"TLSv1.3": cyssl.TLSVersion.TLSv1_3, "TLSv1.2": cyssl.TLSVersion.TLSv1_2}
SUITE_CODES = {"TLS_AES_128_GCM_SHA256": 0x1301, "TLS_AES_256_GCM_SHA384": 0x1302,
               "TLS_CHACHA20_POLY1305_SHA256": 0x1303,
               "ECDHE-ECDSA-AES128-GCM-SHA256": 0xC02B, "ECDHE-ECDSA-AES256-GCM-SHA384": 0xC02C,
               "ECDHE-ECDSA-CHACHA20-POLY1305": 0xCCA9}


@pytest.fixture(scope="module")
def tshark(pytestconfig):
    require(pytestconfig, PACKAGES, "wire check")
    path = shutil.which("tshark")
    version = subprocess.run([path, "--version"], capture_output=True, text=True,
                             timeout=PROC_TIMEOUT).stdout.splitlines()[0]
    report(pytestconfig, "\n" + version)
    return path


class Capture:
    """Capture TCP port ``port`` on the loopback interface into ``path`` while in the
    ``with`` block: with dumpcap, or tshark when dumpcap cannot start.

    "Capturing on 'lo'" comes before packets are really seen, so the capture also takes a
    UDP probe port: probes go out until one shows in the file (which the program writes
    in batches, some tenths of a second apart); from then on nothing is missed."""

    def __init__(self, path, port):
        self.path = path
        self.port = port
        self.proc = None
        self.log = ""

    def _start(self, program):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))            # a free port, for the probes only
            probe_port = probe.getsockname()[1]
            args = [program, "-i", "lo", "-f", "tcp port %d or udp port %d" % (self.port, probe_port),
                    "-w", str(self.path)]
            proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, start_new_session=True)
            deadline = time.monotonic() + 20
            err = b""
            while time.monotonic() < deadline:          # until it says it is capturing
                line = proc.stderr.readline()
                err += line
                if b"Capturing on" in line or (not line and proc.poll() is not None):
                    break
            while proc.poll() is None and time.monotonic() < deadline:
                size = self.path.stat().st_size if self.path.exists() else 0
                if size and self._probed(probe, probe_port, size, deadline):
                    return proc
                time.sleep(0.02)
        self._kill(proc)
        self.log += "%s: %s\n" % (os.path.basename(program), err.decode(errors="replace").strip())
        return None

    def _probed(self, probe, probe_port, empty_size, deadline):
        """Send probes until the capture file grows past its headers."""
        while time.monotonic() < deadline:
            probe.sendto(b"cyssl capture probe", ("127.0.0.1", probe_port))
            time.sleep(0.05)
            if self.path.stat().st_size > empty_size:
                return True
        return False

    def __enter__(self):
        for program in ("dumpcap", "tshark"):
            if shutil.which(program):
                self.proc = self._start(shutil.which(program))
                if self.proc is not None:
                    return self
        pytest.skip("cannot capture on lo: " + (self.log.strip() or "no dumpcap or tshark"))

    def __exit__(self, *exc):
        time.sleep(0.3)                             # let the last segments reach the ring
        try:
            self.proc.send_signal(signal.SIGINT)    # flushes and closes the file
            self.proc.wait(timeout=20)
        finally:
            self._kill(self.proc)

    @staticmethod
    def _kill(proc):
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()


def contexts(pki_files, version, keylog_side, keylog):
    server = cyssl.SSLContext(cyssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(pki_files.certfile, pki_files.keyfile)
    client = cyssl.SSLContext(cyssl.PROTOCOL_TLS_CLIENT)
    client.load_verify_locations(cafile=str(pki_files.cafile))
    for ctx in (server, client):
        ctx.set_alpn_protocols(["http/1.1"])
        ctx.minimum_version = ctx.maximum_version = VERSIONS[version]
    (client if keylog_side == "client" else server).keylog_filename = str(keylog)
    return server, client


def converse(listener, server_ctx, client_ctx, request, response):
    """One HTTP exchange between two cyssl SSLSockets; returns the client's SSLSocket facts."""
    failures = []

    def serve():
        try:
            raw, _ = listener.accept()
            raw.settimeout(IO_TIMEOUT)
            with server_ctx.wrap_socket(raw, server_side=True) as tls:
                got = recv_until(tls, b"\r\n\r\n")
                assert got == request, got
                tls.sendall(response)
                tls.unwrap()                                    # close_notify
        except Exception as err:                                # reported below
            failures.append(err)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    with socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT) as raw:
        with client_ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(request)
            got = recv_to_eof(tls)
            facts = {"version": tls.version(), "cipher": tls.cipher()[0],
                     "group": tls._sslobj.conn.group.name, "alpn": tls.selected_alpn_protocol()}
    thread.join(IO_TIMEOUT * 2)
    assert not failures, failures
    assert got == response
    return facts


def run_tshark(tshark_path, capture, port, keylog, fields, display_filter):
    args = [tshark_path, "-r", str(capture), "-d", "tcp.port==%d,tls" % port,
            "-o", "tls.keylog_file:%s" % (keylog or ""), "-Y", display_filter, "-T", "fields"]
    for field in fields:
        args += ["-e", field]
    proc = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=PROC_TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    return [line.split("\t") for line in proc.stdout.splitlines() if line.strip()]


@pytest.mark.parametrize("keylog_side", ["client", "server"])
@pytest.mark.parametrize("version", ["TLSv1.3", "TLSv1.2"])
def test_tshark_decrypts_cyssl_with_its_keylog(tshark, pki_files, tmp_path, version, keylog_side):
    uri_token, body_token = "up-" + secrets.token_hex(8), "down-" + secrets.token_hex(8)
    request = ("GET /%s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" % uri_token).encode()
    body = ("cyssl wire check %s\n" % body_token).encode()
    response = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                b"Connection: close\r\n\r\n" % len(body)) + body
    keylog = tmp_path / "keys.log"
    capture = tmp_path / "cap.pcapng"
    server_ctx, client_ctx = contexts(pki_files, version, keylog_side, keylog)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(IO_TIMEOUT)
        port = listener.getsockname()[1]
        with Capture(capture, port):
            facts = converse(listener, server_ctx, client_ctx, request, response)
    assert facts["version"] == version and facts["alpn"] == "http/1.1"
    if version == "TLSv1.3":
        assert facts["group"] == "X25519MLKEM768"           # cyssl's default, both ends
    lines = [line for line in keylog.read_text().splitlines() if not line.startswith("#")]
    labels = {line.split()[0] for line in lines}
    assert labels == ({"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                       "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET"}
                      if version == "TLSv1.3" else {"CLIENT_RANDOM"}), lines

    raw = capture.read_bytes()
    assert uri_token.encode() not in raw and body_token.encode() not in raw   # encrypted on the wire

    hello = run_tshark(tshark, capture, port, None, ["tls.handshake.ciphersuite"],
                       "tls.handshake.type == 2")
    assert hello and int(hello[0][0], 0) == SUITE_CODES[facts["cipher"]], hello
    assert not run_tshark(tshark, capture, port, None, ["http.request.uri"], "http"), \
        "tshark showed HTTP without the key log"

    shown = run_tshark(tshark, capture, port, keylog,
                       ["http.request.uri", "http.response.code", "http.file_data"], "http")
    assert ["/" + uri_token, "", ""] in shown, shown
    responses = [row for row in shown if row[1] == "200"]
    assert responses, shown
    file_data = responses[0][2]
    text = bytes.fromhex(file_data.replace(":", "")).decode() if re.fullmatch(r"[0-9a-f:]+", file_data) \
        else file_data
    assert body_token in text, shown
