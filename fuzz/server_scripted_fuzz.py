"""Fuzz a server against a scripted client (see _scripted.py for the ops): the
ClientHello, then what the client sends encrypted -- Certificate, CertificateVerify,
Finished, and after the handshake KeyUpdate, post-handshake authentication answers,
alerts, application data -- and the TLS 1.2 flight (Certificate, ClientKeyExchange,
CertificateVerify, ChangeCipherSpec, Finished, renegotiation attempts), all sealed with
the key the server currently expects.

Input: config byte (index into _common.server_configs()), then ops.
"""
import _common
import _scripted


def TestOneInput(data):
    if not data:
        return
    index = data[0] % len(_common.server_configs())
    conn = _common.new_server(index)
    err = _scripted.run_script(conn, "server", conn.config, _common.decode_ops(data[1:]),
                               "server*/%d" % index)
    if err is not None:
        _common.error_feature("server*/%d" % index, err)


if __name__ == "__main__":
    _common.main(TestOneInput, mutator=_scripted.mutator, crossover=_scripted.crossover,
                 max_len=16384)
