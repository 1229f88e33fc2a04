"""The benchmark scripts run and report every case (a smoke run: nothing here is timed)."""
import json
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def test_record_benchmark_reports_every_suite_and_size(tmp_path):
    from cyssl.tls.suites import ALL_SUITES
    out = tmp_path / "record.json"
    subprocess.run([sys.executable, str(BENCHMARKS / "record.py"), "--quick", "--json", str(out)],
                   check=True, capture_output=True, timeout=300)
    rows = json.loads(out.read_text())["rows"]
    assert {(r["suite"], r["bytes"]) for r in rows} == \
        {(s.name, size) for s in ALL_SUITES for size in (16384, 64)}
    assert all(r["bare_us"] > 0 and r["record_us"] > 0 and r["stream_us"] > 0 for r in rows)


def test_demo_runs():
    result = subprocess.run([sys.executable, "-m", "cyssl", "demo"], check=True,
                            capture_output=True, text=True, timeout=60)
    assert "X25519MLKEM768" in result.stdout          # the post-quantum default
    assert "verified: True" in result.stdout and "'hello from cyssl'" in result.stdout
