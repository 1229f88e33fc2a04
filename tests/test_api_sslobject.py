"""SSLObject and MemoryBIO: the memory-BIO contract asyncio depends on (integration.md
section 1.6, H3-H5), against the stdlib's ssl as the peer."""
import ssl

import pytest

import cyssl


def server_context(pki_files, lib=ssl):
    ctx = lib.SSLContext(lib.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki_files.certfile, pki_files.keyfile)
    return ctx


def client_context(pki_files, lib=cyssl):
    ctx = lib.SSLContext(lib.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki_files.cafile)
    return ctx


class Pair:
    """Two SSLObjects over BIOs, with a pump that moves bytes until both rest."""

    def __init__(self, client_ctx, server_ctx, bio=ssl.MemoryBIO, hostname="localhost"):
        # ``bio`` is for cyssl's side; the stdlib's own objects take only its own BIOs.
        client_bio = bio if isinstance(client_ctx, cyssl.SSLContext) else ssl.MemoryBIO
        server_bio = bio if isinstance(server_ctx, cyssl.SSLContext) else ssl.MemoryBIO
        self.c_in, self.c_out = client_bio(), client_bio()
        self.s_in, self.s_out = server_bio(), server_bio()
        self.client = client_ctx.wrap_bio(self.c_in, self.c_out, server_hostname=hostname)
        self.server = server_ctx.wrap_bio(self.s_in, self.s_out, server_side=True)

    def pump(self):
        moved = True
        while moved:
            moved = False
            for src, dst in ((self.c_out, self.s_in), (self.s_out, self.c_in)):
                data = src.read()
                if data:
                    dst.write(data)
                    moved = True

    def handshake(self):
        for _ in range(10):
            done = 0
            for side in (self.client, self.server):
                try:
                    side.do_handshake()
                    done += 1
                except ssl.SSLWantReadError:
                    pass
            self.pump()
            if done == 2:
                return
        raise AssertionError("handshake did not finish")


@pytest.mark.parametrize("bio", [ssl.MemoryBIO, cyssl.MemoryBIO], ids=["stdlib-bio", "cyssl-bio"])
@pytest.mark.parametrize("role", ["client", "server"])
def test_handshake_and_data(pki_files, bio, role):
    if role == "client":
        pair = Pair(client_context(pki_files), server_context(pki_files), bio)
        ours = pair.client
    else:
        pair = Pair(client_context(pki_files, ssl), server_context(pki_files, cyssl), bio)
        ours = pair.server
    with pytest.raises(ssl.SSLWantReadError) as info:
        ours.do_handshake() if role == "client" else (pair.client.do_handshake(), pair.pump(),
                                                      ours.do_handshake())
    assert info.value.errno == ssl.SSL_ERROR_WANT_READ
    pair.handshake()
    assert isinstance(ours, cyssl.SSLObject)
    assert ours.version() == "TLSv1.3" and ours.cipher()[1] == "TLSv1.3"
    assert ours.compression() is None and ours.selected_npn_protocol() is None
    assert ours.server_side == (role == "server")
    pair.client.write(b"hello")
    pair.pump()
    assert pair.server.read(1024) == b"hello"
    pair.server.write(memoryview(b"world"))
    pair.pump()
    buffer = bytearray(10)
    assert pair.client.read(5, memoryview(buffer)[2:]) == 5 and buffer[2:7] == b"world"
    with pytest.raises(ssl.SSLWantReadError):
        ours.read(10)


def test_getpeercert_forms(pki_files):
    pair = Pair(client_context(pki_files), server_context(pki_files))
    pair.handshake()
    assert pair.client.getpeercert(binary_form=True) == pki_files.leaf.der()
    cert = pair.client.getpeercert()
    assert cert["subjectAltName"][0] == ("DNS", "localhost")
    with pytest.raises(ValueError):
        Pair(client_context(pki_files), server_context(pki_files)).client.getpeercert()
    unverified = client_context(pki_files)
    unverified.check_hostname = False
    unverified.verify_mode = ssl.CERT_NONE
    pair = Pair(unverified, server_context(pki_files))
    pair.handshake()
    assert pair.client.getpeercert() == {}                # not verified: an empty dict
    pair = Pair(client_context(pki_files, ssl), server_context(pki_files, cyssl))
    pair.handshake()
    assert pair.server.getpeercert() is None              # no client certificate


def test_close_notify_read_returns_empty_and_unwrap_contract(pki_files):
    pair = Pair(client_context(pki_files), server_context(pki_files))
    pair.handshake()
    with pytest.raises(ssl.SSLWantReadError):
        pair.client.unwrap()                            # sent close_notify; waits for the peer's
    pair.pump()
    assert pair.server.read(10) == b""                 # the stdlib peer sees our close_notify
    pair.server.unwrap()
    pair.pump()
    pair.client.unwrap()                               # now complete
    for call in (lambda: pair.client.read(10), lambda: pair.client.read(10, bytearray(10))):
        with pytest.raises(ssl.SSLZeroReturnError):    # both closed: as the stdlib's
            call()


def test_eof_without_close_notify_is_ssleoferror(pki_files):
    pair = Pair(client_context(pki_files), server_context(pki_files))
    pair.handshake()
    pair.c_in.write_eof()
    with pytest.raises(ssl.SSLEOFError) as info:
        pair.client.read(10)
    assert info.value.errno == ssl.SSL_ERROR_EOF
    assert "UNEXPECTED_EOF_WHILE_READING" in info.value.strerror


def test_ignore_unexpected_eof_option(pki_files):
    ctx = client_context(pki_files)
    ctx.options |= ssl.OP_IGNORE_UNEXPECTED_EOF
    pair = Pair(ctx, server_context(pki_files))
    pair.handshake()
    pair.c_in.write_eof()
    assert pair.client.read(10) == b""


def test_verification_failures_raise_stdlib_classes_with_openssl_codes(pki_files):
    pair = Pair(client_context(pki_files), server_context(pki_files), hostname="wrong.example")
    with pytest.raises(ssl.SSLCertVerificationError) as info:
        pair.handshake()
    err = info.value
    assert isinstance(err, ssl.CertificateError) and err.errno == 1
    assert err.verify_code == 62 and err.reason == "CERTIFICATE_VERIFY_FAILED"
    assert "Hostname mismatch" in err.verify_message and "certificate verify failed" in str(err)
    pair.pump()
    with pytest.raises(ssl.SSLError) as peer:
        pair.server.do_handshake()                    # the stdlib server got our alert
    assert "bad certificate" in str(peer.value)

    stranger = cyssl.SSLContext(cyssl.PROTOCOL_TLS_CLIENT)    # trusts nothing
    pair = Pair(stranger, server_context(pki_files))
    with pytest.raises(ssl.SSLCertVerificationError) as info:
        pair.handshake()
    assert info.value.verify_code == 20


def test_alerts_from_the_peer_carry_openssl_reasons(pki_files):
    server = server_context(pki_files)
    server.set_alpn_protocols(["h2"])
    client_ctx = client_context(pki_files, ssl)
    client_ctx.set_alpn_protocols(["http/1.1"])
    ours = server_context(pki_files, cyssl)
    ours.set_alpn_protocols(["h2"])
    pair = Pair(client_ctx, ours)
    with pytest.raises(ssl.SSLError) as info:
        pair.handshake()
    assert info.value.reason == "NO_APPLICATION_PROTOCOL"


def test_wrap_bio_signature_and_hostname_forms(pki_files):
    ctx = client_context(pki_files)
    # anyio passes five positional arguments and the host name as bytes
    obj = ctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), False, b"localhost", None)
    assert obj.server_hostname == "localhost"
    with pytest.raises(ValueError):
        ctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO())          # check_hostname needs a name
    server = server_context(pki_files, cyssl)
    with pytest.raises(ValueError):
        server.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_side=True, server_hostname="x")


def test_session_resumption_and_channel_binding(pki_files):
    server = server_context(pki_files)
    ctx = client_context(pki_files)
    pair = Pair(ctx, server)
    pair.handshake()
    pair.server.write(b"x")
    pair.pump()
    pair.client.read(1)                                 # takes the tickets in
    session = pair.client.session
    assert isinstance(session, cyssl.SSLSession) and not pair.client.session_reused
    binding = pair.client.get_channel_binding("tls-unique")
    assert binding == pair.server.get_channel_binding("tls-unique")
    with pytest.raises(ValueError):
        pair.client.get_channel_binding("tls-server-end-point")
    again = Pair(ctx, server)
    again.client.session = session
    again.handshake()
    assert again.client.session_reused and again.server.session_reused


@pytest.mark.parametrize("lib", [cyssl, ssl], ids=["cyssl", "stdlib"])
def test_a_session_is_checked_as_the_stdlib_checks_it(pki_files, lib):
    server = server_context(pki_files)
    ctx = client_context(pki_files, lib)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    pair = Pair(ctx, server)
    pair.handshake()
    session = pair.client.session
    checks = [  # (how, exception, message), in the stdlib's order of checks
        (lambda: setattr(pair.client, "session", object()), TypeError, "Value is not a SSLSession."),
        (lambda: setattr(pair.client, "session", session), ValueError,
         "Cannot set session after handshake."),
        (lambda: client_context(pki_files, lib).wrap_bio(lib.MemoryBIO(), lib.MemoryBIO(),
                                                         server_hostname="localhost",
                                                         session=session),
         ValueError, "Session refers to a different SSLContext."),
        (lambda: setattr(client_context(pki_files, lib).wrap_bio(
            lib.MemoryBIO(), lib.MemoryBIO(), server_hostname="localhost"), "session", session),
         ValueError, "Session refers to a different SSLContext."),
    ]
    for how, exception, message in checks:
        with pytest.raises(exception) as info:
            how()
        assert str(info.value) == message
    again = ctx.wrap_bio(lib.MemoryBIO(), lib.MemoryBIO(), server_hostname="localhost",
                         session=session)
    assert again.session == session


@pytest.mark.parametrize("lib", [cyssl, ssl], ids=["cyssl", "stdlib"])
@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3], ids=["tls12", "tls13"])
def test_every_finished_handshake_shows_a_session(pki_files, lib, version):
    """A server's session, and a TLS 1.3 client's before its ticket arrives, are sessions
    without a ticket (OpenSSL's values: a TLS 1.3 server's has a 32-byte id, the others
    none; timeout 7200, no lifetime hint), the same object each time; a client given one
    makes a full handshake."""
    server = server_context(pki_files, lib)
    server.maximum_version = version
    ctx = client_context(pki_files, lib)
    pair = Pair(ctx, server)
    assert pair.server.session is None
    pair.handshake()
    shown = pair.server.session
    assert isinstance(shown, lib.SSLSession) and not shown.has_ticket
    assert len(shown.id) == (32 if version == ssl.TLSVersion.TLSv1_3 else 0)
    assert (shown.timeout, shown.ticket_lifetime_hint) == (7200, 0)
    assert shown == pair.server.session
    client_side = pair.client.session
    assert client_side.has_ticket == (version == ssl.TLSVersion.TLSv1_2)
    if version == ssl.TLSVersion.TLSv1_3:
        assert client_side.id == b"" and client_side.ticket_lifetime_hint == 0
        again = Pair(ctx, server)
        again.client.session = client_side
        again.handshake()
        assert not again.client.session_reused


@pytest.mark.parametrize("lib", [cyssl, ssl], ids=["cyssl", "stdlib"])
def test_the_object_behind_an_sslobject_names_it_as_owner(pki_files, lib):
    sslobj = client_context(pki_files, lib).wrap_bio(lib.MemoryBIO(), lib.MemoryBIO(),
                                                     server_hostname="localhost")
    assert sslobj._sslobj.owner is sslobj
    assert sslobj.cipher() is None and sslobj.version() is None
    assert sslobj.shared_ciphers() is None and sslobj.get_channel_binding("tls-unique") is None
    with pytest.raises(ValueError):
        sslobj.getpeercert()


def test_memorybio_semantics():
    bio = cyssl.MemoryBIO()
    assert bio.pending == 0 and not bio.eof
    assert bio.write(b"abc") == 3 and bio.write(bytearray(b"de")) == 2
    assert bio.write(memoryview(b"f")) == 1
    assert bio.pending == 6 and bio.read(2) == b"ab" and bio.read() == b"cdef"
    with pytest.raises(TypeError):
        bio.write("text")
    bio.write(b"tail")
    bio.write_eof()
    assert not bio.eof and bio.read() == b"tail" and bio.eof
    with pytest.raises(ssl.SSLError):
        bio.write(b"x")


def test_memorybio_queues_bytes_without_copying():
    """Large bytes objects are queued by reference and handed back whole; everything else
    is copied, so later changes to a written bytearray do not show; reads gather across
    writes in order."""
    bio = cyssl.MemoryBIO()
    big = bytes(range(256)) * 8
    bio.write(big)
    assert bio.read() is big and bio.pending == 0
    mutable = bytearray(b"m" * 2000)
    bio.write(b"abc")
    bio.write(mutable)
    bio.write(big)
    bio.write(memoryview(b"xyz"))
    mutable[:] = b"M" * 2000
    assert bio.pending == 3 + 2000 + len(big) + 3
    assert bio.read(2) == b"ab"
    assert bio.read(2002) == b"c" + b"m" * 2000 + big[:1]
    assert bio.read(len(big) - 1) == big[1:]
    assert bio.read(10) == b"xyz" and bio.read() == b"" and bio.pending == 0


def test_never_raises_want_write_over_memory_bios(pki_files):
    pair = Pair(client_context(pki_files), server_context(pki_files))
    pair.handshake()
    big = b"x" * (4 << 20)
    assert pair.client.write(big) == len(big)           # all queued in the BIO
    pair.pump()
    received = bytearray()
    while len(received) < len(big):
        received += pair.server.read(1 << 20)
    assert received == big


def test_pinned_self_signed_ca_certificate_as_server_certificate(tmp_path):
    """What `openssl req -x509` makes by default (self-signed, cA=TRUE), used directly as
    the server certificate and trusted through cafile: OpenSSL accepts it, so do we."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    certfile, keyfile = tmp_path / "self.pem", tmp_path / "self.key"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(certfile, keyfile)
    for lib in (ssl, cyssl):                          # the stdlib's verdict, then ours
        client = lib.create_default_context(cafile=str(certfile))
        pair = Pair(client, server)
        pair.handshake()
        assert pair.client.version() == "TLSv1.3"
    client = cyssl.create_default_context(cafile=str(certfile))
    with pytest.raises(ssl.SSLCertVerificationError) as info:
        Pair(client, server, hostname="other.example").handshake()
    assert info.value.verify_code == 62


def test_read_into_buffers_of_every_kind_as_the_stdlib(pki_files):
    """read(n, buffer): writable buffers of any item size take bytes; read-only or
    non-contiguous ones are refused with the stdlib's TypeError."""
    import array
    outcomes = {}
    for lib in (ssl, cyssl):
        pair = Pair(client_context(pki_files, ssl), server_context(pki_files, lib),
                    cyssl.MemoryBIO if lib is cyssl else ssl.MemoryBIO)
        pair.handshake()
        pair.client.write(b"0123456789")
        pair.pump()
        seen = []
        for buffer in (b"abcd", memoryview(bytearray(8))[::2], "text", array.array("i", [0, 0]),
                       bytearray(0), bytearray(3)):
            try:
                count = pair.server.read(4, buffer)
                seen.append((count, bytes(buffer)))
            except TypeError as exc:
                seen.append(str(exc))
        outcomes[lib] = seen
    assert outcomes[cyssl] == outcomes[ssl]
    assert outcomes[cyssl][0] == "read() argument 2 must be read-write bytes-like object, not bytes"


@pytest.mark.parametrize("lib", [ssl, cyssl], ids=["stdlib", "cyssl"])
def test_calls_before_the_handshake_answer_as_the_stdlibs(lib):
    """Argument errors come first, as the stdlib's argument parsing raises them; read(0)
    is b"" at once; unwrap() before a handshake has finished is SHUTDOWN_WHILE_IN_INIT."""
    def fresh():
        ctx = lib.SSLContext(lib.PROTOCOL_TLS_CLIENT)
        return ctx.wrap_bio(lib.MemoryBIO(), lib.MemoryBIO(), server_hostname="localhost")
    assert fresh().read(0) == b""
    for data in ("text", 5, None):
        with pytest.raises(TypeError):
            fresh().write(data)
    for buffer in (b"abc", "abc"):
        with pytest.raises(TypeError):
            fresh().read(3, buffer)
    with pytest.raises(ssl.SSLError) as caught:
        fresh().unwrap()
    assert caught.value.reason == "SHUTDOWN_WHILE_IN_INIT"
    for cb_type in (1, b"tls-unique", None):
        with pytest.raises(TypeError):
            fresh().get_channel_binding(cb_type)
    with pytest.raises(ValueError):
        fresh().get_channel_binding("tls-server-end-point")
    with pytest.raises(ssl.SSLWantReadError):
        fresh().read(0, bytearray(3))                # a buffer's size is the request then


@pytest.mark.parametrize("lib", [ssl, cyssl], ids=["stdlib", "cyssl"])
def test_server_hostnames_sni_cannot_carry_are_refused(lib):
    """Empty, a leading dot, longer than SNI's 255 bytes: refused at wrap time, as the
    stdlib's (with check_hostname off, so only the name itself is judged)."""
    ctx = lib.SSLContext(lib.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False

    def wrap(name):
        return ctx.wrap_bio(lib.MemoryBIO(), lib.MemoryBIO(), server_hostname=name)
    for name in ("", b"", b".example.com"):
        with pytest.raises(ValueError):
            wrap(name)
    assert wrap("a." * 127 + "b").server_hostname == "a." * 127 + "b"       # 255 bytes
    with pytest.raises(ssl.SSLError) as caught:
        wrap("a." * 128)
    assert caught.value.reason == "SSL3_EXT_INVALID_SERVERNAME"


@pytest.mark.parametrize("lib", [ssl, cyssl], ids=["stdlib", "cyssl"])
@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3], ids=["tls12", "tls13"])
def test_data_arriving_during_unwrap_is_an_error_not_lost(pki_files, lib, version):
    """The peer's data, then its close_notify, reaching us while unwrap() waits: OpenSSL
    raises APPLICATION_DATA_AFTER_CLOSE_NOTIFY instead of returning as if all were read
    (cyssl returned, and the data went with the connection)."""
    server = server_context(pki_files, ssl)
    server.maximum_version = version
    pair = Pair(client_context(pki_files, lib), server)
    pair.handshake()
    pair.server.write(b"data")
    with pytest.raises(ssl.SSLWantReadError):
        pair.server.unwrap()
    pair.pump()
    with pytest.raises(ssl.SSLError) as caught:
        pair.client.unwrap()
    assert caught.value.reason == "APPLICATION_DATA_AFTER_CLOSE_NOTIFY"


@pytest.mark.parametrize("lib", [ssl, cyssl], ids=["stdlib", "cyssl"])
def test_a_context_made_for_one_side_cannot_wrap_the_other(lib):
    with pytest.raises(ssl.SSLError, match="Cannot create a server socket with a PROTOCOL_TLS_CLIENT"):
        lib.SSLContext(lib.PROTOCOL_TLS_CLIENT).wrap_bio(lib.MemoryBIO(), lib.MemoryBIO(),
                                                         server_side=True)
    with pytest.raises(ssl.SSLError, match="Cannot create a client socket with a PROTOCOL_TLS_SERVER"):
        lib.SSLContext(lib.PROTOCOL_TLS_SERVER).wrap_bio(lib.MemoryBIO(), lib.MemoryBIO(),
                                                         server_hostname="localhost")



@pytest.mark.parametrize("bio", [ssl.MemoryBIO, cyssl.MemoryBIO], ids=["stdlib-bio", "cyssl-bio"])
def test_want_read_is_raised_from_the_call_itself(pki_files, bio):
    """asyncio reads until SSLWantReadError after every message: it is raised by the API
    call (a traceback entry or two of cyssl's), not passed up from the transport through
    every layer, each of which would add an entry (a frame object made and freed)."""
    pair = Pair(client_context(pki_files), server_context(pki_files, cyssl), bio=bio)
    pair.handshake()
    buffer = bytearray(100)
    calls = {"read()": lambda: pair.server.read(100),
             "read(n, buffer)": lambda: pair.server.read(100, buffer),
             "do_handshake() after it": pair.server.do_handshake,
             "unwrap()": pair.client.unwrap}
    for name, call in calls.items():
        try:
            call()
        except ssl.SSLWantReadError as err:
            entries, tb = [], err.__traceback__
            while tb is not None:
                entries.append(tb.tb_frame.f_code.co_name)
                tb = tb.tb_next
            assert err.errno == ssl.SSL_ERROR_WANT_READ and err.reason is None
            ours = [entry for entry in entries if entry.startswith("cyssl.")]
            assert 1 <= len(ours) <= 2, (name, entries)
        else:
            assert name == "do_handshake() after it", name
