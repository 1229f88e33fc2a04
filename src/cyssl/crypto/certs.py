"""Certificates, private keys, the trust store, chain and host name verification.

Who decides what: cryptography's ``x509.verification`` (a webpki-style path
validator) alone decides whether a chain is trusted. When it says no, a short
emulation of the order in which OpenSSL's X509_verify_cert runs its checks works
out which error OpenSSL would have reported first, so that ``verify_code`` and
``verify_message`` are the stdlib's (integration.md N1). That emulation only ever
names the error; it never accepts a chain.

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
import binascii
import datetime
import functools
import ipaddress
import os
import re
import threading
import warnings

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import (
    Criticality, ExtensionPolicy, PolicyBuilder, Store, VerificationError)


def _hush_serial_number_warnings():
    """A few system roots have non-positive serial numbers and cryptography warns
    whenever it meets one; OpenSSL does not, and neither should load_default_certs().
    Installed at import and again before reading files, in case a
    warnings.catch_warnings() block (pytest has one per test) dropped it."""
    warnings.filterwarnings("ignore", "Parsed a serial number which wasn't positive",
                            CryptographyDeprecationWarning, r"cyssl\.crypto\.certs")


_hush_serial_number_warnings()

# OpenSSL 3 X509_V_ERR_* codes and X509_verify_cert_error_string() texts.
UNSPECIFIED = 1
UNABLE_TO_GET_ISSUER_CERT = 2
CERT_SIGNATURE_FAILURE = 7
CERT_NOT_YET_VALID = 9
CERT_HAS_EXPIRED = 10
DEPTH_ZERO_SELF_SIGNED_CERT = 18
SELF_SIGNED_CERT_IN_CHAIN = 19
UNABLE_TO_GET_ISSUER_CERT_LOCALLY = 20
UNABLE_TO_VERIFY_LEAF_SIGNATURE = 21
CERT_CHAIN_TOO_LONG = 22
PATH_LENGTH_EXCEEDED = 25
INVALID_PURPOSE = 26
UNHANDLED_CRITICAL_EXTENSION = 34
INVALID_EXTENSION = 41
PERMITTED_VIOLATION = 47
EXCLUDED_VIOLATION = 48
HOSTNAME_MISMATCH = 62
IP_ADDRESS_MISMATCH = 64
EE_KEY_TOO_SMALL = 66
CA_KEY_TOO_SMALL = 67
CA_MD_TOO_WEAK = 68
INVALID_CA = 79   # 24 in OpenSSL 1.1.1; OpenSSL 3 renumbered it

VERIFY_MESSAGES = {
    UNSPECIFIED: "unspecified certificate verification error",
    UNABLE_TO_GET_ISSUER_CERT: "unable to get issuer certificate",
    CERT_SIGNATURE_FAILURE: "certificate signature failure",
    CERT_NOT_YET_VALID: "certificate is not yet valid",
    CERT_HAS_EXPIRED: "certificate has expired",
    DEPTH_ZERO_SELF_SIGNED_CERT: "self-signed certificate",
    SELF_SIGNED_CERT_IN_CHAIN: "self-signed certificate in certificate chain",
    UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "unable to get local issuer certificate",
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: "unable to verify the first certificate",
    CERT_CHAIN_TOO_LONG: "certificate chain too long",
    PATH_LENGTH_EXCEEDED: "path length constraint exceeded",
    INVALID_PURPOSE: "unsuitable certificate purpose",
    UNHANDLED_CRITICAL_EXTENSION: "unhandled critical extension",
    INVALID_EXTENSION: "invalid or inconsistent certificate extension",
    PERMITTED_VIOLATION: "permitted subtree violation",
    EXCLUDED_VIOLATION: "excluded subtree violation",
    HOSTNAME_MISMATCH: "hostname mismatch",
    IP_ADDRESS_MISMATCH: "IP address mismatch",
    EE_KEY_TOO_SMALL: "EE certificate key too weak",
    CA_KEY_TOO_SMALL: "CA certificate key too weak",
    CA_MD_TOO_WEAK: "CA signature digest algorithm too weak",
    INVALID_CA: "invalid CA certificate",
}

# The alert OpenSSL sends for each (ssl/statem ssl_x509err2alert); anything else:
# certificate_unknown. UNSPECIFIED would be internal_error there, but here it means
# "cryptography refused the chain for a reason OpenSSL has no code for", which is a
# bad certificate, not a local failure.
ALERTS = {
    CERT_HAS_EXPIRED: "certificate_expired",
    CERT_SIGNATURE_FAILURE: "decrypt_error",
    INVALID_PURPOSE: "unsupported_certificate",
    **dict.fromkeys((UNABLE_TO_GET_ISSUER_CERT, UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
                     UNABLE_TO_VERIFY_LEAF_SIGNATURE, DEPTH_ZERO_SELF_SIGNED_CERT,
                     SELF_SIGNED_CERT_IN_CHAIN, CERT_CHAIN_TOO_LONG, PATH_LENGTH_EXCEEDED,
                     INVALID_CA), "unknown_ca"),
    **dict.fromkeys((CERT_NOT_YET_VALID, HOSTNAME_MISMATCH, IP_ADDRESS_MISMATCH,
                     EE_KEY_TOO_SMALL, CA_KEY_TOO_SMALL, CA_MD_TOO_WEAK, UNSPECIFIED),
                    "bad_certificate"),
}


class CertificateError(ValueError):
    """A certificate failed verification; carries what OpenSSL would report.

    ``verify_code``/``verify_message`` are OpenSSL's (and the stdlib's
    SSLCertVerificationError's); ``alert`` is the RFC 8446 alert name the engine
    should send; ``depth`` is the position in the chain (0 = leaf) when known.
    """

    def __init__(self, verify_code, verify_message, alert=None, depth=None):
        super().__init__(verify_message)
        self.verify_code = verify_code
        self.verify_message = verify_message
        self.alert = alert or ALERTS.get(verify_code, "certificate_unknown")
        self.depth = depth

    @classmethod
    def from_code(cls, code, depth=None, server_name=None):
        if code == HOSTNAME_MISMATCH:   # CPython's own wording (Modules/_ssl.c)
            message = "Hostname mismatch, certificate is not valid for '%s'." % server_name
        elif code == IP_ADDRESS_MISMATCH:
            message = "IP address mismatch, certificate is not valid for '%s'." % server_name
        else:
            message = VERIFY_MESSAGES[code]
        return cls(code, message, depth=depth)


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
    except ValueError as exc:
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


def load_pem_certificates(data):
    """Every certificate in a PEM bundle, in order; other PEM blocks (keys, CRLs) are
    skipped, as OpenSSL does. ValueError when there is none or one is damaged.
    "TRUSTED CERTIFICATE" blocks (OpenSSL's cert + trust settings) give the cert."""
    certificates = []
    for label, body in _PEM_BLOCK.findall(_as_bytes(data)):
        if label not in _CERTIFICATE_LABELS:
            continue
        try:
            der = binascii.a2b_base64(b"".join(body.split()))
        except binascii.Error:
            raise ValueError("invalid base64 in a PEM certificate") from None
        if label == b"TRUSTED CERTIFICATE":   # the certificate is the first element
            der = der[:_der_element_length(der, 0)]
        certificates.append(load_der_certificate(der))
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
    key = os.path.abspath(path)
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
            yield from _read_pem_file(real)
        except (OSError, ValueError):
            continue


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
        try:
            import ssl
            paths = ssl.get_default_verify_paths()
            defaults = (paths.openssl_cafile, paths.openssl_capath)
        except (ImportError, AttributeError):
            defaults = (next((p for p in _FALLBACK_CAFILES if os.path.isfile(p)), None),
                        next((p for p in _FALLBACK_CAPATHS if os.path.isdir(p)), None))
        cafile = defaults[0] if cafile is None else cafile
        capath = defaults[1] if capath is None else capath
    return (cafile if cafile and os.path.isfile(cafile) else None,
            capath if capath and os.path.isdir(capath) else None)


# ---------------------------------------------------------------- trust store

def _extension(cert, kind):
    """The value of one extension, or None. Raises ValueError for malformed ones."""
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _parsed_extension(cert, kind):
    """Like _extension, but None for malformed extensions: OpenSSL then simply has
    no AKI/SKI to compare while building chains (and rejects the certificate later)."""
    try:
        return _extension(cert, kind)
    except ValueError:
        return None


def _key_identifiers_match(issuer, cert):
    """OpenSSL's X509_check_akid: cert's AuthorityKeyIdentifier fits issuer."""
    aki = _parsed_extension(cert, x509.AuthorityKeyIdentifier)
    if aki is None:
        return True
    if aki.key_identifier is not None:
        ski = _parsed_extension(issuer, x509.SubjectKeyIdentifier)
        if ski is not None and ski.digest != aki.key_identifier:
            return False
    serial = aki.authority_cert_serial_number
    return serial is None or serial == issuer.serial_number


def _is_self_signed(cert):
    """OpenSSL's EXFLAG_SS: issuer == subject and the key identifiers agree (the
    signature itself is not checked, as OpenSSL does not for trust anchors)."""
    try:
        return cert.subject == cert.issuer and _key_identifiers_match(cert, cert)
    except ValueError:   # a malformed name
        return False


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
            (roots if _is_self_signed(cert) else self.non_roots).append(cert)
        self.root_store = Store(roots) if roots else None
        self.full_store = Store(list(certificates)) if certificates else None


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

    def add_file(self, path):
        """A PEM file (cafile). OSError if it cannot be read, ValueError if it holds
        no certificate."""
        return self._add(_cached(os.fspath(path), _read_pem_file), listed=True)

    def add_directory(self, path):
        """A capath directory: c_rehash-style ``hash.N`` files and ``*.pem`` /
        ``*.crt`` / ``*.cer``, read now (cached per process by mtime; later changes
        need a new call). Like the stdlib, which only reads these files on lookup,
        they are used for verification but not listed by anchors() or len().
        Returns how many new certificates the directory provided."""
        path = os.fspath(path)
        if not os.path.isdir(path):
            raise NotADirectoryError(path)
        return self._add(_cached(path, lambda p: list(_read_directory(p))), listed=False)

    def anchors(self):
        """The certificates loaded from data and files, in load order."""
        return list(self._listed)

    def stats(self):
        """Counts as SSLContext.cert_store_stats() reports them."""
        listed = self._listed
        cas = sum(1 for cert in listed if _is_ca_for_stats(cert))
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

    def _verification_material(self):
        material = self._material
        if material is None:
            with self._lock:
                if self._material is None:
                    self._material = _Material(self._listed + [
                        c for c in self._from_directories if c not in self._listed_set])
                material = self._material
        return material


def _is_ca_for_stats(cert):
    try:
        constraints = _extension(cert, x509.BasicConstraints)
    except ValueError:
        return False
    return constraints is not None and constraints.ca


# ------------------------------------------------------------ host names

_LDH = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def _parse_ip(name):
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


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
        ip = _parse_ip(server_name if isinstance(server_name, str) else server_name.decode("ascii"))
        san = _extension(cert, x509.SubjectAlternativeName)
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

PURPOSES = {"server": ExtendedKeyUsageOID.SERVER_AUTH, "client": ExtendedKeyUsageOID.CLIENT_AUTH}
# KeyUsage bits that allow a leaf to serve each purpose (OpenSSL check_purpose_ssl_*).
_LEAF_KEY_USAGES = {"server": ("digital_signature", "key_encipherment", "key_agreement"),
                    "client": ("digital_signature", "key_agreement")}
# Raised from our extension validators; cryptography wraps it in its own message.
_PURPOSE_FAILURE = "certificate not valid for the %s purpose"


def _eku_allows(eku, purpose):
    return eku is None or PURPOSES[purpose] in eku


def _leaf_key_usage_allows(key_usage, purpose):
    return key_usage is None or any(getattr(key_usage, bit) for bit in _LEAF_KEY_USAGES[purpose])


@functools.lru_cache(maxsize=None)
def _extension_policies(purpose, subject_alt_name_required):
    """(ca_policy, ee_policy): webpki's defaults with the OpenSSL-like changes listed
    in the module docstring."""
    def check_eku(policy, cert, eku):
        if not _eku_allows(eku, purpose):
            raise ValueError(_PURPOSE_FAILURE % purpose)

    def check_leaf_key_usage(policy, cert, key_usage):
        if not _leaf_key_usage_allows(key_usage, purpose):
            raise ValueError(_PURPOSE_FAILURE % purpose)

    agnostic = Criticality.AGNOSTIC
    ca_policy = (ExtensionPolicy.webpki_defaults_ca()
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
    try:
        chain = _verify(leaf, intermediates, material, server_name, purpose, when,
                        partial_chain, check_common_name)
    except CertificateError:
        raise
    except Exception as failure:   # VerificationError, or ValueError from lazy parsing
        raise _explain(failure, leaf, intermediates, material, server_name, purpose, when,
                       partial_chain, check_common_name) from None
    return chain


def _verify(leaf, intermediates, material, server_name, purpose, when, partial_chain,
            check_common_name):
    if _weak_key(leaf):   # OpenSSL's first check (security level 2); webpki has none for leaves
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
        raise _name_mismatch(server_name)
    return chain


def _server_verifier_subject(leaf, server_name, check_common_name):
    """The Subject for cryptography's server verifier, or None when the name check
    has to be match_hostname's: no SAN at all, or a CN fallback that may apply."""
    try:
        san = _extension(leaf, x509.SubjectAlternativeName)
    except ValueError:
        return None
    if san is None:
        return None
    if isinstance(server_name, (bytes, bytearray)):
        server_name = bytes(server_name).decode("ascii", "replace")
    ip = _parse_ip(server_name)
    if ip is not None:
        return x509.IPAddress(ip)
    if check_common_name and not san.get_values_for_type(x509.DNSName):
        return None
    try:
        return x509.DNSName(_ascii_host(server_name))
    except (ValueError, UnicodeError):
        return None


def _weak_key(cert):
    """Below OpenSSL's default security level 2 (112 bits): RSA < 2048, EC < 224."""
    try:
        key = cert.public_key()
    except Exception:   # unsupported algorithm: for the verifier to refuse
        return False
    if isinstance(key, rsa.RSAPublicKey):
        return key.key_size < 2048
    return isinstance(key, ec.EllipticCurvePublicKey) and key.curve.key_size < 224


def _name_mismatch(server_name, depth=0):
    if isinstance(server_name, (bytes, bytearray)):
        server_name = bytes(server_name).decode("ascii", "replace")
    code = IP_ADDRESS_MISMATCH if _parse_ip(server_name) is not None else HOSTNAME_MISMATCH
    return CertificateError.from_code(code, depth, server_name)


# ------------------------------------------- which error would OpenSSL report?

class _Found(Exception):
    """The first OpenSSL error found while replaying its checks."""

    def __init__(self, code, depth):
        super().__init__(code, depth)
        self.code, self.depth = code, depth


def _explain(failure, leaf, intermediates, material, server_name, purpose, when,
             partial_chain, check_common_name):
    """The CertificateError for a chain cryptography rejected (``failure``)."""
    replay = _OpenSSLReplay(material, purpose, when, partial_chain)
    try:
        replay.run(leaf, intermediates, server_name, check_common_name)
    except _Found as found:
        if found.code in (HOSTNAME_MISMATCH, IP_ADDRESS_MISMATCH):
            return _name_mismatch(server_name, found.depth)
        return CertificateError.from_code(found.code, found.depth)
    except Exception:
        pass   # the replay could not judge this input; cryptography's words decide
    return _from_cryptography_message(str(failure), leaf, server_name, when)


# cryptography 48's VerificationError texts (found by experiment) and the code
# OpenSSL uses for the same condition. Used only when the replay found nothing.
_CRYPTOGRAPHY_MESSAGES = (
    ("no matching subjectAltName", HOSTNAME_MISMATCH),
    ("all candidates exhausted with no interior errors", UNABLE_TO_GET_ISSUER_CERT_LOCALLY),
    ("no trust anchors", UNABLE_TO_GET_ISSUER_CERT_LOCALLY),
    ("signature does not match", CERT_SIGNATURE_FAILURE),
    ("basicConstraints.cA must be asserted", INVALID_CA),
    ("path length constraint violated", PATH_LENGTH_EXCEEDED),
    ("EKU", INVALID_PURPOSE),
    ("certificate not valid for the", INVALID_PURPOSE),
    ("no permitted name constraints matched", PERMITTED_VIOLATION),
    ("excluded name constraint", EXCLUDED_VIOLATION),
    ("exceeds max depth", CERT_CHAIN_TOO_LONG),
    ("ASN.1 parsing error", INVALID_EXTENSION),
    ("unaccounted-for critical extension", UNHANDLED_CRITICAL_EXTENSION),
)


def _from_cryptography_message(text, leaf, server_name, when):
    for fragment, code in _CRYPTOGRAPHY_MESSAGES:
        if fragment in text:
            if code == HOSTNAME_MISMATCH:
                return _name_mismatch(server_name)
            return CertificateError.from_code(code)
    if "not valid at validation time" in text:
        early = leaf.not_valid_before_utc > when
        return CertificateError.from_code(CERT_NOT_YET_VALID if early else CERT_HAS_EXPIRED)
    forbidden = _FORBIDDEN_ALGORITHM.search(text)
    if forbidden:   # webpki's algorithm list: no EdDSA-signed certificates, for one
        return CertificateError(UNSPECIFIED, "certificate %s algorithm not supported: %s"
                                % (forbidden.group(1), forbidden.group(2) or "unknown"))
    # No OpenSSL equivalent: keep cryptography's words under OpenSSL's generic code.
    return CertificateError(UNSPECIFIED, text.replace("validation failed: ", "", 1))


_FORBIDDEN_ALGORITHM = re.compile(r"Forbidden (public key|signature) algorithm(?:.*?params: (\w+))?")


class _OpenSSLReplay:
    """The checks of OpenSSL 3's X509_verify_cert, in its order, over the chain it
    would build: build_chain (18, 19, 20, 2, 22), check_chain_extensions (41, 34,
    79, 26, 25), check_auth_level (66, 67, 68), check_id (62, 64), internal_verify
    top-down (7, then 9/10 per certificate), check_name_constraints (47, 48).
    (A weak leaf key, 66, is found before any of this, in _verify.)
    Raises _Found for the first failure. Simplified where OpenSSL's options
    (policies, CRLs, DANE, proxy certificates, strict mode) do not apply."""

    MAX_DEPTH = 100   # OpenSSL's default verify depth

    def __init__(self, material, purpose, when, partial_chain):
        self.material = material
        self.purpose = purpose
        self.when = when
        self.partial_chain = partial_chain

    def run(self, leaf, intermediates, server_name, check_common_name):
        chain = self.build_chain(leaf, intermediates)
        self.check_extensions(chain)
        self.check_auth_level(chain)
        if server_name is not None and not match_hostname(leaf, server_name, check_common_name):
            raise _Found(HOSTNAME_MISMATCH, 0)
        self.check_signatures_and_times(chain)
        self.check_name_constraints(chain)

    # build_chain: trusted issuers first, then the peer's certificates.
    def build_chain(self, leaf, intermediates):
        material = self.material
        peers = {}
        for cert in intermediates:
            peers.setdefault(cert.subject, []).append(cert)
        chain, reached_store = [leaf], False
        if self.partial_chain and leaf in material.members:
            return chain
        while True:
            top = chain[-1]
            if _is_self_signed(top):
                if top in material.members or self.find_issuer(
                        top, material.by_subject, chain, self_ok=True):
                    return chain
                raise _Found(DEPTH_ZERO_SELF_SIGNED_CERT if len(chain) == 1
                             else SELF_SIGNED_CERT_IN_CHAIN, len(chain) - 1)
            if len(chain) > self.MAX_DEPTH:
                raise _Found(CERT_CHAIN_TOO_LONG, len(chain) - 1)
            issuer = self.find_issuer(top, material.by_subject, chain)
            if issuer is not None:
                chain.append(issuer)
                if self.partial_chain:
                    return chain
                reached_store = True
                continue
            if not reached_store:   # once in the store, OpenSSL looks nowhere else
                issuer = self.find_issuer(top, peers, chain)
                if issuer is not None:
                    chain.append(issuer)
                    continue
            # (OpenSSL 3 says 20 even for a lone leaf, where 1.1.1 could say 21.)
            raise _Found(UNABLE_TO_GET_ISSUER_CERT if reached_store
                         else UNABLE_TO_GET_ISSUER_CERT_LOCALLY, len(chain) - 1)

    def find_issuer(self, cert, by_subject, chain, self_ok=False):
        """The first candidate valid now, else the first at all (OpenSSL's choice)."""
        candidates = [c for c in by_subject.get(cert.issuer, ())
                      if (self_ok or c not in chain) and _key_identifiers_match(c, cert)
                      and (not self_ok or c.public_key() == cert.public_key())]
        for candidate in candidates:
            if self.valid_now(candidate):
                return candidate
        return candidates[0] if candidates else None

    def valid_now(self, cert):
        return cert.not_valid_before_utc <= self.when <= cert.not_valid_after_utc

    def check_extensions(self, chain):
        path_length = 0   # intermediates below the current certificate, self-issued excepted
        for depth, cert in enumerate(chain):
            try:
                extensions = cert.extensions
            except ValueError:
                raise _Found(INVALID_EXTENSION, depth) from None
            if any(e.critical and isinstance(e.value, x509.UnrecognizedExtension)
                   for e in extensions):
                raise _Found(UNHANDLED_CRITICAL_EXTENSION, depth)
            if depth > 0 and not self.is_ca(cert):
                raise _Found(INVALID_CA, depth)
            if not _eku_allows(_extension(cert, x509.ExtendedKeyUsage), self.purpose) or (
                    depth == 0 and not _leaf_key_usage_allows(
                        _extension(cert, x509.KeyUsage), self.purpose)):
                raise _Found(INVALID_PURPOSE, depth)
            constraints = _extension(cert, x509.BasicConstraints)
            if (depth > 1 and constraints is not None and constraints.path_length is not None
                    and path_length > constraints.path_length):
                raise _Found(PATH_LENGTH_EXCEEDED, depth)
            if depth > 0 and cert.subject != cert.issuer:
                path_length += 1

    @staticmethod
    def is_ca(cert):
        """OpenSSL's X509_check_ca in non-strict mode."""
        key_usage = _extension(cert, x509.KeyUsage)
        if key_usage is not None and not key_usage.key_cert_sign:
            return False
        constraints = _extension(cert, x509.BasicConstraints)
        if constraints is not None:
            return constraints.ca
        if cert.version == x509.Version.v1:
            return _is_self_signed(cert)
        return key_usage is not None   # legacy: keyCertSign without basicConstraints

    def check_auth_level(self, chain):
        for depth, cert in enumerate(chain):
            if depth > 0 and _weak_key(cert):
                raise _Found(CA_KEY_TOO_SMALL, depth)
            if depth < len(chain) - 1 and isinstance(
                    cert.signature_hash_algorithm, (hashes.SHA1, hashes.MD5)):
                raise _Found(CA_MD_TOO_WEAK, depth)

    def check_signatures_and_times(self, chain):
        for depth in range(len(chain) - 1, -1, -1):
            cert = chain[depth]
            if depth < len(chain) - 1:   # the anchor's own signature is not checked
                try:
                    cert.verify_directly_issued_by(chain[depth + 1])
                except (InvalidSignature, ValueError, TypeError):
                    raise _Found(CERT_SIGNATURE_FAILURE, depth) from None
            if cert.not_valid_before_utc > self.when:
                raise _Found(CERT_NOT_YET_VALID, depth)
            if cert.not_valid_after_utc < self.when:
                raise _Found(CERT_HAS_EXPIRED, depth)

    def check_name_constraints(self, chain):
        """dNSName and iPAddress constraints over the SANs of the certificates
        below each constraining CA (other name forms are not checked)."""
        for ca_depth in range(1, len(chain)):
            constraints = _extension(chain[ca_depth], x509.NameConstraints)
            if constraints is None:
                continue
            for depth in range(ca_depth):
                cert = chain[depth]
                if depth > 0 and cert.subject == cert.issuer:
                    continue   # self-issued intermediates are exempt
                san = _extension(cert, x509.SubjectAlternativeName)
                for name in (san or ()):
                    code = _name_constraint_violation(name, constraints)
                    if code:
                        raise _Found(code, depth)


def _name_in_subtree(name, subtree):
    if isinstance(name, x509.DNSName) and isinstance(subtree, x509.DNSName):
        base, constraint = name.value.lower(), subtree.value.lower()
        if not constraint:
            return True
        if constraint.startswith("."):
            return base.endswith(constraint)
        return base == constraint or base.endswith("." + constraint)
    if isinstance(name, x509.IPAddress) and isinstance(subtree, x509.IPAddress):
        network = subtree.value
        return (isinstance(network, (ipaddress.IPv4Network, ipaddress.IPv6Network))
                and name.value.version == network.version and name.value in network)
    return False


def _name_constraint_violation(name, constraints):
    """47 if the name's type is constrained and no permitted subtree holds it, 48 if
    an excluded one does (OpenSSL checks permitted first), else None."""
    if not isinstance(name, (x509.DNSName, x509.IPAddress)):
        return None
    permitted = [s for s in constraints.permitted_subtrees or () if type(s) is type(name)]
    if permitted and not any(_name_in_subtree(name, s) for s in permitted):
        return PERMITTED_VIOLATION
    if any(_name_in_subtree(name, s) for s in constraints.excluded_subtrees or ()):
        return EXCLUDED_VIOLATION
    return None
