"""Module-level constants and enums, the stdlib's own objects where the stdlib exists.

Libraries compare against (and pass in) the stdlib's enum members, so cyssl re-exports
them rather than defining look-alikes (integration.md H8). The HAS_* flags and the
version strings describe cyssl, truthfully.
"""
import enum

import cyssl

try:
    import ssl as _stdlib
except ImportError:
    _stdlib = None

_PREFIXES = ("CERT_", "PROTOCOL_", "OP_", "VERIFY_", "ALERT_DESCRIPTION_", "SSL_ERROR_")
_ENUMS = ("TLSVersion", "Options", "VerifyMode", "VerifyFlags", "AlertDescription", "Purpose",
          "SSLErrorNumber", "_SSLMethod")

if _stdlib is not None:
    __all__ = [n for n in dir(_stdlib) if n.startswith(_PREFIXES)] + [e for e in _ENUMS if hasattr(_stdlib, e)]
    globals().update({name: getattr(_stdlib, name) for name in __all__})
    CHANNEL_BINDING_TYPES = ["tls-unique"]
    # Private helpers of the stdlib's module that its own tests (and some tools) use.
    _TLSContentType = _stdlib._TLSContentType
    _TLSMessageType = _stdlib._TLSMessageType
    _TLSAlertType = _stdlib._TLSAlertType
    _PROTOCOL_NAMES = _stdlib._PROTOCOL_NAMES
    PEM_HEADER = _stdlib.PEM_HEADER
    PEM_FOOTER = _stdlib.PEM_FOOTER
else:                                                       # equivalents, same values
    class TLSVersion(enum.IntEnum):
        MINIMUM_SUPPORTED = -2
        MAXIMUM_SUPPORTED = -1
        SSLv3 = 0x0300
        TLSv1 = 0x0301
        TLSv1_1 = 0x0302
        TLSv1_2 = 0x0303
        TLSv1_3 = 0x0304

    class VerifyMode(enum.IntEnum):
        CERT_NONE = 0
        CERT_OPTIONAL = 1
        CERT_REQUIRED = 2

    class VerifyFlags(enum.IntFlag):
        VERIFY_DEFAULT = 0
        VERIFY_CRL_CHECK_LEAF = 0x4
        VERIFY_CRL_CHECK_CHAIN = 0xC
        VERIFY_X509_STRICT = 0x20
        VERIFY_ALLOW_PROXY_CERTS = 0x40
        VERIFY_X509_TRUSTED_FIRST = 0x8000
        VERIFY_X509_PARTIAL_CHAIN = 0x80000

    class Options(enum.IntFlag):
        OP_ALL = 0x80000850
        OP_NO_SSLv2 = 0
        OP_NO_SSLv3 = 0x2000000
        OP_NO_TLSv1 = 0x4000000
        OP_NO_TLSv1_1 = 0x10000000
        OP_NO_TLSv1_2 = 0x8000000
        OP_NO_TLSv1_3 = 0x20000000
        OP_CIPHER_SERVER_PREFERENCE = 0x400000
        OP_SINGLE_DH_USE = 0
        OP_SINGLE_ECDH_USE = 0
        OP_NO_COMPRESSION = 0x20000
        OP_NO_TICKET = 0x4000
        OP_NO_RENEGOTIATION = 0x40000000
        OP_ENABLE_MIDDLEBOX_COMPAT = 0x100000
        OP_IGNORE_UNEXPECTED_EOF = 0x80

    class _SSLMethod(enum.IntEnum):
        PROTOCOL_SSLv23 = 2
        PROTOCOL_TLS = 2
        PROTOCOL_TLSv1 = 3
        PROTOCOL_TLSv1_1 = 4
        PROTOCOL_TLSv1_2 = 5
        PROTOCOL_TLS_CLIENT = 16
        PROTOCOL_TLS_SERVER = 17

    class SSLErrorNumber(enum.IntEnum):
        SSL_ERROR_SSL = 1
        SSL_ERROR_WANT_READ = 2
        SSL_ERROR_WANT_WRITE = 3
        SSL_ERROR_WANT_X509_LOOKUP = 4
        SSL_ERROR_SYSCALL = 5
        SSL_ERROR_ZERO_RETURN = 6
        SSL_ERROR_WANT_CONNECT = 7
        SSL_ERROR_EOF = 8
        SSL_ERROR_INVALID_ERROR_CODE = 10

    from collections import namedtuple as _namedtuple

    class _ASN1Object(_namedtuple("_ASN1Object", "nid shortname longname oid")):
        pass

    class Purpose(_ASN1Object, enum.Enum):
        SERVER_AUTH = (129, "serverAuth", "TLS Web Server Authentication", "1.3.6.1.5.5.7.3.1")
        CLIENT_AUTH = (130, "clientAuth", "TLS Web Client Authentication", "1.3.6.1.5.5.7.3.2")

    AlertDescription = None
    for _enum in (VerifyMode, VerifyFlags, Options, _SSLMethod, SSLErrorNumber):
        globals().update(_enum.__members__)
    __all__ = [n for n in globals() if n.startswith(_PREFIXES)] + list(_ENUMS)
    PROTOCOL_SSLv23 = PROTOCOL_TLS = _SSLMethod.PROTOCOL_TLS
    CHANNEL_BINDING_TYPES = ["tls-unique"]
    PEM_HEADER = "-----BEGIN CERTIFICATE-----"
    PEM_FOOTER = "-----END CERTIFICATE-----"

# What cyssl can do (not what the interpreter's OpenSSL can).
HAS_SNI = True
HAS_ALPN = True
HAS_NPN = False
HAS_ECDH = True
HAS_NEVER_CHECK_COMMON_NAME = True
HAS_SSLv2 = HAS_SSLv3 = HAS_TLSv1 = HAS_TLSv1_1 = False
HAS_TLSv1_2 = True
HAS_TLSv1_3 = True
HAS_PSK = False
HAS_PHA = True

OPENSSL_VERSION = "cyssl %s (its own TLS 1.3 engine; primitives from the cryptography package)" \
    % cyssl.__version__
OPENSSL_VERSION_INFO = tuple(int(p) for p in cyssl.__version__.split(".")[:3] if p.isdigit()) + (0, 0)
OPENSSL_VERSION_NUMBER = 0

# Python's default cipher string (its _ssl module's), which set_ciphers reads as OpenSSL does.
_DEFAULT_CIPHERS = getattr(_stdlib, "_DEFAULT_CIPHERS", "@SECLEVEL=2:ECDH+AESGCM:ECDH+CHACHA20:"
                           "ECDH+AES:DHE+AES:!aNULL:!eNULL:!aDSS:!SHA1:!AESCCM")
