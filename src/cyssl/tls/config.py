"""What one side of a TLS connection is configured to do: the engine's policy knobs.

The ssl-compatible face builds a ``TLSConfig`` from an ``SSLContext``; the engine only
reads it. Plain Python: nothing here is on a hot path.
"""
import os
import platform

from cyssl.crypto import groups as _groups
from cyssl.crypto import signatures as _signatures
from cyssl.tls.suites import TLS12_SUITES

VERIFY_NONE, VERIFY_OPTIONAL, VERIFY_REQUIRED = 0, 1, 2


def _cpu_has_aes():
    """Whether the CPU has AES instructions: then AES-GCM beats ChaCha20-Poly1305."""
    machine = platform.machine().lower()
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
    except OSError:
        # macOS / Windows: x86-64 and Apple silicon machines in use all have AES.
        return machine in ("x86_64", "amd64", "arm64", "aarch64")
    words = set(info.replace("\t", " ").replace(":", " ").split())
    return "aes" in words


HAS_AES_HARDWARE = _cpu_has_aes()


def default_tls13_suites():
    """AES-GCM first when the CPU accelerates it, otherwise ChaCha20-Poly1305 first."""
    # OpenSSL's default order (AES-256 first), so peers see what they would from it.
    if HAS_AES_HARDWARE:
        return [0x1302, 0x1303, 0x1301]
    return [0x1303, 0x1302, 0x1301]


def default_tls12_suites():
    """ECDHE-ECDSA before ECDHE-RSA; AES-GCM or ChaCha20 first as for TLS 1.3."""
    codes = [s.code for s in TLS12_SUITES]
    if not HAS_AES_HARDWARE:
        codes = [0xCCA9, 0xC02B, 0xC02C, 0xCCA8, 0xC02F, 0xC030]
    return codes


class TLSConfig:
    """Everything a connection needs to know that is not negotiated.

    credentials: what we present, ``(chain, private key)`` pairs (DER certificates leaf
    first; a cryptography key), at most one per key type, the peer's signature schemes
    choosing among them (signatures.choose_credential). verify_mode: VERIFY_NONE / OPTIONAL / REQUIRED.
    trust_store: a crypto.certs.TrustStore. keylog: a callable taking one NSS key-log line.
    """

    def __init__(self, **settings):
        self.versions = [0x0304, 0x0303]        # what we speak, best first
        self.tls13_suites = default_tls13_suites()
        self.tls12_suites = default_tls12_suites()
        self.require_extended_master_secret = True   # RFC 7627; relax only for old peers
        self.groups = [g for g in _groups.DEFAULT_GROUPS if _groups.supported(g)]
        self.key_share_groups = [g for g in (0x11EC, 0x001D) if _groups.supported(g)]
        self.signature_schemes = list(_signatures.DEFAULT_SCHEMES)
        self.alpn_protocols = []               # bytes, our preference order
        self.credentials = []                  # (DER chain leaf first, private key) pairs
        self.verify_mode = VERIFY_NONE
        self.trust_store = None
        self.check_hostname = False
        self.check_common_name = False         # hostname_checks_common_name
        self.partial_chain = False             # VERIFY_X509_PARTIAL_CHAIN
        self.certificate_authorities = None    # DER names sent in CertificateRequest
        self.num_tickets = 2
        self.ticket_keys = None                # tickets.TicketKeys (server)
        self.session_cache = None              # tickets.SessionCache (TLS 1.2 server)
        self.ticket_lifetime = 7200            # seconds, at most 7 days
        self.keylog = None
        self.record_size_limit = None          # what we announce (RFC 8449), None: not sent
        self.max_handshake_message = 65536
        self.server_preference = False         # OP_CIPHER_SERVER_PREFERENCE
        self.post_handshake_auth = False       # client: offer post_handshake_auth
        self.middlebox_compatibility = True
        self.servername_callback = None        # server: f(connection, name) -> alert or None
        self.now = None                        # tests: a clock override (time.time)
        for name, value in settings.items():
            if not hasattr(self, name):
                raise TypeError("unknown TLSConfig setting %r" % name)
            setattr(self, name, value)

    def key_auths(self):
        """signatures.key_auth of each credential's key, in order, worked out once per
        set of keys (a credential list edited in place is seen too)."""
        keys = [key for _chain, key in self.credentials]
        cached = self.__dict__.get("_key_auths")
        if (cached is None or len(cached[0]) != len(keys)
                or any(old is not new for old, new in zip(cached[0], keys))):
            cached = (keys, [_signatures.key_auth(key.public_key()) for key in keys])
            self._key_auths = cached
        return cached[1]

    def copy(self, **changes):
        other = TLSConfig.__new__(TLSConfig)
        other.__dict__.update(self.__dict__)
        for name, value in changes.items():
            setattr(other, name, value)
        return other


def keylog_to_file(path):
    """A keylog callable appending NSS key-log lines to ``path`` (as SSLKEYLOGFILE does),
    after the header line Python's ssl writes to a new file."""
    with open(path, "a") as f:               # raises now for a directory or no permission
        if f.tell() == 0:
            f.write("# TLS secrets log file, generated by OpenSSL / Python\n")

    def write(line):
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\n").encode("ascii"))
        finally:
            os.close(fd)
    return write
