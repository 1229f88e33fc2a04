# cython: language_level=3
"""The engine's failure report.

Every failure inside the engine (malformed input, a bad MAC, a protocol violation,
an alert received from the peer) is raised as ``TLSError``: the alert description
the peer is (or was) told, an OpenSSL-style reason name (the face maps it to the
``ssl`` exception classes, whose ``.reason`` real code matches on), and a message
for humans. Messages never carry key material.
"""

ALERT_NAMES = {
    CLOSE_NOTIFY: "close_notify",
    UNEXPECTED_MESSAGE: "unexpected_message",
    BAD_RECORD_MAC: "bad_record_mac",
    RECORD_OVERFLOW: "record_overflow",
    HANDSHAKE_FAILURE: "handshake_failure",
    BAD_CERTIFICATE: "bad_certificate",
    UNSUPPORTED_CERTIFICATE: "unsupported_certificate",
    CERTIFICATE_REVOKED: "certificate_revoked",
    CERTIFICATE_EXPIRED: "certificate_expired",
    CERTIFICATE_UNKNOWN: "certificate_unknown",
    ILLEGAL_PARAMETER: "illegal_parameter",
    UNKNOWN_CA: "unknown_ca",
    ACCESS_DENIED: "access_denied",
    DECODE_ERROR: "decode_error",
    DECRYPT_ERROR: "decrypt_error",
    PROTOCOL_VERSION: "protocol_version",
    INSUFFICIENT_SECURITY: "insufficient_security",
    INTERNAL_ERROR: "internal_error",
    INAPPROPRIATE_FALLBACK: "inappropriate_fallback",
    USER_CANCELED: "user_canceled",
    NO_RENEGOTIATION: "no_renegotiation",
    MISSING_EXTENSION: "missing_extension",
    UNSUPPORTED_EXTENSION: "unsupported_extension",
    UNRECOGNIZED_NAME: "unrecognized_name",
    BAD_CERTIFICATE_STATUS_RESPONSE: "bad_certificate_status_response",
    UNKNOWN_PSK_IDENTITY: "unknown_psk_identity",
    CERTIFICATE_REQUIRED: "certificate_required",
    NO_APPLICATION_PROTOCOL: "no_application_protocol",
}


def alert_name(int description):
    """The RFC name of an alert description, or ``unknown_alert_N``."""
    return ALERT_NAMES.get(description, "unknown_alert_%d" % description)


# OpenSSL's reason names for an alert received from the peer (ssl_err.c: SSL_AD_* + 1000).
_RECEIVED_REASONS = {
    UNEXPECTED_MESSAGE: "SSLV3_ALERT_UNEXPECTED_MESSAGE", BAD_RECORD_MAC: "SSLV3_ALERT_BAD_RECORD_MAC",
    RECORD_OVERFLOW: "TLSV1_ALERT_RECORD_OVERFLOW", HANDSHAKE_FAILURE: "SSLV3_ALERT_HANDSHAKE_FAILURE",
    BAD_CERTIFICATE: "SSLV3_ALERT_BAD_CERTIFICATE",
    UNSUPPORTED_CERTIFICATE: "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
    CERTIFICATE_REVOKED: "SSLV3_ALERT_CERTIFICATE_REVOKED",
    CERTIFICATE_EXPIRED: "SSLV3_ALERT_CERTIFICATE_EXPIRED",
    CERTIFICATE_UNKNOWN: "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
    ILLEGAL_PARAMETER: "SSLV3_ALERT_ILLEGAL_PARAMETER", UNKNOWN_CA: "TLSV1_ALERT_UNKNOWN_CA",
    ACCESS_DENIED: "TLSV1_ALERT_ACCESS_DENIED", DECODE_ERROR: "TLSV1_ALERT_DECODE_ERROR",
    DECRYPT_ERROR: "TLSV1_ALERT_DECRYPT_ERROR", PROTOCOL_VERSION: "TLSV1_ALERT_PROTOCOL_VERSION",
    INSUFFICIENT_SECURITY: "TLSV1_ALERT_INSUFFICIENT_SECURITY",
    INTERNAL_ERROR: "TLSV1_ALERT_INTERNAL_ERROR",
    INAPPROPRIATE_FALLBACK: "TLSV1_ALERT_INAPPROPRIATE_FALLBACK",
    USER_CANCELED: "TLSV1_ALERT_USER_CANCELLED", NO_RENEGOTIATION: "TLSV1_ALERT_NO_RENEGOTIATION",
    MISSING_EXTENSION: "TLSV13_ALERT_MISSING_EXTENSION",
    UNSUPPORTED_EXTENSION: "TLSV1_ALERT_UNSUPPORTED_EXTENSION",
    UNRECOGNIZED_NAME: "TLSV1_UNRECOGNIZED_NAME",
    BAD_CERTIFICATE_STATUS_RESPONSE: "TLSV1_BAD_CERTIFICATE_STATUS_RESPONSE",
    UNKNOWN_PSK_IDENTITY: "TLSV1_ALERT_UNKNOWN_PSK_IDENTITY",
    CERTIFICATE_REQUIRED: "TLSV13_ALERT_CERTIFICATE_REQUIRED",
    NO_APPLICATION_PROTOCOL: "TLSV1_ALERT_NO_APPLICATION_PROTOCOL",
}


def received_alert_reason(int description):
    return _RECEIVED_REASONS.get(description, "TLSV1_ALERT_UNKNOWN_%d" % description)


def alert_code(str name):
    """The description code of an alert named as in the RFC (``"unknown_ca"``)."""
    for code, known in ALERT_NAMES.items():
        if known == name:
            return code
    raise ValueError("unknown alert %r" % name)


class TLSError(Exception):
    """A TLS failure: ``alert`` (description code), ``reason`` (OpenSSL-style name), message.

    ``received`` is True when the peer sent the alert, False when we detected the
    failure (and owe the peer the alert). Certificate verification failures also carry
    OpenSSL's ``verify_code`` and ``verify_message``.
    """

    def __init__(self, int alert, str reason, str message, bint received=False,
                 verify_code=None, verify_message=None):
        super().__init__(message)
        self.alert = alert
        self.reason = reason
        self.message = message
        self.received = received
        self.verify_code = verify_code
        self.verify_message = verify_message

    @property
    def alert_name(self):
        return alert_name(self.alert)

    def __str__(self):
        return "[%s] %s (alert %s)" % (self.reason, self.message, alert_name(self.alert))


def decode_error(str message, str reason="BAD_PACKET_LENGTH"):
    """The error for input that does not parse: alert decode_error."""
    return TLSError(DECODE_ERROR, reason, message)
