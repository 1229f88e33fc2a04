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


class TLSError(Exception):
    """A TLS failure: ``alert`` (description code), ``reason`` (OpenSSL-style name), message.

    ``received`` is True when the peer sent the alert, False when we detected the
    failure (and owe the peer the alert).
    """

    def __init__(self, int alert, str reason, str message, bint received=False):
        super().__init__(message)
        self.alert = alert
        self.reason = reason
        self.message = message
        self.received = received

    @property
    def alert_name(self):
        return alert_name(self.alert)

    def __str__(self):
        return "[%s] %s (alert %s)" % (self.reason, self.message, alert_name(self.alert))


def decode_error(str message, str reason="BAD_PACKET_LENGTH"):
    """The error for input that does not parse: alert decode_error."""
    return TLSError(DECODE_ERROR, reason, message)
