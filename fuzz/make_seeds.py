"""Write the seed corpora for every fuzz target (nothing binary is committed).

    python fuzz/make_seeds.py [OUTPUT_DIR]      # default: fuzz/corpus

Creates OUTPUT_DIR/<target>/seed-* for record, messages, server, client,
server_scripted and client_scripted. The seeds come from real handshakes between
cyssl clients and servers in the configurations the targets use (TLS 1.3 with and
without X25519MLKEM768, HelloRetryRequest, client certificates and post-handshake
authentication, ALPN and record_size_limit, TLS 1.2 full and resumed, TLS 1.3
resumption), made deterministic by _common so that they replay the same handshake in
the fuzz process. Fuzzers add what they find to the same directories; keep them out of
git (.gitignore: /fuzz/corpus/).
"""
import hashlib
import os
import sys

import _common
import _scripted
import messages_fuzz
import record_fuzz
from _common import encode_ops

TARGETS = ("record", "messages", "server", "client", "server_scripted", "client_scripted")

# (client config, server config, name) pairs to record.
PAIRS = [
    (0, 0, "tls13-mlkem"), (0, 7, "tls13-x25519"), (2, 1, "tls13-client-auth"),
    (3, 3, "tls12"), (3, 6, "tls12-client-auth"), (4, 4, "tls13-hrr-ed25519"),
    (0, 4, "tls13-hrr"), (1, 2, "tls13-alpn-rsl"), (5, 5, "tls13-no-ccs"),
    (6, 3, "tls12-relaxed"), (7, 7, "tls13-resumed"), (8, 3, "tls12-resumed"),
    (0, 3, "tls12-server-only"), (3, 0, "tls12-client-only"), (6, 6, "tls12-cert-missing"),
    (1, 0, "tls13-verify-none"), (0, 8, "tls13-sni-callback"), (3, 8, "tls12-sni-callback"),
    (0, 9, "tls13-two-chains"), (3, 9, "tls12-two-chains"),
]


class Seeds:
    def __init__(self, root):
        self.root = root
        self.count = {t: 0 for t in TARGETS}
        for target in TARGETS:
            os.makedirs(os.path.join(root, target), exist_ok=True)

    def add(self, target, name, data):
        digest = hashlib.sha1(data).hexdigest()[:12]
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        path = os.path.join(self.root, target, "seed-%s-%s" % (safe, digest))
        with open(path, "wb") as f:
            f.write(data)
        self.count[target] += 1


def record_pair(ci, si, server_actions):
    """One deterministic handshake (and what follows); returns (client, server, log)."""
    client = _common.tapped_client(ci)
    server = _common.tapped_server(si)
    log = []
    try:
        _common.shuttle(client, server, log=log)
        if client.handshake_complete and server.handshake_complete:
            actor = server if server_actions else client
            role = "server" if server_actions else "client"
            _common.DRANDOM.use(role)
            actor.send(b"hello from the " + role.encode())
            _common.shuttle(client, server, log=log)
            if actor.version == 0x0304:
                actor.update_keys(True)
                _common.shuttle(client, server, log=log)
                if server_actions and client.config.post_handshake_auth:
                    server.handshake.request_client_certificate()
                    _common.shuttle(client, server, log=log)
            actor.send(b"more data")
            actor.close()
            _common.shuttle(client, server, log=log)
    except _common.TLSError as err:
        print("  (%s, %s): %s" % (ci, si, err))
        for src, name in ((client, "client"), (server, "server")):
            data = src.outgoing()
            if data:
                log.append((name, data))
    return client, server, log


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(_common.HERE, "corpus")
    seeds = Seeds(root)

    # record: hand-made op lists for every mode
    for name, data in record_fuzz.seeds():
        seeds.add("record", name, data)

    messages = []          # (selector name, body)
    for ci, si, name in PAIRS:
        # Run 1: the server acts after the handshake (KeyUpdate, PHA, data, close):
        # the client target's seed is what the server sent.
        client, server, log = record_pair(ci, si, server_actions=True)
        server_bytes = b"".join(d for who, d in log if who == "server")
        for flags in (0, 4):
            seeds.add("client", "%s-%d" % (name, flags), bytes([ci, flags]) + server_bytes)
        version = client.version or server.version or 0x0304
        ops = _scripted.ops_from_peer(server.sent, version, peer_is_server=True,
                                      middlebox=server.config.middlebox_compatibility)
        ops += [(_scripted.REC, b"\x17hello"), (_scripted.REC, b"\x15\x01\x00")]
        seeds.add("client_scripted", name, bytes([ci]) + encode_ops(ops))
        messages += [(raw, version) for raw, _ in server.sent + client.sent]

        # Run 2: the client acts: the server target's seed is what the client sent.
        client, server, log = record_pair(ci, si, server_actions=False)
        client_bytes = b"".join(d for who, d in log if who == "client")
        for flags in (0, 5):
            seeds.add("server", "%s-%d" % (name, flags), bytes([si, flags]) + client_bytes)
        hello_only = _common.split_records(client_bytes)[0][:1]
        seeds.add("server", "%s-hello" % name, bytes([si, 0]) + _common.join_records(hello_only))
        version = client.version or server.version or 0x0304
        ops = _scripted.ops_from_peer(client.sent, version, peer_is_server=False)
        ops += [(_scripted.REC, b"\x17ping"), (_scripted.REC, b"\x15\x01\x00")]
        seeds.add("server_scripted", name, bytes([si]) + encode_ops(ops))
        if si == 1 and ci == 2:            # post-handshake authentication, scripted
            pha = ops[:-2] + [(_scripted.ACT, b"\x04"), (_scripted.CERT, b"\x00"),
                              (_scripted.CV, b"\x00"), (_scripted.FIN, b"\x00"),
                              (_scripted.REC, b"\x17after pha")]
            seeds.add("server_scripted", name + "-pha", bytes([si]) + encode_ops(pha))

    # server names the SNI callback config (8) reacts to
    for host in ("ed.example", "refused.example.x"):
        client = _common.tapped_client(0, server_name=host)
        seeds.add("server", "sni-" + host, bytes([8, 0]) + client.outgoing())
        seeds.add("server_scripted", "sni-" + host, bytes([8]) + encode_ops(
            _scripted.ops_from_peer(client.sent, 0x0304, peer_is_server=False)))

    # messages: every handshake message, every extension body, under its parser
    idx = messages_fuzz.INDEX
    by_type13 = {1: "ClientHello", 2: "ServerHello", 8: "EncryptedExtensions", 11: "Certificate",
                 13: "CertificateRequest", 15: "CertificateVerify", 4: "NewSessionTicket",
                 24: "KeyUpdate"}
    by_type12 = {1: "ClientHello", 2: "ServerHello", 11: "Certificate12", 12: "ServerKeyExchange",
                 13: "CertificateRequest12", 15: "CertificateVerify", 16: "ClientKeyExchange",
                 4: "NewSessionTicket12"}
    seen = set()

    def add_message(selector, body):
        key = (selector, body)
        if selector in idx and key not in seen:
            seen.add(key)
            seeds.add("messages", selector, bytes([idx[selector]]) + body)

    ext_parsers = {0: "server_name", 10: "u16_list", 13: "u16_list", 16: "alpn",
                   43: "u16_list/1", 45: "psk_modes", 47: "certificate_authorities",
                   28: "record_size_limit", 44: "opaque16", 11: "point_formats", 50: "u16_list"}
    for raw, version in messages:
        t, body = raw[0], raw[4:]
        table = by_type12 if version == 0x0303 else by_type13
        if t in table:
            add_message(table[t], body)
        exts = None
        if t in (1, 2):
            parsed = _common.parse_hello(body, t == 1)
            if parsed:
                exts = parsed[1]
                add_message("extensions", body[len(parsed[0]):])
        elif t == 8:
            exts = _common.parse_extension_block(body, 0)
        elif t == 13 and version == 0x0304:
            exts = _common.parse_extension_block(body, 1 + body[0])
        for ext_type, ext_body in exts or ():
            if ext_type in ext_parsers:
                add_message(ext_parsers[ext_type], ext_body)
            if ext_type == 51:
                add_message("key_shares" if t == 1 else "server_key_share", ext_body)
                add_message("u16", ext_body[:2])
            if ext_type == 41:
                add_message("OfferedPsks" if t == 1 else "u16", ext_body)
            if ext_type == 0xFF01:
                add_message("secure_hello", b"\x0b" + ext_body)
            if ext_type == 43 and t == 2:
                add_message("u16", ext_body)
    handshake_stream = b"".join(raw for raw, _ in messages[:12])
    for limit in range(6):
        add_message("HandshakeBuffer", bytes([limit]) + b"".join(
            bytes([len(c)]) + c for c in (handshake_stream[i:i + 39]
                                          for i in range(0, min(len(handshake_stream), 3000), 39))))
    for program in (b"\x02\x00\x00", b"\x0a\x00\x04\x00\x01\x00\x08\x00\x0c\x00\x0f\x00\x13\x00",
                    b"\x10\x01\x03\x07\x00\x08\x00\x09\x00\x0e\x00\x0f\x00\x10\x00\x11\x00",
                    b"\x0c\x00\x00\x0b\x00\x0c\x00\x00\x00\x05\x80\x05\xff\x06\x03\x12\x00"):
        add_message("Reader", program + bytes(range(40)))
    state = _common.tickets.TicketState(0x1301, b"\x11" * 32, 1750000000000, 7, 7200, b"h2",
                                        "localhost", [_common.pki().server_der])
    add_message("TicketState", state.encode())
    state12 = _common.tickets.TicketState12(0xC02B, b"\x22" * 48, True, 1750000000000, 7200,
                                            "localhost", [_common.pki().client_der], True)
    add_message("TicketState12", state12.encode())
    for der in all_certificates():
        add_message("peercert", der)
    p = _common.pki()
    chains = [[p.server_der], [p.server_der, p.root_der], [p.client_der], [p.ed_server_der],
              [p.root_der]] + [[der, p.root_der] for der in all_certificates()[:12]]
    for n, chain in enumerate(chains):
        body = _common.messages12.encode_certificate12(chain)[4:]
        for flags in (0x08, 0x04 | 0x18, 0x01 | 0x08, 0x02):
            add_message("verify_chain", bytes([flags]) + body)
    for t in sorted(seeds.count):
        print("%-16s %4d seeds" % (t, seeds.count[t]))
    print("written to", root)


def all_certificates():
    """The fixed PKI's certificates and a few odd shapes for the certificate parsers."""
    import datetime
    import ipaddress
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, rsa
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID, ObjectIdentifier
    p = _common.pki()
    out = [p.root_der, p.server_der, p.ed_server_der, p.client_der]
    start = datetime.datetime(2020, 1, 1)
    end = datetime.datetime(2099, 1, 1)

    def build(key, extensions, subject=None):
        b = (x509.CertificateBuilder()
             .subject_name(subject or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "odd")]))
             .issuer_name(p.root.subject).public_key(key.public_key()).serial_number(99)
             .not_valid_before(start).not_valid_after(end))
        for ext, critical in extensions:
            b = b.add_extension(ext, critical)
        return b.sign(p.root_key, hashes.SHA256(), ecdsa_deterministic=True).public_bytes(Encoding.DER)

    from cryptography.x509.name import _ASN1Type
    subject = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, "ünïcode", _ASN1Type.UTF8String),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "bmp", _ASN1Type.BMPString),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
        x509.NameAttribute(NameOID.EMAIL_ADDRESS, "a@b.example"),
        x509.NameAttribute(ObjectIdentifier("1.2.3.4.5"), "custom"),
    ])
    san = x509.SubjectAlternativeName([
        x509.DNSName("localhost"), x509.DNSName("*.example.com"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(ipaddress.ip_address("::1")),
        x509.RFC822Name("x@example.com"), x509.UniformResourceIdentifier("https://example.com/"),
        x509.DirectoryName(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dir")])),
        x509.RegisteredID(ObjectIdentifier("1.2.3.4")),
        x509.OtherName(ObjectIdentifier("1.3.6.1.4.1.311.20.2.3"), b"\x0c\x03upn"),
    ])
    aia = x509.AuthorityInformationAccess([
        x509.AccessDescription(AuthorityInformationAccessOID.OCSP,
                               x509.UniformResourceIdentifier("http://ocsp.example")),
        x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS,
                               x509.UniformResourceIdentifier("http://ca.example/ca.der"))])
    crl = x509.CRLDistributionPoints([x509.DistributionPoint(
        [x509.UniformResourceIdentifier("http://crl.example/1.crl")], None, None, None)])
    constraints = x509.NameConstraints(
        permitted_subtrees=[x509.DNSName("example.com")],
        excluded_subtrees=[x509.IPAddress(ipaddress.ip_network("10.0.0.0/8"))])
    key = _common._derived_ec(10)
    out.append(build(key, [(san, False), (aia, False), (crl, False)], subject))
    out.append(build(key, [(x509.BasicConstraints(True, 0), True), (constraints, True),
                           (x509.PolicyConstraints(0, 1), True),
                           (x509.CertificatePolicies([x509.PolicyInformation(
                               ObjectIdentifier("2.5.29.32.0"), ["http://cps"])]), False)]))
    out.append(build(key, [(x509.UnrecognizedExtension(ObjectIdentifier("1.2.3.99"), b"\x05\x00"),
                            True), (san, False)]))
    out.append(build(key, [(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CODE_SIGNING]),
                            True), (x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)]))
    out.append(build(_common._derived_ec(11, ec.SECP384R1()), [(san, False)]))
    out.append(build(_common._derived_ec(12, ec.SECP521R1()), [(san, False)]))
    out.append(build(ed448.Ed448PrivateKey.generate(), [(san, False)]))
    out.append(build(rsa.generate_private_key(65537, 1024), [(san, False)]))
    out.append(build(dsa.generate_private_key(1024), [(san, False)]))
    return out


if __name__ == "__main__":
    main()
