"""Hostile resumption: tampered, foreign or replayed session tickets, wrong PSK binders,
and servers that pretend to resume -- for cyssl as client and as server, over TLS 1.3
and TLS 1.2 (TLS 1.2 has no binders; its equivalents are a tampered ticket and a forged
session ID). See hostile.py for the peers.

A ticket the server cannot use is not an error: the server falls back to a full
handshake (RFC 8446 4.2.11, RFC 5077 3.4). A binder that does not verify is
decrypt_error (RFC 8446 4.2.11); a malformed pre_shared_key is decode_error. A replayed
ClientHello cannot complete a handshake: the replayer lacks the keys."""
import pytest

from cyssl.tls.messages import ClientHello, OfferedPsks, ServerHello, frame
from cyssl.tls.tickets import TicketKeys
from hostile import (CERTIFICATE, CLIENT_HELLO, ENCRYPTED_EXTENSIONS, HANDSHAKE, SERVER_HELLO,
                     World, check, duel, expect_alert, expect_ok, ping, run, split_records)

EXT_PSK = 41
MAC = ("alert", "bad_record_mac", "DECRYPTION_FAILED_OR_BAD_RECORD_MAC")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return World(tmp_path_factory.mktemp("hostile-resumption"))


# cyssl as server: a hostile client with a real ticket from an earlier connection -------

def client_session(world, version):
    """The session a hostile client got from the cyssl server (its cached context)."""
    target, peer = duel(world, "server", version)
    expect_ok(run(target, peer, after_handshake=ping))
    assert peer.session is not None
    return peer.session


def resume(world, version, session, setup=None, mitm=None):
    """A second connection offering ``session``; returns (outcome, target)."""
    target, peer = duel(world, "server", version, setup, peer_session=session)
    return run(target, peer, after_handshake=ping, mitm=mitm), target


def psk_edit(change):
    """The ClientHello with its pre_shared_key extension replaced by change(OfferedPsks)."""
    def act(peer, raw):
        hello = ClientHello.parse(raw[4:])
        psks = OfferedPsks.parse(hello.extensions[EXT_PSK])
        data = change(psks)
        hello.extensions = [(t, data if t == EXT_PSK else hello.extensions[t])
                            for t in hello.extension_order]
        peer.put(hello.encode())
    return act


def encoded(identities, binders):
    ids = b"".join(len(i).to_bytes(2, "big") + i + age.to_bytes(4, "big") for i, age in identities)
    bins = b"".join(bytes([len(b)]) + b for b in binders)
    return len(ids).to_bytes(2, "big") + ids + len(bins).to_bytes(2, "big") + bins


def flipped(data):
    return data[:-1] + bytes([data[-1] ^ 1])


def test_resumption_works_both_versions(world):
    for version in ("1.3", "1.2"):
        session = client_session(world, version)
        outcome, target = resume(world, version, session)
        expect_ok(outcome)
        assert target.obj.session_reused, version


BINDER_CASES = [
    ("binder-flipped", lambda p: encoded(p.identities, [flipped(p.binders[0])]),
     ("alert", "decrypt_error", "BINDER_DOES_NOT_VERIFY")),
    ("binder-all-zero", lambda p: encoded(p.identities, [bytes(len(p.binders[0]))]),
     ("alert", "decrypt_error", "BINDER_DOES_NOT_VERIFY")),
    ("binder-too-short", lambda p: encoded(p.identities, [p.binders[0][:31]]),
     ("alert", "decode_error")),
    ("binder-missing", lambda p: encoded(p.identities, []), ("alert", "decode_error")),
    ("identity-missing", lambda p: encoded([], p.binders), ("alert", "decode_error")),
    ("binders-outnumber-identities", lambda p: encoded(p.identities, p.binders * 2),
     ("alert", "illegal_parameter")),
]


@pytest.mark.parametrize("name, change, expected", BINDER_CASES, ids=[c[0] for c in BINDER_CASES])
def test_wrong_psk_binder(world, name, change, expected):
    session = client_session(world, "1.3")
    outcome, _ = resume(world, "1.3", session, lambda p: p.edit(CLIENT_HELLO, psk_edit(change)))
    check(outcome, expected)


def test_binder_made_with_the_wrong_psk(world):
    session = client_session(world, "1.3")
    session.psk = bytes(len(session.psk))          # the client no longer holds the real PSK
    outcome, _ = resume(world, "1.3", session)
    expect_alert(outcome, "decrypt_error", "BINDER_DOES_NOT_VERIFY")


@pytest.mark.parametrize("version", ["1.3", "1.2"], ids=["tls1.3", "tls1.2"])
def test_tampered_ticket_means_a_full_handshake(world, version):
    session = client_session(world, version)
    session.ticket = flipped(session.ticket)       # the binder is made over what is sent
    if version == "1.2":
        session.session_id = b""                   # no fallback to the session-ID cache
    outcome, target = resume(world, version, session)
    expect_ok(outcome)
    assert not target.obj.session_reused


@pytest.mark.parametrize("version", ["1.3", "1.2"], ids=["tls1.3", "tls1.2"])
def test_ticket_of_another_server_means_a_full_handshake(world, version):
    session = client_session(world, version)
    other = world.server_context()                  # its own ticket keys
    target, peer = duel(world, "server", version, context=other, peer_session=session)
    expect_ok(run(target, peer, after_handshake=ping))
    assert not target.obj.session_reused


def test_ticket_age_far_off_means_a_full_handshake(world):
    session = client_session(world, "1.3")
    session.age_add = (session.age_add + 3600 * 1000) & 0xFFFFFFFF   # an hour out of tolerance
    outcome, target = resume(world, "1.3", session)
    expect_ok(outcome)
    assert not target.obj.session_reused


def test_forged_session_id_means_a_full_handshake(world):
    session = client_session(world, "1.2")
    session.ticket = None
    session.session_id = b"\x42" * 32
    outcome, target = resume(world, "1.2", session)
    expect_ok(outcome)
    assert not target.obj.session_reused


class Replayer:
    """Plays back what a client sent in an earlier connection, whatever it is told."""

    def __init__(self, flights):
        self.flights = list(flights)

    def receive(self, data):
        pass

    def flight(self):
        return self.flights.pop(0) if self.flights else b""


@pytest.mark.parametrize("version", ["1.3", "1.2"], ids=["tls1.3", "tls1.2"])
def test_replayed_resumption_cannot_complete(world, version):
    """An eavesdropper replays a whole resumed handshake of the client's: the server
    answers with fresh randoms and keys, so the replayed Finished fails."""
    from hostile import Target
    session = client_session(world, version)
    flights = []
    target, peer = duel(world, "server", version, peer_session=session)
    peer.tamper = lambda data: flights.append(data) or data
    expect_ok(run(target, peer, after_handshake=ping))
    assert target.obj.session_reused
    replay = Target(world.context("server"), True)
    outcome = run(replay, Replayer(flights), after_handshake=lambda peer: None)
    expect_alert(outcome, *MAC[1:])
    assert not outcome.completed


# cyssl as client: a server that pretends to resume ---------------------------------------

SHARED_TICKET_KEYS = TicketKeys()


def target_session(world, version):
    """The session the cyssl client got from a hostile server (shared ticket keys)."""
    target, peer = duel(world, "client", version, peer_settings={"ticket_keys": SHARED_TICKET_KEYS})
    expect_ok(run(target, peer, after_handshake=ping))
    session = target.obj.session
    assert session is not None
    return session


def resumed_against(world, version, setup, settings=None):
    session = target_session(world, version)
    settings = dict(settings or {"ticket_keys": SHARED_TICKET_KEYS})
    target, peer = duel(world, "client", version, setup, peer_settings=settings, session=session)
    return run(target, peer, after_handshake=ping), target


def sh_edit(**changes):
    def act(peer, raw):
        hello = ServerHello.parse(raw[4:])
        extensions = dict(hello.extensions)
        for key, value in changes.items():
            if isinstance(key, int) or key.isdigit():
                if value is None:
                    extensions.pop(int(key), None)
                else:
                    extensions[int(key)] = value
            else:
                setattr(hello, key, value)
        hello.extensions = list(extensions.items())
        peer.put(hello.encode())
    return act


def test_client_resumes_normally(world):
    for version in ("1.3", "1.2"):
        outcome, target = resumed_against(world, version, None)
        expect_ok(outcome)
        assert target.obj.session_reused, version


PRETENDING_SERVER_CASES = [
    # Selects a PSK identity that was never offered (RFC 8446 4.2.11: illegal_parameter).
    ("selects-psk-index-1", "1.3", lambda p: p.edit(SERVER_HELLO, sh_edit(**{"41": b"\x00\x01"})),
     None, ("alert", "illegal_parameter")),
    # Accepts the PSK and still authenticates with a certificate: not in a PSK handshake.
    ("certificate-after-psk", "1.3",
     lambda p: p.edit(ENCRYPTED_EXTENSIONS, lambda peer, raw: (
         peer.put(raw), peer.put(frame(CERTIFICATE, b"\x00\x00\x00\x00")))),
     None, ("alert", "unexpected_message", "UNEXPECTED_MESSAGE")),
    # A server without the ticket keys claims to resume: it cannot know the PSK, so the
    # keys differ and its first protected record fails.
    ("claims-psk-it-cannot-open", "1.3",
     lambda p: p.edit(SERVER_HELLO, sh_edit(**{"41": b"\x00\x00"})),
     {"ticket_keys": TicketKeys()}, MAC),
    # TLS 1.2: a server echoing the offered session ID (an abbreviated handshake), then
    # carrying on with a full one: a Certificate where CCS / ticket are due.
    ("echoes-session-id-then-full-handshake", "1.2", None, {"ticket_keys": TicketKeys()},
     ("alert", "unexpected_message", "UNEXPECTED_MESSAGE")),
]


@pytest.mark.parametrize("name, version, setup, settings, expected", PRETENDING_SERVER_CASES,
                         ids=[c[0] for c in PRETENDING_SERVER_CASES])
def test_server_pretending_to_resume(world, name, version, setup, settings, expected):
    if name == "echoes-session-id-then-full-handshake":
        session = target_session(world, version)
        offered = []

        def echo(peer, raw):
            hello = ServerHello.parse(raw[4:])
            hello.session_id = offered[0]
            hello.extensions = list(hello.extensions.items())
            peer.put(hello.encode())

        def grab(data):
            """What the client offers (its ClientHello's session ID)."""
            if data[0] == HANDSHAKE and data[5] == CLIENT_HELLO and not offered:
                _, record = split_records(data)[0]
                offered.append(ClientHello.parse(record[9:]).session_id)
            return data
        target, peer = duel(world, "client", version, lambda p: p.edit(SERVER_HELLO, echo),
                            peer_settings=settings, session=session)
        outcome = run(target, peer, after_handshake=ping, mitm=grab)
    else:
        outcome, _ = resumed_against(world, version, setup, settings)
    check(outcome, expected)
