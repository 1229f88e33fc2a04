"""A reference record protector, independent of cyssl's record layer (RFC 8446 5.2, RFC
5246 6.2.3 with RFC 5288 / RFC 7905 nonces), for the hostile-peer tests and the fuzz
harness: it seals what cyssl refuses to make (plaintexts over 2^14, odd inner types and
padding) and opens what cyssl sends, with `cryptography`'s AEADs directly."""
import struct

from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

APPLICATION_DATA = 23
CHACHA20_SUITES = (0x1303, 0xCCA8, 0xCCA9)


def record_header(content_type, length, version=0x0303):
    return struct.pack(">BHH", content_type, version, length)


class Sealer:
    """One direction of one key: ``seal``/``seal_inner`` make records, ``open`` reads one."""

    def __init__(self, suite, key, iv, sequence=0):
        self.suite = suite
        self.tls13 = suite.version == 0x0304
        self.chacha = suite.code in CHACHA20_SUITES
        self.aead = (ChaCha20Poly1305 if self.chacha else AESGCM)(bytes(key))
        self.iv = bytes(iv)
        self.sequence = sequence

    def _next(self):
        seq, self.sequence = self.sequence, self.sequence + 1
        return seq

    def _nonce(self, seq):
        if not self.tls13 and not self.chacha:
            return self.iv + seq.to_bytes(8, "big")           # salt || explicit nonce
        return bytes(a ^ b for a, b in zip(self.iv, seq.to_bytes(12, "big")))

    def seal_inner(self, inner, header_type=APPLICATION_DATA, version=0x0303):
        """TLS 1.3: ``inner`` is the whole TLSInnerPlaintext (content, type, padding)."""
        seq = self._next()
        header = record_header(header_type, len(inner) + 16, version)
        return header + self.aead.encrypt(self._nonce(seq), bytes(inner), header)

    def seal(self, content_type, data, padding=0, version=0x0303):
        if self.tls13:
            return self.seal_inner(bytes(data) + bytes([content_type]) + bytes(padding),
                                   APPLICATION_DATA, version)
        seq = self._next()
        aad = seq.to_bytes(8, "big") + record_header(content_type, len(data), version)
        explicit = b"" if self.chacha else seq.to_bytes(8, "big")
        body = explicit + self.aead.encrypt(self._nonce(seq), bytes(data), aad)
        return record_header(content_type, len(body), version) + body

    def open(self, record):
        """(content type, plaintext) of one whole record sealed with this key."""
        seq = self._next()
        header, body = record[:5], record[5:]
        if self.tls13:
            inner = self.aead.decrypt(self._nonce(seq), body, header).rstrip(b"\x00")
            return inner[-1], inner[:-1]
        explicit = 0 if self.chacha else 8
        aad = seq.to_bytes(8, "big") + header[:3] + (len(body) - explicit - 16).to_bytes(2, "big")
        nonce = self.iv + body[:8] if explicit else self._nonce(seq)
        return header[0], self.aead.decrypt(nonce, body[explicit:], aad)
