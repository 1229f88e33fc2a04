"""Our own certificate loaded without its issuers goes out with them, taken from the
context's trust store, as OpenSSL completes it (Python leaves SSL_MODE_NO_AUTO_CHAIN
off); a chain loaded whole goes out as loaded. The peer is the stdlib, which trusts only
the root, so it verifies only when the intermediate was sent."""
import ssl

import pytest

import cyssl
import pki
from test_api_sslobject import Pair


@pytest.fixture(scope="module")
def tiers(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tiers")
    root = pki.CA.root()
    inter = root.intermediate()
    leaf = inter.leaf()
    client_leaf = inter.leaf(hosts=("client.example",), client=True, server=False)
    files = {}
    for name, issued, cas in (("leaf", leaf, ()), ("leaf+inter", leaf, (inter,)),
                              ("client", client_leaf, ())):
        (tmp / name).mkdir()
        files[name] = pki.write_chain(tmp / name, issued, *cas)
    for name, pem in (("root", root.cert_pem()), ("both", root.cert_pem() + inter.cert_pem())):
        files[name] = tmp / (name + ".pem")
        files[name].write_bytes(pem)
    return files


def stdlib_client(tiers):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(tiers["root"])
    return ctx


@pytest.mark.parametrize("lib", [cyssl, ssl], ids=["cyssl", "stdlib"])
@pytest.mark.parametrize("tls12", [False, True], ids=["tls1.3", "tls1.2"])
def test_a_lone_leaf_goes_out_with_its_issuers_from_the_trust_store(tiers, lib, tls12):
    server = lib.SSLContext(lib.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(*tiers["leaf"])
    server.load_verify_locations(tiers["both"])
    if tls12:
        server.maximum_version = lib.TLSVersion.TLSv1_2
    pair = Pair(stdlib_client(tiers), server)
    pair.handshake()                        # the client has only the root
    pair.client.write(b"ok")
    pair.pump()
    assert pair.server.read(2) == b"ok"


@pytest.mark.parametrize("lib", [cyssl, ssl], ids=["cyssl", "stdlib"])
def test_without_the_intermediate_in_the_store_the_peer_cannot_verify(tiers, lib):
    server = lib.SSLContext(lib.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(*tiers["leaf"])
    server.load_verify_locations(tiers["root"])
    with pytest.raises(ssl.SSLCertVerificationError) as info:
        Pair(stdlib_client(tiers), server).handshake()
    assert info.value.verify_code == 20     # unable to get local issuer certificate


def test_a_chain_loaded_whole_goes_as_loaded(tiers):
    server = cyssl.SSLContext(cyssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(*tiers["leaf+inter"])
    pair = Pair(stdlib_client(tiers), server)
    pair.handshake()
    assert len(pair.server.conn.config.credentials[0][0]) == 2   # leaf, intermediate


def test_the_client_certificate_is_completed_too(tiers):
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(*tiers["leaf+inter"])
    server.load_verify_locations(tiers["root"])
    server.verify_mode = ssl.CERT_REQUIRED
    client = cyssl.SSLContext(cyssl.PROTOCOL_TLS_CLIENT)
    client.load_verify_locations(tiers["both"])
    client.load_cert_chain(*tiers["client"])
    pair = Pair(client, server)
    pair.handshake()
    pair.client.write(b"ok")
    pair.pump()
    assert pair.server.read(2) == b"ok"
    assert pair.server.getpeercert()["subjectAltName"] == (("DNS", "client.example"),)
