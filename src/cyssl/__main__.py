"""python -m cyssl: a few commands to see cyssl at work.

  demo    a cyssl server and client over 127.0.0.1: the client verifies the server's
          throwaway certificate, both sides exchange a message, and the demo prints
          what was negotiated.
  client  an s_client: connect to HOST:PORT, print what was negotiated and the peer's
          certificate chain.
  server  an s_server: answer every HTTP request with a page showing what was negotiated.

Exit codes (client and server): 0 success, 2 usage (bad arguments, unreadable files),
3 network (refused, unreachable, timed out, cannot listen), 4 TLS (handshake or
certificate verification failed), 130 interrupted (client), 1 anything else (an
unexpected exception, with its traceback).
"""
import argparse
import os
import signal
import socket
import sys
import tempfile
import threading
import time

import cyssl
from cyssl import cli_format
from cyssl.crypto.throwaway import private_key_pem, self_signed_certificate


def demo(args):
    """A cyssl server and a cyssl client over 127.0.0.1, through the ssl-compatible API."""
    from cyssl.crypto.throwaway import subject_of

    with tempfile.TemporaryDirectory() as directory:
        certfile, keyfile = write_throwaway_certificate(directory, "localhost")
        server_context = cyssl.SSLContext(cyssl.PROTOCOL_TLS_SERVER)
        server_context.load_cert_chain(certfile, keyfile)
        server_context.set_alpn_protocols(["http/1.1"])
        client_context = cyssl.create_default_context(cafile=certfile)
        client_context.set_alpn_protocols(["h2", "http/1.1"])

        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(10)
        received = []

        def serve():
            conn, _ = listener.accept()
            with server_context.wrap_socket(conn, server_side=True) as tls:
                received.append(tls.recv(1024))
                tls.sendall(b"hello from the cyssl server")

        server = threading.Thread(target=serve, daemon=True)
        server.start()
        with socket.create_connection(listener.getsockname(), timeout=10) as raw:
            start = time.perf_counter()
            with client_context.wrap_socket(raw, server_hostname="localhost") as tls:
                elapsed = time.perf_counter() - start
                tls.sendall(args.message.encode())
                reply = tls.recv(1024)
                print("cyssl %s: a TLS client and server over 127.0.0.1" % cyssl.__version__)
                print("  version:        %s" % tls.version())
                print("  cipher suite:   %s" % tls.cipher()[0])
                print("  key exchange:   %s" % tls._sslobj.conn.group.name)
                print("  ALPN:           %s" % tls.selected_alpn_protocol())
                print("  peer subject:   %s (verified)" % subject_of(tls.getpeercert(True)))
                print("  handshake:      %.2f ms" % (elapsed * 1000))
        server.join(10)
        listener.close()
    print("  server read:    %r" % (received[0].decode() if received else None))
    print("  client read:    %r" % reply.decode())
    return 0 if received and received[0] == args.message.encode() else 1


# --- Exit codes and errors --------------------------------------------------------------

EXIT_OK = 0
EXIT_USAGE = 2          # also argparse's own code for a bad command line
EXIT_NETWORK = 3        # refused, unreachable, name not found, timed out, cannot listen
EXIT_TLS = 4            # handshake failed, certificate not verified


class CommandError(Exception):
    """A failure the command reports in one line on stderr and an exit code."""

    def __init__(self, exit_code, message):
        super().__init__(message)
        self.exit_code = exit_code


def tls_failure(err):
    """CommandError for an ssl exception raised by a handshake."""
    if isinstance(err, cyssl.SSLCertVerificationError):
        return CommandError(EXIT_TLS, "certificate verification failed: %s (verify_code %s)"
                            % (err.verify_message, err.verify_code))
    return CommandError(EXIT_TLS, "TLS handshake failed: %s" % err)


def network_failure(what, err):
    """CommandError for an OSError of the transport (DNS, connect, timeout, reset)."""
    if isinstance(err, (TimeoutError, socket.timeout)):   # the same class since 3.10
        return CommandError(EXIT_NETWORK, "%s: timed out" % what)
    return CommandError(EXIT_NETWORK, "%s: %s" % (what, err.strerror or err))


def host_port(host, port):
    """'host:port', with an IPv6 address in brackets."""
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


_print_lock = threading.Lock()


def say(*lines):
    """Print lines to stdout together (server threads share it), flushed at once (the
    server's output is often read through a pipe)."""
    with _print_lock:
        print("\n".join(lines), flush=True)


# --- client ------------------------------------------------------------------------------

def parse_address(text, default_port=443):
    """'host:port', '[v6]:port' or 'host' as (host, port); CommandError when malformed."""
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise CommandError(EXIT_USAGE, "bad address %r: use [IPv6]:PORT" % text)
        port = rest[1:]
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    elif ":" in text:
        raise CommandError(EXIT_USAGE, "bad address %r: write an IPv6 address as [ADDR]:PORT" % text)
    else:
        host, port = text, ""
    if not host:
        raise CommandError(EXIT_USAGE, "bad address %r: no host" % text)
    if not port:
        return host, default_port
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError(EXIT_USAGE, "bad port %r in %r" % (port, text))
    return host, int(port)


def client_context(args):
    """The client's SSLContext: create_default_context() plus the command's options."""
    try:
        context = cyssl.create_default_context(cafile=args.cafile)
    except (OSError, cyssl.SSLError) as err:
        raise CommandError(EXIT_USAGE, "cannot load --cafile %s: %s" % (args.cafile, err))
    if args.insecure:
        context.check_hostname = False
        context.verify_mode = cyssl.CERT_NONE
    if args.alpn:
        context.set_alpn_protocols(args.alpn)
    return context


def client(args):
    """Connect, handshake, print the summary and the peer's chain, close."""
    host, port = parse_address(args.address)
    server_name = args.servername or host
    context = client_context(args)
    where = host_port(host, port)

    started = time.perf_counter()
    try:
        raw = socket.create_connection((host, port), timeout=args.timeout)
    except OSError as err:
        raise network_failure("cannot connect to %s" % where, err)
    connected = time.perf_counter()

    with raw:
        try:
            tls = context.wrap_socket(raw, server_hostname=server_name,
                                      do_handshake_on_connect=False)
            tls.do_handshake()
        except cyssl.SSLError as err:
            raise tls_failure(err)
        except OSError as err:
            raise network_failure("TLS handshake with %s" % where, err)
        handshaken = time.perf_counter()

        with tls:
            facts = cli_format.connection_facts(tls)
            if args.insecure:
                verification = "skipped (--insecure)"
            else:
                verification = "OK (chain verified, certificate valid for %r)" % server_name
            say("connected to %s, server name %s" % (where, server_name),
                *cli_format.handshake_summary(facts, handshaken - connected,
                                              connected - started, verification),
                *cli_format.chain_lines(tls.get_unverified_chain()))
    return EXIT_OK


# --- server ------------------------------------------------------------------------------

def server(args):
    """Serve HTTPS until Ctrl-C (or after one connection with --once)."""
    if args.key and not args.cert:
        raise CommandError(EXIT_USAGE, "--key needs --cert")
    with tempfile.TemporaryDirectory(prefix="cyssl-server-") as scratch:
        if args.cert:
            certfile, keyfile = args.cert, args.key
        else:
            certfile, keyfile = write_throwaway_certificate(scratch, args.host)
        context = server_context(certfile, keyfile, args.alpn or ["http/1.1"])

        family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
        try:
            listener = socket.create_server((args.host, args.port), family=family)
        except OSError as err:
            raise network_failure("cannot listen on %s port %d" % (args.host, args.port), err)

        with listener:
            host, port = listener.getsockname()[:2]
            # The first line names the port (tests start the server on --port 0 and read it).
            say("listening on %s" % host_port(host, port))
            describe_server_certificate(certfile, not args.cert, port, args.host)
            # SIGTERM stops the server as Ctrl-C does.
            signal.signal(signal.SIGTERM, _interrupt)
            try:
                return accept_loop(listener, context, args.once)
            except KeyboardInterrupt:
                say("stopped")
                return EXIT_OK


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def write_throwaway_certificate(directory, host):
    """A fresh self-signed certificate and key as PEM files in ``directory``."""
    hosts = ["localhost", "127.0.0.1", "::1"]
    if host not in hosts and host not in ("0.0.0.0", "::", ""):
        hosts.append(host)
    der, key = self_signed_certificate(tuple(hosts))
    certfile = os.path.join(directory, "cert.pem")
    keyfile = os.path.join(directory, "key.pem")
    with open(certfile, "w") as f:
        f.write(cyssl.DER_cert_to_PEM_cert(der))
    with open(os.open(keyfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
        f.write(private_key_pem(key))
    return certfile, keyfile


def describe_server_certificate(certfile, generated, port, host):
    """Print the certificate the server presents; for a throwaway one, how to trust it."""
    with open(certfile) as f:
        der = cli_format.first_certificate_der(f.read())
    cert = cli_format.describe_certificate(der)
    lines = ["certificate: %s" % certfile]
    if generated:
        lines.append("  (throwaway and self-signed: deleted when the server stops)")
    lines += ["  subject:  %s" % cert["subject"],
              "  SANs:     %s" % cert["sans"],
              "  SHA-256 fingerprint: %s" % cli_format.sha256_fingerprint(der)]
    if generated:
        name = "localhost" if host in ("127.0.0.1", "::1", "0.0.0.0", "::") else host
        lines += ["try: python -m cyssl client %s:%d --cafile %s" % (name, port, certfile),
                  "     curl --cacert %s https://%s:%d/" % (certfile, name, port)]
    say(*lines)


def server_context(certfile, keyfile, alpn):
    """A server SSLContext presenting certfile/keyfile; the SNI each client sends is kept
    on its socket (as ``server_name_received``) for the page."""
    context = cyssl.SSLContext(cyssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(certfile, keyfile)
    except (OSError, cyssl.SSLError) as err:
        raise CommandError(EXIT_USAGE, "cannot load the certificate and key: %s" % err)
    context.set_alpn_protocols(alpn)

    def remember_server_name(tls_socket, server_name, context):
        tls_socket.server_name_received = server_name
    context.sni_callback = remember_server_name
    return context


def accept_loop(listener, context, once):
    """Accept connections, each served in its own thread; with ``once``, return after the
    first one (EXIT_OK, or EXIT_TLS if its handshake failed)."""
    while True:
        conn, address = listener.accept()
        outcome = {}
        worker = threading.Thread(target=serve_connection, daemon=True,
                                  args=(conn, address, context, outcome))
        worker.start()
        if once:
            worker.join()
            return EXIT_OK if outcome.get("handshake_ok") else EXIT_TLS


CONNECTION_TIMEOUT = 30.0       # seconds a client may stay silent
MAX_HEADER_LINES = 100
MAX_LINE = 8192
MAX_BODY = 1 << 20


def serve_connection(conn, address, context, outcome):
    """TLS handshake, then answer each HTTP/1.x request until the client is done."""
    peer = host_port(*address[:2])
    conn.settimeout(CONNECTION_TIMEOUT)
    try:
        tls = context.wrap_socket(conn, server_side=True)
    except (cyssl.SSLError, OSError) as err:
        conn.close()
        say("%s  handshake failed: %s" % (peer, err))
        return
    outcome["handshake_ok"] = True
    facts = cli_format.connection_facts(tls)
    server_name = getattr(tls, "server_name_received", None)
    say(cli_format.connection_log_line(peer, facts, server_name))
    with tls, tls.makefile("rb") as reader:
        try:
            while True:
                request = read_request(reader)
                if request is None:
                    break
                request_line, keep_alive, head_only = request
                say("%s  %s" % (peer, request_line))
                page = cli_format.html_page(facts, server_name, peer, request_line)
                tls.sendall(http_response(page.encode("utf-8"), keep_alive, head_only))
                if not keep_alive:
                    break
        except ConnectionResetError:
            say("%s  connection reset by the client" % peer)
        except (cyssl.SSLError, OSError, ValueError) as err:
            say("%s  connection ended: %s" % (peer, err))


def read_request(reader):
    """(request line, keep-alive?, HEAD?) for the next request; None at end of input.
    A request body (Content-Length) is read and dropped. ValueError for a bad request."""
    line = reader.readline(MAX_LINE)
    while line in (b"\r\n", b"\n"):                     # tolerated before a request
        line = reader.readline(MAX_LINE)
    if not line:
        return None
    request_line = line.decode("latin-1").strip()
    parts = request_line.split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise ValueError("not an HTTP/1.x request: %r" % request_line[:80])
    headers = {}
    for _ in range(MAX_HEADER_LINES):
        line = reader.readline(MAX_LINE)
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    else:
        raise ValueError("too many header lines")
    length = int(headers.get("content-length", "0") or 0)
    if not 0 <= length <= MAX_BODY:
        raise ValueError("request body of %d bytes refused" % length)
    reader.read(length)
    connection = headers.get("connection", "").lower()
    keep_alive = connection != "close" if parts[2] == "HTTP/1.1" else connection == "keep-alive"
    return request_line, keep_alive, parts[0] == "HEAD"


def http_response(body, keep_alive, head_only):
    head = ("HTTP/1.1 200 OK\r\n"
            "Content-Type: text/html; charset=utf-8\r\n"
            "Content-Length: %d\r\n"
            "Connection: %s\r\n"
            "Server: cyssl\r\n\r\n" % (len(body), "keep-alive" if keep_alive else "close"))
    return head.encode("ascii") + (b"" if head_only else body)


# --- Command line ------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m cyssl", description="cyssl command line",
        epilog="exit codes: 0 success, 2 usage, 3 network (refused, unreachable, "
               "timeout, cannot listen), 4 TLS (handshake or certificate verification "
               "failed), 1 anything else")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("demo", help="a cyssl server and client over 127.0.0.1")
    p.add_argument("--message", default="hello from cyssl", help="the text the client sends")
    p.set_defaults(run=demo)

    p = commands.add_parser(
        "client", help="connect to a TLS server and show what was negotiated",
        description="Connect to HOST:PORT with cyssl (create_default_context plus the "
                    "options below), print the negotiated version, cipher suite, "
                    "key-exchange group, ALPN protocol and handshake time, and the "
                    "server's certificate chain.")
    p.add_argument("address", metavar="HOST:PORT", help="the server (port 443 if left out; "
                   "[ADDR]:PORT for IPv6)")
    p.add_argument("--alpn", metavar="PROTO", nargs="+", action="extend", default=[],
                   help="ALPN protocols to offer, in order of preference (e.g. h2 http/1.1)")
    p.add_argument("--cafile", metavar="FILE",
                   help="trust the CA certificates in this PEM file instead of the system's")
    p.add_argument("--servername", metavar="NAME",
                   help="the name sent as SNI and checked against the certificate "
                        "(default: HOST)")
    p.add_argument("--insecure", action="store_true",
                   help="do not verify the certificate chain or the host name")
    p.add_argument("--timeout", metavar="S", type=float, default=10.0,
                   help="seconds allowed for the TCP connect and for the handshake "
                        "(default: 10)")
    p.set_defaults(run=client)

    p = commands.add_parser(
        "server", help="an HTTPS server showing each client what was negotiated",
        description="Answer every HTTP request with a small HTML page showing the "
                    "negotiated TLS version, cipher suite, key-exchange group, ALPN "
                    "protocol and SNI. Without --cert, a throwaway self-signed "
                    "certificate is made (its path and SHA-256 fingerprint are printed). "
                    "The first line printed names the address and port. Ctrl-C stops it.")
    p.add_argument("--cert", metavar="FILE", help="PEM certificate chain, leaf first")
    p.add_argument("--key", metavar="FILE", help="PEM private key (default: in --cert)")
    p.add_argument("--host", metavar="ADDR", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1; 0.0.0.0 or :: for all)")
    p.add_argument("--port", metavar="N", type=int, default=4433,
                   help="port to listen on (default: 4433; 0 picks a free one)")
    p.add_argument("--alpn", metavar="PROTO", nargs="+", action="extend", default=[],
                   help="ALPN protocols to accept (default: http/1.1; the server itself "
                        "speaks HTTP/1.x only)")
    p.add_argument("--once", action="store_true",
                   help="serve one connection, then exit (0, or 4 if its handshake failed)")
    p.set_defaults(run=server)

    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except CommandError as err:
        print("cyssl %s: %s" % (args.command, err), file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return 130                                # as a shell reports death by SIGINT


if __name__ == "__main__":
    sys.exit(main())
