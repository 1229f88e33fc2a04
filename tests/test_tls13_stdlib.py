"""TLS 1.3 against the interpreter's own ssl (OpenSSL) in the same process, both roles."""
import ssl

import pytest

import pki
from peers import (StdlibPeer, client_config, client_connection, server_config,
                   server_connection, shuttle, shuttle_engines, shuttle_until_cyssl_fails,
                   stdlib_client_context, stdlib_server_context)

SUITES = {0x1301: "TLS_AES_128_GCM_SHA256", 0x1302: "TLS_AES_256_GCM_SHA384",
          0x1303: "TLS_CHACHA20_POLY1305_SHA256"}
GROUPS = {0x001D: "x25519", 0x0017: "secp256r1", 0x0018: "secp384r1"}
KEY_TYPES = ["ecdsa-p256", "ecdsa-p384", "rsa-2048", "ed25519"]


@pytest.fixture(scope="module")
def root():
    return pki.CA.root("ecdsa-p256")


@pytest.fixture(scope="module")
def leaves(root):
    return {key_type: root.leaf(key_type=key_type) for key_type in KEY_TYPES}


def cyssl_client_vs_stdlib(server_ctx, config, server_name="localhost", session=None):
    peer = StdlibPeer(server_ctx, server_side=True)
    conn = client_connection(config, server_name, session)
    shuttle(conn, peer)
    return conn, peer


def stdlib_client_vs_cyssl(client_ctx, config, server_name="localhost", session=None):
    peer = StdlibPeer(client_ctx, server_side=False, server_hostname=server_name, session=session)
    conn = server_connection(config)
    shuttle(conn, peer)
    return conn, peer


def exchange_data(conn, peer, size):
    """Data both ways; returns what each side received."""
    payload = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    conn.send(payload)
    peer.incoming.write(conn.outgoing())
    got = bytearray()
    while True:
        try:
            chunk = peer.obj.read(65536)
        except ssl.SSLWantReadError:
            break
        if not chunk:
            break
        got += chunk
    assert bytes(got) == payload
    peer.obj.write(payload[::-1]) if payload else None
    conn.receive(peer.outgoing.read())
    assert conn.read() == payload[::-1]


@pytest.mark.parametrize("key_type", KEY_TYPES)
@pytest.mark.parametrize("group", list(GROUPS), ids=list(GROUPS.values()))
@pytest.mark.parametrize("suite", list(SUITES), ids=list(SUITES.values()))
def test_cyssl_client_matrix(tmp_path, root, leaves, suite, group, key_type):
    server_ctx = stdlib_server_context(leaves[key_type], tmp_path)
    config = client_config(root, tls13_suites=[suite], groups=[group], key_share_groups=[group])
    conn, peer = cyssl_client_vs_stdlib(server_ctx, config)
    assert conn.handshake_complete and peer.done
    assert peer.obj.version() == "TLSv1.3"
    assert peer.obj.cipher()[0] == SUITES[suite] == conn.suite.name
    assert conn.group.name == GROUPS[group]
    assert conn.verified_chain                          # verified against the root
    exchange_data(conn, peer, 1000)


@pytest.mark.parametrize("key_type", KEY_TYPES)
@pytest.mark.parametrize("group", list(GROUPS), ids=list(GROUPS.values()))
@pytest.mark.parametrize("suite", list(SUITES), ids=list(SUITES.values()))
def test_cyssl_server_matrix(root, leaves, suite, group, key_type):
    config = server_config(leaves[key_type], tls13_suites=[suite], groups=[group])
    conn, peer = stdlib_client_vs_cyssl(stdlib_client_context(root), config)
    assert conn.handshake_complete and peer.done
    assert peer.obj.version() == "TLSv1.3"
    assert peer.obj.cipher()[0] == SUITES[suite] == conn.suite.name
    assert conn.group.name == GROUPS[group]
    assert peer.obj.getpeercert()["subjectAltName"]     # OpenSSL verified our chain
    exchange_data(conn, peer, 1000)


@pytest.mark.parametrize("size", [0, 1, 16383, 16384, 16385, 100000, 1 << 20])
def test_data_sizes_both_ways(tmp_path, root, leaves, size):
    server_ctx = stdlib_server_context(leaves["ecdsa-p256"], tmp_path)
    conn, peer = cyssl_client_vs_stdlib(server_ctx, client_config(root))
    exchange_data(conn, peer, size)
    config = server_config(leaves["ecdsa-p256"])
    conn, peer = stdlib_client_vs_cyssl(stdlib_client_context(root), config)
    exchange_data(conn, peer, size)


def test_keylog_lines_equal_openssls(tmp_path, root, leaves):
    server_ctx = stdlib_server_context(leaves["ecdsa-p256"], tmp_path)
    server_ctx.keylog_filename = str(tmp_path / "openssl.keylog")
    ours = []
    conn, peer = cyssl_client_vs_stdlib(server_ctx, client_config(root, keylog=ours.append))
    theirs = [line for line in (tmp_path / "openssl.keylog").read_text().splitlines()
              if line and not line.startswith("#")]
    assert sorted(ours) == sorted(theirs)
    assert {line.split()[0] for line in ours} == {
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET"}

    client_ctx = stdlib_client_context(root)
    client_ctx.keylog_filename = str(tmp_path / "openssl-client.keylog")
    ours = []
    stdlib_client_vs_cyssl(client_ctx, server_config(leaves["rsa-2048"], keylog=ours.append))
    theirs = [line for line in (tmp_path / "openssl-client.keylog").read_text().splitlines()
              if line and not line.startswith("#")]
    assert sorted(ours) == sorted(theirs)


def test_alpn_match_and_mismatch(tmp_path, root, leaves):
    server_ctx = stdlib_server_context(leaves["ecdsa-p256"], tmp_path, alpn=["h2", "http/1.1"])
    conn, peer = cyssl_client_vs_stdlib(server_ctx, client_config(root, alpn_protocols=[b"http/1.1"]))
    assert conn.alpn_protocol == b"http/1.1" == peer.obj.selected_alpn_protocol().encode()

    config = server_config(leaves["ecdsa-p256"], alpn_protocols=[b"h2", b"http/1.1"])
    conn, peer = stdlib_client_vs_cyssl(stdlib_client_context(root, alpn=["http/1.1", "h2"]), config)
    assert conn.alpn_protocol == b"h2" and peer.obj.selected_alpn_protocol() == "h2"

    config = server_config(leaves["ecdsa-p256"], alpn_protocols=[b"h2"])
    peer = StdlibPeer(stdlib_client_context(root, alpn=["http/1.1"]), server_side=False,
                      server_hostname="localhost")
    ours, theirs = shuttle_until_cyssl_fails(server_connection(config), peer)
    assert ours.alert_name == "no_application_protocol"
    assert "no application protocol" in str(theirs)      # OpenSSL 3.0 names no reason for it


def test_sni_is_seen_by_the_server(tmp_path, root, leaves):
    seen = []
    server_ctx = stdlib_server_context(leaves["ecdsa-p256"], tmp_path)
    server_ctx.sni_callback = lambda obj, name, ctx: seen.append(name)
    cyssl_client_vs_stdlib(server_ctx, client_config(root))
    assert seen == ["localhost"]
    conn, _ = stdlib_client_vs_cyssl(stdlib_client_context(root), server_config(leaves["ecdsa-p256"]))
    assert conn.server_name == "localhost"
    # No SNI for IP literals (RFC 6066 section 3).
    seen.clear()
    cyssl_client_vs_stdlib(server_ctx, client_config(root), server_name="127.0.0.1")
    assert seen == [None]


def test_hello_retry_request_from_each_side(tmp_path, root, leaves):
    # stdlib server accepting only P-384; the cyssl client sends an x25519 share first.
    server_ctx = stdlib_server_context(leaves["ecdsa-p256"], tmp_path)
    server_ctx.set_ecdh_curve("secp384r1")
    conn, peer = cyssl_client_vs_stdlib(
        server_ctx, client_config(root, groups=[0x001D, 0x0018], key_share_groups=[0x001D]))
    assert conn.handshake.retried and conn.group.name == "secp384r1"
    exchange_data(conn, peer, 100)
    # cyssl server preferring P-384; the stdlib client sends an x25519 share.
    config = server_config(leaves["ecdsa-p256"], groups=[0x0018, 0x001D])
    conn, peer = stdlib_client_vs_cyssl(stdlib_client_context(root), config)
    assert conn.handshake.cookie is not None and conn.group.name == "secp384r1"
    exchange_data(conn, peer, 100)


def test_resumption_both_sides(tmp_path, root, leaves):
    server_ctx = stdlib_server_context(leaves["ecdsa-p256"], tmp_path)
    config = client_config(root)
    conn, peer = cyssl_client_vs_stdlib(server_ctx, config)
    exchange_data(conn, peer, 10)             # the tickets arrive after the handshake
    assert conn.session is not None
    again, peer2 = cyssl_client_vs_stdlib(server_ctx, config, session=conn.session)
    assert again.resumed and peer2.obj.session_reused
    exchange_data(again, peer2, 10)

    server = server_config(leaves["rsa-2048"])
    client_ctx = stdlib_client_context(root)
    conn, peer = stdlib_client_vs_cyssl(client_ctx, server)
    exchange_data(conn, peer, 10)
    again, peer2 = stdlib_client_vs_cyssl(client_ctx, server, session=peer.obj.session)
    assert again.resumed and peer2.obj.session_reused
    exchange_data(again, peer2, 10)


def test_tickets_sent_like_openssl(root, leaves):
    """Two NewSessionTickets after a full handshake, one after a resumption (OpenSSL's
    num_tickets behaviour), counted by the stdlib client as it reads them."""
    server = server_config(leaves["ecdsa-p256"])
    client_ctx = stdlib_client_context(root)
    received = []

    def count(conn, direction, version, content_type, msg_type, data):
        if direction == "read" and msg_type == ssl._TLSMessageType.NEWSESSION_TICKET:
            received.append(msg_type)
    client_ctx._msg_callback = count
    conn, peer = stdlib_client_vs_cyssl(client_ctx, server)
    exchange_data(conn, peer, 10)
    assert len(received) == 2
    received.clear()
    again, peer2 = stdlib_client_vs_cyssl(client_ctx, server, session=peer.obj.session)
    exchange_data(again, peer2, 10)
    assert peer2.obj.session_reused and len(received) == 1


def test_client_certificates(tmp_path, root, leaves):
    client_leaf = root.leaf(hosts=("client.example",), client=True, server=False)
    # stdlib server requiring a certificate; cyssl client presents one.
    server_ctx = stdlib_server_context(leaves["ecdsa-p256"], tmp_path, client_ca=root)
    conn, peer = cyssl_client_vs_stdlib(server_ctx, client_config(
        root, credentials=[([client_leaf.der()], client_leaf.key)]))
    assert peer.obj.getpeercert()["subjectAltName"] == (("DNS", "client.example"),)
    exchange_data(conn, peer, 10)
    # cyssl server requiring one; the stdlib client presents one.
    from cyssl.tls.config import VERIFY_OPTIONAL, VERIFY_REQUIRED
    from peers import trust
    client_ctx = stdlib_client_context(root)
    certfile, keyfile = pki.write_chain(tmp_path, client_leaf)
    client_ctx.load_cert_chain(certfile, keyfile)
    config = server_config(leaves["ecdsa-p256"], verify_mode=VERIFY_REQUIRED, trust_store=trust(root))
    conn, peer = stdlib_client_vs_cyssl(client_ctx, config)
    assert conn.peer_chain[0] == client_leaf.der() and conn.verified_chain
    exchange_data(conn, peer, 10)
    # Required but missing: certificate_required, and OpenSSL is told so.
    peer = StdlibPeer(stdlib_client_context(root), server_side=False, server_hostname="localhost")
    ours, theirs = shuttle_until_cyssl_fails(server_connection(config), peer)
    assert ours.alert_name == "certificate_required"
    assert theirs.reason == "TLSV13_ALERT_CERTIFICATE_REQUIRED"
    # Optional and missing: fine.
    optional = server_config(leaves["ecdsa-p256"], verify_mode=VERIFY_OPTIONAL, trust_store=trust(root))
    conn, peer = stdlib_client_vs_cyssl(stdlib_client_context(root), optional)
    assert conn.handshake_complete and conn.peer_chain == []
    # stdlib server requiring one from a cyssl client that has none.
    conn = client_connection(client_config(root), "localhost")
    peer = StdlibPeer(server_ctx, server_side=True)
    with pytest.raises(ssl.SSLError):
        shuttle(conn, peer)
        exchange_data(conn, peer, 10)


def test_close_notify_both_ways(tmp_path, root, leaves):
    server_ctx = stdlib_server_context(leaves["ecdsa-p256"], tmp_path)
    conn, peer = cyssl_client_vs_stdlib(server_ctx, client_config(root))
    conn.close()
    peer.incoming.write(conn.outgoing())
    assert peer.obj.read(10) == b""           # the stdlib's SSLObject: b"" at close_notify
    try:
        peer.obj.unwrap()
    except ssl.SSLWantReadError:
        pass
    conn.receive(peer.outgoing.read())
    assert conn.close_received

    conn, peer = stdlib_client_vs_cyssl(stdlib_client_context(root), server_config(leaves["ecdsa-p256"]))
    try:
        peer.obj.unwrap()
    except ssl.SSLWantReadError:
        pass
    conn.receive(peer.outgoing.read())
    assert conn.close_received
    conn.close()
    peer.incoming.write(conn.outgoing())
    peer.obj.unwrap()                         # completes: our close_notify arrived


def test_half_close_cyssl_keeps_receiving(tmp_path, root, leaves):
    server_ctx = stdlib_server_context(leaves["ecdsa-p256"], tmp_path)
    conn, peer = cyssl_client_vs_stdlib(server_ctx, client_config(root))
    conn.close()
    peer.incoming.write(conn.outgoing())
    peer.obj.write(b"still talking")
    conn.receive(peer.outgoing.read())
    assert conn.read() == b"still talking"


def test_server_name_mismatch_fails_verification(tmp_path, root, leaves):
    server_ctx = stdlib_server_context(leaves["ecdsa-p256"], tmp_path)
    peer = StdlibPeer(server_ctx, server_side=True)
    ours, theirs = shuttle_until_cyssl_fails(
        client_connection(client_config(root), "wrong.example"), peer)
    assert ours.reason == "CERTIFICATE_VERIFY_FAILED" and ours.verify_code == 62
    assert ours.alert_name == "bad_certificate"
    assert theirs.reason == "SSLV3_ALERT_BAD_CERTIFICATE"


def test_unknown_ca_fails_verification(tmp_path, root, leaves):
    other = pki.CA.root("ecdsa-p256", name="someone else")
    server_ctx = stdlib_server_context(leaves["ecdsa-p256"], tmp_path)
    peer = StdlibPeer(server_ctx, server_side=True)
    ours, theirs = shuttle_until_cyssl_fails(client_connection(client_config(other), "localhost"), peer)
    assert ours.verify_code == 20 and ours.alert_name == "unknown_ca"
    assert theirs.reason == "TLSV1_ALERT_UNKNOWN_CA"


def test_exporter_matches_between_cyssl_peers(root, leaves):
    client = client_connection(client_config(root), "localhost")
    server = server_connection(server_config(leaves["ed25519"]))
    shuttle_engines(client, server)
    a = client.export_keying_material(b"EXPERIMENTAL test", b"ctx", 32)
    assert a == server.export_keying_material(b"EXPERIMENTAL test", b"ctx", 32) and len(a) == 32
