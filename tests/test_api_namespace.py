"""The cyssl module namespace and SSLContext behave as the stdlib's (shared/reference/
integration.md, H1-H10)."""
import os
import ssl
import warnings

import pytest

import cyssl


def test_exceptions_are_the_stdlibs_own_classes():
    for name in ("SSLError", "SSLZeroReturnError", "SSLWantReadError", "SSLWantWriteError",
                 "SSLSyscallError", "SSLEOFError", "SSLCertVerificationError", "CertificateError"):
        assert getattr(cyssl, name) is getattr(ssl, name)


def test_constants_and_enums_are_the_stdlibs():
    for name in ("CERT_NONE", "CERT_REQUIRED", "PROTOCOL_TLS_CLIENT", "OP_NO_TICKET",
                 "VERIFY_X509_STRICT", "TLSVersion", "Options", "VerifyMode", "VerifyFlags",
                 "Purpose", "AlertDescription", "SSLErrorNumber", "SSL_ERROR_WANT_READ",
                 "ALERT_DESCRIPTION_UNKNOWN_CA"):
        assert getattr(cyssl, name) is getattr(ssl, name), name


def test_has_flags_describe_cyssl():
    assert cyssl.HAS_TLSv1_3 and cyssl.HAS_ALPN and cyssl.HAS_SNI and cyssl.HAS_ECDH
    assert not (cyssl.HAS_SSLv3 or cyssl.HAS_TLSv1 or cyssl.HAS_TLSv1_1 or cyssl.HAS_NPN)
    assert cyssl.OPENSSL_VERSION.startswith("cyssl ")


def test_context_is_an_ssl_context_and_truthy():
    ctx = cyssl.SSLContext(cyssl.PROTOCOL_TLS_CLIENT)
    assert isinstance(ctx, ssl.SSLContext) and ctx


def test_every_public_member_of_the_stdlib_classes_is_overridden():
    """Nothing may fall through to OpenSSL (integration.md H6)."""
    for ours, base in ((cyssl.SSLContext, ssl.SSLContext), (cyssl.SSLSocket, ssl.SSLSocket)):
        public = {name for klass in base.__mro__ if klass.__module__ in ("ssl", "_ssl")
                  for name in vars(klass) if not name.startswith("__")}
        missing = sorted(name for name in public
                         if name not in vars(ours) and not any(
                             name in vars(k) for k in ours.__mro__ if k.__module__.startswith("cyssl")))
        assert missing == [], "%s inherits from %s: %s" % (ours.__name__, base.__name__, missing)


def test_client_and_server_defaults():
    client = cyssl.SSLContext(cyssl.PROTOCOL_TLS_CLIENT)
    assert client.verify_mode == ssl.CERT_REQUIRED and client.check_hostname
    server = cyssl.SSLContext(cyssl.PROTOCOL_TLS_SERVER)
    assert server.verify_mode == ssl.CERT_NONE and not server.check_hostname
    assert client.protocol == ssl.PROTOCOL_TLS_CLIENT
    assert client.options & ssl.OP_NO_COMPRESSION
    default = cyssl.create_default_context()
    assert default.verify_mode == ssl.CERT_REQUIRED and default.check_hostname
    assert type(default) is cyssl.SSLContext


def test_verify_mode_and_check_hostname_coupling():
    ctx = cyssl.SSLContext(cyssl.PROTOCOL_TLS_CLIENT)
    with pytest.raises(ValueError):
        ctx.verify_mode = ssl.CERT_NONE
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.check_hostname = True                     # turns verification back on, as the stdlib
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    ctx.verify_mode = 1
    assert ctx.verify_mode is ssl.CERT_OPTIONAL
    with pytest.raises(ValueError):
        ctx.verify_mode = 7


def test_protocol_constants():
    with pytest.warns(DeprecationWarning):
        cyssl.SSLContext()
    with pytest.warns(DeprecationWarning):
        cyssl.SSLContext(cyssl.PROTOCOL_TLS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(ValueError, match="TLS 1.2 and 1.3 only"):
            cyssl.SSLContext(ssl.PROTOCOL_TLSv1)
        with pytest.raises(ValueError, match="TLS 1.2 and 1.3 only"):
            cyssl.SSLContext(ssl.PROTOCOL_TLSv1_1)


def test_version_bounds_below_tls12_refused():
    ctx = cyssl.SSLContext(cyssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    assert ctx.minimum_version is ssl.TLSVersion.TLSv1_2
    for version in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.SSLv3):
        with pytest.raises(ValueError):
            ctx.minimum_version = version
        with pytest.raises(ValueError):
            ctx.maximum_version = version


def test_options_and_flags_accept_stdlib_values():
    ctx = cyssl.SSLContext(cyssl.PROTOCOL_TLS_CLIENT)
    ctx.options |= ssl.OP_NO_TICKET
    assert ctx.options & ssl.OP_NO_TICKET and isinstance(ctx.options, ssl.Options)
    ctx.options &= ~ssl.OP_NO_TICKET
    assert not ctx.options & ssl.OP_NO_TICKET
    ctx.verify_flags |= ssl.VERIFY_X509_STRICT
    assert ctx.verify_flags & ssl.VERIFY_X509_STRICT
    with pytest.raises(ssl.SSLError):
        ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF


def test_ciphers_alpn_curves_and_dh():
    ctx = cyssl.SSLContext(cyssl.PROTOCOL_TLS_CLIENT)
    ctx.set_ciphers("ECDHE+AESGCM:!ECDSA")
    with pytest.raises(ssl.SSLError, match="No cipher can be selected"):
        ctx.set_ciphers("RC4-MD5:3DES")
    names = {c["name"] for c in ctx.get_ciphers()}
    assert "TLS_AES_128_GCM_SHA256" in names and "ECDHE-RSA-AES128-GCM-SHA256" in names
    ctx.set_alpn_protocols(("h2", "http/1.1"))          # tuples too (aiohttp)
    ctx.set_alpn_protocols(["http/1.1"])
    with pytest.raises(ssl.SSLError):
        ctx.set_alpn_protocols(["x" * 256])
    ctx.set_ecdh_curve("prime256v1")
    with pytest.raises(ValueError):
        ctx.set_ecdh_curve("nonsense")


def test_load_cert_chain_variants(pki_files, tmp_path):
    ctx = cyssl.SSLContext(cyssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki_files.certfile, pki_files.keyfile)
    import pki
    leaf = pki_files.leaf
    for password in (b"secret", "secret", lambda: "secret", lambda: b"secret"):
        certfile, keyfile = pki.write_chain(tmp_path, leaf, password=b"secret")
        ctx.load_cert_chain(certfile, keyfile, password=password)
    with pytest.raises(ssl.SSLError):
        ctx.load_cert_chain(certfile, keyfile, password="wrong")
    other = pki_files.root.leaf()
    (tmp_path / "other").mkdir()
    other_cert, other_key = pki.write_chain(tmp_path / "other", other)
    with pytest.raises(ssl.SSLError) as info:
        ctx.load_cert_chain(pki_files.certfile, other_key)
    assert info.value.reason == "KEY_VALUES_MISMATCH"


@pytest.mark.parametrize("lib", [cyssl, ssl], ids=["cyssl", "stdlib"])
def test_the_password_is_asked_for_and_checked_only_for_an_encrypted_key(pki_files, tmp_path,
                                                                          lib):
    import pki
    ctx = lib.SSLContext(lib.PROTOCOL_TLS_SERVER)
    encrypted = pki.write_chain(tmp_path, pki_files.leaf, password=b"secret")
    plain = (pki_files.certfile, pki_files.keyfile)
    asked = []

    def failing():
        asked.append(1)
        raise KeyError("no password here")
    ctx.load_cert_chain(*plain, password=failing)           # never asked: not encrypted
    ctx.load_cert_chain(*plain, password=b"x" * 4096)       # never checked either
    assert not asked
    for password, exception, message in (
            (failing, KeyError, "no password here"),
            (lambda: 42, TypeError, "password callback must return a string"),
            (b"x" * 1025, ValueError, "password cannot be longer than 1024 bytes"),
            (lambda: "x" * 1025, ValueError, "password cannot be longer than 1024 bytes")):
        with pytest.raises(exception) as info:
            ctx.load_cert_chain(*encrypted, password=password)
        assert message in str(info.value)
    with pytest.raises(TypeError, match="password should be a string or callable"):
        ctx.load_cert_chain(*encrypted, password=42)
    ctx.load_cert_chain(*encrypted, password=b"s" + b"ecret")
    combined = tmp_path / "combined.pem"
    combined.write_bytes(pki_files.certfile.read_bytes() + pki_files.keyfile.read_bytes())
    ctx.load_cert_chain(combined)
    with pytest.raises(FileNotFoundError):
        ctx.load_cert_chain(tmp_path / "missing.pem")


def test_load_verify_locations_variants(pki_files):
    ctx = cyssl.SSLContext(cyssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=pki_files.cafile)
    ctx.load_verify_locations(cadata=pki_files.root.cert_pem().decode())
    ctx.load_verify_locations(cadata=pki_files.root.der())
    assert ctx.cert_store_stats()["x509_ca"] == 1
    assert ctx.get_ca_certs(binary_form=True) == [pki_files.root.der()]
    with pytest.raises(TypeError):
        ctx.load_verify_locations()
    ctx.load_default_certs()
    assert ctx.cert_store_stats()["x509_ca"] >= 1


@pytest.mark.parametrize("lib", [cyssl, ssl], ids=["cyssl", "stdlib"])
def test_what_the_trust_store_counts_and_lists_as_ca(pki_files, tmp_path, lib):
    """As OpenSSL's X509_check_ca: basicConstraints cA, else a self-signed v1
    certificate or a keyUsage allowing certificate signing; a leaf is loaded but not
    counted or listed. And cadata without any certificate is an SSLError."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "v1 root")])
    now = datetime.datetime.now(datetime.timezone.utc)
    v1_root = x509.CertificateBuilder(name, name, key.public_key(), 7, now,
                                      now + datetime.timedelta(days=1))
    v1_root._version = x509.Version.v1      # no public way to build a version 1 certificate
    v1_pem = v1_root.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
    ctx = lib.SSLContext(lib.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cadata=pki_files.leaf.cert_pem().decode())     # not a CA
    assert ctx.cert_store_stats() == {"x509": 1, "crl": 0, "x509_ca": 0}
    assert ctx.get_ca_certs() == []
    ctx.load_verify_locations(cadata=v1_pem.decode())
    ctx.load_verify_locations(cadata=pki_files.root.cert_pem().decode())
    ctx.load_verify_locations(cadata=pki_files.root.der())                   # already there
    assert ctx.cert_store_stats() == {"x509": 3, "crl": 0, "x509_ca": 2}
    assert len(ctx.get_ca_certs()) == 2
    for cadata, message in (("broken", "no start line: cadata does not contain a certificate"),
                            (b"broken", "not enough data: cadata does not contain a certificate")):
        with pytest.raises(ssl.SSLError, match=message):
            ctx.load_verify_locations(cadata=cadata)
    for cadata in (object(), "caf\xe9"):
        with pytest.raises(TypeError):
            ctx.load_verify_locations(cadata=cadata)
    for cadata in ("", b"", bytearray(), memoryview(b"")):
        with pytest.raises(ValueError, match="Empty certificate data"):
            ctx.load_verify_locations(cadata=cadata)


@pytest.mark.parametrize("lib", [cyssl, ssl], ids=["cyssl", "stdlib"])
def test_capath_certificates_are_listed_once_a_handshake_used_them(pki_files, tmp_path, lib):
    import subprocess
    from test_api_sslobject import Pair, server_context
    subject_hash = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in",
                                   str(pki_files.cafile)], capture_output=True, text=True,
                                  check=True).stdout.strip()
    (tmp_path / (subject_hash + ".0")).write_bytes(pki_files.root.cert_pem())   # c_rehash style
    ctx = lib.SSLContext(lib.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(capath=str(tmp_path))
    assert ctx.get_ca_certs() == [] and ctx.cert_store_stats()["x509"] == 0
    Pair(ctx, server_context(pki_files)).handshake()
    assert ctx.get_ca_certs(binary_form=True) == [pki_files.root.der()]
    assert ctx.cert_store_stats() == {"x509": 1, "crl": 0, "x509_ca": 1}


@pytest.mark.parametrize("lib", [cyssl, ssl], ids=["cyssl", "stdlib"])
def test_a_capath_is_looked_up_later_so_a_missing_one_is_no_error(tmp_path, lib):
    """OpenSSL reads a capath at lookup: a missing directory, or a file, gives nothing
    and no error (create_default_context(capath=...) on a system without it); only an
    empty name is refused."""
    (tmp_path / "file").write_bytes(b"")
    for capath in (str(tmp_path / "missing"), str(tmp_path / "file"), os.fsencode(tmp_path / "missing")):
        ctx = lib.SSLContext(lib.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(capath=capath)
        assert ctx.cert_store_stats()["x509"] == 0
    lib.create_default_context(capath=str(tmp_path / "missing"))
    with pytest.raises(ssl.SSLError) as caught:
        lib.SSLContext(lib.PROTOCOL_TLS_CLIENT).load_verify_locations(capath="")
    assert caught.value.reason == "INVALID_DIRECTORY"


def _setter_outcomes(lib):
    outcomes = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for attr in ("options", "verify_flags", "minimum_version", "maximum_version",
                     "num_tickets", "verify_mode"):
            for value in (1.0, "1", None, 2 ** 70, True, -1):
                if (attr, value) == ("verify_flags", -1):
                    continue                      # every flag: CRL checks, which cyssl refuses
                ctx = lib.SSLContext(lib.PROTOCOL_TLS_SERVER)
                try:
                    setattr(ctx, attr, value)
                    outcomes.append((attr, value, "ok"))
                except Exception as exc:          # the exception's class is the outcome
                    outcomes.append((attr, value, type(exc).__name__))
        for value in (16.0, "16", 16):
            try:
                lib.SSLContext(value)
                outcomes.append(("SSLContext", value, "ok"))
            except Exception as exc:
                outcomes.append(("SSLContext", value, type(exc).__name__))
    return outcomes


def test_integer_settings_take_what_the_stdlib_takes():
    """What the stdlib's argument parsing refuses (floats, strings, None: TypeError; too
    large for the C type: OverflowError) cyssl refuses the same way."""
    assert _setter_outcomes(cyssl) == _setter_outcomes(ssl)


def test_old_and_private_names_code_still_uses():
    assert cyssl.socket_error is OSError
    assert cyssl.get_protocol_name(ssl.PROTOCOL_TLS_CLIENT) == ssl.get_protocol_name(ssl.PROTOCOL_TLS_CLIENT)
    assert cyssl.get_protocol_name(12345) == "<unknown>"
    ctx = cyssl.SSLContext(cyssl.PROTOCOL_TLS_CLIENT)
    ctx.set_ciphers(cyssl._DEFAULT_CIPHERS)            # Python's own default string
    assert cyssl._DEFAULT_CIPHERS == ssl._DEFAULT_CIPHERS


def test_context_attributes_exist():
    ctx = cyssl.SSLContext(cyssl.PROTOCOL_TLS_CLIENT)
    assert ctx.post_handshake_auth is False
    ctx.post_handshake_auth = True
    assert ctx.hostname_checks_common_name in (True, False)
    ctx.hostname_checks_common_name = False
    assert ctx.keylog_filename is None
    assert ctx.security_level >= 1
    assert isinstance(ctx.session_stats(), dict)
    server = cyssl.SSLContext(cyssl.PROTOCOL_TLS_SERVER)
    server.num_tickets = 3
    assert server.num_tickets == 3
    with pytest.raises(ValueError):
        ctx.num_tickets = 1                       # not a server context
    server.load_dh_params(__file__)               # accepted; FFDHE is never used


def test_helpers():
    der = b"\x30\x03\x02\x01\x01"
    pem = cyssl.DER_cert_to_PEM_cert(der)
    assert pem == ssl.DER_cert_to_PEM_cert(der)
    assert cyssl.PEM_cert_to_DER_cert(pem) == der
    assert cyssl.cert_time_to_seconds("Jan  5 09:34:43 2018 GMT") == \
        ssl.cert_time_to_seconds("Jan  5 09:34:43 2018 GMT")
    assert len(cyssl.RAND_bytes(16)) == 16 and cyssl.RAND_status()
    assert isinstance(cyssl.get_default_verify_paths(), tuple)
