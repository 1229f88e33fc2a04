"""cyssl against cyssl: defaults (X25519MLKEM768), key updates, post-handshake auth,
record_size_limit, tickets; and the engine's answers to misbehaving peers."""
import pytest

import pki
from peers import client_config, client_connection, server_config, server_connection, \
    shuttle_engines, trust
from cyssl.crypto import groups, signatures
from cyssl.tls.config import VERIFY_OPTIONAL, VERIFY_REQUIRED
from cyssl.tls.errors import TLSError
from cyssl.tls.messages import ClientHello, encode_key_shares, encode_u16_list
from cyssl.tls.record import RecordLayer


@pytest.fixture(scope="module")
def root():
    return pki.CA.root("ecdsa-p256")


@pytest.fixture(scope="module")
def leaf(root):
    return root.leaf()


@pytest.fixture(scope="module")
def leaves(root):
    return {key_type: root.leaf(key_type=key_type)
            for key_type in ("ecdsa-p256", "ecdsa-p384", "rsa-2048", "ed25519")}


def connect(client_cfg, server_cfg, server_name="localhost", session=None):
    client = client_connection(client_cfg, server_name, session)
    server = server_connection(server_cfg)
    shuttle_engines(client, server)
    assert client.handshake_complete and server.handshake_complete
    return client, server


def roundtrip(client, server, data=b"ping"):
    client.send(data)
    server.receive(client.outgoing())
    assert server.read() == data
    server.send(data[::-1])
    client.receive(server.outgoing())
    assert client.read() == data[::-1]


def test_default_is_hybrid_post_quantum(root, leaf):
    client, server = connect(client_config(root), server_config(leaf))
    assert client.group.name == server.group.name == "X25519MLKEM768"
    assert client.suite is server.suite
    roundtrip(client, server)


@pytest.mark.parametrize("key_type", ["ecdsa-p256", "ecdsa-p384", "rsa-2048", "ed25519"])
@pytest.mark.parametrize("group", [0x001D, 0x0017, 0x0018], ids=["x25519", "secp256r1", "secp384r1"])
@pytest.mark.parametrize("suite", [0x1301, 0x1302, 0x1303], ids=["aes128", "aes256", "chacha20"])
def test_matrix_between_cyssl_peers(root, leaves, suite, group, key_type):
    leaf = leaves[key_type]
    client, server = connect(client_config(root, tls13_suites=[suite], groups=[group],
                                           key_share_groups=[group]),
                             server_config(leaf, tls13_suites=[suite], groups=[group]))
    assert client.suite.code == server.suite.code == suite
    assert client.group.code == server.group.code == group
    roundtrip(client, server, bytes(range(256)) * 70)


@pytest.mark.parametrize("key_type", ["ecdsa-p256", "ecdsa-p384", "rsa-2048", "ed25519", "ecdsa-p521", "ed448"])
def test_every_certificate_key_type(root, key_type):
    leaf = root.leaf(key_type=key_type)
    client, server = connect(client_config(root), server_config(leaf))
    assert client.peer_signature_scheme in signatures.SCHEMES
    roundtrip(client, server)


def test_hello_retry_between_cyssl_peers(root, leaf):
    client, server = connect(client_config(root, key_share_groups=[0x001D]),
                             server_config(leaf, groups=[0x11EC, 0x001D]))
    assert client.handshake.retried and client.group.name == "X25519MLKEM768"
    roundtrip(client, server)


def test_resumption_and_ticket_rotation(root, leaf):
    server_cfg = server_config(leaf, num_tickets=3)
    client, server = connect(client_config(root), server_cfg)
    roundtrip(client, server)
    session = client.session
    again, server2 = connect(client_config(root), server_cfg, session=session)
    assert again.resumed and server2.resumed and server2.peer_chain == []
    roundtrip(again, server2)
    # Another server (other ticket keys) cannot open the ticket: a full handshake.
    fresh, fresh_server = connect(client_config(root), server_config(leaf), session=session)
    assert not fresh.resumed and fresh.verified_chain


def test_tampered_binder_is_decrypt_error(root, leaf):
    server_cfg = server_config(leaf)
    client, server = connect(client_config(root), server_cfg)
    roundtrip(client, server)
    session = client.session
    session.psk = bytes(len(session.psk))          # the client no longer holds the real PSK
    client = client_connection(client_config(root), "localhost", session)
    server = server_connection(server_cfg)
    with pytest.raises(TLSError) as info:
        shuttle_engines(client, server)
    assert info.value.alert_name == "decrypt_error"


def test_key_update_both_ways(root, leaf):
    client, server = connect(client_config(root), server_config(leaf))
    first_write = client.write_secret
    client.update_keys(request_peer=True)
    client.send(b"after update")
    server.receive(client.outgoing())
    assert server.read() == b"after update"
    client.receive(server.outgoing())          # the server's answering KeyUpdate
    assert client.write_secret != first_write and client.read_secret == server.write_secret
    roundtrip(client, server)
    server.update_keys(request_peer=False)
    roundtrip(client, server)


def test_key_update_before_the_aead_limit(root, leaf):
    from cyssl.tls.keyschedule import traffic_key_iv
    from cyssl.tls.record import RecordProtection
    client, server = connect(client_config(root, tls13_suites=[0x1301]), server_config(leaf))
    before = client.write_secret
    # Jump both ends of the client->server direction close to the AES-GCM limit.
    key, iv = traffic_key_iv(client.suite.hash_name, before, 16, 12)
    near = client.records.writer.limit - 10
    client.records.set_writer(RecordProtection(client.suite, key, iv, sequence=near))
    server.records.set_reader(RecordProtection(client.suite, key, iv, sequence=near))
    client.send(b"data")                       # rotates first: KeyUpdate, then the data
    assert client.write_secret != before and client.records.writer.sequence == 1
    server.receive(client.outgoing())
    assert server.read() == b"data" and server.read_secret == client.write_secret


def test_post_handshake_client_authentication(root, leaf):
    client_leaf = root.leaf(hosts=("client.example",), client=True, server=False)
    client_cfg = client_config(root, post_handshake_auth=True,
                               credentials=[([client_leaf.der()], client_leaf.key)])
    server_cfg = server_config(leaf, verify_mode=VERIFY_REQUIRED, trust_store=trust(root))
    server_cfg_no_request = server_cfg.copy(verify_mode=0)
    client, server = connect(client_cfg, server_cfg_no_request)
    server.config.verify_mode = VERIFY_REQUIRED
    server.config.trust_store = trust(root)
    assert server.peer_chain == []
    server.handshake.request_client_certificate()
    client.receive(server.outgoing())
    server.receive(client.outgoing())
    assert server.peer_chain == [client_leaf.der()] and server.verified_chain
    roundtrip(client, server)


def test_record_size_limit(root, leaf):
    client, server = connect(client_config(root, record_size_limit=512),
                             server_config(leaf, record_size_limit=1024))
    assert server.records.max_fragment == 511 and client.records.max_fragment == 1023
    server.send(b"x" * 5000)
    wire = server.outgoing()
    client.receive(wire)
    assert client.read() == b"x" * 5000
    assert wire.count(b"\x17\x03\x03") >= 10      # 5000 bytes in records of <= 511


def test_client_auth_optional_and_required(root, leaf):
    client_leaf = root.leaf(hosts=("client.example",), client=True, server=False)
    with_cert = client_config(root, credentials=[([client_leaf.der()], client_leaf.key)])
    required = server_config(leaf, verify_mode=VERIFY_REQUIRED, trust_store=trust(root))
    client, server = connect(with_cert, required)
    assert server.peer_chain == [client_leaf.der()]
    client, server = connect(client_config(root), server_config(
        leaf, verify_mode=VERIFY_OPTIONAL, trust_store=trust(root)))
    assert server.peer_chain == []
    client = client_connection(client_config(root), "localhost")
    server = server_connection(required)
    with pytest.raises(TLSError) as info:
        shuttle_engines(client, server)
    assert info.value.alert_name == "certificate_required"
    with pytest.raises(TLSError) as info:
        client.receive(server.outgoing())
    assert info.value.received and info.value.reason == "TLSV13_ALERT_CERTIFICATE_REQUIRED"


# Misbehaving peers -------------------------------------------------------------


def client_hello_record(**changes):
    """A well-formed TLS 1.3 ClientHello record, with fields replaced as asked."""
    share = groups.GROUPS[0x001D].generate()
    extensions = dict([
        (43, b"\x02\x03\x04"), (10, encode_u16_list([0x001D])),
        (13, encode_u16_list([0x0403])), (51, encode_key_shares([(0x001D, share.public_bytes())])),
        (45, b"\x01\x01")])
    extensions.update(changes.pop("extensions", {}))
    extension_list = [(t, b) for t, b in extensions.items() if b is not None]
    extension_list += changes.pop("extra_extensions", [])
    hello = ClientHello(b"\x11" * 32, b"\x22" * 32, changes.pop("suites", [0x1301]), extension_list,
                        compression_methods=changes.pop("compression", b"\x00"))
    layer = RecordLayer()
    layer.write(22, hello.encode())
    return layer.take_outgoing()


def server_answer(leaf, data):
    server = server_connection(server_config(leaf))
    with pytest.raises(TLSError) as info:
        server.receive(data)
    sent = server.outgoing()
    if server.records.writer is None:             # plaintext alert: check what we said
        assert sent[-7:-2] == b"\x15\x03\x03\x00\x02" and sent[-1] == info.value.alert
    else:                                         # encrypted alert after the server's flight
        assert sent[-24:-21] == b"\x17\x03\x03"
    return info.value


@pytest.mark.parametrize("case,alert", [
    (dict(extensions={51: None}), "missing_extension"),
    (dict(extensions={10: None}), "missing_extension"),
    (dict(extensions={13: None}), "missing_extension"),
    (dict(extensions={43: b"\x02\x03\x03"}), "handshake_failure"),   # TLS 1.2, no 1.2 suite
    (dict(extensions={43: None}), "handshake_failure"),
    (dict(suites=[0xC02B, 0x009C]), "handshake_failure"),
    (dict(extensions={10: encode_u16_list([0x0019])}), "illegal_parameter"),  # share for unlisted group
    (dict(compression=b"\x01\x00"), "illegal_parameter"),
    (dict(extra_extensions=[(10, encode_u16_list([0x001D]))]), "illegal_parameter"),   # duplicate
    (dict(extensions={51: encode_key_shares([(0x001D, b"\x00" * 32)])}), "illegal_parameter"),
    (dict(extensions={51: encode_key_shares([(0x001D, b"\x01" * 31)])}), "illegal_parameter"),
    (dict(extensions={48: b""}), "illegal_parameter"),                        # oid_filters
    (dict(extensions={41: b"\x00\x00\x00\x00"}), "decode_error"),             # malformed psk
])
def test_bad_client_hellos(leaf, case, alert):
    assert server_answer(leaf, client_hello_record(**case)).alert_name == alert


def test_no_common_version_is_protocol_version(leaf):
    server = server_connection(server_config(leaf, versions=[0x0304]))
    with pytest.raises(TLSError) as info:
        server.receive(client_hello_record(extensions={43: b"\x02\x03\x03"}, suites=[0xC02B]))
    assert info.value.alert_name == "protocol_version"


def test_truncated_client_hello_is_decode_error(leaf):
    hello = client_hello_record()[5:]                      # the handshake message
    for cut in (4, 10, 38, 40, 60, len(hello) - 1):
        short = b"\x01" + (cut - 4).to_bytes(3, "big") + hello[4:cut]
        record = b"\x16\x03\x01" + len(short).to_bytes(2, "big") + short
        assert server_answer(leaf, record).alert_name == "decode_error", cut
    assert server_answer(leaf, b"\x16\x03\x01\x00\x04\x01\x00\x00\x00").alert_name == "decode_error"


def test_wrong_first_message(leaf):
    layer = RecordLayer()
    layer.write(22, b"\x02\x00\x00\x00")               # a ServerHello sent to a server
    assert server_answer(leaf, layer.take_outgoing()).alert_name == "unexpected_message"


def test_change_cipher_spec_and_data_out_of_place(leaf):
    assert server_answer(leaf, b"\x14\x03\x03\x00\x01\x01").alert_name == "unexpected_message"
    assert server_answer(leaf, b"\x17\x03\x03\x00\x01\x00").alert_name == "unexpected_message"
    assert server_answer(leaf, client_hello_record() + b"\x14\x03\x03\x00\x01\x02").alert_name \
        == "unexpected_message"


def test_oversized_handshake_message_refused_before_buffering(leaf):
    header = b"\x01" + (1 << 20).to_bytes(3, "big")
    assert server_answer(leaf, b"\x16\x03\x01\x00\x04" + header).alert_name == "decode_error"


def test_bad_certificate_verify_signature(root, leaf, monkeypatch):
    original = signatures.sign

    def corrupt(key, scheme, data):
        signature = bytearray(original(key, scheme, data))
        signature[-1] ^= 1
        return bytes(signature)
    monkeypatch.setattr(signatures, "sign", corrupt)
    client = client_connection(client_config(root), "localhost")
    server = server_connection(server_config(root.leaf(key_type="ed25519")))
    with pytest.raises(TLSError) as info:
        shuttle_engines(client, server)
    assert info.value.alert_name == "decrypt_error"


def test_wrong_finished(root, leaf, monkeypatch):
    from cyssl.tls import keyschedule
    original = keyschedule.finished_verify_data
    calls = []

    def wrong(hash_name, key, transcript_hash):
        calls.append(1)
        data = original(hash_name, key, transcript_hash)
        return bytes([data[0] ^ 1]) + data[1:] if len(calls) == 1 else data
    monkeypatch.setattr(keyschedule, "finished_verify_data", wrong)
    client = client_connection(client_config(root), "localhost")
    server = server_connection(server_config(leaf))
    with pytest.raises(TLSError) as info:
        shuttle_engines(client, server)
    assert info.value.alert_name == "decrypt_error"


def test_peer_vanishing_mid_handshake_leaves_a_waiting_connection(root, leaf):
    hello = client_connection(client_config(root), "localhost").outgoing()
    for cut in range(0, len(hello), 97):
        partial = server_connection(server_config(leaf))
        partial.receive(hello[:cut])
        assert not partial.handshake_complete and partial.outgoing() == b""


def test_an_internal_bug_still_fails_closed_as_a_tls_error(root, leaf, monkeypatch):
    def broken(*args):
        raise KeyError("boom")
    monkeypatch.setattr(signatures, "choose", broken)
    client = client_connection(client_config(root), "localhost")
    server = server_connection(server_config(leaf))
    with pytest.raises(TLSError) as info:
        server.receive(client.outgoing())
    assert info.value.alert_name == "internal_error" and "KeyError" in str(info.value)
    with pytest.raises(TLSError) as info:
        client.receive(server.outgoing())           # the peer is told
    assert info.value.received and info.value.alert_name == "internal_error"
