"""cyssl for type checkers: py.typed and the .pyi stubs of the Cython modules
(sslobject, channel, socketchannel), checked with mypy as user code meets them.

The stubs carry typeshed's signatures for ssl.SSLObject and ssl.MemoryBIO, so code
written against the stdlib (``import cyssl as ssl``) type-checks unchanged; mypy's
stubtest compares them with the compiled modules.
"""
import os
import subprocess
import sys
import textwrap

import pytest

import cyssl

# mypy and stubtest must see the same cyssl as this process (source tree or installed).
_CYSSL_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(cyssl.__file__)))
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(
    [_CYSSL_ROOT] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
ENV.pop("MYPYPATH", None)


@pytest.fixture(scope="module")
def mypy_available():
    """mypy, installed with pip the first time if it is missing."""
    try:
        import mypy  # noqa: F401
        return
    except ImportError:
        pass
    try:
        proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "mypy"],
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=600)
    except (OSError, subprocess.TimeoutExpired) as err:
        pytest.skip("mypy is not installed and pip could not install it: %s" % err)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        pytest.skip("mypy is not installed and `pip install mypy` failed: %s" % last)


def run_mypy(tmp_path, source, *options):
    """mypy on ``source`` (written to user_code.py); returns (exit code, output lines).
    Run in tmp_path with an empty config, so no project settings or cache interfere."""
    (tmp_path / "user_code.py").write_text(textwrap.dedent(source))
    (tmp_path / "mypy.ini").write_text("[mypy]\n")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--cache-dir", ".mypy_cache",
         "--show-error-codes", "--no-color-output", *options, "user_code.py"],
        cwd=tmp_path, env=ENV, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=300)
    return proc.returncode, (proc.stdout + proc.stderr).splitlines()


USER_CODE = '''\
    """Code written for the ssl module, run with cyssl in its place."""
    import socket

    import cyssl as ssl


    def https_head(host: str, port: int = 443) -> bytes:
        context = ssl.create_default_context()
        context.set_alpn_protocols(["h2", "http/1.1"])
        context.load_verify_locations(cafile="ca.pem")
        with socket.create_connection((host, port)) as raw:
            with context.wrap_socket(raw, server_hostname=host) as tls:
                cert = tls.getpeercert()
                if cert:
                    print(cert["subject"], cert.get("notAfter"))
                print(tls.version(), tls.cipher(), tls.selected_alpn_protocol())
                tls.sendall(b"HEAD / HTTP/1.0\\r\\n\\r\\n")
                data: bytes = tls.recv(4096)
                return data


    def memory_handshake(context: ssl.SSLContext, host: str) -> ssl.SSLObject:
        """The asyncio way: TLS over two memory BIOs."""
        incoming = ssl.MemoryBIO()
        outgoing = ssl.MemoryBIO()
        tls: ssl.SSLObject = context.wrap_bio(incoming, outgoing, server_hostname=host)
        try:
            tls.do_handshake()
        except ssl.SSLWantReadError:
            pass
        waiting: int = outgoing.pending
        wire: bytes = outgoing.read()
        fed: int = incoming.write(wire)
        incoming.write_eof()
        at_eof: bool = incoming.eof
        sent: int = tls.write(b"ping")
        sent += tls.write(memoryview(b"pong"))
        received: bytes = tls.read(1024)
        tls.read(64, bytearray(64))
        cert = tls.getpeercert()
        if cert is not None:
            subject = cert["subject"]
        der = tls.getpeercert(binary_form=True)
        if der is not None:
            print(der.hex())
        version: str | None = tls.version()
        cipher: tuple[str, str, int] | None = tls.cipher()
        alpn: str | None = tls.selected_alpn_protocol()
        chain: list[bytes] = tls.get_unverified_chain()
        binding: bytes | None = tls.get_channel_binding()
        server_side: bool = tls.server_side
        hostname: str | None = tls.server_hostname
        reused: bool = tls.session_reused
        tls.unwrap()
        return tls
'''

# Each line must draw exactly the error named; proof that mypy reads the stubs
# (without py.typed or the .pyi files it would find nothing wrong here).
MISUSE = '''\
    import cyssl as ssl


    def misuse(tls: ssl.SSLObject, bio: ssl.MemoryBIO) -> None:
        text: str = tls.read()
        bio.write(42)
        tls.getpeercert(True).hex()
        bio.pending = 3
        tls.write("text")
        closed = tls.unwrap()
'''
MISUSE_ERRORS = {
    5: "[assignment]",          # read() returns bytes
    6: "[arg-type]",            # write() takes a buffer
    7: "[union-attr]",          # getpeercert(True) may be None
    8: "[misc]",                # pending is read-only
    9: "[arg-type]",            # str is not a buffer
    10: "[func-returns-value]",  # unwrap() returns None
}


def test_user_code_type_checks(mypy_available, tmp_path):
    code, output = run_mypy(tmp_path, USER_CODE)
    assert code == 0, "\n".join(output)
    assert output[-1].startswith("Success: no issues found"), output


def test_mypy_reads_the_stubs(mypy_available, tmp_path):
    code, output = run_mypy(tmp_path, MISUSE)
    assert code == 1, "\n".join(output)
    errors = [line for line in output if ": error: " in line]
    found = {int(line.split(":")[1]): line for line in errors}
    assert len(errors) == len(MISUSE_ERRORS), "\n".join(output)
    for line_number, error_code in MISUSE_ERRORS.items():
        assert error_code in found.get(line_number, ""), "\n".join(output)


def test_user_code_type_checks_strict(mypy_available, tmp_path):
    code, output = run_mypy(tmp_path, USER_CODE, "--strict")
    assert code == 0, "\n".join(output)


# Differences stubtest reports that are intended:
STUBTEST_ALLOWLIST = r"""
# Cython's own module attributes.
cyssl\.(channel|sslobject|socketchannel)\.__(reduce|setstate)_cython__
cyssl\.(channel|sslobject|socketchannel)\.__test__
# cdef classes are disjoint bases; the stubs leave out @disjoint_base (PEP 800) so that
# type checkers older than it read them too.
cyssl\.channel\.TLSChannel
cyssl\.sslobject\.SSLObject
cyssl\.socketchannel\.SocketChannel
# Positional-only parameters, as in typeshed's ssl.MemoryBIO (the stdlib's are).
cyssl\.sslobject\.MemoryBIO\.(read|write)
"""


def test_stubs_match_the_compiled_modules(mypy_available, tmp_path):
    (tmp_path / "allowlist.txt").write_text(STUBTEST_ALLOWLIST)
    (tmp_path / "mypy.ini").write_text("[mypy]\n")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "--allowlist", "allowlist.txt",
         "--mypy-config-file", "mypy.ini",
         "cyssl.channel", "cyssl.sslobject", "cyssl.socketchannel"],
        cwd=tmp_path, env=ENV, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_package_ships_the_typing_files():
    package = os.path.dirname(os.path.abspath(cyssl.__file__))
    for name in ("py.typed", "sslobject.pyi", "channel.pyi", "socketchannel.pyi"):
        assert os.path.isfile(os.path.join(package, name)), name
