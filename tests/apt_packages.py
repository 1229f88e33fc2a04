"""Installing the Debian packages that real-peer tests need (chromium, gnutls-bin, tshark...)
with apt-get, as CI can: root, non-interactive, no standard input.

``install_missing({"binary": "package", ...})`` installs the packages whose binary is not
on PATH, running ``apt-get update`` first only when the package lists lack them or a first
install fails, and returns None or why it could not (a short first line for a skip
reason, then apt's output). ``require(pytestconfig, packages, what)`` does the same in a
test and skips with that reason. apt waits for a lock held by another apt for a while.
"""
import os
import shutil
import subprocess
import time

APT_TIMEOUT = 900
LOCK_TIMEOUT = 120


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


def _apt(args, timeout):
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    proc = subprocess.run(["apt-get", "-o", "DPkg::Lock::Timeout=%d" % LOCK_TIMEOUT] + args,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
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


def missing_packages(packages):
    """The packages (of a {binary: package} dict) whose binary is not on PATH."""
    return sorted({pkg for binary, pkg in packages.items() if shutil.which(binary) is None})


def install_missing(packages, say=print):
    """apt-get install whatever of ``packages`` ({binary: package}) is missing. Returns
    None, or why not. ``say`` gets one line when something was installed."""
    missing = missing_packages(packages)
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
    say("installed %s with apt-get in %.1f s" % (" ".join(missing), time.monotonic() - start))
    still = [b for b in packages if shutil.which(b) is None]
    if still:
        return "apt-get succeeded but %s still not on PATH\n%s" % (", ".join(still), log[-2000:])
    return None


def require(pytestconfig, packages, what):
    """In a test or fixture: install what is missing of ``packages`` or skip, saying why."""
    problem = install_missing(packages, lambda line: report(pytestconfig, "\n" + line))
    if problem is not None:
        report(pytestconfig, "SKIP %s: %s" % (what, problem))
        import pytest
        pytest.skip(problem.splitlines()[0])
