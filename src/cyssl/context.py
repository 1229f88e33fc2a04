"""SSLContext: the stdlib's configuration object, backed by cyssl's engine.

It subclasses ``ssl.SSLContext`` so that ``isinstance(ctx, ssl.SSLContext)`` holds for
asyncio's start_tls, aiohttp and anyio (integration.md H6), and overrides every public
member so nothing reaches the OpenSSL context the base class allocates. Settings are
kept here as plain attributes; each connection gets an engine ``TLSConfig`` built from
them, cached until the next change (urllib3 and httpcore mutate shared contexts per
connection, from several threads, so changes are taken under a lock).
"""
import contextlib
import functools
import operator
import os
import threading
import warnings

from cyssl import constants as _c
from cyssl import errors
from cyssl.crypto import certs, groups, signatures
from cyssl.crypto.certs import TrustStore
from cyssl.tls.config import (TLSConfig, VERIFY_NONE, VERIFY_OPTIONAL, VERIFY_REQUIRED,
                              default_tls12_suites, default_tls13_suites, keylog_to_file)
from cyssl.tls.suites import BY_CODE, TLS12_SUITES
from cyssl.tls.tickets import SessionCache, TicketKeys

try:
    import ssl as _stdlib
    _Base = _stdlib.SSLContext
    _Native = _stdlib._ssl._SSLContext
except ImportError:                                    # no stdlib ssl: a plain class
    _stdlib = None
    _Base = object
    _Native = None

_LEGACY_PROTOCOLS = {"PROTOCOL_TLSv1", "PROTOCOL_TLSv1_1", "PROTOCOL_SSLv2", "PROTOCOL_SSLv3"}
_VERIFY = {0: VERIFY_NONE, 1: VERIFY_OPTIONAL, 2: VERIFY_REQUIRED}
_GROUP_NAMES = {"prime256v1": "secp256r1", "P-256": "secp256r1", "P-384": "secp384r1",
                "X25519": "x25519"}


@functools.lru_cache(maxsize=256)
def _idna(hostname):
    """The stdlib's encoding of a server_hostname (the idna codec is slow, and clients
    name the same few servers again and again; errors are not cached)."""
    return hostname.encode("idna").decode("ascii")


def _c_integer(value, bits):
    """``value`` as the stdlib's argument parsing takes a C integer of ``bits`` bits: a
    TypeError for what is no integer (a float, a str), an OverflowError beyond the type."""
    value = operator.index(value)
    if not -(1 << (bits - 1)) <= value < (1 << bits):
        raise OverflowError("Python int too large to convert to C integer")
    return value


def _protocol_name(protocol):
    for name in ("PROTOCOL_TLS_CLIENT", "PROTOCOL_TLS_SERVER", "PROTOCOL_TLS", "PROTOCOL_TLSv1",
                 "PROTOCOL_TLSv1_1", "PROTOCOL_TLSv1_2"):
        if getattr(_c, name, None) == protocol:
            return name
    return None


PEM_BUFSIZE = 1024        # OpenSSL's password buffer, which bounds the stdlib's passwords


class _PasswordError(Exception):
    """What getting the password raised, to be re-raised as is (not as "PEM lib")."""

    def __init__(self, error):
        super().__init__(error)
        self.error = error


def _password_for_key(password):
    """load_cert_chain's ``password`` (bytes, str or a callable returning one), asked for
    only once the key turns out to be encrypted and checked then, as the stdlib's OpenSSL
    password callback does."""
    try:
        value = password() if callable(password) else password
        if not isinstance(value, (str, bytes, bytearray)):
            raise TypeError("password callback must return a string")
        if isinstance(value, str):
            value = value.encode("utf-8")
        if len(value) > PEM_BUFSIZE:
            raise ValueError("password cannot be longer than %d bytes" % PEM_BUFSIZE)
    except Exception as error:
        raise _PasswordError(error) from None
    return value


class SSLContext(_Base):
    """An SSLContext holds TLS configuration: certificates, trust, verification and
    protocol choices, shared by the connections made from it."""

    sslsocket_class = None          # cyssl.SSLSocket, assigned in cyssl/__init__.py
    sslobject_class = None          # cyssl.SSLObject
    _windows_cert_stores = ("CA", "ROOT")

    def __new__(cls, protocol=None, *args, **kwargs):
        if protocol is None:
            warnings.warn("ssl.SSLContext() without protocol argument is deprecated.",
                          category=DeprecationWarning, stacklevel=2)
            protocol = _c.PROTOCOL_TLS
        name = _protocol_name(_c_integer(protocol, 32))
        if name is None:
            raise ValueError("invalid or unsupported protocol version %r" % (protocol,))
        if name in _LEGACY_PROTOCOLS:
            raise ValueError("cyssl does not implement %s: TLS 1.2 and 1.3 only" % name)
        if name in ("PROTOCOL_TLS", "PROTOCOL_TLSv1_2"):
            warnings.warn("ssl.%s is deprecated" % name, category=DeprecationWarning, stacklevel=2)
        if _Native is not None:
            # The base class insists on its C context; a client one is the cheapest.
            self = _Native.__new__(cls, _c.PROTOCOL_TLS_CLIENT)
        else:
            self = object.__new__(cls)
        self._init(protocol, name)
        return self

    def __init__(self, protocol=None, *args, **kwargs):
        pass

    def _init(self, protocol, name):
        self._lock = threading.RLock()
        self._protocol = protocol
        self._server_default = name == "PROTOCOL_TLS_SERVER"
        client = name == "PROTOCOL_TLS_CLIENT"
        self._verify_mode = _c.CERT_REQUIRED if client else _c.CERT_NONE
        self._check_hostname = client
        self._options = _c.Options(_DEFAULT_OPTIONS)
        self._verify_flags = _c.VerifyFlags(_c.VERIFY_X509_TRUSTED_FIRST) \
            if hasattr(_c, "VERIFY_X509_TRUSTED_FIRST") else 0
        # MINIMUM_SUPPORTED is TLS 1.2 here. (The stdlib reads TLSv1_2, having raised
        # OpenSSL's lowest; test_ssl then lowers it, a bound cyssl refuses.) As the
        # stdlib's, a version-specific protocol cannot be moved.
        self._version_fixed = name == "PROTOCOL_TLSv1_2"
        self._minimum_version = _c.TLSVersion.MINIMUM_SUPPORTED
        self._maximum_version = _c.TLSVersion.MAXIMUM_SUPPORTED
        self._trust = TrustStore()
        self._credentials = []                  # (DER chain, key), one per key type
        self._alpn = []
        self._tls13_suites = default_tls13_suites()
        self._tls12_ciphers = default_tls12_suites()
        self._groups = None
        self._num_tickets = 2
        self._ticket_keys = None
        self._session_cache = None
        self._keylog_filename = None
        self._hostname_checks_common_name = True         # the stdlib's default with OpenSSL 3
        self._post_handshake_auth = False
        self._sni_callback = None
        self._security_level = 2
        self._msg_callback = None
        self._configs = {}
        self.session_counters = {"number": 0, "connect": 0, "connect_good": 0,
                                 "connect_renegotiate": 0, "accept": 0, "accept_good": 0,
                                 "accept_renegotiate": 0, "hits": 0, "misses": 0, "timeouts": 0,
                                 "cache_full": 0}

    def _changed(self):
        with self._lock:
            self._configs = {}

    # The engine's view of this context ----------------------------------------

    def _engine_config(self, server_side):
        """The TLSConfig for a new connection (built once per change)."""
        config = self._configs.get(server_side)
        if config is not None:
            return config
        with self._lock:
            config = self._build_config(server_side)
            self._configs[server_side] = config
            return config

    def _versions(self):
        """The protocol versions minimum_version, maximum_version and OP_NO_* leave, best first."""
        low, high = self._minimum_version, self._maximum_version
        low = 0x0303 if low == _c.TLSVersion.MINIMUM_SUPPORTED else int(low)
        high = 0x0304 if high == _c.TLSVersion.MAXIMUM_SUPPORTED else int(high)
        versions = [0x0303] if self._version_fixed else \
            [v for v in (0x0304, 0x0303) if low <= v <= high]
        if self._options & _c.OP_NO_TLSv1_3:
            versions = [v for v in versions if v != 0x0304]
        if self._options & _c.OP_NO_TLSv1_2:
            versions = [v for v in versions if v != 0x0303]
        if not versions:
            raise errors.ssl_error("NO_PROTOCOLS_AVAILABLE", "no protocols available")
        return versions

    def _presented(self, credential):
        """A chain loaded as its leaf alone goes out with the leaf's issuers from this
        context's trust store, as OpenSSL completes it (Python leaves
        SSL_MODE_NO_AUTO_CHAIN off); a chain loaded with intermediates goes as loaded."""
        chain, key = credential
        if len(chain) > 1:
            return credential
        issuers = self._trust.issuers_of(certs.load_der_certificate(chain[0]))
        return (chain + [certs.der_of(c) for c in issuers], key) if issuers else credential

    def _build_config(self, server_side):
        if server_side and self._protocol == _c.PROTOCOL_TLS_CLIENT:
            raise errors.ssl_error(None, "Cannot create a server socket with a PROTOCOL_TLS_CLIENT context")
        if not server_side and self._protocol == _c.PROTOCOL_TLS_SERVER:
            raise errors.ssl_error(None, "Cannot create a client socket with a PROTOCOL_TLS_SERVER context")
        settings = dict(
            versions=self._versions(),
            tls12_suites=list(self._tls12_ciphers),
            tls13_suites=list(self._tls13_suites),
            alpn_protocols=list(self._alpn),
            credentials=[self._presented(credential) for credential in self._credentials],
            verify_mode=_VERIFY[int(self._verify_mode)],
            trust_store=self._trust,
            check_hostname=self._check_hostname,
            check_common_name=self._hostname_checks_common_name,
            partial_chain=bool(self._verify_flags & getattr(_c, "VERIFY_X509_PARTIAL_CHAIN", 0)),
            num_tickets=self._num_tickets if server_side else 0,
            server_preference=bool(self._options & _c.OP_CIPHER_SERVER_PREFERENCE),
            post_handshake_auth=bool(self._post_handshake_auth),
            middlebox_compatibility=bool(self._options & getattr(_c, "OP_ENABLE_MIDDLEBOX_COMPAT", 0)),
        )
        if self._groups is not None:
            settings["groups"] = list(self._groups)
            settings["key_share_groups"] = list(self._groups[:1])
        if server_side and not self._options & _c.OP_NO_TICKET:
            if self._ticket_keys is None:
                self._ticket_keys = TicketKeys()
            settings["ticket_keys"] = self._ticket_keys
        if server_side:
            if self._session_cache is None:
                self._session_cache = SessionCache()
            settings["session_cache"] = self._session_cache
        if self._keylog_filename:
            settings["keylog"] = keylog_to_file(self._keylog_filename)
        return TLSConfig(**settings)

    # Properties -------------------------------------------------------------

    @property
    def protocol(self):
        return _c._SSLMethod(self._protocol) if hasattr(_c, "_SSLMethod") else self._protocol

    @property
    def verify_mode(self):
        return _c.VerifyMode(self._verify_mode)

    @verify_mode.setter
    def verify_mode(self, value):
        value = _c.VerifyMode(_c_integer(value, 32))   # ValueError for others, as the stdlib
        if value == _c.CERT_NONE and self._check_hostname:
            raise ValueError("Cannot set verify_mode to CERT_NONE when check_hostname is enabled.")
        self._verify_mode = value
        self._changed()

    @property
    def check_hostname(self):
        return self._check_hostname

    @check_hostname.setter
    def check_hostname(self, value):
        value = bool(value)
        if value and self._verify_mode == _c.CERT_NONE:
            self._verify_mode = _c.CERT_REQUIRED        # the stdlib couples them this way
        self._check_hostname = value
        self._changed()

    @property
    def options(self):
        return _c.Options(self._options)

    @options.setter
    def options(self, value):
        value = _c_integer(value, 64) & 0xFFFFFFFFFFFFFFFF
        newly_set = value & ~int(self._options)
        if newly_set & _LEGACY_VERSION_OPTIONS:
            warnings.warn("ssl.OP_NO_SSL*/ssl.OP_NO_TLS* options are deprecated",
                          DeprecationWarning, stacklevel=2)
        self._options = _c.Options(value | int(_c.OP_NO_SSLv3))
        self._changed()

    @property
    def verify_flags(self):
        return _c.VerifyFlags(self._verify_flags)

    @verify_flags.setter
    def verify_flags(self, value):
        value = _c.VerifyFlags(operator.index(value) & 0xFFFFFFFFFFFFFFFF)   # a C 'k': masked
        if value & (_c.VERIFY_CRL_CHECK_LEAF | _c.VERIFY_CRL_CHECK_CHAIN):
            raise errors.ssl_error("UNSUPPORTED_VERIFY_FLAG",
                                   "cyssl does not check CRLs (VERIFY_CRL_CHECK_* is not supported)")
        self._verify_flags = value
        self._changed()

    @property
    def minimum_version(self):
        return self._minimum_version

    @minimum_version.setter
    def minimum_version(self, value):
        # As OpenSSL's: the opposite sentinel means the highest real version.
        value = self._settable_version(value, _c.TLSVersion.MAXIMUM_SUPPORTED, _c.TLSVersion.TLSv1_3)
        self._minimum_version = value
        self._changed()

    def _settable_version(self, value, opposite, real):
        """A version to store as a bound: ``opposite`` (the other bound's sentinel) as the
        ``real`` version it stands for; ValueError for what cyssl does not implement or a
        version-specific protocol, which cannot be moved."""
        value = _c.TLSVersion(_c_integer(value, 32))
        if self._version_fixed:
            raise ValueError("The context's protocol doesn't support modification of highest "
                             "and lowest version.")
        if value == opposite:
            return real
        if value not in (_c.TLSVersion.MINIMUM_SUPPORTED, _c.TLSVersion.MAXIMUM_SUPPORTED) \
                and value < _c.TLSVersion.TLSv1_2:
            raise ValueError("cyssl does not implement %s: TLS 1.2 and 1.3 only" % value.name)
        return value

    @property
    def maximum_version(self):
        return self._maximum_version

    @maximum_version.setter
    def maximum_version(self, value):
        # The opposite sentinel means the lowest real version: cyssl's is TLS 1.2.
        value = self._settable_version(value, _c.TLSVersion.MINIMUM_SUPPORTED, _c.TLSVersion.TLSv1_2)
        self._maximum_version = value
        self._changed()

    @property
    def post_handshake_auth(self):
        return self._post_handshake_auth

    @post_handshake_auth.setter
    def post_handshake_auth(self, value):
        self._post_handshake_auth = bool(value)
        self._changed()

    @property
    def num_tickets(self):
        return self._num_tickets

    @num_tickets.setter
    def num_tickets(self, value):
        value = _c_integer(value, 64)
        if not self._server_default:
            raise ValueError("SSLContext is not a server context.")
        if value < 0:
            raise ValueError("value must be non-negative")
        self._num_tickets = value
        self._changed()

    @property
    def keylog_filename(self):
        return self._keylog_filename

    @keylog_filename.setter
    def keylog_filename(self, value):
        if value is not None:
            value = os.fspath(value)
            keylog_to_file(value)                  # fails now, as the stdlib does, if unwritable;
                                                   # a new file gets its header line
        self._keylog_filename = value
        self._changed()

    @property
    def hostname_checks_common_name(self):
        return self._hostname_checks_common_name

    @hostname_checks_common_name.setter
    def hostname_checks_common_name(self, value):
        self._hostname_checks_common_name = bool(value)
        self._changed()

    @property
    def security_level(self):
        return self._security_level

    @property
    def sni_callback(self):
        return self._sni_callback

    @sni_callback.setter
    def sni_callback(self, value):
        if value is not None and not callable(value):
            raise TypeError("not a callable object")
        self._sni_callback = value

    @property
    def _msg_callback(self):
        return self.__dict__.get("_msg_callback_value")

    @_msg_callback.setter
    def _msg_callback(self, value):
        self.__dict__["_msg_callback_value"] = value

    # Certificates and trust -------------------------------------------------

    def load_cert_chain(self, certfile, keyfile=None, password=None):
        """The certificate chain (leaf first) and private key this side presents."""
        cert_data = _read(certfile)
        key_data = _read(keyfile) if keyfile is not None else cert_data
        if not (password is None or callable(password)
                or isinstance(password, (str, bytes, bytearray))):
            raise TypeError("password should be a string or callable")
        try:
            chain = certs.load_pem_certificates(cert_data)
        except ValueError:
            raise errors.ssl_error("PEM_LIB", "PEM lib") from None
        try:
            key = certs.load_private_key(key_data, None if password is None
                                         else functools.partial(_password_for_key, password))
        except _PasswordError as failure:
            raise failure.error from None
        except (ValueError, TypeError):
            raise errors.ssl_error("PEM_LIB", "PEM lib") from None
        if not certs.key_matches_certificate(key, chain[0]):
            raise errors.ssl_error("KEY_VALUES_MISMATCH", "key values mismatch")
        # One chain per key type, as OpenSSL: loading an RSA chain beside an ECDSA one
        # keeps both (the peer's signature schemes choose), a second RSA one replaces
        # the first.
        family = signatures.key_family(key)
        with self._lock:
            self._credentials = [c for c in self._credentials
                                 if signatures.key_family(c[1]) != family]
            self._credentials.append(([certs.der_of(c) for c in chain], key))
            self._changed()

    def load_verify_locations(self, cafile=None, capath=None, cadata=None):
        if cafile is None and capath is None and cadata is None:
            raise TypeError("cafile, capath and cadata cannot be all omitted")
        with self._lock:
            if cafile is not None:
                path = os.fsdecode(cafile)
                try:
                    self._trust.add_file(path)
                except ValueError:
                    raise _unreadable_pem(path) from None
            if capath is not None:
                # OpenSSL reads a capath lazily, at lookup: only an empty name is refused;
                # a missing directory (or a file) simply provides nothing.
                directory = os.fsdecode(capath)
                if not directory:
                    raise errors.ssl_error("INVALID_DIRECTORY", "invalid directory")
                if os.path.isdir(directory):
                    self._trust.add_directory(directory)
            if cadata is not None:
                self._load_cadata(cadata)
            self._changed()

    def _load_cadata(self, cadata):
        """PEM text or DER bytes; as the stdlib, an error only when no certificate at all
        is found (one already in the store counts as found)."""
        if isinstance(cadata, str) and cadata.isascii():
            add, data, failure = self._trust.add_pem, cadata.encode("ascii"), "no start line"
        elif isinstance(cadata, (bytes, bytearray, memoryview)):
            add, data, failure = self._trust.add_der, bytes(cadata), "not enough data"
        else:
            raise TypeError("cadata should be an ASCII string or a bytes-like object")
        if not data:
            raise ValueError("Empty certificate data")
        try:
            add(data)
        except ValueError:
            raise errors.ssl_error(None, failure + ": cadata does not contain a certificate") \
                from None

    def load_default_certs(self, purpose=_c.Purpose.SERVER_AUTH):
        if purpose not in (_c.Purpose.SERVER_AUTH, _c.Purpose.CLIENT_AUTH):
            raise TypeError("purpose must be a Purpose")
        self.set_default_verify_paths()

    def set_default_verify_paths(self):
        # As OpenSSL's: the default paths never fail to load. An empty, unreadable or
        # partly damaged bundle gives what it can (a root `cryptography` cannot parse,
        # say, is left out instead of failing create_default_context()).
        cafile, capath = certs.default_verify_paths()
        with self._lock:
            # (default_verify_paths() gives only a file and a directory that exist.)
            if cafile:
                with contextlib.suppress(OSError):
                    self._trust.add_file(cafile, skip_damaged=True)
            if capath:
                with contextlib.suppress(OSError):
                    self._trust.add_directory(capath)
            self._changed()

    def get_ca_certs(self, binary_form=False):
        from cyssl.crypto.peercert import decode_certificate
        # As the stdlib: the loaded certificates OpenSSL's X509_check_ca accepts.
        ders = [certs.der_of(c) for c in self._trust.anchors() if certs.is_ca(c)]
        return ders if binary_form else [decode_certificate(d) for d in ders]

    def cert_store_stats(self):
        return self._trust.stats()

    def load_dh_params(self, path):
        _read(path)                      # accepted (and checked readable); FFDHE is never used

    def set_ecdh_curve(self, name):
        if not isinstance(name, (str, bytes)):
            raise TypeError("name must be a string")
        name = name.decode("ascii") if isinstance(name, bytes) else name
        group = groups.BY_NAME.get(_GROUP_NAMES.get(name, name))
        if group is None:
            raise ValueError("unknown elliptic curve name %r" % name)
        self._groups = [group.code]
        self._changed()

    # Protocol choices -------------------------------------------------------

    def set_ciphers(self, cipherlist):
        """OpenSSL cipher strings select among the TLS 1.2 suites; TLS 1.3 suites are
        always on (as with OpenSSL's set_cipher_list)."""
        if not isinstance(cipherlist, str):
            raise TypeError("cipherlist must be a str")
        selected = _select_tls12_ciphers(cipherlist)
        if not selected:
            raise errors.ssl_error("NO_CIPHER_MATCH", "No cipher can be selected.")
        self._tls12_ciphers = selected
        self._changed()

    def get_ciphers(self):
        """As the stdlib's: the TLS 1.3 suites, then the TLS 1.2 ones set_ciphers left,
        in the order they are offered."""
        result = []
        for suite in [BY_CODE[code] for code in list(self._tls13_suites) + list(self._tls12_ciphers)]:
            bits = 128 if suite.aead.key_length == 16 else 256
            result.append({
                "id": 0x03000000 | suite.code, "name": suite.openssl_name,
                "protocol": "TLSv1.3" if suite.tls13 else "TLSv1.2",
                "description": "%s %s" % (suite.openssl_name, "TLSv1.3" if suite.tls13 else "TLSv1.2"),
                "strength_bits": bits, "alg_bits": bits, "aead": True,
                "symmetric": suite.aead.name.lower(), "digest": None,
                "kea": "kx-any" if suite.tls13 else "kx-ecdhe",
                "auth": "auth-any" if suite.tls13 else "auth-" + suite.auth.lower()})
        return result

    def set_alpn_protocols(self, alpn_protocols):
        protocols = []
        for protocol in alpn_protocols:
            encoded = bytes(protocol, "ascii") if isinstance(protocol, str) else bytes(protocol)
            if not 0 < len(encoded) <= 255:
                raise errors.ssl_error(None, "ALPN protocols must be 1 to 255 in length")
            protocols.append(encoded)
        self._alpn = protocols
        self._changed()

    def set_npn_protocols(self, npn_protocols):
        warnings.warn("ssl NPN is deprecated, use ALPN instead", DeprecationWarning, stacklevel=2)
        raise NotImplementedError("NPN is not supported by cyssl")

    def set_servername_callback(self, server_name_callback):
        if server_name_callback is None:
            self.sni_callback = None
            return
        if not callable(server_name_callback):
            raise TypeError("not a callable object")

        def shim(sslobject, servername, context):
            return server_name_callback(sslobject, self._encode_hostname(servername), context)
        self.sni_callback = shim

    def _set_alpn_protocols(self, protos):
        """The wire form (length-prefixed names), as the stdlib's private setter takes it."""
        names, data = [], bytes(protos)
        while data:
            names.append(data[1:1 + data[0]])
            data = data[1 + data[0]:]
        self.set_alpn_protocols(names)

    def _load_windows_store_certs(self, storename, purpose):
        """Windows system stores come through set_default_verify_paths here."""
        self.set_default_verify_paths()

    @property
    def _host_flags(self):
        return 0                        # no X509_CHECK_FLAG_* tuning: RFC 6125 rules always

    @_host_flags.setter
    def _host_flags(self, value):
        pass

    def session_stats(self):
        stats = dict(self.session_counters)
        stats["number"] = len(self._session_cache) if self._session_cache is not None else 0
        return stats

    def _count_handshake(self, server_side, resumed):
        """OpenSSL's session statistics, counted per completed handshake."""
        counters = self.session_counters
        with self._lock:
            prefix = "accept" if server_side else "connect"
            counters[prefix] += 1
            counters[prefix + "_good"] += 1
            if server_side:
                counters["hits" if resumed else "misses"] += 1
            elif resumed:
                counters["hits"] += 1

    # Wrapping ---------------------------------------------------------------

    def _encode_hostname(self, hostname):
        if hostname is None:
            return None
        if "\0" in (hostname if isinstance(hostname, str) else hostname.decode("latin-1")):
            raise TypeError("argument must be encoded string without null bytes")
        if isinstance(hostname, str):
            return _idna(hostname)
        return bytes(hostname).decode("ascii")

    def _server_hostname(self, hostname):
        """_encode_hostname, refusing what the stdlib refuses to send in SNI."""
        encoded = self._encode_hostname(hostname)
        if encoded is not None:
            if not encoded or encoded.startswith("."):
                raise ValueError("server_hostname cannot be an empty string or start with a "
                                 "leading dot.")
            if len(encoded) > 255:                # the most a host_name in SNI can hold
                raise errors.ssl_error("SSL3_EXT_INVALID_SERVERNAME", "ssl3 ext invalid servername")
        return encoded

    def wrap_socket(self, sock, server_side=False, do_handshake_on_connect=True,
                    suppress_ragged_eofs=True, server_hostname=None, session=None):
        return self.sslsocket_class._create(
            sock=sock, server_side=server_side, do_handshake_on_connect=do_handshake_on_connect,
            suppress_ragged_eofs=suppress_ragged_eofs, server_hostname=server_hostname,
            context=self, session=session)

    def wrap_bio(self, incoming, outgoing, server_side=False, server_hostname=None, session=None):
        return self.sslobject_class._create(
            incoming, outgoing, server_side=server_side,
            server_hostname=self._server_hostname(server_hostname), session=session, context=self)

    def _wrap_bio(self, incoming, outgoing, server_side=False, server_hostname=None, *,
                  owner=None, session=None):
        """The TLS object behind an SSLObject (cyssl's own, or a stdlib shell's ``_sslobj``)."""
        from cyssl.sslobject import SSLObject
        return SSLObject(self, server_side, server_hostname, owner, session, incoming, outgoing)

    def _wrap_socket(self, sock, server_side=False, server_hostname=None, *, owner=None,
                     session=None):
        """The TLS object behind an SSLSocket (its ``_sslobj``)."""
        from cyssl.socketchannel import SocketChannel
        return SocketChannel(self, server_side, server_hostname, owner, session, sock)

    def __reduce__(self):
        raise TypeError("cannot pickle %r object" % type(self).__name__)


def _unreadable_pem(path):
    """OpenSSL's two complaints: PEM blocks it cannot parse, or no certificate at all."""
    with open(path, "rb") as f:
        has_pem = b"-----BEGIN" in f.read()
    if has_pem:
        return errors.ssl_error("PEM_LIB", "PEM lib")
    return errors.ssl_error("NO_CERTIFICATE_OR_CRL_FOUND", "no certificate or crl found")


def _read(path):
    with open(os.fspath(path), "rb") as f:
        return f.read()


def _select_tls12_ciphers(cipherlist):
    """The TLS 1.2 suites an OpenSSL cipher string names, in a pragmatic subset of its
    syntax: names and the aliases of _cipher_matches, 'x+y' for both, '!x' (gone for
    good), '-x' (gone, unless named again later), '+x' (moved to the end), separators
    ':' ',' ' ', '@' directives ignored."""
    chosen = []
    killed = set()
    for token in cipherlist.replace(",", ":").replace(" ", ":").split(":"):
        token = token.strip()
        if not token or token.startswith("@"):
            continue
        op, term = (token[0], token[1:]) if token[0] in "!-+" else ("", token)
        matched = [s.code for s in TLS12_SUITES if _cipher_matches(s, term)]
        if op == "!":
            killed.update(matched)
        if op in ("!", "-"):
            chosen = [c for c in chosen if c not in matched]
        elif op == "+":
            chosen = [c for c in chosen if c not in matched] + [c for c in chosen if c in matched]
        else:
            chosen += [c for c in matched if c not in chosen and c not in killed]
    return chosen


def _cipher_matches(suite, term):
    """Whether ``term`` (a name or OpenSSL aliases joined by '+') selects ``suite``. As in
    OpenSSL, RSA and ECDH name key exchanges (so RSA selects none of ours: aRSA is RSA
    authentication) and SHA256/SHA384 name MACs (none here: these suites are AEADs)."""
    name = suite.openssl_name
    aliases = {"ALL", "DEFAULT", "HIGH", "ECDH", "ECDHE", "EECDH", "kEECDH", "kECDHE", "TLSv1.2"}
    aliases.update(("aECDSA", "ECDSA") if suite.auth == "ECDSA" else ("aRSA",))
    aliases.add("AESGCM" if "GCM" in name else "CHACHA20")
    if "AES128" in name:
        aliases.update(("AES128", "AES"))
    if "AES256" in name:
        aliases.update(("AES256", "AES"))
    return all(part == name or part in aliases for part in term.split("+"))


_LEGACY_VERSION_OPTIONS = int(_c.OP_NO_SSLv2 | _c.OP_NO_SSLv3 | _c.OP_NO_TLSv1 | _c.OP_NO_TLSv1_1
                              | _c.OP_NO_TLSv1_2 | _c.OP_NO_TLSv1_3)
_DEFAULT_OPTIONS = (
    int(_stdlib.SSLContext(_stdlib.PROTOCOL_TLS_CLIENT).options) if _stdlib is not None
    else int(_c.OP_ALL | _c.OP_NO_SSLv3 | _c.OP_NO_COMPRESSION | _c.OP_CIPHER_SERVER_PREFERENCE
             | _c.OP_ENABLE_MIDDLEBOX_COMPAT))
