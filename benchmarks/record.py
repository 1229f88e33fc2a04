"""Record-layer cost against the bare AEAD it wraps, in one run.

For each suite and record size: protect + unprotect of one record through cyssl's
RecordProtection (header, nonce, TLS 1.3 inner content type, sequence numbers), beside
cryptography's encrypt_into + decrypt_into on buffers of the same sizes. Also the
stream path (RecordLayer.write / receive / next_record), which adds framing and the
copy into the receive buffer.

    python benchmarks/record.py [--quick] [--json OUT]

Goals (issue 2): throughput ratio >= 0.90 at 16 KiB; per-record cost at 64 bytes
<= 1.5x the bare calls.
"""
import argparse
import json
import os
import platform
import sys

from _timing import interleaved, median_ratio, median_time
from cyssl.tls.record import RecordLayer, RecordProtection
from cyssl.tls.suites import ALL_SUITES

APPLICATION_DATA = 23


def contenders(suite, size):
    key = os.urandom(suite.aead.key_length)
    iv = os.urandom(suite.fixed_iv_length)
    plaintext = bytearray(os.urandom(size))

    sealer, opener = RecordProtection(suite, key, iv), RecordProtection(suite, key, iv)
    record_length = size + 5 + 16 + (1 if suite.tls13 else suite.explicit_nonce_length)
    record = bytearray(record_length)      # sized exactly, like the bare buffers below
    opened = bytearray(size + 1)

    def cyssl_record():
        sealer.seal_into(APPLICATION_DATA, plaintext, record)
        opener.open_into(record, opened)

    aead = suite.aead.new(key)
    nonce = os.urandom(12)
    aad = bytes(13 if not suite.tls13 else 5)
    ciphertext = bytearray(size + 16)
    decrypted = bytearray(size)

    def bare_aead():
        aead.encrypt_into(nonce, plaintext, aad, ciphertext)
        aead.decrypt_into(nonce, ciphertext, aad, decrypted)

    writer, reader = RecordLayer(), RecordLayer()
    writer.set_writer(RecordProtection(suite, key, iv))
    reader.set_reader(RecordProtection(suite, key, iv))

    def cyssl_stream():
        writer.write(APPLICATION_DATA, plaintext)
        reader.receive(writer.take_outgoing())
        reader.next_record()

    return {"bare": bare_aead, "record": cyssl_record, "stream": cyssl_stream}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    parser.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    args = parser.parse_args()
    rounds = 3 if args.quick else 21
    rows = []
    print("machine: %s, %s, Python %s" % (platform.machine(), platform.processor() or "cpu",
                                           platform.python_version()))
    print("%-46s %6s %10s %10s %10s %8s %8s" % ("suite", "bytes", "bare us", "record us",
                                                "stream us", "record", "stream"))
    for suite in ALL_SUITES:
        for size in (16384, 64):
            calls = 500 if size > 1024 else 5000
            if args.quick:
                calls //= 10
            samples = interleaved(contenders(suite, size), calls, rounds)
            bare, record, stream = samples["bare"], samples["record"], samples["stream"]
            bulk = size > 1024
            row = {"suite": suite.name, "bytes": size,
                   "bare_us": median_time(bare) * 1e6, "record_us": median_time(record) * 1e6,
                   "stream_us": median_time(stream) * 1e6,
                   # bulk: throughput ratio (bare time / ours); small: cost ratio (ours / bare)
                   "record_ratio": median_ratio(bare, record) if bulk else median_ratio(record, bare),
                   "stream_ratio": median_ratio(bare, stream) if bulk else median_ratio(stream, bare)}
            rows.append(row)
            print("%-46s %6d %10.2f %10.2f %10.2f %7.2f%s %7.2f%s" % (
                suite.name, size, row["bare_us"], row["record_us"], row["stream_us"],
                row["record_ratio"], "t" if size > 1024 else "c",
                row["stream_ratio"], "t" if size > 1024 else "c"))
    print("t = throughput ratio vs bare AEAD (goal >= 0.90); c = cost ratio vs bare (goal <= 1.5)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"python": sys.version, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
