"""What the fuzz corpora reach in cyssl, since atheris cannot see inside the compiled
engine without a special build:

* raise sites: every place the engine (src/cyssl/tls/*.pyx, *.py) raises a TLSError
  with a literal message, and whether some corpus input ends with that error;
* Python line coverage of cyssl's pure-Python modules while the corpora replay.

    python fuzz/coverage_report.py [CORPUS_ROOT]     # default fuzz/corpus
"""
import importlib
import os
import re
import sys

import _common

SRC = os.path.dirname(os.path.dirname(_common.tlsconfig.__file__))      # .../cyssl
TARGETS = ("record", "messages", "server", "client", "server_scripted", "client_scripted")
_RAISERS = r"(TLSError|decode_error|illegal_parameter|unexpected_message|missing_extension|" \
           r"decrypt_error|handshake_failure)\("
_LITERALS = re.compile(r'(?:"((?:[^"\\\n]|\\.)*)"\s*)+')
_ONE = re.compile(r'"((?:[^"\\\n]|\\.)*)"')


def _call_arguments(text, start):
    """The top-level arguments (source text) of the call whose "(" ends at ``start``."""
    args, depth, i, begin, quote = [], 1, start, start, None
    while i < len(text) and depth:
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                args.append(text[begin:i])
        elif c == "," and depth == 1:
            args.append(text[begin:i])
            begin = i + 1
        i += 1
    return [a.strip() for a in args]


def _literal(arg):
    """The string an argument spells with adjacent literals (before any %), or None."""
    head = arg.split("%")[0].strip() if not arg.strip().startswith('"') else arg
    match = _LITERALS.match(head.strip())
    if not match:
        return None
    return "".join(_ONE.findall(match.group(0)))


def raise_sites():
    """[(file, line, reason or None, message regex)] for the engine's raise sites whose
    message is a literal (helpers that pass a message through are not sites)."""
    sites = []
    tls = os.path.join(SRC, "tls")
    for name in sorted(os.listdir(tls)):
        if not name.endswith((".pyx", ".py")):
            continue
        text = open(os.path.join(tls, name)).read()
        for match in re.finditer(_RAISERS, text):
            if text[max(0, match.start() - 4):match.start()].endswith("def ") or \
                    text[max(0, match.start() - 1):match.start()].isalnum():
                continue
            args = _call_arguments(text, match.end())
            if match.group(1) == "TLSError":
                if len(args) < 3:
                    continue
                reason, message = _literal(args[1]), _literal(args[2])
            else:
                message = _literal(args[0]) if args else None
                reason = _literal(args[1]) if len(args) > 1 else None
            if message is None:
                continue
            pattern = re.escape(message)
            pattern = re.sub(r"%(?:\\\#)?0?\d*[dsrxi]", ".*?", pattern)
            line = text.count("\n", 0, match.start()) + 1
            sites.append((name, line, reason, re.compile(pattern + "$", re.S)))
    return sites


def replay(corpus_root):
    """Error messages seen and Python lines executed while replaying every corpus."""
    seen = set()
    original = _common.error_feature

    def collect(where, err):
        seen.add((err.reason, err.message))
        original(where, err)
    _common.error_feature = collect
    executed = set()

    def tracer(frame, event, arg):
        filename = frame.f_code.co_filename
        if not filename.startswith(SRC):
            return None
        if event in ("call", "line"):
            executed.add((filename, frame.f_lineno))
        return tracer
    counts = {}
    for target in TARGETS:
        directory = os.path.join(corpus_root, target)
        if not os.path.isdir(directory):
            continue
        module = importlib.import_module(target + "_fuzz")
        module.error_feature = collect if hasattr(module, "error_feature") else None
        files = sorted(os.listdir(directory))
        counts[target] = len(files)
        sys.settrace(tracer)
        try:
            for name in files:
                with open(os.path.join(directory, name), "rb") as f:
                    data = f.read()
                _common.begin_run()
                try:
                    module.TestOneInput(data)
                except Exception:   # noqa: BLE001  (findings are reported by the fuzzers)
                    pass
        finally:
            sys.settrace(None)
    return seen, executed, counts


def executable_lines(path):
    source = open(path).read()
    lines = set()
    stack = [compile(source, path, "exec")]
    while stack:
        code = stack.pop()
        lines.update(line for _, _, line in code.co_lines() if line)
        stack.extend(c for c in code.co_consts if hasattr(c, "co_lines"))
    return lines


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(_common.HERE, "corpus")
    seen, executed, counts = replay(root)
    print("corpus inputs:", ", ".join("%s %d" % kv for kv in counts.items()))
    sites = raise_sites()
    reached, missed = [], []
    for site in sites:
        name, line, reason, pattern = site
        hit = any(pattern.match(message) and (reason is None or reason == got_reason)
                  for got_reason, message in seen)
        (reached if hit else missed).append(site)
    print("\nengine raise sites reached: %d of %d (%.0f%%)"
          % (len(reached), len(sites), 100.0 * len(reached) / max(len(sites), 1)))
    per_file = {}
    for site in sites:
        per_file.setdefault(site[0], [0, 0])[1] += 1
    for site in reached:
        per_file[site[0]][0] += 1
    for name, (hit, total) in sorted(per_file.items()):
        print("  %-18s %3d / %3d" % (name, hit, total))
    print("not reached:")
    for name, line, reason, pattern in missed:
        print("  %s:%d %s %s" % (name, line, reason or "", pattern.pattern[:70]))
    print("\nPython line coverage of cyssl's .py modules during the replay:")
    by_file = {}
    for filename, line in executed:
        by_file.setdefault(filename, set()).add(line)
    for dirpath, _, files in sorted(os.walk(SRC)):
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = os.path.join(dirpath, name)
            lines = executable_lines(path)
            hit = len(lines & by_file.get(path, set()))
            if hit:
                print("  %-32s %4d / %4d  %3.0f%%" % (os.path.relpath(path, SRC), hit, len(lines),
                                                    100.0 * hit / max(len(lines), 1)))


if __name__ == "__main__":
    main()
