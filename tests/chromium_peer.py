"""Headless Chromium (Debian's ``chromium``, BoringSSL inside) as a TLS client peer for
tests: a HOME whose NSS database trusts a test root, and one page load with ``--dump-dom``.

Chromium is kept off the network: every host name but localhost resolves to nothing and
its background services are switched off. ``PACKAGES`` says what apt_packages installs.
"""
import os
import shutil
import signal
import subprocess

PACKAGES = {"chromium": "chromium", "certutil": "libnss3-tools"}     # binary: package
CHROMIUM_TIMEOUT = 60
CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--no-default-browser-check", "--disable-extensions", "--disable-sync",
    "--disable-background-networking", "--disable-component-update",
    "--disable-domain-reliability", "--disable-default-apps", "--no-pings",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost",
]


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


def version(chromium_path):
    """Chromium's version line."""
    return subprocess.run([chromium_path, "--version"], stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=30).stdout.decode(errors="replace").strip()
