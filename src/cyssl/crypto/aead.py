"""The AEAD algorithms TLS 1.3 and TLS 1.2 (modern subset) use, over `cryptography`.

The record layer calls ``encrypt_into``/``decrypt_into`` on the objects ``new(key)``
returns; everything else about an algorithm (lengths, usage limits) is data here.
"""
from dataclasses import dataclass
from typing import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

__all__ = ["AEADAlgorithm", "AES_128_GCM", "AES_256_GCM", "CHACHA20_POLY1305", "InvalidTag"]


@dataclass(frozen=True)
class AEADAlgorithm:
    name: str               # OpenSSL's name, as SSLSocket.cipher() reports parts of it
    key_length: int
    factory: Callable       # key -> object with encrypt_into/decrypt_into
    # Records one key may protect before it must change (RFC 8446 section 5.5;
    # AES-GCM: 2^24.5 full-size records; ChaCha20-Poly1305: beyond 2^64 sequence numbers).
    confidentiality_limit: int
    nonce_length: int = 12
    tag_length: int = 16

    def new(self, key):
        if len(key) != self.key_length:
            raise ValueError("%s needs a %d-byte key" % (self.name, self.key_length))
        return self.factory(bytes(key))


AES_GCM_LIMIT = 23726566   # floor(2^24.5)
AES_128_GCM = AEADAlgorithm("AESGCM(128)", 16, AESGCM, AES_GCM_LIMIT)
AES_256_GCM = AEADAlgorithm("AESGCM(256)", 32, AESGCM, AES_GCM_LIMIT)
CHACHA20_POLY1305 = AEADAlgorithm("CHACHA20/POLY1305(256)", 32, ChaCha20Poly1305, (1 << 64) - 1)
