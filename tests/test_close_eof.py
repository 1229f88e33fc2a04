"""Close and EOF at every state of a connection, in both roles, TLS 1.3 and 1.2, over
memory BIOs (SSLObject, over cyssl's MemoryBIO and over the stdlib's as asyncio passes
them) and loopback TCP (SSLSocket): the peer (the stdlib's ssl, or cyssl) ends the
transport, resets it, sends close_notify or a fatal alert at each state
(tests/close_scenarios.py lists them), and cyssl at our end must end exactly as the
stdlib ends at our end in the same scenario: the same return values, the same exception
classes with the same errno and reason, for the handshake, every read until the end, a
write after it and another handshake call. Data the peer sent before its close_notify
is all read, once."""
import itertools

import pytest

import close_scenarios as cs


def _scenarios():
    for transport, role, version, peer in itertools.product(
            cs.TRANSPORTS, ("client", "server"), (13, 12), ("stdlib", "cyssl")):
        for state, action in itertools.chain(
                itertools.product(cs.STATES, cs.ACTIONS[transport]),
                [("peer-rejects", "eof"), ("peer-rejects", "none")]):
            if not cs.feasible(transport, peer, role, version, state, action):
                continue
            suppress = (True, False) if transport == "socket" and state not in \
                cs.HANDSHAKE_STATES[:-1] else (True,)
            for suppress_ragged_eofs in suppress:
                case = (transport, role, version, peer, state, action)
                yield pytest.param(*case, suppress_ragged_eofs, id="-".join(
                    [transport, role, "tls1%d" % (version - 10), peer + "-peer", state, action]
                    + ([] if suppress_ragged_eofs else ["no-suppress"])))


@pytest.mark.parametrize("transport, role, version, peer, state, action, suppress_ragged_eofs",
                         list(_scenarios()))
def test_ends_as_the_stdlib_does(pki_files, transport, role, version, peer, state, action,
                                 suppress_ragged_eofs):
    args = (peer, transport, role, version, state, action, pki_files, suppress_ragged_eofs)
    expected = cs.play("stdlib", *args)
    actual = cs.play("cyssl", *args)
    assert actual == expected, "cyssl: %s\nstdlib: %s" % (actual, expected)
    if state == "after-close-notify":             # all of it, once, and nothing more
        assert actual.received == cs.digest(cs.PAYLOAD), actual
    elif state == "mid-record":                   # the whole record, not the half one
        assert actual.received == cs.digest(cs.PAYLOAD[:16384]), actual


@pytest.mark.parametrize("transport", ["bio", "socket"])
@pytest.mark.parametrize("role", ["client", "server"])
@pytest.mark.parametrize("version", [13, 12], ids=["tls13", "tls12"])
@pytest.mark.parametrize("peer", ["stdlib", "cyssl"])
def test_our_close_notify_first(pki_files, transport, role, version, peer):
    """unwrap() first, then write (PROTOCOL_IS_SHUTDOWN) and read (SSLWantReadError); the
    peer's close_notify completes the unwrap; then both closed: reads raise
    SSLZeroReturnError over a BIO (a socket is plain again)."""
    expected = cs.play_our_close("stdlib", peer, transport, role, version, pki_files)
    actual = cs.play_our_close("cyssl", peer, transport, role, version, pki_files)
    assert actual == expected
    assert actual[1] == ("SSLError", 1, "PROTOCOL_IS_SHUTDOWN")


def test_the_matrix_covers_every_state_and_action():
    covered = {(p.values[4], p.values[5]) for p in _scenarios()}
    for transport in ("bio", "socket"):
        for state in cs.STATES:
            assert any(s == state for s, _ in covered), state
        for action in cs.ACTIONS[transport]:
            assert any(a == action for _, a in covered), action
    assert len(covered) > 30
