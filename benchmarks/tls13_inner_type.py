"""What a TLS 1.3 record's inner content type costs on `cryptography`, in one run.

TLS 1.3 encrypts the record's content type after its data (RFC 8446 5.2), so 16 KiB of
data are sealed as 16385 bytes. `cryptography` offers two ways to do that for AES-GCM:

- one-shot (``AESGCM.encrypt_into`` / ``decrypt_into``), which takes one contiguous
  input and fills an output of exactly its size: the data is copied next to the type
  byte before sealing. The 16385 opened bytes fit a reader's 16384-byte bytearray, the
  type byte borrowing the NUL that CPython keeps after a bytearray's contents (cyssl's
  ``read(n, buffer)`` does this, and section 3's "floor"); any other reader's buffer
  needs them opened into one of ours and copied out, a second copy.
- streaming (``Cipher(AES, GCM(nonce))`` per record, ``update_into`` the data, then the
  type byte, ``finalize``), which needs no copy on the sending side; on the receiving
  side ``update_into`` still needs 15 bytes more room than the reader's buffer has, so
  one copy stays there.

Each is timed per record (seal + open, 16 KiB of data) beside the bare one-shot calls on
16384 bytes with no type byte (section 3's "bare"), in interleaved rounds.

    python benchmarks/tls13_inner_type.py [--quick]
"""
import os

from _buffers import with_terminator
from _script import quick_run
from _timing import interleaved, median_ratio, median_time
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

DATA = 16384
TAG = 16
APPLICATION_DATA = b"\x17"
HEADER = bytes([23, 3, 3, (DATA + 1 + TAG) >> 8, (DATA + 1 + TAG) & 0xFF])


def contenders():
    key, nonce = os.urandom(32), os.urandom(12)
    data = os.urandom(DATA)
    reader = bytearray(DATA)                      # the reader's 16 KiB buffer
    reader_view = memoryview(reader)
    aead, aes = AESGCM(key), algorithms.AES(key)

    sealed = bytearray(DATA + TAG)

    def bare():
        aead.encrypt_into(nonce, data, HEADER, sealed)
        aead.decrypt_into(nonce, sealed, HEADER, reader)

    inner = bytearray(DATA + 1)
    inner[DATA] = APPLICATION_DATA[0]
    inner_data = memoryview(inner)[:DATA]
    record = bytearray(DATA + 1 + TAG)
    reader_and_nul = with_terminator(reader)

    def one_shot():
        inner_data[:] = data                      # the copy: data next to its type byte
        aead.encrypt_into(nonce, inner, HEADER, record)
        aead.decrypt_into(nonce, record, HEADER, reader_and_nul)
        if reader_and_nul[DATA] != APPLICATION_DATA[0]:
            raise AssertionError("content type lost")
        reader_and_nul[DATA] = 0

    opened = bytearray(DATA + 1)
    opened_data = memoryview(opened)[:DATA]

    def one_shot_other_buffer():
        inner_data[:] = data                      # copy 1: data next to its type byte
        aead.encrypt_into(nonce, inner, HEADER, record)
        aead.decrypt_into(nonce, record, HEADER, opened)
        reader_view[:] = opened_data              # copy 2: out of our buffer
        if opened[DATA] != APPLICATION_DATA[0]:
            raise AssertionError("content type lost")

    # update_into wants len(input) + 15 bytes of room (cryptography's rule for any mode).
    streamed = bytearray(DATA + 1 + 15)
    streamed_view = memoryview(streamed)
    tail = bytearray(1 + 15)
    unsealed = bytearray(DATA + 15)
    unsealed_data = memoryview(unsealed)[:DATA]

    def streaming():
        encryptor = Cipher(aes, modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(HEADER)
        encryptor.update_into(data, streamed_view)
        encryptor.update_into(APPLICATION_DATA, streamed_view[DATA:])
        encryptor.finalize()
        decryptor = Cipher(aes, modes.GCM(nonce, encryptor.tag)).decryptor()
        decryptor.authenticate_additional_data(HEADER)
        decryptor.update_into(streamed_view[:DATA], unsealed)
        decryptor.update_into(streamed_view[DATA:DATA + 1], tail)
        decryptor.finalize()
        reader_view[:] = unsealed_data            # the copy update_into's rule forces
        if tail[0] != APPLICATION_DATA[0]:
            raise AssertionError("content type lost")

    return {"bare": bare, "one-shot + 1 copy": one_shot,
            "one-shot + 2 copies": one_shot_other_buffer, "streaming + 1 copy": streaming}


def main():
    quick = quick_run(__doc__, "TLS 1.3 AES-256-GCM, 16 KiB of data per record")
    rounds, calls = (3, 50) if quick else (21, 2000)
    fns = contenders()
    for fn in fns.values():
        fn()
    samples = interleaved(fns, calls, rounds)
    print("%-22s %12s %14s" % ("way", "us/record", "bare/way"))
    for name, times in samples.items():
        print("%-22s %12.2f %13.2fx" % (name, median_time(times) * 1e6,
                                        median_ratio(samples["bare"], times)))


if __name__ == "__main__":
    main()
