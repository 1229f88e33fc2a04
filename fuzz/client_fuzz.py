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


def run(index, stream, pattern):
    conn = _common.new_client(index)
    conn.outgoing()
    return _common.feed_stream(conn, conn.config, "client", index, stream, pattern,
                               lambda piece: _common.drive(conn, "client", piece))


TestOneInput = _common.stream_target('client', _common.client_configs, run)


if __name__ == "__main__":
    _common.main(TestOneInput, mutator=_common.raw_mutator, crossover=_common.raw_crossover,
                 max_len=16384)
