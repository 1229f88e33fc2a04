"""One flipped bit at every byte position of every record a hostile peer sends, for
cyssl as client and as server over TLS 1.3 and TLS 1.2: the whole handshake flight,
the session ticket and the first application data record.

What each flip must do:
* in the body of a protected record: bad_record_mac (RFC 8446 5.2, RFC 5246 6.2.3.3);
* in a record header: the type, unexpected_message (TLS 1.2: an AEAD failure when the
  new type is still a TLS content type, since the type is authenticated); the major
  version, protocol_version; the minor version, bad_record_mac where it is
  authenticated (TLS 1.3 AAD), protocol_version on a TLS 1.2 protected record, and
  nothing on a plaintext record (RFC 8446 5.1: legacy_record_version is ignored); the
  length, record_overflow past the limit, else bad_record_mac for a protected record
  (or a wait for bytes that never come);
* in a plaintext handshake record: whatever alert the damage calls for, never an
  internal_error, never a completed handshake (the transcript covers every byte).
In every failure the alert on the wire matches the ssl exception the target raised.
"""
import ssl

import pytest

from hostile import (APPDATA, CCS, World, alert_code, duel, expect_alert, expect_eof, expect_ok,
                     ping, run, split_records)

LIMITS = {"plain": 16384, "1.3": 16384 + 256, "1.2": 16384 + 2048}
ROLES_VERSIONS = [(role, version) for role in ("client", "server") for version in ("1.3", "1.2")]
PEER_SETTINGS = {"client": {"num_tickets": 1}, "server": {}}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return World(tmp_path_factory.mktemp("hostile-bitflips"))


_layouts = {}


def layout(world, role, version):
    """[(content type, length, protected)] of the records an honest peer sends the
    target, through the first application data record."""
    key = (role, version)
    if key not in _layouts:
        sent = []
        target, peer = duel(world, role, version, peer_settings=PEER_SETTINGS[role])
        peer.tamper = lambda data: sent.append(data) or data
        expect_ok(run(target, peer, after_handshake=ping))
        records, after_ccs = [], False
        for data in sent:
            for _, record in split_records(data):
                protected = record[0] == APPDATA if version == "1.3" else after_ccs
                records.append((record[0], len(record), protected))
                after_ccs = after_ccs or record[0] == CCS
        _layouts[key] = records
    return _layouts[key]


def flipper(index, position, bit):
    """A tamper function flipping ``bit`` of byte ``position`` of the index-th record
    (a negative position counts from the record's end: signatures vary in length)."""
    seen = [0]

    def tamper(data):
        out = bytearray()
        for _, record in split_records(data):
            record = bytearray(record)
            if seen[0] == index:
                record[position] ^= 1 << bit
            seen[0] += 1
            out += record
        return bytes(out)
    return tamper


def positions(length):
    """Every byte: the first half counted from the start, the rest from the end."""
    return [p if p < length // 2 else p - length for p in range(length)]


def expected(record_type, length, protected, version, position, bit):
    """The exact expectation, or None for "fails cleanly or waits" (plaintext damage)."""
    limit = LIMITS[version] if protected else LIMITS["plain"]
    if position == 0:
        new = record_type ^ (1 << bit)
        if protected and version == "1.2" and 20 <= new <= 23:
            return ("alert", "bad_record_mac", "DECRYPTION_FAILED_OR_BAD_RECORD_MAC")
        if protected or new not in (20, 21, 22):
            return ("alert", "unexpected_message", ("UNEXPECTED_RECORD", "BAD_RECORD_TYPE",
                                                    "BAD_CHANGE_CIPHER_SPEC"))
        return None
    if position == 1:
        return ("alert", "protocol_version", "WRONG_VERSION_NUMBER")
    if position == 2:
        if not protected:
            return ("ok",)
        if version == "1.3":
            return ("alert", "bad_record_mac", "DECRYPTION_FAILED_OR_BAD_RECORD_MAC")
        return ("alert", "protocol_version", "WRONG_VERSION_NUMBER")
    if position in (3, 4):
        body = length - 5
        new = body ^ (1 << (bit + (8 if position == 3 else 0)))
        if new > limit:
            return ("alert", "record_overflow", ("PACKET_LENGTH_TOO_LONG", "ENCRYPTED_LENGTH_TOO_LONG"))
        if protected and new < body:
            return ("alert", "bad_record_mac", "DECRYPTION_FAILED_OR_BAD_RECORD_MAC")
        return ("mac-or-wait",) if protected else None
    if protected:
        return ("alert", "bad_record_mac", "DECRYPTION_FAILED_OR_BAD_RECORD_MAC")
    return None


def fails_cleanly(outcome):
    """An ssl error, never internal_error; what the target detected itself went to the
    peer as the matching fatal alert; or, with nothing wrong yet, a wait then EOF."""
    if outcome.error is None:
        return expect_eof(outcome)
    err, engine = outcome.error, outcome.engine_error
    assert isinstance(err, ssl.SSLError) and err.reason != "INTERNAL_ERROR", outcome
    assert engine is not None and engine.alert != alert_code("internal_error"), outcome
    if not engine.received:
        assert outcome.alert == (2, engine.alert), outcome
    return err


def check_flip(outcome, expectation):
    if expectation is None:
        fails_cleanly(outcome)
        assert not outcome.completed or outcome.error is not None, outcome
    elif expectation[0] == "ok":
        expect_ok(outcome)
    elif expectation[0] == "mac-or-wait":
        if outcome.error is None:            # the record now ends beyond what was sent
            assert outcome.stalled and outcome.data == b"", outcome
            assert isinstance(outcome.eof_error, ssl.SSLEOFError), outcome
        else:
            expect_alert(outcome, "bad_record_mac", "DECRYPTION_FAILED_OR_BAD_RECORD_MAC")
    else:
        expect_alert(outcome, *expectation[1:])


def record_params():
    """One test per record of each flight (its index in the peer's stream)."""
    # A TLS 1.3 server's protected flight (EncryptedExtensions to Finished) is one record,
    # its two tickets another.
    counts = {("client", "1.3"): 5, ("client", "1.2"): 8, ("server", "1.3"): 4,
              ("server", "1.2"): 5}
    return [pytest.param(role, version, index, id="%s-tls%s-record%d" % (role, version, index))
            for role, version in ROLES_VERSIONS for index in range(counts[(role, version)])]


@pytest.mark.parametrize("role, version, index", record_params())
def test_every_byte_of_the_record_flipped(world, role, version, index):
    records = layout(world, role, version)
    assert index < len(records), records
    record_type, length, protected = records[index]
    failures = []
    for position in positions(length):
        bit = position % 8
        target, peer = duel(world, role, version, peer_settings=PEER_SETTINGS[role])
        peer.tamper = flipper(index, position, bit)
        outcome = run(target, peer, after_handshake=ping)
        expectation = expected(record_type, length, protected, version, position % length, bit)
        try:
            check_flip(outcome, expectation)
        except AssertionError as err:
            failures.append("byte %d bit %d: expected %s: %s" % (position % length, bit,
                                                                   expectation, err))
    assert not failures, "%d of %d flips:\n%s" % (len(failures), length, "\n".join(failures[:10]))
