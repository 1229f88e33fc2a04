"""Hostile peers for the negative tests (tests/test_hostile_*.py).

The *target* is always cyssl seen through its ssl face: an ``SSLObject`` over memory
BIOs, so every failure is the exception an application gets. The *peer* is either

* a ``HostilePeer``: a cyssl engine Connection that runs the honest handshake of its
  role but misbehaves on purpose. Every handshake message it sends passes through its
  ``edits`` (change, drop, repeat, split it over records, put other records around
  it; the edit sends whatever it likes), its records can be sealed by hand
  (``seal``: oversized or malformed plaintexts the record layer refuses to make), and
  every byte it puts on the wire can be rewritten by a ``tamper`` function; or
* the stdlib's ssl (OpenSSL) through ``StdlibPeer``: an independent peer, used where
  its honest behaviour is hostile enough (certificates, ALPN, versions).

``run()`` moves bytes until the target fails, completes (and, if asked, reads), or
stalls, and returns an ``Outcome``: the target's exception, the alert it put on the
wire (decoded; decrypted with the target's own keys when protected), what the peer
made of it, and how long it took. ``expect_alert`` and friends check an outcome.
"""
import ssl
import time
import tracemalloc
from pathlib import Path

import cyssl
import peers
import pki
from reference_sealer import Sealer
from terminator import byte_after
from peers import client_config, server_config, trust
from cyssl.tls import keyschedule
from cyssl.tls.client13 import ClientHandshake
from cyssl.tls.connection import Connection
from cyssl.tls.errors import TLSError, alert_code, received_alert_reason
from cyssl.tls.handshake12 import traffic_keys12
from cyssl.tls.messages import frame
from cyssl.tls.record import RecordProtection
from cyssl.tls.server13 import ServerHandshake

TLS13, TLS12 = 0x0304, 0x0303
VERSIONS = {"1.3": TLS13, "1.2": TLS12}
CCS, ALERT, HANDSHAKE, APPDATA = 20, 21, 22, 23
X25519, SECP256R1 = 0x001D, 0x0017
# Handshake message types.
CLIENT_HELLO, SERVER_HELLO, NEW_SESSION_TICKET, ENCRYPTED_EXTENSIONS = 1, 2, 4, 8
CERTIFICATE, SERVER_KEY_EXCHANGE, CERTIFICATE_REQUEST, SERVER_HELLO_DONE = 11, 12, 13, 14
CERTIFICATE_VERIFY, CLIENT_KEY_EXCHANGE, FINISHED, KEY_UPDATE = 15, 16, 20, 24
HELLO_REQUEST = 0


# --------------------------------------------------------------------- certificates

class World:
    """The certificates every hostile test uses, and the files the ssl face loads."""

    def __init__(self, directory):
        directory = Path(directory)
        self.directory = directory
        self.contexts = {}
        self.root = pki.CA.root()
        self.leaf = self.root.leaf(hosts=("localhost", "127.0.0.1"))
        self.client_leaf = self.root.leaf(hosts=("client.example",), client=True, server=False)
        self.certfile, self.keyfile = pki.write_chain(directory, self.leaf)
        (directory / "client").mkdir(exist_ok=True)
        self.client_certfile, self.client_keyfile = pki.write_chain(directory / "client",
                                                                    self.client_leaf)

    # cyssl contexts for the target ---------------------------------------------

    def context(self, role, version=None, **options):
        """A cached client_context / server_context: building one parses PEM files."""
        key = (role, version, tuple(sorted((k, repr(v)) for k, v in options.items())))
        if key not in self.contexts:
            make = self.client_context if role == "client" else self.server_context
            self.contexts[key] = make(version, **options)
        return self.contexts[key]

    def client_context(self, version=None, *, alpn=None, cert=False, small=True):
        """A cyssl client context trusting our root. ``version`` caps it ("1.2")."""
        ctx = cyssl.SSLContext(cyssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(cadata=self.root.cert_pem().decode())
        if version == "1.2":
            ctx.maximum_version = cyssl.TLSVersion.TLSv1_2
        if small:
            # A small ClientHello: one x25519 share, no ML-KEM. P-256 stays listed, or a
            # TLS 1.2 server could not use our P-256 certificate (RFC 8422 section 4);
            # set_ecdh_curve takes one curve, so the private list is set.
            ctx._groups = [X25519, SECP256R1]
            ctx._changed()
        if alpn:
            ctx.set_alpn_protocols(alpn)
        if cert:
            ctx.load_cert_chain(self.client_certfile, self.client_keyfile)
        return ctx

    def server_context(self, version=None, *, alpn=None, verify=None):
        """A cyssl server context with our leaf; ``verify`` "required"/"optional" asks
        for client certificates from our root."""
        ctx = cyssl.SSLContext(cyssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.certfile, self.keyfile)
        if version == "1.2":
            ctx.maximum_version = cyssl.TLSVersion.TLSv1_2
        if alpn:
            ctx.set_alpn_protocols(alpn)
        if verify:
            ctx.load_verify_locations(cadata=self.root.cert_pem().decode())
            ctx.verify_mode = cyssl.CERT_REQUIRED if verify == "required" else cyssl.CERT_OPTIONAL
        return ctx

    # engine configurations for the hostile peer --------------------------------

    def peer_server_config(self, version, **settings):
        settings.setdefault("versions", [VERSIONS[version]])
        settings.setdefault("groups", [X25519])
        return server_config(self.leaf, **settings)

    def peer_client_config(self, version, *, cert=False, **settings):
        settings.setdefault("versions", [VERSIONS[version]])
        # TLS 1.2 with an ECDSA P-256 server certificate needs P-256 listed (RFC 8422 5.1).
        settings.setdefault("groups", [X25519, SECP256R1])
        settings.setdefault("key_share_groups", [X25519])
        if cert:
            settings.update(credentials=[([self.client_leaf.der()], self.client_leaf.key)])
        return client_config(self.root, **settings)

    def trust(self):
        return trust(self.root)


# --------------------------------------------------------------------- the target

class Target:
    """cyssl's SSLObject over its own memory BIOs."""

    def __init__(self, context, server_side, server_hostname="localhost", session=None):
        self.incoming = cyssl.MemoryBIO()
        self.outgoing = cyssl.MemoryBIO()
        self.obj = context.wrap_bio(self.incoming, self.outgoing, server_side=server_side,
                                    server_hostname=None if server_side else server_hostname,
                                    session=session)
        self.server_side = server_side
        self.done = False
        self.data = b""
        self.read_size = 65536
        self.into_buffer = False    # read(n, buffer) instead of read(n)

    @property
    def conn(self):
        return self.obj.conn

    def step(self):
        """Advance: the handshake, then reading. Raises what the ssl face raises
        (SSLWantReadError when it needs more)."""
        if not self.done:
            self.obj.do_handshake()
            self.done = True
        while True:
            if self.into_buffer:
                buffer = bytearray(self.read_size)
                try:
                    chunk = bytes(buffer[:self.obj.read(len(buffer), buffer)])
                finally:
                    assert byte_after(buffer) == b"\0", "read() left the bytearray's NUL set"
            else:
                chunk = self.obj.read(self.read_size)
            if not chunk:
                return
            self.data += chunk


# --------------------------------------------------------------------- hostile engine peer

class HostilePeer(Connection):
    """A cyssl engine Connection that sends what its edits and tamper functions say.

    ``edit(msg_type, fn, nth=1)``: the nth handshake message of that type is handed to
    ``fn(peer, raw)`` instead of being sent; ``fn`` sends what it likes with ``put``
    (handshake bytes, in records of ``fragment`` bytes when given), ``put_record``,
    ``put_ccs``, ``put_wire`` (raw bytes) or ``seal`` (a record sealed by hand).
    ``tamper(data)``: rewrites everything the peer puts on the wire, per flight.
    """

    def __init__(self, config, server_side):
        self.every = None              # an edit for every message without its own
        self.ccs_edit = None           # fn(peer, b"\x01") in place of our next CCS
        self.edits = {}
        self.seen = {}
        self.tamper = None
        self.wire = bytearray()
        self.sent_messages = []

    def edit(self, msg_type, fn, nth=1):
        self.edits[(msg_type, nth)] = fn
        return self

    # sending ------------------------------------------------------------------

    def send_handshake(self, raw):
        raw = bytes(raw)
        msg_type = raw[0]
        self.seen[msg_type] = self.seen.get(msg_type, 0) + 1
        fn = self.edits.pop((msg_type, self.seen[msg_type]), None) or self.every
        if fn is None:
            self.put(raw)
        else:
            fn(self, raw)

    def send_change_cipher_spec(self):
        fn, self.ccs_edit = self.ccs_edit, None
        if fn is None:
            Connection.send_change_cipher_spec(self)
        else:
            fn(self, b"\x01")

    def put(self, raw, fragment=None):
        """Handshake bytes in records (of ``fragment`` bytes each when given)."""
        self.sent_messages.append(bytes(raw))
        if fragment is None:
            Connection.send_handshake(self, raw)
            return
        for i in range(0, len(raw), fragment):
            self.records.write(HANDSHAKE, raw[i:i + fragment])

    def put_record(self, content_type, payload):
        """One record through the peer's own record layer (protected when keys are set)."""
        self.records.write(content_type, payload)

    def put_ccs(self, payload=b"\x01"):
        """A plaintext change_cipher_spec record, whatever keys are set."""
        self.put_wire(bytes([CCS, 3, 3, 0, len(payload)]) + payload)

    def put_wire(self, data):
        """Raw bytes, in order with the records written before and after."""
        self.wire += self.records.take_outgoing()
        self.wire += data

    def seal(self, content_type, payload, padding=0, header_type=None, version=0x0303):
        """A protected record built by hand under the peer's current write key (any
        plaintext size, any TLS 1.3 padding or inner type); the peer's own writer moves
        on past it, so later records stay in sequence."""
        self.wire += self.records.take_outgoing()   # messages written so far go first
        suite, key, iv, sequence = write_keys(self)
        sealer = Sealer(suite, key, iv, sequence)
        if suite.tls13:
            inner = bytes(payload) + (bytes([content_type]) if content_type is not None else b"")
            record = sealer.seal_inner(inner + bytes(padding), header_type or APPDATA, version)
        else:
            record = sealer.seal(content_type, payload, version=version)
        self.put_wire(record)
        self.records.set_writer(RecordProtection(suite, key, iv, sequence + 1))

    def outgoing(self):
        self.wire += self.records.take_outgoing()
        data, self.wire = bytes(self.wire), bytearray()
        if self.tamper is not None and data:
            data = self.tamper(data)
        return data

    flight = outgoing                   # what ``run`` calls on any peer
    # acting after the handshake ------------------------------------------------

    def put_message(self, msg_type, body):
        """A handshake message of our making, sent as it is (no edit applies)."""
        self.put(frame(msg_type, body))


def hostile_server(config, setup=None):
    peer = HostilePeer(config, True)
    peer.handshake = ServerHandshake(peer)
    if setup is not None:
        setup(peer)
    return peer


def hostile_client(config, server_name="localhost", session=None, setup=None):
    """A hostile client; ``setup(peer)`` runs before the ClientHello is built, so its
    edits apply to it too."""
    peer = HostilePeer(config, False)
    peer.handshake = ClientHandshake(peer, server_name, session)
    if setup is not None:
        setup(peer)
    peer.handshake.start()
    return peer


def duel(world, role, version, setup=None, *, context=None, peer_settings=None,
         server_hostname="localhost", session=None, peer_session=None):
    """(target, peer): cyssl as ``role`` ("client" or "server") through its ssl face
    against a hostile cyssl engine that speaks only ``version`` ("1.3" or "1.2")."""
    peer_settings = dict(peer_settings or {})
    if role == "client":
        target = Target(context or world.context("client"), False, server_hostname, session)
        peer = hostile_server(world.peer_server_config(version, **peer_settings), setup)
    else:
        target = Target(context or world.context("server"), True)
        peer = hostile_client(world.peer_client_config(version, **peer_settings),
                              session=peer_session, setup=setup)
    return target, peer


def write_keys(conn):
    """(suite, key, iv, next sequence number) of ``conn``'s current write protection."""
    suite = conn.suite
    sequence = conn.records.writer.sequence
    if suite.tls13:
        key, iv = keyschedule.traffic_key_iv(suite.hash_name, conn.write_secret,
                                             suite.aead.key_length, suite.fixed_iv_length)
        return suite, key, iv, sequence
    machine = conn.handshake
    client_key, client_iv, server_key, server_iv = traffic_keys12(
        suite, machine.master_secret, conn.client_random, machine.server_random)
    if conn.server_side:
        return suite, server_key, server_iv, sequence
    return suite, client_key, client_iv, sequence


def split_records(data):
    """[(offset, record bytes)] of the whole records in ``data`` (a trailing part is
    returned as a last, short, entry)."""
    out = []
    i = 0
    while i < len(data):
        length = int.from_bytes(data[i + 3:i + 5], "big") if i + 5 <= len(data) else 0
        out.append((i, data[i:i + 5 + length]))
        i += 5 + length
    return out


# --------------------------------------------------------------------- the stdlib peer

class StdlibPeer(peers.StdlibPeer):
    """The stdlib's SSLObject (peers.StdlibPeer) as an independent peer for ``run``."""

    tamper = None

    def receive(self, data):
        self.incoming.write(data)
        self.step()
        if self.done:
            try:
                self.obj.read(65536)
            except ssl.SSLWantReadError:
                pass

    def flight(self):
        data = self.outgoing.read()
        if self.tamper is not None and data:
            data = self.tamper(data)
        return data


# --------------------------------------------------------------------- running a duel

class Outcome:
    """What happened to the target."""

    def __init__(self):
        self.error = None              # the ssl exception the target raised
        self.alert = None              # (level, description) the target sent last
        self.completed = False         # the target's handshake finished
        self.stalled = False           # nobody had anything more to say
        self.eof_error = None          # what the target raised at EOF after a stall
        self.peer_error = None         # what the peer raised on the target's bytes
        self.engine_error = None       # the target engine's TLSError behind ``error``
        self.last_sent = b""           # the target's last output before any failure
        self.data = b""                # application data the target read
        self.elapsed = 0.0

    def __repr__(self):
        return ("<Outcome error=%r alert=%r completed=%s stalled=%s eof=%r peer=%r data=%r %.3fs>"
                % (self.error, self.alert, self.completed, self.stalled, self.eof_error,
                   self.peer_error, self.data[:20], self.elapsed))


def run(target, peer, *, after_handshake=None, eof=True, rounds=100, time_limit=5.0, mitm=None):
    """Shuttle bytes between ``target`` and ``peer`` until the target fails or all rest.

    ``after_handshake(peer)`` runs once when the target's handshake is complete (the
    peer acts: sends data, a HelloRequest, a bad record...). At a stall with ``eof``
    the target's transport is closed and what it raises is kept as ``eof_error``.
    ``mitm(data)`` rewrites what the target sends before the peer sees it (a man in
    the middle; the target's own alert is decoded before it)."""
    outcome = Outcome()
    start = time.monotonic()
    acted = after_handshake is None
    for _ in range(rounds):
        moved = False
        try:
            target.step()
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLError as err:
            outcome.error = err
        outcome.completed = target.done
        out = target.outgoing.read()
        if out:
            moved = True
            if outcome.error is not None:
                outcome.alert = alert_sent(target, out)
            else:
                outcome.last_sent = out
            if mitm is not None:
                out = mitm(out)
            try:
                peer.receive(out)
            except (TLSError, ssl.SSLError) as err:
                if outcome.peer_error is None:
                    outcome.peer_error = err
        if outcome.error is not None:
            outcome.engine_error = target.conn.error if target.conn is not None else None
            break
        if target.done and not acted:
            acted = True
            after_handshake(peer)
        data = peer.flight()
        if data:
            moved = True
            target.incoming.write(data)
        if not moved:
            outcome.stalled = True
            break
    else:
        raise AssertionError("no end after %d rounds: %r" % (rounds, outcome))
    outcome.data = target.data
    if outcome.stalled and eof:
        target.incoming.write_eof()
        try:
            target.step()
        except ssl.SSLError as err:
            outcome.eof_error = err
    outcome.elapsed = time.monotonic() - start
    assert outcome.elapsed < time_limit, outcome
    return outcome


def run_measured(target, peer, **options):
    """``run`` under tracemalloc: (outcome, peak bytes allocated meanwhile)."""
    tracemalloc.start()
    try:
        outcome = run(target, peer, **options)
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def alert_sent(target, data):
    """(level, description) of the last record in ``data`` (what the target sent after
    failing), decrypting it with the target's own write key when it is protected."""
    records = split_records(data)
    if not records:
        return None
    record = records[-1][1]
    if record[0] == ALERT and len(record) == 7:
        return record[5], record[6]
    conn = target.conn
    if record[0] not in (ALERT, APPDATA) or conn.records.writer is None \
            or conn.records.writer.sequence == 0:
        return None                                  # not an alert (a CCS, a hello...)
    suite, key, iv, sequence = write_keys(conn)
    content_type, plain = Sealer(suite, key, iv, sequence - 1).open(record)
    if content_type != ALERT:
        return None
    assert len(plain) == 2, plain
    return plain[0], plain[1]


# --------------------------------------------------------------------- expectations

def expect_alert(outcome, alert, reason=None):
    """The target detected the failure: it raised an SSLError (no certificate error)
    with ``reason`` (one name or a set), and sent the fatal ``alert`` (a name)."""
    err = outcome.error
    assert err is not None, outcome
    assert isinstance(err, ssl.SSLError) and not isinstance(err, ssl.SSLCertVerificationError), outcome
    assert outcome.alert == (2, alert_code(alert)), outcome
    if reason is not None:
        reasons = {reason} if isinstance(reason, str) else set(reason)
        assert err.reason in reasons, outcome
    assert str(err).startswith("[SSL: %s]" % err.reason), err
    assert not outcome.completed or outcome.error is not None
    return err


def expect_received(outcome, alert):
    """The target got a fatal ``alert`` from the peer and raised OpenSSL's reason for it."""
    err = outcome.error
    assert err is not None and isinstance(err, ssl.SSLError), outcome
    assert err.reason == received_alert_reason(alert_code(alert)), outcome
    assert outcome.alert is None, outcome             # nothing said back
    return err


def expect_verify_failure(outcome, verify_code, alert):
    """A certificate verification failure: SSLCertVerificationError with OpenSSL's
    verify code, and the alert OpenSSL sends for it."""
    err = outcome.error
    assert isinstance(err, ssl.SSLCertVerificationError), outcome
    assert err.verify_code == verify_code and err.reason == "CERTIFICATE_VERIFY_FAILED", outcome
    assert outcome.alert == (2, alert_code(alert)), outcome
    return err


def assert_peer_saw(outcome, alert):
    """The stdlib peer (OpenSSL) reports the alert it received: its reason name, or for
    alerts its error table does not name, the text "... alert <name>"."""
    err = outcome.peer_error
    assert isinstance(err, ssl.SSLError), outcome
    assert err.reason == peer_reason(alert) or \
        "alert " + alert.replace("_", " ") in str(err).lower(), err


def peer_reason(alert):
    """The reason OpenSSL reports on receiving ``alert`` (e.g. TLSV1_ALERT_DECODE_ERROR)."""
    return received_alert_reason(alert_code(alert))


def expect_eof(outcome):
    """Nothing wrong yet, but the peer went quiet: the target waits (no alert, no
    handshake, no data) and, when the transport ends, raises SSLEOFError."""
    assert outcome.error is None and outcome.stalled and not outcome.completed, outcome
    assert isinstance(outcome.eof_error, ssl.SSLEOFError), outcome
    return outcome.eof_error


def expect_zero_return(outcome):
    """The peer closed (close_notify) before the handshake completed: the target gives
    up at once with SSLZeroReturnError, as OpenSSL does, without an alert."""
    assert isinstance(outcome.error, ssl.SSLZeroReturnError) and not outcome.stalled, outcome
    assert outcome.alert is None, outcome
    return outcome.error


def expect_ok(outcome, data=b"ping"):
    """The handshake completed and ``data`` from the peer was read."""
    assert outcome.error is None and outcome.completed, outcome
    assert outcome.data == data, outcome
    return outcome


def check(outcome, expected):
    """``expected``: ("alert", name[, reason(s)]) / ("received", name) / ("ok",) / ("eof",)."""
    kind = expected[0]
    if kind == "alert":
        return expect_alert(outcome, expected[1], expected[2] if len(expected) > 2 else None)
    if kind == "received":
        return expect_received(outcome, expected[1])
    if kind == "ok":
        return expect_ok(outcome)
    if kind == "eof":
        return expect_eof(outcome)
    if kind == "zero":
        return expect_zero_return(outcome)
    raise ValueError(expected)


def ping(peer):
    """The peer's first words after the handshake."""
    peer.send(b"ping")


def cases_for(cases, roles=("client", "server"), versions=("1.3", "1.2"), bugs=None):
    """pytest params (case, role, version) for every case and the roles and versions it
    applies to (``case.roles`` / ``case.versions`` narrow them); ``bugs`` maps
    (case id, role, version) -> reason for a strict xfail."""
    import pytest
    bugs = bugs or {}
    params = []
    for case in cases:
        combos = getattr(case, "combos", None) or [
            (role, version) for role in getattr(case, "roles", None) or roles
            for version in getattr(case, "versions", None) or versions]
        for role, version in combos:
            marks = ()
            reason = bugs.get((case.id, role, version))
            if reason is not None:
                marks = (pytest.mark.xfail(strict=True, reason="bug: " + reason),)
            params.append(pytest.param(case, role, version, marks=marks,
                                       id="%s-%s-tls%s" % (case.id, role, version)))
    return params


COMBOS = {"c13": ("client", "1.3"), "c12": ("client", "1.2"), "s13": ("server", "1.3"),
          "s12": ("server", "1.2")}


class Case:
    """One hostile behaviour: ``act(peer, raw)`` replaces the message chosen by ``at``
    (a message type, "ccs" for the peer's change_cipher_spec, or a function (role,
    version) -> either; None: after the handshake, when ``act(peer)`` runs instead); ``expected`` as for check(), or a dict keyed by
    version or (role, version)."""

    def __init__(self, id, at, act, expected, roles=None, versions=None, nth=1, settings=None,
                 combos=None, mitm=None):
        self.id = id
        self.combos = [COMBOS[c] for c in combos.split()] if isinstance(combos, str) else combos
        self.mitm = mitm
        self.at = at
        self.act = act
        self.expected = expected
        self.roles = roles
        self.versions = versions
        self.nth = nth
        self.settings = settings or {}

    def expectation(self, role, version):
        expected = self.expected
        if isinstance(expected, dict):
            expected = expected.get((role, version), expected.get(version, expected.get(role)))
        return expected

    def message(self, role, version):
        return self.at(role, version) if callable(self.at) else self.at

    def play(self, world, role, version, **duel_options):
        """Run the case; returns the Outcome."""
        after = ping
        setup = None
        if self.at is None:
            def after(peer):
                self.act(peer)
        else:
            msg_type, act, nth = self.message(role, version), self.act, self.nth

            def setup(peer):
                if msg_type == "ccs":
                    peer.ccs_edit = act
                else:
                    peer.edit(msg_type, act, nth)
        settings = dict(self.settings.get(role, {}))
        context = settings.pop("context", None)
        target, peer = duel(world, role, version, setup, peer_settings=settings,
                            context=context(world, version) if context else None, **duel_options)
        return run(target, peer, after_handshake=after, mitm=self.mitm)
