"""What ``python -m cyssl client`` and ``server`` print: connection summaries, certificate
descriptions and the server's HTML page. Formatting only: nothing here reads from or
writes to the network (connection_facts only queries a connected socket).

Certificates are described from the dict ``getpeercert()`` would return for them
(cyssl.crypto.peercert.decode_certificate), so the CLI shows what Python code sees.
"""
import hashlib
import html

from cyssl import PEM_FOOTER, PEM_HEADER, PEM_cert_to_DER_cert
from cyssl.crypto.peercert import decode_certificate

# OpenSSL's short names for the attributes seen in most subjects and issuers.
_SHORT_NAMES = {
    "commonName": "CN",
    "countryName": "C",
    "stateOrProvinceName": "ST",
    "localityName": "L",
    "organizationName": "O",
    "organizationalUnitName": "OU",
    "domainComponent": "DC",
    "emailAddress": "emailAddress",
}


# --- The negotiated parameters of a connection ------------------------------------------

def connection_facts(tls_socket):
    """The negotiated parameters of a cyssl SSLSocket after its handshake, as a dict:
    version, cipher, bits, group, alpn (str or None)."""
    cipher_name, _, bits = tls_socket.cipher()
    return {
        "version": tls_socket.version(),
        "cipher": cipher_name,
        "bits": bits,
        "group": key_exchange_group(tls_socket),
        "alpn": tls_socket.selected_alpn_protocol(),
    }


def key_exchange_group(tls_socket):
    """The key-exchange group's name (e.g. X25519MLKEM768). The ssl API has no call for
    it, so this reads cyssl's engine connection behind the socket."""
    group = tls_socket._sslobj.conn.group
    return group.name if group is not None else "(none)"


def handshake_summary(facts, handshake_seconds, connect_seconds, verification):
    """The client's summary lines."""
    return [
        "  version:       %s" % facts["version"],
        "  cipher suite:  %s (%d-bit key)" % (facts["cipher"], facts["bits"]),
        "  key exchange:  %s" % facts["group"],
        "  ALPN:          %s" % (facts["alpn"] or "(none)"),
        "  verification:  %s" % verification,
        "  handshake:     %.2f ms (after a %.2f ms TCP connect)"
        % (handshake_seconds * 1000, connect_seconds * 1000),
    ]


# --- Certificates ------------------------------------------------------------------------

def format_name(rdns):
    """A getpeercert() subject or issuer as 'CN=example.com, O=Example'."""
    parts = []
    for rdn in rdns:
        parts.append("+".join("%s=%s" % (_SHORT_NAMES.get(name, name), value)
                              for name, value in rdn))
    return ", ".join(parts) or "(empty)"


def describe_certificate(der):
    """One certificate as a dict of display strings: subject, issuer, valid_from,
    valid_until, sans. Raises ValueError for a certificate that cannot be decoded."""
    info = decode_certificate(der)
    sans = ", ".join("%s:%s" % (kind, value) for kind, value in info.get("subjectAltName", ()))
    return {
        "subject": format_name(info["subject"]),
        "issuer": format_name(info["issuer"]),
        "valid_from": info["notBefore"],
        "valid_until": info["notAfter"],
        "sans": sans or "(none)",
    }


def chain_lines(chain):
    """The lines describing a DER certificate chain, leaf first."""
    lines = ["peer certificate chain (%d, as sent by the peer):" % len(chain)]
    for index, der in enumerate(chain):
        try:
            cert = describe_certificate(der)
        except ValueError as err:
            lines.append("  [%d] (cannot decode this certificate: %s)" % (index, err))
            continue
        lines += [
            "  [%d] subject:  %s" % (index, cert["subject"]),
            "      issuer:   %s" % cert["issuer"],
            "      valid:    %s  until  %s" % (cert["valid_from"], cert["valid_until"]),
            "      SANs:     %s" % cert["sans"],
        ]
    return lines


def first_certificate_der(pem_text):
    """The DER of the first certificate in PEM text (a chain file, or key and chain)."""
    start = pem_text.find(PEM_HEADER)
    end = pem_text.find(PEM_FOOTER, start)
    if start < 0 or end < 0:
        raise ValueError("no PEM certificate found")
    return PEM_cert_to_DER_cert(pem_text[start:end + len(PEM_FOOTER)])


def sha256_fingerprint(der):
    """'AB:CD:...', as ``openssl x509 -fingerprint -sha256`` prints it."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


# --- The server's page -------------------------------------------------------------------

def connection_log_line(peer, facts, server_name):
    """The server's one line per accepted TLS connection."""
    return "%s  %s  %s  %s  ALPN=%s  SNI=%s" % (
        peer, facts["version"], facts["cipher"], facts["group"],
        facts["alpn"] or "-", server_name or "-")


def html_page(facts, server_name, peer, request_line):
    """The small HTML page the server answers every request with. Everything that came
    from the client (SNI, request line) is escaped."""
    rows = [
        ("TLS version", facts["version"]),
        ("Cipher suite", "%s (%d-bit key)" % (facts["cipher"], facts["bits"])),
        ("Key exchange", facts["group"]),
        ("ALPN", facts["alpn"] or "(none)"),
        ("SNI", server_name or "(none sent)"),
        ("Your address", peer),
        ("Your request", request_line),
    ]
    table = "\n".join("<tr><th>%s</th><td>%s</td></tr>" % (html.escape(name), html.escape(value))
                      for name, value in rows)
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>cyssl</title></head>\n"
            "<body>\n<h1>Hello from cyssl</h1>\n"
            "<p>This connection is protected by cyssl's own TLS engine.</p>\n"
            "<table>\n%s\n</table>\n</body></html>\n" % table)
