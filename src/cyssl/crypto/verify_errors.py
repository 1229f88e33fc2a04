"""OpenSSL's certificate verify errors, and which one OpenSSL would report.

cryptography's path validator decides whether a chain is trusted (certs.verify_chain);
when it says no, a short emulation of the order in which OpenSSL's X509_verify_cert
runs its checks works out which error OpenSSL would have reported first, so that
``verify_code`` and ``verify_message`` are the stdlib's (integration.md N1). That
emulation only ever names the error; it never accepts a chain.

The low-level certificate checks the emulation shares with certs live here too, so
that this module never needs to import certs.
"""
import ipaddress
import re

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

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


def name_mismatch(server_name, depth=0):
    """The error for a leaf not valid for ``server_name``: IP or host name wording."""
    if isinstance(server_name, (bytes, bytearray)):
        server_name = bytes(server_name).decode("ascii", "replace")
    code = IP_ADDRESS_MISMATCH if parse_ip(server_name) is not None else HOSTNAME_MISMATCH
    return CertificateError.from_code(code, depth, server_name)


# ------------------------------------------- which error would OpenSSL report?

class _Found(Exception):
    """The first OpenSSL error found while replaying its checks."""

    def __init__(self, code, depth):
        super().__init__(code, depth)
        self.code, self.depth = code, depth


def explain(failure, leaf, intermediates, material, server_name, purpose, when,
            partial_chain, name_matches):
    """The CertificateError for a chain cryptography rejected (``failure``).

    ``material``: the trust store's certificates (certs._Material); ``name_matches``:
    a callable telling whether the leaf is valid for ``server_name`` (certs'
    match_hostname, bound), passed in because host names are certs' business.
    """
    replay = _OpenSSLReplay(material, purpose, when, partial_chain)
    try:
        replay.run(leaf, intermediates, server_name, name_matches)
    except _Found as found:
        if found.code in (HOSTNAME_MISMATCH, IP_ADDRESS_MISMATCH):
            return name_mismatch(server_name, found.depth)
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
    ("certificate not valid for the", INVALID_PURPOSE),   # certs._PURPOSE_FAILURE
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
                return name_mismatch(server_name)
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
    (A weak leaf key, 66, is found before any of this, in certs._verify.)
    Raises _Found for the first failure. Simplified where OpenSSL's options
    (policies, CRLs, DANE, proxy certificates, strict mode) do not apply."""

    MAX_DEPTH = 100   # OpenSSL's default verify depth

    def __init__(self, material, purpose, when, partial_chain):
        self.material = material
        self.purpose = purpose
        self.when = when
        self.partial_chain = partial_chain

    def run(self, leaf, intermediates, server_name, name_matches):
        chain = self.build_chain(leaf, intermediates)
        self.check_extensions(chain)
        self.check_auth_level(chain)
        if server_name is not None and not name_matches():
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
            if is_self_signed(top):
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
            if not eku_allows(extension(cert, x509.ExtendedKeyUsage), self.purpose) or (
                    depth == 0 and not leaf_key_usage_allows(
                        extension(cert, x509.KeyUsage), self.purpose)):
                raise _Found(INVALID_PURPOSE, depth)
            constraints = extension(cert, x509.BasicConstraints)
            if (depth > 1 and constraints is not None and constraints.path_length is not None
                    and path_length > constraints.path_length):
                raise _Found(PATH_LENGTH_EXCEEDED, depth)
            if depth > 0 and cert.subject != cert.issuer:
                path_length += 1

    @staticmethod
    def is_ca(cert):
        """OpenSSL's X509_check_ca in non-strict mode."""
        key_usage = extension(cert, x509.KeyUsage)
        if key_usage is not None and not key_usage.key_cert_sign:
            return False
        constraints = extension(cert, x509.BasicConstraints)
        if constraints is not None:
            return constraints.ca
        if cert.version == x509.Version.v1:
            return is_self_signed(cert)
        return key_usage is not None   # legacy: keyCertSign without basicConstraints

    def check_auth_level(self, chain):
        for depth, cert in enumerate(chain):
            if depth > 0 and weak_key(cert):
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
            constraints = extension(chain[ca_depth], x509.NameConstraints)
            if constraints is None:
                continue
            for depth in range(ca_depth):
                cert = chain[depth]
                if depth > 0 and cert.subject == cert.issuer:
                    continue   # self-issued intermediates are exempt
                san = extension(cert, x509.SubjectAlternativeName)
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


# ------------------------------------ low-level checks, shared with certs

def extension(cert, kind):
    """The value of one extension, or None. Raises ValueError for malformed ones."""
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _parsed_extension(cert, kind):
    """Like extension, but None for malformed extensions: OpenSSL then simply has
    no AKI/SKI to compare while building chains (and rejects the certificate later)."""
    try:
        return extension(cert, kind)
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


def is_self_signed(cert):
    """OpenSSL's EXFLAG_SS: issuer == subject and the key identifiers agree (the
    signature itself is not checked, as OpenSSL does not for trust anchors)."""
    try:
        return cert.subject == cert.issuer and _key_identifiers_match(cert, cert)
    except ValueError:   # a malformed name
        return False


def weak_key(cert):
    """Below OpenSSL's default security level 2 (112 bits): RSA < 2048, EC < 224."""
    try:
        key = cert.public_key()
    except Exception:   # unsupported algorithm: for the verifier to refuse
        return False
    if isinstance(key, rsa.RSAPublicKey):
        return key.key_size < 2048
    return isinstance(key, ec.EllipticCurvePublicKey) and key.curve.key_size < 224


def parse_ip(name):
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


PURPOSES = {"server": ExtendedKeyUsageOID.SERVER_AUTH, "client": ExtendedKeyUsageOID.CLIENT_AUTH}
# KeyUsage bits that allow a leaf to serve each purpose (OpenSSL check_purpose_ssl_*).
_LEAF_KEY_USAGES = {"server": ("digital_signature", "key_encipherment", "key_agreement"),
                    "client": ("digital_signature", "key_agreement")}


def eku_allows(eku, purpose):
    return eku is None or PURPOSES[purpose] in eku


def leaf_key_usage_allows(key_usage, purpose):
    return key_usage is None or any(getattr(key_usage, bit) for bit in _LEAF_KEY_USAGES[purpose])
