"""The ssl exception classes, and the one place that turns an engine failure into one.

Where the interpreter has the stdlib ``ssl`` module, these ARE its classes: asyncio,
aiohttp, anyio, httpcore and urllib3 catch the stdlib's classes by identity, so anything
else would hang or mis-classify their connections (shared/reference/integration.md, H1).
Each error carries ``errno`` (the stdlib's SSL_ERROR_* number), ``reason`` and
``library`` as OpenSSL sets them, and for verification failures ``verify_code`` and
``verify_message``.
"""
try:
    import ssl as _stdlib
except ImportError:                                    # an interpreter without OpenSSL
    _stdlib = None

SSL_ERROR_SSL = 1
SSL_ERROR_WANT_READ = 2
SSL_ERROR_WANT_WRITE = 3
SSL_ERROR_SYSCALL = 5
SSL_ERROR_ZERO_RETURN = 6
SSL_ERROR_EOF = 8

if _stdlib is not None:
    SSLError = _stdlib.SSLError
    SSLZeroReturnError = _stdlib.SSLZeroReturnError
    SSLWantReadError = _stdlib.SSLWantReadError
    SSLWantWriteError = _stdlib.SSLWantWriteError
    SSLSyscallError = _stdlib.SSLSyscallError
    SSLEOFError = _stdlib.SSLEOFError
    SSLCertVerificationError = _stdlib.SSLCertVerificationError
else:
    class SSLError(OSError):
        """An error from the TLS layer."""

        def __str__(self):
            if isinstance(self.strerror, str):
                return self.strerror
            return super().__str__()

    class SSLZeroReturnError(SSLError):
        """The TLS connection was closed cleanly (close_notify)."""

    class SSLWantReadError(SSLError):
        """More input is needed before the operation can complete."""

    class SSLWantWriteError(SSLError):
        """The operation would block writing."""

    class SSLSyscallError(SSLError):
        """A system error on the underlying transport."""

    class SSLEOFError(SSLError):
        """The transport was closed in violation of the protocol."""

    class SSLCertVerificationError(SSLError, ValueError):
        """A certificate could not be verified."""

CertificateError = SSLCertVerificationError


def _make(cls, errno, reason, text, detail=None):
    message = "[SSL: %s] %s" % (reason, text) if reason else text
    if detail:
        message = "%s (%s)" % (message, detail)
    error = cls(errno, message)
    error.reason = reason
    error.library = "SSL" if reason else None
    return error


def from_engine(err):
    """The ssl exception for an engine TLSError (the engine's single exit to the face)."""
    if err.verify_code is not None:
        error = _make(SSLCertVerificationError, SSL_ERROR_SSL, "CERTIFICATE_VERIFY_FAILED",
                      "certificate verify failed: %s" % err.verify_message)
        error.verify_code = err.verify_code
        error.verify_message = err.verify_message
        return error
    # OpenSSL's reason strings are the reason names in lower case with spaces.
    return _make(SSLError, SSL_ERROR_SSL, err.reason, err.reason.lower().replace("_", " "),
                 "cyssl: %s" % err.message)


def want_read():
    return _make(SSLWantReadError, SSL_ERROR_WANT_READ, None,
                 "The operation did not complete (read)")


def want_write():
    return _make(SSLWantWriteError, SSL_ERROR_WANT_WRITE, None,
                 "The operation did not complete (write)")


def unexpected_eof():
    """The peer's transport ended without close_notify."""
    return _make(SSLEOFError, SSL_ERROR_EOF, "UNEXPECTED_EOF_WHILE_READING",
                 "EOF occurred in violation of protocol")


def eof_syscall():
    """SSL_ERROR_SYSCALL with nothing on OpenSSL's error queue, as the stdlib reports it
    for a read or write: a broken transport, or any call once the connection failed."""
    return _make(SSLEOFError, SSL_ERROR_EOF, None, "EOF occurred in violation of protocol")


def protocol_is_shutdown():
    """A write after our own close_notify."""
    return ssl_error("PROTOCOL_IS_SHUTDOWN", "protocol is shutdown")


def zero_return():
    return _make(SSLZeroReturnError, SSL_ERROR_ZERO_RETURN, None, "TLS/SSL connection has been closed (EOF)")


def syscall(text="Some I/O error occurred"):
    return _make(SSLSyscallError, SSL_ERROR_SYSCALL, None, text)


def ssl_error(reason, text):
    """An SSLError raised by the face itself (configuration, misuse)."""
    return _make(SSLError, SSL_ERROR_SSL, reason, text)
