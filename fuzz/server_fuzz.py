"""Fuzz a whole server: server_connection(config) receiving an arbitrary byte stream.

Input: config byte (index into _common.server_configs()), flags byte (bits 0-2: how
the stream is chunked into receive() calls), then the bytes a client would send.
Seeds (make_seeds.py) are real client streams recorded from cyssl clients against
these configs, TLS 1.3 and TLS 1.2: the ClientHello and, where the handshake is
deterministic (no X25519MLKEM768), the client's whole flight, which then replays to a
completed handshake.

Checks: only TLSError escapes (internal_error caused by another exception is a bug);
a failed connection stays failed; a completed handshake is authenticated as the
config demands; the outcome does not depend on how the stream was chunked.
"""
import _common
from _common import TLSError, feature, snapshot


def run(index, stream, pattern):
    config = _common.fresh_server_config(index)
    _common.DRANDOM.use("server", 2)
    conn = _common.server13.server_connection(config)
    prev = snapshot(conn)
    err = None
    for piece in _common.chunks(stream, pattern):
        try:
            conn.receive(piece)
        except TLSError as exc:
            err = exc
            _common.check_tls_error(err, "server")
            _common.check_failed_connection(conn, err, "server")
            break
        finally:
            conn.outgoing()
        snap = snapshot(conn)
        if snap != prev:
            feature("server", index, prev, snap)
            prev = snap
        if conn.read():
            feature("server", "app data", conn.version)
    _common.check_established(conn, config, "server")
    outcome = (None if err is None else (err.alert, err.reason, err.received),
               conn.handshake_complete, snapshot(conn))
    return outcome, err


TestOneInput = _common.stream_target('server', _common.server_configs, run)


if __name__ == "__main__":
    _common.main(TestOneInput, mutator=_common.raw_mutator, crossover=_common.raw_crossover,
                 max_len=16384)
