"""cyssl beside the stdlib's ssl, in one run: handshakes, resumption, bulk, latency, memory.

    python benchmarks/run.py [--quick] [--json OUT] [--only NAME ...]

Sections (NAME for --only): handshake, resume, bulk, tcp, latency, memory, cross,
threaded, floor. Timed cases run their contenders in interleaved rounds (see _timing.py),
so machine noise hits every contender alike; figures are medians over rounds and ratios
are medians of per-round ratios, with the interquartile range of those ratios in
brackets. "cyssl/stdlib" is a ratio of rates (> 1: cyssl is faster) except for latency
and memory, where it is a ratio of costs (< 1: cyssl is cheaper).

Everything runs over memory BIOs or loopback (127.0.0.1) with certificates generated into
a temporary directory; every case is bounded in count and every socket has a timeout. A
case that fails is reported (with its traceback at the end) and the run goes on; the
exit status is 1 if any case failed.
"""
import argparse
import gc
import hmac
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback

from _buffers import with_terminator, writable_bytes
from _timing import interleaved, median_time, per_call_seconds
import _peers
from _peers import contexts, handshake_once, module

SECTIONS = ("handshake", "resume", "bulk", "tcp", "latency", "memory", "cross", "threaded",
            "floor")
CHUNK = 16384
MB = 1e6


# Settings ---------------------------------------------------------------------------------

class Settings:
    def __init__(self, quick, pki_dir):
        self.quick = quick
        self.pki = pki_dir
        self.rounds = 3 if quick else 21          # handshake-type cases
        self.target = 0.02 if quick else 0.3      # seconds per contender per round
        self.bulk_rounds, self.bulk_calls = (3, 16) if quick else (21, 256)   # 84 MiB
        self.tcp_block, self.tcp_calls, self.tcp_rounds = \
            (1 << 20, 1, 2) if quick else (4 << 20, 4, 16)                    # 256 MiB
        self.latency_rounds = 3 if quick else 11
        self.async_pings = 20 if quick else 200
        self.memory_pairs = 100 if quick else 2000
        self.memory_contexts = 20 if quick else 300
        self.memory_churn = 100 if quick else 3000
        self.threads = (1, 2)                     # client threads, section 8
        self.threaded_rounds = 2 if quick else 7
        self.threaded_block = (1 << 20) if quick else (16 << 20)
        self.timeout = 10 if quick else 30


# Measuring ---------------------------------------------------------------------------------

def calibrate(contenders, target):
    """Calls per round so that the slowest contender spends about ``target`` s a round."""
    worst = 0.0
    for fn in contenders.values():
        fn()                                    # warm up (lazy imports, caches, configs)
        calls = 1
        while True:
            elapsed = per_call_seconds(fn, calls) * calls
            if elapsed >= target / 10 or calls >= 1 << 14:
                break
            calls *= 4
        worst = max(worst, elapsed / calls)
    return max(1, int(target / worst))


def quartiles(values):
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[2]


def compare(samples, baseline, name, cost=False):
    """Median and interquartile range of the per-round ratio of ``name`` to ``baseline``:
    of rates (baseline time / time) or, with ``cost``, of times."""
    base = samples[baseline]
    ours = samples[name]
    ratios = [(o / b) if cost else (b / o) for o, b in zip(ours, base)]
    low, high = quartiles(ratios)
    return {"ratio": statistics.median(ratios), "ratio_q1": low, "ratio_q3": high}


def fmt_ratio(entry, key=""):
    if entry is None or (key + "ratio") not in entry:
        return "-"
    return "%.2fx [%.2f-%.2f]" % (entry[key + "ratio"], entry[key + "ratio_q1"],
                                   entry[key + "ratio_q3"])


class Table:
    def __init__(self, title, headers):
        self.title, self.headers, self.rows = title, headers, []

    def add(self, *cells):
        self.rows.append([str(c) for c in cells])
        # print as we go: a long run shows progress, and a hang shows where
        if len(self.rows) == 1:
            self._print_header()
        self._print_row(self.rows[-1])
        sys.stdout.flush()

    def _widths(self):
        """First column for case names, ratio columns for "0.85x [0.79-0.91]", the last
        (free text) unpadded."""
        widths = []
        for i, header in enumerate(self.headers):
            if i == 0:
                widths.append(max(len(header), 50))
            elif "/" in header or header.startswith("vs "):
                widths.append(max(len(header), 17))
            else:
                widths.append(max(len(header), 10))
        return widths

    def _print_header(self):
        print()
        print("== %s" % self.title)
        widths = self._widths()
        print("  ".join(h.ljust(w) for h, w in zip(self.headers, widths)).rstrip())
        print("  ".join("-" * w for w in widths))

    def _print_row(self, row):
        widths = self._widths()
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())


class Run:
    """Results, failures, and the servers to account for."""

    def __init__(self, settings):
        self.s = settings
        self.sections = {}
        self.failures = []

    def case(self, section, table, case, body):
        """Run one case; a failure becomes a row and a traceback, not the end of the run."""
        rows = self.sections.setdefault(section, [])
        started = time.perf_counter()
        try:
            row = body()
        except Exception as err:
            self.failures.append("[%s / %s]\n%s" % (section, case, traceback.format_exc()))
            rows.append({"case": case, "error": "%s: %s" % (type(err).__name__, err)})
            table.add(case, "FAILED: %s: %s" % (type(err).__name__, str(err)[:100]))
            return None
        row = dict(case=case, **row)
        row["seconds"] = round(time.perf_counter() - started, 2)
        rows.append(row)
        return row

    def server_errors(self, section, what, errors):
        for error in errors:
            self.failures.append("[%s / %s: server-side error]\n%s" % (section, what, error))


def rate_entry(samples, name, units=1.0):
    """Units per second from the median per-call time."""
    return units / median_time(samples[name])


# 1. full handshakes -------------------------------------------------------------------------

def handshake_fn(client_lib, client_ctx, server_lib, server_ctx):
    return lambda: handshake_once(client_lib, client_ctx, server_lib, server_ctx)


def describe(pair):
    version, cipher, group = pair.negotiated()
    return "%s %s%s" % (version, cipher, " " + group if group else "")


def section_handshake(run):
    s = run.s
    table = Table("1. full handshakes/s, client + server in one process over MemoryBIO "
                  "(cyssl-cyssl vs ssl-ssl; the client verifies a root->leaf chain)",
                  ["case", "stdlib hs/s", "cyssl hs/s", "cyssl/stdlib", "cyssl default hs/s",
                   "default/stdlib", "negotiated"])
    cases = [
        ("TLS 1.3 ECDSA P-256, x25519", dict(key_type="ecdsa"), True),
        ("TLS 1.3 RSA-2048, x25519", dict(key_type="rsa"), True),
        ("TLS 1.2 ECDHE-ECDSA x25519", dict(key_type="ecdsa", tls12=True,
                                            ciphers="ECDHE-ECDSA-AES128-GCM-SHA256"), False),
    ]
    for case, options, with_default in cases:
        def body(options=options, with_default=with_default):
            libs = {"ssl": contexts("ssl", s.pki, **options),
                    "cyssl": contexts("cyssl", s.pki, **options)}
            contenders = {name: handshake_fn(name, c, name, sv) for name, (c, sv) in libs.items()}
            notes = ["%s: %s" % (name, describe(handshake_once(name, c, name, sv)))
                     for name, (c, sv) in libs.items()]
            if with_default:
                c, sv = contexts("cyssl", s.pki, group=None, **options)
                contenders["cyssl default"] = handshake_fn("cyssl", c, "cyssl", sv)
                notes.append("default: " + describe(handshake_once("cyssl", c, "cyssl", sv)))
            calls = calibrate(contenders, s.target)
            samples = interleaved(contenders, calls, s.rounds)
            row = {"stdlib_hs_per_s": rate_entry(samples, "ssl"),
                   "cyssl_hs_per_s": rate_entry(samples, "cyssl"),
                   "cyssl_vs_stdlib": compare(samples, "ssl", "cyssl"),
                   "negotiated": "; ".join(notes), "handshakes_per_round": calls}
            if with_default:
                row["cyssl_default_hs_per_s"] = rate_entry(samples, "cyssl default")
                row["default_vs_stdlib"] = compare(samples, "ssl", "cyssl default")
            table.add(case, "%.0f" % row["stdlib_hs_per_s"], "%.0f" % row["cyssl_hs_per_s"],
                      fmt_ratio(row["cyssl_vs_stdlib"]),
                      "%.0f" % row["cyssl_default_hs_per_s"] if with_default else "-",
                      fmt_ratio(row.get("default_vs_stdlib")), row["negotiated"])
            return row
        run.case("handshake", table, case, body)


# 2. resumed handshakes ----------------------------------------------------------------------

def resumed_fn(lib, client_ctx, server_ctx, session):
    def resume():
        pair = handshake_once(lib, client_ctx, lib, server_ctx, session)
        if not pair.c.session_reused:
            raise RuntimeError("%s: the session was not reused" % lib)
    return resume


def section_resume(run):
    s = run.s
    table = Table("2. resumed handshakes/s (tickets; the session is taken after reading data)",
                  ["case", "stdlib hs/s", "cyssl hs/s", "cyssl/stdlib", "negotiated"])
    cases = [("TLS 1.3 ticket, psk_dhe_ke x25519", dict(key_type="ecdsa")),
             ("TLS 1.2 ticket, ECDHE-ECDSA", dict(key_type="ecdsa", tls12=True,
                                                  ciphers="ECDHE-ECDSA-AES128-GCM-SHA256"))]
    for case, options in cases:
        def body(options=options):
            contenders, notes = {}, []
            for lib in ("ssl", "cyssl"):
                client, server = contexts(lib, s.pki, **options)
                first = handshake_once(lib, client, lib, server).settle()
                session = first.c.session
                again = handshake_once(lib, client, lib, server, session)
                notes.append("%s: %s reused=%s" % (lib, describe(again), again.c.session_reused))
                contenders[lib] = resumed_fn(lib, client, server, session)
            calls = calibrate(contenders, s.target)
            samples = interleaved(contenders, calls, s.rounds)
            row = {"stdlib_hs_per_s": rate_entry(samples, "ssl"),
                   "cyssl_hs_per_s": rate_entry(samples, "cyssl"),
                   "cyssl_vs_stdlib": compare(samples, "ssl", "cyssl"),
                   "negotiated": "; ".join(notes), "handshakes_per_round": calls}
            table.add(case, "%.0f" % row["stdlib_hs_per_s"], "%.0f" % row["cyssl_hs_per_s"],
                      fmt_ratio(row["cyssl_vs_stdlib"]), row["negotiated"])
            return row
        run.case("resume", table, case, body)


# 3. bulk over MemoryBIO -----------------------------------------------------------------------

def suite_aead(suite_name):
    """(cryptography AEAD object, nonce, additional data) shaped like ``suite_name``'s."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
    if "CHACHA20" in suite_name:
        aead = ChaCha20Poly1305(os.urandom(32))
    else:
        # "AES_256" (TLS 1.3) or "AES256" (TLS 1.2), not the "SHA256" of an AES-128 suite.
        aead = AESGCM(os.urandom(32 if re.search("AES_?256", suite_name) else 16))
    return aead, os.urandom(12), bytes(5 if suite_name.startswith("TLS_") else 13)


def bare_aead_fn(suite_name, chunk):
    """cryptography's encrypt_into + decrypt_into on buffers of one record's sizes."""
    aead, nonce, aad = suite_aead(suite_name)
    ciphertext = bytearray(len(chunk) + 16)
    plaintext = bytearray(len(chunk))

    def bare():
        aead.encrypt_into(nonce, chunk, aad, ciphertext)
        aead.decrypt_into(nonce, ciphertext, aad, plaintext)
    return bare


def memory_bio_floor_fn(suite_name, chunk):
    """The least any TLS over `cryptography` does per record on this path, with no TLS
    at all: seal into a bytes object (see writable_bytes), pass it through the sender's
    outgoing MemoryBIO and the receiver's incoming one (cyssl's, which keep bytes by
    reference), open it into the reader's buffer. TLS 1.3 adds a copy that no
    implementation on `cryptography` avoids (benchmarks/tls13_inner_type.py times the
    alternative): the content type byte is encrypted after the data, so the data are
    copied next to it first. Its 16385-byte inner plaintext opens into the reader's
    16384-byte bytearray, the type byte borrowing the bytearray's terminating NUL (as
    cyssl's read(n, buffer) does); into another kind of buffer it would need a copy more.
    What this costs beyond ``bare`` is the memory-BIO API's own floor."""
    import cyssl
    aead, nonce, aad = suite_aead(suite_name)
    outgoing, incoming = cyssl.MemoryBIO(), cyssl.MemoryBIO()
    plaintext = bytearray(len(chunk))

    if not suite_name.startswith("TLS_"):
        record, sealed = writable_bytes(len(chunk) + 16)

        def floor():
            aead.encrypt_into(nonce, chunk, aad, sealed)
            outgoing.write(record)
            incoming.write(outgoing.read())
            aead.decrypt_into(nonce, incoming.read(), aad, plaintext)
        return floor

    inner = bytearray(len(chunk) + 1)
    inner[-1] = 23                              # application_data
    record, sealed = writable_bytes(len(inner) + 16)
    # The copy goes through a memoryview: a bytearray slice assignment from another type
    # first copies the source into a temporary bytearray, two copies instead of one.
    inner_content = memoryview(inner)[:len(chunk)]
    opened = with_terminator(plaintext)

    def floor13():
        inner_content[:] = chunk
        aead.encrypt_into(nonce, inner, aad, sealed)
        outgoing.write(record)
        incoming.write(outgoing.read())
        aead.decrypt_into(nonce, incoming.read(), aad, opened)
        opened[-1] = 0
    return floor13


def section_bulk(run):
    s = run.s
    table = Table("3. bulk over MemoryBIO, client -> server, 16 KiB writes (MB/s, 1 MB = 10^6 B; "
                  "both ends in one thread, so each byte is encrypted and decrypted). bare = "
                  "cryptography's encrypt_into + decrypt_into (the OpenSSL in its wheel), cyssl's "
                  "ceiling; the stdlib runs its own OpenSSL's AEAD, so stdlib/bare compares "
                  "different AEAD code. floor/bare = the same AEAD calls plus the MemoryBIO "
                  "moves any implementation of this API makes (no TLS at all; for TLS 1.3 "
                  "also the 16 KiB copy its inner content type forces): the most a "
                  "TLS library on cryptography can reach here",
                  ["case", "stdlib MB/s", "cyssl MB/s", "cyssl/stdlib", "bare AEAD MB/s",
                   "cyssl/bare", "stdlib/bare", "floor/bare", "cyssl/floor", "suites"])
    cases = [
        ("TLS 1.3 default suites", {}, {}),
        ("TLS 1.3 AES-256-GCM (cyssl pinned)", {}, dict(tls13_suite=0x1302)),
        ("TLS 1.3 CHACHA20 (cyssl only)", None, dict(tls13_suite=0x1303)),
        ("TLS 1.2 ECDHE-ECDSA-AES128-GCM", dict(tls12=True, ciphers="ECDHE-ECDSA-AES128-GCM-SHA256"),
         None),
        ("TLS 1.2 ECDHE-ECDSA-AES256-GCM", dict(tls12=True, ciphers="ECDHE-ECDSA-AES256-GCM-SHA384"),
         None),
        ("TLS 1.2 ECDHE-ECDSA-CHACHA20", dict(tls12=True, ciphers="ECDHE-ECDSA-CHACHA20-POLY1305"),
         None),
    ]
    chunk = os.urandom(CHUNK)
    for case, ssl_options, cyssl_options in cases:
        def body(ssl_options=ssl_options, cyssl_options=cyssl_options):
            if cyssl_options is None:
                cyssl_options = ssl_options
            contenders, suites = {}, {}
            for lib, options in (("ssl", ssl_options), ("cyssl", cyssl_options)):
                if options is None:
                    continue
                client, server = contexts(lib, s.pki, **options)
                pair = handshake_once(lib, client, lib, server).settle()
                suites[lib] = pair.c.cipher()[0]
                contenders[lib] = _peers.transfer_chunk_fn(pair, chunk)
            contenders["bare"] = bare_aead_fn(suites["cyssl"], chunk)
            contenders["floor"] = memory_bio_floor_fn(suites["cyssl"], chunk)
            samples = interleaved(contenders, s.bulk_calls, s.bulk_rounds)
            row = {"cyssl_MB_per_s": rate_entry(samples, "cyssl", CHUNK / MB),
                   "bare_MB_per_s": rate_entry(samples, "bare", CHUNK / MB),
                   "cyssl_vs_bare": compare(samples, "bare", "cyssl"),
                   "floor_vs_bare": compare(samples, "bare", "floor"),
                   "cyssl_vs_floor": compare(samples, "floor", "cyssl"),
                   "bytes_per_contender": CHUNK * s.bulk_calls * s.bulk_rounds,
                   "suites": "; ".join("%s: %s" % kv for kv in suites.items()) +
                   "; bare: %s's AEAD" % suites["cyssl"]}
            if "ssl" in contenders:
                row.update(stdlib_MB_per_s=rate_entry(samples, "ssl", CHUNK / MB),
                           cyssl_vs_stdlib=compare(samples, "ssl", "cyssl"),
                           stdlib_vs_bare=compare(samples, "bare", "ssl"))
            table.add(case, "%.0f" % row["stdlib_MB_per_s"] if "ssl" in contenders else "-",
                      "%.0f" % row["cyssl_MB_per_s"], fmt_ratio(row.get("cyssl_vs_stdlib")),
                      "%.0f" % row["bare_MB_per_s"], fmt_ratio(row["cyssl_vs_bare"]),
                      fmt_ratio(row.get("stdlib_vs_bare")), fmt_ratio(row["floor_vs_bare"]),
                      fmt_ratio(row["cyssl_vs_floor"]), row["suites"])
            return row
        run.case("bulk", table, case, body)


# 4. bulk over loopback TCP --------------------------------------------------------------------

def section_tcp(run):
    s = run.s
    table = Table("4. bulk over loopback TCP, client -> sinking server, 16 KiB writes (MB/s); "
                  "SSLSocket server in a child process or in a thread of this one, or asyncio server "
                  "in the same event loop",
                  ["case", "stdlib MB/s", "cyssl MB/s", "cyssl/stdlib", "negotiated"])
    chunk = os.urandom(CHUNK)
    total = s.tcp_block * s.tcp_calls * s.tcp_rounds

    def socket_body(in_process=True):
        servers, contenders, notes = {}, {}, []
        try:
            for lib in ("ssl", "cyssl"):
                client, server = contexts(lib, s.pki)
                servers[lib] = _peers.start_server(lib, server, s.pki, s.timeout, in_process)
                tls = _peers.sink_connection(lib, client, servers[lib].port, s.timeout,
                                             s.tcp_block)
                notes.append("%s: %s %s" % (lib, tls.version(), tls.cipher()[0]))
                contenders[lib] = _peers.send_block_fn(tls, s.tcp_block, chunk)
            samples = interleaved(contenders, s.tcp_calls, s.tcp_rounds)
        finally:
            for lib, server in servers.items():
                server.close()
                run.server_errors("tcp", lib + " SSLSocket server", server.errors)
        return tcp_row(samples, s.tcp_block, total, notes)

    def asyncio_body():
        peers, contenders, notes = {}, {}, []
        try:
            for lib in ("ssl", "cyssl"):
                client, server = contexts(lib, s.pki)
                peers[lib] = _peers.AsyncioPeers(lib, client, server, s.timeout)
                contenders[lib] = peers[lib].send_block_fn(s.tcp_block, chunk)
                notes.append(lib)
            samples = interleaved(contenders, s.tcp_calls, s.tcp_rounds)
        finally:
            for lib, p in peers.items():
                p.close()
                run.server_errors("tcp", lib + " asyncio", p.errors)
        return tcp_row(samples, s.tcp_block, total, ["default suites, as in section 3"])

    def tcp_row(samples, block, total, notes):
        return {"stdlib_MB_per_s": rate_entry(samples, "ssl", block / MB),
                "cyssl_MB_per_s": rate_entry(samples, "cyssl", block / MB),
                "cyssl_vs_stdlib": compare(samples, "ssl", "cyssl"),
                "bytes_per_contender": total, "negotiated": "; ".join(notes)}

    for case, body in (("SSLSocket, server in another process", lambda: socket_body(False)),
                       ("SSLSocket, server thread (one GIL for both ends)", socket_body),
                       ("asyncio streams", asyncio_body)):
        row = run.case("tcp", table, case, body)
        if row:
            table.add(case, "%.0f" % row["stdlib_MB_per_s"], "%.0f" % row["cyssl_MB_per_s"],
                      fmt_ratio(row["cyssl_vs_stdlib"]), row["negotiated"])


# 5. latency -----------------------------------------------------------------------------------

def section_latency(run):
    s = run.s
    table = Table("5. 64-byte ping-pong round trip over loopback (us; cyssl/stdlib < 1: "
                  "cyssl is quicker); SSLSocket echo server in a child process or in a thread "
                  "of this one", ["case", "stdlib us", "cyssl us", "cyssl/stdlib"])
    message = os.urandom(64)

    def socket_body(in_process=True):
        servers, contenders = {}, {}
        try:
            for lib in ("ssl", "cyssl"):
                client, server = contexts(lib, s.pki)
                servers[lib] = _peers.start_server(lib, server, s.pki, s.timeout, in_process)
                tls = _peers.connect(lib, client, servers[lib].port, s.timeout, b"E")
                contenders[lib] = _peers.ping_fn(tls, message)
            calls = calibrate(contenders, s.target)
            samples = interleaved(contenders, calls, s.latency_rounds)
        finally:
            for lib, server in servers.items():
                server.close()
                run.server_errors("latency", lib + " SSLSocket server", server.errors)
        return latency_row(samples, 1, calls)

    def asyncio_body():
        peers, contenders = {}, {}
        try:
            for lib in ("ssl", "cyssl"):
                client, server = contexts(lib, s.pki)
                peers[lib] = _peers.AsyncioPeers(lib, client, server, s.timeout)
                contenders[lib] = peers[lib].ping_fn(message, s.async_pings)
            calls = max(1, calibrate(contenders, s.target))
            samples = interleaved(contenders, calls, s.latency_rounds)
        finally:
            for lib, p in peers.items():
                p.close()
                run.server_errors("latency", lib + " asyncio", p.errors)
        return latency_row(samples, s.async_pings, calls * s.async_pings)

    def memory_body():
        contenders = {}
        for lib in ("ssl", "cyssl"):
            client, server = contexts(lib, s.pki)
            pair = handshake_once(lib, client, lib, server).settle()
            contenders[lib] = _peers.memory_ping_fn(pair, message)
        calls = calibrate(contenders, s.target)
        samples = interleaved(contenders, calls, s.rounds)
        return latency_row(samples, 1, calls)

    def latency_row(samples, per_call, per_round):
        return {"stdlib_us": median_time(samples["ssl"]) / per_call * 1e6,
                "cyssl_us": median_time(samples["cyssl"]) / per_call * 1e6,
                "cyssl_vs_stdlib": compare(samples, "ssl", "cyssl", cost=True),
                "round_trips_per_round": per_round}

    for case, body in (("SSLSocket, echo server in another process", lambda: socket_body(False)),
                       ("SSLSocket, echo thread (one GIL for both ends)", socket_body),
                       ("asyncio streams", asyncio_body),
                       ("MemoryBIO pair, no sockets (CPU cost of 2 seals + 2 opens)", memory_body)):
        row = run.case("latency", table, case, body)
        if row:
            table.add(case, "%.1f" % row["stdlib_us"], "%.1f" % row["cyssl_us"],
                      fmt_ratio(row["cyssl_vs_stdlib"]))


# 6. memory ------------------------------------------------------------------------------------

def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memory_child(mode, lib, pki_dir, count):
    """Runs in a fresh interpreter (one per library and mode); prints one JSON line.

    pairs: RSS growth while ``count`` established, settled pairs are held, and how many
    gc-tracked objects each holds / how many gc.collect() frees (reference cycles).
    contexts: RSS growth per server SSLContext (ECDSA chain loaded) and per client
    SSLContext (one root loaded), ``count`` of each held.
    churn: ``count`` handshakes nothing holds on to, after as many to warm the allocator:
    RSS and gc-tracked object growth per handshake (a leak shows here).
    """
    mod = module(lib)
    result = {"lib": lib, "mode": mode, "count": count}
    if mode == "contexts":
        def server_ctx():
            ctx = mod.SSLContext(mod.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(os.path.join(pki_dir, "chain-ecdsa.pem"),
                                os.path.join(pki_dir, "key-ecdsa.pem"))
            return ctx

        def client_ctx():
            ctx = mod.SSLContext(mod.PROTOCOL_TLS_CLIENT)
            ctx.load_verify_locations(os.path.join(pki_dir, "root-ecdsa.pem"))
            return ctx
        warm = [server_ctx(), client_ctx()]          # imports, parsers
        gc.collect()
        before = rss_bytes()
        servers = [server_ctx() for _ in range(count)]
        gc.collect()
        middle = rss_bytes()
        clients = [client_ctx() for _ in range(count)]
        gc.collect()
        result["per_server_context_bytes"] = (middle - before) / count
        result["per_client_context_bytes"] = (rss_bytes() - middle) / count
        del warm, servers, clients
    else:
        client, server = contexts(lib, pki_dir)
        for _ in range(20):
            handshake_once(lib, client, lib, server).settle()      # imports, caches
        gc.collect()
        if mode == "pairs":
            base, objects = rss_bytes(), len(gc.get_objects())
            held = [handshake_once(lib, client, lib, server).settle() for _ in range(count)]
            result["gc_objects_per_pair"] = (len(gc.get_objects()) - objects) / count
            result["gc_unreachable_per_pair"] = gc.collect() / count
            result["per_pair_bytes"] = (rss_bytes() - base) / count
            del held
        elif mode == "churn":
            for _ in range(2 * count):                      # let the allocator settle
                handshake_once(lib, client, lib, server).settle()
            gc.collect()
            base, objects = rss_bytes(), len(gc.get_objects())
            for _ in range(count):
                handshake_once(lib, client, lib, server).settle()
            gc.collect()
            result["churn_rss_per_handshake_bytes"] = (rss_bytes() - base) / count
            result["churn_gc_objects_per_handshake"] = (len(gc.get_objects()) - objects) / count
        else:
            raise ValueError(mode)
    print(json.dumps(result))


def section_memory(run):
    s = run.s
    table = Table("6. memory (RSS growth from /proc/self/statm, each library and measurement "
                  "in a fresh interpreter; cyssl/stdlib < 1: cyssl is smaller)",
                  ["case", "stdlib", "cyssl", "cyssl/stdlib", "unit"])

    def child(mode, lib, count):
        out = subprocess.run([sys.executable, os.path.abspath(__file__), "--memory-child", mode,
                              lib, s.pki, str(count)],
                             capture_output=True, text=True, timeout=60 if s.quick else 300)
        if out.returncode:
            raise RuntimeError("%s %s memory child failed:\n%s" % (lib, mode, out.stderr[-3000:]))
        return json.loads(out.stdout.strip().splitlines()[-1])

    measures = [
        ("pairs", s.memory_pairs, [
            ("per_pair_bytes", "idle pair (client + server, MemoryBIO), %d held"
             % s.memory_pairs, "KiB", 1024),
            ("gc_objects_per_pair", "gc-tracked Python objects per held pair", "objects", 1),
            ("gc_unreachable_per_pair", "objects only gc.collect() frees, per pair (cycles)",
             "objects", 1)]),
        ("contexts", s.memory_contexts, [
            ("per_server_context_bytes", "server SSLContext + ECDSA chain, %d held"
             % s.memory_contexts, "KiB", 1024),
            ("per_client_context_bytes", "client SSLContext + 1 root, %d held"
             % s.memory_contexts, "KiB", 1024)]),
        ("churn", s.memory_churn, [
            ("churn_rss_per_handshake_bytes", "RSS growth per handshake, %d unheld (leak check)"
             % s.memory_churn, "bytes", 1),
            ("churn_gc_objects_per_handshake", "gc-tracked objects growth per handshake",
             "objects", 1)]),
    ]
    for mode, count, labels in measures:
        def body(mode=mode, count=count, labels=labels):
            results = {lib: child(mode, lib, count) for lib in ("ssl", "cyssl")}
            row = {"mode": mode, "count": count, "ssl": results["ssl"], "cyssl": results["cyssl"]}
            for key, label, unit, scale in labels:
                a, b = results["ssl"][key], results["cyssl"][key]
                ratio = "%.2fx" % (b / a) if a > 0 and b >= 0 and mode != "churn" else "-"
                table.add(label, "%.1f" % (a / scale), "%.1f" % (b / scale), ratio, unit)
            return row
        run.case("memory", table, mode, body)


# 7. cross pairs ------------------------------------------------------------------------------

def section_cross(run):
    s = run.s
    table = Table("7. cross pairs: full TLS 1.3 handshakes/s, ECDSA P-256, x25519, MemoryBIO; "
                  "client us / server us = time inside each end's do_handshake calls per "
                  "handshake (mean over all rounds). A side's time depends on the other library "
                  "only through the CPU caches the other's code leaves cold: the pair alternates "
                  "between the two libraries in one thread",
                  ["client -> server", "hs/s", "vs ssl -> ssl", "client us", "server us",
                   "negotiated"])

    def body():
        ctx = {lib: contexts(lib, s.pki) for lib in ("ssl", "cyssl")}
        pairings = [("ssl", "ssl"), ("cyssl", "cyssl"), ("cyssl", "ssl"), ("ssl", "cyssl")]
        contenders, notes, spent = {}, {}, {}
        for client_lib, server_lib in pairings:
            name = "%s -> %s" % (client_lib, server_lib)
            client, server = ctx[client_lib][0], ctx[server_lib][1]
            spent[name] = [0.0, 0.0]
            contenders[name] = (lambda cl=client_lib, cc=client, sl=server_lib, sc=server,
                                sp=spent[name]: handshake_once(cl, cc, sl, sc, spent=sp))
            notes[name] = describe(handshake_once(client_lib, client, server_lib, server).settle())
        calls = calibrate(contenders, s.target)
        for totals in spent.values():          # calibration's handshakes are not counted
            totals[:] = [0.0, 0.0]
        samples = interleaved(contenders, calls, s.rounds)
        row = {"handshakes_per_round": calls, "pairs": {}}
        for name in contenders:
            client_us, server_us = (t / (calls * s.rounds) * 1e6 for t in spent[name])
            row["pairs"][name] = dict(hs_per_s=rate_entry(samples, name), negotiated=notes[name],
                                      client_us=client_us, server_us=server_us,
                                      **compare(samples, "ssl -> ssl", name))
        return row

    row = run.case("cross", table, "pairs", body)
    if row:
        for name, entry in row["pairs"].items():
            table.add(name, "%.0f" % entry["hs_per_s"], fmt_ratio(entry), "%.0f" % entry["client_us"],
                      "%.0f" % entry["server_us"], entry["negotiated"])


# 8. threaded server ---------------------------------------------------------------------------

def threaded_fn(jobs):
    """Run each job in its own thread, started together; re-raise the first failure."""
    def run_all():
        errors = []
        barrier = threading.Barrier(len(jobs))

        def work(job):
            try:
                barrier.wait(30)
                job()
            except Exception:
                errors.append(traceback.format_exc())
        threads = [threading.Thread(target=work, args=(job,), daemon=True) for job in jobs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(600)
            if t.is_alive():
                raise RuntimeError("a client thread hung")
        if errors:
            raise RuntimeError("client thread failed:\n" + errors[0])
    return run_all


def section_threaded(run):
    s = run.s
    table = Table("8. threaded SSLSocket server (a thread per connection) and 1 or 2 client "
                  "threads; aggregate rates", ["case", "stdlib", "cyssl", "cyssl/stdlib", "note"])

    def handshakes_body(threads):
        servers, contenders = {}, {}
        count = [1]                                  # handshakes per client thread per round
        try:
            for lib in ("ssl", "cyssl"):
                client, server = contexts(lib, s.pki)
                servers[lib] = _peers.ThreadedServer(lib, server, s.timeout)

                def hellos(lib=lib, client=client, port=servers[lib].port):
                    for _ in range(count[0]):
                        _peers.hello(lib, client, port, s.timeout)
                contenders[lib] = (hellos, threaded_fn([hellos] * threads))
            # size the rounds: about 2 * target seconds for the slower contender
            once = max(per_call_seconds(job, 1) for job, _ in contenders.values())
            count[0] = max(2, int(2 * s.target / once / threads))
            samples = interleaved({lib: fn for lib, (_, fn) in contenders.items()}, 1,
                                  s.threaded_rounds)
        finally:
            for lib, server in servers.items():
                server.close()
                run.server_errors("threaded", lib + " server", server.errors)
        total = count[0] * threads
        return {"stdlib": rate_entry(samples, "ssl", total), "cyssl": rate_entry(samples, "cyssl", total),
                "cyssl_vs_stdlib": compare(samples, "ssl", "cyssl"), "unit": "handshakes/s",
                "note": "TLS 1.3 ECDSA x25519; %d connections per round" % total}

    def bulk_body(threads):
        servers, contenders = {}, {}
        chunk = os.urandom(CHUNK)
        try:
            for lib in ("ssl", "cyssl"):
                client, server = contexts(lib, s.pki)
                servers[lib] = _peers.ThreadedServer(lib, server, s.timeout)
                jobs = [_peers.send_block_fn(
                    _peers.sink_connection(lib, client, servers[lib].port, s.timeout,
                                           s.threaded_block), s.threaded_block, chunk)
                        for _ in range(threads)]
                contenders[lib] = threaded_fn(jobs)
            samples = interleaved(contenders, 1, s.threaded_rounds)
        finally:
            for lib, server in servers.items():
                server.close()
                run.server_errors("threaded", lib + " server", server.errors)
        total = s.threaded_block * threads
        return {"stdlib": rate_entry(samples, "ssl", total / MB),
                "cyssl": rate_entry(samples, "cyssl", total / MB),
                "cyssl_vs_stdlib": compare(samples, "ssl", "cyssl"), "unit": "MB/s",
                "note": "%d MiB per connection per round" % (s.threaded_block >> 20)}

    for threads in s.threads:
        for case, body in (("handshakes/s, %d client thread%s", handshakes_body),
                           ("MB/s (sink), %d client thread%s", bulk_body)):
            case = case % (threads, "s" if threads > 1 else "")
            row = run.case("threaded", table, case, lambda body=body: body(threads))
            if row:
                table.add(case, "%.0f" % row["stdlib"], "%.0f" % row["cyssl"],
                          fmt_ratio(row["cyssl_vs_stdlib"]), row["note"])


# 9. floor ------------------------------------------------------------------------------------

def floor_fn(pki_dir):
    """The cryptography calls one TLS 1.3 ECDSA/x25519 handshake pair cannot avoid."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.x509.verification import PolicyBuilder, Store
    root, leaf, key = _peers.pki_objects(pki_dir, "ecdsa")
    public = key.public_key()
    verifier = PolicyBuilder().store(Store([root])).build_server_verifier(
        x509.DNSName(_peers.HOST))
    signed = os.urandom(130)                   # 64 spaces + context string + transcript hash
    secret, label = os.urandom(32), os.urandom(48)
    ecdsa = ec.ECDSA(hashes.SHA256())

    def x25519():
        a, b = X25519PrivateKey.generate(), X25519PrivateKey.generate()
        a.exchange(b.public_key())
        b.exchange(a.public_key())

    def signature():
        public.verify(key.sign(signed, ecdsa), signed, ecdsa)

    def chain():
        verifier.verify(leaf, [])

    def hmacs():
        for _ in range(40):
            hmac.digest(secret, label, "sha256")

    def floor():
        x25519()
        signature()
        chain()
        hmacs()
    floor.parts = {"2 X25519 keygen + exchange": x25519, "P-256 sign + verify": signature,
                   "chain verification": chain, "40 HMAC-SHA256": hmacs}
    return floor


def section_floor(run):
    s = run.s
    table = Table("9. floor: cryptography primitives for one TLS 1.3 ECDSA/x25519 handshake pair "
                  "(2 X25519 keygens + 2 exchanges, P-256 sign + verify, root->leaf "
                  "verification, 40 HMAC-SHA256)",
                  ["contender", "us per handshake", "vs floor"])

    def body():
        contenders = {"floor": floor_fn(s.pki)}
        for lib in ("ssl", "cyssl"):
            client, server = contexts(lib, s.pki)
            contenders[lib] = handshake_fn(lib, client, lib, server)
        calls = calibrate(contenders, s.target)
        samples = interleaved(contenders, calls, s.rounds)
        row = {name: median_time(samples[name]) * 1e6 for name in contenders}
        parts = contenders["floor"].parts
        part_samples = interleaved(parts, max(1, calls // 2), max(3, s.rounds // 3))
        row["floor_parts_us"] = {name: median_time(part_samples[name]) * 1e6 for name in parts}
        row.update(cyssl_vs_floor=compare(samples, "floor", "cyssl", cost=True),
                   stdlib_vs_floor=compare(samples, "floor", "ssl", cost=True),
                   cyssl_vs_stdlib_cost=compare(samples, "ssl", "cyssl", cost=True),
                   cyssl_above_floor_us=row["cyssl"] - row["floor"])
        return row

    row = run.case("floor", table, "floor", body)
    if row:
        table.add("floor (cryptography calls)", "%.0f" % row["floor"], "1.00x")
        table.add("cyssl-cyssl handshake", "%.0f" % row["cyssl"], fmt_ratio(row["cyssl_vs_floor"]))
        table.add("ssl-ssl handshake", "%.0f" % row["ssl"], fmt_ratio(row["stdlib_vs_floor"]))
        print("floor parts (us): " + ", ".join("%s %.0f" % kv for kv in row["floor_parts_us"].items()))
        print("cyssl spends %.0f us per handshake pair above the floor (%.0f%% of its time); "
              "cost vs stdlib %s" % (row["cyssl_above_floor_us"],
                                     100 * row["cyssl_above_floor_us"] / row["cyssl"],
                                     fmt_ratio(row["cyssl_vs_stdlib_cost"])))


# Machine -------------------------------------------------------------------------------------

def machine():
    import cryptography
    from cryptography.hazmat.backends.openssl.backend import backend
    import ssl
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    cyssl = module("cyssl")
    return {
        "platform": platform.platform(), "cpu": cpu, "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": sys.version.split()[0], "implementation": platform.python_implementation(),
        "cryptography": cryptography.__version__,
        "cryptography_openssl": backend.openssl_version_text(),
        "ssl_openssl": ssl.OPENSSL_VERSION, "cyssl": cyssl.__version__,
        "loadavg_start": os.getloadavg(),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes and few rounds")
    parser.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, metavar="NAME",
                        help="run only these sections: " + ", ".join(SECTIONS))
    parser.add_argument("--memory-child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        mode, lib, pki_dir, count = args.memory_child
        memory_child(mode, lib, pki_dir, int(count))
        return 0

    import faulthandler
    budget = 240 if args.quick else 1500
    faulthandler.dump_traceback_later(budget, exit=True)     # a hang dumps every thread
    started = time.perf_counter()
    info = machine()
    print("machine: %s; %s; %s cores (%s usable); load average %.2f %.2f %.2f" % (
        info["platform"], info["cpu"], info["cores"], info["usable_cores"],
        *info["loadavg_start"]))
    print("Python %s; cryptography %s (%s); stdlib ssl: %s; cyssl %s" % (
        info["python"], info["cryptography"], info["cryptography_openssl"], info["ssl_openssl"],
        info["cyssl"]))
    print("ratios: median over rounds [interquartile range]; %s" % (
        "QUICK run: tiny sizes, numbers are not meaningful" if args.quick else
        "full run"))
    with tempfile.TemporaryDirectory(prefix="cyssl-bench-") as pki_dir:
        _peers.write_pki(pki_dir)
        run = Run(Settings(args.quick, pki_dir))
        for name in SECTIONS:
            if args.only and name not in args.only:
                continue
            globals()["section_" + name](run)
    info["loadavg_end"] = os.getloadavg()
    info["seconds"] = round(time.perf_counter() - started, 1)
    print("\nload average at the end %.2f %.2f %.2f; %.0f s in all" % (
        *info["loadavg_end"], info["seconds"]))
    if run.failures:
        print("\n%d FAILURE(S):" % len(run.failures))
        for failure in run.failures:
            print(failure)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "quick": args.quick, "sections": run.sections,
                       "failures": run.failures}, f, indent=1, default=str)
    faulthandler.cancel_dump_traceback_later()
    return 1 if run.failures else 0


if __name__ == "__main__":
    sys.exit(main())
