"""python -m cyssl demo: a TLS 1.3 handshake between a cyssl client and a cyssl server.

The two engines talk through memory (the ssl-compatible sockets come with the API
issue): the client verifies the server's throwaway certificate, both sides exchange a
message, and the demo prints what was negotiated.
"""
import argparse
import sys
import time


def demo(args):
    from cyssl import __version__
    from cyssl.crypto.certs import TrustStore, load_der_certificate
    from cyssl.crypto.throwaway import self_signed_certificate, subject_of
    from cyssl.tls.client13 import client_connection
    from cyssl.tls.config import TLSConfig, VERIFY_REQUIRED
    from cyssl.tls.server13 import server_connection
    from cyssl.tls.tickets import TicketKeys
    from cryptography.hazmat.primitives.serialization import Encoding

    cert_der, key = self_signed_certificate(("localhost",))
    trust = TrustStore()
    trust.add_pem(load_der_certificate(cert_der).public_bytes(Encoding.PEM))
    client_cfg = TLSConfig(verify_mode=VERIFY_REQUIRED, check_hostname=True, trust_store=trust,
                           alpn_protocols=[b"h2", b"http/1.1"])
    server_cfg = TLSConfig(certificate_chain=[cert_der], private_key=key,
                           alpn_protocols=[b"http/1.1"], ticket_keys=TicketKeys())

    start = time.perf_counter()
    client = client_connection(client_cfg, "localhost")
    server = server_connection(server_cfg)
    while not (client.handshake_complete and server.handshake_complete):
        server.receive(client.outgoing())
        client.receive(server.outgoing())
    elapsed = time.perf_counter() - start
    client.send(args.message.encode())
    server.receive(client.outgoing())
    received = server.read()

    print("cyssl %s: TLS 1.3 between two cyssl engines, in memory" % __version__)
    print("  version:        TLSv1.3")
    print("  cipher suite:   %s" % client.suite.name)
    print("  key exchange:   %s" % client.group.name)
    print("  ALPN:           %s" % client.alpn_protocol.decode())
    print("  peer subject:   %s (verified: %s)" % (subject_of(client.peer_chain[0]),
                                                    bool(client.verified_chain)))
    print("  handshake:      %.2f ms (both sides, one process)" % (elapsed * 1000))
    print("  server read:    %r" % received.decode())
    return 0 if received == args.message.encode() else 1


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m cyssl", description="cyssl command line")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("demo", help="a TLS 1.3 handshake between two cyssl engines")
    p.add_argument("--message", default="hello from cyssl", help="the text the client sends")
    p.set_defaults(run=demo)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
