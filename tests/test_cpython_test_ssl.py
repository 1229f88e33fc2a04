"""CPython's own test_ssl, run against cyssl (tests/cpython_test_ssl/run.py).

The runner makes ``ssl`` be cyssl for the interpreter's test.test_ssl, runs every test in
worker processes under a per-test watchdog and reports the pass rate over the applicable
tests: those test_ssl did not skip and tests/cpython_test_ssl/not_applicable.txt does not
list (OpenSSL internals, legacy protocols, FFDHE, CRLs, private _ssl objects). The summary
is printed even when this test passes, so CI logs show it.

The issue's target is >= 90% of the applicable tests. MIN_PASS_RATE is what cyssl
achieves today, rounded down: a floor against regressions, to be raised as fixes land.
"""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

RUNNER = Path(__file__).resolve().parent / "cpython_test_ssl" / "run.py"

# not_applicable.txt was written against this Python's test_ssl; other versions have
# other tests, so there the figures are reported but not held to the floor.
CALIBRATED_FOR = (3, 11)
MIN_PASS_RATE = 99.0           # percent of applicable tests; measured 99.3 (139 of 140)
TARGET_PASS_RATE = 90.0        # the goal, reported alongside


def test_cpython_test_ssl_pass_rate(tmp_path, capsys):
    if importlib.util.find_spec("test.test_ssl") is None:
        pytest.skip("this interpreter does not ship test.test_ssl (e.g. Debian without "
                    "libpython3-testsuite)")
    import cyssl
    cyssl_path = str(Path(cyssl.__file__).resolve().parent.parent)   # the cyssl under test
    out = tmp_path / "test_ssl.json"
    proc = subprocess.run(
        [sys.executable, str(RUNNER), "--json", str(out), "--cyssl-path", cyssl_path],
        capture_output=True, text=True, timeout=600, cwd=str(tmp_path),
        env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    with capsys.disabled():
        sys.stdout.write("\n" + proc.stdout)
        if proc.returncode != 0:
            sys.stdout.write(proc.stderr[-5000:])
    assert proc.returncode == 0, "the runner itself broke:\n" + proc.stderr[-5000:]

    summary = json.loads(out.read_text())
    totals = summary["totals"]
    assert summary["info"]["module"].startswith("cyssl"), summary["info"]
    assert totals.get("applicable", 0) > 0, totals
    rate = totals["pass_rate"]
    with capsys.disabled():
        sys.stdout.write("test_ssl against cyssl: %.2f%% of %d applicable tests pass "
                         "(floor %.1f%%, target %.1f%%)\n"
                         % (rate, totals["applicable"], MIN_PASS_RATE, TARGET_PASS_RATE))
    if sys.version_info[:2] != CALIBRATED_FOR:
        pytest.skip("figures reported above; not_applicable.txt and the floor are calibrated "
                    "for Python %d.%d's test_ssl" % CALIBRATED_FOR)
    assert rate >= MIN_PASS_RATE, (
        "CPython test_ssl pass rate fell to %.2f%% (floor %.1f%%); failures: %s"
        % (rate, MIN_PASS_RATE, ", ".join(summary["failures"])))
