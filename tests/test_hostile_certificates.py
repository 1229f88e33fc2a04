"""Hostile certificate chains, end to end: the stdlib's ssl (OpenSSL) presents a chain
that is expired, not yet valid, for another host or IP, from an unknown CA, self-signed,
missing an intermediate, with an intermediate that is no CA, too long (path length,
depth) or otherwise wrong, and cyssl verifies it -- as client (the server's chain) and
as server (a required client certificate), over TLS 1.3 and TLS 1.2.

cyssl must raise SSLCertVerificationError with OpenSSL's verify code and send the alert
OpenSSL sends for that code (ssl_verify_alarm_type), which the stdlib peer must report.
The verify codes themselves are compared with OpenSSL's, chain by chain, in
test_crypto_certs.py; here the question is what reaches the wire and the application."""
import datetime
import ssl

import pytest

import pki
from hostile import StdlibPeer, Target, World, assert_peer_saw, expect_verify_failure, run

NOW = datetime.datetime.now(datetime.timezone.utc)
HOUR = datetime.timedelta(hours=1)
EXPIRED = dict(not_before=NOW - 72 * HOUR, not_after=NOW - HOUR)
NOT_YET_VALID = dict(not_before=NOW + HOUR, not_after=NOW + 72 * HOUR)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return World(tmp_path_factory.mktemp("hostile-certificates"))


class Chains:
    """Leaf + intermediates for each case, issued under world.root unless said otherwise;
    ``role`` is the side presenting the chain (server or client purpose)."""

    def __init__(self, world):
        root = world.root
        self.inter = root.intermediate()
        self.limited = root.intermediate(name="limited", path_length=0)
        self.too_deep = self.limited.intermediate(name="too deep")
        self.not_a_ca = root.intermediate(name="not a CA", ca_flag=False)
        self.stranger = pki.CA.root(name="stranger")
        self.stranger_inter = self.stranger.intermediate(name="stranger intermediate")
        cas = [root]
        for i in range(9):                                  # one more than cryptography allows
            cas.append(cas[-1].intermediate(name="level %d" % i))
        self.deep = cas[1:]

    def chain(self, case, presenter):
        client = presenter == "client"
        hosts = ("client.example",) if client else ("localhost", "127.0.0.1")

        def leaf(issuer, **options):
            return issuer.leaf(hosts=hosts, client=client, server=not client, **options)
        inter = self.inter
        if case == "expired":
            return leaf(inter, **EXPIRED), [inter]
        if case == "not-yet-valid":
            return leaf(inter, **NOT_YET_VALID), [inter]
        if case == "wrong-host":
            return inter.leaf(hosts=("example.com",)), [inter]
        if case == "wrong-ip":
            return inter.leaf(hosts=("127.0.0.1",)), [inter]
        if case == "unknown-ca":
            return leaf(self.stranger_inter), [self.stranger_inter]
        if case == "self-signed":
            return pki.self_signed(hosts=hosts, client=client, server=not client), []
        if case == "missing-intermediate":
            return leaf(inter), []
        if case == "intermediate-without-ca-flag":
            return leaf(self.not_a_ca), [self.not_a_ca]
        if case == "path-length-exceeded":
            return leaf(self.too_deep), [self.too_deep, self.limited]
        if case == "chain-too-deep":
            return leaf(self.deep[-1]), self.deep[::-1]
        if case == "untrusted-root-sent-along":
            return leaf(self.stranger_inter), [self.stranger_inter, self.stranger]
        if case == "wrong-purpose":                         # a server leaf as client and back
            return inter.leaf(hosts=hosts, client=not client, server=client), [inter]
        raise ValueError(case)


@pytest.fixture(scope="module")
def chains(world):
    return Chains(world)


# (case, verify code, alert): OpenSSL's code, and the alert it sends for it.
CASES = [
    ("expired", 10, "certificate_expired"),
    ("not-yet-valid", 9, "bad_certificate"),
    ("wrong-host", 62, "bad_certificate"),
    ("wrong-ip", 64, "bad_certificate"),
    ("unknown-ca", 20, "unknown_ca"),
    ("self-signed", 18, "unknown_ca"),
    ("missing-intermediate", 20, "unknown_ca"),
    ("intermediate-without-ca-flag", 79, "unknown_ca"),
    ("path-length-exceeded", 25, "unknown_ca"),
    ("chain-too-deep", 22, "unknown_ca"),
    ("untrusted-root-sent-along", 19, "unknown_ca"),
    ("wrong-purpose", 26, "unsupported_certificate"),
]
CLIENT_ONLY = {"wrong-host", "wrong-ip"}                   # servers check no client names


def params():
    out = []
    for case, code, alert in CASES:
        for role in ("client", "server"):
            if role == "server" and case in CLIENT_ONLY:
                continue
            for version in ("1.3", "1.2"):
                out.append(pytest.param(case, code, alert, role, version,
                                        id="%s-%s-tls%s" % (case, role, version)))
    return out


def stdlib_context(world, tmp_path, role, version, leaf, intermediates):
    """The stdlib side presenting the chain: a server (when cyssl is the client) or a
    client with a certificate (when cyssl is the server)."""
    certfile, keyfile = pki.write_chain(tmp_path, leaf, *intermediates)
    if role == "client":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(cadata=world.root.cert_pem().decode())
    ctx.load_cert_chain(certfile, keyfile)
    if version == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    return ctx


@pytest.mark.parametrize("case, code, alert, role, version", params())
def test_bad_chain(world, chains, tmp_path, case, code, alert, role, version):
    leaf, intermediates = chains.chain(case, "server" if role == "client" else "client")
    ctx = stdlib_context(world, tmp_path, role, version, leaf, intermediates)
    if role == "client":
        host = "127.0.0.2" if case == "wrong-ip" else "localhost"
        target = Target(world.context("client", small=False), False, host)
        peer = StdlibPeer(ctx, True)
    else:
        target = Target(world.context("server", verify="required"), True)
        peer = StdlibPeer(ctx, False, "localhost")
        peer.step()                                  # its ClientHello
    outcome = run(target, peer, time_limit=5.0)
    err = expect_verify_failure(outcome, code, alert)
    assert err.verify_message and "certificate verify failed" in str(err)
    assert_peer_saw(outcome, alert)


@pytest.mark.parametrize("version", ["1.3", "1.2"], ids=["tls1.3", "tls1.2"])
@pytest.mark.parametrize("role", ["client", "server"])
def test_good_chain_with_intermediate_is_accepted(world, chains, tmp_path, role, version):
    """The control: the same machinery with a valid chain completes."""
    presenter = "server" if role == "client" else "client"
    hosts = ("localhost",) if presenter == "server" else ("client.example",)
    leaf = chains.inter.leaf(hosts=hosts, client=presenter == "client",
                             server=presenter == "server")
    ctx = stdlib_context(world, tmp_path, role, version, leaf, [chains.inter])
    if role == "client":
        target = Target(world.context("client", small=False), False)
        peer = StdlibPeer(ctx, True)
    else:
        target = Target(world.context("server", verify="required"), True)
        peer = StdlibPeer(ctx, False, "localhost")
        peer.step()
    outcome = run(target, peer, eof=False)
    assert outcome.error is None and outcome.completed and outcome.peer_error is None, outcome
    assert target.obj.getpeercert()["subject"]
