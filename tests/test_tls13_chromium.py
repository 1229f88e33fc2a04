"""Post-quantum interop with a real, independent TLS stack: headless Chromium (Debian's
``chromium``, BoringSSL inside) fetches a page from a cyssl engine server on 127.0.0.1.

Chromium offers X25519MLKEM768 with a key share by default, so a cyssl server with its
default groups must agree on it in one round trip. Chromium verifies the certificate for
real: the test root is put in an NSS database under a temporary HOME (certutil from
libnss3-tools), which Chromium on Linux trusts; no --ignore-certificate-errors. A control
run without the root shows that Chromium does refuse the chain then.

The module fixture installs chromium and libnss3-tools with apt-get when they are missing
(root, non-interactive); when apt cannot install them the tests skip, saying why.
Chromium is kept off the network: every host name but localhost resolves to nothing and
its background services are switched off.
"""
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

import pki
from https_engine_server import EngineHTTPSServer
from peers import server_config
from cyssl.crypto import groups
from cyssl.tls.suites import TLS13_SUITES

PACKAGES = {"chromium": "chromium", "certutil": "libnss3-tools"}     # binary: package
APT_TIMEOUT = 900
CHROMIUM_TIMEOUT = 60
TLS13_SUITE_NAMES = {s.name for s in TLS13_SUITES}
CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--no-default-browser-check", "--disable-extensions", "--disable-sync",
    "--disable-background-networking", "--disable-component-update",
    "--disable-domain-reliability", "--disable-default-apps", "--no-pings",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost",
]


def report(pytestconfig, text):
    """Write to the terminal even while pytest captures output (so CI logs show it)."""
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    reporter = pytestconfig.pluginmanager.getplugin("terminalreporter")
    if capture is None or reporter is None:
        print(text)
        return
    with capture.global_and_fixture_disabled():
        for line in text.splitlines():
            reporter.write_line(line)


# Installing ------------------------------------------------------------------------

def _apt(args, timeout):
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    proc = subprocess.run(["apt-get"] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, env=env, timeout=timeout)
    return proc.returncode, proc.stdout.decode(errors="replace")


def _has_candidates(packages):
    """Whether apt's lists know every package (else they need an update first)."""
    proc = subprocess.run(["apt-cache", "policy"] + packages, stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=60)
    text = proc.stdout.decode(errors="replace")
    return proc.returncode == 0 and "Candidate: (none)" not in text and \
        all(("%s:" % p) in text for p in packages)


def _last_line(output):
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no output"


def install_missing(pytestconfig):
    """apt-get install whatever of PACKAGES is missing, running apt-get update first only
    when the package lists lack them or a first install fails. Returns None, or why not
    (first line short, for the skip reason; then apt's output)."""
    missing = sorted({pkg for binary, pkg in PACKAGES.items() if shutil.which(binary) is None})
    if not missing:
        return None
    if shutil.which("apt-get") is None:
        return "%s missing and there is no apt-get to install it" % " ".join(missing)
    start = time.monotonic()
    deadline = start + APT_TIMEOUT
    failures = []
    log = ""
    try:
        for attempt in ("as is", "after apt-get update"):
            if attempt != "as is" or not _has_candidates(missing):
                rc, out = _apt(["update"], max(1, deadline - time.monotonic()))
                log += out
                if rc != 0:
                    failures.append("apt-get update: exit %d: %s" % (rc, _last_line(out)))
                    break
            rc, out = _apt(["install", "-y", "--no-install-recommends"] + missing,
                           max(1, deadline - time.monotonic()))
            log += out
            if rc == 0:
                break
            failures.append("apt-get install %s: exit %d: %s" % (" ".join(missing), rc, _last_line(out)))
    except subprocess.TimeoutExpired:
        return "apt-get did not finish within %d s\n%s" % (APT_TIMEOUT, log[-2000:])
    except OSError as err:
        return "apt-get could not run: %s" % err
    if failures and rc != 0:
        return "cannot install %s (%s)\n%s" % (" ".join(missing), "; then ".join(failures), log[-2000:])
    report(pytestconfig, "\ninstalled %s with apt-get in %.1f s"
           % (" ".join(missing), time.monotonic() - start))
    still = [b for b in PACKAGES if shutil.which(b) is None]
    if still:
        return "apt-get succeeded but %s still not on PATH\n%s" % (", ".join(still), log[-2000:])
    return None


@pytest.fixture(scope="module")
def chromium(pytestconfig):
    """(path to chromium, its version line); installs chromium + certutil when missing."""
    problem = install_missing(pytestconfig)
    if problem is not None:
        report(pytestconfig, "SKIP chromium interop: " + problem)
        pytest.skip(problem.splitlines()[0])
    path = shutil.which("chromium")
    version = subprocess.run([path, "--version"], stdin=subprocess.DEVNULL, capture_output=True,
                             timeout=30).stdout.decode(errors="replace").strip()
    report(pytestconfig, "\n%s (%s)" % (version, path))
    return path, version


@pytest.fixture(scope="module")
def root():
    return pki.CA.root("ecdsa-p256")


@pytest.fixture(scope="module")
def leaf(root):
    return root.leaf(hosts=("localhost", "127.0.0.1"))


# Running Chromium --------------------------------------------------------------------

def make_home(tmp_path, root=None):
    """A HOME whose NSS database (what Chromium on Linux trusts) holds ``root``, if any."""
    home = tmp_path / "home"
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    certutil = shutil.which("certutil")
    subprocess.run([certutil, "-d", "sql:%s" % nssdb, "-N", "--empty-password"],
                   check=True, capture_output=True, timeout=30)
    if root is not None:
        pem = tmp_path / "root.pem"
        pem.write_bytes(root.cert_pem())
        subprocess.run([certutil, "-d", "sql:%s" % nssdb, "-A", "-n", "cyssl test root",
                        "-t", "C,,", "-i", str(pem)], check=True, capture_output=True, timeout=30)
    return home


def dump_dom(chromium_path, url, home):
    """Run headless Chromium on ``url``; returns (exit code, dumped DOM, stderr)."""
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_CACHE_HOME=str(home / ".cache"))
    args = [chromium_path] + CHROMIUM_FLAGS + ["--user-data-dir=%s" % (home / "profile"),
                                               "--dump-dom", url]
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=CHROMIUM_TIMEOUT)
        timed_out = False
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)     # its own session: helpers it left behind
        except ProcessLookupError:
            pass
    if timed_out:
        out, err = proc.communicate(timeout=10)
        raise AssertionError("chromium did not finish within %d s; stderr:\n%s"
                             % (CHROMIUM_TIMEOUT, quiet(err)))
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def quiet(stderr):
    """Chromium's stderr without the D-Bus noise of a machine with no session bus."""
    if isinstance(stderr, bytes):
        stderr = stderr.decode(errors="replace")
    return "\n".join(line for line in stderr.splitlines() if "dbus" not in line.lower())


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
    assert "ERR_CERT_AUTHORITY_INVALID" in stderr, quiet(stderr)
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
