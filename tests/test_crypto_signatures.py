"""Signature schemes: round trips, refusals, scheme/key matching, CertificateVerify input."""
import hashlib
import os

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature as BackendInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa

from cyssl.crypto import signatures as sig
from cyssl.crypto.signatures import InvalidSignature

DATA = b"transcript bytes to be signed"

# The key kind that makes each scheme (rsa_pss_pss_* need RSASSA-PSS keys, which
# cryptography cannot represent: see test_rsa_pss_pss_never_fits).
KEY_FOR_SCHEME = {
    0x0401: "rsa", 0x0501: "rsa", 0x0601: "rsa",
    0x0403: "p256", 0x0503: "p384", 0x0603: "p521",
    0x0804: "rsa", 0x0805: "rsa", 0x0806: "rsa",
    0x0807: "ed25519", 0x0808: "ed448",
}
SIGNABLE = [pytest.param(code, id=sig.SCHEMES[code].name) for code in KEY_FOR_SCHEME]
PSS_PSS = (0x0809, 0x080A, 0x080B)


def new_key(kind):
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if kind == "ed448":
        return ed448.Ed448PrivateKey.generate()
    curve = {"p256": ec.SECP256R1, "p384": ec.SECP384R1, "p521": ec.SECP521R1}[kind]
    return ec.generate_private_key(curve())


KINDS = ("rsa", "p256", "p384", "p521", "ed25519", "ed448")


@pytest.fixture(scope="module")
def keys():
    """One private key per kind, made once (RSA-2048 generation is slow-ish)."""
    return {kind: new_key(kind) for kind in KINDS}


@pytest.fixture(scope="module")
def other_keys():
    """A second key per kind, for "signed by someone else"."""
    return {kind: new_key(kind) for kind in KINDS}


def flip_bit(data, index):
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1:]


# --- the registry -------------------------------------------------------------------

RFC8446_NAMES = {
    0x0401: "rsa_pkcs1_sha256", 0x0501: "rsa_pkcs1_sha384", 0x0601: "rsa_pkcs1_sha512",
    0x0403: "ecdsa_secp256r1_sha256", 0x0503: "ecdsa_secp384r1_sha384",
    0x0603: "ecdsa_secp521r1_sha512",
    0x0804: "rsa_pss_rsae_sha256", 0x0805: "rsa_pss_rsae_sha384", 0x0806: "rsa_pss_rsae_sha512",
    0x0807: "ed25519", 0x0808: "ed448",
    0x0809: "rsa_pss_pss_sha256", 0x080A: "rsa_pss_pss_sha384", 0x080B: "rsa_pss_pss_sha512",
}


def test_registry():
    assert {code: s.name for code, s in sig.SCHEMES.items()} == RFC8446_NAMES
    for code, scheme in sig.SCHEMES.items():
        assert scheme.code == code
        assert scheme.tls13_ok == (not scheme.name.startswith("rsa_pkcs1_"))
        if scheme.name.startswith("ed"):
            assert scheme.hash is None
        else:
            assert isinstance(scheme.hash, hashes.HashAlgorithm)
            assert scheme.name.endswith("sha%d" % (scheme.hash.digest_size * 8))
    assert sig.DEFAULT_SCHEMES == (0x0403, 0x0503, 0x0603, 0x0807, 0x0808,
                                   0x0804, 0x0805, 0x0806, 0x0809, 0x080A, 0x080B,
                                   0x0401, 0x0501, 0x0601)


# --- round trips --------------------------------------------------------------------

@pytest.mark.parametrize("code", SIGNABLE)
@pytest.mark.parametrize("tls13", [False, True], ids=["tls12", "tls13"])
def test_sign_verify_round_trip(keys, code, tls13):
    private = keys[KEY_FOR_SCHEME[code]]
    signature = sig.sign(private, code, DATA)
    if tls13 and not sig.SCHEMES[code].tls13_ok:
        # A valid rsa_pkcs1_* signature, but TLS 1.3 forbids the scheme in CertificateVerify.
        assert not sig.key_matches(code, private.public_key(), tls13)
        with pytest.raises(InvalidSignature):
            sig.verify(private.public_key(), code, DATA, signature, tls13=tls13)
        return
    sig.verify(private.public_key(), code, DATA, signature, tls13=tls13)
    assert sig.key_matches(code, private.public_key(), tls13)


@pytest.mark.parametrize("code", [0x0804, 0x0805, 0x0806])
def test_rsa_pss_salt_is_hash_length_with_matching_mgf1(keys, code):
    private = keys["rsa"]
    hash_ = sig.SCHEMES[code].hash
    signature = sig.sign(private, code, DATA)
    exact = padding.PSS(mgf=padding.MGF1(hash_), salt_length=hash_.digest_size)
    private.public_key().verify(signature, DATA, exact, hash_)      # raises if not
    other_mgf = padding.PSS(mgf=padding.MGF1(hashes.SHA1()), salt_length=hash_.digest_size)
    with pytest.raises(BackendInvalidSignature):
        private.public_key().verify(signature, DATA, other_mgf, hash_)


def test_rsa_pss_other_salt_length_is_refused(keys):
    # RFC 8446 4.2.3: the salt MUST be as long as the digest; a peer using another is wrong.
    private = keys["rsa"]
    for salt_length in (0, 20, padding.PSS.MAX_LENGTH):
        foreign = private.sign(DATA, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                 salt_length=salt_length), hashes.SHA256())
        with pytest.raises(InvalidSignature):
            sig.verify(private.public_key(), 0x0804, DATA, foreign)


def test_sign_refuses_a_scheme_the_key_cannot_make(keys):
    for code, kind in ((0x0403, "rsa"), (0x0804, "p256"), (0x0807, "ed448"), (0x0809, "rsa"),
                       (0x1234, "rsa")):
        with pytest.raises(ValueError):
            sig.sign(keys[kind], code, DATA)


# --- refusals -----------------------------------------------------------------------

@pytest.mark.parametrize("code", SIGNABLE)
def test_flipped_bits(keys, code):
    private = keys[KEY_FOR_SCHEME[code]]
    signature = sig.sign(private, code, DATA)
    for index in (0, len(signature) // 2, len(signature) - 1):
        with pytest.raises(InvalidSignature):
            sig.verify(private.public_key(), code, DATA, flip_bit(signature, index))
    with pytest.raises(InvalidSignature):
        sig.verify(private.public_key(), code, flip_bit(DATA, 3), signature)


@pytest.mark.parametrize("code", SIGNABLE)
def test_wrong_key(keys, other_keys, code):
    kind = KEY_FOR_SCHEME[code]
    signature = sig.sign(keys[kind], code, DATA)
    with pytest.raises(InvalidSignature):
        sig.verify(other_keys[kind].public_key(), code, DATA, signature)


@pytest.mark.parametrize("code", SIGNABLE)
def test_garbage_and_wrong_lengths(keys, code):
    private = keys[KEY_FOR_SCHEME[code]]
    public = private.public_key()
    signature = sig.sign(private, code, DATA)
    for bad in (b"", b"\x00", b"\x30\x03\x02\x01", signature[:-1], signature + b"\x00",
                os.urandom(len(signature)), b"\xff" * len(signature), bytes(len(signature)),
                # Well-formed ECDSA DER, random r and s.
                b"\x30\x44\x02\x20" + os.urandom(32) + b"\x02\x20" + os.urandom(32)):
        with pytest.raises(InvalidSignature):
            sig.verify(public, code, DATA, bad)
    for not_bytes in (None, "signature", 12):
        with pytest.raises(InvalidSignature):
            sig.verify(public, code, DATA, not_bytes)


def test_mismatched_schemes(keys):
    p256 = keys["p256"]
    ecdsa_sha256 = sig.sign(p256, 0x0403, DATA)
    # A key of another family: refused before any arithmetic.
    for code in (0x0401, 0x0804, 0x0807, 0x0808, 0x0809):
        with pytest.raises(InvalidSignature, match="does not fit"):
            sig.verify(p256.public_key(), code, DATA, ecdsa_sha256)
    # TLS 1.3: ecdsa_secp384r1_sha384 needs a P-384 key.
    with pytest.raises(InvalidSignature, match="does not fit"):
        sig.verify(p256.public_key(), 0x0503, DATA, ecdsa_sha256, tls13=True)
    # TLS 1.2 allows that pairing, but this signature was made with SHA-256, not SHA-384.
    with pytest.raises(InvalidSignature, match="does not verify"):
        sig.verify(p256.public_key(), 0x0503, DATA, ecdsa_sha256)

    rsa_key = keys["rsa"]
    pkcs1 = sig.sign(rsa_key, 0x0401, DATA)
    pss = sig.sign(rsa_key, 0x0804, DATA)
    with pytest.raises(InvalidSignature):
        sig.verify(rsa_key.public_key(), 0x0804, DATA, pkcs1)   # PKCS#1 v1.5 read as PSS
    with pytest.raises(InvalidSignature):
        sig.verify(rsa_key.public_key(), 0x0401, DATA, pss)     # and the other way
    with pytest.raises(InvalidSignature):
        sig.verify(rsa_key.public_key(), 0x0805, DATA, pss)     # other hash
    # A valid PKCS#1 v1.5 signature is still refused in TLS 1.3.
    sig.verify(rsa_key.public_key(), 0x0401, DATA, pkcs1)
    with pytest.raises(InvalidSignature, match="does not fit"):
        sig.verify(rsa_key.public_key(), 0x0401, DATA, pkcs1, tls13=True)

    ed = sig.sign(keys["ed25519"], 0x0807, DATA)
    with pytest.raises(InvalidSignature):
        sig.verify(keys["ed25519"].public_key(), 0x0808, DATA, ed)
    with pytest.raises(InvalidSignature):
        sig.verify(keys["ed448"].public_key(), 0x0808, DATA, ed)


def test_unknown_scheme(keys):
    with pytest.raises(InvalidSignature, match="unknown"):
        sig.verify(keys["p256"].public_key(), 0x0203, DATA, b"\x30\x00")    # ecdsa_sha1


# --- key_matches and choose ---------------------------------------------------------

def test_key_matches_tls13(keys):
    public = {kind: key.public_key() for kind, key in keys.items()}
    fitting = {kind: {code for code in sig.SCHEMES if sig.key_matches(code, public[kind], True)}
               for kind in KINDS}
    assert fitting == {
        "rsa": {0x0804, 0x0805, 0x0806},
        "p256": {0x0403}, "p384": {0x0503}, "p521": {0x0603},
        "ed25519": {0x0807}, "ed448": {0x0808},
    }


def test_key_matches_tls12(keys):
    public = {kind: key.public_key() for kind, key in keys.items()}
    fitting = {kind: {code for code in sig.SCHEMES if sig.key_matches(code, public[kind], False)}
               for kind in KINDS}
    ecdsa_any_curve = {0x0403, 0x0503, 0x0603}
    assert fitting == {
        "rsa": {0x0401, 0x0501, 0x0601, 0x0804, 0x0805, 0x0806},
        "p256": ecdsa_any_curve, "p384": ecdsa_any_curve, "p521": ecdsa_any_curve,
        "ed25519": {0x0807}, "ed448": {0x0808},
    }


def test_key_matches_unknown_code_and_key(keys):
    assert not sig.key_matches(0x0203, keys["p256"].public_key(), False)
    assert not sig.key_matches(0x0403, object(), False)
    secp256k1 = ec.generate_private_key(ec.SECP256K1()).public_key()
    assert not sig.key_matches(0x0403, secp256k1, True)
    assert sig.key_matches(0x0403, secp256k1, False)


def test_rsa_pss_pss_never_fits(keys):
    # cryptography loads id-RSASSA-PSS keys as ordinary RSA keys, so no key object can
    # show it is one; we never claim those schemes.
    for code in PSS_PSS:
        for tls13 in (False, True):
            assert not sig.key_matches(code, keys["rsa"].public_key(), tls13)
        with pytest.raises(InvalidSignature, match="does not fit"):
            sig.verify(keys["rsa"].public_key(), code, DATA, sig.sign(keys["rsa"], 0x0804, DATA))


def test_small_rsa_key_cannot_make_pss_sha512():
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    assert sig.key_matches(0x0804, small.public_key(), True)
    assert sig.key_matches(0x0805, small.public_key(), True)
    assert not sig.key_matches(0x0806, small.public_key(), True)    # 2 * 64 + 2 > 128 bytes
    assert sig.choose(small, [0x0806], tls13=True) is None
    assert sig.choose(small, [0x0806, 0x0805], tls13=True) == 0x0805


def test_choose(keys):
    everything = list(sig.DEFAULT_SCHEMES)
    assert sig.choose(keys["p256"], everything, True) == 0x0403
    assert sig.choose(keys["p384"], everything, True) == 0x0503
    assert sig.choose(keys["p521"], everything, True) == 0x0603
    assert sig.choose(keys["ed25519"], everything, True) == 0x0807
    assert sig.choose(keys["ed448"], everything, True) == 0x0808
    assert sig.choose(keys["rsa"], everything, True) == 0x0804

    # Our preference order decides, not the peer's.
    assert sig.choose(keys["rsa"], [0x0806, 0x0805, 0x0804], True) == 0x0804
    # TLS 1.3 binds ECDSA to the curve; TLS 1.2 does not.
    assert sig.choose(keys["p384"], [0x0403], True) is None
    assert sig.choose(keys["p384"], [0x0403], False) == 0x0403
    # TLS 1.3 refuses rsa_pkcs1_*; TLS 1.2 may use it.
    assert sig.choose(keys["rsa"], [0x0401, 0x0501], True) is None
    assert sig.choose(keys["rsa"], [0x0401, 0x0501], False) == 0x0401
    assert sig.choose(keys["rsa"], [0x0601, 0x0804], False) == 0x0804
    # Nothing in common.
    assert sig.choose(keys["ed25519"], [0x0403, 0x0804], True) is None
    assert sig.choose(keys["rsa"], list(PSS_PSS), True) is None
    assert sig.choose(keys["rsa"], [], False) is None
    # Codes we do not know are skipped, not fatal.
    assert sig.choose(keys["p256"], [0x0203, 0xFEFE, 0x0403], True) == 0x0403


def test_choose_then_sign_then_verify(keys):
    for kind in KINDS:
        code = sig.choose(keys[kind], sig.DEFAULT_SCHEMES, True)
        signature = sig.sign(keys[kind], code, DATA)
        sig.verify(keys[kind].public_key(), code, DATA, signature, tls13=True)


# --- CertificateVerify --------------------------------------------------------------

def test_certificate_verify_input():
    transcript_hash = bytes(range(32))
    server = sig.certificate_verify_input(transcript_hash, server=True)
    client = sig.certificate_verify_input(transcript_hash, server=False)
    assert server == (b"\x20" * 64 + b"TLS 1.3, server CertificateVerify" + b"\x00"
                      + transcript_hash)
    assert client == (b"\x20" * 64 + b"TLS 1.3, client CertificateVerify" + b"\x00"
                      + transcript_hash)
    assert server[:64] == bytes([0x20]) * 64
    assert server[64:97] == b"TLS 1.3, server CertificateVerify"
    assert server[97] == 0 and server[98:] == transcript_hash
    assert len(sig.certificate_verify_input(bytes(48), True)) == 64 + 33 + 1 + 48


def certificate_der(certificate_message):
    """The first certificate of a TLS 1.3 Certificate message (RFC 8446 4.4.2)."""
    body = certificate_message[4:]                  # msg_type, uint24 length
    context_length = body[0]
    entries = body[1 + context_length + 3:]         # skip context, uint24 list length
    cert_length = int.from_bytes(entries[:3], "big")
    return entries[3:3 + cert_length]


def test_rfc8448_server_certificate_verify(rfc8448_simple):
    """RFC 8448 section 3: the server's CertificateVerify (rsa_pss_rsae_sha256) verifies
    over our certificate_verify_input, and fails with the client's context string."""
    transcript = rfc8448_simple["transcript"]
    messages = ("client_hello", "server_hello", "encrypted_extensions", "certificate")
    transcript_hash = hashlib.sha256(
        b"".join(bytes.fromhex(transcript[m]) for m in messages)).digest()
    public_key = x509.load_der_x509_certificate(
        certificate_der(bytes.fromhex(transcript["certificate"]))).public_key()

    certificate_verify = bytes.fromhex(transcript["certificate_verify"])[4:]
    scheme = int.from_bytes(certificate_verify[:2], "big")
    signature_length = int.from_bytes(certificate_verify[2:4], "big")
    signature = certificate_verify[4:]
    assert scheme == 0x0804 and len(signature) == signature_length

    assert sig.key_matches(scheme, public_key, tls13=True)
    sig.verify(public_key, scheme, sig.certificate_verify_input(transcript_hash, server=True),
               signature, tls13=True)
    with pytest.raises(InvalidSignature):
        sig.verify(public_key, scheme, sig.certificate_verify_input(transcript_hash, server=False),
                   signature, tls13=True)
