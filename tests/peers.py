"""Real TLS peers for tests: the interpreter's own ssl (OpenSSL) over memory BIOs, and
helpers that shuttle bytes between it and a cyssl engine connection until both rest."""
import ssl

from cyssl.tls.client13 import client_connection
from cyssl.tls.config import TLSConfig, VERIFY_NONE, VERIFY_REQUIRED
from cyssl.tls.server13 import server_connection
from cyssl.tls.tickets import TicketKeys
from cyssl.crypto.certs import TrustStore


class StdlibPeer:
    """A stdlib SSLObject with its two BIOs."""

    def __init__(self, context, server_side, server_hostname=None, session=None):
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.obj = context.wrap_bio(self.incoming, self.outgoing, server_side=server_side,
                                    server_hostname=server_hostname, session=session)
        self.done = False

    def step(self):
        """Advance the handshake as far as the buffered input allows."""
        if not self.done:
            try:
                self.obj.do_handshake()
                self.done = True
            except ssl.SSLWantReadError:
                pass


def shuttle(conn, peer, rounds=50):
    """Move bytes both ways between a cyssl Connection and a StdlibPeer until neither
    side has anything more to say. Exceptions from either side propagate."""
    for _ in range(rounds):
        peer.step()
        moved = False
        data = peer.outgoing.read()
        if data:
            conn.receive(data)
            moved = True
        data = conn.outgoing()
        if data:
            peer.incoming.write(data)
            moved = True
        if not moved:
            peer.step()
            if not peer.outgoing.pending and not conn.records.outgoing_size:
                return
    raise AssertionError("peers never came to rest")


def shuttle_until_cyssl_fails(conn, peer):
    """Run until the cyssl side raises; deliver its alert to the stdlib peer. Returns
    (cyssl's TLSError, the stdlib's ssl.SSLError)."""
    import pytest
    from cyssl.tls.errors import TLSError
    with pytest.raises(TLSError) as ours:
        shuttle(conn, peer)
    peer.incoming.write(conn.outgoing())
    with pytest.raises(ssl.SSLError) as theirs:
        peer.obj.do_handshake()
        peer.obj.read(1)
    return ours.value, theirs.value


def shuttle_engines(a, b, rounds=50):
    """Move bytes between two cyssl Connections until both rest."""
    for _ in range(rounds):
        moved = False
        for src, dst in ((a, b), (b, a)):
            data = src.outgoing()
            if data:
                dst.receive(data)
                moved = True
        if not moved:
            return
    raise AssertionError("engines never came to rest")


def stdlib_server_context(leaf, tmp_path, *cas, alpn=None, client_ca=None):
    from pki import write_chain
    certfile, keyfile = write_chain(tmp_path, leaf, *cas)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certfile, keyfile)
    if alpn:
        ctx.set_alpn_protocols(alpn)
    if client_ca is not None:
        ctx.load_verify_locations(cadata=client_ca.cert_pem().decode())
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def stdlib_client_context(root, alpn=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cadata=root.cert_pem().decode())
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx


def trust(*cas):
    store = TrustStore()
    for ca in cas:
        store.add_pem(ca.cert_pem())
    return store


def client_config(root=None, **settings):
    """A cyssl client config that verifies against ``root`` (or nothing when None)."""
    if root is not None:
        settings.setdefault("verify_mode", VERIFY_REQUIRED)
        settings.setdefault("check_hostname", True)
        settings.setdefault("trust_store", trust(root))
    else:
        settings.setdefault("verify_mode", VERIFY_NONE)
    return TLSConfig(**settings)


def server_config(leaf, *cas, **settings):
    settings.setdefault("ticket_keys", TicketKeys())
    return TLSConfig(credentials=[([leaf.der()] + [ca.der() for ca in cas], leaf.key)], **settings)


def recv_to_eof(sock):
    """Everything a (TLS) socket delivers until its peer closes."""
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


__all__ = ["StdlibPeer", "shuttle", "shuttle_until_cyssl_fails", "shuttle_engines", "stdlib_server_context",
           "stdlib_client_context", "client_config", "server_config", "trust",
           "client_connection", "server_connection", "recv_to_eof"]
