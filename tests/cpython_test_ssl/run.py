#!/usr/bin/env python3
"""Run CPython's own test suite for ``ssl`` (the interpreter's ``test.test_ssl``) against cyssl.

    python tests/cpython_test_ssl/run.py [--json OUT] [-k PATTERN]... [-v]
                                         [--jobs N] [--timeout S] [--stdlib] [--use-network]

How ``ssl`` becomes cyssl: cyssl is imported first (it binds the interpreter's own ``ssl``
internally, for the stdlib exception classes and enums it reuses), then
``sys.modules["ssl"]`` is set to the cyssl module and only then is ``test.test_ssl``
imported. So ``test_ssl``'s module-level ``ssl``, the names it imports ``from ssl``, the
values it computes at import time (PROTOCOLS, IS_OPENSSL_3_0_0, the skip decorators that
read ssl.HAS_*), ``test.ssl_servers`` and the stdlib modules it drives (http.client,
urllib.request) all see cyssl, exactly as a program that did the same would. This is more
faithful than rebinding names after the import, which would leave the import-time values and
the stdlib clients on OpenSSL. ``import _ssl`` in test_ssl still gets the interpreter's
``_ssl``: tests of those internals are listed in not_applicable.txt.

test_ssl cannot even be imported unless ``ssl`` has four private data tables
(``_TLSContentType``, ``_TLSMessageType``, ``_TLSAlertType``: RFC code points;
``_PROTOCOL_NAMES``: names of the _SSLMethod members). When cyssl lacks one, the runner
sets the stdlib's object on the cyssl module (cyssl reuses the stdlib's enums anyway) and
says so in the summary ("shims"). Nothing else is patched: a missing public name is a
failure.

Every test runs in a worker process (``--jobs`` of them at a time, each taking a chunk of
one test class) under a per-test watchdog: a test that runs past ``--timeout`` seconds has
all thread stacks dumped to the worker's log and the worker exits; the test is reported as
an error ("timeout") and the rest of its chunk continues in a fresh worker. A worker that
crashes is handled the same way.

Workers run without SSL_CERT_FILE / SSL_CERT_DIR (unless --keep-ssl-env): those machine
settings change which code load_default_certs() runs, so figures would differ between
machines; test_ssl sets them itself where it tests them.

Every test is run, including those listed in not_applicable.txt (their outcome is reported
separately, so a listed test that starts passing is noticed). The pass rate is
passed / applicable, where applicable = run and not skipped by test_ssl, and not listed.

``--stdlib`` runs the same harness on the interpreter's own ssl (a baseline: what fails or
skips there is the environment's doing, not cyssl's).

Exit status: 0 when the run completed (whatever the pass rate), 2 when the runner itself
broke (e.g. test_ssl could not be imported).
"""
import argparse
import collections
import fnmatch
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
NOT_APPLICABLE = os.path.join(HERE, "not_applicable.txt")
MODULE = "test.test_ssl"

# Resources test_ssl may ask for. regrtest enables none by default; "walltime" guards
# local tests (test_echo, ...), so it is on; "network"/"urlfetch" reach the internet and
# stay off unless --use-network.
RESOURCES = ["walltime", "cpu", "subprocess", "largefile", "decimal", "tzdata"]
NETWORK_RESOURCES = ["network", "urlfetch"]

# Private data tables test_ssl needs at import time (see the module docstring).
IMPORT_TIME_PRIVATE_NAMES = ("_TLSContentType", "_TLSMessageType", "_TLSAlertType", "_PROTOCOL_NAMES")

EXIT_TIMEOUT = 86


class RunnerError(Exception):
    """The runner itself broke (as opposed to tests failing)."""


# ---------------------------------------------------------------------------- worker side

def _cyssl_path():
    """Where cyssl is imported from: $CYSSL_PATH (set from --cyssl-path), else this
    checkout's src/ when its extensions are built in place, else wherever ``import cyssl``
    finds it (an installed wheel)."""
    path = os.environ.get("CYSSL_PATH")
    if path:
        return path
    src = os.path.join(REPO, "src")
    package = os.path.join(src, "cyssl")
    if os.path.isdir(package) and any(n.endswith((".so", ".pyd")) for n in os.listdir(package)):
        return src
    return None


def _import_cyssl():
    path = _cyssl_path()
    if path:
        sys.path.insert(0, path)
    import cyssl
    return cyssl


def prepare(stdlib=False, use_network=False, verbose=False):
    """Make ``ssl`` be cyssl (unless ``stdlib``), configure test.support, import test_ssl.
    Returns (test module, info dict)."""
    import ssl as real_ssl
    info = {"python": sys.version.split()[0], "stdlib_openssl": real_ssl.OPENSSL_VERSION}
    if stdlib:
        info.update(module="ssl (stdlib)", module_file=real_ssl.__file__, shims=[])
        target = real_ssl
    else:
        cyssl = _import_cyssl()
        shims = []
        for name in IMPORT_TIME_PRIVATE_NAMES:
            if not hasattr(cyssl, name):
                setattr(cyssl, name, getattr(real_ssl, name))
                shims.append(name)
        sys.modules["ssl"] = cyssl
        info.update(module="cyssl %s" % cyssl.__version__, module_file=cyssl.__file__, shims=shims)
        target = cyssl
    from test import support
    support.verbose = 1 if verbose else 0
    support.use_resources = RESOURCES + (NETWORK_RESOURCES if use_network else [])
    import importlib
    test_ssl = importlib.import_module(MODULE)
    if test_ssl.ssl is not target:
        raise RuntimeError("test_ssl.ssl is %r, not the module under test" % (test_ssl.ssl,))
    import test.ssl_servers
    if test.ssl_servers.ssl is not target:
        raise RuntimeError("test.ssl_servers.ssl is not the module under test")
    return test_ssl, info


def _flatten(suite):
    import unittest
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from _flatten(item)
        else:
            yield item


def short_id(test):
    """'Class.test_name' for a test of test.test_ssl."""
    test_id = test.id()
    prefix = MODULE + "."
    return test_id[len(prefix):] if test_id.startswith(prefix) else test_id


def list_tests(args):
    import unittest
    test_ssl, info = prepare(args.stdlib, args.use_network)
    ids = [short_id(t) for t in _flatten(unittest.defaultTestLoader.loadTestsFromModule(test_ssl))]
    json.dump({"ids": ids, "info": info}, sys.stdout)


class _Watchdog:
    """One thread; arm() before each test, disarm() after. On expiry: note the timeout in
    the results, dump every thread's stack to stderr, exit the process."""

    def __init__(self, timeout, out):
        import threading
        self.timeout = timeout
        self.out = out
        self.current = None
        self.deadline = None
        self.cond = threading.Condition()
        threading.Thread(target=self._run, daemon=True, name="cpython-test-ssl-watchdog").start()

    def arm(self, test_id):
        with self.cond:
            self.current = test_id
            self.deadline = time.monotonic() + self.timeout
            self.cond.notify()

    def disarm(self):
        with self.cond:
            self.current = self.deadline = None
            self.cond.notify()

    def _run(self):
        import faulthandler
        with self.cond:
            while True:
                if self.deadline is None:
                    self.cond.wait()
                    continue
                left = self.deadline - time.monotonic()
                if left > 0:
                    self.cond.wait(left)
                    continue
                self.out.write(json.dumps({"event": "timeout", "id": self.current,
                                           "seconds": self.timeout}) + "\n")
                self.out.flush()
                sys.stderr.write("\n*** %s: timed out after %ss; thread stacks:\n"
                                 % (self.current, self.timeout))
                sys.stderr.flush()
                faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
                sys.stderr.flush()
                os._exit(EXIT_TIMEOUT)


def run_worker(args):
    """Run the tests named in args.ids_file, one JSON line per event into args.results."""
    import unittest
    import warnings
    out = open(args.results, "a", buffering=1)
    try:
        test_ssl, info = prepare(args.stdlib, args.use_network, args.support_verbose)
    except BaseException:
        import traceback
        out.write(json.dumps({"event": "import_error", "traceback": traceback.format_exc()}) + "\n")
        out.close()
        return 3
    with open(args.ids_file) as f:
        ids = [line.strip() for line in f if line.strip()]
    loader = unittest.defaultTestLoader
    suite = unittest.TestSuite(loader.loadTestsFromName(i, test_ssl) for i in ids)
    watchdog = _Watchdog(args.timeout, out)

    def emit(record):
        out.write(json.dumps(record) + "\n")

    class Result(unittest.TestResult):
        def __init__(self):
            super().__init__()
            self.outcome = None

        def _fmt(self, err, test):
            return self._exc_info_to_string(err, test)

        def startTest(self, test):
            super().startTest(test)
            self.outcome = {"status": "pass", "details": []}
            self.t0 = time.monotonic()
            emit({"event": "start", "id": short_id(test)})
            watchdog.arm(short_id(test))

        def stopTest(self, test):
            watchdog.disarm()
            super().stopTest(test)
            emit({"event": "end", "id": short_id(test), "status": self.outcome["status"],
                  "details": self.outcome["details"],
                  "seconds": round(time.monotonic() - self.t0, 3)})
            self.outcome = None

        def _set(self, status, detail):
            rank = {"pass": 0, "skip": 1, "xfail": 1, "fail": 2, "unexpected_success": 2, "error": 3}
            if self.outcome is None:              # a class or module fixture, outside a test
                emit({"event": "fixture", "id": detail.get("id"), "status": status,
                      "details": [detail]})
                return
            if rank[status] >= rank[self.outcome["status"]]:
                self.outcome["status"] = status
            self.outcome["details"].append(detail)

        def addError(self, test, err):
            super().addError(test, err)
            self._set("error", {"id": test.id(), "kind": "error", "text": self._fmt(err, test)})

        def addFailure(self, test, err):
            super().addFailure(test, err)
            self._set("fail", {"id": test.id(), "kind": "fail", "text": self._fmt(err, test)})

        def addSkip(self, test, reason):
            super().addSkip(test, reason)
            self._set("skip", {"id": test.id(), "kind": "skip", "text": reason})

        def addExpectedFailure(self, test, err):
            super().addExpectedFailure(test, err)
            self._set("xfail", {"id": test.id(), "kind": "xfail", "text": self._fmt(err, test)})

        def addUnexpectedSuccess(self, test):
            super().addUnexpectedSuccess(test)
            self._set("unexpected_success", {"id": test.id(), "kind": "unexpected_success",
                                             "text": ""})

        def addSubTest(self, test, subtest, err):
            super().addSubTest(test, subtest, err)
            if err is not None:
                failed = issubclass(err[0], test.failureException)
                self._set("fail" if failed else "error",
                          {"id": subtest.id(), "kind": "fail" if failed else "error",
                           "text": self._fmt(err, test)})

    result = Result()
    with warnings.catch_warnings():
        if not sys.warnoptions:
            warnings.simplefilter("default")       # as unittest.main does
        unittest.registerResult(result)
        suite(result)          # the top-level suite also runs the class/module teardowns
        unittest.removeResult(result)
    emit({"event": "done"})
    out.close()
    sys.stdout.flush()
    sys.stderr.flush()
    # Threads a test left behind must not keep the worker (or the run) alive.
    os._exit(0)


# ---------------------------------------------------------------------------- parent side

def load_not_applicable(path=NOT_APPLICABLE):
    """{test id: reason} from not_applicable.txt ('Class.test_name  # reason')."""
    entries = {}
    if not os.path.exists(path):
        return entries
    with open(path, encoding="utf-8") as f:
        for line in f:
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            test_id, _, reason = text.partition("#")
            entries[test_id.strip()] = reason.strip()
    return entries


def _matches(test_id, patterns):
    """unittest's -k rule: fnmatch on the id, '*pattern*' when there is no wildcard."""
    for pattern in patterns:
        if "*" not in pattern:
            pattern = "*%s*" % pattern
        if fnmatch.fnmatchcase(MODULE + "." + test_id, pattern) or \
                fnmatch.fnmatchcase(test_id, pattern):
            return True
    return False


def _chunks(ids, size):
    by_class = collections.OrderedDict()
    for test_id in ids:
        by_class.setdefault(test_id.split(".")[0], []).append(test_id)
    chunks = []
    for class_ids in by_class.values():
        for i in range(0, len(class_ids), size):
            chunks.append(class_ids[i:i + size])
    # Longest first, so the slow classes start early.
    chunks.sort(key=len, reverse=True)
    return chunks


def _worker_cmd(args, ids_file, results_file):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--ids-file", ids_file,
           "--results", results_file, "--timeout", str(args.timeout)]
    if args.stdlib:
        cmd.append("--stdlib")
    if args.use_network:
        cmd.append("--use-network")
    if args.support_verbose:
        cmd.append("--support-verbose")
    return cmd


# Trust-store variables some machines set (Nix, some CI images). They change which code
# paths load_default_certs() takes, so the figures would depend on the machine; test_ssl
# sets them itself where it tests them. --keep-ssl-env keeps them.
SSL_ENV = ("SSL_CERT_FILE", "SSL_CERT_DIR")


def _worker_env(args):
    env = dict(os.environ)
    if not args.keep_ssl_env:
        for name in SSL_ENV:
            env.pop(name, None)
    return env


def _tail(path, limit=4000):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return ""
    return data[-limit:].decode("utf-8", "replace")


def run_all(args, ids):
    """Run ``ids`` in worker processes. Returns ({id: record}, [fixture records], log dir)."""
    work = tempfile.mkdtemp(prefix="cpython_test_ssl_")
    queue = collections.deque(_chunks(ids, args.chunk_size))
    results, fixtures = {}, []
    running = []                  # (Popen, chunk, results_file, log_file, started, deadline)
    serial = 0

    def launch(chunk):
        nonlocal serial
        serial += 1
        ids_file = os.path.join(work, "chunk%03d.ids" % serial)
        results_file = os.path.join(work, "chunk%03d.jsonl" % serial)
        log_file = os.path.join(work, "chunk%03d.log" % serial)
        with open(ids_file, "w") as f:
            f.write("\n".join(chunk) + "\n")
        log = open(log_file, "wb")
        proc = subprocess.Popen(_worker_cmd(args, ids_file, results_file), stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=work, env=_worker_env(args))
        log.close()
        # A backstop beyond the per-test watchdog (a worker stuck outside any test).
        deadline = time.monotonic() + args.timeout * (len(chunk) + 2) + 60
        running.append((proc, chunk, results_file, log_file, time.monotonic(), deadline))

    def collect(proc, chunk, results_file, log_file, killed):
        events = []
        if os.path.exists(results_file):
            with open(results_file) as f:
                for line in f:
                    try:
                        events.append(json.loads(line))
                    except ValueError:
                        pass
        started, ended, timed_out, done, import_error = [], set(), None, False, None
        for event in events:
            kind = event["event"]
            if kind == "start":
                started.append(event["id"])
            elif kind == "end":
                ended.add(event["id"])
                results[event["id"]] = event
            elif kind == "timeout":
                timed_out = event
            elif kind == "fixture":
                fixtures.append(event)
            elif kind == "done":
                done = True
            elif kind == "import_error":
                import_error = event["traceback"]
        if import_error is not None:
            raise RunnerError("the worker could not import %s:\n%s" % (MODULE, import_error))
        unfinished = [i for i in started if i not in ended]
        if unfinished:
            culprit = unfinished[-1]
            if timed_out is not None:
                text = "timed out after %ss (per-test watchdog); thread stacks in the worker log:\n%s" \
                    % (timed_out["seconds"], _tail(log_file))
                status = "timeout"
            else:
                text = "worker died (exit status %s%s) during this test; log tail:\n%s" \
                    % (proc.returncode, ", killed by the runner's backstop" if killed else "",
                       _tail(log_file))
                status = "crash"
            results[culprit] = {"event": "end", "id": culprit, "status": status,
                                "details": [{"id": culprit, "kind": status, "text": text}],
                                "seconds": None}
            ended.add(culprit)
        remaining = [i for i in chunk if i not in ended and i not in started]
        if remaining and not done and (unfinished or proc.returncode != 0):
            queue.appendleft(remaining)          # continue the chunk in a fresh worker
        elif remaining:
            # The worker finished but never started these: a class/module fixture failed
            # (reported in ``fixtures``) or unittest dropped them.
            for test_id in remaining:
                cls = test_id.split(".")[0]
                related = [f for f in fixtures if cls in (f.get("id") or "")]
                text = "not run; " + ("fixture failed:\n" + related[-1]["details"][0]["text"]
                                      if related else "the worker never started this test")
                results[test_id] = {"event": "end", "id": test_id, "status": "error",
                                    "details": [{"id": test_id, "kind": "error", "text": text}],
                                    "seconds": None}

    while queue or running:
        while queue and len(running) < args.jobs:
            launch(queue.popleft())
        time.sleep(0.05)
        for entry in list(running):
            proc, chunk, results_file, log_file, started_at, deadline = entry
            killed = False
            if proc.poll() is None:
                if time.monotonic() < deadline:
                    continue
                try:
                    os.killpg(proc.pid, 9)        # the worker's own process group (it is ours)
                except ProcessLookupError:
                    pass
                proc.wait()
                killed = True
            running.remove(entry)
            collect(proc, chunk, results_file, log_file, killed)
            if args.verbose:
                for test_id in chunk:
                    record = results.get(test_id)
                    if record is not None and not record.get("_printed"):
                        record["_printed"] = True
                        print("%-70s %s" % (test_id, record["status"]), flush=True)
    return results, fixtures, work


SKIP_ENVIRONMENT_HINTS = ("resource", "network", "IPv6", "platform", "Windows", "macOS",
                          "requires", "Py_DEBUG", "ctypes")


def summarize(ids, results, not_applicable, fixtures, info, elapsed, all_ids=None):
    per_class = collections.OrderedDict()
    totals = collections.Counter()
    failures = []
    skips = collections.Counter()
    na_outcomes = collections.Counter()
    na_passing = []
    stale_na = sorted(set(not_applicable) - set(all_ids if all_ids is not None else ids))
    for test_id in ids:
        record = results.get(test_id) or {"status": "crash", "details": []}
        status = record["status"]
        cls = test_id.split(".")[0]
        row = per_class.setdefault(cls, collections.Counter())
        row["total"] += 1
        totals["total"] += 1
        if test_id in not_applicable:
            row["not_applicable"] += 1
            totals["not_applicable"] += 1
            na_outcomes[status] += 1
            if status == "pass":
                na_passing.append(test_id)
            continue
        if status in ("skip",):
            row["skipped"] += 1
            totals["skipped"] += 1
            reason = next((d["text"] for d in record["details"] if d["kind"] == "skip"), "")
            skips[reason] += 1
            continue
        row["applicable"] += 1
        totals["applicable"] += 1
        if status in ("pass", "xfail"):
            row["passed"] += 1
            totals["passed"] += 1
        elif status in ("fail", "unexpected_success"):
            row["failed"] += 1
            totals["failed"] += 1
            failures.append(test_id)
        else:                                    # error, timeout, crash
            row["errors"] += 1
            totals["errors"] += 1
            failures.append(test_id)
            if status in ("timeout", "crash"):
                row[status] += 1
                totals[status] += 1
    applicable = totals["applicable"]
    rate = 100.0 * totals["passed"] / applicable if applicable else 0.0
    return {
        "info": info, "seconds": round(elapsed, 1),
        "totals": dict(totals, pass_rate=round(rate, 2)),
        "per_class": {cls: dict(row) for cls, row in per_class.items()},
        "failures": failures,
        "skip_reasons": dict(skips.most_common()),
        "not_applicable_outcomes": dict(na_outcomes),
        "not_applicable_but_passing": na_passing,
        "not_applicable_unknown_ids": stale_na,
        "fixture_errors": fixtures,
    }


def _stuck_at(text):
    """For a watchdog dump: the innermost frame of the thread running the test."""
    blocks = text.split("\nThread ") + text.split("\nCurrent thread ")
    for block in blocks:
        if "in run_worker" in block:
            frames = [line.strip() for line in block.splitlines()
                      if line.strip().startswith("File ")]
            if frames:
                return frames[0]
    return ""


def _first_line(record):
    if record.get("status") == "timeout":
        text = record["details"][0]["text"]
        return ("%s; stuck at %s" % (text.splitlines()[0].split(";")[0], _stuck_at(text)))[:200]
    for detail in record.get("details", []):
        if detail["kind"] in ("fail", "error", "timeout", "crash", "unexpected_success"):
            lines = [line for line in detail["text"].strip().splitlines() if line.strip()]
            exc = [line for line in lines
                   if not line.startswith((" ", "Traceback", "During handling"))]
            return (exc[-1] if exc else (lines[-1] if lines else detail["kind"]))[:200]
    return record.get("status", "")


def print_summary(summary, results):
    info, t = summary["info"], summary["totals"]
    print()
    print("CPython test_ssl (Python %s) against %s" % (info["python"], info["module"]))
    print("  module file: %s" % info["module_file"])
    if info.get("shims"):
        print("  runner shims (private data tables test_ssl needs to import, taken from the "
              "stdlib): %s" % ", ".join(info["shims"]))
    print()
    header = "%-24s %6s %6s %6s %6s %6s %6s %6s" % ("class", "total", "n/a", "skip", "appl",
                                                    "pass", "fail", "error")
    print(header)
    print("-" * len(header))
    for cls, row in summary["per_class"].items():
        print("%-24s %6d %6d %6d %6d %6d %6d %6d" % (
            cls, row.get("total", 0), row.get("not_applicable", 0), row.get("skipped", 0),
            row.get("applicable", 0), row.get("passed", 0), row.get("failed", 0),
            row.get("errors", 0)))
    print("-" * len(header))
    print("%-24s %6d %6d %6d %6d %6d %6d %6d" % (
        "TOTAL", t.get("total", 0), t.get("not_applicable", 0), t.get("skipped", 0),
        t.get("applicable", 0), t.get("passed", 0), t.get("failed", 0), t.get("errors", 0)))
    print()
    print("applicable %d, passed %d, failed %d, errors %d (timeouts %d, crashes %d), "
          "skipped %d, not applicable %d: pass rate %.2f%% of applicable"
          % (t.get("applicable", 0), t.get("passed", 0), t.get("failed", 0), t.get("errors", 0),
             t.get("timeout", 0), t.get("crash", 0), t.get("skipped", 0),
             t.get("not_applicable", 0), t["pass_rate"]))
    if summary["skip_reasons"]:
        print("\nskipped by test_ssl itself (reason: count):")
        for reason, count in summary["skip_reasons"].items():
            print("  %3d  %s" % (count, reason))
    if summary["not_applicable_outcomes"]:
        print("\nnot-applicable tests, outcomes when run anyway: %s" % ", ".join(
            "%s %d" % kv for kv in sorted(summary["not_applicable_outcomes"].items())))
    if summary["not_applicable_but_passing"]:
        print("  listed as not applicable but passing: %s" % ", ".join(
            summary["not_applicable_but_passing"]))
    if summary["not_applicable_unknown_ids"]:
        print("  listed in not_applicable.txt but not in this test_ssl: %s" % ", ".join(
            summary["not_applicable_unknown_ids"]))
    if summary["fixture_errors"]:
        print("\nclass/module fixture errors:")
        for fixture in summary["fixture_errors"]:
            print("  %s" % fixture.get("id"))
    if summary["failures"]:
        print("\nfailures and errors (applicable tests):")
        for test_id in summary["failures"]:
            record = results[test_id]
            print("  %-62s %-7s %s" % (test_id, record["status"], _first_line(record)))
    print("\nrun time %.1f s" % summary["seconds"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", metavar="OUT", help="write the summary and every result here")
    parser.add_argument("-k", dest="patterns", action="append", default=[],
                        help="only tests whose id matches (unittest -k rules; repeatable)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every test's outcome")
    parser.add_argument("--jobs", type=int, default=max(2, os.cpu_count() or 2),
                        help="worker processes at a time (default: CPUs, at least 2)")
    parser.add_argument("--timeout", type=float, default=45.0,
                        help="per-test timeout in seconds (default 45; the slowest test takes ~3 s)")
    parser.add_argument("--keep-ssl-env", action="store_true",
                        help="keep SSL_CERT_FILE / SSL_CERT_DIR in the workers' environment "
                             "(by default they are removed, for machine-independent figures)")
    parser.add_argument("--keep-logs", action="store_true",
                        help="keep the worker logs (their directory is printed)")
    parser.add_argument("--chunk-size", type=int, default=20, help="tests per worker process")
    parser.add_argument("--stdlib", action="store_true",
                        help="baseline: run on the interpreter's own ssl, not cyssl")
    parser.add_argument("--use-network", action="store_true",
                        help="enable test_ssl's 'network' resource (internet hosts)")
    parser.add_argument("--support-verbose", action="store_true",
                        help="set test.support.verbose (test_ssl's chatty servers)")
    parser.add_argument("--tracebacks", action="store_true",
                        help="print the full traceback of every failure")
    parser.add_argument("--cyssl-path", metavar="DIR",
                        help="import cyssl from DIR (default: this checkout's src/ when built "
                             "in place, else the installed cyssl)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--list", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--ids-file", help=argparse.SUPPRESS)
    parser.add_argument("--results", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.cyssl_path:
        os.environ["CYSSL_PATH"] = os.path.abspath(args.cyssl_path)   # the workers inherit it
    if args.worker:
        return run_worker(args)
    if args.list:
        list_tests(args)
        return 0

    t0 = time.monotonic()
    listing = subprocess.run([sys.executable, os.path.abspath(__file__), "--list"]
                             + (["--stdlib"] if args.stdlib else [])
                             + (["--use-network"] if args.use_network else []),
                             capture_output=True, text=True, timeout=300)
    if listing.returncode != 0:
        sys.stderr.write("run.py: could not load %s:\n%s" % (MODULE, listing.stderr))
        return 2
    listed = json.loads(listing.stdout)
    ids, info = listed["ids"], listed["info"]
    if args.patterns:
        ids = [i for i in ids if _matches(i, args.patterns)]
    not_applicable = load_not_applicable()
    print("running %d tests of %s against %s (%d jobs, %ss per-test timeout)"
          % (len(ids), MODULE, info["module"], args.jobs, args.timeout), flush=True)
    try:
        results, fixtures, work = run_all(args, ids)
    except RunnerError as err:
        sys.stderr.write("run.py: %s\n" % err)
        return 2
    summary = summarize(ids, results, not_applicable if not args.stdlib else {}, fixtures, info,
                        time.monotonic() - t0, all_ids=listed["ids"])
    if args.keep_logs:
        summary["worker_logs"] = work
        print("worker logs: %s" % work)
    else:
        import shutil
        shutil.rmtree(work, ignore_errors=True)
    print_summary(summary, results)
    if args.tracebacks:
        for test_id in summary["failures"]:
            print("\n" + "=" * 78 + "\n" + test_id)
            for detail in results[test_id]["details"]:
                if detail["kind"] != "skip":
                    print(detail["text"])
    if args.json:
        summary["results"] = {i: results.get(i) for i in ids}
        summary["not_applicable"] = not_applicable
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
