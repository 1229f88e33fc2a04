"""TLS 1.2 against the stdlib's ssl (OpenSSL, capped at TLS 1.2) in both roles, and the
version negotiation around it: downgrade sentinels, fallback SCSV, refused renegotiation."""
import ssl

import pytest

import pki
from peers import (StdlibPeer, client_config, client_connection, server_config, server_connection,
                   shuttle, shuttle_engines, shuttle_until_cyssl_fails, stdlib_client_context,
                   stdlib_server_context, trust)
from cyssl.tls.config import VERIFY_REQUIRED
from cyssl.tls.errors import TLSError
from cyssl.tls.messages import encode_u16_list
from cyssl.tls.record import RecordLayer
from cyssl.tls.tickets import SessionCache, TicketKeys

SUITES = {0xC02B: "ECDHE-ECDSA-AES128-GCM-SHA256", 0xC02C: "ECDHE-ECDSA-AES256-GCM-SHA384",
          0xCCA9: "ECDHE-ECDSA-CHACHA20-POLY1305", 0xC02F: "ECDHE-RSA-AES128-GCM-SHA256",
          0xC030: "ECDHE-RSA-AES256-GCM-SHA384", 0xCCA8: "ECDHE-RSA-CHACHA20-POLY1305"}
GROUPS = {0x001D: "x25519", 0x0017: "secp256r1", 0x0018: "secp384r1"}


@pytest.fixture(scope="module")
def root():
    return pki.CA.root()


@pytest.fixture(scope="module")
def leaves(root):
    return {"ECDSA": root.leaf(key_type="ecdsa-p256"), "RSA": root.leaf(key_type="rsa-2048")}


def capped(ctx):
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def data_both_ways(conn, peer):
    conn.send(b"from cyssl")
    peer.incoming.write(conn.outgoing())
    assert peer.obj.read(100) == b"from cyssl"
    peer.obj.write(b"from openssl" * 3000)
    conn.receive(peer.outgoing.read())
    assert conn.read() == b"from openssl" * 3000


@pytest.mark.parametrize("group", list(GROUPS), ids=list(GROUPS.values()))
@pytest.mark.parametrize("suite", list(SUITES), ids=list(SUITES.values()))
def test_cyssl_client_against_stdlib_server(tmp_path, root, leaves, suite, group):
    auth = "ECDSA" if "ECDSA" in SUITES[suite] else "RSA"
    server_ctx = capped(stdlib_server_context(leaves[auth], tmp_path))
    server_ctx.set_ecdh_curve({0x001D: "X25519", 0x0017: "prime256v1", 0x0018: "secp384r1"}[group])
    peer = StdlibPeer(server_ctx, server_side=True)
    # The ECDSA certificate's curve (P-256) must be among the client's groups (RFC 8422 5.1).
    offered = [group] if group == 0x0017 else [group, 0x0017]
    conn = client_connection(client_config(root, tls12_suites=[suite], groups=offered), "localhost")
    shuttle(conn, peer)
    assert conn.version == 0x0303 and peer.obj.version() == "TLSv1.2"
    assert peer.obj.cipher()[0] == SUITES[suite] == conn.suite.openssl_name
    assert conn.group.name == GROUPS[group]
    data_both_ways(conn, peer)


@pytest.mark.parametrize("group", list(GROUPS), ids=list(GROUPS.values()))
@pytest.mark.parametrize("suite", list(SUITES), ids=list(SUITES.values()))
def test_cyssl_server_against_stdlib_client(root, leaves, suite, group):
    auth = "ECDSA" if "ECDSA" in SUITES[suite] else "RSA"
    peer = StdlibPeer(capped(stdlib_client_context(root)), server_side=False, server_hostname="localhost")
    conn = server_connection(server_config(leaves[auth], tls12_suites=[suite], groups=[group]))
    shuttle(conn, peer)
    assert peer.obj.version() == "TLSv1.2" and peer.obj.cipher()[0] == SUITES[suite]
    assert conn.group.name == GROUPS[group]
    data_both_ways(conn, peer)


def test_keylog_client_random_equals_openssls(tmp_path, root, leaves):
    ctx = capped(stdlib_server_context(leaves["ECDSA"], tmp_path))
    ctx.keylog_filename = str(tmp_path / "keys.log")
    ours = []
    conn = client_connection(client_config(root, keylog=ours.append), "localhost")
    shuttle(conn, StdlibPeer(ctx, server_side=True))
    theirs = [l for l in (tmp_path / "keys.log").read_text().splitlines() if l.startswith("CLIENT_RANDOM")]
    assert ours == theirs and len(ours) == 1


def test_alpn_sni_and_client_certificates(tmp_path, root, leaves):
    client_leaf = root.leaf(hosts=("client.example",), client=True, server=False)
    seen = []
    ctx = capped(stdlib_server_context(leaves["RSA"], tmp_path, alpn=["h2", "http/1.1"], client_ca=root))
    ctx.sni_callback = lambda obj, name, c: seen.append(name)
    peer = StdlibPeer(ctx, server_side=True)
    conn = client_connection(client_config(root, alpn_protocols=[b"http/1.1"],
                                           credentials=[([client_leaf.der()], client_leaf.key)]),
                             "localhost")
    shuttle(conn, peer)
    assert conn.alpn_protocol == b"http/1.1" and seen == ["localhost"]
    assert peer.obj.getpeercert()["subjectAltName"] == (("DNS", "client.example"),)
    data_both_ways(conn, peer)

    client_ctx = capped(stdlib_client_context(root, alpn=["http/1.1"]))
    certfile, keyfile = pki.write_chain(tmp_path, client_leaf)
    client_ctx.load_cert_chain(certfile, keyfile)
    peer = StdlibPeer(client_ctx, server_side=False, server_hostname="localhost")
    conn = server_connection(server_config(leaves["ECDSA"], alpn_protocols=[b"http/1.1"],
                                           verify_mode=VERIFY_REQUIRED, trust_store=trust(root)))
    shuttle(conn, peer)
    assert conn.server_name == "localhost" and conn.alpn_protocol == b"http/1.1"
    assert conn.peer_chain[0] == client_leaf.der() and conn.verified_chain
    data_both_ways(conn, peer)


def test_resumption_by_ticket_and_by_session_id(tmp_path, root, leaves):
    # cyssl client, OpenSSL server (tickets).
    ctx = capped(stdlib_server_context(leaves["ECDSA"], tmp_path))
    conn = client_connection(client_config(root), "localhost")
    shuttle(conn, StdlibPeer(ctx, server_side=True))
    again = client_connection(client_config(root), "localhost", session=conn.session)
    peer = StdlibPeer(ctx, server_side=True)
    shuttle(again, peer)
    assert again.resumed and peer.obj.session_reused
    # OpenSSL server without tickets (a fresh context): resumption by session ID.
    ctx = capped(stdlib_server_context(leaves["ECDSA"], tmp_path))
    ctx.options |= ssl.OP_NO_TICKET
    conn = client_connection(client_config(root), "localhost")
    first = StdlibPeer(ctx, server_side=True)      # kept alive: OpenSSL drops the cached
    shuttle(conn, first)                           # session of a connection freed unclosed
    assert conn.session.ticket is None and conn.session.session_id
    again = client_connection(client_config(root), "localhost", session=conn.session)
    peer = StdlibPeer(ctx, server_side=True)
    shuttle(again, peer)
    assert again.resumed and peer.obj.session_reused
    # cyssl server: by ticket, then (tickets off) by session ID.
    for tickets in (True, False):
        config = server_config(leaves["RSA"], session_cache=SessionCache())
        if not tickets:
            config.ticket_keys = None
        client_ctx = capped(stdlib_client_context(root))
        peer = StdlibPeer(client_ctx, server_side=False, server_hostname="localhost")
        shuttle(server_connection(config), peer)
        session = peer.obj.session
        peer = StdlibPeer(client_ctx, server_side=False, server_hostname="localhost", session=session)
        conn = server_connection(config)
        shuttle(conn, peer)
        assert conn.resumed and peer.obj.session_reused, tickets
        data_both_ways(conn, peer)


def test_tls12_ticket_is_renewed_only_when_its_key_is_not_current(root, leaves):
    """As OpenSSL: a ticket under the current key resumes without a NewSessionTicket, and
    the client goes on with the session it had (it resumes again); a ticket under the
    previous key is replaced."""
    now = [1000.0]
    keys = TicketKeys(rotate_after=100, clock=lambda: now[0])
    config = server_config(leaves["ECDSA"], versions=[0x0303], ticket_keys=keys)

    def connect(session=None):
        client = client_connection(client_config(root), "localhost", session=session)
        server = server_connection(config)
        shuttle_engines(client, server)
        assert client.handshake_complete and client.resumed == (session is not None)
        return client.session

    first = connect()
    assert connect(first) is first and connect(first) is first     # not renewed
    now[0] += 150                                                # rotated: first is "previous"
    renewed = connect(first)
    assert renewed is not first and renewed.ticket != first.ticket
    assert connect(renewed) is renewed


def test_cyssl_to_cyssl_tls12_and_preference_for_tls13(root, leaves):
    client = client_connection(client_config(root), "localhost")
    server = server_connection(server_config(leaves["ECDSA"], versions=[0x0303]))
    shuttle_engines(client, server)
    assert client.version == server.version == 0x0303 and client.handshake_complete
    client = client_connection(client_config(root), "localhost")
    server = server_connection(server_config(leaves["ECDSA"]))
    shuttle_engines(client, server)
    assert client.version == 0x0304                 # both can: the highest wins


def strip_tls13(client_hello_stream):
    """A man in the middle rewriting supported_versions to TLS 1.2 only."""
    from cyssl.tls.messages import ClientHello
    layer = RecordLayer()
    layer.receive(client_hello_stream)
    _, payload = layer.next_record()
    hello = ClientHello.parse(bytes(payload)[4:])
    extensions = [(t, (b"\x02\x03\x03" if t == 43 else hello.extensions[t])) for t in hello.extension_order]
    forged = ClientHello(hello.random, hello.session_id, hello.cipher_suites, extensions)
    out = RecordLayer()
    out.write(22, forged.encode())
    return out.take_outgoing()


def test_downgrade_to_tls12_is_detected_with_a_tls13_server(root, leaves):
    client = client_connection(client_config(root), "localhost")
    server = server_connection(server_config(leaves["ECDSA"]))
    server.receive(strip_tls13(client.outgoing()))
    with pytest.raises(TLSError) as info:
        client.receive(server.outgoing())
    assert info.value.alert_name == "illegal_parameter" and info.value.reason == "TLS13_DOWNGRADE"


def test_downgrade_to_tls12_is_detected_with_openssl(tmp_path, root, leaves):
    peer = StdlibPeer(stdlib_server_context(leaves["ECDSA"], tmp_path), server_side=True)
    client = client_connection(client_config(root), "localhost")
    peer.incoming.write(strip_tls13(client.outgoing()))
    peer.step()
    with pytest.raises(TLSError) as info:
        client.receive(peer.outgoing.read())
    assert info.value.reason == "TLS13_DOWNGRADE"


def test_a_genuine_tls12_server_is_accepted(tmp_path, root, leaves):
    peer = StdlibPeer(capped(stdlib_server_context(leaves["ECDSA"], tmp_path)), server_side=True)
    conn = client_connection(client_config(root), "localhost")
    shuttle(conn, peer)
    assert conn.version == 0x0303


def test_fallback_scsv_is_answered(root, leaves):
    from test_tls13_engine import client_hello_record
    server = server_connection(server_config(leaves["ECDSA"]))
    record = client_hello_record(extensions={43: None, 23: b"", 0xFF01: b"\x00"},
                                 suites=[0xC02B, 0x5600])
    with pytest.raises(TLSError) as info:
        server.receive(record)
    assert info.value.alert_name == "inappropriate_fallback"


def test_peer_without_extended_master_secret_is_refused(tmp_path, root, leaves):
    from test_tls13_engine import client_hello_record
    # TLS 1.2 only, with P-256 listed for our P-256 certificate (RFC 8422 section 4).
    extensions = {43: None, 0xFF01: b"\x00", 10: encode_u16_list([0x001D, 0x0017])}
    server = server_connection(server_config(leaves["ECDSA"]))
    with pytest.raises(TLSError) as info:
        server.receive(client_hello_record(extensions=extensions, suites=[0xC02B]))
    assert info.value.alert_name == "handshake_failure" and info.value.reason == "INCONSISTENT_EXTMS"
    # ... unless the configuration relaxes it (documented for old peers).
    relaxed = server_connection(server_config(leaves["ECDSA"], require_extended_master_secret=False))
    relaxed.receive(client_hello_record(extensions=extensions, suites=[0xC02B]))
    assert relaxed.outgoing()[:1] == b"\x16"


def test_renegotiation_is_refused_with_a_warning(root, leaves):
    client = client_connection(client_config(root), "localhost")
    server = server_connection(server_config(leaves["ECDSA"], versions=[0x0303]))
    shuttle_engines(client, server)
    server.send_handshake(b"\x00\x00\x00\x00")          # HelloRequest
    client.receive(server.outgoing())
    server.receive(client.outgoing())                   # a no_renegotiation warning, no failure
    assert client.error is None and server.error is None
    client.send(b"still fine")
    server.receive(client.outgoing())
    assert server.read() == b"still fine"


def test_openssl_server_without_extended_master_secret(tmp_path, root, leaves):
    ctx = capped(stdlib_server_context(leaves["ECDSA"], tmp_path))
    ctx.options |= 0x1                           # SSL_OP_NO_EXTENDED_MASTER_SECRET (OpenSSL 3)
    peer = StdlibPeer(ctx, server_side=True)
    ours, theirs = shuttle_until_cyssl_fails(client_connection(client_config(root), "localhost"), peer)
    assert ours.alert_name == "handshake_failure" and ours.reason == "INCONSISTENT_EXTMS"
    peer = StdlibPeer(ctx, server_side=True)
    conn = client_connection(client_config(root, require_extended_master_secret=False), "localhost")
    shuttle(conn, peer)                          # relaxed on purpose: the RFC 5246 master secret
    data_both_ways(conn, peer)


def test_exporter_rfc5705_between_cyssl_peers(root, leaves):
    from cyssl.tls import keyschedule
    client = client_connection(client_config(root), "localhost")
    server = server_connection(server_config(leaves["ECDSA"], versions=[0x0303]))
    shuttle_engines(client, server)
    for context in (None, b"", b"ctx"):
        a = client.export_keying_material(b"EXPERIMENTAL x", context, 40)
        assert a == server.export_keying_material(b"EXPERIMENTAL x", context, 40) and len(a) == 40
    assert client.export_keying_material(b"EXPERIMENTAL x", None, 16) != \
        client.export_keying_material(b"EXPERIMENTAL x", b"", 16)
    expected = keyschedule.prf12(client.suite.hash_name, client.exporter_secret, b"EXPERIMENTAL x",
                                 client.client_random + client.server_random + b"\x00\x03ctx", 16)
    assert client.export_keying_material(b"EXPERIMENTAL x", b"ctx", 16) == expected
