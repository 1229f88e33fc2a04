"""TLS 1.2 against the openssl command line: renegotiation attempts from either side are
refused cleanly (RFC 5746 no_renegotiation warning) and the connection carries on."""
import socket

import pytest

from cyssl.tls.errors import TLSError
from openssl_cli import OPENSSL, OpenSSLProcess, SocketDriver, free_port, start_server
from peers import client_config, client_connection, server_config, server_connection

pytestmark = pytest.mark.skipif(OPENSSL is None, reason="the openssl command is not installed")


def test_s_server_renegotiation_request_is_refused(cli_pki):
    cert, key = cli_pki["server"]
    port = free_port()
    server = start_server(["-tls1_2", "-cert", str(cert), "-key", str(key)], port)
    try:
        conn = client_connection(client_config(cli_pki["root"]), "localhost")
        driver = SocketDriver(conn, socket.create_connection(("127.0.0.1", port)))
        driver.until(lambda: conn.handshake_complete)
        assert conn.version == 0x0303
        conn.send(b"hello\n")
        driver.flush()
        server.read_until("hello")
        server.command("R")                                # HelloRequest
        server.command("after-R")
        assert driver.read_exactly(8) == b"after-R\n"      # read under the old keys
        assert conn.error is None                          # we refused with a warning only
        # OpenSSL's server treats that refusal as fatal (handshake_failure): we are told
        # so cleanly, as a received alert, never as a hang or another exception.
        conn.send(b"still-here\n")
        with pytest.raises(TLSError) as info:
            driver.until(lambda: False)
        assert info.value.received and info.value.alert_name == "handshake_failure"
        assert "no renegotiation" in server.read_until("no renegotiation").decode(errors="replace")
        driver.sock.close()
    finally:
        server.close()


def test_s_client_renegotiation_is_refused(cli_pki):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(10)
    client = OpenSSLProcess(["s_client", "-connect", "127.0.0.1:%d" % listener.getsockname()[1],
                             "-servername", "localhost", "-tls1_2", "-CAfile", str(cli_pki["ca"])])
    try:
        sock, _ = listener.accept()
        conn = server_connection(server_config(cli_pki["leaf"]))
        driver = SocketDriver(conn, sock)
        driver.until(lambda: conn.handshake_complete)
        assert conn.version == 0x0303
        client.read_until("Verify return code: 0")
        client.command("R")                                 # a new ClientHello, encrypted
        sock.settimeout(5)
        try:
            driver.pump_once()                              # we answer no_renegotiation
            driver.pump_once()                              # OpenSSL gives up on its side
        except (TLSError, EOFError, OSError):
            pass
        assert conn.error is None or conn.error.received    # nothing failed on our side
        output = client.read_until("no renegotiation").decode(errors="replace")
        assert "RENEGOTIATING" in output
        sock.close()
    finally:
        client.close()
        listener.close()
