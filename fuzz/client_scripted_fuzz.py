"""Fuzz a client against a scripted server (see _scripted.py for the ops): the
messages behind the handshake encryption and after the handshake -- EncryptedExtensions,
Certificate, CertificateRequest, CertificateVerify, Finished, NewSessionTicket,
KeyUpdate, post-handshake CertificateRequest, alerts, application data -- and the
TLS 1.2 flight (Certificate, ServerKeyExchange, CertificateRequest, ServerHelloDone,
NewSessionTicket, ChangeCipherSpec, Finished), all sealed with the key the client
currently expects.

Input: config byte (index into _common.client_configs()), then ops.
"""
import _common
import _scripted


def TestOneInput(data):
    if not data:
        return
    index = data[0] % len(_common.client_configs())
    conn = _common.new_client(index)
    conn.outgoing()
    err = _scripted.run_script(conn, "client", conn.config, _common.decode_ops(data[1:]),
                               "client*/%d" % index)
    if err is not None:
        _common.error_feature("client*/%d" % index, err)


if __name__ == "__main__":
    _common.main(TestOneInput, mutator=_scripted.mutator, crossover=_scripted.crossover,
                 max_len=16384)
