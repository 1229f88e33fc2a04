"""TLS 1.3 against the openssl command line (s_server / s_client subprocesses over
127.0.0.1), for what the stdlib cannot trigger: KeyUpdate both ways (the k / K
commands), HelloRetryRequest from either side, post-handshake client authentication."""
import socket

import pytest

from openssl_cli import OPENSSL, OpenSSLProcess, SocketDriver, free_port, start_server
from peers import client_config, client_connection, server_config, server_connection, trust
from cyssl.tls.config import VERIFY_REQUIRED

pytestmark = pytest.mark.skipif(OPENSSL is None, reason="the openssl command is not installed")


@pytest.fixture
def openssl_server(cli_pki):
    servers = []

    def start(*extra):
        port = free_port()
        cert, key = cli_pki["server"]
        servers.append(start_server(["-tls1_3", "-cert", str(cert), "-key", str(key),
                                     "-CAfile", str(cli_pki["ca"])] + list(extra), port))
        return servers[-1], port
    yield start
    for server in servers:
        server.close()


def cyssl_client(cli_pki, port, **settings):
    root, client_leaf = cli_pki["root"], cli_pki["client_leaf"]
    conn = client_connection(client_config(root, credentials=[([client_leaf.der()], client_leaf.key)],
                                           **settings), "localhost")
    driver = SocketDriver(conn, socket.create_connection(("127.0.0.1", port)))
    driver.until(lambda: conn.handshake_complete)
    return conn, driver


def test_key_update_both_ways_with_s_server(cli_pki, openssl_server):
    server, port = openssl_server()
    conn, driver = cyssl_client(cli_pki, port)
    try:
        conn.send(b"hello-from-cyssl\n")
        driver.flush()
        server.read_until("hello-from-cyssl")
        read_secret, write_secret = conn.read_secret, conn.write_secret
        server.command("k")                              # KeyUpdate, update_not_requested
        server.command("after-k")
        assert driver.read_exactly(8) == b"after-k\n"
        assert conn.read_secret != read_secret and conn.write_secret == write_secret
        server.command("K")                              # KeyUpdate, update_requested
        server.command("after-K")
        assert driver.read_exactly(8) == b"after-K\n"
        assert conn.write_secret != write_secret         # we answered with our own update
        conn.send(b"post-K-from-cyssl\n")
        driver.flush()
        server.read_until("post-K-from-cyssl")           # OpenSSL reads under our new key
        conn.update_keys(request_peer=True)              # and now we start one
        conn.send(b"client-updated\n")
        driver.flush()
        server.read_until("client-updated")
        server.command("reply")
        assert driver.read_exactly(6) == b"reply\n"
    finally:
        driver.sock.close()


def test_hello_retry_request_from_s_server(cli_pki, openssl_server):
    server, port = openssl_server("-groups", "P-384")
    conn, driver = cyssl_client(cli_pki, port)
    try:
        assert conn.handshake.retried and conn.group.name == "secp384r1"
        conn.send(b"after-retry\n")
        driver.flush()
        server.read_until("after-retry")
    finally:
        driver.sock.close()


def test_post_handshake_auth_requested_by_s_server(cli_pki, openssl_server):
    server, port = openssl_server()
    conn, driver = cyssl_client(cli_pki, port, post_handshake_auth=True)
    try:
        conn.send(b"ready\n")
        driver.flush()
        server.read_until("ready")
        server.command("c")                              # SSL_verify_client_post_handshake
        server.command("after-c")
        assert driver.read_exactly(8) == b"after-c\n"
        conn.send(b"authenticated\n")
        driver.flush()
        output = server.read_until("authenticated").decode()
        assert "depth=0 CN = client.example" in output and "verify return:1" in output
    finally:
        driver.sock.close()


def s_client(cli_pki, port, *extra):
    cert, key = cli_pki["client"]
    return OpenSSLProcess(["s_client", "-connect", "127.0.0.1:%d" % port, "-servername", "localhost",
                           "-tls1_3", "-CAfile", str(cli_pki["ca"]), "-enable_pha",
                           "-cert", str(cert), "-key", str(key)] + list(extra))


def test_s_client_against_cyssl_server(cli_pki):
    """HRR from our side (we prefer x25519, s_client sends P-256), KeyUpdate from
    s_client, then post-handshake authentication asked by us."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(10)
    client = s_client(cli_pki, listener.getsockname()[1], "-groups", "P-256:X25519")
    try:
        sock, _ = listener.accept()
        conn = server_connection(server_config(cli_pki["leaf"], trust_store=trust(cli_pki["root"])))
        driver = SocketDriver(conn, sock)
        driver.until(lambda: conn.handshake_complete)
        assert conn.handshake.cookie is not None and conn.group.name == "x25519"
        client.read_until("Verify return code: 0")
        client.command("hello-from-openssl")
        assert driver.read_exactly(19) == b"hello-from-openssl\n"
        read_secret, write_secret = conn.read_secret, conn.write_secret
        client.command("K")
        client.command("after-K")
        assert driver.read_exactly(8) == b"after-K\n"
        assert conn.read_secret != read_secret and conn.write_secret != write_secret
        conn.send(b"reply-after-K\n")
        driver.flush()
        client.read_until("reply-after-K")
        conn.config.verify_mode = VERIFY_REQUIRED
        conn.handshake.request_client_certificate()
        driver.flush()
        client.command("after-request")                  # s_client answers on its next I/O
        assert driver.read_exactly(14) == b"after-request\n"
        assert conn.peer_chain[0] == cli_pki["client_leaf"].der() and conn.verified_chain
        sock.close()
    finally:
        client.close()
        listener.close()
