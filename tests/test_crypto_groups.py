"""Key-exchange groups: round trips, share layouts, hostile shares, known answers."""
import dataclasses
import os

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from cyssl.crypto import groups
from cyssl.crypto.groups import InvalidKeyShare, KeyShare

H = bytes.fromhex

# RFC 7748 section 6.1 (Curve25519 Diffie-Hellman example).
RFC7748_ALICE_PRIVATE = H("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
RFC7748_ALICE_PUBLIC = H("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
RFC7748_BOB_PRIVATE = H("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
RFC7748_BOB_PUBLIC = H("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
RFC7748_SHARED = H("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")

MLKEM_SEED = bytes(range(64))   # any fixed 64 bytes: d || z of FIPS 203 key generation

# (share length client -> server, server -> client, secret length) per codepoint.
LAYOUT = {
    0x001D: (32, 32, 32),
    0x0017: (65, 65, 32),
    0x0018: (97, 97, 48),
    0x11EC: (1216, 1120, 64),
}

ALL_GROUPS = [pytest.param(g, id=g.name) for g in groups.GROUPS.values()]


def x25519_private(raw):
    return x25519.X25519PrivateKey.from_private_bytes(raw)


def hybrid_share(kem_seed, x25519_raw):
    """A client X25519MLKEM768 KeyShare built from fixed keys."""
    private = (MLKEM768PrivateKey.from_seed_bytes(kem_seed), x25519_private(x25519_raw))
    return KeyShare(groups.X25519MLKEM768, private)


def off_curve(point):
    """The same X with Y + 1: a well-formed uncompressed point that is not on the curve."""
    half = (len(point) - 1) // 2
    y = int.from_bytes(point[1 + half:], "big")
    return point[:1 + half] + (y + 1).to_bytes(half, "big")


# --- the registry -------------------------------------------------------------------

def test_registry():
    assert set(groups.GROUPS) == set(LAYOUT)
    assert groups.DEFAULT_GROUPS == (0x11EC, 0x001D, 0x0017, 0x0018)
    assert {name: g.code for name, g in groups.BY_NAME.items()} == {
        "X25519MLKEM768": 0x11EC, "x25519": 0x001D, "secp256r1": 0x0017, "secp384r1": 0x0018}
    for code, group in groups.GROUPS.items():
        assert group.code == code


def test_supported():
    for code in groups.GROUPS:
        assert groups.supported(code)      # cryptography 48 with OpenSSL has ML-KEM
    for code in (0x0019, 0x001E, 0x0100, 0x11EB, 0x0000, 0xFFFF):   # P-521, x448, ffdhe2048, ...
        assert not groups.supported(code)


def test_groups_are_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        groups.X25519.code = 0x0017


def test_key_share_repr_shows_no_key_material():
    share = groups.X25519.generate()
    assert repr(share) == "<KeyShare x25519>"
    assert share.public_bytes().hex() not in repr(share)


# --- round trips and layouts --------------------------------------------------------

@pytest.mark.parametrize("group", ALL_GROUPS)
def test_round_trip(group):
    client = group.generate()
    client_share = client.public_bytes()
    server_share, server_secret = group.respond(client_share)
    client_secret = client.exchange(server_share)

    client_length, server_length, secret_length = LAYOUT[group.code]
    assert len(client_share) == client_length == group.client_share_length
    assert len(server_share) == server_length == group.server_share_length
    assert len(server_secret) == secret_length == group.secret_length
    assert client_secret == server_secret
    assert client.group is group


@pytest.mark.parametrize("group", ALL_GROUPS)
def test_every_key_is_fresh(group):
    share = group.generate().public_bytes()
    assert share != group.generate().public_bytes()
    assert group.respond(share) != group.respond(share)


@pytest.mark.parametrize("group", [groups.SECP256R1, groups.SECP384R1], ids=lambda g: g.name)
def test_ec_shares_are_uncompressed_points(group):
    client_share = group.generate().public_bytes()
    server_share, _ = group.respond(client_share)
    assert client_share[0] == server_share[0] == 0x04


@pytest.mark.parametrize("group", ALL_GROUPS)
def test_other_buffers_are_accepted(group):
    client = group.generate()
    server_share, secret = group.respond(bytearray(client.public_bytes()))
    assert client.exchange(memoryview(server_share)) == secret


# --- hostile shares -----------------------------------------------------------------

def both_directions(group, bad_share):
    """Feed ``bad_share`` to the server side and to the client side; both must refuse it."""
    with pytest.raises(InvalidKeyShare):
        group.respond(bad_share)
    with pytest.raises(InvalidKeyShare):
        group.generate().exchange(bad_share)


@pytest.mark.parametrize("group", ALL_GROUPS)
def test_wrong_lengths(group):
    client_share = group.generate().public_bytes()
    server_share, _ = group.respond(client_share)
    for bad in (b"", b"\x04", client_share[:-1], client_share + b"\x00"):
        with pytest.raises(InvalidKeyShare, match="bytes"):
            group.respond(bad)
    for bad in (b"", b"\x04", server_share[:-1], server_share + b"\x00"):
        with pytest.raises(InvalidKeyShare, match="bytes"):
            group.generate().exchange(bad)


@pytest.mark.parametrize("group", ALL_GROUPS)
def test_non_bytes(group):
    for bad in (None, 0, 32, "x" * group.client_share_length, [4] * group.client_share_length):
        both_directions(group, bad)


def lengths_around(*lengths):
    """Every length 0..max(lengths)+2 in coarse steps, plus each given length and its neighbours."""
    top = max(lengths) + 2
    picked = set(range(0, top, max(1, top // 40)))
    for n in lengths:
        picked.update((n - 1, n, n + 1))
    return sorted(picked)


@pytest.mark.parametrize("group", ALL_GROUPS)
def test_garbage_raises_nothing_but_invalid_key_share(group):
    # Random bytes of the right length may be a usable share (any 32 bytes is an x25519
    # key, any 1088 bytes an ML-KEM ciphertext); what matters is that no other exception
    # type ever escapes.
    for length in lengths_around(group.client_share_length, group.server_share_length):
        for _ in range(3):
            garbage = os.urandom(length)
            try:
                group.respond(garbage)
            except InvalidKeyShare:
                pass
            try:
                group.generate().exchange(garbage)
            except InvalidKeyShare:
                pass


# Low-order x25519 inputs that force an all-zero shared secret: u = 0, u = 1 and
# u = p = 2^255 - 19 (which reduces to 0), and a point of order 8.
X25519_ZERO_MAKERS = [
    bytes(32),
    b"\x01" + bytes(31),
    H("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    H("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
]


@pytest.mark.parametrize("point", X25519_ZERO_MAKERS, ids=lambda p: p[:4].hex())
def test_x25519_all_zero_secret(point):
    with pytest.raises(InvalidKeyShare, match="all zeros"):
        groups.X25519.respond(point)
    with pytest.raises(InvalidKeyShare, match="all zeros"):
        groups.X25519.generate().exchange(point)


@pytest.mark.parametrize("group", [groups.SECP256R1, groups.SECP384R1], ids=lambda g: g.name)
def test_ec_bad_points(group):
    curve_key = ec.generate_private_key(group.curve).public_key()
    valid = curve_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    compressed = curve_key.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    coordinate = (group.client_share_length - 1) // 2

    with pytest.raises(InvalidKeyShare, match="not a point on the curve"):
        group.respond(off_curve(valid))
    both_directions(group, off_curve(valid))
    both_directions(group, compressed)                                   # wrong length
    both_directions(group, compressed + bytes(group.client_share_length - len(compressed)))
    both_directions(group, b"\x00" * group.client_share_length)          # not uncompressed
    both_directions(group, b"\x00")                                      # point at infinity
    both_directions(group, b"\x04" + b"\xff" * (2 * coordinate))         # coordinates >= p
    both_directions(group, b"\x04" + bytes(2 * coordinate))              # (0, 0)
    # A valid point with the hybrid-form prefix byte is refused before cryptography sees it.
    with pytest.raises(InvalidKeyShare, match="uncompressed"):
        group.respond(b"\x06" + valid[1:])


def test_ec_share_of_the_other_curve():
    p256_share = groups.SECP256R1.generate().public_bytes()
    p384_share = groups.SECP384R1.generate().public_bytes()
    both_directions(groups.SECP384R1, p256_share)
    both_directions(groups.SECP256R1, p384_share)


def test_hybrid_truncated_and_mixed_shares():
    hybrid = groups.X25519MLKEM768
    client_share = hybrid.generate().public_bytes()
    server_share, _ = hybrid.respond(client_share)
    for bad in (client_share[:1184], client_share[1184:], client_share[:-32], client_share[:1215],
                server_share, groups.X25519.generate().public_bytes()):
        with pytest.raises(InvalidKeyShare):
            hybrid.respond(bad)
    for bad in (server_share[:1088], server_share[1088:], server_share[:1119], client_share):
        with pytest.raises(InvalidKeyShare):
            hybrid.generate().exchange(bad)


def test_hybrid_invalid_encapsulation_key():
    # Coefficients are 12-bit values below q = 3329; 0xFFF fails the FIPS 203 7.2 check.
    x25519_part = groups.X25519.generate().public_bytes()
    with pytest.raises(InvalidKeyShare, match="encapsulation key"):
        groups.X25519MLKEM768.respond(b"\xff" * 1184 + x25519_part)


def test_hybrid_all_zero_x25519_part():
    hybrid = groups.X25519MLKEM768
    client_share = hybrid.generate().public_bytes()
    server_share, _ = hybrid.respond(client_share)
    with pytest.raises(InvalidKeyShare, match="all zeros"):
        hybrid.respond(client_share[:1184] + bytes(32))
    with pytest.raises(InvalidKeyShare, match="all zeros"):
        hybrid.generate().exchange(server_share[:1088] + bytes(32))


# --- known answers ------------------------------------------------------------------

def test_x25519_rfc7748_section_6_1():
    alice = KeyShare(groups.X25519, x25519_private(RFC7748_ALICE_PRIVATE))
    bob = KeyShare(groups.X25519, x25519_private(RFC7748_BOB_PRIVATE))
    assert alice.public_bytes() == RFC7748_ALICE_PUBLIC
    assert bob.public_bytes() == RFC7748_BOB_PUBLIC
    assert alice.exchange(RFC7748_BOB_PUBLIC) == RFC7748_SHARED
    assert bob.exchange(RFC7748_ALICE_PUBLIC) == RFC7748_SHARED


def test_x25519_rfc8448_simple_1rtt(rfc8448_simple):
    """RFC 8448 section 3: both ephemeral keys and their ECDHE shared secret."""
    v = rfc8448_simple
    client = KeyShare(groups.X25519, x25519_private(H(v["client_x25519_private_key"])))
    server = KeyShare(groups.X25519, x25519_private(H(v["server_x25519_private_key"])))
    assert client.public_bytes() == H(v["client_x25519_public_key"])
    assert server.public_bytes() == H(v["server_x25519_public_key"])
    assert client.exchange(server.public_bytes()) == H(v["ecdhe_shared_secret"])
    assert server.exchange(client.public_bytes()) == H(v["ecdhe_shared_secret"])


def test_hybrid_client_side_known_answer():
    """Client share = ML-KEM-768 encapsulation key || X25519 public key, and the secret is
    ML-KEM secret || X25519 secret (draft-ietf-tls-ecdhe-mlkem, "Construction")."""
    kem_private = MLKEM768PrivateKey.from_seed_bytes(MLKEM_SEED)
    client = hybrid_share(MLKEM_SEED, RFC7748_ALICE_PRIVATE)
    client_share = client.public_bytes()
    assert client_share[:1184] == kem_private.public_key().public_bytes_raw()
    assert client_share[1184:] == RFC7748_ALICE_PUBLIC

    # The server's part, made by hand: a ciphertext to our key, then Bob's X25519 key.
    kem_secret, ciphertext = kem_private.public_key().encapsulate()
    secret = client.exchange(ciphertext + RFC7748_BOB_PUBLIC)
    assert secret == kem_secret + RFC7748_SHARED


def test_hybrid_server_side_order():
    """cryptography has no deterministic encapsulation, so check the server's layout and
    order against independent decapsulation and an independent X25519 exchange."""
    kem_private = MLKEM768PrivateKey.from_seed_bytes(MLKEM_SEED)
    client_share = hybrid_share(MLKEM_SEED, RFC7748_ALICE_PRIVATE).public_bytes()
    server_share, secret = groups.X25519MLKEM768.respond(client_share)

    ciphertext, server_x25519 = server_share[:1088], server_share[1088:]
    assert len(ciphertext) == 1088 and len(server_x25519) == 32
    assert secret[:32] == kem_private.decapsulate(ciphertext)
    assert secret[32:] == x25519_private(RFC7748_ALICE_PRIVATE).exchange(
        x25519.X25519PublicKey.from_public_bytes(server_x25519))
