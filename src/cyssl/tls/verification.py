"""Peer certificate checks shared by both roles: parse the chain, verify it when the
policy asks, and turn a verification failure into the alert and the OpenSSL verify
code the face reports."""
from cyssl.crypto import certs
from cyssl.tls.config import VERIFY_NONE
from cyssl.tls.errors import TLSError, alert_code

BAD_CERTIFICATE = 42


def verify_peer_chain(config, chain, server_name, purpose):
    """(peer public key, verified chain as DER or []) for the DER ``chain`` the peer sent."""
    try:
        leaf = certs.load_der_certificate(chain[0])
        intermediates = [certs.load_der_certificate(der) for der in chain[1:]]
    except ValueError as err:
        raise TLSError(BAD_CERTIFICATE, "BAD_CERTIFICATE", "unparsable certificate: %s" % err) from None
    verified = []
    if config.verify_mode != VERIFY_NONE:
        if config.trust_store is None:
            raise TLSError(alert_code("unknown_ca"), "CERTIFICATE_VERIFY_FAILED",
                           "certificate verify failed: no trust anchors configured",
                           verify_code=20, verify_message="unable to get local issuer certificate")
        try:
            verified_certificates = certs.verify_chain(
                leaf, intermediates, config.trust_store,
                server_name=server_name if (purpose == "server" and config.check_hostname) else None,
                purpose=purpose, partial_chain=config.partial_chain,
                check_common_name=config.check_common_name)
            verified = [certs.der_of(c) for c in verified_certificates]
        except certs.CertificateError as err:
            raise TLSError(alert_code(err.alert), "CERTIFICATE_VERIFY_FAILED",
                           "certificate verify failed: %s" % err.verify_message,
                           verify_code=err.verify_code, verify_message=err.verify_message) from None
    try:
        key = certs.public_key(leaf)
    except ValueError as err:
        raise TLSError(alert_code("unsupported_certificate"), "UNSUPPORTED_CERTIFICATE",
                       "certificate key cannot be used: %s" % err) from None
    return key, verified
