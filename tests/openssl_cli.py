"""The openssl command line as a subprocess TLS peer on 127.0.0.1, and a socket driver for
cyssl engine connections (the engine itself does no I/O)."""
import os
import select
import shutil
import socket
import subprocess
import time

OPENSSL = shutil.which("openssl")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OpenSSLProcess:
    """``openssl s_server`` or ``s_client`` (or another ``program``: gnutls-cli...) with
    stdin for its interactive commands and stdout collected; killed on close."""

    def __init__(self, args, program=None):
        self.program = os.path.basename(program or OPENSSL)
        self.proc = subprocess.Popen([program or OPENSSL] + args, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.output = b""

    def command(self, text, settle=0.3):
        """One line on stdin. openssl reads stdin a buffer at a time and recognises a
        command ("k", "K", "c") only as a whole buffer, so lines are spaced out."""
        self.proc.stdin.write(text.encode() + b"\n")
        self.proc.stdin.flush()
        time.sleep(settle)

    def read_until(self, marker, timeout=10.0, count=1):
        """Read stdout until ``marker`` has appeared ``count`` times; returns all output."""
        deadline = time.monotonic() + timeout
        while self.output.count(marker.encode()) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("%s never printed %r; got:\n%s"
                                     % (self.program, marker, self.output.decode(errors="replace")))
            ready, _, _ = select.select([self.proc.stdout], [], [], remaining)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    raise AssertionError("%s exited; output:\n%s"
                                         % (self.program, self.output.decode(errors="replace")))
                self.output += chunk
        return self.output

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass


def wait_listening(port, process=None, timeout=10.0):
    """Whether something accepts TCP connections on 127.0.0.1:``port`` within ``timeout``
    (gives up early when ``process``, a Popen, has exited)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            if process is not None and process.poll() is not None:
                return False
            time.sleep(0.05)
    return False


def start_server(args, port):
    server = OpenSSLProcess(["s_server", "-accept", "127.0.0.1:%d" % port] + args)
    if wait_listening(port, server.proc):
        return server
    output = server.proc.stdout.read() if server.proc.poll() is not None else b""
    server.close()
    raise AssertionError("openssl s_server did not start: %s" % output.decode(errors="replace"))


class SocketDriver:
    """Moves bytes between a cyssl Connection and a TCP socket."""

    def __init__(self, conn, sock, timeout=10.0):
        self.conn = conn
        self.sock = sock
        self.sock.settimeout(timeout)

    def flush(self):
        data = self.conn.outgoing()
        if data:
            self.sock.sendall(data)

    def pump_once(self):
        self.flush()
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("peer closed the TCP connection")
        self.conn.receive(data)
        self.flush()

    def until(self, predicate):
        while not predicate():
            self.pump_once()

    def read_exactly(self, n):
        got = b""
        while len(got) < n:
            if not self.conn.pending:
                self.pump_once()
            got += self.conn.read(n - len(got))
        return got
