"""The ssl module's helper functions: certificate format conversion, verify paths, a
one-shot certificate fetch, random bytes."""
import base64
import os
import socket
import time
from collections import namedtuple

from cyssl.crypto import certs

PEM_HEADER = "-----BEGIN CERTIFICATE-----"
PEM_FOOTER = "-----END CERTIFICATE-----"

DefaultVerifyPaths = namedtuple("DefaultVerifyPaths", "cafile capath openssl_cafile_env "
                                "openssl_cafile openssl_capath_env openssl_capath")


def DER_cert_to_PEM_cert(der_cert_bytes):
    """A PEM-encoded certificate from its DER bytes."""
    f = str(base64.standard_b64encode(der_cert_bytes), "ASCII", "strict")
    lines = [PEM_HEADER]
    lines += [f[i:i + 64] for i in range(0, len(f), 64)]
    lines.append(PEM_FOOTER + "\n")
    return "\n".join(lines)


def PEM_cert_to_DER_cert(pem_cert_string):
    """The DER bytes of a PEM-encoded certificate."""
    if not pem_cert_string.startswith(PEM_HEADER):
        raise ValueError("Invalid PEM encoding; must start with %s" % PEM_HEADER)
    if not pem_cert_string.strip().endswith(PEM_FOOTER):
        raise ValueError("Invalid PEM encoding; must end with %s" % PEM_FOOTER)
    d = pem_cert_string.strip()[len(PEM_HEADER):-len(PEM_FOOTER)]
    return base64.decodebytes(d.encode("ASCII", "strict"))


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def cert_time_to_seconds(cert_time):
    """Seconds since the epoch for a 'May  9 00:00:00 2007 GMT' certificate time."""
    import calendar
    time_format = " %d %H:%M:%S %Y GMT"
    try:
        month_number = _MONTHS.index(cert_time[:3].title()) + 1
    except ValueError:
        raise ValueError("time data %r does not match format '%%b%s'" % (cert_time, time_format)) \
            from None
    tt = time.strptime(cert_time[3:], time_format)
    return calendar.timegm((tt[0], month_number) + tt[2:6])


def get_default_verify_paths():
    """Where the system's trusted certificates are, as the stdlib reports it (honouring
    SSL_CERT_FILE / SSL_CERT_DIR)."""
    cafile, capath = certs.default_verify_paths()
    return DefaultVerifyPaths(cafile if cafile and os.path.isfile(cafile) else None,
                              capath if capath and os.path.isdir(capath) else None,
                              "SSL_CERT_FILE", cafile, "SSL_CERT_DIR", capath)


def get_server_certificate(addr, ssl_version=None, ca_certs=None, timeout=socket._GLOBAL_DEFAULT_TIMEOUT):
    """The PEM certificate of the server at ``addr`` (verified only if ``ca_certs``)."""
    import cyssl
    host, port = addr
    if ca_certs is not None:
        cert_reqs = cyssl.CERT_REQUIRED
    else:
        cert_reqs = cyssl.CERT_NONE
    context = cyssl._create_stdlib_context(ssl_version or cyssl.PROTOCOL_TLS_CLIENT,
                                           cert_reqs=cert_reqs, cafile=ca_certs)
    with socket.create_connection(addr, timeout=timeout) as sock:
        with context.wrap_socket(sock, server_hostname=host) as sslsock:
            der = sslsock.getpeercert(True)
    return DER_cert_to_PEM_cert(der)


def RAND_bytes(n):
    """``n`` cryptographically strong random bytes (the OS generator)."""
    if n < 0:
        raise ValueError("num must be positive")
    return os.urandom(n)


def RAND_status():
    """True: the OS generator is always seeded."""
    return True


def RAND_pseudo_bytes(n):
    """(bytes, True): the OS generator is always cryptographically strong."""
    return RAND_bytes(n), True


def RAND_add(string, entropy):
    """Accepted and ignored: the OS generator needs no seeding."""
    if not isinstance(string, (str, bytes, bytearray)):
        raise TypeError("string must be str or bytes")


try:                                   # 3.11's deprecated dict matcher: plain Python, reused
    from ssl import match_hostname, _inet_paton    # noqa: F401
except ImportError:
    pass
