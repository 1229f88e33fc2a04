"""Run each fuzz target in fuzz/ for a bounded time (CYSSL_FUZZ_SECONDS, default 20 s)
from seeds made by fuzz/make_seeds.py; fail when a target finds a crash, a timeout
(one input over 1 s) or runs out of memory (2 GB). See fuzz/README.md.

atheris is used when it is importable or can be installed (into a temporary directory,
never into the environment); when it cannot be, the tests are skipped with the reason.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parent.parent / "fuzz"
TARGETS = ["record", "messages", "server", "client", "server_scripted", "client_scripted"]
SECONDS = int(os.environ.get("CYSSL_FUZZ_SECONDS", "20"))

needs_fuzz_dir = pytest.mark.skipif(not (FUZZ / "_common.py").exists(),
                                    reason="fuzz/ is not part of this checkout")


def _env(extra_path=None):
    env = dict(os.environ)
    env.pop("CYSSL_FUZZ_KNOWN", None)            # CI runs with every check on
    env.pop("CYSSL_FUZZ_NO_ATHERIS", None)
    if extra_path:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [extra_path, env.get("PYTHONPATH")]))
    return env


def _has_atheris(extra_path=None):
    probe = subprocess.run([sys.executable, "-c", "import atheris"], env=_env(extra_path),
                           capture_output=True, timeout=60)
    return probe.returncode == 0


@pytest.fixture(scope="module")
def fuzz_env(tmp_path_factory):
    """(environment, corpus root) for the fuzz subprocesses."""
    base = tmp_path_factory.mktemp("fuzz")
    extra = None
    if not _has_atheris():
        extra = str(base / "site")
        try:
            install = subprocess.run(
                [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                 "--target", extra, "atheris"], capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            reason = "atheris cannot be installed: %s" % exc
        else:
            reason = "atheris cannot be installed: %s" % (install.stderr.strip()[-500:] or
                                                          "pip exit %d" % install.returncode)
        if not _has_atheris(extra):
            print(reason)
            pytest.skip(reason)
    env = _env(extra)
    seeds = subprocess.run([sys.executable, str(FUZZ / "make_seeds.py"), str(base / "corpus")],
                           env=env, capture_output=True, text=True, timeout=600)
    assert seeds.returncode == 0, seeds.stdout + seeds.stderr
    return env, base


@needs_fuzz_dir
@pytest.mark.parametrize("target", TARGETS)
def test_fuzz_target_finds_nothing(fuzz_env, target):
    env, base = fuzz_env
    corpus = base / "corpus" / target
    artifacts = base / "artifacts" / target
    artifacts.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, str(FUZZ / ("%s_fuzz.py" % target)),
               "-max_total_time=%d" % SECONDS, "-timeout=1", "-rss_limit_mb=2048",
               "-print_final_stats=1", "-artifact_prefix=%s/" % artifacts, str(corpus)]
    run = subprocess.run(command, env=env, capture_output=True, text=True,
                         timeout=SECONDS * 4 + 120)
    findings = sorted(p for p in artifacts.iterdir()
                      if p.name.split("-")[0] in ("crash", "timeout", "oom", "leak", "slow"))
    if run.returncode != 0 or findings:
        reproducers = "\n".join("%s: %s" % (p.name, p.read_bytes().hex()) for p in findings)
        output = (run.stdout or "")[-4000:] + "\n" + (run.stderr or "")[-3000:]
        pytest.fail("fuzz target %s found a problem (exit %d)\n%s\n--- reproducers (hex; run "
                    "`python fuzz/%s_fuzz.py FILE` to replay)\n%s"
                    % (target, run.returncode, output, target, reproducers), pytrace=False)
    stats = [line for line in (run.stderr or "").splitlines() if line.startswith("stat::")
             or " DONE " in line]
    print("\n".join(stats[-4:]))
