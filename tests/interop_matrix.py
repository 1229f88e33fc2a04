"""The interoperability matrix: cyssl against independent TLS stacks, in both roles.

    python tests/interop_matrix.py [--quick] [--peer NAME ...] [--markdown]

prints one row per case (peer x cyssl's role x version x suite x group x certificate x
feature -> pass / FAIL / peer lacks / known bug / unavailable, with what was negotiated
or why not); tests/test_interop_matrix.py runs the same cases under pytest.

Peers: the interpreter's own ``ssl`` (OpenSSL, same process, loopback sockets), the
``openssl`` command line (``s_server -rev`` / ``s_client``), GnuTLS (``gnutls-serv --echo``
/ ``gnutls-cli``, Debian gnutls-bin), ``curl`` and headless Chromium
(tests/chromium_peer.py), the last two as clients only. Packages a peer needs are
installed with apt when missing (tests/apt_packages.py); a peer that cannot be had makes
its cases "unavailable", with the reason.

Cases, for each peer and role: TLS 1.3 with each suite, each group (X25519MLKEM768, x25519,
secp256r1, secp384r1) and an RSA certificate; TLS 1.2 with each ECDHE-ECDSA and ECDHE-RSA
suite and each group; and in both versions ALPN, resumption and a client certificate.
A case a peer cannot do is listed as "peer lacks" with the reason (e.g. no ML-KEM before
OpenSSL 3.5), never dropped.

How cyssl takes part: always configured through its ssl-compatible face (cyssl.SSLContext).
As a client it is a cyssl SSLSocket; as a server, tests/https_engine_server.py's threaded
HTTPS server runs the engine with the TLSConfig the face context builds (what its
SSLSocket would use). A peer restricts the version, suite and group when it can, so cyssl's
defaults must meet it; where it cannot (the stdlib has no TLS 1.3 suite setting, Chromium
no settings at all) cyssl restricts itself.

Every case checks that cyssl's view (version(), cipher(), the engine's group, ALPN,
session_reused) and the peer's own report, where it prints one, agree and match the case,
and that application data went both ways: a fresh token goes up and comes back (openssl
and the stdlib echo it reversed, gnutls-serv as is; cyssl's HTTPS server puts the request
line in its page).
"""
import argparse
import dataclasses
import html
import re
import secrets
import shutil
import socket
import ssl as stdlib_ssl
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if __name__ == "__main__":
    try:
        import cyssl  # noqa: F401  (installed)
    except ImportError:                                 # a source tree with built modules
        sys.path.insert(0, str(HERE.parent / "src"))

import cyssl                                            # noqa: E402
import pki                                              # noqa: E402
from apt_packages import install_missing               # noqa: E402
from https_engine_server import EngineHTTPSServer, default_page  # noqa: E402
from openssl_cli import OPENSSL, OpenSSLProcess, free_port, start_server, wait_listening  # noqa: E402
from cyssl.crypto import groups as cyssl_groups         # noqa: E402
from cyssl.tls import suites as cyssl_suites            # noqa: E402

IO_TIMEOUT = 10.0           # every socket operation
PROC_TIMEOUT = 30.0         # every subprocess

TLS13, TLS12 = "TLSv1.3", "TLSv1.2"
VERSIONS = (TLS13, TLS12)
MLKEM = "X25519MLKEM768"
TLS13_SUITES = tuple(s.openssl_name for s in cyssl_suites.TLS13_SUITES)
TLS12_SUITES = {cert: tuple(s.openssl_name for s in cyssl_suites.TLS12_SUITES if s.auth.lower() == cert)
                for cert in ("ecdsa", "rsa")}
GROUPS = {TLS13: tuple(cyssl_groups.GROUPS[code].name for code in cyssl_groups.DEFAULT_GROUPS),
          TLS12: tuple(cyssl_groups.GROUPS[code].name for code in cyssl_groups.DEFAULT_GROUPS
                       if cyssl_groups.GROUPS[code].name != MLKEM)}
FEATURES = ("alpn", "resumption", "client-cert")
CERT_KEYS = {"ecdsa": "ecdsa-p256", "rsa": "rsa-2048"}
ALPN_OFFER = ["h2", "http/1.1"]             # clients offer both; servers take http/1.1
ALPN_SERVER = ["http/1.1"]
IANA_TO_OPENSSL = {s.name: s.openssl_name for s in cyssl_suites.TLS13_SUITES + cyssl_suites.TLS12_SUITES}
OPENSSL_GROUP = {MLKEM: "X25519MLKEM768", "x25519": "X25519", "secp256r1": "P-256", "secp384r1": "P-384"}
STDLIB_CURVE = {"x25519": "X25519", "secp256r1": "prime256v1", "secp384r1": "secp384r1"}

# Cases that fail because of a cyssl bug: case id -> the bug (pytest: xfail, strict).
KNOWN_BUGS = {}


# Cases ----------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Case:
    peer: str
    role: str                   # cyssl's role: "client" or "server"
    version: str
    suite: str = None           # OpenSSL name; None: whatever the two pick
    group: str = None           # cyssl's name; None: whatever the two pick
    cert: str = "ecdsa"         # the server's certificate key
    feature: str = None         # one of FEATURES, or None
    quick: bool = False         # part of --quick

    @property
    def id(self):
        return "-".join([self.peer, "cyssl_" + self.role, self.version, self.suite or "any-suite",
                         self.group or "any-group", self.cert, self.feature or "basic"])

    @property
    def expected(self):
        """What cyssl and the peer must both report."""
        expected = {"version": self.version, "alpn": "http/1.1" if self.feature == "alpn" else None,
                    "resumed": self.feature == "resumption"}
        if self.suite:
            expected["suite"] = self.suite
        if self.group:
            expected["group"] = self.group
        if self.feature == "client-cert":
            expected["client_cert"] = True
        return expected


def cases_for(peer, role):
    """Every case of one peer in one role, in table order."""
    out = []
    for version in VERSIONS:
        base = dict(peer=peer, role=role, version=version)
        if version == TLS13:
            out += [Case(suite=s, quick=i == 0, **base) for i, s in enumerate(TLS13_SUITES)]
        else:
            out += [Case(suite=s, cert=cert, quick=i == 0 and cert == "ecdsa", **base)
                    for cert in ("ecdsa", "rsa") for i, s in enumerate(TLS12_SUITES[cert])]
        # TLS 1.2 groups with an RSA certificate: there the client's groups also bound the
        # curve of an ECDSA certificate (RFC 8422 section 4), so a client offering x25519
        # alone cannot take a P-256 one.
        out += [Case(group=g, quick=g == MLKEM, cert="ecdsa" if version == TLS13 else "rsa", **base)
                for g in GROUPS[version]]
        if version == TLS13:
            out.append(Case(cert="rsa", **base))
        out += [Case(feature=f, **base) for f in FEATURES]
    return out


def all_cases(quick=False, peers=None):
    cases = [case for peer in PEERS.values() if peers is None or peer.name in peers
             for role in peer.roles for case in cases_for(peer.name, role)]
    return [c for c in cases if c.quick] if quick else cases


# Outcomes -------------------------------------------------------------------------------

class PeerLacks(Exception):
    """The peer cannot do what the case asks (its reason)."""


class Unavailable(Exception):
    """The peer's program is not there and could not be installed (the reason)."""


PASS, FAIL, LACKS, UNAVAILABLE, KNOWN, XPASS = \
    "pass", "FAIL", "peer lacks", "unavailable", "known bug", "XPASS"


@dataclasses.dataclass
class Result:
    case: Case
    status: str
    detail: str
    seconds: float = 0.0
    error: BaseException = None


def describe(seen):
    """One line for what a case negotiated."""
    words = [seen.get("version") or "?", seen.get("suite") or "?", seen.get("group") or "(no group)"]
    if seen.get("alpn"):
        words.append("alpn=" + seen["alpn"])
    if seen.get("resumed"):
        words.append("resumed")
    if seen.get("client_cert"):
        words.append("client-cert")
    return " ".join(words)


def agree(case, ours, theirs):
    """cyssl's view and the peer's (any subset of the keys) must agree and match the case.
    Returns the two merged."""
    for key, value in theirs.items():
        if key in ours:
            assert ours[key] == value, "%s: cyssl says %r, %s says %r (cyssl %r, peer %r)" % (
                key, ours[key], case.peer, value, ours, theirs)
    seen = dict(theirs, **ours)
    for key, value in case.expected.items():
        assert seen.get(key) == value, "%s: expected %r, negotiated %r (cyssl %r, peer %r)" % (
            key, value, seen.get(key), ours, theirs)
    return seen


def token():
    return "tok%s" % secrets.token_hex(6)


def http_request(tok):
    return ("GET /?%s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" % tok).encode()


def recv_until(sock, marker):
    """Read from a TLS socket until ``marker`` has arrived."""
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError("connection closed before %r arrived; got %r" % (marker, data[-300:]))
        data += chunk
    return data


# The test PKI ----------------------------------------------------------------------------

class MatrixPKI:
    """One ECDSA root; ECDSA and RSA server leaves for localhost/127.0.0.1; a client leaf."""

    def __init__(self, directory):
        directory.mkdir(parents=True, exist_ok=True)
        self.root = pki.CA.root("ecdsa-p256")
        self.ca = directory / "ca.pem"
        self.ca.write_bytes(self.root.cert_pem())
        self.server = {}
        for cert, key_type in CERT_KEYS.items():
            (directory / cert).mkdir(exist_ok=True)
            leaf = self.root.leaf(hosts=("localhost", "127.0.0.1"), key_type=key_type)
            self.server[cert] = tuple(map(str, pki.write_chain(directory / cert, leaf)))
        (directory / "client").mkdir(exist_ok=True)
        client = self.root.leaf(hosts=("client.example",), client=True, server=False)
        self.client = tuple(map(str, pki.write_chain(directory / "client", client)))


# cyssl's side -----------------------------------------------------------------------------

def restrict_cyssl(ctx, case, dimensions):
    """Make cyssl itself insist on the case's version/suite/group (for peers that can't)."""
    if "version" in dimensions:
        version = cyssl.TLSVersion.TLSv1_3 if case.version == TLS13 else cyssl.TLSVersion.TLSv1_2
        ctx.minimum_version = ctx.maximum_version = version
    if "suite" in dimensions and case.suite:
        if case.version == TLS13:
            # The ssl API has no setting for TLS 1.3 suites (OpenSSL's are fixed too).
            ctx._tls13_suites = [s.code for s in cyssl_suites.TLS13_SUITES if s.openssl_name == case.suite]
            ctx._changed()
        else:
            ctx.set_ciphers(case.suite)
    if "group" in dimensions and case.group:
        ctx.set_ecdh_curve(case.group)


def cyssl_client_context(case, env, restrict=()):
    ctx = cyssl.SSLContext(cyssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=str(env.pki.ca))
    if case.feature == "alpn":
        ctx.set_alpn_protocols(ALPN_OFFER)
    if case.feature == "client-cert":
        ctx.load_cert_chain(*env.pki.client)
    restrict_cyssl(ctx, case, restrict)
    return ctx


def cyssl_server_context(case, env, restrict=()):
    ctx = cyssl.SSLContext(cyssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*env.pki.server[case.cert])
    if case.feature == "alpn":
        ctx.set_alpn_protocols(ALPN_SERVER)
    if case.feature == "client-cert":
        ctx.verify_mode = cyssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=str(env.pki.ca))
    restrict_cyssl(ctx, case, restrict)
    return ctx


def cyssl_view(tls):
    """What a cyssl SSLSocket negotiated; the group from the engine connection under it
    (the ssl API has no call for it)."""
    conn = tls._sslobj.conn
    return {"version": tls.version(), "suite": tls.cipher()[0],
            "group": conn.group.name if conn.group is not None else None,
            "alpn": tls.selected_alpn_protocol(), "resumed": tls.session_reused}


def connections(case):
    return 2 if case.feature == "resumption" else 1


def cyssl_connects(case, ctx, port, reply):
    """cyssl's SSLSocket sends a token line to a peer server on ``port`` and reads
    ``reply(token)`` back; twice (the second resuming) for resumption. Returns cyssl's
    views and the tokens."""
    views, tokens, session = [], [], None
    for _ in range(connections(case)):
        tok = token()
        with socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as tls:
                tls.sendall(tok.encode() + b"\n")
                recv_until(tls, reply(tok).encode())
                views.append(cyssl_view(tls))
                session = tls.session
        tokens.append(tok)
    if case.feature == "resumption":
        assert not views[0]["resumed"], "a first connection cannot resume"
    return views, tokens


def record_view(record):
    """cyssl's server view from an EngineHTTPSServer record."""
    return {"version": record.get("version"), "suite": IANA_TO_OPENSSL.get(record.get("suite")),
            "group": record.get("group"), "alpn": record.get("alpn"),
            "resumed": bool(record.get("resumed")),
            "client_cert": record.get("peer_certificates", 0) > 0}


def matrix_page(extra_html=""):
    """The page cyssl's HTTPS server answers with: what it negotiated, and the request line
    it received (which carries the client's token)."""
    def page(record):
        extra = '<p id=request>%s</p>\n%s' % (html.escape(record.get("request") or ""), extra_html)
        return default_page(record).replace(b"</body>", extra.encode() + b"</body>")
    return page


class CysslServer:
    """cyssl's HTTPS server for one case; ``served(tok)`` is the record of the connection
    whose request carried ``tok``."""

    def __init__(self, case, env, restrict=(), extra_html=""):
        ctx = cyssl_server_context(case, env, restrict)
        # The TLSConfig the face builds for its own server sockets.
        self.server = EngineHTTPSServer(lambda: ctx._engine_config(True), io_timeout=IO_TIMEOUT,
                                        page=matrix_page(extra_html))
        self.port = self.server.port

    def __enter__(self):
        self.server.start()
        return self

    def __exit__(self, *exc):
        self.server.stop()

    def url(self, tok):
        return "https://localhost:%d/?%s" % (self.port, tok)

    def records(self):
        return self.server.snapshot()

    def served(self, tok, timeout=5.0):
        def find(records):
            return [r for r in records if "?%s " % tok in (r.get("request") or "") and r.get("responded")]
        self.server.wait_for(lambda records: find(records), timeout)
        found = find(self.records())
        assert found, "cyssl served no request carrying %s; records: %r" % (tok, self.records())
        return found[0]

    def check_resumption(self, last):
        """The last served connection resumed; the first completed one did not."""
        done = [r for r in self.records() if r.get("handshake_complete")]
        assert done and not done[0]["resumed"], done
        assert last["resumed"], "the second connection did not resume: %r" % self.records()


def assert_page(text, tok):
    """The client received cyssl's page with its own request in it: data both ways."""
    assert "cyssl TLS engine" in text and ("?%s HTTP/1.1" % tok) in text, \
        "cyssl's page with %s not received; got:\n%s" % (tok, text[-3000:])


# Peers -------------------------------------------------------------------------------------

class Peer:
    name = ""
    roles = ("client", "server")        # cyssl's roles against this peer
    packages = {}                       # binary: Debian package
    mlkem = False                       # whether the peer speaks X25519MLKEM768

    def probe(self):
        """The peer's version line (raises Unavailable)."""
        raise NotImplementedError

    def lacks(self, case):
        """Why the peer cannot do ``case``, or None."""
        if case.group == MLKEM and not self.mlkem:
            return "%s has no X25519MLKEM768" % self.version
        return None

    def run(self, case, env):
        """Run the case; returns (cyssl's view, the peer's view)."""
        return (self.cyssl_client if case.role == "client" else self.cyssl_server)(case, env)


def _version_at_least(text, minimum):
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    return bool(match) and tuple(map(int, match.groups())) >= minimum


class StdlibPeer(Peer):
    """The interpreter's ssl module (OpenSSL), in this process over loopback sockets."""
    name = "stdlib"

    def probe(self):
        self.version = "stdlib ssl (%s)" % " ".join(stdlib_ssl.OPENSSL_VERSION.split()[:2])
        self.mlkem = stdlib_ssl.OPENSSL_VERSION_INFO >= (3, 5)
        return self.version

    def context(self, case, env, server_side):
        ctx = stdlib_ssl.SSLContext(stdlib_ssl.PROTOCOL_TLS_SERVER if server_side
                                    else stdlib_ssl.PROTOCOL_TLS_CLIENT)
        version = stdlib_ssl.TLSVersion.TLSv1_3 if case.version == TLS13 else stdlib_ssl.TLSVersion.TLSv1_2
        ctx.minimum_version = ctx.maximum_version = version
        if case.version == TLS12 and case.suite:
            ctx.set_ciphers(case.suite)
        if case.group and case.group != MLKEM:
            ctx.set_ecdh_curve(STDLIB_CURVE[case.group])
        if case.feature == "alpn":
            ctx.set_alpn_protocols(ALPN_SERVER if server_side else ALPN_OFFER)
        if server_side:
            ctx.load_cert_chain(*env.pki.server[case.cert])
            if case.feature == "client-cert":
                ctx.verify_mode = stdlib_ssl.CERT_REQUIRED
                ctx.load_verify_locations(cafile=str(env.pki.ca))
        else:
            ctx.load_verify_locations(cafile=str(env.pki.ca))
            if case.feature == "client-cert":
                ctx.load_cert_chain(*env.pki.client)
        return ctx

    @staticmethod
    def view(tls):
        return {"version": tls.version(), "suite": tls.cipher()[0],
                "alpn": tls.selected_alpn_protocol(), "resumed": tls.session_reused}

    def cyssl_client(self, case, env):
        server = StdlibEchoServer(self.context(case, env, server_side=True), connections(case))
        try:
            ctx = cyssl_client_context(case, env, restrict=self.restricted(case))
            views, _ = cyssl_connects(case, ctx, server.port, reply=lambda tok: tok[::-1])
        finally:
            server.close()
        assert not server.errors, server.errors
        return views[-1], server.views[-1]

    @staticmethod
    def restricted(case):
        """The stdlib cannot pick a TLS 1.3 suite, nor name X25519MLKEM768: cyssl does."""
        return [d for d in ("suite", "group")
                if (d == "suite" and case.version == TLS13) or (d == "group" and case.group == MLKEM)]

    def cyssl_server(self, case, env):
        ctx = self.context(case, env, server_side=False)
        session = None
        with CysslServer(case, env, restrict=self.restricted(case)) as server:
            for _ in range(connections(case)):
                tok = token()
                with socket.create_connection(("127.0.0.1", server.port), timeout=IO_TIMEOUT) as raw:
                    with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as tls:
                        tls.sendall(http_request(tok))
                        page = recv_until(tls, b"</html>")
                        theirs = self.view(tls)
                        session = tls.session
                assert_page(page.decode(errors="replace"), tok)
                record = server.served(tok)
            if case.feature == "resumption":
                server.check_resumption(record)
        return record_view(record), theirs


class StdlibEchoServer:
    """The stdlib's ssl as a server on 127.0.0.1, in a thread, for ``count`` connections:
    each line received comes back reversed; ``views`` keeps what OpenSSL negotiated."""

    def __init__(self, context, count):
        self.context = context
        self.views = []
        self.errors = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(IO_TIMEOUT)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, args=(count,), daemon=True)
        self.thread.start()

    def _serve(self, count):
        try:
            for _ in range(count):
                raw, _ = self.listener.accept()
                raw.settimeout(IO_TIMEOUT)
                with self.context.wrap_socket(raw, server_side=True) as tls:
                    line = recv_until(tls, b"\n").split(b"\n")[0]
                    view = StdlibPeer.view(tls)
                    view["client_cert"] = bool(tls.getpeercert())
                    self.views.append(view)
                    tls.sendall(line[::-1] + b"\n")
                    try:
                        tls.unwrap()                        # close_notify
                    except (OSError, ValueError):
                        pass
        except Exception as err:                            # reported by the case
            self.errors.append("stdlib server: %s: %s" % (type(err).__name__, err))

    def close(self):
        self.thread.join(IO_TIMEOUT * 2)
        self.listener.close()


class OpenSSLPeer(Peer):
    """The openssl command line: ``s_server -rev`` (echoes lines reversed) and ``s_client``."""
    name = "openssl"

    def probe(self):
        if OPENSSL is None:
            raise Unavailable("no openssl on PATH")
        self.version = subprocess.run([OPENSSL, "version"], capture_output=True, text=True,
                                      timeout=PROC_TIMEOUT).stdout.strip()
        self.version = " ".join(self.version.split()[:2])            # "OpenSSL 3.0.19"
        self.mlkem = _version_at_least(self.version, (3, 5, 0))
        return self.version

    @staticmethod
    def options(case):
        args = ["-tls1_3" if case.version == TLS13 else "-tls1_2"]
        if case.suite:
            args += ["-ciphersuites" if case.version == TLS13 else "-cipher", case.suite]
        if case.group:
            args += ["-groups", OPENSSL_GROUP[case.group]]
        return args

    def cyssl_client(self, case, env):
        cert, key = env.pki.server[case.cert]
        args = ["-rev", "-cert", cert, "-key", key] + self.options(case)
        if case.feature == "alpn":
            args += ["-alpn", ",".join(ALPN_SERVER)]
        if case.feature == "client-cert":
            args += ["-Verify", "1", "-CAfile", str(env.pki.ca)]
        port = free_port()
        server = start_server(args, port)
        try:
            ctx = cyssl_client_context(case, env)
            views, _ = cyssl_connects(case, ctx, port, reply=lambda tok: tok[::-1])
            output = server.read_until("CONNECTION CLOSED", timeout=IO_TIMEOUT,
                                       count=connections(case)).decode(errors="replace")
        finally:
            server.close()
        last = output.split("CONNECTION ESTABLISHED")[-1]
        theirs = {"version": _field(last, r"Protocol version: (\S+)"),
                  "suite": _field(last, r"Ciphersuite: (\S+)"),
                  "client_cert": "Peer certificate: " in last}
        return views[-1], theirs

    def cyssl_server(self, case, env):
        with CysslServer(case, env) as server:
            args = ["s_client", "-connect", "127.0.0.1:%d" % server.port, "-servername", "localhost",
                    "-CAfile", str(env.pki.ca), "-verify_return_error", "-ign_eof"] + self.options(case)
            if case.feature == "alpn":
                args += ["-alpn", ",".join(ALPN_OFFER)]
            if case.feature == "client-cert":
                args += ["-cert", env.pki.client[0], "-key", env.pki.client[1]]
            sessions = env.scratch(case) / "session.pem"
            for n in range(connections(case)):
                tok = token()
                extra = ["-sess_out", str(sessions)] + (["-sess_in", str(sessions)] if n else [])
                proc = subprocess.run([OPENSSL] + args + extra, input=http_request(tok),
                                      capture_output=True, timeout=PROC_TIMEOUT)
                output = proc.stdout.decode(errors="replace")
                assert_page(output, tok)
                record = server.served(tok)
            if case.feature == "resumption":
                server.check_resumption(record)
        theirs = self.client_view(output)
        return record_view(record), theirs

    @staticmethod
    def client_view(output):
        state = re.search(r"^(New|Reused), (TLSv1\.[23]), Cipher is (\S+)", output, re.M)
        assert state, "s_client printed no session line:\n" + output[-3000:]
        view = {"version": state.group(2), "suite": state.group(3), "resumed": state.group(1) == "Reused",
                "alpn": _field(output, r"ALPN protocol: (\S+)")}
        temp_key = _field(output, r"Server Temp Key: ([^\n]+)")
        if temp_key:
            parts = [p.strip() for p in temp_key.split(",")]
            name = parts[1] if parts[0] == "ECDH" else parts[0]
            view["group"] = {"X25519": "x25519", "prime256v1": "secp256r1"}.get(name, name)
        return view


def _field(text, pattern):
    match = re.search(pattern, text)
    return match.group(1) if match else None


GNUTLS_GROUP = {MLKEM: "GROUP-X25519-MLKEM768", "x25519": "GROUP-X25519",
                "secp256r1": "GROUP-SECP256R1", "secp384r1": "GROUP-SECP384R1"}
GNUTLS_CIPHER = {"AES128-GCM": "AES-128-GCM", "AES256-GCM": "AES-256-GCM", "AES_128_GCM": "AES-128-GCM",
                 "AES_256_GCM": "AES-256-GCM", "CHACHA20": "CHACHA20-POLY1305"}


def gnutls_suite(suite):
    """(key exchange or None, cipher) in GnuTLS's names for an OpenSSL suite name."""
    cipher = next(v for k, v in GNUTLS_CIPHER.items() if k in suite)
    kx = None if suite.startswith("TLS_") else "ECDHE-" + suite.split("-")[1]
    return kx, cipher


class GnuTLSPeer(Peer):
    """GnuTLS: ``gnutls-serv --echo`` and ``gnutls-cli`` (Debian gnutls-bin)."""
    name = "gnutls"
    packages = {"gnutls-cli": "gnutls-bin", "gnutls-serv": "gnutls-bin"}

    def probe(self):
        cli = shutil.which("gnutls-cli")
        if cli is None or shutil.which("gnutls-serv") is None:
            raise Unavailable("gnutls-cli/gnutls-serv not on PATH")
        first = subprocess.run([cli, "--version"], capture_output=True, text=True,
                               timeout=PROC_TIMEOUT).stdout.splitlines()[0]
        self.version = "GnuTLS " + first.split()[-1]
        listing = subprocess.run([cli, "--list"], capture_output=True, text=True, timeout=PROC_TIMEOUT).stdout
        self.mlkem = "MLKEM768" in listing.upper().replace("-", "")
        return self.version

    @staticmethod
    def priority(case):
        parts = ["NORMAL", "-VERS-ALL", "+VERS-TLS1.3" if case.version == TLS13 else "+VERS-TLS1.2"]
        if case.suite:
            kx, cipher = gnutls_suite(case.suite)
            parts += ["-CIPHER-ALL", "+" + cipher]
            if kx:
                parts += ["-KX-ALL", "+" + kx]
        if case.group:
            parts += ["-GROUP-ALL", "+" + GNUTLS_GROUP[case.group]]
        return ":".join(parts)

    @staticmethod
    def view(text):
        """A GnuTLS session description, '(TLS1.3-X.509)-(ECDHE-X25519)-(ECDSA-...)-(AES-128-GCM)'."""
        description = _field(text, r"- Description: (\S+)")
        assert description, "gnutls printed no session description:\n" + text[-3000:]
        parts = re.findall(r"\(([^)]*)\)", description)
        view = {"version": "TLSv" + parts[0].split("-")[0][3:]}
        kx = next((p for p in parts if p.startswith("ECDHE-")), None)
        if kx:
            name = kx[len("ECDHE-"):]
            view["group"] = {"X25519": "x25519"}.get(name, name.lower())
        auth = next((p.split("-")[0] for p in parts if p.startswith(("ECDSA-", "RSA-"))), None)
        for suite in TLS13_SUITES + TLS12_SUITES["ecdsa"] + TLS12_SUITES["rsa"]:
            suite_kx, cipher = gnutls_suite(suite)
            if suite.startswith("TLS_") == (view["version"] == TLS13) and cipher == parts[-1] and \
                    (suite_kx is None or suite_kx == "ECDHE-%s" % auth):
                view["suite"] = suite
        view["alpn"] = _field(text, r"- Application protocol: (\S+)")
        view["resumed"] = "*** This is a resumed session" in text
        if view["resumed"] and view["version"] == TLS12:
            view.pop("group", None)         # GnuTLS repeats the first handshake's; none was used
        return view

    def cyssl_client(self, case, env):
        cert, key = env.pki.server[case.cert]
        port = free_port()
        args = ["-p", str(port), "--echo", "--x509certfile", cert, "--x509keyfile", key,
                "--priority", self.priority(case)]
        if case.feature == "alpn":
            args += ["--alpn", ALPN_SERVER[0]]
        if case.feature == "client-cert":
            args += ["--require-client-cert", "--x509cafile", str(env.pki.ca)]
        server = OpenSSLProcess(args, program=shutil.which("gnutls-serv"))
        try:
            if not wait_listening(port, server.proc):
                raise AssertionError("gnutls-serv did not start")
            ctx = cyssl_client_context(case, env)
            views, tokens = cyssl_connects(case, ctx, port, reply=lambda tok: tok)
            output = server.read_until(tokens[-1], timeout=IO_TIMEOUT).decode(errors="replace")
        finally:
            server.close()
        last = output.split("* Accepted connection")[-1]
        theirs = self.view(last)
        theirs["client_cert"] = "Subject: CN=client.example" in last
        return views[-1], theirs

    def cyssl_server(self, case, env):
        with CysslServer(case, env) as server:
            args = ["-p", str(server.port), "localhost", "--x509cafile", str(env.pki.ca),
                    "--priority", self.priority(case)]
            for protocol in (ALPN_OFFER if case.feature == "alpn" else ()):
                args += ["--alpn", protocol]
            if case.feature == "client-cert":
                args += ["--x509certfile", env.pki.client[0], "--x509keyfile", env.pki.client[1]]
            if case.feature == "resumption":
                args.append("--resume")         # connects, then connects again resuming
            tok = token()
            client = OpenSSLProcess(args, program=shutil.which("gnutls-cli"))
            try:
                client.read_until("- Simple Client Mode", timeout=IO_TIMEOUT)
                client.proc.stdin.write(http_request(tok))
                client.proc.stdin.flush()
                output = client.read_until("</html>", timeout=IO_TIMEOUT).decode(errors="replace")
            finally:
                client.close()
            assert_page(output, tok)
            record = server.served(tok)
            if case.feature == "resumption":
                server.check_resumption(record)
        return record_view(record), self.view(output.split("Connecting again")[-1])


class CurlPeer(Peer):
    """curl (its OpenSSL) fetching a page from cyssl's HTTPS server."""
    name = "curl"
    roles = ("server",)

    def probe(self):
        curl = shutil.which("curl")
        if curl is None:
            raise Unavailable("no curl on PATH")
        first = subprocess.run([curl, "-V"], capture_output=True, text=True, timeout=PROC_TIMEOUT).stdout
        tls_library = _field(first, r"(OpenSSL/\S+)") or "its TLS library"
        self.version = "curl %s (%s)" % (first.split()[1], tls_library)
        self.mlkem = tls_library.startswith("OpenSSL/") and _version_at_least(tls_library, (3, 5, 0))
        return self.version

    def cyssl_server(self, case, env):
        with CysslServer(case, env) as server:
            tokens = [token() for _ in range(connections(case))]
            args = ["curl", "-sS", "-v", "--max-time", str(int(PROC_TIMEOUT)), "--cacert", str(env.pki.ca),
                    "--tlsv1.3" if case.version == TLS13 else "--tlsv1.2",
                    "--tls-max", "1.3" if case.version == TLS13 else "1.2"]
            if case.suite:
                args += ["--tls13-ciphers" if case.version == TLS13 else "--ciphers", case.suite]
            if case.group:
                args += ["--curves", OPENSSL_GROUP[case.group]]
            if case.feature == "client-cert":
                args += ["--cert", env.pki.client[0], "--key", env.pki.client[1]]
            args += [server.url(tok) for tok in tokens]     # one curl: the second resumes
            proc = subprocess.run(args, capture_output=True, timeout=PROC_TIMEOUT)
            log = proc.stderr.decode(errors="replace")
            assert proc.returncode == 0, "curl exit %d:\n%s" % (proc.returncode, log[-3000:])
            for tok in tokens:
                assert_page(proc.stdout.decode(errors="replace"), tok)
                record = server.served(tok)
            if case.feature == "resumption":
                server.check_resumption(record)
        used = re.findall(r"SSL connection using (TLSv1\.[23]) / (\S+)", log)
        assert used, "curl -v printed no 'SSL connection using':\n" + log[-3000:]
        theirs = {"version": used[-1][0], "suite": used[-1][1],
                  "alpn": _field(log.split("SSL connection using")[-1], r"ALPN: server accepted (\S+)")}
        return record_view(record), theirs


class ChromiumPeer(Peer):
    """Headless Chromium loading a page from cyssl's HTTPS server; it cannot be told which
    version, suite or group to use, so cyssl's server insists on them."""
    name = "chromium"
    roles = ("server",)
    mlkem = True

    def __init__(self):
        import chromium_peer
        self.chromium_peer = chromium_peer
        self.packages = chromium_peer.PACKAGES

    def probe(self):
        path = shutil.which("chromium")
        if path is None or shutil.which("certutil") is None:
            raise Unavailable("chromium or certutil not on PATH")
        self.path = path
        self.version = self.chromium_peer.version(path).split(" built")[0]
        return self.version

    def lacks(self, case):
        if case.feature == "client-cert":
            return "headless Chromium sends a client certificate only when a person or a policy picks one"
        return super().lacks(case)

    def cyssl_server(self, case, env):
        tok = token()
        # For resumption the page fetches itself again, three times one after the other
        # (synchronous XHRs, before the load event): the server closes every connection,
        # so once Chromium's preconnected sockets are used up it opens a new one, resuming.
        extra = "".join('<script>var x = new XMLHttpRequest(); x.open("GET", "/?again%d-%s", false); '
                        'x.send();</script>\n' % (n, tok) for n in range(3)) \
            if case.feature == "resumption" else ""
        scratch = env.scratch(case)
        home = self.chromium_peer.make_home(scratch, env.pki.root)
        with CysslServer(case, env, restrict=("version", "suite", "group"), extra_html=extra) as server:
            rc, dom, stderr = self.chromium_peer.dump_dom(self.path, server.url(tok), home)
            assert_page(dom, tok)
            record = server.served(tok)
            if case.feature == "resumption":
                server.server.wait_for(lambda records: any(r.get("resumed") for r in records), 2.0)
                resumed = [r for r in server.records() if r.get("resumed")]
                assert resumed, "no connection from Chromium resumed: %r" % server.records()
                record = resumed[-1]
        return record_view(record), {}


PEERS = {peer.name: peer for peer in (StdlibPeer(), OpenSSLPeer(), GnuTLSPeer(), CurlPeer(), ChromiumPeer())}


# Running -----------------------------------------------------------------------------------

class Environment:
    """What the cases share: a scratch directory, the PKI, the peers' availability."""

    def __init__(self, directory, say=print):
        self.directory = Path(directory)
        self.say = say
        self.pki = MatrixPKI(self.directory / "pki")
        self.unavailable = {}               # peer name: reason
        self.probed = set()
        self.results = []

    def prepare(self, peer):
        """Install and probe a peer once; raises Unavailable."""
        if peer.name not in self.probed:
            self.probed.add(peer.name)
            try:
                problem = install_missing(peer.packages, self.say) if peer.packages else None
                if problem is not None:
                    raise Unavailable(problem.splitlines()[0])
                self.say("%s: %s" % (peer.name, peer.probe()))
            except Unavailable as err:
                self.unavailable[peer.name] = str(err)
            except (OSError, subprocess.SubprocessError, IndexError) as err:
                self.unavailable[peer.name] = "%s: %s" % (type(err).__name__, err)
        if peer.name in self.unavailable:
            raise Unavailable(self.unavailable[peer.name])

    def scratch(self, case):
        path = self.directory / "cases" / case.id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def check(self, case):
        """Run a case; returns what was negotiated. Raises PeerLacks, Unavailable, or the
        failure."""
        peer = PEERS[case.peer]
        self.prepare(peer)
        reason = peer.lacks(case)
        if reason:
            raise PeerLacks(reason)
        ours, theirs = peer.run(case, self)
        return agree(case, ours, theirs)

    def outcome(self, case):
        """Run a case and keep its Result (for the table)."""
        start = time.monotonic()
        bug = KNOWN_BUGS.get(case.id)
        try:
            seen = self.check(case)
            result = Result(case, XPASS if bug else PASS, describe(seen))
        except PeerLacks as err:
            result = Result(case, LACKS, str(err))
        except Unavailable as err:
            result = Result(case, UNAVAILABLE, str(err))
        except Exception as err:
            message = "%s: %s" % (type(err).__name__, str(err).splitlines()[0] if str(err) else "")
            result = Result(case, KNOWN if bug else FAIL, bug or message, error=err)
        result.seconds = time.monotonic() - start
        self.results.append(result)
        return result


# The table ----------------------------------------------------------------------------------

COLUMNS = ("peer", "cyssl", "version", "suite", "group", "cert", "feature", "result", "negotiated / reason")


def rows(results):
    for r in results:
        c = r.case
        yield (c.peer, c.role, c.version, c.suite or "any", c.group or "any", c.cert,
               c.feature or "-", r.status, r.detail)


def table(results):
    """The full matrix as aligned text."""
    lines = [COLUMNS] + list(rows(results))
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(COLUMNS) - 1)]
    return "\n".join("  ".join(str(v).ljust(w) for v, w in zip(line, widths)) + "  " + str(line[-1])
                     for line in lines)


def summary(results):
    """Counts per peer and role."""
    counts = {}
    for r in results:
        key = (r.case.peer, r.case.role)
        counts.setdefault(key, {}).setdefault(r.status, 0)
        counts[key][r.status] += 1
    statuses = [PASS, FAIL, KNOWN, XPASS, LACKS, UNAVAILABLE]
    lines = ["%-9s %-7s %5s  %s" % ("peer", "cyssl", "cases", "  ".join("%s" % s for s in statuses))]
    for (peer, role), c in counts.items():
        lines.append("%-9s %-7s %5d  %s" % (peer, role, sum(c.values()), "  ".join(
            str(c.get(s, 0)).rjust(len(s)) for s in statuses)))
    return "\n".join(lines)


SHORT = {PASS: "pass", FAIL: "**FAIL**", KNOWN: "known bug", XPASS: "XPASS", LACKS: "lacks", UNAVAILABLE: "n/a"}


def markdown(results):
    """Per version, one row per peer and role, one column per suite / group / certificate /
    feature (what README shows)."""
    out = []
    for version in VERSIONS:
        cells = {}
        columns = []
        for r in results:
            c = r.case
            if c.version != version:
                continue
            if c.suite:
                column = c.suite.replace("TLS_", "").replace("ECDHE-", "")
            elif c.group:
                column = c.group + (" (RSA cert)" if c.cert == "rsa" else "")
            elif c.feature:
                column = c.feature
            else:
                column = "RSA cert"
            if column not in columns:
                columns.append(column)
            cells.setdefault((c.peer, c.role), {})[column] = SHORT[r.status]
        if not cells:
            continue
        out.append("| %s | cyssl as | %s |" % (version, " | ".join(columns)))
        out.append("|" + "---|" * (len(columns) + 2))
        for (peer, role), row in cells.items():
            out.append("| %s | %s | %s |" % (peer, role, " | ".join(row.get(col, "") for col in columns)))
        out.append("")
    reasons = sorted({"%s: %s" % (r.case.peer, r.detail) for r in results if r.status in (LACKS, UNAVAILABLE, KNOWN)})
    return "\n".join(out + ["- " + reason for reason in reasons])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one case per peer, role and version (and ML-KEM)")
    parser.add_argument("--peer", action="append", choices=sorted(PEERS), help="only these peers")
    parser.add_argument("--markdown", action="store_true", help="also print the README grids")
    args = parser.parse_args(argv)
    cases = all_cases(quick=args.quick, peers=args.peer)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cyssl-interop-") as tmp:
        env = Environment(tmp, say=lambda line: print(line, file=sys.stderr))
        for case in cases:
            result = env.outcome(case)
            if result.status in (FAIL, XPASS):
                print("%s %s: %s" % (result.status, case.id, result.detail), file=sys.stderr)
    print(table(env.results))
    print()
    print(summary(env.results))
    print("\n%d cases in %.1f s" % (len(cases), time.monotonic() - start))
    if args.markdown:
        print()
        print(markdown(env.results))
    return 1 if any(r.status in (FAIL, XPASS) for r in env.results) else 0


if __name__ == "__main__":
    sys.exit(main())
