"""Peer certificate checks shared by both roles: parse the chain, verify it when the
policy asks, and turn a verification failure into the alert and the OpenSSL verify
code the face reports. Chains that verified are remembered by the trust store
(crypto.verified_chains), so the same server's chain is not verified twice."""
from cyssl.crypto import certs
from cyssl.tls.config import VERIFY_NONE
from cyssl.tls.errors import TLSError, alert_code

BAD_CERTIFICATE = 42


def verify_peer_chain(config, chain, server_name, purpose):
    """(peer public key, verified chain as DER or []) for the DER ``chain`` the peer sent."""
    if config.verify_mode == VERIFY_NONE:
        return _public_key(_parse(chain)[0]), []
    store = config.trust_store
    name = server_name if (purpose == "server" and config.check_hostname) else None
    key = (tuple(chain), name, purpose, config.partial_chain, config.check_common_name)
    if store is not None:
        material = store._verification_material()
        known = material.verified.get(key)
        if known is not None:
            return known[0], list(known[1])
    certificates = _parse(chain)
    if store is None:
        raise TLSError(alert_code("unknown_ca"), "CERTIFICATE_VERIFY_FAILED",
                       "certificate verify failed: no trust anchors configured",
                       verify_code=20, verify_message="unable to get local issuer certificate")
    try:
        verified_certificates = certs.verify_chain(
            certificates[0], certificates[1:], store, server_name=name, purpose=purpose,
            partial_chain=config.partial_chain, check_common_name=config.check_common_name)
    except certs.CertificateError as err:
        raise TLSError(alert_code(err.alert), "CERTIFICATE_VERIFY_FAILED",
                       "certificate verify failed: %s" % err.verify_message,
                       verify_code=err.verify_code, verify_message=err.verify_message) from None
    result = (_public_key(certificates[0]), [certs.der_of(c) for c in verified_certificates])
    if store._verification_material() is material:   # verified against these anchors
        material.verified.put(key, result, verified_certificates)
    return result[0], list(result[1])


def _parse(chain):
    try:
        return [certs.load_der_certificate(der) for der in chain]
    except ValueError as err:
        raise TLSError(BAD_CERTIFICATE, "BAD_CERTIFICATE", "unparsable certificate: %s" % err) from None


def _public_key(leaf):
    try:
        return certs.public_key(leaf)
    except ValueError as err:
        raise TLSError(alert_code("unsupported_certificate"), "UNSUPPORTED_CERTIFICATE",
                       "certificate key cannot be used: %s" % err) from None
