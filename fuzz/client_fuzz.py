"""Fuzz a whole client: client_connection(config) receiving an arbitrary byte stream
after its ClientHello.

Input: config byte (index into _common.client_configs(): verifying, ALPN, client
certificates, TLS 1.2 only, HRR, resumption...), flags byte (bits 0-2: chunking), then
the bytes a server would send. The client is deterministic (its randoms and key
shares come from a fixed stream), so the server flights make_seeds.py recorded from a
real cyssl server replay to a completed handshake; mutations exercise the record
framing, the plaintext ServerHello / HelloRetryRequest and (TLS 1.2) the whole server
flight, and everything the client does with a record that fails to decrypt.

Checks: as server_fuzz.py (only TLSError; failed stays failed; a completed handshake
authenticated the server when the config verifies; chunking does not matter).
"""
import _common
from _common import TLSError, feature, snapshot


def run(index, stream, pattern):
    conn = _common.new_client(index)
    config = conn.config
    conn.outgoing()
    prev = snapshot(conn)
    err = None
    for piece in _common.chunks(stream, pattern):
        try:
            _common.drive(conn, "client", piece)
        except TLSError as exc:
            err = exc
            _common.check_tls_error(err, "client")
            _common.check_failed_connection(conn, err, "client")
            break
        finally:
            conn.outgoing()
        snap = snapshot(conn)
        if snap != prev:
            feature("client", index, prev, snap)
            prev = snap
        if conn.read():
            feature("client", "app data", conn.version)
    _common.check_established(conn, config, "client")
    if conn.session is not None:
        feature("client", "session", type(conn.session).__name__)
    outcome = (None if err is None else (err.alert, err.reason, err.received),
               conn.handshake_complete, snapshot(conn))
    return outcome, err


TestOneInput = _common.stream_target('client', _common.client_configs, run)


if __name__ == "__main__":
    _common.main(TestOneInput, mutator=_common.raw_mutator, crossover=_common.raw_crossover,
                 max_len=16384)
