"""Hostile records: truncated, oversized, zero-length, fragmented and interleaved records,
out-of-place change_cipher_spec, and handshake headers that announce too much -- for
cyssl as client and as server, over TLS 1.3 and TLS 1.2 (see hostile.py for the
peers). Every case ends in the alert RFC 8446 / RFC 5246 asks for, sent to the peer,
and the matching ssl exception; or, where the RFCs allow it, in a working connection."""

import pytest

from hostile import (ALERT, APPDATA, CCS, CLIENT_HELLO, ENCRYPTED_EXTENSIONS, FINISHED,
                     HANDSHAKE, NEW_SESSION_TICKET, SERVER_HELLO, Case, World, cases_for, check,
                     duel, expect_alert, ping, run_measured)
from reference_sealer import record_header as header5

BOUNDARY = "NOT_ON_RECORD_BOUNDARY"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return World(tmp_path_factory.mktemp("hostile-records"))


def first(role, version):
    """The first (plaintext) handshake message the target receives."""
    return SERVER_HELLO if role == "client" else CLIENT_HELLO


def protected(role, version):
    """The first protected handshake message the target receives."""
    return ENCRYPTED_EXTENSIONS if (role, version) == ("client", "1.3") else FINISHED


# Acts: each replaces one handshake message of the peer's honest flight ------------------

def before(*records):
    """Raw records (or callables putting them) first, then the message."""
    def act(peer, raw):
        for record in records:
            record(peer) if callable(record) else peer.put_wire(record)
        peer.put(raw)
    return act


def wire(data):
    def act(peer, raw):
        peer.put_wire(data(raw) if callable(data) else data)
    return act


def sealed(content_type, payload=None, padding=0, then_message=True):
    """A record sealed by hand under the peer's current key (payload: bytes or
    a function of the message)."""
    def act(peer, raw):
        body = payload(raw) if callable(payload) else payload
        peer.seal(content_type, body, padding)
        if then_message:
            peer.put(raw)
    return act


def split(middle=None, at=3):
    """The message in two records, ``middle(peer)`` putting records between them."""
    def act(peer, raw):
        peer.put(raw[:at], fragment=at)
        if middle is not None:
            middle(peer)
        peer.put(raw[at:])
    return act


def alert_record(level, description):
    return lambda peer: peer.put_record(ALERT, bytes([level, description]))


def spill(extra=b"\x18\x00"):
    """The message and the first bytes of another in the same record: a key change
    follows, and a handshake message may not span it (RFC 8446 5.1)."""
    def act(peer, raw):
        peer.put_record(HANDSHAKE, raw + extra)
    return act


def cut(keep):
    """The message's record cut after ``keep(length)`` bytes; the peer then goes quiet."""
    def act(peer, raw):
        record = header5(HANDSHAKE, len(raw)) + raw
        peer.put_wire(record[:keep(len(record))])
        peer.tamper = lambda data: b""          # nothing more comes
    return act


def shortened_protected(peer, raw):
    """The message's protected record with its length field one short."""
    peer.put_wire(b"")                          # what came before stays as it is
    peer.put(raw)
    data = bytearray(peer.records.take_outgoing())
    length = int.from_bytes(data[3:5], "big") - 1
    data[3:5] = length.to_bytes(2, "big")
    peer.put_wire(bytes(data))


RECORD_CASES = [
    # Oversized (RFC 8446 5.1, 5.2; RFC 5246 6.2.1-6.2.3): refused on the header alone.
    Case("plaintext-length-over-2^14", first, wire(header5(HANDSHAKE, 16385)),
         ("alert", "record_overflow", "PACKET_LENGTH_TOO_LONG")),
    Case("plaintext-record-of-2^14+1", first,
         wire(lambda raw: header5(HANDSHAKE, 16385) + (raw + bytes(16385))[:16385]),
         ("alert", "record_overflow", "PACKET_LENGTH_TOO_LONG")),
    Case("ciphertext-length-over-limit", protected,
         wire(lambda raw: header5(APPDATA, 16384 + 256 + 1)),
         {"1.3": ("alert", "record_overflow", "ENCRYPTED_LENGTH_TOO_LONG")}, versions=("1.3",)),
    Case("ciphertext-length-over-limit", protected,
         wire(lambda raw: header5(HANDSHAKE, 16384 + 2048 + 1)),
         ("alert", "record_overflow", "ENCRYPTED_LENGTH_TOO_LONG"), versions=("1.2",)),
    Case("protected-plaintext-of-2^14+1", protected,
         sealed(HANDSHAKE, lambda raw: (raw + bytes(16385))[:16385], then_message=False),
         ("alert", "record_overflow", "DATA_LENGTH_TOO_LONG")),
    Case("inner-plaintext-padded-over-2^14+1", protected,
         sealed(HANDSHAKE, lambda raw: raw, padding=16385, then_message=False),
         ("alert", "record_overflow", "DATA_LENGTH_TOO_LONG"), versions=("1.3",)),
    # Zero-length records (RFC 8446 5.1 / 5.4, RFC 5246 6.2.1).
    Case("empty-plaintext-handshake-record", first, before(header5(HANDSHAKE, 0)),
         ("alert", "unexpected_message", "BAD_LENGTH")),
    Case("empty-protected-handshake-record", protected, sealed(HANDSHAKE, b""),
         ("alert", "unexpected_message", "BAD_LENGTH")),
    Case("empty-plaintext-alert-record", first, before(header5(ALERT, 0)),
         ("alert", "unexpected_message", "BAD_LENGTH")),
    Case("empty-protected-alert-record", protected, sealed(ALERT, b""),
         ("alert", "unexpected_message", "BAD_LENGTH")),
    Case("one-byte-alert-record", first, before(header5(ALERT, 1) + b"\x02"),
         ("alert", "decode_error", "BAD_ALERT")),
    Case("empty-application-data-records-are-fine", None,
         lambda peer: [peer.put_record(APPDATA, b"") for _ in range(3)] + [ping(peer)], ("ok",)),
    Case("empty-padded-application-data-is-fine", None,
         lambda peer: (peer.seal(APPDATA, b"", padding=100), ping(peer)), ("ok",),
         versions=("1.3",)),
    Case("inner-plaintext-without-content-type", protected, sealed(None, bytes(40)),
         ("alert", "unexpected_message", "NO_CONTENT_TYPE"), versions=("1.3",)),
    Case("unknown-inner-content-type", protected, sealed(0x30, b"data"),
         ("alert", "unexpected_message", "BAD_RECORD_TYPE"), versions=("1.3",)),
    # Record headers that are not TLS.
    Case("unknown-record-type", first, before(header5(0x63, 2) + b"\x01\x00"),
         ("alert", "unexpected_message", "BAD_RECORD_TYPE")),
    Case("record-version-major-2", first, before(header5(HANDSHAKE, 4, 0x0203) + b"\x00" * 4),
         ("alert", "protocol_version", "WRONG_VERSION_NUMBER")),
    Case("plaintext-application-data-first", first, before(header5(APPDATA, 4) + b"data"),
         ("alert", "unexpected_message", "UNEXPECTED_RECORD")),
    Case("application-data-before-finished", protected, sealed(APPDATA, b"early"),
         ("alert", "unexpected_message", "UNEXPECTED_RECORD")),
    Case("plaintext-handshake-after-keys", protected,
         wire(lambda raw: header5(HANDSHAKE, len(raw)) + raw),
         {"1.3": ("alert", "unexpected_message", "UNEXPECTED_RECORD"),
          # TLS 1.2: after change_cipher_spec a record is opened whatever its header says
          "1.2": ("alert", "bad_record_mac", "DECRYPTION_FAILED_OR_BAD_RECORD_MAC")}),
    Case("protected-record-length-one-short", protected, shortened_protected,
         ("alert", "bad_record_mac", "DECRYPTION_FAILED_OR_BAD_RECORD_MAC")),
    # Truncation: a record or a message that never completes is waited for, then EOF.
    Case("record-cut-in-its-header", first, cut(lambda n: 3), ("eof",)),
    Case("record-cut-after-its-header", first, cut(lambda n: 5), ("eof",)),
    Case("record-cut-in-its-body", first, cut(lambda n: n // 2), ("eof",)),
    Case("record-missing-its-last-byte", first, cut(lambda n: n - 1), ("eof",)),
    Case("handshake-message-cut-short", first,
         lambda peer, raw: (peer.put(raw[:len(raw) // 2]), setattr(peer, "tamper", lambda d: b"")),
         ("eof",)),
    # Fragmentation (RFC 8446 5.1, RFC 5246 6.2.1): any split of the handshake stream is fine.
    Case("every-message-in-one-byte-records", first,
         lambda peer, raw: (setattr(peer, "every", lambda p, m: p.put(m, fragment=1)),
                            peer.put(raw, fragment=1)), ("ok",)),
    Case("every-message-in-seven-byte-records", first,
         lambda peer, raw: (setattr(peer, "every", lambda p, m: p.put(m, fragment=7)),
                            peer.put(raw, fragment=7)), ("ok",)),
    # Interleaving inside one handshake message.
    Case("warning-alert-between-fragments", protected, split(alert_record(1, 90)), ("ok",)),
    Case("fatal-alert-between-fragments", protected, split(alert_record(2, 40)),
         ("received", "handshake_failure")),
    Case("application-data-between-fragments", protected,
         split(lambda peer: peer.put_record(APPDATA, b"interleaved")),
         ("alert", "unexpected_message", "UNEXPECTED_RECORD")),
    # A key change in the middle of a handshake message (RFC 8446 5.1: unexpected_message).
    Case("message-spans-the-handshake-key-change", SERVER_HELLO, spill(b"\x08\x00"),
         ("alert", "unexpected_message", BOUNDARY), roles=("client",), versions=("1.3",)),
    Case("message-spans-the-application-key-change", FINISHED, spill(),
         ("alert", "unexpected_message", BOUNDARY), versions=("1.3",)),
    Case("message-spans-change-cipher-spec", lambda role, version:
         NEW_SESSION_TICKET if role == "client" else 16, spill(b"\x14\x00"),
         ("alert", "unexpected_message", BOUNDARY), versions=("1.2",)),
]


def ccs_first(payload=b"\x01"):
    return before(lambda peer: peer.put_ccs(payload))


def plain_finished(peer, raw):
    """The message in a plaintext record, whatever keys are set."""
    peer.put_wire(header5(HANDSHAKE, len(raw)) + raw)


def capped_client(world, version):
    return world.context("client", version)


CCS_CASES = [
    # RFC 8446 5: a CCS of 0x01 is dropped after the first ClientHello and before the
    # peer's Finished; before the ClientHello or after the Finished, any other value, or
    # protected, it is unexpected_message. RFC 5246 7.1: in TLS 1.2 it belongs right
    # before Finished, once.
    Case("ccs-before-client-hello", CLIENT_HELLO, ccs_first(),
         ("alert", "unexpected_message", "UNEXPECTED_CCS_MESSAGE"), roles=("server",)),
    Case("ccs-before-server-hello", SERVER_HELLO, ccs_first(),
         {"1.3": ("ok",), "1.2": ("alert", "unexpected_message", "UNEXPECTED_CCS_MESSAGE")},
         roles=("client",),
         settings={"client": {"middlebox_compatibility": False, "context": capped_client}}),
    Case("second-ccs-during-the-handshake", protected, ccs_first(), ("ok",), versions=("1.3",)),
    Case("ccs-not-0x01", protected, ccs_first(b"\x02"),
         ("alert", "unexpected_message", "BAD_CHANGE_CIPHER_SPEC"), versions=("1.3",)),
    Case("ccs-of-two-bytes", protected, ccs_first(b"\x01\x01"),
         ("alert", "unexpected_message", "BAD_CHANGE_CIPHER_SPEC"), versions=("1.3",)),
    Case("ccs-not-0x01", "ccs", lambda peer, raw: peer.put_ccs(b"\x02"),
         ("alert", "unexpected_message", "BAD_CHANGE_CIPHER_SPEC"), versions=("1.2",)),
    Case("finished-without-ccs", "ccs", lambda peer, raw: setattr(peer, "every", plain_finished),
         ("alert", "unexpected_message", "UNEXPECTED_MESSAGE"), versions=("1.2",)),
    Case("protected-ccs", protected, sealed(CCS, b"\x01"),
         ("alert", "unexpected_message", "UNEXPECTED_RECORD"), versions=("1.3",)),
    Case("ccs-after-the-handshake", None, lambda peer: (peer.put_ccs(), ping(peer)),
         {"1.3": ("alert", "unexpected_message", "UNEXPECTED_CCS_MESSAGE"),
          # TLS 1.2: under the new keys a plaintext record is opened, and fails
          "1.2": ("alert", "bad_record_mac", "DECRYPTION_FAILED_OR_BAD_RECORD_MAC")}),
    Case("protected-ccs-after-the-handshake", None,
         lambda peer: (peer.put_record(CCS, b"\x01"), ping(peer)),
         ("alert", "unexpected_message", "UNEXPECTED_CCS_MESSAGE"), versions=("1.2",)),
    Case("early-ccs-before-the-key-exchange", lambda role, version: 11 if role == "client" else 16,
         ccs_first(), ("alert", "unexpected_message", "UNEXPECTED_CCS_MESSAGE"),
         versions=("1.2",)),
    Case("second-ccs-before-finished", FINISHED, before(lambda peer: peer.put_record(CCS, b"\x01")),
         ("alert", "unexpected_message", "UNEXPECTED_CCS_MESSAGE"), versions=("1.2",)),
    Case("ccs-before-the-promised-new-session-ticket", NEW_SESSION_TICKET, ccs_first(),
         ("alert", "unexpected_message", "UNEXPECTED_CCS_MESSAGE"), roles=("client",),
         versions=("1.2",)),
]

# A close_notify in the middle of the handshake: the handshake can never complete.
CLOSE_CASES = [
    Case("close-notify-between-fragments", protected, split(alert_record(1, 0)), ("zero",)),
    Case("close-notify-instead-of-a-message", protected,
         lambda peer, raw: peer.put_record(ALERT, b"\x01\x00"), ("zero",)),
]

@pytest.mark.parametrize("case, role, version",
                         cases_for(RECORD_CASES + CCS_CASES + CLOSE_CASES))
def test_hostile_records(world, case, role, version):
    check(case.play(world, role, version), case.expectation(role, version))


def announce(length):
    """The message's header claims ``length`` bytes; 48 KiB of body follow in records."""
    def act(peer, raw):
        peer.put(bytes([raw[0]]) + length.to_bytes(3, "big") + bytes(48 * 1024), fragment=16384)
    return act


@pytest.mark.parametrize("length", [65537, 2**24 - 1], ids=["64KiB+1", "2^24-1"])
@pytest.mark.parametrize("where", [first, protected], ids=["plaintext", "protected"])
@pytest.mark.parametrize("version", ["1.3", "1.2"], ids=["tls1.3", "tls1.2"])
@pytest.mark.parametrize("role", ["client", "server"])
def test_announced_handshake_length_over_the_limit(world, role, version, where, length):
    """A handshake header announcing more than 64 KiB is refused on the header, before
    the body is buffered: decode_error, and far less memory than announced."""
    target, peer = duel(world, role, version,
                        lambda p: p.edit(where(role, version), announce(length)))
    outcome, peak = run_measured(target, peer, after_handshake=ping)
    expect_alert(outcome, "decode_error", "EXCESSIVE_MESSAGE_SIZE")
    assert peak < 1 << 20, peak
