"""SSLContext behaviour beyond attributes: server name callbacks, key logs, sharing a
context between threads, and cyssl without a stdlib ssl module."""
import os
import ssl
import subprocess
import sys
import threading

import pytest

import cyssl
from test_api_sslobject import Pair, client_context, server_context


def test_sni_callback_sees_the_name_and_can_switch_context(pki_files):
    import pki
    other_leaf = pki_files.root.leaf(hosts=("other.example",))
    import tempfile
    from pathlib import Path
    directory = Path(tempfile.mkdtemp())
    other_cert, other_key = pki.write_chain(directory, other_leaf)
    other_context = cyssl.SSLContext(cyssl.PROTOCOL_TLS_SERVER)
    other_context.load_cert_chain(other_cert, other_key)
    seen = []

    def callback(ssl_object, server_name, context):
        seen.append((type(ssl_object).__name__, server_name, context))
        if server_name == "other.example":
            ssl_object.context = other_context
        if server_name == "refused.example":
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        return None

    server = server_context(pki_files, cyssl)
    server.sni_callback = callback
    pair = Pair(client_context(pki_files, ssl), server, hostname="other.example")
    pair.handshake()
    assert seen[-1][1] == "other.example" and seen[-1][2] is server
    assert pair.client.getpeercert()["subjectAltName"] == (("DNS", "other.example"),)
    assert pair.server.context is other_context

    refusing = client_context(pki_files, ssl)
    refusing.check_hostname = False
    refusing.verify_mode = ssl.CERT_NONE
    pair = Pair(refusing, server, hostname="refused.example")
    with pytest.raises(ssl.SSLError) as info:
        pair.handshake()
    assert info.value.reason == "CALLBACK_FAILED"          # our side, as OpenSSL names it
    pair.pump()
    with pytest.raises(ssl.SSLError) as info:
        pair.client.do_handshake()
    assert "unrecognized name" in str(info.value).lower()   # the peer got the alert

    pair = Pair(client_context(pki_files, ssl), server, hostname="localhost")
    server.set_servername_callback(lambda obj, name, ctx: seen.append(("shim", name)))
    pair.handshake()
    assert seen[-1] == ("shim", "localhost")


def test_keylog_filename_and_sslkeylogfile(pki_files, tmp_path, monkeypatch):
    keylog = tmp_path / "keys.log"
    monkeypatch.setenv("SSLKEYLOGFILE", str(keylog))
    client = cyssl.create_default_context(cafile=str(pki_files.cafile))
    assert client.keylog_filename == str(keylog)
    pair = Pair(client, server_context(pki_files))
    pair.handshake()
    labels = {line.split()[0] for line in keylog.read_text().splitlines()}
    assert {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_TRAFFIC_SECRET_0"} <= labels
    with pytest.raises(OSError):
        client.keylog_filename = str(tmp_path / "missing-dir" / "keys.log")


def test_a_context_shared_and_mutated_by_threads(pki_files):
    """urllib3 and httpcore set ALPN and verify_mode on shared contexts per connection."""
    client = client_context(pki_files)
    server = server_context(pki_files)
    errors = []

    def worker():
        try:
            for _ in range(5):
                client.set_alpn_protocols(["http/1.1"])
                client.verify_mode = ssl.CERT_REQUIRED
                client.load_verify_locations(pki_files.cafile)
                pair = Pair(client, server)
                pair.handshake()
                pair.client.write(b"x")
                pair.pump()
                assert pair.server.read(1) == b"x"
        except Exception as exc:
            errors.append(exc)
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []


def test_cyssl_works_without_a_stdlib_ssl_module(tmp_path):
    """An interpreter built without OpenSSL: cyssl defines its own classes and constants."""
    script = tmp_path / "no_ssl.py"
    script.write_text('''
import sys
sys.modules["ssl"] = None            # "import ssl" now fails, as without OpenSSL
sys.modules["_ssl"] = None
import cyssl
from cyssl.crypto.throwaway import self_signed_certificate
assert cyssl.SSLError.__module__.startswith("cyssl") and issubclass(cyssl.SSLError, OSError)
assert cyssl.CERT_REQUIRED == 2 and cyssl.PROTOCOL_TLS_CLIENT == 16
der, key = self_signed_certificate(("localhost",))
from cryptography.hazmat.primitives import serialization
import tempfile, os
d = tempfile.mkdtemp()
open(os.path.join(d, "c.pem"), "wb").write(cyssl.DER_cert_to_PEM_cert(der).encode())
open(os.path.join(d, "k.pem"), "wb").write(key.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
server = cyssl.SSLContext(cyssl.PROTOCOL_TLS_SERVER)
server.load_cert_chain(os.path.join(d, "c.pem"), os.path.join(d, "k.pem"))
client = cyssl.create_default_context(cafile=os.path.join(d, "c.pem"))
bios = [cyssl.MemoryBIO() for _ in range(4)]
c = client.wrap_bio(bios[0], bios[1], server_hostname="localhost")
s = server.wrap_bio(bios[2], bios[3], server_side=True)
for _ in range(5):
    for side in (c, s):
        try:
            side.do_handshake()
        except cyssl.SSLWantReadError:
            pass
    bios[2].write(bios[1].read()); bios[0].write(bios[3].read())
c.write(b"no stdlib ssl"); bios[2].write(bios[1].read())
assert s.read() == b"no stdlib ssl"
print("ok", c.version(), c.cipher()[0])
''')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok TLSv1.3")
