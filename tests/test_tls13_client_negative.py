"""The cyssl client against a scripted server whose ServerHello / HelloRetryRequest is
wrong in one way each: every case must end in the right alert, sent to the peer."""
import pytest

from peers import client_config, client_connection
from cyssl.crypto import groups
from cyssl.tls.codec import Reader
from cyssl.tls.errors import TLSError
from cyssl.tls.messages import (ClientHello, HRR_RANDOM, ServerHello, encode_server_key_share,
                                encode_u16, encode_opaque16, frame)
from cyssl.tls.record import RecordLayer

X25519 = 0x001D


def client_and_hello(**settings):
    settings.setdefault("key_share_groups", [X25519])
    conn = client_connection(client_config(None, **settings), "example.com")
    layer = RecordLayer()
    layer.receive(conn.outgoing())
    content_type, payload = layer.next_record()
    hello = ClientHello.parse(bytes(payload)[4:])
    return conn, hello


def server_hello_record(hello, *, suite=0x1301, session_id=None, random=None, versions=b"\x03\x04",
                        share=None, group=X25519, extra=(), drop=(), compression=0,
                        legacy_version=0x0303):
    if share is None:
        client_share = dict((g, s) for g, s in _client_shares(hello))[group] if group in dict(
            _client_shares(hello)) else None
        share = groups.GROUPS[X25519].respond(client_share)[0] if client_share else b"\x09" * 32
    extensions = []
    if versions is not None and "versions" not in drop:
        extensions.append((43, versions))
    if "key_share" not in drop:
        extensions.append((51, encode_server_key_share(group, share)))
    extensions += list(extra)
    message = ServerHello(random or b"\x42" * 32,
                          hello.session_id if session_id is None else session_id,
                          suite, extensions, legacy_version, compression).encode()
    return record(22, message)


def _client_shares(hello):
    r = Reader(hello.extensions[51])
    entries = r.sub16()
    while not entries.at_end():
        yield entries.u16(), entries.vec16()


def record(content_type, payload):
    layer = RecordLayer()
    layer.write(content_type, payload)
    return layer.take_outgoing()


def expect(conn, data, alert):
    with pytest.raises(TLSError) as info:
        conn.receive(data)
    assert info.value.alert_name == alert, info.value
    sent = conn.outgoing()
    assert sent[-7:-2] == b"\x15\x03\x03\x00\x02" and sent[-1] == info.value.alert
    return info.value


@pytest.mark.parametrize("changes,alert", [
    (dict(suite=0x1399), "illegal_parameter"),
    (dict(suite=0xC02F), "illegal_parameter"),
    (dict(session_id=b"\x00" * 32), "illegal_parameter"),
    (dict(versions=b"\x03\x03"), "illegal_parameter"),
    (dict(versions=None), "illegal_parameter"),             # TLS 1.2 with a TLS 1.3 suite
    (dict(versions=None, random=b"\x42" * 24 + b"DOWNGRD\x01"), "illegal_parameter"),
    (dict(compression=1), "illegal_parameter"),
    (dict(legacy_version=0x0304), "illegal_parameter"),
    (dict(group=0x0017, share=b"\x04" + b"\x01" * 64), "illegal_parameter"),   # group we sent no share for
    (dict(share=bytes(32)), "illegal_parameter"),           # all-zero x25519 point
    (dict(share=b"\x01" * 31), "illegal_parameter"),
    (dict(drop=("key_share",)), "missing_extension"),
    (dict(extra=[(16, b"\x00\x03\x02h2")]), "illegal_parameter"),             # ALPN in ServerHello
    (dict(extra=[(0x1234, b"")]), "unsupported_extension"),  # an extension never offered
    (dict(extra=[(41, encode_u16(0))]), "unsupported_extension"),   # PSK never offered
])
def test_bad_server_hello(changes, alert):
    conn, hello = client_and_hello()
    expect(conn, server_hello_record(hello, **changes), alert)


def test_tls12_server_when_only_tls13_is_offered():
    conn, hello = client_and_hello(versions=[0x0304])
    expect(conn, server_hello_record(hello, versions=None, suite=0xC02F), "protocol_version")


def test_malformed_server_hello_is_decode_error():
    conn, hello = client_and_hello()
    good = server_hello_record(hello)
    body = good[5 + 4:]
    truncated = frame(2, body[:40])
    expect(conn, record(22, truncated), "decode_error")


def test_wrong_first_message_from_server():
    conn, _ = client_and_hello()
    expect(conn, record(22, frame(11, b"\x00\x00\x00\x00")), "unexpected_message")


def hello_retry(hello, extensions):
    return record(22, ServerHello(HRR_RANDOM, hello.session_id, 0x1301, extensions).encode())


def test_hello_retry_request_rules():
    versions = (43, b"\x03\x04")
    conn, hello = client_and_hello(groups=[X25519, 0x0017])
    # Asks for a group we already sent a share for: illegal_parameter.
    expect(conn, hello_retry(hello, [versions, (51, encode_u16(X25519))]), "illegal_parameter")
    conn, hello = client_and_hello(groups=[X25519, 0x0017])
    # Asks for a group we do not support.
    expect(conn, hello_retry(hello, [versions, (51, encode_u16(0x0018))]), "illegal_parameter")
    conn, hello = client_and_hello(groups=[X25519, 0x0017])
    # Would change nothing.
    expect(conn, hello_retry(hello, [versions]), "illegal_parameter")
    conn, hello = client_and_hello(groups=[X25519, 0x0017])
    # A valid retry, then a second one: unexpected_message.
    conn.receive(hello_retry(hello, [versions, (51, encode_u16(0x0017))]))
    second = conn.outgoing()
    assert second.startswith(b"\x14\x03\x03\x00\x01\x01")       # compat CCS, then ClientHello2
    expect(conn, hello_retry(hello, [versions, (44, encode_opaque16(b"cookie"))]), "unexpected_message")


def test_retry_carries_the_cookie_and_the_new_share():
    conn, hello = client_and_hello(groups=[X25519, 0x0017])
    conn.receive(hello_retry(hello, [(43, b"\x03\x04"), (51, encode_u16(0x0017)),
                                     (44, encode_opaque16(b"opaque-cookie"))]))
    layer = RecordLayer()
    layer.receive(conn.outgoing())
    layer.next_record()                                           # the compat CCS
    second = ClientHello.parse(bytes(layer.next_record()[1])[4:])
    assert second.random == hello.random and second.session_id == hello.session_id
    assert second.cipher_suites == hello.cipher_suites
    assert dict(_client_shares(second)).keys() == {0x0017}
    assert second.extensions[44] == encode_opaque16(b"opaque-cookie")
