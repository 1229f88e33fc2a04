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


def run(index, stream, pattern):
    config = _common.fresh_server_config(index)
    _common.DRANDOM.use("server", 2)
    conn = _common.server13.server_connection(config)
    return _common.feed_stream(conn, config, "server", index, stream, pattern, conn.receive)


TestOneInput = _common.stream_target('server', _common.server_configs, run)


if __name__ == "__main__":
    _common.main(TestOneInput, mutator=_common.raw_mutator, crossover=_common.raw_crossover,
                 max_len=16384)
