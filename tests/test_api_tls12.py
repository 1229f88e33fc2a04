"""TLS 1.2 through the ssl-compatible API: version bounds, set_ciphers, what the
connection reports (version, cipher, shared_ciphers, tls-unique) and sessions."""
import ssl

import pytest

import cyssl
from test_api_sslobject import Pair, client_context, server_context


def capped_server(pki_files, lib=ssl):
    ctx = server_context(pki_files, lib)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def test_version_bounds_choose_the_protocol(pki_files):
    client = client_context(pki_files)
    client.maximum_version = ssl.TLSVersion.TLSv1_2
    pair = Pair(client, server_context(pki_files))
    pair.handshake()
    assert pair.client.version() == pair.server.version() == "TLSv1.2"
    client = client_context(pki_files)
    client.options |= ssl.OP_NO_TLSv1_3
    pair = Pair(client, server_context(pki_files))
    pair.handshake()
    assert pair.client.version() == "TLSv1.2"
    client = client_context(pki_files)
    client.minimum_version = ssl.TLSVersion.TLSv1_3
    pair = Pair(client, capped_server(pki_files))
    with pytest.raises(ssl.SSLError):
        pair.handshake()
    both_off = client_context(pki_files)
    both_off.options |= ssl.OP_NO_TLSv1_3 | ssl.OP_NO_TLSv1_2
    with pytest.raises(ssl.SSLError) as info:
        Pair(both_off, server_context(pki_files)).handshake()
    assert info.value.reason == "NO_PROTOCOLS_AVAILABLE"


def test_what_a_tls12_connection_reports(pki_files):
    for client_lib, server_lib in ((cyssl, ssl), (ssl, cyssl)):
        client = client_context(pki_files, client_lib)
        server = capped_server(pki_files, server_lib)
        pair = Pair(client, server)
        pair.handshake()
        for ours, theirs in ((pair.client, pair.server), (pair.server, pair.client)):
            assert ours.version() == theirs.version() == "TLSv1.2"
            assert ours.cipher() == theirs.cipher()
            assert ours.get_channel_binding("tls-unique") == theirs.get_channel_binding("tls-unique")
        if client_lib is cyssl:
            assert pair.client.shared_ciphers() is None     # known server-side only, as OpenSSL
        else:
            names = {name for name, _, _ in pair.server.shared_ciphers()}
            assert pair.server.cipher()[0] in names


def test_set_ciphers_selects_the_tls12_suite(pki_files):
    client = client_context(pki_files)
    client.set_ciphers("ECDHE-ECDSA-CHACHA20-POLY1305")
    pair = Pair(client, capped_server(pki_files))
    pair.handshake()
    assert pair.client.cipher() == ("ECDHE-ECDSA-CHACHA20-POLY1305", "TLSv1.2", 256)
    assert pair.server.cipher()[0] == "ECDHE-ECDSA-CHACHA20-POLY1305"
    server = capped_server(pki_files, cyssl)
    server.set_ciphers("ECDHE+AES256")
    pair = Pair(client_context(pki_files, ssl), server)
    pair.handshake()
    assert pair.client.cipher()[0] == "ECDHE-ECDSA-AES256-GCM-SHA384"


def test_tls12_sessions_through_the_api(pki_files):
    server = capped_server(pki_files)
    client = client_context(pki_files)
    pair = Pair(client, server)
    pair.handshake()
    session = pair.client.session
    assert isinstance(session, cyssl.SSLSession) and session.has_ticket
    again = Pair(client, server)
    again.client.session = session
    again.handshake()
    assert again.client.session_reused and again.server.session_reused
    # And cyssl's server resumes the stdlib client's TLS 1.2 session.
    ours = capped_server(pki_files, cyssl)
    stdlib_client = client_context(pki_files, ssl)
    first = Pair(stdlib_client, ours)
    first.handshake()
    second = Pair(stdlib_client, ours)
    second.client.session = first.client.session
    second.handshake()
    assert second.client.session_reused and second.server.session_reused


def test_client_offering_only_old_versions_gets_protocol_version(pki_files):
    from test_tls13_engine import client_hello_record
    server = server_context(pki_files, cyssl)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = server.wrap_bio(incoming, outgoing, server_side=True)
    record = client_hello_record(extensions={43: bytes([4, 3, 2, 3, 1])}, suites=[0xC02B])
    incoming.write(record)
    with pytest.raises(ssl.SSLError) as info:
        obj.do_handshake()
    assert info.value.reason == "UNSUPPORTED_PROTOCOL"
    assert outgoing.read()[-2:] == bytes([2, 70])          # fatal protocol_version sent
