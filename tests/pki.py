"""A small certificate factory for tests: roots, intermediates, leaves, broken ones.

Everything is built with cryptography's ``x509.CertificateBuilder`` at test time, so
no certificate on disk ever expires. Typical use::

    root = CA.root()
    inter = root.intermediate()
    leaf = inter.leaf(hosts=("example.com",))
    certfile, keyfile = write_chain(tmp_path, leaf, inter)   # for load_cert_chain
    store_pem = root.cert_pem()                              # for load_verify_locations

Key types: "ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "rsa-2048", "ed25519", "ed448"
and "rsa-pss-2048". cryptography cannot generate id-RSASSA-PSS keys (the
rsa_pss_pss_* TLS schemes), so "rsa-pss-2048" is an ordinary RSA key whose
*issued* certificates are signed with RSASSA-PSS (SHA-256, MGF1-SHA-256, salt =
digest length): it exercises PSS certificate signatures and rsa_pss_rsae_* in TLS.
EdDSA leaves verify everywhere; EdDSA *CAs* are refused by cryptography's verifier
(webpki algorithm policy), so cyssl cannot verify chains they sign.
"""
import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KEY_TYPES = ("ecdsa-p256", "ecdsa-p384", "rsa-2048", "ed25519")
ALL_KEY_TYPES = KEY_TYPES + ("ecdsa-p521", "ed448", "rsa-pss-2048")

_GENERATORS = {
    "ecdsa-p256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "ecdsa-p384": lambda: ec.generate_private_key(ec.SECP384R1()),
    "ecdsa-p521": lambda: ec.generate_private_key(ec.SECP521R1()),
    "rsa-2048": lambda: rsa.generate_private_key(65537, 2048),
    "rsa-pss-2048": lambda: rsa.generate_private_key(65537, 2048),
    "ed25519": ed25519.Ed25519PrivateKey.generate,
    "ed448": ed448.Ed448PrivateKey.generate,
}

# RSA key generation (~60 ms for 2048 bits) would dominate certificate building, so
# RSA keys come from a per-process pool that fills on demand and then cycles: any
# POOL_SIZE consecutive new_key() calls for one RSA type return distinct keys, which
# is all a chain (root, intermediates, leaf, a stranger CA) needs. EC and EdDSA keys
# take microseconds and are always fresh, so two ECDSA CAs never share a key.
POOL_SIZE = 8
_SLOW_KEY_TYPES = ("rsa-2048", "rsa-pss-2048")
_pools = {}
_next_index = {}


def new_key(key_type):
    """A private key of ``key_type`` (see ALL_KEY_TYPES); RSA ones from a pool."""
    if key_type not in _GENERATORS:
        raise ValueError("unknown key type %r; choose from %s" % (key_type, ALL_KEY_TYPES))
    if key_type not in _SLOW_KEY_TYPES:
        return _GENERATORS[key_type]()
    pool = _pools.setdefault(key_type, [])
    index = _next_index.get(key_type, 0)
    _next_index[key_type] = (index + 1) % POOL_SIZE
    if index == len(pool):
        pool.append(_GENERATORS[key_type]())
    return pool[index]


def _signing_arguments(key_type):
    """(algorithm, rsa_padding) that CertificateBuilder.sign needs for an issuer key."""
    if key_type.startswith("ed"):
        return None, None   # EdDSA signs the message itself, no separate hash
    if key_type == "rsa-pss-2048":
        return hashes.SHA256(), padding.PSS(
            mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
    digest = {"ecdsa-p384": hashes.SHA384, "ecdsa-p521": hashes.SHA512}.get(key_type, hashes.SHA256)
    return digest(), None


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _general_name(host):
    """An IP literal becomes an IPAddress SAN, anything else a DNSName."""
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _validity(not_before, not_after):
    now = datetime.datetime.now(datetime.timezone.utc)
    return (not_before or now - datetime.timedelta(days=1),
            not_after or now + datetime.timedelta(days=30))


def _with_extra(extensions, extra_extensions):
    """Defaults as (extension, critical) pairs; an extra with the same OID replaces one
    (an ``x509.UnrecognizedExtension`` can so put raw, even malformed, bytes in place).

    ``extra_extensions`` items are extension values (added non-critical) or
    ``(value, critical)`` pairs.
    """
    merged = {value.oid: (value, critical) for value, critical in extensions}
    for item in extra_extensions:
        value, critical = item if isinstance(item, tuple) else (item, False)
        merged[value.oid] = (value, critical)
    return list(merged.values())


class Issued:
    """A certificate together with its private key."""

    def __init__(self, cert, key, key_type):
        self.cert = cert
        self.key = key
        self.key_type = key_type

    def cert_pem(self):
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def der(self):
        return self.cert.public_bytes(serialization.Encoding.DER)

    def key_pem(self, password=None):
        encryption = (serialization.BestAvailableEncryption(password) if password
                      else serialization.NoEncryption())
        return self.key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8, encryption)

    def __repr__(self):
        return "<%s %s>" % (type(self).__name__, self.cert.subject.rfc4514_string())


class CA(Issued):
    """A certificate authority that can issue intermediates and leaves."""

    @classmethod
    def root(cls, key_type="ecdsa-p256", name="cyssl test root", *, path_length=None,
             not_before=None, not_after=None):
        key = new_key(key_type)
        extensions = cls._ca_extensions(key, path_length, ca_flag=True)
        cert = cls._build(_name(name), key.public_key(), _name(name), key, key_type,
                          extensions, not_before, not_after)
        return cls(cert, key, key_type)

    def intermediate(self, key_type="ecdsa-p256", name="cyssl test intermediate",
                     path_length=None, ca_flag=True, *, not_before=None, not_after=None,
                     extra_extensions=()):
        key = new_key(key_type)
        extensions = self._ca_extensions(key, path_length, ca_flag)
        extensions.append((self._authority_key_id(), False))
        cert = self._build(_name(name), key.public_key(), self.cert.subject, self.key,
                           self.key_type, _with_extra(extensions, extra_extensions),
                           not_before, not_after)
        return CA(cert, key, key_type)

    def leaf(self, hosts=("localhost", "127.0.0.1", "::1"), key_type="ecdsa-p256", *,
             client=False, server=True, not_before=None, not_after=None,
             common_name=None, extra_extensions=(), key_usage=...):
        """An end-entity certificate; ``key_usage=None`` leaves KeyUsage out,
        ``...`` picks digitalSignature (+ keyEncipherment for RSA)."""
        key = new_key(key_type)
        extensions = leaf_extensions(key, key_type, hosts, client, server, key_usage)
        extensions.append((self._authority_key_id(), False))
        subject = _name(common_name or (hosts[0] if hosts else "cyssl test leaf"))
        cert = self._build(subject, key.public_key(), self.cert.subject, self.key,
                           self.key_type, _with_extra(extensions, extra_extensions),
                           not_before, not_after)
        return Issued(cert, key, key_type)

    def _authority_key_id(self):
        ski = self.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)

    @staticmethod
    def _ca_extensions(key, path_length, ca_flag):
        return [
            (x509.BasicConstraints(ca=ca_flag, path_length=path_length if ca_flag else None), True),
            (x509.KeyUsage(digital_signature=False, content_commitment=False,
                           key_encipherment=False, data_encipherment=False,
                           key_agreement=False, key_cert_sign=True, crl_sign=True,
                           encipher_only=False, decipher_only=False), True),
            (x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False),
        ]

    @staticmethod
    def _build(subject, public_key, issuer, issuer_key, issuer_key_type, extensions,
               not_before, not_after):
        start, end = _validity(not_before, not_after)
        builder = (x509.CertificateBuilder()
                   .subject_name(subject).issuer_name(issuer)
                   .public_key(public_key)
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(start).not_valid_after(end))
        for value, critical in extensions:
            builder = builder.add_extension(value, critical=critical)
        algorithm, rsa_padding = _signing_arguments(issuer_key_type)
        if rsa_padding is not None:
            return builder.sign(issuer_key, algorithm, rsa_padding=rsa_padding)
        return builder.sign(issuer_key, algorithm)


def leaf_extensions(key, key_type, hosts, client=False, server=True, key_usage=...):
    """The end-entity extensions every leaf here carries, as (value, critical) pairs."""
    extensions = [(x509.BasicConstraints(ca=False, path_length=None), True)]
    if hosts:
        extensions.append((x509.SubjectAlternativeName([_general_name(h) for h in hosts]), False))
    purposes = ([ExtendedKeyUsageOID.SERVER_AUTH] if server else []) + \
               ([ExtendedKeyUsageOID.CLIENT_AUTH] if client else [])
    if purposes:
        extensions.append((x509.ExtendedKeyUsage(purposes), False))
    if key_usage is ...:
        key_usage = x509.KeyUsage(
            digital_signature=True, content_commitment=False,
            key_encipherment=key_type.startswith("rsa"), data_encipherment=False,
            key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False)
    if key_usage is not None:
        extensions.append((key_usage, True))
    extensions.append((x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False))
    return extensions


def self_signed(hosts=("localhost", "127.0.0.1", "::1"), key_type="ecdsa-p256", *,
                common_name=None, client=False, server=True, not_before=None,
                not_after=None):
    """A self-signed end-entity certificate (CA=False), as many test servers use."""
    key = new_key(key_type)
    subject = _name(common_name or (hosts[0] if hosts else "cyssl self-signed"))
    extensions = leaf_extensions(key, key_type, hosts, client, server)
    cert = CA._build(subject, key.public_key(), subject, key, key_type, extensions,
                     not_before, not_after)
    return Issued(cert, key, key_type)


def write_chain(tmp_path, leaf, *cas, password=None):
    """Write leaf + the given CA certificates (intermediates, leaf-first order) and the
    leaf's key as PEM files, as load_cert_chain wants them. Returns (certfile, keyfile)."""
    tmp_path = Path(tmp_path)
    stem = "cert-%x" % leaf.cert.serial_number
    certfile = tmp_path / (stem + ".pem")
    keyfile = tmp_path / (stem + ".key")
    certfile.write_bytes(leaf.cert_pem() + b"".join(ca.cert_pem() for ca in cas))
    keyfile.write_bytes(leaf.key_pem(password))
    return certfile, keyfile
