"""The receiving side alone, cyssl beside the stdlib, with the stream cut as transports cut it.

A socket read or an asyncio BIO read seldom ends on a record boundary. This times the
reader of a MemoryBIO pair taking 1 MiB of TLS 1.3 application data (16 KiB records)
that arrives in pieces of a given size, read the way a caller reads: into a buffer
(SSLSocket.recv_into, asyncio's buffered protocols) or into new bytes objects until
SSLWantReadError (asyncio streams). Sealing the data is done before each timed part.
Rounds are interleaved; ratios are medians of per-round ratios (cyssl/stdlib throughput).

    PYTHONPATH=src python3 benchmarks/receive_pieces.py [--quick]
"""
import os
import statistics
import tempfile
import time

import _peers
from _peers import contexts, handshake_once, module
from _script import quick_run

DATA = os.urandom(1 << 20)
CASES = [                       # (name, piece size, read size, into a buffer)
    ("record-sized pieces, into 16 KiB", 16384 + 22, 16384, True),
    ("64 KiB pieces, into 16 KiB", 1 << 16, 16384, True),
    ("64 KiB pieces, into 256 KiB", 1 << 16, 1 << 18, True),
    ("256 KiB pieces, read(256 KiB) until WantRead", 1 << 18, 1 << 18, False),
]


def receiver(lib, pki, piece, size, into_buffer):
    """A function returning the seconds its reader takes for 1 MiB in ``piece``s."""
    client, server = contexts(lib, pki)
    pair = handshake_once(lib, client, lib, server).settle()
    want_read = module(lib).SSLWantReadError
    buffer = bytearray(size)
    s, si = pair.s, pair.si

    def receive():
        pair.c.write(DATA)
        stream = pair.co.read()
        pieces = [stream[i:i + piece] for i in range(0, len(stream), piece)]
        got = 0
        start = time.perf_counter()
        for part in pieces:
            si.write(part)
            while True:
                try:
                    n = s.read(size, buffer) if into_buffer else len(s.read(size))
                except want_read:
                    break
                if not n:
                    break
                got += n
        elapsed = time.perf_counter() - start
        if got != len(DATA):
            raise RuntimeError("%s: %d of %d bytes" % (lib, got, len(DATA)))
        return elapsed
    return receive


def main():
    quick = quick_run(__doc__, "TLS 1.3 default suite, 1 MiB per call")
    rounds, calls = (3, 2) if quick else (15, 8)
    print("%-46s %12s %12s %20s" % ("case", "stdlib MB/s", "cyssl MB/s", "cyssl/stdlib [IQR]"))
    with tempfile.TemporaryDirectory(prefix="cyssl-bench-") as pki:
        _peers.write_pki(pki)
        for name, piece, size, into_buffer in CASES:
            fns = {lib: receiver(lib, pki, piece, size, into_buffer) for lib in ("ssl", "cyssl")}
            samples = {lib: [] for lib in fns}
            for index in range(rounds):
                order = list(fns) if index % 2 == 0 else list(fns)[::-1]
                for lib in order:
                    samples[lib].append(sum(fns[lib]() for _ in range(calls)) / calls)
            ratios = sorted(a / b for a, b in zip(samples["ssl"], samples["cyssl"]))
            q1, median, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
            rate = {lib: len(DATA) / statistics.median(times) / 1e6 for lib, times in samples.items()}
            print("%-46s %12.0f %12.0f %9.2fx [%.2f-%.2f]" % (
                name, rate["ssl"], rate["cyssl"], statistics.median(ratios), q1, q3))


if __name__ == "__main__":
    main()
