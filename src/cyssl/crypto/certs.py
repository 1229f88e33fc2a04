"""Certificates, private keys, the trust store, chain and host name verification.

Who decides what: cryptography's ``x509.verification`` (a webpki-style path
validator) alone decides whether a chain is trusted. When it says no,
verify_errors works out which error OpenSSL would have reported first; its
CertificateError, codes and tables are re-exported here.

Policy relative to cryptography's webpki defaults, to behave like OpenSSL:
  * purpose: the leaf's and the CAs' ExtendedKeyUsage, when present, must name the
    purpose (serverAuth / clientAuth; anyExtendedKeyUsage is not enough, as in
    OpenSSL), and a leaf's KeyUsage must allow the purpose;
  * AuthorityKeyIdentifier / SubjectKeyIdentifier may be missing (self-signed
    server certificates pinned through cafile rarely have them);
  * only self-signed store certificates are trust anchors unless ``partial_chain``
    (OpenSSL's default; cryptography's Store would trust any certificate in it).
Known gap: cryptography refuses Ed25519/Ed448 *signatures on certificates* (an
EdDSA CA), which OpenSSL accepts; EdDSA leaf keys are fine.
"""
try:
    import ssl as _stdlib_ssl
except ImportError:
    _stdlib_ssl = None

import binascii
import datetime
import functools
import os
import re
import threading
import warnings

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import (
    Criticality, ExtensionPolicy, PolicyBuilder, Store, VerificationError)

from cyssl.crypto.verified_chains import VerifiedChains
from cyssl.crypto.verify_errors import (
    ALERTS, CA_KEY_TOO_SMALL, CA_MD_TOO_WEAK, CERT_CHAIN_TOO_LONG, CERT_HAS_EXPIRED,
    CERT_NOT_YET_VALID, CERT_SIGNATURE_FAILURE, DEPTH_ZERO_SELF_SIGNED_CERT,
    EE_KEY_TOO_SMALL, EXCLUDED_VIOLATION, HOSTNAME_MISMATCH, INVALID_CA,
    INVALID_EXTENSION, INVALID_PURPOSE, IP_ADDRESS_MISMATCH, PATH_LENGTH_EXCEEDED,
    PERMITTED_VIOLATION, PURPOSES, SELF_SIGNED_CERT_IN_CHAIN, UNABLE_TO_GET_ISSUER_CERT,
    UNABLE_TO_GET_ISSUER_CERT_LOCALLY, UNABLE_TO_VERIFY_LEAF_SIGNATURE,
    UNHANDLED_CRITICAL_EXTENSION, UNSPECIFIED, VERIFY_MESSAGES, CertificateError,
    eku_allows, explain, extension, is_self_signed, leaf_key_usage_allows, name_mismatch,
    parse_ip, weak_key)

# Includes verify_errors' codes, tables and CertificateError, re-exported:
# callers know only certs.
__all__ = [
    "der_of", "is_ca", "public_key",
    "ALERTS", "CA_KEY_TOO_SMALL", "CA_MD_TOO_WEAK", "CERT_CHAIN_TOO_LONG",
    "CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID", "CERT_SIGNATURE_FAILURE",
    "DEPTH_ZERO_SELF_SIGNED_CERT", "EE_KEY_TOO_SMALL", "EXCLUDED_VIOLATION",
    "HOSTNAME_MISMATCH", "INVALID_CA", "INVALID_EXTENSION", "INVALID_PURPOSE",
    "IP_ADDRESS_MISMATCH", "PATH_LENGTH_EXCEEDED", "PERMITTED_VIOLATION", "PURPOSES",
    "SELF_SIGNED_CERT_IN_CHAIN", "UNABLE_TO_GET_ISSUER_CERT",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    "UNHANDLED_CRITICAL_EXTENSION", "UNSPECIFIED", "VERIFY_MESSAGES",
    "CertificateError", "TrustStore", "default_verify_paths", "key_matches_certificate",
    "load_der_certificate", "load_pem_certificates", "load_private_key",
    "match_hostname", "verify_chain",
]


def _hush_serial_number_warnings():
    """A few system roots have non-positive serial numbers and cryptography warns
    whenever it meets one; OpenSSL does not, and neither should load_default_certs().
    Installed at import and again before reading files, in case a
    warnings.catch_warnings() block (pytest has one per test) dropped it.
    verify_errors reads serial numbers too (key identifier checks)."""
    warnings.filterwarnings("ignore", "Parsed a serial number which wasn't positive",
                            CryptographyDeprecationWarning,
                            r"cyssl\.crypto\.(?:certs|verify_errors)")


_hush_serial_number_warnings()

# ---------------------------------------------------------------- loading

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)
_CERTIFICATE_LABELS = (b"CERTIFICATE", b"X509 CERTIFICATE", b"TRUSTED CERTIFICATE")


def _as_bytes(data):
    if isinstance(data, str):
        return data.encode("ascii")   # PEM is ASCII; a UnicodeError is a ValueError
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise TypeError("expected bytes or str, not %s" % type(data).__name__)


def _der_element_length(data, offset):
    """Length of the DER element (tag, length, contents) that starts at offset."""
    if offset + 2 > len(data):
        raise ValueError("truncated DER data")
    first = data[offset + 1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if not 1 <= count <= 4 or offset + 2 + count > len(data):
        raise ValueError("invalid DER length")
    return 2 + count + int.from_bytes(data[offset + 2:offset + 2 + count], "big")


def load_der_certificate(data):
    """One DER certificate; ValueError for anything else."""
    try:
        return x509.load_der_x509_certificate(_as_bytes(data))
    except (ValueError, x509.InvalidVersion) as exc:     # InvalidVersion is no ValueError
        raise ValueError("not a DER certificate: %s" % exc) from None


def _load_der_sequence(data):
    """Concatenated DER certificates (what the stdlib accepts as binary cadata)."""
    data = _as_bytes(data)
    certificates, offset = [], 0
    while offset < len(data):
        if data[offset] != 0x30:   # every certificate is a SEQUENCE
            raise ValueError("not DER certificate data at offset %d" % offset)
        end = offset + _der_element_length(data, offset)
        if end > len(data):
            raise ValueError("truncated DER certificate at offset %d" % offset)
        certificates.append(load_der_certificate(data[offset:end]))
        offset = end
    if not certificates:
        raise ValueError("no certificate found in DER data")
    return certificates


def _certificate_blocks(data):
    """(label, body) of every certificate block in PEM data, in order; other blocks
    (keys, CRLs) are skipped, as OpenSSL does."""
    return [(label, body) for label, body in _PEM_BLOCK.findall(_as_bytes(data))
            if label in _CERTIFICATE_LABELS]


def _certificate_of_block(label, body):
    """The certificate in one PEM block; ValueError if it is damaged. "TRUSTED
    CERTIFICATE" blocks (OpenSSL's cert + trust settings) give the cert."""
    try:
        der = binascii.a2b_base64(b"".join(body.split()))
    except binascii.Error:
        raise ValueError("invalid base64 in a PEM certificate") from None
    if label == b"TRUSTED CERTIFICATE":   # the certificate is the first element
        der = der[:_der_element_length(der, 0)]
    return load_der_certificate(der)


def load_pem_certificates(data):
    """Every certificate in a PEM bundle, in order; other PEM blocks (keys, CRLs) are
    skipped, as OpenSSL does. ValueError when there is none or one is damaged."""
    certificates = [_certificate_of_block(label, body) for label, body in _certificate_blocks(data)]
    if not certificates:
        raise ValueError("no certificate found in PEM data")
    return certificates


_PEM_KEY_BLOCK = re.compile(
    rb"-----BEGIN ((?:[A-Z0-9]+ )?(?:ENCRYPTED )?PRIVATE KEY)-----.*?-----END \1-----", re.S)


def load_private_key(data, password=None):
    """A private key from PEM (PKCS#8, traditional RSA/EC, encrypted or not; the first
    key block of a file that may also hold certificates) or DER.

    ``password``: bytes, str, or a callable returning one, as the stdlib's
    load_cert_chain takes it; it is used (and a callable called) only when the key
    is encrypted. ValueError for garbage, a missing or a wrong password.
    """
    data = _as_bytes(data)
    block = _PEM_KEY_BLOCK.search(data)
    if block is not None:
        data, loader = block.group(0), serialization.load_pem_private_key
    elif b"-----BEGIN" in data:
        raise ValueError("no private key found in PEM data")
    else:
        loader = serialization.load_der_private_key
    try:
        return loader(data, None)
    except TypeError:
        pass   # encrypted: cryptography wants the password
    except Exception as exc:   # ValueError, UnsupportedAlgorithm
        raise ValueError("could not load the private key: %s" % exc) from None
    if callable(password):
        password = password()
    if password is None:
        raise ValueError("the private key is encrypted and no password was given")
    if isinstance(password, str):
        password = password.encode("utf-8")
    if not isinstance(password, (bytes, bytearray)):
        raise TypeError("password should be a string or bytes")
    try:
        return loader(data, bytes(password))
    except Exception:
        raise ValueError("could not decrypt the private key (wrong password?)") from None


def public_key(cert):
    """The certificate's public key; ValueError for a key type cryptography cannot load."""
    try:
        return cert.public_key()
    except UnsupportedAlgorithm as err:
        raise ValueError(str(err)) from None


def der_of(cert):
    """The DER encoding of a parsed certificate."""
    return cert.public_bytes(serialization.Encoding.DER)


def is_ca(cert):
    """OpenSSL's X509_check_ca, by which the stdlib's cert_store_stats counts and
    get_ca_certs lists: a keyUsage, when present, must allow certificate signing; then
    basicConstraints decides when present; without it a self-signed version 1
    certificate, or one whose keyUsage allows certificate signing, counts."""
    try:
        usage = extension(cert, x509.KeyUsage)
        constraints = extension(cert, x509.BasicConstraints)
    except ValueError:
        return False
    if usage is not None and not usage.key_cert_sign:
        return False
    if constraints is not None:
        return constraints.ca
    return (cert.version == x509.Version.v1 and is_self_signed(cert)) or usage is not None


def key_matches_certificate(key, cert):
    """True when ``cert`` carries the public half of ``key``."""
    try:
        return key.public_key() == cert.public_key()
    except Exception:   # unsupported or malformed key in the certificate
        return False


# ------------------------------------------------------- files and paths

# Parsed certificates per file or directory, shared by every TrustStore in the
# process: contexts load the system store again and again. Keyed by path; valid
# while (mtime, size) are unchanged.
_file_cache = {}
_file_cache_lock = threading.Lock()


def _cached(path, loader):
    status = os.stat(path)
    stamp = (status.st_mtime_ns, status.st_size)
    key = (loader, os.path.abspath(path))
    with _file_cache_lock:
        hit = _file_cache.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    _hush_serial_number_warnings()
    certificates = tuple(loader(path))
    with _file_cache_lock:
        _file_cache[key] = (stamp, certificates)
    return certificates


def _read_pem_file(path):
    with open(path, "rb") as f:
        return load_pem_certificates(f.read())


def _read_pem_file_skipping_damaged(path):
    """The certificates of a PEM file that parse, possibly none: for the places OpenSSL
    never fails to load from (the default paths, capath directories). A certificate
    `cryptography` cannot read is of no use to verification anyway."""
    with open(path, "rb") as f:
        blocks = _certificate_blocks(f.read())
    certificates = []
    for label, body in blocks:
        try:
            certificates.append(_certificate_of_block(label, body))
        except ValueError:
            continue
    return certificates


# c_rehash names ("5ed36f99.0"; ".r0" are CRLs) and the usual bundle suffixes.
_DIRECTORY_ENTRY = re.compile(r"^(?:[0-9a-f]{8}\.\d+|.*\.(?:pem|crt|cer))$", re.I)


def _read_directory(path):
    """Every certificate in a capath directory. OpenSSL looks files up lazily by
    subject hash; reading them all at once finds the same certificates (a directory
    of ~150 roots parses in a few ms, and is cached). Unreadable files are skipped,
    as a failed hash lookup would be."""
    seen_files = set()
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        real = os.path.realpath(full)   # Debian's hash names are symlinks to *.pem
        if not _DIRECTORY_ENTRY.match(name) or real in seen_files or not os.path.isfile(real):
            continue
        seen_files.add(real)
        try:
            yield from _read_pem_file_skipping_damaged(real)
        except OSError:
            continue


def _read_directory_now(path):
    return list(_read_directory(path))


_FALLBACK_CAFILES = (
    "/etc/ssl/certs/ca-certificates.crt",                  # Debian, Ubuntu, Alpine
    "/etc/pki/tls/certs/ca-bundle.crt",                    # RHEL, Fedora
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",   # RHEL 7+
    "/etc/ssl/ca-bundle.pem",                              # openSUSE
    "/etc/ssl/cert.pem",                                   # macOS, BSDs
)
_FALLBACK_CAPATHS = ("/etc/ssl/certs", "/etc/pki/tls/certs")


def default_verify_paths():
    """(cafile, capath) as the stdlib's load_default_certs finds them, each None when
    missing: SSL_CERT_FILE / SSL_CERT_DIR win, then OpenSSL's compiled-in paths
    (through ssl.get_default_verify_paths()), else common system locations."""
    cafile, capath = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
    if cafile is None or capath is None:
        # The interpreter's own ssl, bound at import: "import ssl" here could be cyssl
        # itself (sys.modules aliasing), whose helper calls back into this function.
        if _stdlib_ssl is not None:
            paths = _stdlib_ssl.get_default_verify_paths()
            defaults = (paths.openssl_cafile, paths.openssl_capath)
        else:
            defaults = (next((p for p in _FALLBACK_CAFILES if os.path.isfile(p)), None),
                        next((p for p in _FALLBACK_CAPATHS if os.path.isdir(p)), None))
        cafile = defaults[0] if cafile is None else cafile
        capath = defaults[1] if capath is None else capath
    return (cafile if cafile and os.path.isfile(cafile) else None,
            capath if capath and os.path.isdir(capath) else None)


# ---------------------------------------------------------------- trust store

class _Material:
    """What verification needs from a TrustStore, built once per change."""

    def __init__(self, certificates):
        self.members = frozenset(certificates)
        self.by_subject = {}
        for cert in certificates:
            self.by_subject.setdefault(cert.subject, []).append(cert)
        # Without partial_chain only self-signed certificates anchor a chain, as in
        # OpenSSL; the others can still link a chain to a root, so they go in as
        # extra intermediates.
        roots, self.non_roots = [], []
        for cert in certificates:
            (roots if is_self_signed(cert) else self.non_roots).append(cert)
        self.root_store = Store(roots) if roots else None
        self.full_store = Store(list(certificates)) if certificates else None
        self.verified = VerifiedChains()


class TrustStore:
    """The CA certificates a context trusts (stdlib: load_verify_locations).

    Thread-safe: contexts shared by live connections may load more at any time.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._listed = []        # loaded from data and files: what anchors() shows
        self._listed_set = set()
        self._from_directories = []
        self._all = set()
        self._material = None

    def add_pem(self, data):
        """Certificates from PEM data; returns how many were new."""
        return self._add(load_pem_certificates(data), listed=True)

    def add_der(self, data):
        """One or more concatenated DER certificates; returns how many were new."""
        return self._add(_load_der_sequence(data), listed=True)

    def add_file(self, path, skip_damaged=False):
        """A PEM file (cafile). OSError if it cannot be read, ValueError if it holds
        no certificate or a damaged one; with ``skip_damaged`` (the default paths) the
        certificates that parse are added, possibly none."""
        loader = _read_pem_file_skipping_damaged if skip_damaged else _read_pem_file
        return self._add(_cached(os.fspath(path), loader), listed=True)

    def add_directory(self, path):
        """A capath directory: c_rehash-style ``hash.N`` files and ``*.pem`` /
        ``*.crt`` / ``*.cer``, read now (cached per process by mtime; later changes
        need a new call). Like the stdlib, which only reads these files on lookup,
        they are used for verification but listed by anchors() and len() only once a
        verification has looked one up.
        Returns how many new certificates the directory provided."""
        path = os.fspath(path)
        if not os.path.isdir(path):
            raise NotADirectoryError(path)
        return self._add(_cached(path, _read_directory_now), listed=False)

    def anchors(self):
        """The certificates loaded from data and files, in load order."""
        return list(self._listed)

    def stats(self):
        """Counts as SSLContext.cert_store_stats() reports them."""
        listed = self._listed
        cas = sum(1 for cert in listed if is_ca(cert))
        return {"x509": len(listed), "crl": 0, "x509_ca": cas}

    def __len__(self):
        return len(self._listed)

    def _add(self, certificates, listed):
        """Returns how many certificates were new to the store; duplicates are
        ignored, as X509_STORE_add_cert does."""
        added = 0
        with self._lock:
            for cert in certificates:
                if listed and cert not in self._listed_set:
                    self._listed.append(cert)
                    self._listed_set.add(cert)
                elif not listed and cert not in self._all:
                    self._from_directories.append(cert)
                else:
                    continue
                added += cert not in self._all
                self._all.add(cert)
                self._material = None   # rebuilt on the next verification
        return added

    def issuers_of(self, cert):
        """The store's certificates leading from ``cert`` up to a root, issuer first and
        the root included: the chain OpenSSL builds for a certificate of our own loaded
        without its issuers. Each link is named as the issuer and its key verifies the
        signature below; empty when the store holds no issuer."""
        by_subject = self._verification_material().by_subject
        leaf, chain = cert, []
        try:
            while not is_self_signed(cert) and len(chain) < 10:
                cert = next((c for c in by_subject.get(cert.issuer, ())
                             if c != leaf and c not in chain and _directly_issued(cert, c)), None)
                if cert is None:
                    break
                chain.append(cert)
        except ValueError:      # a malformed name: the chain ends there
            pass
        return chain

    def _looked_up(self, certificates):
        """A verification looked for the issuers of ``certificates``: the capath
        certificates it found that way are listed from now on, as OpenSSL's hashed
        directory lookup loads them into the store, where get_ca_certs and
        cert_store_stats see them."""
        if not self._from_directories:
            return
        by_subject = self._verification_material().by_subject
        with self._lock:
            for cert in certificates:
                try:
                    issuer_name = cert.issuer
                except ValueError:      # a peer's malformed name: the verifier reports it
                    continue
                for issuer in by_subject.get(issuer_name, ()):
                    if issuer not in self._listed_set:
                        self._listed.append(issuer)
                        self._listed_set.add(issuer)

    def _verification_material(self):
        material = self._material
        if material is None:
            with self._lock:
                if self._material is None:
                    self._material = _Material(self._listed + [
                        c for c in self._from_directories if c not in self._listed_set])
                material = self._material
        return material


def _directly_issued(cert, issuer):
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False


# ------------------------------------------------------------ host names

_LDH = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")



def _ascii_host(name):
    if isinstance(name, (bytes, bytearray)):
        name = bytes(name).decode("ascii")
    if not name.isascii():
        name = name.encode("idna").decode("ascii")   # what the stdlib sends too
    return name.lower()


def _dns_pattern_matches(pattern, host):
    """RFC 6125 6.4 with OpenSSL's flags as Python sets them: the wildcard is only
    ever a whole left-most label standing for exactly one non-empty LDH label, and
    needs at least two labels after it."""
    pattern = pattern.lower()
    if "*" not in pattern:
        return pattern == host
    labels = pattern.split(".")
    if labels[0] != "*" or "*" in pattern[1:] or len(labels) < 3 or "" in labels[1:]:
        return False
    host_labels = host.split(".")
    return (len(host_labels) == len(labels) and host_labels[1:] == labels[1:]
            and host_labels[0] != "" and set(host_labels[0]) <= _LDH)


def match_hostname(cert, server_name, check_common_name=False):
    """Whether ``cert`` is valid for ``server_name`` (a DNS name or an IP literal).

    IP literals match iPAddress SANs only. DNS names match dNSName SANs, case
    insensitively, with a single whole left-most wildcard label. The subject's
    common name counts only with ``check_common_name`` and only when the certificate
    has no dNSName SAN (OpenSSL's rule). Malformed SANs match nothing.
    """
    try:
        ip = parse_ip(server_name if isinstance(server_name, str) else server_name.decode("ascii"))
        san = extension(cert, x509.SubjectAlternativeName)
        if ip is not None:
            return san is not None and ip in san.get_values_for_type(x509.IPAddress)
        host = _ascii_host(server_name)
        dns_names = san.get_values_for_type(x509.DNSName) if san is not None else []
        if not dns_names and check_common_name:
            dns_names = [attribute.value for attribute in
                         cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        return any(_dns_pattern_matches(pattern, host) for pattern in dns_names
                   if isinstance(pattern, str) and pattern.isascii())
    except (ValueError, UnicodeError):
        return False


# ------------------------------------------------------------ verification

# Raised from our extension validators; cryptography wraps it in its own message.
_PURPOSE_FAILURE = "certificate not valid for the %s purpose"


@functools.lru_cache(maxsize=None)
def _extension_policies(purpose, subject_alt_name_required):
    """(ca_policy, ee_policy): webpki's defaults with the OpenSSL-like changes listed
    in the module docstring."""
    def check_eku(policy, cert, eku):
        if not eku_allows(eku, purpose):
            raise ValueError(_PURPOSE_FAILURE % purpose)

    def check_leaf_key_usage(policy, cert, key_usage):
        if not leaf_key_usage_allows(key_usage, purpose):
            raise ValueError(_PURPOSE_FAILURE % purpose)

    def check_ca_flag(policy, cert, constraints):
        if not constraints.ca:
            raise ValueError("basicConstraints.cA is not asserted in a CA certificate")

    def check_ca_key_usage(policy, cert, key_usage):
        if key_usage is not None and not key_usage.key_cert_sign:   # None: absent
            raise ValueError("keyUsage.keyCertSign is not asserted in a CA certificate")

    agnostic = Criticality.AGNOSTIC
    # OpenSSL accepts CA certificates whose basicConstraints is not marked critical and
    # that carry no keyUsage (common in older private CAs); webpki's defaults do not.
    ca_policy = (ExtensionPolicy.webpki_defaults_ca()
                 .require_present(x509.BasicConstraints, agnostic, check_ca_flag)
                 .may_be_present(x509.KeyUsage, agnostic, check_ca_key_usage)
                 .may_be_present(x509.ExtendedKeyUsage, agnostic, check_eku)
                 .may_be_present(x509.AuthorityKeyIdentifier, agnostic, None)
                 .may_be_present(x509.SubjectKeyIdentifier, agnostic, None))
    ee_policy = (ExtensionPolicy.webpki_defaults_ee()
                 .may_be_present(x509.ExtendedKeyUsage, agnostic, check_eku)
                 .may_be_present(x509.KeyUsage, agnostic, check_leaf_key_usage)
                 .may_be_present(x509.AuthorityKeyIdentifier, agnostic, None))
    if not subject_alt_name_required:
        ee_policy = ee_policy.may_be_present(x509.SubjectAlternativeName, agnostic, None)
    return ca_policy, ee_policy


def _with_policies(builder, purpose, subject_alt_name_required):
    ca_policy, ee_policy = _extension_policies(purpose, subject_alt_name_required)
    return builder.extension_policies(ca_policy=ca_policy, ee_policy=ee_policy)


def _utc(now):
    if now is None:
        return datetime.datetime.now(datetime.timezone.utc)
    if now.tzinfo is None:
        return now.replace(tzinfo=datetime.timezone.utc)
    return now.astimezone(datetime.timezone.utc)


def verify_chain(leaf, intermediates, store, *, server_name, purpose="server", now=None,
                 partial_chain=False, check_common_name=False):
    """Verify ``leaf`` (with the peer's other certificates, any order) up to a trust
    anchor in ``store``; return the chain leaf..anchor.

    ``purpose``: "server" (the leaf must be good for serverAuth) or "client".
    ``server_name``: DNS name or IP literal the leaf must be valid for, or None for
    no name check (check_hostname off). ``partial_chain``: any store certificate,
    not just self-signed ones, may end the chain (X509_V_FLAG_PARTIAL_CHAIN).
    ``check_common_name``: fall back to the subject CN when there is no dNSName SAN
    (SSLContext.hostname_checks_common_name).

    Raises CertificateError with OpenSSL's code and message for the same failure.

    Verifying without a host name: cryptography 48 only has a server verifier bound
    to a subject name, and its client verifier takes no name. So without one (or
    when the name check must be ours: CN fallback, names cryptography cannot express
    such as "my_host" or "name."), we run the client verifier with our own extension
    policies, whose EKU validator demands the requested purpose (serverAuth for
    servers) in place of clientAuth, then match the name with match_hostname.
    """
    if purpose not in PURPOSES:
        raise ValueError("purpose must be 'server' or 'client', not %r" % (purpose,))
    when = _utc(now)
    intermediates = list(intermediates)
    material = store._verification_material()
    if leaf in material.members:
        return _trusted_leaf(leaf, server_name, purpose, when, check_common_name)
    chain = []
    try:
        chain = _verify(leaf, intermediates, material, server_name, purpose, when,
                        partial_chain, check_common_name)
    except CertificateError:
        raise
    except Exception as failure:   # VerificationError, or ValueError from lazy parsing
        name_matches = functools.partial(match_hostname, leaf, server_name, check_common_name)
        raise explain(failure, leaf, intermediates, material, server_name, purpose, when,
                      partial_chain, name_matches) from None
    finally:
        store._looked_up([leaf] + intermediates + chain)
    return chain


def _trusted_leaf(leaf, server_name, purpose, when, check_common_name):
    """A peer certificate that is itself in the trust store (a pinned self-signed one, as
    `openssl req -x509` makes, often with cA=TRUE): trusted as it is, as OpenSSL does,
    once its validity period and name are checked; no chain is built."""
    if when < leaf.not_valid_before_utc:
        raise CertificateError.from_code(CERT_NOT_YET_VALID, 0)
    if when > leaf.not_valid_after_utc:
        raise CertificateError.from_code(CERT_HAS_EXPIRED, 0)
    if server_name is not None and purpose == "server" and \
            not match_hostname(leaf, server_name, check_common_name):
        raise name_mismatch(server_name)
    return [leaf]


def _verify(leaf, intermediates, material, server_name, purpose, when, partial_chain,
            check_common_name):
    if weak_key(leaf):   # OpenSSL's first check (security level 2); webpki has none for leaves
        raise CertificateError.from_code(EE_KEY_TOO_SMALL, 0)
    anchors = material.full_store if partial_chain else material.root_store
    if anchors is None:
        raise VerificationError("no trust anchors")
    if not partial_chain:
        intermediates = intermediates + material.non_roots
    builder = PolicyBuilder().store(anchors).time(when)
    subject = None
    if server_name is not None and purpose == "server":
        subject = _server_verifier_subject(leaf, server_name, check_common_name)
    if subject is not None:
        try:
            verifier = _with_policies(builder, purpose, True).build_server_verifier(subject)
        except ValueError:
            subject = None   # a name cryptography cannot check; match_hostname does
        else:
            chain = verifier.verify(leaf, intermediates)
    if subject is None:
        verifier = _with_policies(builder, purpose, False).build_client_verifier()
        chain = verifier.verify(leaf, intermediates).chain
    # Also after cryptography's own name check: it accepts a few names OpenSSL
    # refuses (a "*.com" wildcard), and a name passes only if both agree.
    if server_name is not None and not match_hostname(leaf, server_name, check_common_name):
        raise name_mismatch(server_name)
    return chain


def _server_verifier_subject(leaf, server_name, check_common_name):
    """The Subject for cryptography's server verifier, or None when the name check
    has to be match_hostname's: no SAN at all, or a CN fallback that may apply."""
    try:
        san = extension(leaf, x509.SubjectAlternativeName)
    except ValueError:
        return None
    if san is None:
        return None
    if isinstance(server_name, (bytes, bytearray)):
        server_name = bytes(server_name).decode("ascii", "replace")
    ip = parse_ip(server_name)
    if ip is not None:
        return x509.IPAddress(ip)
    if check_common_name and not san.get_values_for_type(x509.DNSName):
        return None
    try:
        return x509.DNSName(_ascii_host(server_name))
    except (ValueError, UnicodeError):
        return None


