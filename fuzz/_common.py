"""Shared machinery for cyssl's fuzz targets (see fuzz/README.md).

* ``main()`` runs a target under atheris (libFuzzer flags work: -runs, -max_total_time,
  -timeout, -rss_limit_mb, corpus directories, crash files to reproduce), or, when
  atheris is not installed (or CYSSL_FUZZ_NO_ATHERIS=1), as a plain mutation loop with
  the same flags, guided by the features below.
* The engine is compiled Cython, which atheris cannot instrument without a special
  build, so every target also reports *features* (handshake state transitions, the
  reason and message template of the TLSError that ended the run, record types, ...)
  through ``feature()``: each maps to one of FEATURE_SLOTS tiny instrumented Python
  functions, which gives libFuzzer a coverage signal for what happens inside the
  engine. The pure-Python parts of cyssl (crypto adapters, config, tickets,
  verification) are instrumented by atheris directly.
* The invariant every target checks: the only exception that may escape the engine is
  ``cyssl.tls.errors.TLSError`` -- and a TLSError(internal_error) caused by peer input
  is also a bug, because Connection.receive turns any other exception (IndexError,
  KeyError, ...) into exactly that. ``FuzzBug`` marks a violated invariant.
* Determinism: key generation, os.urandom in the handshake machines, ECDSA signatures
  and the clock are made deterministic, and a fixed PKI is built, so a seed recorded by
  make_seeds.py replays the same handshake in every process (the client target relies
  on it: its ClientHello, and so the server flight recorded for it, are the same).
"""
import contextlib
import os
import random
import re
import resource
import signal
import struct
import sys
import time
import traceback
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

try:
    if os.environ.get("CYSSL_FUZZ_NO_ATHERIS"):
        raise ImportError("disabled by CYSSL_FUZZ_NO_ATHERIS")
    import atheris
except ImportError:
    atheris = None


def _instrumented():
    if atheris is None:
        return contextlib.nullcontext()
    return atheris.instrument_imports(include=["cyssl"])


def _import_cyssl():
    """Import the engine, instrumenting cyssl's pure-Python modules under atheris.
    An installed cyssl (or PYTHONPATH=src) wins; otherwise the in-place build in src/."""
    try:
        import cyssl.tls.record  # noqa: F401  (probe only; no instrumentation needed)
    except ImportError:
        sys.path.insert(0, os.path.join(REPO, "src"))
        for name in [m for m in sys.modules if m == "cyssl" or m.startswith("cyssl.")]:
            del sys.modules[name]


_import_cyssl()
with _instrumented():
    import cyssl.crypto.aead  # noqa: F401
    import cyssl.crypto.certs  # noqa: F401
    import cyssl.crypto.groups as groups
    import cyssl.crypto.peercert  # noqa: F401
    import cyssl.crypto.signatures as signatures
    import cyssl.crypto.verify_errors  # noqa: F401
    import cyssl.tls.config as tlsconfig
    import cyssl.tls.tickets as tickets
    import cyssl.tls.verification  # noqa: F401
    # Re-exported for the targets (_common.messages, _common.record, ...).
    from cyssl.tls import client13, codec, handshake12, keyschedule, messages, \
        messages12, record, server12, server13  # noqa: F401
    from cyssl.tls.errors import TLSError
    from cyssl.tls.suites import BY_CODE  # noqa: F401

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# The reference sealer is shared with the hostile-peer tests.
sys.path.insert(0, os.path.join(REPO, "tests"))
from reference_sealer import Sealer, record_header  # noqa: E402,F401  (re-exported)

INTERNAL_ERROR = 80
# internal_error reasons that are not bugs when they follow peer input (none is
# reachable within a fuzz run; listed so that a future one is a conscious decision).
ALLOWED_INTERNAL_REASONS = frozenset(["SEQUENCE_NUMBER_EXHAUSTED", "KEY_USAGE_LIMIT_REACHED"])


class FuzzBug(AssertionError):
    """An invariant of the engine does not hold for this input."""


# Findings already reported can be waived while fuzzing on for new ones:
# CYSSL_FUZZ_KNOWN=inner-type,padding-limit (the names are those used with known(); for
# an exception that escaped the engine, ExceptionType@innermost_function).
KNOWN = frozenset(filter(None, os.environ.get("CYSSL_FUZZ_KNOWN", "").split(",")))


def known(name):
    return name in KNOWN


def exception_signature(exc):
    frames = traceback.extract_tb(exc.__traceback__)
    return "%s@%s" % (type(exc).__name__, frames[-1].name if frames else "?")


def waived(exc):
    """True for an exception of a kind already reported (CYSSL_FUZZ_KNOWN)."""
    return known(exception_signature(exc))


def check_tls_error(err, where):
    """A TLSError is the expected outcome of bad input, unless it is the engine's
    catch-all for its own bugs (internal_error wrapping another exception)."""
    if err.alert == INTERNAL_ERROR and not err.received:
        cause = err.__cause__
        if cause is not None and not isinstance(cause, TLSError):
            signature = exception_signature(cause)
            if known(signature):                 # e.g. UnsupportedAlgorithm@verify_peer_chain
                feature(where, "known", signature)
                return
            raise FuzzBug("%s: %s escaped as internal_error: %s: %s\n--- the engine's exception:\n%s"
                          % (where, type(cause).__name__, err, cause,
                             "".join(traceback.format_exception(cause)))) from cause
        if err.reason not in ALLOWED_INTERNAL_REASONS:
            raise FuzzBug("%s: internal_error for peer input: %s" % (where, err)) from err


# ---------------------------------------------------------------- features

FEATURE_SLOTS = 8192
_feature_funcs = None
_features_this_run = set()
REPORT = None            # a dict feature -> count while replaying with -cyssl_report=1


def _make_feature_funcs():
    source = "\n".join("def f%d():\n    pass" % i for i in range(FEATURE_SLOTS))
    namespace = {}
    exec(compile(source, "<cyssl-fuzz-features>", "exec"), namespace)
    funcs = [namespace["f%d" % i] for i in range(FEATURE_SLOTS)]
    if atheris is not None:
        funcs = [atheris.instrument_func(f) for f in funcs]
    return funcs


def begin_run():
    _features_this_run.clear()


def feature(*parts):
    """Tell the fuzzer that this run reached ``parts`` (strings, ints, tuples)."""
    key = "|".join(str(p) for p in parts)
    if key in _features_this_run:
        return
    _features_this_run.add(key)
    if REPORT is not None:
        REPORT[key] = REPORT.get(key, 0) + 1
    if _feature_funcs is not None:
        _feature_funcs[zlib.crc32(key.encode()) % FEATURE_SLOTS]()


_NUMBERS = re.compile(r"0x[0-9a-fA-F]+|\d+|'[^']*'|\"[^\"]*\"")


def error_feature(where, err):
    """The raise site of a TLSError, roughly: alert, reason and message template."""
    if err.received:                 # an alert from the peer: one feature per known alert
        from cyssl.tls.errors import ALERT_NAMES
        feature(where, "error", "received", err.alert if err.alert in ALERT_NAMES else "other")
        return
    template = _NUMBERS.sub("#", getattr(err, "message", str(err)))[:64]
    feature(where, "error", err.alert, err.reason, template)


def run_features():
    return set(_features_this_run)


# ---------------------------------------------------------------- determinism

class DeterministicRandom:
    """os.urandom for the handshake machines and the key generators. One stream per
    role, selected by whoever drives a connection (``use``), so that a client replays
    the same values whether or not a server ran in the same process."""

    def __init__(self):
        self.streams = {}
        self.rng = self._stream("client")

    def _stream(self, name):
        if name not in self.streams:
            self.streams[name] = random.Random(name)
        return self.streams[name]

    def use(self, name, seed=None):
        self.rng = self._stream(name)
        if seed is not None:
            self.rng.seed("%s/%s" % (name, seed))

    def reset(self, seed=0):
        self.rng.seed(seed)

    def urandom(self, n):
        return self.rng.getrandbits(8 * n).to_bytes(n, "big") if n else b""


DRANDOM = DeterministicRandom()


class _OsShim:
    """Stands in for ``os`` inside the handshake modules: only urandom differs."""

    def __getattr__(self, name):
        return getattr(os, name)

    @staticmethod
    def urandom(n):
        return DRANDOM.urandom(n)


_ORDER = {"secp256r1": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
          "secp384r1": int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF"
                           "581A0DB248B0A77AECEC196ACCC52973", 16)}


def make_deterministic():
    """Patch randomness (not the record layer's or AEADs'; those take no randomness)."""
    shim = _OsShim()
    for module in (client13, server13, server12, tickets):
        module.os = shim
    from cryptography.hazmat.primitives.asymmetric import mlkem

    def x25519_private(self):
        return x25519.X25519PrivateKey.from_private_bytes(DRANDOM.urandom(32))

    def ec_private(self):
        order = _ORDER[self.curve.name]
        value = 1 + int.from_bytes(DRANDOM.urandom(64), "big") % (order - 1)
        return ec.derive_private_key(value, self.curve)

    def hybrid_private(self):
        return mlkem.MLKEM768PrivateKey.from_seed_bytes(DRANDOM.urandom(64)), \
            self.classical._new_private()

    groups.X25519Group._new_private = x25519_private
    groups.ECGroup._new_private = ec_private
    groups.HybridMLKEMGroup._new_private = hybrid_private
    # ECDSA signatures by RFC 6979 (the rest of signing is deterministic already).
    import dataclasses
    for code, scheme in list(signatures.SCHEMES.items()):
        if scheme.key_family == "EC":
            signatures.SCHEMES[code] = dataclasses.replace(
                scheme, params=(ec.ECDSA(scheme.hash, deterministic_signing=True),))


FIXED_NOW = 1750000000.0


def fixed_clock():
    return FIXED_NOW


# ---------------------------------------------------------------- a fixed PKI

def _derived_ec(n, curve=None):
    return ec.derive_private_key(0xC755100 + n, curve or ec.SECP256R1())


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _build(subject, public_key, issuer_name, issuer_key, serial, extensions):
    import datetime
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name)
               .public_key(public_key).serial_number(serial)
               .not_valid_before(datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc))
               .not_valid_after(datetime.datetime(2099, 1, 1, tzinfo=datetime.timezone.utc)))
    for value, critical in extensions:
        builder = builder.add_extension(value, critical=critical)
    return builder.sign(issuer_key, hashes.SHA256(), ecdsa_deterministic=True)


def _leaf_extensions(key, issuer_key, hosts, eku):
    import ipaddress
    names = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                       data_encipherment=False, key_agreement=False, key_cert_sign=False,
                       crl_sign=False, encipher_only=False, decipher_only=False), True),
        (x509.ExtendedKeyUsage([eku]), False),
        (x509.SubjectAlternativeName(names), False),
        (x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False),
        (x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False),
    ]


class PKI:
    """Root (ECDSA P-256) -> server leaves (P-256 and Ed25519, for localhost) and a client
    leaf. Keys are derived from constants and ECDSA signatures are deterministic, so the
    DER is the same in every process."""

    def __init__(self):
        self.root_key = _derived_ec(1)
        root_ext = [
            (x509.BasicConstraints(ca=True, path_length=None), True),
            (x509.KeyUsage(digital_signature=False, content_commitment=False,
                           key_encipherment=False, data_encipherment=False, key_agreement=False,
                           key_cert_sign=True, crl_sign=True, encipher_only=False,
                           decipher_only=False), True),
            (x509.SubjectKeyIdentifier.from_public_key(self.root_key.public_key()), False),
        ]
        self.root = _build(_name("cyssl fuzz root"), self.root_key.public_key(),
                           _name("cyssl fuzz root"), self.root_key, 1, root_ext)
        self.server_key = _derived_ec(2)
        self.server = self._leaf(self.server_key, 2, ("localhost", "127.0.0.1"),
                                 ExtendedKeyUsageOID.SERVER_AUTH)
        self.ed_server_key = ed25519.Ed25519PrivateKey.from_private_bytes(b"\x2a" * 32)
        self.ed_server = self._leaf(self.ed_server_key, 3, ("localhost",),
                                    ExtendedKeyUsageOID.SERVER_AUTH)
        self.client_key = _derived_ec(4)
        self.client = self._leaf(self.client_key, 4, ("client.example",),
                                 ExtendedKeyUsageOID.CLIENT_AUTH)
        from cryptography.hazmat.primitives.serialization import Encoding
        der = lambda c: c.public_bytes(Encoding.DER)                     # noqa: E731
        self.root_der, self.server_der = der(self.root), der(self.server)
        self.ed_server_der, self.client_der = der(self.ed_server), der(self.client)
        self.root_pem = self.root.public_bytes(Encoding.PEM)

    def _leaf(self, key, serial, hosts, eku):
        return _build(_name(hosts[0]), key.public_key(), self.root.subject, self.root_key,
                      serial, _leaf_extensions(key, self.root_key, hosts, eku))

    def trust(self):
        from cyssl.crypto.certs import TrustStore
        store = TrustStore()
        store.add_pem(self.root_pem)
        return store


_pki = None


def pki():
    global _pki
    if _pki is None:
        _pki = PKI()
    return _pki


# ---------------------------------------------------------------- configurations

TLSConfig = tlsconfig.TLSConfig
VERIFY_NONE, VERIFY_OPTIONAL, VERIFY_REQUIRED = 0, 1, 2
NO_MLKEM = [0x001D, 0x0017, 0x0018]
_ticket_keys = None


def ticket_keys():
    """One TicketKeys for every server config, with deterministic keys and a fixed clock,
    so tickets sealed by make_seeds.py open in the fuzz process too."""
    global _ticket_keys
    if _ticket_keys is None:
        DRANDOM.use("ticket-keys", 0)
        _ticket_keys = tickets.TicketKeys(clock=fixed_clock)
    return _ticket_keys


_server_configs = None


def server_configs():
    """The server configurations a target's first input byte chooses from. Those
    without X25519MLKEM768 replay a recorded client flight exactly (ML-KEM
    encapsulation takes randomness we cannot fix)."""
    global _server_configs
    if _server_configs is not None:
        return _server_configs
    p = pki()
    base = dict(credentials=[([p.server_der], p.server_key)],
                ticket_keys=ticket_keys(), now=fixed_clock)
    auth = dict(trust_store=p.trust(), certificate_authorities=[p.root.subject.public_bytes()])
    _server_configs = [
        TLSConfig(**base),                                                    # 0 defaults
        TLSConfig(verify_mode=VERIFY_REQUIRED, groups=NO_MLKEM, **auth, **base),  # 1 client certs
        TLSConfig(verify_mode=VERIFY_OPTIONAL, alpn_protocols=[b"h2", b"http/1.1"],
                  record_size_limit=1024, groups=NO_MLKEM, **auth, **base),  # 2 ALPN, RSL
        TLSConfig(versions=[0x0303], verify_mode=VERIFY_OPTIONAL, **auth, **base),  # 3 TLS 1.2
        TLSConfig(credentials=[([p.ed_server_der], p.ed_server_key)],
                  ticket_keys=ticket_keys(), now=fixed_clock, server_preference=True,
                  groups=[0x0017, 0x001D], num_tickets=1),                   # 4 Ed25519, HRR
        TLSConfig(versions=[0x0304], middlebox_compatibility=False, num_tickets=0,
                  groups=NO_MLKEM, **base),                                  # 5 TLS 1.3 only
        TLSConfig(versions=[0x0303], require_extended_master_secret=False,
                  alpn_protocols=[b"http/1.1"], **auth, verify_mode=VERIFY_REQUIRED,
                  **base),                                                   # 6 TLS 1.2 certs
        TLSConfig(groups=NO_MLKEM, **base),                                  # 7 no ML-KEM
    ]
    _server_configs.append(TLSConfig(servername_callback=_servername_callback,
                                     groups=NO_MLKEM, **base))               # 8 SNI callback
    _server_configs.append(TLSConfig(
        credentials=[([p.server_der], p.server_key), ([p.ed_server_der], p.ed_server_key)],
        ticket_keys=ticket_keys(), now=fixed_clock, groups=NO_MLKEM))    # 9 two chains
    return _server_configs


def _servername_callback(conn, name):
    """Refuses names with an "x", moves "ed.example" to the Ed25519 config (as an
    SSLContext's sni_callback may switch contexts)."""
    if name and "x" in name and name != "ed.example":
        return 112                                  # unrecognized_name
    if name == "ed.example":
        conn.config = _server_configs[4]
    return None


def fresh_server_config(index):
    """A per-run copy: the TLS 1.2 session cache must not carry state between runs."""
    configs = server_configs()
    config = configs[index % len(configs)]
    if 0x0303 in config.versions:
        config = config.copy(session_cache=tickets.SessionCache(64))
    return config


_client_configs = None


def client_configs():
    """(config, session or None) pairs a target's first input byte chooses from."""
    global _client_configs
    if _client_configs is not None:
        return _client_configs
    p = pki()
    verify = dict(verify_mode=VERIFY_REQUIRED, check_hostname=True, trust_store=p.trust(),
                  now=fixed_clock)
    cert = dict(credentials=[([p.client_der], p.client_key)])
    configs = [
        TLSConfig(**verify),                                                 # 0 verifying
        TLSConfig(verify_mode=VERIFY_NONE, alpn_protocols=[b"h2", b"http/1.1"],
                  record_size_limit=512, now=fixed_clock),                   # 1 ALPN, RSL
        TLSConfig(post_handshake_auth=True, **cert, **verify),               # 2 client cert, PHA
        TLSConfig(versions=[0x0303], **cert, **verify),                      # 3 TLS 1.2 only
        TLSConfig(key_share_groups=[0x001D], groups=[0x0017, 0x001D], **verify),  # 4 HRR
        TLSConfig(versions=[0x0304], middlebox_compatibility=False, **verify),    # 5 1.3 only
        TLSConfig(versions=[0x0303], require_extended_master_secret=False, now=fixed_clock,
                  alpn_protocols=[b"http/1.1"]),                             # 6 TLS 1.2 relaxed
        TLSConfig(key_share_groups=[0x001D], groups=[0x001D], **verify),     # 7 resumes (1.3)
        TLSConfig(versions=[0x0303], **verify),                              # 8 resumes (1.2)
    ]
    _client_configs = [(c, None) for c in configs]
    # Sessions from a deterministic first handshake (the same in every process).
    for index, server_index in ((7, 7), (8, 3)):
        client = tapped_client(index)
        server = tapped_server(server_index)
        shuttle(client, server)
        _client_configs[index] = (configs[index], client.session)
    return _client_configs


from cyssl.tls.connection import Connection  # noqa: E402


class TapConnection(Connection):
    """A Connection that also keeps the plaintext handshake messages it sends, with the
    record protection epoch they went out under (for make_seeds.py)."""

    def __init__(self, *args):
        self.sent = []

    def send_handshake(self, raw):
        writer = self.records.writer
        self.sent.append((bytes(raw), None if writer is None else id(writer)))
        Connection.send_handshake(self, raw)


def tapped_client(index, seed=1, server_name="localhost", session=False):
    """A client Connection (a TapConnection) with its deterministic ClientHello sent.
    ``session``: False for the config's own session, None for none, or a session."""
    entries = client_configs()
    config, own_session = entries[index % len(entries)]
    if session is False:
        session = own_session
    DRANDOM.use("client", seed)
    conn = TapConnection(config, False)
    conn.handshake = client13.ClientHandshake(conn, server_name, session)
    conn.handshake.start()
    return conn


def tapped_server(index, seed=2):
    DRANDOM.use("server", seed)
    conn = TapConnection(fresh_server_config(index), True)
    conn.handshake = server13.ServerHandshake(conn)
    return conn


def new_client(index, seed=1):
    return tapped_client(index, seed)


def new_server(index, seed=2):
    return tapped_server(index, seed)


def drive(conn, role, data):
    """conn.receive(data) with the role's random stream selected."""
    DRANDOM.use(role)
    conn.receive(data)


def shuttle(client, server, rounds=40, log=None):
    """Move bytes between two engines until both rest; ``log`` collects
    (sender, bytes). Exceptions propagate."""
    for _ in range(rounds):
        moved = False
        for src, dst, name, other in ((client, server, "client", "server"),
                                      (server, client, "server", "client")):
            data = src.outgoing()
            if data:
                if log is not None:
                    log.append((name, data))
                drive(dst, other, data)
                moved = True
        if not moved:
            return
    raise RuntimeError("engines never came to rest")


# ---------------------------------------------------------------- state snapshots

def snapshot(conn):
    """A small tuple that says where a connection is (for features)."""
    machine = conn.handshake
    return (type(machine).__name__, getattr(machine, "state", None), conn.version,
            bool(conn.handshake_complete), conn.records.reader is not None,
            conn.records.writer is not None)


def left_error(conn, data_read, where):
    """The error a receive() that returned left in ``conn.error``, or None. It may do so
    only for a failure after application data in the same call (the data is read first,
    the error comes with the next call): ``data_read`` is what was read after that call."""
    err = conn.error
    if err is None:
        return None
    if not data_read:
        raise FuzzBug("%s: the connection failed without raising, and no data came before: %r"
                      % (where, err))
    check_tls_error(err, where)
    check_failed_connection(conn, err, where)
    return err


def check_failed_connection(conn, err, where):
    """After a TLSError the connection stays failed: the same error again, no crash."""
    for probe in (b"", b"\x16\x03\x03\x00\x01\x00"):
        try:
            conn.receive(probe)
        except TLSError as again:
            if again is not err:
                raise FuzzBug("%s: a failed connection raised a different error: %r then %r"
                              % (where, err, again))
        else:
            raise FuzzBug("%s: a failed connection accepted more data after %r" % (where, err))
    conn.outgoing()                 # must not raise
    conn.read()


# ---------------------------------------------------------------- op streams

def encode_ops(ops):
    """[(op, data)] -> bytes: op (1 byte), length (2 bytes), data."""
    out = bytearray()
    for op, data in ops:
        data = bytes(data)[:0xFFFF]
        out += struct.pack(">BH", op & 0xFF, len(data)) + data
    return bytes(out)


def decode_ops(blob):
    """The inverse, lenient: a truncated last op keeps what is there."""
    ops = []
    i = 0
    n = len(blob)
    while i < n:
        op = blob[i]
        if i + 3 > n:
            ops.append((op, bytes(blob[i + 1:])))
            break
        length = (blob[i + 1] << 8) | blob[i + 2]
        ops.append((op, bytes(blob[i + 3:i + 3 + length])))
        i += 3 + length
    return ops


# ---------------------------------------------------------------- TLS wire helpers

def handshake_message(msg_type, body):
    return bytes([msg_type]) + len(body).to_bytes(3, "big") + body


def split_records(stream):
    """Lenient: [(header bytes, payload)] and a trailing remainder."""
    records = []
    i = 0
    while i + 5 <= len(stream):
        length = (stream[i + 3] << 8) | stream[i + 4]
        if i + 5 + length > len(stream):
            break
        records.append((stream[i:i + 5], stream[i + 5:i + 5 + length]))
        i += 5 + length
    return records, stream[i:]


def join_records(records, rest=b""):
    out = bytearray()
    for header, payload in records:
        out += header[:3] + len(payload).to_bytes(2, "big") + payload
    return bytes(out) + rest


def split_messages(payload):
    """Lenient split of a handshake byte string: [(type, body)], remainder."""
    messages_ = []
    i = 0
    while i + 4 <= len(payload):
        length = int.from_bytes(payload[i + 1:i + 4], "big")
        if i + 4 + length > len(payload):
            break
        messages_.append((payload[i], payload[i + 4:i + 4 + length]))
        i += 4 + length
    return messages_, payload[i:]


def tls13_sealer(suite, secret, sequence=0):
    key, iv = keyschedule.traffic_key_iv(suite.hash_name, secret, suite.aead.key_length,
                                         suite.fixed_iv_length)
    return Sealer(suite, key, iv, sequence)


def feed_stream(conn, config, role, index, stream, pattern, receive):
    """Feed a target connection ``stream`` cut as ``pattern`` says, through ``receive``,
    reporting state changes as features and checking the invariants; returns
    (outcome, the TLSError that ended it or None). The outcome must not depend on the
    chunking (stream_target compares)."""
    prev = snapshot(conn)
    err = None
    for piece in chunks(stream, pattern):
        try:
            receive(piece)
        except TLSError as exc:
            err = exc
            check_tls_error(err, role)
            check_failed_connection(conn, err, role)
            break
        finally:
            conn.outgoing()
        snap = snapshot(conn)
        if snap != prev:
            feature(role, index, prev, snap)
            prev = snap
        data_read = conn.read()
        if data_read:
            feature(role, "app data", conn.version)
        err = left_error(conn, data_read, role)
        if err is not None:
            break
    check_established(conn, config, role)
    if role == "client" and conn.session is not None:
        feature("client", "session", type(conn.session).__name__)
    outcome = (None if err is None else (err.alert, err.reason, err.received),
               conn.handshake_complete, snapshot(conn))
    return outcome, err


def stream_target(role, configs, run):
    """libFuzzer's TestOneInput for a whole-connection target: the first byte picks one of
    ``configs()``, the second a chunking pattern, the rest is the peer's byte stream. The
    outcome must not depend on the chunking: a chunked run is checked against a whole one."""
    def test_one_input(data):
        if len(data) < 2:
            return
        index = data[0] % len(configs())
        pattern = data[1] & 7
        stream = bytes(data[2:])
        outcome, err = run(index, stream, pattern)
        if err is not None:
            error_feature("%s/%d" % (role, index), err)
        if pattern:
            whole, _ = run(index, stream, 0)
            if whole != outcome:
                raise FuzzBug("outcome depends on chunking: %r (pattern %d) vs %r (whole)"
                              % (outcome, pattern, whole))
    return test_one_input


# ---------------------------------------------------------------- byte-level mutation

_INTERESTING = [b"\x00", b"\x01", b"\x02", b"\x03", b"\x04", b"\x7f", b"\x80", b"\xff",
                b"\x00\x00", b"\xff\xff", b"\x03\x03", b"\x03\x04", b"\x40\x00", b"\x40\x01",
                b"\x00\x00\x00", b"\x01\x00\x00", b"\xff\xff\xff", b"\x16\x03\x03", b"\x17\x03\x03"]


def fallback_mutate(data, max_size, rng, pool=()):
    """A small libFuzzer-like byte mutator for runs without atheris."""
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        choice = rng.randrange(9)
        if choice == 0 and data:
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        elif choice == 1 and data:
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif choice == 2:
            i = rng.randrange(len(data) + 1)
            data[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif choice == 3 and data:
            i = rng.randrange(len(data))
            del data[i:i + rng.randint(1, 16)]
        elif choice == 4 and data:
            i = rng.randrange(len(data))
            j = min(len(data), i + rng.randint(1, 32))
            k = rng.randrange(len(data) + 1)
            data[k:k] = data[i:j]
        elif choice == 5 and data:
            value = rng.choice(_INTERESTING)
            i = rng.randrange(len(data))
            data[i:i + len(value)] = value
        elif choice == 6 and len(data) >= 2:
            i = rng.randrange(len(data) - 1)
            v = (int.from_bytes(data[i:i + 2], "big") + rng.randint(-4, 4)) & 0xFFFF
            data[i:i + 2] = v.to_bytes(2, "big")
        elif choice == 7 and pool:
            other = rng.choice(pool)
            if other:
                i = rng.randrange(len(other))
                piece = other[i:i + rng.randint(1, 64)]
                k = rng.randrange(len(data) + 1)
                data[k:k] = piece
        elif choice == 8 and data:
            del data[rng.randrange(len(data)):]
    return bytes(data[:max_size])


_fallback_rng = random.Random()
_fallback_pool = []


def byte_mutate(data, max_size, seed=None):
    """atheris.Mutate when available, else the fallback."""
    if atheris is not None:
        return atheris.Mutate(data, max_size)
    return fallback_mutate(data, max_size, _fallback_rng, _fallback_pool)


# ---------------------------------------------------------------- TLS-aware mutations

def _vec(width, data):
    return len(data).to_bytes(width, "big") + data


def parse_hello(body, client):
    """Lenient split of a ClientHello/ServerHello body into its fields and extension list,
    or None. Returns (prefix fields bytes, [(type, body)], trailing bytes)."""
    try:
        i = 2 + 32
        sid = body[i]
        i += 1 + sid
        if client:
            n = int.from_bytes(body[i:i + 2], "big")
            i += 2 + n
            n = body[i]
            i += 1 + n
        else:
            i += 3
        if i > len(body):
            return None
        prefix = body[:i]
        if i == len(body):
            return prefix, [], b""
        total = int.from_bytes(body[i:i + 2], "big")
        block = body[i + 2:i + 2 + total]
        rest = body[i + 2 + total:]
        exts = []
        j = 0
        while j + 4 <= len(block):
            t = int.from_bytes(block[j:j + 2], "big")
            n = int.from_bytes(block[j + 2:j + 4], "big")
            exts.append((t, block[j + 4:j + 4 + n]))
            j += 4 + n
        return prefix, exts, rest
    except IndexError:
        return None


def build_hello(prefix, exts, rest=b""):
    block = b"".join(t.to_bytes(2, "big") + _vec(2, b) for t, b in exts)
    return prefix + _vec(2, block) + rest


def parse_extension_block(body, offset=0):
    """For EncryptedExtensions / CertificateRequest / NewSessionTicket bodies: the
    extension list that starts at ``offset``; None if it does not split."""
    try:
        total = int.from_bytes(body[offset:offset + 2], "big")
        block = body[offset + 2:offset + 2 + total]
        exts, j = [], 0
        while j + 4 <= len(block):
            t = int.from_bytes(block[j:j + 2], "big")
            n = int.from_bytes(block[j + 2:j + 4], "big")
            exts.append((t, block[j + 4:j + 4 + n]))
            j += 4 + n
        return exts
    except IndexError:
        return None


def _u16s(*values):
    return b"".join(v.to_bytes(2, "big") for v in values)


# Extension bodies worth trying (the mutator also splices in what seeds carry).
EXTENSION_DICTIONARY = {
    0: [b"", _vec(2, b"\x00" + _vec(2, b"localhost")), _vec(2, b"\x00" + _vec(2, b"a\x00b")),
        _vec(2, b"\x00" + _vec(2, b"\xff\xfe")), _vec(2, b"\x01" + _vec(2, b"x")),
        _vec(2, b"\x00" + _vec(2, b"a") + b"\x00" + _vec(2, b"b"))],
    10: [_vec(2, _u16s(0x001D)), _vec(2, _u16s(0x11EC, 0x001D, 0x0017, 0x0018)),
         _vec(2, _u16s(0x0019)), _vec(2, b""), _vec(2, b"\x00"), _vec(2, _u16s(0x0017))],
    11: [b"\x01\x00", b"\x00", b"\x01\x01", b"\x02\x01\x00"],
    13: [_vec(2, _u16s(0x0403)), _vec(2, _u16s(0x0807, 0x0804, 0x0401)), _vec(2, _u16s(0x0201)),
         _vec(2, b"")],
    16: [_vec(2, _vec(1, b"h2") + _vec(1, b"http/1.1")), _vec(2, _vec(1, b"x")),
         _vec(2, _vec(1, b"")), _vec(2, b"")],
    22: [b""], 23: [b"", b"\x00"], 35: [b"", b"\x00" * 60],
    28: [b"\x00\x40", b"\x00\x3f", b"\x40\x01", b"\xff\xff", b"\x00"],
    41: [_vec(2, _vec(2, b"id") + b"\x00\x00\x00\x00") + _vec(2, _vec(1, b"\x00" * 32)),
         _vec(2, _vec(2, b"id") + b"\x00\x00\x00\x00" + _vec(2, b"id2") + b"\x00" * 4)
         + _vec(2, _vec(1, b"\x00" * 32)), b"\x00\x00", b"\x00\x00\x00\x00"],
    42: [b"", b"\x00\x00\x40\x00"],
    43: [_vec(1, _u16s(0x0304)), _vec(1, _u16s(0x0304, 0x0303)), _vec(1, _u16s(0x0303)),
         _vec(1, _u16s(0x7F1C)), b"\x03\x04", b"\x03\x03", _vec(1, b"")],
    44: [_vec(2, b"\x00" * 32), _vec(2, b"")],
    45: [b"\x01\x01", b"\x01\x00", b"\x02\x00\x01", b"\x00"],
    47: [_vec(2, _vec(2, b"\x30\x00")), _vec(2, b"")],
    48: [b""], 49: [b"", b"\x00"],
    50: [_vec(2, _u16s(0x0403))],
    51: [_vec(2, _u16s(0x001D) + _vec(2, b"\x09" * 32)),
         _vec(2, _u16s(0x0017) + _vec(2, b"\x04" + b"\x01" * 64)),
         _vec(2, _u16s(0x001D) + _vec(2, b"\x00" * 32)), _vec(2, b""),
         _vec(2, _u16s(0x11EC) + _vec(2, b"\x00" * 1216)), _u16s(0x001D), _u16s(0x0017),
         _u16s(0x001D) + _vec(2, b"\x09" * 32)],
    0xFF01: [b"\x00", b"", b"\x01\x00"],
}


def mutate_extensions(exts, max_size, rng):
    """One structure-aware change to an extension list."""
    exts = list(exts)
    choice = rng.randrange(7)
    if choice == 0 and exts:                                # mutate one body
        i = rng.randrange(len(exts))
        t, b = exts[i]
        exts[i] = (t, byte_mutate(b, max(len(b) * 2, 64)))
    elif choice == 1:                                       # dictionary body
        t = rng.choice(list(EXTENSION_DICTIONARY))
        body = rng.choice(EXTENSION_DICTIONARY[t])
        idx = [i for i, (tt, _) in enumerate(exts) if tt == t]
        if idx and rng.randrange(4):
            exts[idx[0]] = (t, body)
        else:
            exts.insert(rng.randrange(len(exts) + 1), (t, body))
    elif choice == 2 and exts:                              # drop one
        del exts[rng.randrange(len(exts))]
    elif choice == 3 and exts:                              # duplicate one
        i = rng.randrange(len(exts))
        exts.insert(rng.randrange(len(exts) + 1), exts[i])
    elif choice == 4 and len(exts) > 1:                     # reorder
        i, j = rng.randrange(len(exts)), rng.randrange(len(exts))
        exts[i], exts[j] = exts[j], exts[i]
    elif choice == 5 and exts:                              # change a type
        i = rng.randrange(len(exts))
        t = rng.choice(list(EXTENSION_DICTIONARY) + [rng.randrange(65536)])
        exts[i] = (t, exts[i][1])
    elif choice == 6 and exts:                              # truncate a body
        i = rng.randrange(len(exts))
        t, b = exts[i]
        exts[i] = (t, b[:rng.randrange(len(b) + 1)])
    return exts


def mutate_handshake_body(msg_type, body, max_size, rng):
    """A TLS-aware mutation of one handshake message body (lengths kept consistent where
    the structure is understood), else a byte-level one."""
    if rng.randrange(3) == 0:
        return byte_mutate(body, max_size)
    if msg_type in (1, 2):
        parsed = parse_hello(body, msg_type == 1)
        if parsed is not None:
            prefix, exts, rest = parsed
            if rng.randrange(4) == 0:
                # a field of the fixed part: version, random, session id, suites
                prefix = byte_mutate(prefix, len(prefix) + 8)
            else:
                exts = mutate_extensions(exts, max_size, rng)
            return build_hello(prefix, exts, rest)[:max_size]
    offset = {8: 0, 13: None, 4: None}.get(msg_type, -1)
    if msg_type == 13 and body:                             # CertificateRequest (1.3)
        offset = 1 + body[0]
    if msg_type == 4 and len(body) >= 9:                    # NewSessionTicket (1.3)
        try:
            i = 8 + 1 + body[8]
            i += 2 + int.from_bytes(body[i:i + 2], "big")
            offset = i
        except IndexError:
            offset = -1
    if offset is not None and offset >= 0:
        exts = parse_extension_block(body, offset)
        if exts is not None:
            exts = mutate_extensions(exts, max_size, rng)
            block = b"".join(t.to_bytes(2, "big") + _vec(2, b) for t, b in exts)
            return (body[:offset] + _vec(2, block))[:max_size]
    if msg_type == 11 and rng.randrange(2):                 # Certificate: mutate inside a cert
        return _mutate_certificate_message(body, max_size, rng)
    return byte_mutate(body, max_size)


def _mutate_certificate_message(body, max_size, rng):
    """Flip bytes inside the DER of one certificate (lengths untouched), keeping the
    TLS 1.3 or 1.2 framing around it valid."""
    data = bytearray(body)
    # Find certificates by their DER SEQUENCE start: 0x30 0x82 len len.
    starts = [i for i in range(len(data) - 4) if data[i] == 0x30 and data[i + 1] == 0x82]
    if not starts:
        return byte_mutate(body, max_size)
    start = rng.choice(starts)
    length = int.from_bytes(data[start + 2:start + 4], "big")
    end = min(len(data), start + 4 + length)
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(start, end)
        data[i] = rng.randrange(256) if rng.randrange(2) else data[i] ^ (1 << rng.randrange(8))
    return bytes(data)


# ---------------------------------------------------------------- raw streams

def chunks(stream, pattern):
    """Deliveries of ``stream``: 0 whole, 1 byte by byte (short streams), 2/3 fixed
    sizes, 4 pseudo-random sizes, 5 halves, 6 a 3-byte head, 7 all but the last byte."""
    if pattern == 0 or not stream:
        return [stream]
    if pattern == 1:
        if len(stream) > 2048:
            return [stream[i:i + 13] for i in range(0, len(stream), 13)]
        return [stream[i:i + 1] for i in range(len(stream))]
    if pattern in (2, 3):
        size = 5 if pattern == 2 else 100
        return [stream[i:i + size] for i in range(0, len(stream), size)]
    if pattern == 4:
        out, i, x = [], 0, len(stream) | 1
        while i < len(stream):
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF
            step = 1 + x % 300
            out.append(stream[i:i + step])
            i += step
        return out
    if pattern == 5:
        half = len(stream) // 2
        return [stream[:half], stream[half:]]
    if pattern == 6:
        return [stream[:3], stream[3:]]
    return [stream[:-1], stream[-1:]]


_RECORD_DICTIONARY = [
    record_header(21, 2) + b"\x02\x28", record_header(21, 2) + b"\x01\x00",
    record_header(21, 2) + b"\x01\x5a", record_header(21, 2) + b"\x01\x64",
    record_header(21, 1) + b"\x02", record_header(20, 1) + b"\x01", record_header(20, 1) + b"\x02",
    record_header(23, 5) + b"hello", record_header(23, 0), record_header(22, 0),
    record_header(22, 4) + b"\x00\x00\x00\x00", record_header(22, 4) + b"\x0e\x00\x00\x00",
    record_header(22, 5) + b"\x18\x00\x00\x01\x01", record_header(22, 4) + b"\x14\x00\x00\x00",
    record_header(22, 4) + b"\x02\x00\x00\x00", record_header(22, 4) + b"\x01\x00\x00\x00",
    record_header(22, 4) + b"\x01\xff\xff\xff",
]


def mutate_stream(stream, max_size, rng):
    """A TLS-aware mutation of a byte stream of records."""
    records, rest = split_records(stream)
    choice = rng.randrange(10)
    if not records or choice == 0:
        return byte_mutate(stream, max_size)
    records = list(records)
    i = rng.randrange(len(records))
    header, payload = records[i]
    if choice in (1, 2, 3) or (choice == 4 and header[0] != 22):
        # a handshake message inside a plaintext handshake record
        candidates = [k for k, (h, p) in enumerate(records) if h[0] == 22 and p[:1] != b"\x00"]
        if candidates:
            i = rng.choice(candidates)
            header, payload = records[i]
            msgs, tail = split_messages(payload)
            if msgs:
                j = rng.randrange(len(msgs))
                t, body = msgs[j]
                if rng.randrange(8) == 0:
                    t = rng.choice([0, 1, 2, 4, 8, 11, 12, 13, 14, 15, 16, 20, 24, 254, rng.randrange(256)])
                else:
                    body = mutate_handshake_body(t, body, max_size, rng)
                msgs[j] = (t, body)
                payload = b"".join(handshake_message(t, b) for t, b in msgs) + tail
                records[i] = (header, payload)
                return join_records(records, rest)[:max_size]
        return byte_mutate(stream, max_size)
    if choice == 4:                                    # fragment one record in two
        if len(payload) > 1:
            cut = rng.randrange(1, len(payload))
            records[i:i + 1] = [(header, payload[:cut]), (header, payload[cut:])]
    elif choice == 5:                                  # drop or duplicate a record
        if rng.randrange(2):
            del records[i]
        else:
            records.insert(rng.randrange(len(records) + 1), records[i])
    elif choice == 6 and len(records) > 1:             # swap two
        j = rng.randrange(len(records))
        records[i], records[j] = records[j], records[i]
    elif choice == 7:                                  # a record from the dictionary
        extra = split_records(rng.choice(_RECORD_DICTIONARY))[0][0]
        records.insert(rng.randrange(len(records) + 1), extra)
    elif choice == 8:                                  # header type / version
        h = bytearray(header)
        if rng.randrange(2):
            h[0] = rng.choice([20, 21, 22, 23, 24, 0, 255])
        else:
            h[1:3] = rng.choice([b"\x03\x01", b"\x03\x03", b"\x03\x04", b"\x03\x00", b"\x02\x00", b"\xfe\xfd"])
        records[i] = (bytes(h), payload)
    else:                                              # bytes of one payload (encrypted too)
        records[i] = (header, byte_mutate(payload, max(len(payload) + 16, 32)))
    return join_records(records, rest)[:max_size]


def raw_mutator(data, max_size, seed):
    """For inputs of the form config byte, flags byte, stream."""
    rng = random.Random(seed)
    if len(data) < 2 or rng.randrange(6) == 0:
        return byte_mutate(data, max_size)
    head = bytearray(data[:2])
    if rng.randrange(12) == 0:
        head[rng.randrange(2)] = rng.randrange(256)
        return bytes(head) + data[2:]
    return bytes(head) + mutate_stream(bytes(data[2:]), max_size - 2, rng)


def raw_crossover(data1, data2, max_size, seed):
    """Records of one input followed by records of another."""
    rng = random.Random(seed)
    r1, _ = split_records(data1[2:])
    r2, rest2 = split_records(data2[2:])
    cut1, cut2 = rng.randint(0, len(r1)), rng.randint(0, len(r2))
    return (data1[:2] + join_records(r1[:cut1] + r2[cut2:], rest2))[:max_size]


def check_established(conn, config, where):
    """Security invariants of a completed handshake."""
    if not conn.handshake_complete:
        return
    if conn.version not in (0x0303, 0x0304) or conn.suite is None:
        raise FuzzBug("%s: handshake complete without a version/suite" % where)
    if conn.records.reader is None or conn.records.writer is None:
        raise FuzzBug("%s: handshake complete without keys" % where)
    if config.verify_mode == VERIFY_REQUIRED and not conn.resumed:
        if not conn.verified_chain or not conn.peer_chain:
            raise FuzzBug("%s: peer not authenticated, yet the handshake completed" % where)
        if not conn.peer_signature_scheme:
            raise FuzzBug("%s: no CertificateVerify/ServerKeyExchange signature checked" % where)


# ---------------------------------------------------------------- runner

_DEFAULT_FLAGS = {"-timeout": "1", "-rss_limit_mb": "2048"}


def _flag_value(argv, name):
    for arg in argv:
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def _report(test_one_input, paths):
    """Replay the corpus and print what it reaches (the engine-level coverage)."""
    global REPORT
    REPORT = {}
    files = []
    for path in paths:
        if os.path.isdir(path):
            files += [os.path.join(path, f) for f in sorted(os.listdir(path))]
        elif os.path.isfile(path):
            files.append(path)
    times = []
    for name in files:
        with open(name, "rb") as f:
            data = f.read()
        begin_run()
        start = time.perf_counter()
        try:
            test_one_input(data)
        except Exception:   # noqa: BLE001  (a crash file in the corpus: report it too)
            REPORT["CRASH|" + os.path.basename(name)] = 1
        times.append((time.perf_counter() - start, os.path.basename(name)))
    times.sort(reverse=True)
    if times:
        print("slowest inputs: %s; mean %.1f ms" % (
            ", ".join("%s %.0f ms" % (n, t * 1000) for t, n in times[:3]),
            1000 * sum(t for t, _ in times) / len(times)))
    errors = sorted(k for k in REPORT if "|error|" in k)
    others = sorted(k for k in REPORT if "|error|" not in k)
    print("inputs: %d  features: %d  (error sites: %d, other: %d)"
          % (len(files), len(REPORT), len(errors), len(others)))
    for key in errors:
        print("  E", key)
    for key in others:
        print("  F", key)
    REPORT = None


def main(test_one_input, *, mutator=None, crossover=None, max_len=4096):
    """Run ``test_one_input`` under atheris, or the fallback loop."""
    global _feature_funcs
    argv = list(sys.argv)
    if _flag_value(argv, "-cyssl_report") == "1":
        _report(test_one_input, [a for a in argv[1:] if not a.startswith("-")])
        return
    for name, value in _DEFAULT_FLAGS.items():
        if _flag_value(argv, name) is None:
            argv.append("%s=%s" % (name, value))
    if _flag_value(argv, "-max_len") is None:
        argv.append("-max_len=%d" % max_len)
    _feature_funcs = _make_feature_funcs()

    # libFuzzer checks -timeout only at whole seconds on a timer that ticks every
    # timeout/2+1 seconds, so an input taking 1.5 s under -timeout=1 can pass; check
    # every input's own time as well.
    slow = float(_flag_value(argv, "-timeout"))

    def one_input(data):
        begin_run()
        start = time.perf_counter()
        test_one_input(data)
        elapsed = time.perf_counter() - start
        if slow > 0 and elapsed > slow:
            raise FuzzBug("slow input: %.2f s (more than -timeout=%g s) for %d bytes"
                          % (elapsed, slow, len(data)))

    if atheris is not None:
        kwargs = {}
        if mutator is not None:
            kwargs["custom_mutator"] = mutator
        if crossover is not None:
            kwargs["custom_crossover"] = crossover
        atheris.Setup(argv, one_input, **kwargs)
        atheris.Fuzz()
    else:
        sys.exit(_fallback_loop(argv, one_input, mutator, crossover))


class _Timeout(BaseException):
    pass


def _fallback_loop(argv, one_input, mutator, crossover):
    """Without atheris: replay the corpus, then mutate inputs, keeping those that reach
    new features. libFuzzer's flags that matter here are honoured."""
    runs = int(_flag_value(argv, "-atheris_runs") or _flag_value(argv, "-runs") or -1)
    total = float(_flag_value(argv, "-max_total_time") or 0)
    timeout = float(_flag_value(argv, "-timeout") or 1)
    rss_limit = int(_flag_value(argv, "-rss_limit_mb") or 2048)
    max_len = int(_flag_value(argv, "-max_len") or 4096)
    prefix = _flag_value(argv, "-artifact_prefix") or "./"
    seed = int(_flag_value(argv, "-seed") or time.time())
    _fallback_rng.seed(seed)
    paths = [a for a in argv[1:] if not a.startswith("-")]
    files = [p for p in paths if os.path.isfile(p)]
    dirs = [p for p in paths if os.path.isdir(p)]

    def alarm(signum, frame):
        raise _Timeout()
    signal.signal(signal.SIGALRM, alarm)

    def execute(data):
        signal.setitimer(signal.ITIMER_REAL, timeout)
        start = time.time()
        try:
            one_input(data)
        except _Timeout:
            return "timeout", "input took more than %ss" % timeout
        except Exception:   # noqa: BLE001
            return "crash", traceback.format_exc()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        if rss > rss_limit:
            return "oom", "rss %d MB > %d MB" % (rss, rss_limit)
        del start
        return None, None

    def report(kind, text, data):
        name = "%s%s-%s" % (prefix, kind, __import__("hashlib").sha1(data).hexdigest())
        with open(name, "wb") as f:
            f.write(data)
        print(text, file=sys.stderr)
        print("==%d== ERROR: %s; input written to %s (%s)" % (os.getpid(), kind, name, data.hex()),
              file=sys.stderr)

    if files and not dirs:                       # reproduce mode, as libFuzzer
        status = 0
        for name in files:
            with open(name, "rb") as f:
                data = f.read()
            kind, text = execute(data)
            print("Running: %s -> %s" % (name, kind or "ok"))
            if kind:
                print(text, file=sys.stderr)
                status = 1
        return status

    corpus = []
    seen = set()
    for d in dirs:
        for name in sorted(os.listdir(d)):
            with open(os.path.join(d, name), "rb") as f:
                corpus.append(f.read())
    if not corpus:
        corpus.append(b"")
    started = time.time()
    count = 0
    print("INFO: fallback fuzzing loop (no atheris), seed=%d, %d corpus inputs" % (seed, len(corpus)))
    queue = list(corpus)
    corpus = []
    while True:
        if queue:
            data = queue.pop(0)
        else:
            parent = _fallback_rng.choice(corpus)
            if crossover is not None and len(corpus) > 1 and _fallback_rng.randrange(8) == 0:
                data = crossover(parent, _fallback_rng.choice(corpus), max_len,
                                 _fallback_rng.randrange(1 << 30))
            elif mutator is not None and _fallback_rng.randrange(4):
                data = mutator(parent, max_len, _fallback_rng.randrange(1 << 30))
            else:
                data = fallback_mutate(parent, max_len, _fallback_rng, _fallback_pool)
        kind, text = execute(data)
        count += 1
        if kind:
            report(kind, text, data)
            return 1
        new = run_features() - seen
        if new or not corpus:
            seen |= new
            corpus.append(data)
            if len(_fallback_pool) < 256:
                _fallback_pool.append(data)
        elapsed = time.time() - started
        if count & (count - 1) == 0 or (runs > 0 and count >= runs):
            print("#%d\tcorp: %d ft: %d exec/s: %d" % (count, len(corpus), len(seen),
                                                     count / max(elapsed, 1e-6)))
        if (runs > 0 and count >= runs) or (total and elapsed >= total):
            print("Done %d runs in %d second(s); features: %d" % (count, elapsed, len(seen)))
            return 0


make_deterministic()
