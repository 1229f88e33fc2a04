"""cyssl.crypto.certs: loading, trust store, chain + host name verification.

Real chains from tests/pki.py, no mocks. The verify codes and messages are the
ones OpenSSL 3 gives; the last part of this file proves that by running the same
certificates through a real stdlib (OpenSSL) handshake.
"""
import ctypes
import datetime
import os
import random
import re
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID

from cyssl.crypto import certs
from cyssl.crypto.certs import CertificateError, TrustStore, verify_chain
from pki import ALL_KEY_TYPES, CA, Issued, self_signed, write_chain

NOW = datetime.datetime.now(datetime.timezone.utc)
HOUR = datetime.timedelta(hours=1)
EXPIRED = dict(not_before=NOW - 72 * HOUR, not_after=NOW - HOUR)
NOT_YET_VALID = dict(not_before=NOW + HOUR, not_after=NOW + 72 * HOUR)
EDDSA = ("ed25519", "ed448")


@pytest.fixture(scope="module")
def root():
    return CA.root()


@pytest.fixture(scope="module")
def inter(root):
    return root.intermediate()


def store_of(*cas):
    store = TrustStore()
    for ca in cas:
        store.add_pem(ca.cert_pem())
    return store


def verify(leaf, intermediates, anchors, server_name="localhost", **options):
    return verify_chain(leaf.cert, [i.cert for i in intermediates], store_of(*anchors),
                        server_name=server_name, **options)


def verify_error(*args, **options):
    with pytest.raises(CertificateError) as caught:
        verify(*args, **options)
    return caught.value


def tampered(issued):
    """The certificate with one bit of its signature flipped."""
    der = bytearray(issued.der())
    der[-5] ^= 1
    return Issued(x509.load_der_x509_certificate(bytes(der)), issued.key, issued.key_type)


def name_constrained(root, permitted=None, excluded=None):
    constraints = x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=excluded)
    return root.intermediate(name="constrained", extra_extensions=[(constraints, True)])


# ---------------------------------------------------------------- valid chains

@pytest.mark.parametrize("key_type", ALL_KEY_TYPES)
def test_leaf_of_every_key_type_verifies(root, inter, key_type):
    leaf = inter.leaf(key_type=key_type)
    assert verify(leaf, [inter], [root]) == [leaf.cert, inter.cert, root.cert]
    direct = root.leaf(key_type=key_type)
    assert verify(direct, [], [root]) == [direct.cert, root.cert]


@pytest.mark.parametrize("key_type", [k for k in ALL_KEY_TYPES if k not in EDDSA])
def test_ca_of_every_key_type_verifies(key_type):
    root = CA.root(key_type)
    inter = root.intermediate(key_type)
    leaf = inter.leaf(key_type=key_type)
    assert verify(leaf, [inter], [root]) == [leaf.cert, inter.cert, root.cert]


@pytest.mark.parametrize("key_type", EDDSA)
def test_eddsa_signed_certificates_are_a_known_gap(key_type):
    # cryptography's verifier refuses EdDSA certificate signatures (OpenSSL takes
    # them); the failure is a clean CertificateError under the generic code.
    root = CA.root(key_type)
    error = verify_error(root.leaf(), [], [root])
    assert error.verify_code == certs.UNSPECIFIED
    assert error.verify_message == "certificate public key algorithm not supported: %s" % (
        "Ed25519" if key_type == "ed25519" else "Ed448")


def test_intermediates_in_any_order_with_extras(root):
    upper = root.intermediate(name="upper")
    lower = upper.intermediate(name="lower")
    leaf = lower.leaf()
    unrelated = CA.root(name="unrelated")
    chain = verify(leaf, [unrelated, upper, lower], [root])
    assert chain == [leaf.cert, lower.cert, upper.cert, root.cert]


def test_self_signed_leaf_trusted_directly():
    # The usual test-server setup: cafile is the server's own self-signed cert
    # (which, like many, has no AuthorityKeyIdentifier).
    server = self_signed()
    assert verify(server, [], [server]) == [server.cert]


def test_client_purpose(root, inter):
    client = inter.leaf(hosts=(), common_name="alice", client=True, server=False)
    assert verify(client, [inter], [root], server_name=None, purpose="client")[0] == client.cert
    with pytest.raises(ValueError):
        verify(client, [inter], [root], server_name=None, purpose="email")


# ------------------------------------------------------------------ host names

@pytest.mark.parametrize("hosts, server_name", [
    (("localhost",), "localhost"),
    (("Example.COM",), "example.com"),
    (("example.com",), "EXAMPLE.com"),
    (("*.example.com",), "www.example.com"),
    (("other.test", "*.example.com"), "a-b.example.com"),
    (("127.0.0.1",), "127.0.0.1"),
    (("::1",), "::1"),
    (("::1",), "0:0:0:0:0:0:0:1"),
    (("2001:db8::5",), "2001:DB8::5"),
    (("my_host.local",), "my_host.local"),     # a name cryptography cannot express
    (("xn--bcher-kva.example",), "bücher.example"),
])
def test_host_name_matches(inter, root, hosts, server_name):
    leaf = inter.leaf(hosts=hosts)
    assert verify(leaf, [inter], [root], server_name=server_name)[0] == leaf.cert
    assert certs.match_hostname(leaf.cert, server_name)


@pytest.mark.parametrize("hosts, server_name", [
    (("localhost",), "example.com"),
    (("*.example.com",), "a.b.example.com"),      # one label only
    (("*.example.com",), "example.com"),          # never the bare domain
    (("*.com",), "example.com"),                  # OpenSSL wants two labels after *
    (("w*.example.com",), "www.example.com"),     # no partial wildcards
    (("*.example.com",), "a_b.example.com"),      # * stands for LDH characters
    (("localhost",), "localhost."),
    (("www.example.com",), "example.com"),
])
def test_host_name_mismatch(inter, root, hosts, server_name):
    error = verify_error(inter.leaf(hosts=hosts), [inter], [root], server_name=server_name)
    assert (error.verify_code, error.verify_message) == (
        62, "Hostname mismatch, certificate is not valid for '%s'." % server_name)
    assert error.alert == "bad_certificate"
    assert not certs.match_hostname(inter.leaf(hosts=hosts).cert, server_name)


@pytest.mark.parametrize("hosts, server_name", [
    (("localhost", "::1"), "10.0.0.1"),
    (("127.0.0.1",), "::2"),
    (("localhost",), "127.0.0.1"),                # an IP never matches a DNS SAN
    (("127.0.0.1",), "127.0.0.2"),
])
def test_ip_address_mismatch(inter, root, hosts, server_name):
    error = verify_error(inter.leaf(hosts=hosts), [inter], [root], server_name=server_name)
    assert (error.verify_code, error.verify_message) == (
        64, "IP address mismatch, certificate is not valid for '%s'." % server_name)


def test_common_name_ignored_by_default(inter, root):
    cn_only = inter.leaf(hosts=(), common_name="example.com")
    assert verify_error(cn_only, [inter], [root], server_name="example.com").verify_code == 62
    assert verify(cn_only, [inter], [root], server_name="example.com", check_common_name=True)
    assert not certs.match_hostname(cn_only.cert, "example.com")
    assert certs.match_hostname(cn_only.cert, "example.com", check_common_name=True)


def test_common_name_fallback_only_without_dns_san(inter, root):
    with_dns = inter.leaf(hosts=("other.example",), common_name="example.com")
    error = verify_error(with_dns, [inter], [root], server_name="example.com",
                         check_common_name=True)
    assert error.verify_code == 62
    with_ip_only = inter.leaf(hosts=("127.0.0.1",), common_name="example.com")
    assert verify(with_ip_only, [inter], [root], server_name="example.com", check_common_name=True)
    wildcard_cn = inter.leaf(hosts=(), common_name="*.example.com")
    assert verify(wildcard_cn, [inter], [root], server_name="a.example.com", check_common_name=True)


def test_match_hostname_odd_inputs(inter, root):
    leaf = inter.leaf(hosts=("localhost", "127.0.0.1"))
    assert verify(leaf, [inter], [root], server_name=b"localhost")
    assert certs.match_hostname(leaf.cert, b"localhost")
    assert certs.match_hostname(leaf.cert, b"127.0.0.1")
    assert not certs.match_hostname(leaf.cert, "")
    assert not certs.match_hostname(leaf.cert, "*")
    assert not certs.match_hostname(inter.leaf(hosts=("*",)).cert, "localhost")


def test_verify_without_server_name(inter, root):
    # check_hostname off, CERT_REQUIRED: chain and purpose still count, names do not.
    assert verify(inter.leaf(hosts=("elsewhere.example",)), [inter], [root], server_name=None)
    no_san = inter.leaf(hosts=(), common_name="anything")
    assert verify(no_san, [inter], [root], server_name=None)[0] == no_san.cert
    no_eku = inter.leaf(server=False)
    assert verify(no_eku, [inter], [root], server_name=None)
    client_only = inter.leaf(client=True, server=False)
    assert verify_error(client_only, [inter], [root], server_name=None).verify_code == 26
    assert verify_error(inter.leaf(**EXPIRED), [inter], [root], server_name=None).verify_code == 10
    assert verify_error(inter.leaf(), [inter], [CA.root(name="x")], server_name=None).verify_code == 20


# ------------------------------------------------------------------ failures

FAILURES = [
    ("expired", 10, "certificate has expired", "certificate_expired"),
    ("not yet valid", 9, "certificate is not yet valid", "bad_certificate"),
    ("unknown CA", 20, "unable to get local issuer certificate", "unknown_ca"),
    ("unknown CA with the same name", 20, "unable to get local issuer certificate", "unknown_ca"),
    ("missing intermediate", 20, "unable to get local issuer certificate", "unknown_ca"),
    ("self-signed leaf", 18, "self-signed certificate", "unknown_ca"),
    ("untrusted root sent along", 19, "self-signed certificate in certificate chain", "unknown_ca"),
    ("intermediate without CA flag", 79, "invalid CA certificate", "unknown_ca"),
    ("path length exceeded", 25, "path length constraint exceeded", "unknown_ca"),
    ("client certificate used as server", 26, "unsuitable certificate purpose",
     "unsupported_certificate"),
    ("bad signature", 7, "certificate signature failure", "decrypt_error"),
    ("anchor is not self-signed", 2, "unable to get issuer certificate", "unknown_ca"),
    ("expired intermediate", 10, "certificate has expired", "certificate_expired"),
    ("permitted subtree violation", 47, "permitted subtree violation", "certificate_unknown"),
    ("excluded subtree violation", 48, "excluded subtree violation", "certificate_unknown"),
    ("expired and wrong name", 62,
     "Hostname mismatch, certificate is not valid for 'localhost'.", "bad_certificate"),
    ("no CA flag and wrong name", 79, "invalid CA certificate", "unknown_ca"),
    ("CA limited to clientAuth", 26, "unsuitable certificate purpose", "unsupported_certificate"),
    ("CA without keyCertSign", 79, "invalid CA certificate", "unknown_ca"),
    ("leaf key usage unfit", 26, "unsuitable certificate purpose", "unsupported_certificate"),
    ("anyExtendedKeyUsage only", 26, "unsuitable certificate purpose", "unsupported_certificate"),
    ("unknown critical extension", 34, "unhandled critical extension", "certificate_unknown"),
]


@pytest.fixture(scope="module")
def scenarios(root, inter):
    """name -> (leaf, intermediates, anchors): one chain per failure in FAILURES."""
    limited = root.intermediate(name="limited", path_length=0)
    too_deep = limited.intermediate(name="too deep")
    not_a_ca = root.intermediate(name="not a CA", ca_flag=False)
    old_inter = root.intermediate(name="old", **EXPIRED)
    permitted = name_constrained(root, permitted=[x509.DNSName("example.com")])
    excluded = name_constrained(root, excluded=[x509.DNSName("localhost")])
    client_ca = root.intermediate(name="client CA", extra_extensions=[
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])])
    signing_only = x509.KeyUsage(True, False, False, False, False, False, False, False, False)
    no_cert_sign = root.intermediate(name="no keyCertSign",
                                     extra_extensions=[(signing_only, True)])
    any_eku = x509.ExtendedKeyUsage([x509.ObjectIdentifier("2.5.29.37.0")])
    unknown_critical = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"),
                                                  b"\x05\x00")
    content_commitment_only = x509.KeyUsage(False, True, False, False, False, False, False,
                                            False, False)
    stranger = CA.root(name="stranger")
    return {
        "expired": (inter.leaf(**EXPIRED), [inter], [root]),
        "not yet valid": (inter.leaf(**NOT_YET_VALID), [inter], [root]),
        "unknown CA": (inter.leaf(), [inter], [stranger]),
        "unknown CA with the same name": (inter.leaf(), [inter], [CA.root()]),
        "missing intermediate": (inter.leaf(), [], [root]),
        "self-signed leaf": (self_signed(), [], [root]),
        "untrusted root sent along": (inter.leaf(), [inter, root], [stranger]),
        "intermediate without CA flag": (not_a_ca.leaf(), [not_a_ca], [root]),
        "path length exceeded": (too_deep.leaf(), [too_deep, limited], [root]),
        "client certificate used as server": (inter.leaf(client=True, server=False),
                                              [inter], [root]),
        "bad signature": (tampered(inter.leaf()), [inter], [root]),
        "anchor is not self-signed": (inter.leaf(), [inter], [inter]),
        "expired intermediate": (old_inter.leaf(), [old_inter], [root]),
        "permitted subtree violation": (permitted.leaf(), [permitted], [root]),
        "excluded subtree violation": (excluded.leaf(), [excluded], [root]),
        "expired and wrong name": (inter.leaf(hosts=("example.com",), **EXPIRED),
                                   [inter], [root]),
        "no CA flag and wrong name": (not_a_ca.leaf(hosts=("example.com",)),
                                      [not_a_ca], [root]),
        "CA limited to clientAuth": (client_ca.leaf(), [client_ca], [root]),
        "CA without keyCertSign": (no_cert_sign.leaf(), [no_cert_sign], [root]),
        "leaf key usage unfit": (inter.leaf(key_usage=content_commitment_only), [inter], [root]),
        "anyExtendedKeyUsage only": (inter.leaf(server=False, extra_extensions=[any_eku]),
                                     [inter], [root]),
        "unknown critical extension": (inter.leaf(extra_extensions=[(unknown_critical, True)]),
                                       [inter], [root]),
    }


@pytest.mark.parametrize("name, code, message, alert", FAILURES, ids=[f[0] for f in FAILURES])
def test_failure_codes(scenarios, name, code, message, alert):
    error = verify_error(*scenarios[name])
    assert (error.verify_code, error.verify_message, error.alert) == (code, message, alert)
    assert str(error) == message and isinstance(error, ValueError)


def test_error_depth_points_at_the_culprit(scenarios):
    assert verify_error(*scenarios["expired"]).depth == 0
    assert verify_error(*scenarios["expired intermediate"]).depth == 1
    assert verify_error(*scenarios["intermediate without CA flag"]).depth == 1


def test_partial_chain_trusts_an_intermediate(inter):
    leaf = inter.leaf()
    assert verify(leaf, [], [inter], partial_chain=True) == [leaf.cert, inter.cert]
    assert verify_error(leaf, [], [inter]).verify_code == 2


def test_non_root_store_certificate_still_links_a_chain(root, inter):
    # The store holds root and intermediate; the peer sends only its leaf.
    leaf = inter.leaf()
    assert verify(leaf, [], [root, inter]) == [leaf.cert, inter.cert, root.cert]


def test_server_certificate_as_client_certificate(root, inter):
    error = verify_error(inter.leaf(), [inter], [root], server_name=None, purpose="client")
    assert (error.verify_code, error.alert) == (26, "unsupported_certificate")


def test_verification_time_is_honoured(root, inter):
    leaf = inter.leaf()
    later = NOW + datetime.timedelta(days=60)
    assert verify_error(leaf, [inter], [root], now=later).verify_code == 10
    naive_earlier = (NOW - datetime.timedelta(days=3)).replace(tzinfo=None)
    assert verify_error(leaf, [inter], [root], now=naive_earlier).verify_code == 9


def test_weak_rsa_leaf_key(root):
    # Built by hand: pki only makes keys a modern peer accepts.
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(65537, 1024)
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "weak")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(root.cert.subject)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(NOW - HOUR).not_valid_after(NOW + HOUR)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
            .sign(root.key, hashes.SHA256()))
    error = verify_error(Issued(cert, key, "rsa-1024"), [], [root])
    assert (error.verify_code, error.verify_message) == (66, "EE certificate key too weak")


# ------------------------------------------------------- malformed inputs

def test_malformed_extension_is_a_certificate_error(root, inter):
    broken_san = x509.UnrecognizedExtension(ExtensionOID.SUBJECT_ALTERNATIVE_NAME, b"\x30\x03\x82\x05a")
    leaf = inter.leaf(extra_extensions=[broken_san])
    for server_name in ("localhost", None):
        error = verify_error(leaf, [inter], [root], server_name=server_name)
        assert (error.verify_code, error.verify_message) == (
            41, "invalid or inconsistent certificate extension")
    assert not certs.match_hostname(leaf.cert, "localhost")


def test_malformed_intermediate_or_anchor(root, inter):
    # Same name as the real intermediate, unparsable basicConstraints.
    broken = x509.UnrecognizedExtension(ExtensionOID.BASIC_CONSTRAINTS, b"\x30\x03\x01\x01")
    impostor = root.intermediate(name="cyssl test intermediate", extra_extensions=[(broken, True)])
    leaf = inter.leaf()
    error = verify_error(leaf, [impostor], [root])
    assert (error.verify_code, error.depth) == (41, 1)
    # The real intermediate next to the broken one still makes a chain.
    assert verify(leaf, [impostor, inter], [root])[1] == inter.cert
    store = store_of(root)
    store.add_pem(impostor.cert_pem())      # a broken store certificate is harmless
    assert verify_chain(leaf.cert, [inter.cert], store, server_name="localhost")


@pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")
def test_mutated_certificates_never_escape_as_other_errors(root, inter):
    """Flip random bytes of a DER certificate: loading raises ValueError or
    verifying raises CertificateError (or, when the flip hit nothing that matters,
    accepts), never anything else."""
    good = inter.leaf().der()
    store = store_of(root)
    rng = random.Random(1234)
    outcomes = set()
    for _ in range(300):
        der = bytearray(good)
        for _ in range(rng.randint(1, 3)):
            der[rng.randrange(len(der))] = rng.randrange(256)
        try:
            cert = certs.load_der_certificate(bytes(der))
        except ValueError:
            outcomes.add("load")
            continue
        try:
            verify_chain(cert, [inter.cert], store, server_name="localhost")
            outcomes.add("accepted")   # only if the flip hit nothing that matters
        except CertificateError:
            outcomes.add("rejected")
    assert "rejected" in outcomes and "load" in outcomes


@pytest.mark.parametrize("data", [b"", b"garbage", b"-----BEGIN CERTIFICATE-----\n!!!\n"
                                  b"-----END CERTIFICATE-----\n",
                                  b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                                  "not PEM at all", "caf\u00e9"])
def test_load_pem_certificates_rejects_garbage(data):
    with pytest.raises(ValueError):
        certs.load_pem_certificates(data)


def test_load_pem_certificates_skips_other_blocks(inter):
    leaf = inter.leaf()
    bundle = leaf.key_pem() + b"text between\n" + leaf.cert_pem() + inter.cert_pem().decode().encode()
    assert certs.load_pem_certificates(bundle) == [leaf.cert, inter.cert]
    assert certs.load_pem_certificates(bundle.decode()) == [leaf.cert, inter.cert]


def test_trusted_certificate_blocks(root):
    # OpenSSL's "TRUSTED CERTIFICATE" = the certificate followed by trust settings.
    import base64
    aux = b"\x30\x0c\x30\x0a\x06\x08\x2b\x06\x01\x05\x05\x07\x03\x01"   # trust: serverAuth
    body = base64.encodebytes(root.der() + aux)
    pem = b"-----BEGIN TRUSTED CERTIFICATE-----\n" + body + b"-----END TRUSTED CERTIFICATE-----\n"
    assert certs.load_pem_certificates(pem) == [root.cert]


@pytest.mark.parametrize("data", [b"", b"\x30", b"\x30\x03abc", b"\x04\x00", b"garbage"])
def test_load_der_certificate_rejects_garbage(data):
    with pytest.raises(ValueError):
        certs.load_der_certificate(data)


# ------------------------------------------------------------- private keys

@pytest.mark.parametrize("key_type", ALL_KEY_TYPES)
def test_load_private_key_pkcs8(inter, key_type):
    leaf = inter.leaf(key_type=key_type)
    key = certs.load_private_key(leaf.key_pem())
    assert certs.key_matches_certificate(key, leaf.cert)
    assert not certs.key_matches_certificate(key, inter.cert)


@pytest.mark.parametrize("key_type", ["rsa-2048", "ecdsa-p256"])
def test_load_private_key_traditional_and_der(inter, key_type):
    leaf = inter.leaf(key_type=key_type)
    traditional = leaf.key.private_bytes(serialization.Encoding.PEM,
                                         serialization.PrivateFormat.TraditionalOpenSSL,
                                         serialization.NoEncryption())
    assert b"BEGIN RSA PRIVATE KEY" in traditional or b"BEGIN EC PRIVATE KEY" in traditional
    assert certs.key_matches_certificate(certs.load_private_key(traditional), leaf.cert)
    legacy_encrypted = leaf.key.private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.TraditionalOpenSSL,
                                              serialization.BestAvailableEncryption(b"pw"))
    assert certs.key_matches_certificate(certs.load_private_key(legacy_encrypted, b"pw"), leaf.cert)
    der = leaf.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    assert certs.key_matches_certificate(certs.load_private_key(der), leaf.cert)


def test_load_private_key_passwords(inter):
    leaf = inter.leaf()
    encrypted = leaf.key_pem(password=b"s3cret")
    for password in (b"s3cret", "s3cret", bytearray(b"s3cret"), lambda: b"s3cret", lambda: "s3cret"):
        assert certs.key_matches_certificate(certs.load_private_key(encrypted, password), leaf.cert)
    with pytest.raises(ValueError, match="wrong password"):
        certs.load_private_key(encrypted, b"wrong")
    with pytest.raises(ValueError, match="no password"):
        certs.load_private_key(encrypted)
    # As with the stdlib, a password for a plain key is ignored, and a callable is
    # only called when needed.
    def never():
        raise AssertionError("called")
    assert certs.load_private_key(leaf.key_pem(), never)
    assert certs.load_private_key(leaf.key_pem(), b"unused")


def test_load_private_key_from_combined_pem(inter):
    leaf = inter.leaf()
    combined = leaf.cert_pem() + leaf.key_pem()
    assert certs.key_matches_certificate(certs.load_private_key(combined), leaf.cert)


@pytest.mark.parametrize("data", [b"", b"garbage", b"\x30\x03\x02\x01\x00",
                                  b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                                  b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"])
def test_load_private_key_rejects_garbage(data):
    with pytest.raises(ValueError):
        certs.load_private_key(data)


# --------------------------------------------------------------- trust store

def test_store_add_pem_counts_and_ignores_duplicates(root, inter):
    store = TrustStore()
    assert store.add_pem(root.cert_pem()) == 1
    assert store.add_pem(root.cert_pem()) == 0
    assert store.add_pem(root.cert_pem() + inter.cert_pem() + inter.key_pem()) == 1
    assert store.add_pem(root.cert_pem().decode()) == 0
    assert len(store) == 2 and store.anchors() == [root.cert, inter.cert]
    assert store.stats() == {"x509": 2, "crl": 0, "x509_ca": 2}
    with pytest.raises(ValueError):
        store.add_pem(b"no certificates here")
    assert len(store) == 2


def test_store_add_der(root, inter):
    store = TrustStore()
    assert store.add_der(root.der() + inter.der()) == 2
    assert store.add_der(root.der()) == 0
    assert store.anchors() == [root.cert, inter.cert]
    for garbage in (b"", b"garbage", root.der() + b"\x30\x05abc", root.der()[:-1]):
        with pytest.raises(ValueError):
            store.add_der(garbage)


def test_store_add_file(tmp_path, root, inter):
    path = tmp_path / "bundle.pem"
    path.write_bytes(root.cert_pem() + inter.cert_pem())
    store = TrustStore()
    assert store.add_file(path) == 2
    assert store.add_file(str(path)) == 0
    path.write_bytes(root.cert_pem())   # a changed file is read again
    os.utime(path, ns=(0, 1))
    assert TrustStore().add_file(path) == 1
    with pytest.raises(FileNotFoundError):
        store.add_file(tmp_path / "missing.pem")
    (tmp_path / "empty.pem").write_bytes(b"")
    with pytest.raises(ValueError):
        store.add_file(tmp_path / "empty.pem")


def test_store_add_directory(tmp_path, root, inter):
    other = CA.root(name="other root")
    (tmp_path / "1a2b3c4d.0").write_bytes(root.cert_pem())
    os.symlink(tmp_path / "1a2b3c4d.0", tmp_path / "root.pem")    # same file twice
    (tmp_path / "other.crt").write_bytes(other.cert_pem())
    (tmp_path / "junk.pem").write_bytes(b"not a certificate")
    (tmp_path / "ignored.txt").write_bytes(inter.cert_pem())
    store = TrustStore()
    assert store.add_directory(tmp_path) == 2
    assert store.add_directory(tmp_path) == 0
    # Like the stdlib's capath: used for verification, listed only once a verification
    # looked one up (OpenSSL then has it in the store).
    assert len(store) == 0 and store.anchors() == []
    leaf = inter.leaf()
    assert verify_chain(leaf.cert, [inter.cert], store, server_name="localhost")[-1] == root.cert
    assert store.anchors() == [root.cert] and store.stats()["x509_ca"] == 1
    with pytest.raises(NotADirectoryError):
        store.add_directory(tmp_path / "1a2b3c4d.0")


def test_a_malformed_issuer_name_with_a_capath_store_is_still_a_verification_error(tmp_path,
                                                                                    root, inter):
    # A peer certificate whose issuer name is not valid UTF-8 parses, but reading
    # .issuer raises ValueError; recording the lookups of a capath store must not
    # turn the CertificateError into that.
    leaf = inter.leaf()
    der = leaf.der()
    name = "cyssl test intermediate".encode()
    assert der.count(name) == 1                       # the issuer name only
    bad = x509.load_der_x509_certificate(der.replace(name, b"\xff" * len(name)))
    with pytest.raises(ValueError):
        bad.issuer
    (tmp_path / "root.pem").write_bytes(root.cert_pem())
    store = TrustStore()
    store.add_directory(tmp_path)
    with pytest.raises(CertificateError):
        verify_chain(bad, [inter.cert], store, server_name="localhost")


def test_store_changes_take_effect(root, inter):
    store = TrustStore()
    leaf = inter.leaf()
    with pytest.raises(CertificateError) as caught:
        verify_chain(leaf.cert, [inter.cert], store, server_name="localhost")
    assert caught.value.verify_code == 20
    store.add_pem(root.cert_pem())
    assert verify_chain(leaf.cert, [inter.cert], store, server_name="localhost")[-1] == root.cert


def test_store_shared_between_threads(root):
    # H10: contexts (and so stores) are shared by live connections while code keeps
    # loading more into them.
    import threading
    store = store_of(root)
    cas = [CA.root(name="extra %d" % n) for n in range(20)]
    leaves = [(ca.leaf(), ca) for ca in cas]
    errors = []

    def verify_all():
        for leaf, ca in leaves:
            try:
                verify_chain(leaf.cert, [], store, server_name="localhost")
            except CertificateError as error:
                if error.verify_code != 20:
                    errors.append(error)

    threads = [threading.Thread(target=verify_all) for _ in range(3)]
    for thread in threads:
        thread.start()
    for ca in cas:
        store.add_pem(ca.cert_pem())
    for thread in threads:
        thread.join()
    assert not errors and len(store) == 21
    verify_all()
    assert all(verify_chain(leaf.cert, [], store, server_name="localhost") for leaf, _ in leaves)


def test_default_verify_paths(tmp_path, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    stdlib = ssl.get_default_verify_paths()
    assert certs.default_verify_paths() == (stdlib.cafile, stdlib.capath)
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(b"")
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    assert certs.default_verify_paths() == (str(bundle), str(tmp_path))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    assert certs.default_verify_paths()[0] is None


DAMAGED_PEM = (b"-----BEGIN CERTIFICATE-----\nMAMCAQBnYXJiYWdl\n-----END CERTIFICATE-----\n")


@pytest.mark.parametrize("lib", ["ssl", "cyssl"])
@pytest.mark.parametrize("bundle", ["empty", "damaged", "good then damaged"])
def test_default_paths_never_fail_to_load(tmp_path, monkeypatch, root, lib, bundle):
    """As OpenSSL's, the default paths load without an error whatever is there: an empty
    bundle, a damaged one, a capath holding a damaged file. cyssl keeps the certificates
    that parse where OpenSSL drops a damaged file whole: were `cryptography` to refuse
    one system root (it warns about nine on Debian with serial number 0), the others
    still verify. A cafile given by name still fails whole, as the stdlib's does."""
    import cyssl
    module = cyssl if lib == "cyssl" else ssl
    cafile = tmp_path / "bundle.pem"
    cafile.write_bytes({"empty": b"", "damaged": DAMAGED_PEM,
                        "good then damaged": root.cert_pem() + DAMAGED_PEM}[bundle])
    capath = tmp_path / "capath"
    capath.mkdir()
    (capath / "0badc0de.0").write_bytes(DAMAGED_PEM)
    monkeypatch.setenv("SSL_CERT_FILE", str(cafile))
    monkeypatch.setenv("SSL_CERT_DIR", str(capath))
    context = module.create_default_context()
    loaded = context.cert_store_stats()["x509"]
    assert loaded == (1 if lib == "cyssl" and bundle == "good then damaged" else 0)
    with pytest.raises(ssl.SSLError):
        module.SSLContext(module.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile)


def test_a_file_read_leniently_is_still_read_strictly_by_name(tmp_path, root):
    """The per-process file cache keeps the two readings apart."""
    cafile = tmp_path / "bundle.pem"
    cafile.write_bytes(root.cert_pem() + DAMAGED_PEM)
    assert TrustStore().add_file(cafile, skip_damaged=True) == 1
    with pytest.raises(ValueError):
        TrustStore().add_file(cafile)
    assert TrustStore().add_file(cafile, skip_damaged=True) == 1


def test_system_store_loads_and_verifies_nothing_foreign(inter):
    cafile, capath = certs.default_verify_paths()
    if cafile is None:
        pytest.skip("no system CA bundle")
    store = TrustStore()
    assert store.add_file(cafile) > 10
    with pytest.raises(CertificateError) as caught:
        verify_chain(inter.leaf().cert, [inter.cert], store, server_name="localhost")
    assert caught.value.verify_code == 20


# ------------------------------------------- the same failures through OpenSSL

def stdlib_handshake(leaf, intermediates, anchors, server_name="localhost", tmp_path=None,
                     client_cert=None):
    """A real TLS handshake between two stdlib (OpenSSL) SSLObjects over memory BIOs.
    Returns (the verifying side's SSLCertVerificationError, the reason of the error
    the other side got from the alert), or (None, None) on success."""
    certfile, keyfile = write_chain(tmp_path, leaf, *intermediates)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if client_cert is None:
        server_ctx.load_cert_chain(certfile, keyfile)
        verifier_ctx = client_ctx
    else:   # the server verifies a client certificate
        server_keys = CA.root(name="server side").leaf()
        server_ctx.load_cert_chain(*write_chain(tmp_path, server_keys))
        client_ctx.load_cert_chain(certfile, keyfile)
        client_ctx.check_hostname, client_ctx.verify_mode = False, ssl.CERT_NONE
        server_ctx.verify_mode = ssl.CERT_REQUIRED
        verifier_ctx = server_ctx
    for anchor in anchors:
        verifier_ctx.load_verify_locations(cadata=anchor.cert_pem().decode())
    client_in, client_out, server_in, server_out = (ssl.MemoryBIO() for _ in range(4))
    client = client_ctx.wrap_bio(client_in, client_out, server_hostname=server_name)
    server = server_ctx.wrap_bio(server_in, server_out, server_side=True)
    verification_error = peer_reason = None
    for _ in range(8):
        for side in (client, server):
            try:
                side.do_handshake()
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLCertVerificationError as error:
                verification_error = error
            except ssl.SSLError as error:
                peer_reason = error.reason
        server_in.write(client_out.read())
        client_in.write(server_out.read())
        if verification_error and peer_reason:
            break
    return verification_error, peer_reason


# Every failure above, through OpenSSL: same code, same message, same alert.
COMPARED = [failure[0] for failure in FAILURES]


def alert_reason(alert):
    """OpenSSL's reason name for receiving this alert ("unknown_ca" -> "...UNKNOWN_CA")."""
    return "ALERT_" + alert.upper()


@pytest.mark.parametrize("name", COMPARED)
def test_same_verify_code_as_openssl(scenarios, tmp_path, name):
    leaf, intermediates, anchors = scenarios[name]
    theirs, peer_reason = stdlib_handshake(leaf, intermediates, anchors, tmp_path=tmp_path)
    mine = verify_error(leaf, intermediates, anchors)
    assert theirs is not None
    assert (mine.verify_code, mine.verify_message) == (theirs.verify_code, theirs.verify_message)
    assert peer_reason.endswith(alert_reason(mine.alert)), peer_reason


@pytest.mark.parametrize("server_name", ["example.com", "10.0.0.1", "::2", "localhost."])
def test_same_name_mismatch_as_openssl(inter, root, tmp_path, server_name):
    leaf = inter.leaf()
    theirs, peer_reason = stdlib_handshake(leaf, [inter], [root], server_name, tmp_path)
    mine = verify_error(leaf, [inter], [root], server_name=server_name)
    assert (mine.verify_code, mine.verify_message) == (theirs.verify_code, theirs.verify_message)
    assert peer_reason.endswith(alert_reason(mine.alert))


def test_same_client_certificate_failure_as_openssl(inter, root, tmp_path):
    server_only = inter.leaf()   # no clientAuth EKU
    theirs, _ = stdlib_handshake(server_only, [inter], [root], tmp_path=tmp_path,
                                 client_cert=True)
    mine = verify_error(server_only, [inter], [root], server_name=None, purpose="client")
    assert (mine.verify_code, mine.verify_message) == (theirs.verify_code, theirs.verify_message)


def test_openssl_accepts_what_we_accept(inter, root, tmp_path):
    for leaf, server_name in [(inter.leaf(), "localhost"), (inter.leaf(), "::1"),
                              (inter.leaf(hosts=("*.example.com",)), "a.example.com")]:
        assert stdlib_handshake(leaf, [inter], [root], server_name, tmp_path) == (None, None)
        assert verify(leaf, [inter], [root], server_name=server_name)


def _libcrypto():
    """The libcrypto the stdlib ssl module runs on, through ctypes, or None."""
    if ssl.OPENSSL_VERSION_INFO[0] != 3:
        return None
    try:
        with open("/proc/self/maps") as maps:
            paths = re.findall(r"(/\S*libcrypto\S*\.so[.\d]*)", maps.read())
        library = ctypes.CDLL(paths[0])
    except (OSError, IndexError):
        return None
    library.X509_verify_cert_error_string.restype = ctypes.c_char_p
    library.X509_verify_cert_error_string.argtypes = [ctypes.c_long]
    return library


def test_messages_are_openssl_3_texts():
    library = _libcrypto()
    if library is None:
        pytest.skip("needs the OpenSSL 3 libcrypto the ssl module loaded")
    for code, message in certs.VERIFY_MESSAGES.items():
        assert library.X509_verify_cert_error_string(code).decode() == message, code
