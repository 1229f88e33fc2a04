"""Application data that arrives in the same batch as a failure after it (a forged record,
a fatal alert) is read first and the failure is reported to the read after it, as the
stdlib (OpenSSL, which reads a record at a time) does: nothing the peer did send is
lost. Each situation is played with the stdlib reading too, as the oracle."""
import ssl

import pytest

import cyssl
from test_api_sslobject import Pair, client_context, server_context

VERSIONS = [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3]


def forged_second_record(server):
    server.write(b"world")                       # its record is the one forged
    return lambda batch: batch[:-20] + bytes([batch[-20] ^ 1]) + batch[-19:]


def fatal_alert(server):
    server.conn.send_alert(80)                   # internal_error
    return lambda batch: batch + server.conn.outgoing()


def close_notify(server):
    server.conn.close()
    return lambda batch: batch + server.conn.outgoing()


def reads(pki_files, reader_lib, version, into_buffer, situation):
    """What a client of ``reader_lib`` gets from a cyssl server's b"hello" followed, in
    the same batch, by ``situation``: the data read, then the next two outcomes."""
    server_ctx = server_context(pki_files, cyssl)
    server_ctx.maximum_version = version
    pair = Pair(client_context(pki_files, reader_lib), server_ctx, cyssl.MemoryBIO)
    pair.handshake()
    pair.server.write(b"hello")
    rewrite = situation(pair.server)
    pair.c_in.write(rewrite(pair.s_out.read()))
    data, outcomes = b"", []
    buffer = bytearray(100)
    while len(outcomes) < 2:
        try:
            chunk = (bytes(buffer[:pair.client.read(100, buffer)]) if into_buffer
                     else pair.client.read(100))
        except ssl.SSLError as err:
            outcomes.append((type(err).__name__, err.reason))
            continue
        if chunk:
            data += chunk
        else:
            outcomes.append("end of stream")
    return data, outcomes


@pytest.mark.parametrize("situation", [forged_second_record, fatal_alert, close_notify])
@pytest.mark.parametrize("into_buffer", [True, False], ids=["buffer", "bytes"])
@pytest.mark.parametrize("version", VERSIONS, ids=["tls12", "tls13"])
def test_data_before_a_failure_is_read_first(pki_files, version, into_buffer, situation):
    ours = reads(pki_files, cyssl, version, into_buffer, situation)
    assert ours[0] == b"hello"
    assert ours == reads(pki_files, ssl, version, into_buffer, situation)
