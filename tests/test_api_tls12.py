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


@pytest.mark.parametrize("lib", [ssl, cyssl], ids=["ssl", "cyssl"])
def test_version_bounds_read_and_move_as_the_stdlibs(lib):
    """A bound set to the other bound's sentinel takes the real version it stands for
    (the lowest one is TLS 1.2 in cyssl, TLS 1.0 in OpenSSL); a version-specific protocol
    reads as the sentinels and cannot be moved. A new context starts at TLS 1.2 in both,
    which the stdlib reads as TLSv1_2 and cyssl as MINIMUM_SUPPORTED."""
    import warnings
    lowest = "TLSv1_2" if lib is cyssl else "TLSv1"
    for protocol in ("PROTOCOL_TLS", "PROTOCOL_TLS_CLIENT", "PROTOCOL_TLS_SERVER"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx = lib.SSLContext(getattr(lib, protocol))
        assert ctx.minimum_version.name == ("MINIMUM_SUPPORTED" if lib is cyssl else "TLSv1_2")
        assert ctx.maximum_version.name == "MAXIMUM_SUPPORTED"
    ctx = lib.SSLContext(lib.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.MAXIMUM_SUPPORTED
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_3
    ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    assert ctx.minimum_version == ssl.TLSVersion.MINIMUM_SUPPORTED
    ctx.maximum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    assert ctx.maximum_version.name == lowest
    ctx.maximum_version = ssl.TLSVersion.MAXIMUM_SUPPORTED
    assert ctx.maximum_version == ssl.TLSVersion.MAXIMUM_SUPPORTED
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        pinned = lib.SSLContext(lib.PROTOCOL_TLSv1_2)
    assert (pinned.minimum_version.name, pinned.maximum_version.name) == \
        ("MINIMUM_SUPPORTED", "MAXIMUM_SUPPORTED")
    for bound in ("minimum_version", "maximum_version"):
        with pytest.raises(ValueError):
            setattr(pinned, bound, ssl.TLSVersion.TLSv1_3)


@pytest.mark.parametrize("lib", [ssl, cyssl], ids=["ssl", "cyssl"])
def test_the_highest_version_as_a_minimum_refuses_tls12(pki_files, lib):
    """minimum_version = MAXIMUM_SUPPORTED means TLS 1.3 only: a TLS 1.2 server is
    refused, never taken (cyssl once read the sentinel as TLS 1.2)."""
    client = client_context(pki_files, lib)
    client.minimum_version = ssl.TLSVersion.MAXIMUM_SUPPORTED
    with pytest.raises(ssl.SSLError):
        Pair(client, capped_server(pki_files)).handshake()
    server = server_context(pki_files, lib)
    server.maximum_version = ssl.TLSVersion.MINIMUM_SUPPORTED     # TLS 1.2 at most here
    pair = Pair(client_context(pki_files), server)
    if lib is cyssl:
        pair.handshake()
        assert pair.client.version() == "TLSv1.2"
    else:
        with pytest.raises(ssl.SSLError):     # OpenSSL's lowest is TLS 1.0, which the client refuses
            pair.handshake()


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


CIPHER_STRINGS = [
    "ECDH", "ECDHE", "EECDH", "kECDHE", "aRSA", "ECDSA", "aECDSA", "AES", "AES128", "AES256",
    "AESGCM", "CHACHA20", "HIGH", "DEFAULT", "ALL", "TLSv1.2", "ECDH+AESGCM", "ECDH+CHACHA20",
    "ECDH+AES", "HIGH:!aNULL:!MD5:!RSA", "ALL:!SHA384", "ALL:!SHA256", "HIGH:!aNULL:!eNULL:!kRSA",
    "ECDHE+AESGCM:ECDHE+CHACHA20", "EECDH+AESGCM:EDH+AESGCM", "kECDHE+aRSA", "aRSA+AESGCM",
    "-ALL:ECDHE-ECDSA-CHACHA20-POLY1305", "!ALL:ECDHE-ECDSA-CHACHA20-POLY1305:ALL",
    "ALL:-AES256", "ALL:-AES256:AES256+ECDSA", "AES256+ECDSA", "CHACHA20:AESGCM",
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256", "ALL:+CHACHA20",
    "RSA", "kRSA", "SHA256", "SHA384", "RSA+AESGCM", "ECDHE+RSA", "AEAD", "nonsense",
    ssl._DEFAULT_CIPHERS,
]


@pytest.mark.parametrize("cipherlist", CIPHER_STRINGS)
def test_cipher_strings_select_what_openssl_selects(cipherlist):
    """Of cyssl's six TLS 1.2 suites, a cipher string selects the ones OpenSSL's would
    (RSA and ECDH name key exchanges, SHA256 and SHA384 MACs; '!' kills for good, '-'
    until named again, '+x' moves to the end), and fails where OpenSSL's leaves none of
    them. (The order within an alias is cyssl's preference, not OpenSSL's strength sort.)"""
    from cyssl.tls.suites import TLS12_SUITES
    ours = {suite.openssl_name for suite in TLS12_SUITES}
    stdlib_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        stdlib_ctx.set_ciphers(cipherlist)
    except ssl.SSLError:
        expected = []
    else:
        expected = [c["name"] for c in stdlib_ctx.get_ciphers() if c["name"] in ours]
    ctx = cyssl.SSLContext(cyssl.PROTOCOL_TLS_CLIENT)
    if not expected:
        with pytest.raises(ssl.SSLError):
            ctx.set_ciphers(cipherlist)
        return
    ctx.set_ciphers(cipherlist)
    got = [c["name"] for c in ctx.get_ciphers() if c["protocol"] == "TLSv1.2"]
    assert set(got) == set(expected)


@pytest.mark.parametrize("cipherlist, expected", [
    ("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256",
     ["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"]),
    ("CHACHA20:AESGCM", ["CHACHA20", "CHACHA20", "GCM", "GCM", "GCM", "GCM"]),
    ("ALL:+CHACHA20", ["GCM", "GCM", "GCM", "GCM", "CHACHA20", "CHACHA20"]),
])
def test_cipher_strings_keep_their_order(cipherlist, expected):
    """Terms come in the order written, and '+x' moves x's suites to the end."""
    from cyssl.tls.suites import TLS12_SUITES
    ours = {suite.openssl_name for suite in TLS12_SUITES}
    for lib in (ssl, cyssl):
        ctx = lib.SSLContext(lib.PROTOCOL_TLS_CLIENT)
        ctx.set_ciphers(cipherlist)
        names = [c["name"] for c in ctx.get_ciphers() if c["name"] in ours]
        if len(expected) == 2:
            assert names == expected, lib
        else:
            assert ["CHACHA20" if "CHACHA20" in n else "GCM" for n in names] == expected, lib


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
