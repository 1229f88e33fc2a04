"""The cipher suites cyssl speaks: TLS 1.3's three, and TLS 1.2's ECDHE + AEAD subset.

No CBC, no RSA key exchange, no static DH: the table is the whole policy.
"""
from dataclasses import dataclass, field
from typing import Optional

from cyssl.crypto.aead import AEADAlgorithm, AES_128_GCM, AES_256_GCM, CHACHA20_POLY1305


@dataclass(frozen=True)
class CipherSuite:
    code: int
    name: str                   # IANA name (TLS 1.3 suites are also named so by OpenSSL)
    openssl_name: str
    version: int                # 0x0304 or 0x0303
    aead: AEADAlgorithm
    hash_name: str              # hashlib name for HKDF / PRF and the transcript
    auth: Optional[str] = None  # TLS 1.2 only: "ECDSA" or "RSA"
    # Derived in __post_init__, as plain attributes: the handshake reads them often.
    tls13: bool = field(init=False)
    # IV bytes from the key schedule: 12, except TLS 1.2 AES-GCM's 4-byte salt.
    fixed_iv_length: int = field(init=False)
    # Per-record nonce bytes on the wire: 8 for TLS 1.2 AES-GCM (RFC 5288), else 0.
    explicit_nonce_length: int = field(init=False)

    def __post_init__(self):
        tls13 = self.version == 0x0304
        fixed = 12 if tls13 or self.aead is CHACHA20_POLY1305 else 4
        object.__setattr__(self, "tls13", tls13)
        object.__setattr__(self, "fixed_iv_length", fixed)
        object.__setattr__(self, "explicit_nonce_length", 12 - fixed)


TLS13_SUITES = (
    CipherSuite(0x1301, "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", 0x0304, AES_128_GCM, "sha256"),
    CipherSuite(0x1302, "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", 0x0304, AES_256_GCM, "sha384"),
    CipherSuite(0x1303, "TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256", 0x0304,
                CHACHA20_POLY1305, "sha256"),
)

TLS12_SUITES = (
    CipherSuite(0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256",
                0x0303, AES_128_GCM, "sha256", "ECDSA"),
    CipherSuite(0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384",
                0x0303, AES_256_GCM, "sha384", "ECDSA"),
    CipherSuite(0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305",
                0x0303, CHACHA20_POLY1305, "sha256", "ECDSA"),
    CipherSuite(0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
                0x0303, AES_128_GCM, "sha256", "RSA"),
    CipherSuite(0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
                0x0303, AES_256_GCM, "sha384", "RSA"),
    CipherSuite(0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305",
                0x0303, CHACHA20_POLY1305, "sha256", "RSA"),
)

ALL_SUITES = TLS13_SUITES + TLS12_SUITES
BY_CODE = {suite.code: suite for suite in ALL_SUITES}
