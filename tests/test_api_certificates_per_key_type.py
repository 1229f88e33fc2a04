"""A context holds one certificate chain per key type, as OpenSSL does: load_cert_chain
with an RSA chain beside an ECDSA one keeps both, and each handshake presents the one the
peer can verify (its TLS 1.2 suite, its signature schemes); a second chain of the same
type replaces the first. Checked against the stdlib (OpenSSL) in the same process and
the openssl command line (s_client) as peers."""
import socket
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

import cyssl
import pki
from openssl_cli import OPENSSL, OpenSSLProcess, SocketDriver
from peers import (StdlibPeer, client_config, client_connection, server_connection, shuttle,
                   shuttle_engines, stdlib_client_context)
from test_api_sslobject import Pair
from cyssl.tls.config import TLSConfig
from cyssl.tls.errors import TLSError
from cyssl.tls.tickets import TicketKeys


@pytest.fixture(scope="module")
def dual(tmp_path_factory):
    """A root, an ECDSA and an RSA leaf for the same names, and their files."""
    tmp = tmp_path_factory.mktemp("dual")
    root = pki.CA.root()
    leaves = {"ecdsa": root.leaf(), "rsa": root.leaf(key_type="rsa-2048"),
              "ecdsa-other": root.leaf()}
    files = {}
    for name, leaf in leaves.items():
        (tmp / name).mkdir()
        files[name] = pki.write_chain(tmp / name, leaf)
    cafile = tmp / "ca.pem"
    cafile.write_bytes(root.cert_pem())
    return root, leaves, files, cafile


def server_with(dual, *names, lib=cyssl):
    _root, _leaves, files, _cafile = dual
    ctx = lib.SSLContext(lib.PROTOCOL_TLS_SERVER)
    for name in names:
        ctx.load_cert_chain(*files[name])
    return ctx


def stdlib_client(dual, tls12=False, ciphers=None):
    ctx = stdlib_client_context(dual[0])
    if tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if ciphers:
        ctx.set_ciphers(ciphers)
    return ctx


def connect_engines(client_cfg, server_cfg):
    client = client_connection(client_cfg, "localhost")
    server = server_connection(server_cfg)
    shuttle_engines(client, server)
    return client, server


def presented(pair):
    """The server certificate the client received."""
    return x509.load_der_x509_certificate(pair.client.getpeercert(binary_form=True))


@pytest.mark.parametrize("order", [("ecdsa", "rsa"), ("rsa", "ecdsa")])
def test_tls12_suite_chooses_the_chain(dual, order):
    server = server_with(dual, *order)
    for ciphers, key_class, auth in (("ECDHE+aRSA", rsa.RSAPublicKey, "RSA"),
                                     ("ECDHE+aECDSA", ec.EllipticCurvePublicKey, "ECDSA")):
        pair = Pair(stdlib_client(dual, tls12=True, ciphers=ciphers), server)
        pair.handshake()
        assert pair.client.version() == "TLSv1.2"
        assert pair.client.cipher()[0].split("-")[:2] == ["ECDHE", auth]
        assert isinstance(presented(pair).public_key(), key_class)
        pair.client.write(b"ping")
        pair.pump()
        assert pair.server.read(4) == b"ping"


def test_tls12_client_offering_both_gets_what_the_stdlib_server_picks(dual):
    # Python's contexts set OP_CIPHER_SERVER_PREFERENCE, so the server's order decides;
    # without it, the client's.
    ciphers = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256"
    for server_preference in (True, False):
        chosen = {}
        for lib in (cyssl, ssl):
            server = server_with(dual, "ecdsa", "rsa", lib=lib)
            server.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256")
            if not server_preference:
                server.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
            pair = Pair(stdlib_client(dual, tls12=True, ciphers=ciphers), server)
            pair.handshake()
            chosen[lib.__name__] = (pair.client.cipher()[0], type(presented(pair).public_key()))
        assert chosen["cyssl"][0] == chosen["ssl"][0] == (
            "ECDHE-ECDSA-AES128-GCM-SHA256" if server_preference else "ECDHE-RSA-AES128-GCM-SHA256")
        assert chosen["cyssl"][1] is chosen["ssl"][1]


def test_tls13_presents_the_chain_of_our_preferred_scheme(dual):
    # The stdlib client offers ECDSA and RSA-PSS schemes; ECDSA comes first in ours.
    for order in (("ecdsa", "rsa"), ("rsa", "ecdsa")):
        pair = Pair(stdlib_client(dual), server_with(dual, *order))
        pair.handshake()
        assert pair.client.version() == "TLSv1.3"
        assert isinstance(presented(pair).public_key(), ec.EllipticCurvePublicKey)


def test_tls13_client_verifying_only_rsa_gets_the_rsa_chain(dual):
    root, leaves = dual[0], dual[1]
    server = TLSConfig(credentials=[([leaves["ecdsa"].der()], leaves["ecdsa"].key),
                                    ([leaves["rsa"].der()], leaves["rsa"].key)],
                       ticket_keys=TicketKeys())
    for schemes, expected in (([0x0804], "rsa"), ([0x0403], "ecdsa"), ([0x0403, 0x0804], "ecdsa")):
        client, server_conn = connect_engines(client_config(root, signature_schemes=schemes), server)
        assert client.handshake_complete and client.peer_chain == [leaves[expected].der()]


def test_no_chain_the_client_can_verify_is_a_handshake_failure(dual):
    root, leaves = dual[0], dual[1]
    server = TLSConfig(credentials=[([leaves["ecdsa"].der()], leaves["ecdsa"].key)],
                       ticket_keys=TicketKeys())
    with pytest.raises(TLSError) as info:
        connect_engines(client_config(root, signature_schemes=[0x0804]), server)
    assert (info.value.alert_name, info.value.reason) == ("handshake_failure",
                                                          "NO_SUITABLE_SIGNATURE_ALGORITHM")


@pytest.mark.parametrize("versions", [[0x0304], [0x0303]], ids=["tls1.3", "tls1.2"])
@pytest.mark.parametrize("schemes", [[0x0201], [0x0804], [0x0403]],
                         ids=["none-known", "rsa-pss-only", "ecdsa-only"])
@pytest.mark.parametrize("names", [("ecdsa",), ("ecdsa", "rsa")], ids=["ecdsa", "ecdsa+rsa"])
def test_the_client_schemes_choose_as_with_the_stdlib(dual, versions, schemes, names):
    """One client (cyssl's engine, offering ECDHE-ECDSA before ECDHE-RSA and only
    ``schemes``) against a cyssl and a stdlib server holding the same chains: the same
    suite, or a failure for the same reason (none known: NO_SHARED_SIGNATURE_ALGORITHMS;
    none our keys can make: NO_SUITABLE_SIGNATURE_ALGORITHM in TLS 1.3, NO_SHARED_CIPHER
    in TLS 1.2, whose suites are ruled out by key type first)."""
    root = dual[0]
    outcomes = {}
    for lib in (cyssl, ssl):
        peer = StdlibPeer(server_with(dual, *names, lib=lib), server_side=True)
        conn = client_connection(client_config(root, versions=versions, signature_schemes=schemes,
                                               tls12_suites=[0xC02B, 0xC02F]), "localhost")
        try:
            shuttle(conn, peer)
            outcomes[lib.__name__] = peer.obj.cipher()[0]
        except ssl.SSLError as err:                 # the server's own failure
            outcomes[lib.__name__] = err.reason
        except TLSError:                            # ours, after the server's alert
            outcomes[lib.__name__] = "client saw " + str(conn.error)
    assert outcomes["cyssl"] == outcomes["ssl"], outcomes


def test_a_second_chain_of_the_same_type_replaces_the_first(dual):
    leaves = dual[1]
    pair = Pair(stdlib_client(dual), server_with(dual, "ecdsa", "rsa", "ecdsa-other"))
    pair.handshake()
    assert presented(pair).serial_number == leaves["ecdsa-other"].cert.serial_number
    tls12 = Pair(stdlib_client(dual, tls12=True, ciphers="ECDHE+aRSA"),
                 server_with(dual, "ecdsa", "rsa", "ecdsa-other"))
    tls12.handshake()
    assert presented(tls12).serial_number == leaves["rsa"].cert.serial_number


def test_the_stdlib_behaves_alike(dual):
    # The same loads into the stdlib's context give the same choices: what we copy.
    for ciphers, key_class in (("ECDHE+aRSA", rsa.RSAPublicKey),
                               ("ECDHE+aECDSA", ec.EllipticCurvePublicKey)):
        pair = Pair(stdlib_client(dual, tls12=True, ciphers=ciphers),
                    server_with(dual, "ecdsa", "rsa", lib=ssl))
        pair.handshake()
        assert isinstance(presented(pair).public_key(), key_class)


@pytest.mark.skipif(OPENSSL is None, reason="no openssl command line")
@pytest.mark.parametrize("client_args, expected_bits", [
    (["-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256"], 2048),
    (["-tls1_3", "-sigalgs", "ecdsa_secp256r1_sha256"], 256),
    (["-tls1_3"], 256),                                        # both offered: ECDSA first
    (["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"], 2048),
    (["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"], 256),
], ids=["tls1.3-rsa-pss", "tls1.3-ecdsa", "tls1.3-both", "tls1.2-rsa", "tls1.2-ecdsa"])
def test_openssl_s_client_gets_the_chain_it_can_verify(dual, client_args, expected_bits):
    root, leaves, _files, cafile = dual
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(10)
    client = OpenSSLProcess(["s_client", "-connect", "127.0.0.1:%d" % listener.getsockname()[1],
                             "-servername", "localhost", "-CAfile", str(cafile)] + client_args)
    try:
        sock, _ = listener.accept()
        conn = server_connection(TLSConfig(
            credentials=[([leaves["ecdsa"].der()], leaves["ecdsa"].key),
                         ([leaves["rsa"].der()], leaves["rsa"].key)], ticket_keys=TicketKeys()))
        driver = SocketDriver(conn, sock)
        driver.until(lambda: conn.handshake_complete)
        output = client.read_until("Verify return code: 0").decode()
        assert "Server public key is %d bit" % expected_bits in output, output
        sock.close()
    finally:
        client.close()
        listener.close()


def test_key_types_follow_a_credential_list_edited_in_place(dual):
    """The engine works out each key's type once, but sees a list changed in place."""
    leaves = dual[1]
    config = TLSConfig(credentials=[([leaves["ecdsa"].der()], leaves["ecdsa"].key)])
    (ecdsa,) = config.key_auths()
    config.credentials.append(([leaves["rsa"].der()], leaves["rsa"].key))
    assert config.key_auths()[0] == ecdsa and len(config.key_auths()) == 2
    assert config.key_auths()[1] != ecdsa
    config.credentials[0] = config.credentials.pop()
    assert config.key_auths()[0] != ecdsa and len(config.key_auths()) == 1
