"""Post-quantum interop with a real, independent TLS stack: headless Chromium (Debian's
``chromium``, BoringSSL inside) fetches a page from a cyssl engine server on 127.0.0.1.

Chromium offers X25519MLKEM768 with a key share by default, so a cyssl server with its
default groups must agree on it in one round trip. Chromium verifies the certificate for
real: the test root is put in an NSS database under a temporary HOME (certutil from
libnss3-tools), which Chromium on Linux trusts; no --ignore-certificate-errors. A control
run without the root shows that Chromium does refuse the chain then.

The module fixture installs chromium and libnss3-tools with apt-get when they are missing
(root, non-interactive; tests/apt_packages.py); when apt cannot install them the tests
skip, saying why. Running Chromium (off the network) is tests/chromium_peer.py.
"""
import json
import shutil

import pytest

import pki
from apt_packages import report, require
from chromium_peer import PACKAGES, dump_dom, make_home, quiet, version
from https_engine_server import EngineHTTPSServer
from peers import server_config
from cyssl.crypto import groups
from cyssl.tls.suites import TLS13_SUITES

TLS13_SUITE_NAMES = {s.name for s in TLS13_SUITES}


@pytest.fixture(scope="module")
def chromium(pytestconfig):
    """(path to chromium, its version line); installs chromium + certutil when missing."""
    require(pytestconfig, PACKAGES, "chromium interop")
    path = shutil.which("chromium")
    line = version(path)
    report(pytestconfig, "\n%s (%s)" % (line, path))
    return path, line


@pytest.fixture(scope="module")
def root():
    return pki.CA.root("ecdsa-p256")


@pytest.fixture(scope="module")
def leaf(root):
    return root.leaf(hosts=("localhost", "127.0.0.1"))


# Running Chromium --------------------------------------------------------------------

def fetch(pytestconfig, chromium, tmp_path, config_factory, trust_root):
    """Serve one page with cyssl, let Chromium fetch it; (rc, DOM, stderr, records)."""
    home = make_home(tmp_path, trust_root)
    server = EngineHTTPSServer(config_factory, io_timeout=10.0).start()
    try:
        rc, dom, stderr = dump_dom(chromium[0], "https://localhost:%d/" % server.port, home)
    finally:
        server.stop()
    records = server.snapshot()
    report(pytestconfig, "\ncyssl server, %d connection(s) from Chromium:" % len(records))
    for record in records:
        report(pytestconfig, "  " + json.dumps(record, sort_keys=True))
    return rc, dom, stderr, records


def page_served(records):
    """The record of the connection that answered GET / (there must be one)."""
    served = [r for r in records if (r.get("request") or "").startswith("GET / ")]
    assert served, "no connection served GET /; records: %r" % records
    return served[0]


def assert_no_tls_failure(records):
    """Connections Chromium opened and dropped are fine; a TLS alert or error is not."""
    failed = [r for r in records if "TLSError" in (r.get("error") or "")]
    assert not failed, "TLS failures: %r" % failed


def http11_config(leaf, **settings):
    return lambda: server_config(leaf, alpn_protocols=[b"http/1.1"], **settings)


# Tests ---------------------------------------------------------------------------

def test_chromium_negotiates_x25519mlkem768(pytestconfig, chromium, tmp_path, root, leaf):
    assert groups.supported(0x11EC), "this cryptography backend cannot run ML-KEM-768"
    rc, dom, stderr, records = fetch(pytestconfig, chromium, tmp_path, http11_config(leaf), root)
    assert '<p id="group">X25519MLKEM768</p>' in dom, \
        "page not shown (rc %d); DOM:\n%s\nstderr:\n%s" % (rc, dom, quiet(stderr))
    served = page_served(records)
    assert served["handshake_complete"] and served["responded"]
    assert served["group"] == "X25519MLKEM768"
    assert served["version"] == "TLSv1.3"
    assert served["suite"] in TLS13_SUITE_NAMES
    assert '<p id="suite">%s</p>' % served["suite"] in dom
    assert '<p id="version">TLSv1.3</p>' in dom
    assert served["alpn"] == "http/1.1"
    assert served["server_name"] == "localhost"
    assert not served["hello_retry"]            # Chromium sent an X25519MLKEM768 share
    completed = [r for r in records if r.get("handshake_complete")]
    assert {r["group"] for r in completed} == {"X25519MLKEM768"}
    assert_no_tls_failure(records)


def test_chromium_refuses_untrusted_root(pytestconfig, chromium, tmp_path, leaf):
    """Control: with no root in NSS, Chromium rejects cyssl's chain, so the trusted
    runs above really verified it (and cyssl records the alert Chromium sends)."""
    rc, dom, stderr, records = fetch(pytestconfig, chromium, tmp_path, http11_config(leaf), None)
    assert "cyssl TLS engine" not in dom
    # Older builds log the error's name, newer ones (150) only its number: -202 is
    # ERR_CERT_AUTHORITY_INVALID in Chromium's net/base/net_error_list.h.
    assert "ERR_CERT_AUTHORITY_INVALID" in stderr or "net_error -202" in stderr, quiet(stderr)
    assert records and not any(r.get("handshake_complete") for r in records)
    alerts = [r for r in records if "certificate_unknown" in (r.get("error") or "")
              or "bad_certificate" in (r.get("error") or "")]
    assert alerts, records
    assert alerts[0]["group"] == "X25519MLKEM768"


def test_chromium_with_x25519_only_server(pytestconfig, chromium, tmp_path, root, leaf):
    """A server configured for x25519 alone still serves Chromium, over x25519."""
    rc, dom, stderr, records = fetch(pytestconfig, chromium, tmp_path,
                                     http11_config(leaf, groups=[0x001D]), root)
    assert '<p id="group">x25519</p>' in dom, \
        "page not shown (rc %d); DOM:\n%s\nstderr:\n%s" % (rc, dom, quiet(stderr))
    served = page_served(records)
    assert served["group"] == "x25519" and served["version"] == "TLSv1.3"
    assert not served["hello_retry"]            # Chromium also sends an x25519 share
    assert {r["group"] for r in records if r.get("handshake_complete")} == {"x25519"}
    assert_no_tls_failure(records)


def test_chromium_hello_retry_for_p256(pytestconfig, chromium, tmp_path, root, leaf):
    """A secp256r1-only server makes Chromium (no P-256 share) retry: HelloRetryRequest."""
    rc, dom, stderr, records = fetch(pytestconfig, chromium, tmp_path,
                                     http11_config(leaf, groups=[0x0017]), root)
    assert '<p id="group">secp256r1</p>' in dom, \
        "page not shown (rc %d); DOM:\n%s\nstderr:\n%s" % (rc, dom, quiet(stderr))
    served = page_served(records)
    assert served["group"] == "secp256r1" and served["version"] == "TLSv1.3"
    assert served["hello_retry"]
    assert_no_tls_failure(records)
