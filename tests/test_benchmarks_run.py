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


def test_tls13_inner_type_benchmark_times_each_way():
    result = subprocess.run([sys.executable, str(BENCHMARKS / "tls13_inner_type.py"), "--quick"],
                            check=True, capture_output=True, text=True, timeout=120)
    rows = [line.split() for line in result.stdout.splitlines()[2:]]
    assert [" ".join(row[:-2]) for row in rows] == \
        ["bare", "one-shot + 1 copy", "one-shot + 2 copies", "streaming + 1 copy"]
    assert all(float(row[-2]) > 0 for row in rows)


def test_receive_pieces_benchmark_times_each_case():
    result = subprocess.run([sys.executable, str(BENCHMARKS / "receive_pieces.py"), "--quick"],
                            check=True, capture_output=True, text=True, timeout=300)
    rows = result.stdout.splitlines()[2:]
    assert [row[:46].strip() for row in rows] == [
        "record-sized pieces, into 16 KiB", "64 KiB pieces, into 16 KiB",
        "64 KiB pieces, into 256 KiB", "256 KiB pieces, read(256 KiB) until WantRead"]
    assert all(float(row.split()[-2].rstrip("x")) > 0 for row in rows)


def test_demo_runs():
    result = subprocess.run([sys.executable, "-m", "cyssl", "demo"], check=True,
                            capture_output=True, text=True, timeout=60)
    assert "X25519MLKEM768" in result.stdout          # the post-quantum default
    assert "(verified)" in result.stdout and "'hello from cyssl'" in result.stdout
    assert "127.0.0.1" in result.stdout


def test_side_by_side_benchmark_reports_every_case(tmp_path):
    """benchmarks/run.py --quick: every section runs and reports each of its cases, with
    no failure (cyssl tracebacks, server-side errors, hangs) recorded."""
    out = tmp_path / "run.json"
    result = subprocess.run([sys.executable, str(BENCHMARKS / "run.py"), "--quick",
                             "--json", str(out)], capture_output=True, text=True, timeout=240)
    report = json.loads(out.read_text())
    assert report["failures"] == [], report["failures"]
    assert result.returncode == 0, result.stdout + result.stderr
    sections = report["sections"]
    expected = {
        "handshake": ["TLS 1.3 ECDSA P-256, x25519", "TLS 1.3 RSA-2048, x25519",
                      "TLS 1.2 ECDHE-ECDSA x25519"],
        "resume": ["TLS 1.3 ticket, psk_dhe_ke x25519", "TLS 1.2 ticket, ECDHE-ECDSA"],
        "bulk": ["TLS 1.3 default suites", "TLS 1.3 AES-256-GCM (cyssl pinned)",
                 "TLS 1.3 CHACHA20 (cyssl only)", "TLS 1.2 ECDHE-ECDSA-AES128-GCM",
                 "TLS 1.2 ECDHE-ECDSA-AES256-GCM", "TLS 1.2 ECDHE-ECDSA-CHACHA20"],
        "tcp": ["SSLSocket, server in another process",
                "SSLSocket, server thread (one GIL for both ends)", "asyncio streams"],
        "latency": ["SSLSocket, echo server in another process",
                    "SSLSocket, echo thread (one GIL for both ends)", "asyncio streams",
                    "MemoryBIO pair, no sockets (CPU cost of 2 seals + 2 opens)"],
        "memory": ["pairs", "contexts", "churn"],
        "cross": ["pairs"],
        "threaded": ["handshakes/s, 1 client thread", "MB/s (sink), 1 client thread",
                     "handshakes/s, 2 client threads", "MB/s (sink), 2 client threads"],
        "floor": ["floor"],
    }
    assert {name: [row["case"] for row in rows] for name, rows in sections.items()} == expected
    assert not any("error" in row for rows in sections.values() for row in rows)
    assert set(sections["cross"][0]["pairs"]) == \
        {"ssl -> ssl", "cyssl -> cyssl", "cyssl -> ssl", "ssl -> cyssl"}
    assert "X25519MLKEM768" in sections["handshake"][0]["negotiated"]
    # the memory-BIO floor is measured beside every bulk case
    assert all(row["floor_vs_bare"]["ratio"] > 0 and row["cyssl_vs_floor"]["ratio"] > 0
               for row in sections["bulk"])
    for name in ("== %d." % n for n in range(1, 10)):
        assert name in result.stdout


def test_side_by_side_benchmark_only_runs_the_named_sections(tmp_path):
    out = tmp_path / "run.json"
    subprocess.run([sys.executable, str(BENCHMARKS / "run.py"), "--quick", "--only", "cross",
                    "--json", str(out)], check=True, capture_output=True, timeout=120)
    assert set(json.loads(out.read_text())["sections"]) == {"cross"}
