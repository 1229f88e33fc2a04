"""cyssl: a drop-in replacement for Python's ssl module, with its own TLS engine.

``import cyssl as ssl``: the classes, functions and constants below behave as the stdlib's
do; the exceptions and enums are the stdlib's own objects where the interpreter has
``ssl``. The TLS itself is cyssl's (cyssl.tls), over primitives from ``cryptography``.
"""
__version__ = "0.1.0.dev0"

import os as _os

from cyssl.constants import *                     # noqa: F401,F403  (CERT_*, OP_*, enums...)
from cyssl.constants import __all__ as _constants_all
from cyssl.constants import _DEFAULT_CIPHERS       # noqa: F401
try:                                                # the stdlib's private enums, when present
    from cyssl.constants import _PROTOCOL_NAMES, _TLSAlertType, _TLSContentType, _TLSMessageType  # noqa: F401
except ImportError:
    pass
from cyssl.constants import (CHANNEL_BINDING_TYPES, HAS_ALPN, HAS_ECDH, HAS_NEVER_CHECK_COMMON_NAME,  # noqa: F401
                             HAS_NPN, HAS_PHA, HAS_PSK, HAS_SNI, HAS_SSLv2, HAS_SSLv3, HAS_TLSv1,
                             HAS_TLSv1_1, HAS_TLSv1_2, HAS_TLSv1_3, OPENSSL_VERSION,
                             OPENSSL_VERSION_INFO, OPENSSL_VERSION_NUMBER, PEM_FOOTER, PEM_HEADER)
from cyssl.errors import (CertificateError, SSLCertVerificationError, SSLEOFError,  # noqa: F401
                          SSLError, SSLSyscallError, SSLWantReadError, SSLWantWriteError,
                          SSLZeroReturnError)
from cyssl.context import SSLContext
from cyssl.session import SSLSession                # noqa: F401
from cyssl.sslobject import MemoryBIO, SSLObject    # noqa: F401
from cyssl.sslsocket import SSLSocket
from cyssl.helpers import (DER_cert_to_PEM_cert, PEM_cert_to_DER_cert, RAND_add,  # noqa: F401
                           RAND_bytes, RAND_pseudo_bytes, RAND_status, DefaultVerifyPaths,
                           cert_time_to_seconds, get_default_verify_paths, get_server_certificate)
try:
    from cyssl.helpers import _inet_paton, match_hostname   # noqa: F401  (3.11 and older)
except ImportError:
    pass
from cyssl.inject import extract_from_ssl, inject_into_ssl   # noqa: F401

__all__ = [
    "SSLContext", "SSLObject", "SSLSocket", "SSLSession", "MemoryBIO",
    "SSLError", "SSLZeroReturnError", "SSLWantReadError", "SSLWantWriteError", "SSLSyscallError",
    "SSLEOFError", "SSLCertVerificationError", "CertificateError",
    "create_default_context", "get_default_verify_paths", "get_server_certificate",
    "DER_cert_to_PEM_cert", "PEM_cert_to_DER_cert", "cert_time_to_seconds", "RAND_bytes",
    "RAND_status", "RAND_add", "RAND_pseudo_bytes", "DefaultVerifyPaths", "inject_into_ssl",
    "extract_from_ssl", "wrap_socket",
    "CHANNEL_BINDING_TYPES", "HAS_ALPN", "HAS_ECDH", "HAS_NEVER_CHECK_COMMON_NAME", "HAS_NPN",
    "HAS_PHA", "HAS_PSK", "HAS_SNI", "HAS_SSLv2", "HAS_SSLv3", "HAS_TLSv1", "HAS_TLSv1_1",
    "HAS_TLSv1_2", "HAS_TLSv1_3", "OPENSSL_VERSION", "OPENSSL_VERSION_INFO",
    "OPENSSL_VERSION_NUMBER", "PEM_FOOTER", "PEM_HEADER",
]
__all__ += _constants_all           # CERT_*, PROTOCOL_*, OP_*, VERIFY_*, the enums

SSLContext.sslsocket_class = SSLSocket
SSLContext.sslobject_class = SSLObject

socket_error = OSError                              # an old public name the stdlib keeps


def get_protocol_name(protocol_code):
    """The name of a PROTOCOL_* constant, as the stdlib's."""
    return _PROTOCOL_NAMES.get(protocol_code, "<unknown>")


def create_default_context(purpose: "Purpose" = Purpose.SERVER_AUTH, *,  # noqa: F405
                           cafile: "str | bytes | None" = None, capath: "str | bytes | None" = None,
                           cadata: "str | bytes | None" = None) -> SSLContext:
    """A context with secure defaults (verification on for clients), as the stdlib's."""
    if not isinstance(purpose, _ASN1Object_types()):
        raise TypeError(purpose)
    if purpose == Purpose.SERVER_AUTH:                                   # noqa: F405
        context = SSLContext(PROTOCOL_TLS_CLIENT)                        # noqa: F405
        context.verify_mode = CERT_REQUIRED                              # noqa: F405
        context.check_hostname = True
    elif purpose == Purpose.CLIENT_AUTH:                                 # noqa: F405
        context = SSLContext(PROTOCOL_TLS_SERVER)                        # noqa: F405
    else:
        raise ValueError(purpose)
    return _load_trust_and_keylog(context, purpose, cafile, capath, cadata)


def wrap_socket(sock, keyfile=None, certfile=None, server_side=False, cert_reqs=CERT_NONE,  # noqa: F405
                ssl_version=PROTOCOL_TLS, ca_certs=None, do_handshake_on_connect=True,        # noqa: F405
                suppress_ragged_eofs=True, ciphers=None):
    """The deprecated module-level wrap_socket of Python 3.11 and older."""
    import warnings
    warnings.warn("ssl.wrap_socket() is deprecated, use SSLContext.wrap_socket()",
                  category=DeprecationWarning, stacklevel=2)
    if server_side and not certfile:
        raise ValueError("certfile must be specified for server-side operations")
    if keyfile and not certfile:
        raise ValueError("certfile must be specified")
    context = SSLContext(ssl_version)
    context.verify_mode = cert_reqs
    if ca_certs:
        context.load_verify_locations(ca_certs)
    if certfile:
        context.load_cert_chain(certfile, keyfile)
    if ciphers:
        context.set_ciphers(ciphers)
    return context.wrap_socket(sock=sock, server_side=server_side,
                               do_handshake_on_connect=do_handshake_on_connect,
                               suppress_ragged_eofs=suppress_ragged_eofs)


def _load_trust_and_keylog(context, purpose, cafile, capath, cadata):
    """Trust anchors (given, or the system's when verifying) and SSLKEYLOGFILE, as the
    stdlib's context factories do."""
    if cafile or capath or cadata:
        context.load_verify_locations(cafile, capath, cadata)
    elif context.verify_mode != CERT_NONE:                               # noqa: F405
        context.load_default_certs(purpose)
    keylogfile = _os.environ.get("SSLKEYLOGFILE")
    if keylogfile:
        context.keylog_filename = keylogfile
    return context


def _ASN1Object_types():
    try:
        import ssl
        return (ssl._ASN1Object,)
    except (ImportError, AttributeError):
        return (type(Purpose.SERVER_AUTH),)                              # noqa: F405


def _create_unverified_context(protocol=None, *, cert_reqs=CERT_NONE, check_hostname=False,  # noqa: F405
                               purpose=Purpose.SERVER_AUTH, certfile=None, keyfile=None,      # noqa: F405
                               cafile=None, capath=None, cadata=None):
    """The stdlib's internal helper for its network modules (smtplib, imaplib, ...)."""
    if not isinstance(purpose, _ASN1Object_types()):
        raise TypeError(purpose)
    if purpose == Purpose.SERVER_AUTH:                                   # noqa: F405
        context = SSLContext(protocol or PROTOCOL_TLS_CLIENT)            # noqa: F405
    else:
        context = SSLContext(protocol or PROTOCOL_TLS_SERVER)            # noqa: F405
    if check_hostname is not None:
        context.check_hostname = check_hostname
    if cert_reqs is not None:
        context.verify_mode = cert_reqs
    if keyfile and not certfile:
        raise ValueError("certfile must be specified")
    if certfile or keyfile:
        context.load_cert_chain(certfile, keyfile)
    return _load_trust_and_keylog(context, purpose, cafile, capath, cadata)


_create_stdlib_context = _create_unverified_context
_create_default_https_context = create_default_context
