"""The interoperability matrix under pytest: one test per case of tests/interop_matrix.py
(cyssl in both roles against the stdlib's ssl, the openssl CLI, GnuTLS, curl and headless
Chromium; TLS 1.3 and 1.2, every suite and group, ECDSA and RSA certificates, ALPN,
resumption, client certificates). A case the peer cannot do skips as "peer lacks: ...";
a peer that apt cannot install skips as "unavailable: ..."; a case failing because of a
known cyssl bug is a strict xfail naming the bug. The whole table is printed at the end.
"""
import socket
import ssl

import pytest

import interop_matrix as matrix
from apt_packages import report


def _param(case):
    bug = matrix.KNOWN_BUGS.get(case.id)
    marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
    return pytest.param(case, id=case.id, marks=marks)


@pytest.fixture(scope="module")
def env(tmp_path_factory, pytestconfig):
    environment = matrix.Environment(tmp_path_factory.mktemp("interop"),
                                     say=lambda line: report(pytestconfig, line))
    yield environment
    if environment.results:
        report(pytestconfig, "\n" + matrix.table(environment.results) + "\n\n"
               + matrix.summary(environment.results))


@pytest.mark.parametrize("case", [_param(case) for case in matrix.all_cases()])
def test_interop(case, env):
    result = env.outcome(case)
    if result.status == matrix.LACKS:
        pytest.skip("peer lacks: " + result.detail)
    if result.status == matrix.UNAVAILABLE:
        pytest.skip("unavailable: " + result.detail)
    if result.error is not None:
        raise result.error


def test_every_peer_lists_every_dimension():
    """No suite, group, certificate or feature is silently missing for any peer and role
    (cases a peer cannot do are in the list and skip as 'peer lacks')."""
    for peer in matrix.PEERS.values():
        for role in peer.roles:
            cases = matrix.cases_for(peer.name, role)
            assert len({c.id for c in cases}) == len(cases)
            for version in matrix.VERSIONS:
                mine = [c for c in cases if c.version == version]
                suites = {c.suite for c in mine if c.suite}
                assert suites == set(matrix.TLS13_SUITES if version == matrix.TLS13 else
                                     matrix.TLS12_SUITES["ecdsa"] + matrix.TLS12_SUITES["rsa"])
                assert {c.group for c in mine if c.group} == set(matrix.GROUPS[version])
                assert {c.feature for c in mine if c.feature} == set(matrix.FEATURES)
                assert {c.cert for c in mine} == {"ecdsa", "rsa"}
    assert set(matrix.GROUPS[matrix.TLS13]) == {"X25519MLKEM768", "x25519", "secp256r1", "secp384r1"}
    roles = {(c.peer, c.role) for c in matrix.all_cases()}
    assert roles == {(p, r) for p in ("stdlib", "openssl", "gnutls") for r in ("client", "server")} | \
        {("curl", "server"), ("chromium", "server")}


def test_table_rendering():
    case = matrix.Case("openssl", "server", matrix.TLS13, suite="TLS_AES_128_GCM_SHA256")
    lacking = matrix.Case("gnutls", "client", matrix.TLS13, group=matrix.MLKEM)
    results = [matrix.Result(case, matrix.PASS, "TLSv1.3 TLS_AES_128_GCM_SHA256 x25519"),
               matrix.Result(lacking, matrix.LACKS, "GnuTLS 3.7.9 has no X25519MLKEM768")]
    text = matrix.table(results)
    assert "openssl" in text and "peer lacks" in text and "GnuTLS 3.7.9 has no" in text
    assert "openssl   server      1     1" in matrix.summary(results)
    grid = matrix.markdown(results)
    assert "| openssl | server | pass |  |" in grid and "| gnutls | client |  | lacks |" in grid
    assert "- gnutls: GnuTLS 3.7.9 has no X25519MLKEM768" in grid


def test_tls12_ecdsa_certificate_outside_client_curves(env):
    """RFC 8422 section 4: 'servers MUST NOT negotiate the use of an ECC cipher suite unless
    they can complete the handshake while respecting the choice of curves specified by the
    client'. A TLS 1.2 client offering x25519 alone cannot take a P-256 ECDSA certificate;
    a cyssl server holding only that one must refuse (handshake_failure, as OpenSSL's 'no
    shared cipher') rather than send it."""
    case = matrix.Case("stdlib", "server", matrix.TLS12, group="x25519", cert="ecdsa")
    client = matrix.PEERS["stdlib"].context(case, env, server_side=False)
    with matrix.CysslServer(case, env) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=matrix.IO_TIMEOUT) as raw:
            with pytest.raises(ssl.SSLError) as refused:
                client.wrap_socket(raw, server_hostname="localhost")
        server.server.wait_for(lambda records: records and "error" in records[0])
        record = server.records()[0]
    assert "HANDSHAKE_FAILURE" in str(refused.value), refused.value     # cyssl's alert
    assert "NO_SHARED_CIPHER" in record["error"] or "no cipher suite" in record["error"], record
