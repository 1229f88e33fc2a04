"""TLS key-exchange groups (RFC 8446 sections 4.2.7, 4.2.8, 7.4) over `cryptography`.

A client offers ``group.generate()`` and later calls ``share.exchange(server_share)``; a
server answers a client's share with ``group.respond(client_share)``. Whatever bytes a peer
sends, a share we cannot use raises InvalidKeyShare, which the engine turns into an
illegal_parameter alert.

X25519MLKEM768 follows draft-ietf-tls-ecdhe-mlkem: the ML-KEM-768 part comes first in the
client share (encapsulation key || X25519 public key), in the server share (ciphertext ||
X25519 public key) and in the shared secret (ML-KEM secret || X25519 secret).
"""
import functools
import hmac
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

try:
    from cryptography.hazmat.primitives.asymmetric.mlkem import (
        MLKEM768PrivateKey, MLKEM768PublicKey)
except ImportError:     # a cryptography release without ML-KEM: the hybrid group is unsupported
    MLKEM768PrivateKey = MLKEM768PublicKey = None


class InvalidKeyShare(ValueError):
    """A peer's key_share is malformed or unsafe to use (the engine sends illegal_parameter)."""


X25519_LENGTH = 32
MLKEM768_ENCAPSULATION_KEY_LENGTH = 1184
MLKEM768_CIPHERTEXT_LENGTH = 1088
MLKEM768_SECRET_LENGTH = 32

_ZERO_X25519_SECRET = bytes(X25519_LENGTH)
_ZERO_SECRET_MESSAGE = "x25519 shared secret is all zeros (RFC 8446 section 7.4.2)"
_ECDH = ec.ECDH()       # stateless; one instance serves every exchange


def _share_bytes(share, length, what):
    """``share`` as bytes of exactly ``length``, or InvalidKeyShare.

    The engine hands us bytes; other buffers are copied once, anything else is refused
    here so that no TypeError escapes from deeper down."""
    if type(share) is not bytes:
        if not isinstance(share, (bytearray, memoryview)):
            raise InvalidKeyShare("%s must be bytes, not %s" % (what, type(share).__name__))
        share = bytes(share)
    if len(share) != length:
        raise InvalidKeyShare("%s must be %d bytes, got %d" % (what, length, len(share)))
    return share


@dataclass(frozen=True, repr=False)
class Group:
    """One TLS NamedGroup. Subclasses say how keys are made, encoded and combined."""
    code: int
    name: str                   # as OpenSSL prints it
    client_share_length: int
    server_share_length: int
    secret_length: int

    def __repr__(self):
        return "<Group %s 0x%04x>" % (self.name, self.code)

    def generate(self):
        """Client side: a fresh ephemeral key for this group."""
        return KeyShare(self, self._new_private())

    def respond(self, peer_share):
        """Server side: (our key_share bytes, shared secret) for a client's key_share."""
        raise NotImplementedError

    # The steps KeyShare and the hybrid group build on.
    def _new_private(self):
        raise NotImplementedError

    def _public_bytes(self, private):
        raise NotImplementedError

    def _finish(self, private, server_share):
        """Client side: the shared secret from the server's key_share."""
        raise NotImplementedError


class _DiffieHellmanGroup(Group):
    """Both sides send a public key of the same shape and compute one secret from it."""

    def respond(self, peer_share):
        peer = self._load_public(peer_share)    # refuse bad input before making a key
        private = self._new_private()
        return self._public_bytes(private), self._agree(private, peer)

    def _finish(self, private, server_share):
        return self._agree(private, self._load_public(server_share))

    def _load_public(self, share):
        raise NotImplementedError

    def _agree(self, private, peer):
        raise NotImplementedError


class X25519Group(_DiffieHellmanGroup):

    def _new_private(self):
        return x25519.X25519PrivateKey.generate()

    def _public_bytes(self, private):
        return private.public_key().public_bytes_raw()

    def _load_public(self, share):
        # Every 32-byte string is a u-coordinate (RFC 7748 section 5); bad ones show up
        # as an all-zero secret in _agree.
        share = _share_bytes(share, X25519_LENGTH, "x25519 key share")
        return x25519.X25519PublicKey.from_public_bytes(share)

    def _agree(self, private, peer):
        try:
            secret = private.exchange(peer)
        except ValueError:      # OpenSSL already refuses an all-zero result
            raise InvalidKeyShare(_ZERO_SECRET_MESSAGE) from None
        # Our own check as well, in case a backend returns the zeros instead of failing.
        if hmac.compare_digest(secret, _ZERO_X25519_SECRET):
            raise InvalidKeyShare(_ZERO_SECRET_MESSAGE)
        return secret


@dataclass(frozen=True, repr=False)
class ECGroup(_DiffieHellmanGroup):
    """A NIST prime curve: shares are uncompressed X9.62 points (RFC 8446 section 4.2.8.2)."""
    curve: ec.EllipticCurve

    def _new_private(self):
        return ec.generate_private_key(self.curve)

    def _public_bytes(self, private):
        return private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)

    def _load_public(self, share):
        # Client and server shares have the same length here.
        share = _share_bytes(share, self.client_share_length, "%s key share" % self.name)
        # TLS 1.3 allows only the uncompressed form; cryptography would accept others.
        if share[0] != 4:
            raise InvalidKeyShare("%s key share must be an uncompressed point (0x04 || X || Y)"
                                  % self.name)
        try:
            # from_encoded_point checks the point lies on the curve.
            return ec.EllipticCurvePublicKey.from_encoded_point(self.curve, share)
        except ValueError:
            raise InvalidKeyShare("%s key share is not a point on the curve" % self.name) from None

    def _agree(self, private, peer):
        # The ECDH result is the x-coordinate, left-padded to the field size (RFC 8446 7.4.2).
        return private.exchange(_ECDH, peer)


@dataclass(frozen=True, repr=False)
class HybridMLKEMGroup(Group):
    """X25519MLKEM768: ML-KEM-768 and X25519 side by side, the ML-KEM part first everywhere."""
    classical: X25519Group

    def _new_private(self):
        return MLKEM768PrivateKey.generate(), self.classical._new_private()

    def _public_bytes(self, private):
        kem_private, dh_private = private
        kem_public = kem_private.public_key().public_bytes_raw()
        return kem_public + self.classical._public_bytes(dh_private)

    def respond(self, peer_share):
        share = _share_bytes(peer_share, self.client_share_length, "%s key share" % self.name)
        try:
            # Loading runs the FIPS 203 section 7.2 encapsulation key check the draft requires.
            encapsulation_key = MLKEM768PublicKey.from_public_bytes(
                share[:MLKEM768_ENCAPSULATION_KEY_LENGTH])
        except ValueError:
            raise InvalidKeyShare("%s key share holds an invalid ML-KEM-768 encapsulation key"
                                  % self.name) from None
        dh_share, dh_secret = self.classical.respond(share[MLKEM768_ENCAPSULATION_KEY_LENGTH:])
        kem_secret, ciphertext = encapsulation_key.encapsulate()
        return ciphertext + dh_share, kem_secret + dh_secret

    def _finish(self, private, server_share):
        share = _share_bytes(server_share, self.server_share_length, "%s key share" % self.name)
        kem_private, dh_private = private
        dh_secret = self.classical._finish(dh_private, share[MLKEM768_CIPHERTEXT_LENGTH:])
        try:
            kem_secret = kem_private.decapsulate(share[:MLKEM768_CIPHERTEXT_LENGTH])
        except ValueError:
            # Unreachable at the right length: ML-KEM rejects implicitly, returning a
            # pseudo-random secret that makes the handshake fail at Finished instead.
            raise InvalidKeyShare("%s ciphertext was refused" % self.name) from None
        return kem_secret + dh_secret


class KeyShare:
    """One ephemeral key of ours in one group. Its private half never leaves this object.

    ``private`` is the group's private key object(s); ``Group.generate`` makes a fresh one,
    tests pass fixed keys to get known answers."""
    __slots__ = ("group", "_private", "_public")

    def __init__(self, group, private):
        self.group = group
        self._private = private
        self._public = group._public_bytes(private)     # encoded once, sent once

    def public_bytes(self):
        """Our key_share to send."""
        return self._public

    def exchange(self, peer_share):
        """Client side: the shared secret from the server's key_share."""
        return self.group._finish(self._private, peer_share)

    def __repr__(self):
        return "<KeyShare %s>" % self.group.name


X25519 = X25519Group(0x001D, "x25519", X25519_LENGTH, X25519_LENGTH, 32)
SECP256R1 = ECGroup(0x0017, "secp256r1", 65, 65, 32, ec.SECP256R1())
SECP384R1 = ECGroup(0x0018, "secp384r1", 97, 97, 48, ec.SECP384R1())
X25519MLKEM768 = HybridMLKEMGroup(
    0x11EC, "X25519MLKEM768",
    MLKEM768_ENCAPSULATION_KEY_LENGTH + X25519_LENGTH,
    MLKEM768_CIPHERTEXT_LENGTH + X25519_LENGTH,
    MLKEM768_SECRET_LENGTH + X25519_LENGTH,
    X25519)

# Every group cyssl implements; supported() says which this backend can run.
GROUPS = {g.code: g for g in (X25519MLKEM768, X25519, SECP256R1, SECP384R1)}
BY_NAME = {g.name: g for g in GROUPS.values()}
DEFAULT_GROUPS = (0x11EC, 0x001D, 0x0017, 0x0018)     # preference order


@functools.cache
def _mlkem_available():
    # The only reliable probe: OpenSSL builds without ML-KEM fail at key generation.
    if MLKEM768PrivateKey is None:
        return False
    try:
        MLKEM768PrivateKey.generate()
    except UnsupportedAlgorithm:
        return False
    return True


def supported(code):
    """True if ``code`` is a group cyssl implements and this `cryptography` backend can run."""
    group = GROUPS.get(code)
    if group is None:
        return False
    return not isinstance(group, HybridMLKEMGroup) or _mlkem_available()
