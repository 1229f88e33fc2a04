"""TLS signature schemes (RFC 8446 section 4.2.3) over `cryptography`.

Which of our keys can make which scheme (``choose``), signing and verifying with one, and
the bytes a TLS 1.3 CertificateVerify signs. Keys are `cryptography` key objects.

RSASSA-PSS keys (id-RSASSA-PSS, the rsa_pss_pss_* schemes): `cryptography` loads them as
plain RSA keys and forgets the OID, so a key object cannot tell us it is one. We therefore
never claim an rsa_pss_pss_* scheme fits a key; telling the two apart needs the
certificate's SubjectPublicKeyInfo algorithm, which only the certificate layer sees.
"""
import functools
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature as _BackendInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa


class InvalidSignature(ValueError):
    """A peer's signature does not verify (the engine sends decrypt_error)."""


# Key families a scheme can be made with.
_RSA = "RSA"                    # rsaEncryption keys
_RSASSA_PSS = "RSASSA-PSS"      # id-RSASSA-PSS keys: never produced by _key_family (see above)
_EC = "EC"
_ED25519 = "Ed25519"
_ED448 = "Ed448"


@dataclass(frozen=True, repr=False)
class SignatureScheme:
    code: int
    name: str                           # the RFC 8446 name
    hash: hashes.HashAlgorithm | None   # None for EdDSA, which hashes internally
    tls13_ok: bool                      # False: certificate chains and TLS 1.2 only
    key_family: str
    curve: type | None                  # ECDSA in TLS 1.3: the one curve allowed
    pss: bool
    # What the key's sign()/verify() take after the data: (padding, hash) for RSA,
    # (ECDSA(hash),) for ECDSA, nothing for EdDSA. Built once, reused by every call.
    params: tuple = field(compare=False)

    def __repr__(self):
        return "<SignatureScheme %s 0x%04x>" % (self.name, self.code)


def _rsa_pkcs1(code, name, hash_):
    return SignatureScheme(code, name, hash_, False, _RSA, None, False, (padding.PKCS1v15(), hash_))


def _rsa_pss(code, name, hash_, key_family):
    # RFC 8446 4.2.3: MGF1 with the signature's hash, salt as long as the digest. With an
    # exact salt length OpenSSL also checks it on verification.
    pss = padding.PSS(mgf=padding.MGF1(hash_), salt_length=hash_.digest_size)
    return SignatureScheme(code, name, hash_, True, key_family, None, True, (pss, hash_))


def _ecdsa(code, name, hash_, curve):
    return SignatureScheme(code, name, hash_, True, _EC, curve, False, (ec.ECDSA(hash_),))


def _eddsa(code, name, key_family):
    return SignatureScheme(code, name, None, True, key_family, None, False, ())


_ALL = (
    _rsa_pkcs1(0x0401, "rsa_pkcs1_sha256", hashes.SHA256()),
    _rsa_pkcs1(0x0501, "rsa_pkcs1_sha384", hashes.SHA384()),
    _rsa_pkcs1(0x0601, "rsa_pkcs1_sha512", hashes.SHA512()),
    _ecdsa(0x0403, "ecdsa_secp256r1_sha256", hashes.SHA256(), ec.SECP256R1),
    _ecdsa(0x0503, "ecdsa_secp384r1_sha384", hashes.SHA384(), ec.SECP384R1),
    _ecdsa(0x0603, "ecdsa_secp521r1_sha512", hashes.SHA512(), ec.SECP521R1),
    _rsa_pss(0x0804, "rsa_pss_rsae_sha256", hashes.SHA256(), _RSA),
    _rsa_pss(0x0805, "rsa_pss_rsae_sha384", hashes.SHA384(), _RSA),
    _rsa_pss(0x0806, "rsa_pss_rsae_sha512", hashes.SHA512(), _RSA),
    _eddsa(0x0807, "ed25519", _ED25519),
    _eddsa(0x0808, "ed448", _ED448),
    _rsa_pss(0x0809, "rsa_pss_pss_sha256", hashes.SHA256(), _RSASSA_PSS),
    _rsa_pss(0x080A, "rsa_pss_pss_sha384", hashes.SHA384(), _RSASSA_PSS),
    _rsa_pss(0x080B, "rsa_pss_pss_sha512", hashes.SHA512(), _RSASSA_PSS),
)
SCHEMES = {s.code: s for s in _ALL}
BY_NAME = {s.name: s for s in _ALL}

# What we advertise in signature_algorithms, best first.
DEFAULT_SCHEMES = (
    0x0403, 0x0503, 0x0603,     # ecdsa p256, p384, p521
    0x0807, 0x0808,             # ed25519, ed448
    0x0804, 0x0805, 0x0806,     # rsa_pss_rsae
    0x0809, 0x080A, 0x080B,     # rsa_pss_pss
    0x0401, 0x0501, 0x0601,     # rsa_pkcs1: certificates and TLS 1.2
)

_FAMILY_BY_ABC = (
    ((rsa.RSAPublicKey, rsa.RSAPrivateKey), _RSA),
    ((ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey), _EC),
    ((ed25519.Ed25519PublicKey, ed25519.Ed25519PrivateKey), _ED25519),
    ((ed448.Ed448PublicKey, ed448.Ed448PrivateKey), _ED448),
)


@functools.cache
def _family_of_type(key_type):
    # Cached per class: isinstance against these ABCs is the slow part of a lookup.
    for abcs, family in _FAMILY_BY_ABC:
        if issubclass(key_type, abcs):
            return family
    return None


def _fits(scheme, key, tls13):
    """Can ``key`` (public or private) make/verify ``scheme`` in this protocol version?"""
    if tls13 and not scheme.tls13_ok:
        return False
    if _family_of_type(type(key)) != scheme.key_family:
        return False
    if scheme.curve is not None and tls13:
        # TLS 1.3 binds each ECDSA scheme to one curve; TLS 1.2 only fixes the hash.
        return isinstance(key.curve, scheme.curve)
    if scheme.pss:
        # PSS with salt = hash length needs emLen >= 2 * hLen + 2 (RFC 8017 9.1.1), which
        # rules out, e.g., SHA-512 with a 1024-bit key.
        return (key.key_size + 6) // 8 >= 2 * scheme.hash.digest_size + 2
    return True


def key_matches(scheme_code, public_key, tls13):
    """True if ``public_key`` can verify ``scheme_code`` signatures in this protocol version."""
    scheme = SCHEMES.get(scheme_code)
    return scheme is not None and _fits(scheme, public_key, tls13)


def choose(private_key, peer_schemes, tls13):
    """Our most preferred scheme that the peer offered and our key can make, or None."""
    offered = set(peer_schemes)
    for code in DEFAULT_SCHEMES:
        if code in offered and _fits(SCHEMES[code], private_key, tls13):
            return code
    return None


_RANK = {code: rank for rank, code in enumerate(DEFAULT_SCHEMES)}


def any_known(peer_schemes):
    """Whether the peer offered any scheme we implement (OpenSSL's "shared" signature
    algorithms): without one a server fails with NO_SHARED_SIGNATURE_ALGORITHMS."""
    return any(code in SCHEMES for code in peer_schemes)


def key_family(key):
    """"RSA", "EC", "Ed25519" or "Ed448" (None for other keys): the slot a context keeps
    one certificate in, as OpenSSL keeps one per key type."""
    return _family_of_type(type(key))


def choose_credential(credentials, peer_schemes, tls13):
    """Of ``credentials`` ((chain, private key) pairs), the one to present to a peer
    offering ``peer_schemes``, and its scheme: ``(chain, key, scheme)`` for our most
    preferred scheme the peer offered that one of the keys can make, or None."""
    best = None
    for chain, key in credentials:
        scheme = choose(key, peer_schemes, tls13)
        if scheme is not None and (best is None or _RANK[scheme] < _RANK[best[2]]):
            best = (chain, key, scheme)
    return best


def sign(private_key, scheme_code, data):
    """Sign ``data`` with ``scheme_code``. Pick the scheme with ``choose`` first: a scheme the
    key cannot make is a programming error (ValueError)."""
    scheme = SCHEMES.get(scheme_code)
    if scheme is None or not _fits(scheme, private_key, tls13=False):
        raise ValueError("this key cannot make signature scheme 0x%04x" % scheme_code)
    return private_key.sign(data, *scheme.params)


def verify(public_key, scheme_code, data, signature, *, tls13=False):
    """Raise InvalidSignature unless ``signature`` is a valid ``scheme_code`` signature of
    ``data`` by ``public_key``. Pass ``tls13=True`` for TLS 1.3 (CertificateVerify): then
    rsa_pkcs1_* are refused and ECDSA schemes must match the key's curve."""
    scheme = SCHEMES.get(scheme_code)
    if scheme is None:
        raise InvalidSignature("unknown signature scheme 0x%04x" % scheme_code)
    if not _fits(scheme, public_key, tls13):
        raise InvalidSignature("%s does not fit the peer's key" % scheme.name)
    try:
        public_key.verify(signature, data, *scheme.params)
    except (_BackendInvalidSignature, ValueError, TypeError):
        raise InvalidSignature("%s signature does not verify" % scheme.name) from None


_CERTIFICATE_VERIFY_PAD = b"\x20" * 64
_CERTIFICATE_VERIFY_PREFIX = {
    True: _CERTIFICATE_VERIFY_PAD + b"TLS 1.3, server CertificateVerify\x00",
    False: _CERTIFICATE_VERIFY_PAD + b"TLS 1.3, client CertificateVerify\x00",
}


def certificate_verify_input(transcript_hash, server):
    """What a TLS 1.3 CertificateVerify signs (RFC 8446 section 4.4.3)."""
    return _CERTIFICATE_VERIFY_PREFIX[bool(server)] + transcript_hash


# TLS group codepoints of the curves an ECDSA certificate key may be on.
_CURVE_GROUPS = {"secp256r1": 0x0017, "secp384r1": 0x0018, "secp521r1": 0x0019}


def key_auth(public_key):
    """(auth, group) of a certificate key for TLS 1.2 suites: ("ECDSA", the TLS group of
    its curve, None if it has none) or ("RSA", None); (None, None) for anything else."""
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return "ECDSA", _CURVE_GROUPS.get(public_key.curve.name)
    if isinstance(public_key, rsa.RSAPublicKey):
        return "RSA", None
    return None, None


def auth_fits(key_auth_and_group, auth, client_groups=None):
    """Whether a key with ``key_auth(...)`` can authenticate a suite of ``auth``; with
    ``client_groups``, an ECDSA key's curve must be one of them (RFC 8422 section 4)."""
    kind, group = key_auth_and_group
    return kind is not None and kind == auth and (
        kind != "ECDSA" or client_groups is None or group in client_groups)


def key_fits_auth(public_key, auth, client_groups=None):
    """Whether a certificate key can authenticate a TLS 1.2 suite ("ECDSA" or "RSA");
    with ``client_groups``, an ECDSA key's curve must be one of them (RFC 8422 section 4)."""
    return auth_fits(key_auth(public_key), auth, client_groups)
