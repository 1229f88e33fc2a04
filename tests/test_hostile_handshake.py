"""Hostile handshakes: messages out of order, malformed, truncated or empty; duplicated,
misplaced and unsolicited extensions; only unknown versions, suites or groups; invalid
key shares; bad CertificateVerify and ServerKeyExchange signatures; wrong Finished;
renegotiation; downgrades; ALPN mismatches; empty and oversized certificate lists --
for cyssl as client and as server, over TLS 1.3 and TLS 1.2 (see hostile.py).

Each case names the alert RFC 8446 / RFC 5246 (and RFC 5746, 7301, 7627, 8422) asks
for; the target must send exactly that, fatal, and raise the ssl exception whose
reason is OpenSSL's name for the failure."""
import ssl

import pytest

from cyssl.crypto import signatures
from cyssl.tls.messages import (ClientHello, ServerHello, encode_encrypted_extensions, frame,
                                parse_encrypted_extensions)
from cyssl.tls.messages12 import (ecdhe_params, encode_server_key_exchange,
                                  parse_server_key_exchange)
from hostile import (CERTIFICATE, CERTIFICATE_REQUEST, CERTIFICATE_VERIFY, CLIENT_HELLO,
                     CLIENT_KEY_EXCHANGE, ENCRYPTED_EXTENSIONS, FINISHED, HANDSHAKE,
                     HELLO_REQUEST, KEY_UPDATE, NEW_SESSION_TICKET, SERVER_HELLO,
                     SERVER_HELLO_DONE, SERVER_KEY_EXCHANGE, Case, StdlibPeer, Target, World,
                     alert_sent, assert_peer_saw, cases_for, check, duel, expect_alert,
                     ping, run, run_measured)

X25519, SECP256R1 = 0x001D, 0x0017
EXT_SERVER_NAME, EXT_SUPPORTED_GROUPS, EXT_SIGNATURE_ALGORITHMS, EXT_ALPN = 0, 10, 13, 16
EXT_EC_POINT_FORMATS, EXT_EMS, EXT_SESSION_TICKET, EXT_PSK = 11, 23, 35, 41
EXT_EARLY_DATA, EXT_VERSIONS, EXT_OID_FILTERS, EXT_KEY_SHARE, EXT_RI = 42, 43, 48, 51, 0xFF01
MAC = ("alert", "bad_record_mac", "DECRYPTION_FAILED_OR_BAD_RECORD_MAC")
UNEXPECTED = ("alert", "unexpected_message", "UNEXPECTED_MESSAGE")
# A second plaintext hello after the keys changed is refused by the record layer.
UNEXPECTED_ANY = ("alert", "unexpected_message", ("UNEXPECTED_MESSAGE", "UNEXPECTED_RECORD"))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return World(tmp_path_factory.mktemp("hostile-handshake"))


# Edits of one handshake message -------------------------------------------------

def drop(peer, raw):
    """The message is not sent."""


def twice(peer, raw):
    peer.put(raw)
    peer.put(raw)


def extra(msg_type, body=b"", after=False):
    """Another message of our making before (or after) this one."""
    def act(peer, raw):
        if after:
            peer.put(raw)
        peer.put(frame(msg_type, body))
        if not after:
            peer.put(raw)
    return act


def held(stash):
    """Keep the message back; ``release`` sends it after the next one."""
    def act(peer, raw):
        stash.append(raw)
    return act


def release(stash):
    def act(peer, raw):
        peer.put(raw)
        for message in stash:
            peer.put(message)
        del stash[:]
    return act


def body(fn):
    """The message with its body replaced by fn(body)."""
    def act(peer, raw):
        peer.put(frame(raw[0], fn(bytes(raw[4:]))))
    return act


def flip_last(data):
    return data[:-1] + bytes([data[-1] ^ 1])


def hello_extensions(fn, **fields):
    """A ClientHello / ServerHello with its extension list replaced by fn(list) (and
    other fields set as given)."""
    def act(peer, raw):
        if raw[0] == CLIENT_HELLO:
            hello = ClientHello.parse(raw[4:])
            extensions = [(t, hello.extensions[t]) for t in hello.extension_order]
        else:
            hello = ServerHello.parse(raw[4:])
            extensions = list(hello.extensions.items())
        hello.extensions = fn(extensions)
        if isinstance(hello, ClientHello):
            hello.extension_order = [t for t, _ in hello.extensions]
        for name, value in fields.items():
            setattr(hello, name, value)
        peer.put(hello.encode())
    return act


def hello_fields(**fields):
    return hello_extensions(lambda extensions: extensions, **fields)


def add_extension(ext_type, data, first=False):
    def change(extensions):
        return [(ext_type, data)] + extensions if first else extensions + [(ext_type, data)]
    return change


def set_extension(ext_type, data):
    """Replace (or, with data None, remove) one extension, keeping the order."""
    def change(extensions):
        return [(t, data if t == ext_type else b) for t, b in extensions
                if not (t == ext_type and data is None)]
    return change


def duplicate(ext_type):
    def change(extensions):
        return extensions + [(t, b) for t, b in extensions if t == ext_type]
    return change


def ee_extensions(fn):
    def act(peer, raw):
        extensions = list(parse_encrypted_extensions(raw[4:]).items())
        peer.put(encode_encrypted_extensions(fn(extensions)))
    return act


def u16_list(*values):
    data = b"".join(v.to_bytes(2, "big") for v in values)
    return len(data).to_bytes(2, "big") + data


def versions_ext(*versions):
    data = b"".join(v.to_bytes(2, "big") for v in versions)
    return bytes([len(data)]) + data


def key_share(group, share, server=False):
    entry = group.to_bytes(2, "big") + len(share).to_bytes(2, "big") + share
    return entry if server else len(entry).to_bytes(2, "big") + entry


def alpn(*protocols):
    data = b"".join(bytes([len(p)]) + p for p in protocols)
    return len(data).to_bytes(2, "big") + data


def signing_key(peer):
    """The private key of the scripted peer's (one) certificate."""
    (_chain, key), = peer.config.credentials
    return key


def resigned_ske(change_public=None, scheme=None, swap_randoms=False, sign=True):
    """TLS 1.2 ServerKeyExchange with a new point / scheme, signed again with the
    server's key (so that only the change is wrong)."""
    def act(peer, raw):
        group, public, params, old_scheme, signature = parse_server_key_exchange(raw[4:])
        if change_public is not None:
            group, public = change_public(group, public)
            params = ecdhe_params(group, public)
        use = scheme or old_scheme
        randoms = peer.client_random + peer.handshake.server_random
        if swap_randoms:
            randoms = peer.handshake.server_random + peer.client_random
        if sign:
            signature = signatures.sign(signing_key(peer), old_scheme, randoms + params)
        peer.put(encode_server_key_exchange(params, use, signature))
    return act


def resigned_cv(from_server=None, scheme=None, corrupt=False):
    """A TLS 1.3 CertificateVerify signed again by the peer's key: with the other role's
    context string (``from_server`` None), another scheme announced, or corrupted."""
    def act(peer, raw):
        old_scheme = int.from_bytes(raw[4:6], "big")
        server = (not peer.server_side) if from_server is None else from_server
        data = signatures.certificate_verify_input(peer.handshake.transcript.digest(), server)
        signature = signatures.sign(signing_key(peer), old_scheme, data)
        if corrupt:
            signature = flip_last(signature)
        use = scheme or old_scheme
        peer.put(frame(CERTIFICATE_VERIFY, use.to_bytes(2, "big")
                       + len(signature).to_bytes(2, "big") + signature))
    return act


def cv_scheme(scheme):
    """The CertificateVerify announcing ``scheme`` over the same signature bytes."""
    return body(lambda data: scheme.to_bytes(2, "big") + data[2:])


# Settings: client certificates, ALPN, small groups -----------------------------------

def verifying_server(world, version):
    return world.context("server", verify="optional")


def requiring_server(world, version):
    return world.context("server", verify="required")


CLIENT_AUTH = {"server": {"cert": True, "context": verifying_server}}
_stash_a, _stash_b, _stash_c, _stash_d = [], [], [], []

ORDER_CASES = [
    # The cyssl client, a server sending its flight out of order (RFC 8446 4, RFC 5246 7.3).
    Case("encrypted-extensions-missing", ENCRYPTED_EXTENSIONS, drop, UNEXPECTED, combos="c13"),
    Case("certificate-missing", CERTIFICATE, drop, UNEXPECTED, combos="c13 c12"),
    Case("certificate-verify-missing", CERTIFICATE_VERIFY, drop, UNEXPECTED, combos="c13"),
    Case("server-key-exchange-missing", SERVER_KEY_EXCHANGE, drop, UNEXPECTED, combos="c12"),
    Case("encrypted-extensions-twice", ENCRYPTED_EXTENSIONS, twice, UNEXPECTED, combos="c13"),
    Case("certificate-twice", CERTIFICATE, twice, UNEXPECTED, combos="c13 c12"),
    Case("server-key-exchange-twice", SERVER_KEY_EXCHANGE, twice, UNEXPECTED, combos="c12"),
    Case("server-hello-done-twice", SERVER_HELLO_DONE, twice, UNEXPECTED, combos="c12"),
    Case("server-hello-twice", SERVER_HELLO, twice, UNEXPECTED_ANY, combos="c13 c12"),
    Case("certificate-verify-before-certificate", CERTIFICATE, held(_stash_a), UNEXPECTED,
         combos="c13"),
    Case("server-key-exchange-before-certificate", CERTIFICATE, held(_stash_b), UNEXPECTED,
         combos="c12"),
    Case("finished-right-after-encrypted-extensions", ENCRYPTED_EXTENSIONS,
         lambda peer, raw: (peer.put(raw), peer.edit(CERTIFICATE, drop),
                            peer.edit(CERTIFICATE_VERIFY, drop)), UNEXPECTED, combos="c13"),
    Case("certificate-request-after-certificate", CERTIFICATE,
         extra(CERTIFICATE_REQUEST, b"\x00\x00\x06\x00\x0d\x00\x02\x04\x03", after=True),
         UNEXPECTED, combos="c13"),
    Case("new-session-ticket-before-finished", FINISHED,
         extra(NEW_SESSION_TICKET, bytes(8) + b"\x00\x00\x01\x01\x00\x00"), UNEXPECTED,
         combos="c13 c12"),
    Case("key-update-before-finished", FINISHED, extra(KEY_UPDATE, b"\x00"), UNEXPECTED,
         combos="c13 s13"),
    Case("end-of-early-data", FINISHED, extra(5), UNEXPECTED, combos="c13 s13"),
    Case("encrypted-extensions-in-tls12", SERVER_HELLO_DONE, extra(ENCRYPTED_EXTENSIONS, b"\x00\x00"),
         UNEXPECTED, combos="c12"),
    Case("client-hello-to-a-client", SERVER_HELLO,
         lambda peer, raw: peer.put(frame(CLIENT_HELLO, raw[4:])), UNEXPECTED, combos="c13 c12"),
    Case("unknown-handshake-type", ENCRYPTED_EXTENSIONS, extra(99, b"??"), UNEXPECTED,
         combos="c13"),
    Case("unknown-handshake-type", SERVER_HELLO_DONE, extra(99, b"??"), UNEXPECTED, combos="c12"),
    Case("server-hello-done-missing", SERVER_HELLO_DONE, drop, ("eof",), combos="c12"),
    # The cyssl server, a client sending its flight out of order.
    Case("server-hello-to-a-server", CLIENT_HELLO,
         lambda peer, raw: peer.put(frame(SERVER_HELLO, raw[4:])), UNEXPECTED, combos="s13 s12"),
    Case("client-hello-twice", CLIENT_HELLO, twice, UNEXPECTED_ANY, combos="s13"),
    Case("client-hello-again-before-finished", FINISHED, extra(CLIENT_HELLO, b"\x03\x03"),
         UNEXPECTED, combos="s13 s12"),
    Case("unsolicited-certificate", FINISHED, extra(CERTIFICATE, b"\x00\x00\x00\x00"),
         UNEXPECTED, combos="s13"),
    Case("unsolicited-certificate", CLIENT_KEY_EXCHANGE, extra(CERTIFICATE, b"\x00\x00\x00"),
         UNEXPECTED, combos="s12"),
    Case("unsolicited-certificate-verify", FINISHED, extra(CERTIFICATE_VERIFY, b"\x04\x03\x00\x01\x00"),
         UNEXPECTED, combos="s13 s12"),
    Case("client-key-exchange-twice", CLIENT_KEY_EXCHANGE, twice, UNEXPECTED, combos="s12"),
    Case("client-key-exchange-missing", CLIENT_KEY_EXCHANGE, drop,
         ("alert", "unexpected_message", "UNEXPECTED_CCS_MESSAGE"), combos="s12"),
    Case("client-certificate-missing", CERTIFICATE, drop, UNEXPECTED, combos="s13 s12",
         settings=CLIENT_AUTH),
    Case("client-certificate-verify-missing", CERTIFICATE_VERIFY, drop,
         {"1.3": UNEXPECTED, "1.2": ("alert", "unexpected_message", "UNEXPECTED_CCS_MESSAGE")},
         combos="s13 s12", settings=CLIENT_AUTH),
    Case("client-certificate-twice", CERTIFICATE, twice, UNEXPECTED, combos="s13 s12",
         settings=CLIENT_AUTH),
    Case("unknown-handshake-type", FINISHED, extra(99, b"??"), UNEXPECTED, combos="s13 s12"),
    Case("hello-request-from-a-client", FINISHED, extra(HELLO_REQUEST), UNEXPECTED,
         combos="s13 s12"),
]


def _release_after(case_id, stash, msg_type):
    """The held message goes out after ``msg_type``."""
    for case in ORDER_CASES:
        if case.id == case_id:
            inner = case.act

            def act(peer, raw, inner=inner):
                peer.edit(msg_type, release(stash))
                inner(peer, raw)
            case.act = act


_release_after("certificate-verify-before-certificate", _stash_a, CERTIFICATE_VERIFY)
_release_after("server-key-exchange-before-certificate", _stash_b, SERVER_KEY_EXCHANGE)


def truncated(data):
    return data[:-1]


def lengthened(data):
    return data + b"\x00"


def message_cases():
    """Each message of each flight: cut by a byte, grown by a byte, or empty (RFC 8446
    4 / RFC 5246 7.4: a body that does not parse exactly is decode_error). Finished:
    see FINISHED_CASES."""
    flights = {
        "c13": [SERVER_HELLO, ENCRYPTED_EXTENSIONS, CERTIFICATE, CERTIFICATE_VERIFY,
                NEW_SESSION_TICKET],
        "c12": [SERVER_HELLO, CERTIFICATE, SERVER_KEY_EXCHANGE, NEW_SESSION_TICKET],
        "s13": [CLIENT_HELLO, CERTIFICATE, CERTIFICATE_VERIFY],
        "s12": [CLIENT_HELLO, CERTIFICATE, CLIENT_KEY_EXCHANGE, CERTIFICATE_VERIFY],
    }
    names = {SERVER_HELLO: "server-hello", ENCRYPTED_EXTENSIONS: "encrypted-extensions",
             CERTIFICATE: "certificate", CERTIFICATE_VERIFY: "certificate-verify",
             FINISHED: "finished", SERVER_KEY_EXCHANGE: "server-key-exchange",
             NEW_SESSION_TICKET: "new-session-ticket", CLIENT_HELLO: "client-hello",
             CLIENT_KEY_EXCHANGE: "client-key-exchange"}
    cases = []
    for combo, flight in flights.items():
        for msg_type in flight:
            settings = CLIENT_AUTH if combo[0] == "s" and msg_type in (CERTIFICATE,
                                                                       CERTIFICATE_VERIFY) else None
            for how, fn in (("cut-by-one-byte", truncated), ("grown-by-one-byte", lengthened),
                            ("empty", lambda data: b"")):
                cases.append(Case("%s-%s" % (names[msg_type], how), msg_type, body(fn),
                                  ("alert", "decode_error"), combos=combo, settings=settings))
    cases.append(Case("server-hello-done-with-a-body", SERVER_HELLO_DONE, body(lengthened),
                      ("alert", "decode_error", "LENGTH_MISMATCH"), combos="c12"))
    return cases


MESSAGE_CASES = message_cases()

EXTENSION_CASES = [
    # RFC 8446 4.2: no duplicates (illegal_parameter in cyssl and OpenSSL); an extension
    # recognised but not allowed in this message: illegal_parameter; a response to an
    # extension never offered: unsupported_extension. RFC 5246 7.4.1.4 likewise.
    Case("duplicate-extension-in-server-hello", SERVER_HELLO,
         hello_extensions(duplicate(EXT_KEY_SHARE)),
         ("alert", "illegal_parameter", "DUPLICATE_EXTENSION"), combos="c13"),
    Case("duplicate-extension-in-server-hello", SERVER_HELLO, hello_extensions(duplicate(EXT_RI)),
         ("alert", "illegal_parameter", "DUPLICATE_EXTENSION"), combos="c12"),
    Case("duplicate-extension-in-encrypted-extensions", ENCRYPTED_EXTENSIONS,
         ee_extensions(duplicate(EXT_SERVER_NAME)),
         ("alert", "illegal_parameter", "DUPLICATE_EXTENSION"), combos="c13"),
    Case("duplicate-extension-in-client-hello", CLIENT_HELLO,
         hello_extensions(duplicate(EXT_SUPPORTED_GROUPS)),
         ("alert", "illegal_parameter", "DUPLICATE_EXTENSION"), combos="s13 s12"),
    Case("key-share-in-encrypted-extensions", ENCRYPTED_EXTENSIONS,
         ee_extensions(add_extension(EXT_KEY_SHARE, key_share(X25519, bytes(32), True))),
         ("alert", "illegal_parameter", "UNSOLICITED_EXTENSION"), combos="c13"),
    Case("supported-versions-in-encrypted-extensions", ENCRYPTED_EXTENSIONS,
         ee_extensions(add_extension(EXT_VERSIONS, b"\x03\x04")),
         ("alert", "illegal_parameter", "UNSOLICITED_EXTENSION"), combos="c13"),
    Case("pre-shared-key-in-encrypted-extensions", ENCRYPTED_EXTENSIONS,
         ee_extensions(add_extension(EXT_PSK, b"\x00\x00")),
         ("alert", "illegal_parameter", "UNSOLICITED_EXTENSION"), combos="c13"),
    Case("alpn-in-server-hello", SERVER_HELLO, hello_extensions(add_extension(EXT_ALPN, alpn(b"h2"))),
         ("alert", "illegal_parameter", "UNSOLICITED_EXTENSION"), combos="c13"),
    Case("server-name-in-server-hello", SERVER_HELLO, hello_extensions(add_extension(EXT_SERVER_NAME, b"")),
         ("alert", "illegal_parameter", "UNSOLICITED_EXTENSION"), combos="c13"),
    Case("key-share-in-tls12-server-hello", SERVER_HELLO,
         hello_extensions(add_extension(EXT_KEY_SHARE, key_share(X25519, bytes(32), True))),
         ("alert", "illegal_parameter", "UNSOLICITED_EXTENSION"), combos="c12"),
    Case("oid-filters-in-client-hello", CLIENT_HELLO,
         hello_extensions(add_extension(EXT_OID_FILTERS, b"\x00\x00", first=True)),
         ("alert", "illegal_parameter", "UNSOLICITED_EXTENSION"), combos="s13"),
    Case("pre-shared-key-not-last", CLIENT_HELLO,
         hello_extensions(add_extension(EXT_PSK, b"\x00\x00\x00\x00", first=True)),
         ("alert", "illegal_parameter"), combos="s13"),
    Case("unsolicited-early-data", ENCRYPTED_EXTENSIONS, ee_extensions(add_extension(EXT_EARLY_DATA, b"")),
         ("alert", "unsupported_extension", "UNSOLICITED_EXTENSION"), combos="c13"),
    Case("unsolicited-alpn", ENCRYPTED_EXTENSIONS, ee_extensions(add_extension(EXT_ALPN, alpn(b"h2"))),
         ("alert", "unsupported_extension", "UNSOLICITED_EXTENSION"), combos="c13"),
    Case("unsolicited-alpn", SERVER_HELLO, hello_extensions(add_extension(EXT_ALPN, alpn(b"h2"))),
         ("alert", "unsupported_extension", "UNSOLICITED_EXTENSION"), combos="c12"),
    Case("unsolicited-unknown-extension", ENCRYPTED_EXTENSIONS, ee_extensions(add_extension(0x1234, b"")),
         ("alert", "unsupported_extension", "UNSOLICITED_EXTENSION"), combos="c13"),
    Case("unsolicited-unknown-extension", SERVER_HELLO, hello_extensions(add_extension(0x1234, b"")),
         ("alert", "unsupported_extension", "UNSOLICITED_EXTENSION"), combos="c13 c12"),
    Case("unsolicited-certificate-entry-extension", CERTIFICATE,
         body(lambda data: data[:1] + (int.from_bytes(data[1:4], "big") + 5).to_bytes(3, "big")
              + data[4:-2] + b"\x00\x05\x00\x05\x00\x01\x01"),
         ("alert", "unsupported_extension"), combos="c13"),
    Case("duplicate-certificate-entry-extension", CERTIFICATE,
         body(lambda data: data[:1] + (int.from_bytes(data[1:4], "big") + 8).to_bytes(3, "big")
              + data[4:-2] + b"\x00\x08\x12\x34\x00\x00\x12\x34\x00\x00"),
         ("alert", "illegal_parameter", "DUPLICATE_EXTENSION"), combos="c13"),
    # RFC 5746 and RFC 7627 in TLS 1.2 hellos.
    Case("renegotiation-info-missing", SERVER_HELLO, hello_extensions(set_extension(EXT_RI, None)),
         ("alert", "handshake_failure", "UNSAFE_LEGACY_RENEGOTIATION_DISABLED"), combos="c12"),
    Case("renegotiation-info-not-empty", SERVER_HELLO,
         hello_extensions(set_extension(EXT_RI, b"\x0c" + bytes(12))),
         ("alert", "handshake_failure", "RENEGOTIATION_MISMATCH"), combos="c12"),
    Case("renegotiation-info-not-empty", CLIENT_HELLO,
         hello_extensions(set_extension(EXT_RI, b"\x0c" + bytes(12))),
         ("alert", "handshake_failure", "RENEGOTIATION_MISMATCH"), combos="s12"),
    Case("renegotiation-info-and-scsv-missing", CLIENT_HELLO,
         hello_extensions(set_extension(EXT_RI, None)),
         ("alert", "handshake_failure", "UNSAFE_LEGACY_RENEGOTIATION_DISABLED"), combos="s12"),
    Case("extended-master-secret-missing", SERVER_HELLO, hello_extensions(set_extension(EXT_EMS, None)),
         ("alert", "handshake_failure", "INCONSISTENT_EXTMS"), combos="c12"),
    Case("extended-master-secret-missing", CLIENT_HELLO, hello_extensions(set_extension(EXT_EMS, None)),
         ("alert", "handshake_failure", "INCONSISTENT_EXTMS"), combos="s12"),
    Case("extended-master-secret-not-empty", SERVER_HELLO,
         hello_extensions(set_extension(EXT_EMS, b"\x00")),
         ("alert", "decode_error", "BAD_EXTENSION"), combos="c12"),
    Case("extended-master-secret-not-empty", CLIENT_HELLO,
         hello_extensions(set_extension(EXT_EMS, b"\x00")),
         ("alert", "decode_error", "BAD_EXTENSION"), combos="s12"),
    Case("point-formats-without-uncompressed", SERVER_HELLO,
         hello_extensions(set_extension(EXT_EC_POINT_FORMATS, b"\x01\x01")),
         ("alert", "illegal_parameter"), combos="c12"),
    Case("point-formats-without-uncompressed", CLIENT_HELLO,
         hello_extensions(set_extension(EXT_EC_POINT_FORMATS, b"\x01\x01")),
         ("alert", "illegal_parameter"), combos="s12"),
]


NEGOTIATION_CASES = [
    # The server picks what was never offered (RFC 8446 4.1.3, 4.2.1; RFC 5246 7.4.1.3).
    Case("server-picks-unknown-version", SERVER_HELLO,
         hello_extensions(set_extension(EXT_VERSIONS, b"\x03\x05")),
         ("alert", "illegal_parameter", "BAD_PROTOCOL_VERSION_NUMBER"), combos="c13"),
    Case("server-picks-a-draft-version", SERVER_HELLO,
         hello_extensions(set_extension(EXT_VERSIONS, b"\x7f\x1c")),
         ("alert", "illegal_parameter", "BAD_PROTOCOL_VERSION_NUMBER"), combos="c13"),
    Case("server-picks-tls11", SERVER_HELLO, hello_fields(legacy_version=0x0302),
         ("alert", "protocol_version", "UNSUPPORTED_PROTOCOL"), combos="c12"),
    Case("server-picks-ssl3", SERVER_HELLO, hello_fields(legacy_version=0x0300),
         ("alert", "protocol_version", "UNSUPPORTED_PROTOCOL"), combos="c12"),
    Case("server-picks-unknown-suite", SERVER_HELLO, hello_fields(cipher_suite=0x1399),
         ("alert", "illegal_parameter", "WRONG_CIPHER_RETURNED"), combos="c13 c12"),
    Case("server-picks-cbc-suite", SERVER_HELLO, hello_fields(cipher_suite=0xC013),
         ("alert", "illegal_parameter", "WRONG_CIPHER_RETURNED"), combos="c12"),
    Case("server-picks-unknown-group", SERVER_HELLO,
         hello_extensions(set_extension(EXT_KEY_SHARE, key_share(0x1234, bytes(32), True))),
         ("alert", "illegal_parameter", "BAD_KEY_SHARE"), combos="c13"),
    Case("server-picks-unoffered-group", SERVER_KEY_EXCHANGE,
         resigned_ske(lambda group, public: (0x0018, b"\x04" + bytes(96))),
         ("alert", "illegal_parameter", "WRONG_CURVE"), combos="c12"),
    # The client offers only what the server does not know (RFC 8446 4.1.1: handshake_failure
    # for no common parameters, protocol_version for no common version).
    Case("only-unknown-versions", CLIENT_HELLO,
         hello_extensions(set_extension(EXT_VERSIONS, versions_ext(0x0305, 0x7f1c, 0x0302))),
         ("alert", "protocol_version", "UNSUPPORTED_PROTOCOL"), combos="s13"),
    Case("only-older-versions", CLIENT_HELLO,
         hello_extensions(set_extension(EXT_VERSIONS, None), legacy_version=0x0302),
         ("alert", "protocol_version", "UNSUPPORTED_PROTOCOL"), combos="s12"),
    Case("only-unknown-suites", CLIENT_HELLO, hello_fields(cipher_suites=[0x1399, 0xC0FF, 0x0005]),
         ("alert", "handshake_failure", "NO_SHARED_CIPHER"), combos="s13 s12"),
    Case("only-unknown-groups", CLIENT_HELLO,
         hello_extensions(lambda e: set_extension(EXT_KEY_SHARE, key_share(0x1234, bytes(32)))(
             set_extension(EXT_SUPPORTED_GROUPS, u16_list(0x1234, 0x0019))(e))),
         ("alert", "handshake_failure"), combos="s13"),
    # Our P-256 certificate is then unusable too (RFC 8422 section 4): the suite choice
    # fails first, as in OpenSSL ("no shared cipher").
    Case("only-unknown-groups", CLIENT_HELLO,
         hello_extensions(set_extension(EXT_SUPPORTED_GROUPS, u16_list(0x1234, 0x0019))),
         ("alert", "handshake_failure", "NO_SHARED_CIPHER"), combos="s12"),
    # None we know (rsa_pkcs1_sha1 is refused): OpenSSL's reason, checked against it in
    # test_api_certificates_per_key_type.py.
    Case("only-unknown-signature-schemes", CLIENT_HELLO,
         hello_extensions(set_extension(EXT_SIGNATURE_ALGORITHMS, u16_list(0x0999, 0x0201))),
         ("alert", "handshake_failure", "NO_SHARED_SIGNATURE_ALGORITHMS"), combos="s13 s12"),
]

INVALID_POINT = b"\x04" + bytes(31) + b"\x01" + bytes(31) + b"\x01"    # not on P-256
KEY_SHARE_CASES = [
    # RFC 8446 4.2.8.2 / RFC 8422 5.11: peers validate each other's shares.
    Case("x25519-share-all-zero", SERVER_HELLO,
         hello_extensions(set_extension(EXT_KEY_SHARE, key_share(X25519, bytes(32), True))),
         ("alert", "illegal_parameter", "BAD_KEY_SHARE"), combos="c13"),
    Case("x25519-share-short", SERVER_HELLO,
         hello_extensions(set_extension(EXT_KEY_SHARE, key_share(X25519, bytes(30) + b"\x09", True))),
         ("alert", "illegal_parameter", "BAD_KEY_SHARE"), combos="c13"),
    Case("x25519-share-all-zero", CLIENT_HELLO,
         hello_extensions(set_extension(EXT_KEY_SHARE, key_share(X25519, bytes(32)))),
         ("alert", "illegal_parameter", "BAD_KEY_SHARE"), combos="s13"),
    Case("p256-point-off-the-curve", CLIENT_HELLO,
         hello_extensions(lambda e: set_extension(EXT_KEY_SHARE, key_share(SECP256R1, INVALID_POINT))(
             set_extension(EXT_SUPPORTED_GROUPS, u16_list(SECP256R1))(e))),
         ("alert", "illegal_parameter", "BAD_KEY_SHARE"), combos="s13"),
    Case("p256-point-compressed", CLIENT_HELLO,
         hello_extensions(lambda e: set_extension(EXT_KEY_SHARE, key_share(SECP256R1, b"\x02" + bytes(31) + b"\x01"))(
             set_extension(EXT_SUPPORTED_GROUPS, u16_list(SECP256R1))(e))),
         ("alert", "illegal_parameter", "BAD_KEY_SHARE"), combos="s13"),
    Case("p256-point-at-infinity", CLIENT_HELLO,
         hello_extensions(lambda e: set_extension(EXT_KEY_SHARE, key_share(SECP256R1, b"\x00"))(
             set_extension(EXT_SUPPORTED_GROUPS, u16_list(SECP256R1))(e))),
         ("alert", "illegal_parameter", "BAD_KEY_SHARE"), combos="s13"),
    Case("x25519-point-all-zero", SERVER_KEY_EXCHANGE,
         resigned_ske(lambda group, public: (X25519, bytes(32))),
         ("alert", "illegal_parameter", "BAD_ECPOINT"), combos="c12"),
    Case("p256-point-off-the-curve", SERVER_KEY_EXCHANGE,
         resigned_ske(lambda group, public: (SECP256R1, INVALID_POINT)),
         ("alert", "illegal_parameter", "BAD_ECPOINT"), combos="c12",
         settings={"client": {"context": lambda world, version: world.context("client", small=False)}}),
    Case("x25519-point-all-zero", CLIENT_KEY_EXCHANGE, body(lambda data: b"\x20" + bytes(32)),
         ("alert", "illegal_parameter", "BAD_ECPOINT"), combos="s12"),
    Case("x25519-point-short", CLIENT_KEY_EXCHANGE, body(lambda data: b"\x1f" + bytes(30) + b"\x09"),
         ("alert", "illegal_parameter", "BAD_ECPOINT"), combos="s12"),
    Case("point-empty", CLIENT_KEY_EXCHANGE, body(lambda data: b"\x00"),
         ("alert", "decode_error"), combos="s12"),
]

SIGNATURE_CASES = [
    # RFC 8446 4.4.3: a CertificateVerify that does not verify is decrypt_error; a scheme
    # not offered, not fit for the key or not allowed in TLS 1.3 is illegal_parameter.
    # RFC 5246 7.4.3 / RFC 8422 5.4: the same for ServerKeyExchange.
    Case("certificate-verify-signature-flipped", CERTIFICATE_VERIFY, body(flip_last),
         ("alert", "decrypt_error", "BAD_SIGNATURE"), combos="c13 s13 s12", settings=CLIENT_AUTH),
    Case("certificate-verify-by-the-other-role", CERTIFICATE_VERIFY, resigned_cv(from_server=None),
         ("alert", "decrypt_error", "BAD_SIGNATURE"), combos="c13 s13", settings=CLIENT_AUTH),
    Case("certificate-verify-scheme-not-offered", CERTIFICATE_VERIFY, cv_scheme(0x0203),
         ("alert", "illegal_parameter", "WRONG_SIGNATURE_TYPE"), combos="c13 s13 s12",
         settings=CLIENT_AUTH),
    Case("certificate-verify-scheme-of-another-key-type", CERTIFICATE_VERIFY, cv_scheme(0x0807),
         ("alert", "illegal_parameter", "WRONG_SIGNATURE_TYPE"), combos="c13 s13 s12",
         settings=CLIENT_AUTH),
    Case("certificate-verify-rsa-pkcs1-in-tls13", CERTIFICATE_VERIFY, cv_scheme(0x0401),
         ("alert", "illegal_parameter", "WRONG_SIGNATURE_TYPE"), combos="c13 s13",
         settings=CLIENT_AUTH),
    Case("certificate-verify-empty-signature", CERTIFICATE_VERIFY,
         body(lambda data: data[:2] + b"\x00\x00"), ("alert", "decode_error"),
         combos="c13 s13 s12", settings=CLIENT_AUTH),
    Case("server-key-exchange-signature-flipped", SERVER_KEY_EXCHANGE, body(flip_last),
         ("alert", "decrypt_error", "BAD_SIGNATURE"), combos="c12"),
    Case("server-key-exchange-point-changed-after-signing", SERVER_KEY_EXCHANGE,
         resigned_ske(lambda group, public: (group, flip_last(public)), sign=False),
         ("alert", "decrypt_error", "BAD_SIGNATURE"), combos="c12"),
    Case("server-key-exchange-over-swapped-randoms", SERVER_KEY_EXCHANGE,
         resigned_ske(swap_randoms=True), ("alert", "decrypt_error", "BAD_SIGNATURE"),
         combos="c12"),
    Case("server-key-exchange-scheme-not-offered", SERVER_KEY_EXCHANGE, resigned_ske(scheme=0x0203),
         ("alert", "illegal_parameter", "WRONG_SIGNATURE_TYPE"), combos="c12"),
    Case("server-key-exchange-scheme-of-another-key-type", SERVER_KEY_EXCHANGE,
         resigned_ske(scheme=0x0804), ("alert", "illegal_parameter", "WRONG_SIGNATURE_TYPE"),
         combos="c12"),
]

FINISHED_CASES = [
    # RFC 8446 4.4.4 / RFC 5246 7.4.9: a Finished that does not verify is decrypt_error; one
    # of the wrong length does not decode (decode_error, as OpenSSL sends).
    Case("finished-flipped", FINISHED, body(flip_last),
         ("alert", "decrypt_error", "DIGEST_CHECK_FAILED")),
    Case("finished-all-zero", FINISHED, body(lambda data: bytes(len(data))),
         ("alert", "decrypt_error", "DIGEST_CHECK_FAILED")),
    Case("finished-one-byte-short", FINISHED, body(truncated), ("alert", "decode_error")),
    Case("finished-one-byte-long", FINISHED, body(lengthened), ("alert", "decode_error")),
    Case("finished-empty", FINISHED, body(lambda data: b""), ("alert", "decode_error")),
]


def hello_request(body=b""):
    return lambda peer: (peer.put_message(HELLO_REQUEST, body), ping(peer))


def client_hello_again(peer):
    peer.put_message(CLIENT_HELLO, peer.sent_messages[0][4:])
    ping(peer)


RENEGOTIATION_CASES = [
    # RFC 5746 / RFC 5246 7.4.1.1: cyssl never renegotiates; in TLS 1.2 it refuses with a
    # no_renegotiation warning and the connection goes on (checked below); TLS 1.3 has no
    # renegotiation: a HelloRequest or a second ClientHello is unexpected_message.
    Case("hello-request-after-the-handshake", None, hello_request(), UNEXPECTED, combos="c13"),
    Case("client-hello-after-the-handshake", None, client_hello_again, UNEXPECTED, combos="s13"),
    Case("hello-request-with-a-body", None, hello_request(b"\x00"),
         ("alert", "decode_error"), combos="c12"),
    # A HelloRequest while a handshake is under way "will be ignored" (RFC 5246 7.4.1.1).
    Case("hello-request-during-the-handshake", CERTIFICATE, extra(HELLO_REQUEST), ("ok",),
         combos="c12"),
]


@pytest.mark.parametrize("role", ["client", "server"])
def test_tls12_renegotiation_is_refused_with_a_warning_and_the_connection_goes_on(world, role):
    def renegotiate(peer):
        if role == "client":
            peer.put_message(HELLO_REQUEST, b"")
        else:
            peer.put_message(CLIENT_HELLO, peer.sent_messages[0][4:])
    target, peer = duel(world, role, "1.2")
    outcome = run(target, peer, after_handshake=renegotiate, eof=False)
    assert outcome.error is None and outcome.completed, outcome
    assert alert_sent(target, outcome.last_sent) == (1, 100)       # warning no_renegotiation
    target.obj.write(b"still here")
    peer.receive(target.outgoing.read())
    assert peer.read() == b"still here" and peer.error is None
    peer.send(b"and here")
    target.incoming.write(peer.outgoing())
    assert target.obj.read() == b"and here"


def strip_tls13(data):
    """A man in the middle rewriting the first ClientHello to offer TLS 1.2 only."""
    if data[0] != HANDSHAKE or data[5] != CLIENT_HELLO:
        return data
    length = int.from_bytes(data[3:5], "big")
    hello = ClientHello.parse(data[9:5 + length])
    hello.extensions = [(t, versions_ext(0x0303) if t == EXT_VERSIONS else hello.extensions[t])
                        for t in hello.extension_order]
    message = hello.encode()
    return bytes([HANDSHAKE, 3, 1]) + len(message).to_bytes(2, "big") + message + data[5 + length:]


def reorder_suites(data):
    """A man in the middle putting the client's least preferred suite first."""
    if data[0] != HANDSHAKE or data[5] != CLIENT_HELLO:
        return data
    length = int.from_bytes(data[3:5], "big")
    hello = ClientHello.parse(data[9:5 + length])
    hello.extensions = [(t, hello.extensions[t]) for t in hello.extension_order]
    hello.cipher_suites = hello.cipher_suites[::-1]
    message = hello.encode()
    return data[:3] + len(message).to_bytes(2, "big") + message + data[5 + length:]


def sentinel(tail):
    def act(peer, raw):
        hello = ServerHello.parse(raw[4:])
        hello.random = hello.random[:24] + tail
        hello.extensions = list(hello.extensions.items())
        peer.put(hello.encode())
    return act


DOWNGRADE_CASES = [
    # RFC 8446 4.1.3: a TLS 1.3 client seeing a downgrade sentinel aborts (illegal_parameter).
    Case("tls12-downgrade-sentinel", SERVER_HELLO, sentinel(b"DOWNGRD\x01"),
         ("alert", "illegal_parameter", "TLS13_DOWNGRADE"), combos="c12"),
    Case("tls11-downgrade-sentinel", SERVER_HELLO, sentinel(b"DOWNGRD\x00"),
         ("alert", "illegal_parameter", "TLS13_DOWNGRADE"), combos="c12"),
    # RFC 7507: a client falling back (SCSV) to a server that speaks higher.
    Case("fallback-scsv", CLIENT_HELLO,
         lambda peer, raw: hello_fields(cipher_suites=ClientHello.parse(raw[4:]).cipher_suites
                                        + [0x5600])(peer, raw),
         ("alert", "inappropriate_fallback", "INAPPROPRIATE_FALLBACK"), combos="s12"),
]


def mitm_case(id, mitm, expected, combos, settings=None):
    case = Case(id, None, ping, expected, combos=combos, settings=settings, mitm=mitm)
    return case


MITM_CASES = [
    # A man in the middle strips TLS 1.3 from the cyssl client's hello: the TLS 1.3-capable
    # server answers TLS 1.2 with the sentinel, which the client catches.
    mitm_case("mitm-strips-tls13", strip_tls13, ("alert", "illegal_parameter", "TLS13_DOWNGRADE"),
              "c13", settings={"client": {"versions": [0x0304, 0x0303]}}),
    # ... or reorders the offered suites: the transcript differs, so the keys do.
    mitm_case("mitm-reorders-suites", reorder_suites,
              {"1.3": MAC, "1.2": ("received", "bad_record_mac")}, "c13 c12"),
    # The same men in the middle in front of the cyssl server (the client keeps its own
    # view of its hello): the server's sentinel lets the client catch the downgrade, and
    # the transcripts differ, so the client's Finished fails at the server.
    Case("mitm-strips-tls13", CLIENT_HELLO,
         hello_extensions(set_extension(EXT_VERSIONS, versions_ext(0x0303))),
         ("received", "illegal_parameter"), combos="s13",
         settings={"server": {"versions": [0x0304, 0x0303]}}),
    Case("mitm-reorders-suites", CLIENT_HELLO,
         lambda peer, raw: hello_fields(
             cipher_suites=ClientHello.parse(raw[4:]).cipher_suites[::-1])(peer, raw),
         MAC, combos="s13 s12", settings={"server": {"tls13_suites": [0x1301, 0x1302, 0x1303],
                                                     "tls12_suites": [0xC02B, 0xC02C, 0xCCA9]}}),
]

ALPN_CASES = [
    # RFC 7301 3.2: no protocol in common is no_application_protocol; a protocol the client
    # did not offer, or more than one, is illegal_parameter.
    Case("no-common-alpn-protocol", None, ping,
         ("alert", "no_application_protocol", "NO_APPLICATION_PROTOCOL"), roles=("server",),
         settings={"server": {"alpn_protocols": [b"http/1.1"],
                              "context": lambda world, version: world.context("server", alpn=["h2"])}}),
    Case("server-picks-an-unoffered-protocol", ENCRYPTED_EXTENSIONS,
         ee_extensions(add_extension(EXT_ALPN, alpn(b"h3"))),
         ("alert", "illegal_parameter", "INVALID_ALPN_PROTOCOL"), combos="c13",
         settings={"client": {"context": lambda world, version: world.context("client", alpn=["h2"])}}),
    Case("server-picks-an-unoffered-protocol", SERVER_HELLO,
         hello_extensions(add_extension(EXT_ALPN, alpn(b"h3"))),
         ("alert", "illegal_parameter", "INVALID_ALPN_PROTOCOL"), combos="c12",
         settings={"client": {"context": lambda world, version: world.context("client", alpn=["h2"])}}),
    Case("server-picks-two-protocols", ENCRYPTED_EXTENSIONS,
         ee_extensions(add_extension(EXT_ALPN, alpn(b"h2", b"h2"))),
         ("alert", "illegal_parameter", "INVALID_ALPN_PROTOCOL"), combos="c13",
         settings={"client": {"context": lambda world, version: world.context("client", alpn=["h2"])}}),
    Case("server-picks-an-empty-protocol-name", ENCRYPTED_EXTENSIONS,
         ee_extensions(add_extension(EXT_ALPN, b"\x00\x01\x00")), ("alert", "decode_error"),
         combos="c13",
         settings={"client": {"context": lambda world, version: world.context("client", alpn=["h2"])}}),
]


def certificate_list(fn):
    """A Certificate whose list is replaced by fn(list of DER) (TLS 1.3 or 1.2 framing)."""
    def act(peer, raw):
        data = raw[4:]
        tls13 = peer.version == 0x0304
        context = data[:1 + data[0]] if tls13 else b""
        rest = data[len(context) + 3:]
        chain = []
        while rest:
            size = int.from_bytes(rest[:3], "big")
            chain.append(rest[3:3 + size])
            rest = rest[3 + size + (2 + int.from_bytes(rest[3 + size:5 + size], "big") if tls13 else 0):]
        entries = b"".join(len(d).to_bytes(3, "big") + d + (b"\x00\x00" if tls13 else b"")
                           for d in fn(chain))
        peer.put(frame(CERTIFICATE, context + len(entries).to_bytes(3, "big") + entries))
    return act


def list_length_claims(value):
    """The certificate_list length field says ``value`` whatever follows."""
    def act(peer, raw):
        data = bytearray(raw[4:])
        at = 1 + data[0] if peer.version == 0x0304 else 0
        data[at:at + 3] = value.to_bytes(3, "big")
        peer.put(frame(CERTIFICATE, bytes(data)))
    return act


TICKET_CASES = [
    # RFC 8446 4.6.1: opaque ticket<1..2^16-1>; the message must parse exactly.
    Case("new-session-ticket-with-an-empty-ticket", NEW_SESSION_TICKET,
         body(lambda data: data[:9 + data[8]] + b"\x00\x00\x00\x00"), ("alert", "decode_error"),
         combos="c13"),
]

CERTIFICATE_LIST_CASES = [
    # RFC 8446 4.4.2.4: a server's empty Certificate is decode_error; a client's, when one is
    # required, certificate_required (TLS 1.3) or handshake_failure (RFC 5246 7.4.6; what
    # OpenSSL sends).
    Case("empty-certificate-list", CERTIFICATE, certificate_list(lambda chain: []),
         ("alert", "decode_error", "PEER_DID_NOT_RETURN_A_CERTIFICATE"), roles=("client",)),
    Case("empty-certificate-list-when-required", None, ping,
         {"1.3": ("alert", "certificate_required", "PEER_DID_NOT_RETURN_A_CERTIFICATE"),
          "1.2": ("alert", "handshake_failure", "PEER_DID_NOT_RETURN_A_CERTIFICATE")},
         roles=("server",), settings={"server": {"context": requiring_server}}),
    Case("empty-certificate-list-when-optional", None, ping, ("ok",), roles=("server",),
         settings={"server": {"context": verifying_server}}),
    Case("certificate-list-length-2^24-1", CERTIFICATE, list_length_claims(0xFFFFFF),
         ("alert", "decode_error"), settings=CLIENT_AUTH),
    Case("certificate-list-length-short-by-one", CERTIFICATE,
         lambda peer, raw: list_length_claims(
             int.from_bytes(raw[4 + (1 + raw[4] if peer.version == 0x0304 else 0):][:3], "big") - 1
         )(peer, raw),
         ("alert", "decode_error"), settings=CLIENT_AUTH),
    Case("empty-certificate-entry", CERTIFICATE, certificate_list(lambda chain: [b""] + chain),
         ("alert", "decode_error"), settings=CLIENT_AUTH),
    Case("unparsable-certificate", CERTIFICATE,
         certificate_list(lambda chain: [b"\x30\x03\x02\x01\x00"] + chain[1:]),
         ("alert", "bad_certificate", "BAD_CERTIFICATE"), settings=CLIENT_AUTH),
]


def refuse_in_plaintext(peer, raw):
    """The client gives up on the server's flight with a plaintext fatal alert, as a
    client that could not process the ServerHello does (it has no keys yet)."""
    peer.put_wire(bytes([21, 3, 3, 0, 2, 2, 47]))
    peer.tamper = lambda data: data[:7]


PEER_ALERT_CASES = [
    # OpenSSL accepts plaintext alerts from a TLS 1.3 client until its first protected
    # record, and reports the client's alert (ENC_READ_STATE_ALLOW_PLAIN_ALERTS).
    Case("client-refuses-the-server-hello-in-plaintext", "ccs", refuse_in_plaintext,
         ("received", "illegal_parameter"), combos="s13"),
    Case("client-refuses-the-server-hello-in-plaintext", SERVER_HELLO_DONE,
         lambda peer, raw: peer.put_wire(bytes([21, 3, 3, 0, 2, 2, 47])),
         ("received", "illegal_parameter"), combos="c12"),
]

ALL_CASES = (ORDER_CASES + MESSAGE_CASES + EXTENSION_CASES + NEGOTIATION_CASES + KEY_SHARE_CASES
             + SIGNATURE_CASES + FINISHED_CASES + RENEGOTIATION_CASES + DOWNGRADE_CASES
             + MITM_CASES + ALPN_CASES + CERTIFICATE_LIST_CASES + PEER_ALERT_CASES
             + TICKET_CASES)


@pytest.mark.parametrize("case, role, version", cases_for(ALL_CASES))
def test_hostile_handshake(world, case, role, version):
    check(case.play(world, role, version), case.expectation(role, version))


@pytest.mark.parametrize("version", ["1.3", "1.2"], ids=["tls1.3", "tls1.2"])
@pytest.mark.parametrize("role", ["client", "server"])
def test_certificate_message_of_2_24_bytes_is_refused_without_buffering(world, role, version):
    """A Certificate announcing 2^24-1 bytes: decode_error on the header, well under 1 MiB."""
    def announce(peer, raw):
        peer.put(bytes([CERTIFICATE]) + b"\xff\xff\xff" + raw[4:] + bytes(48 * 1024),
                 fragment=16384)
    settings = {"cert": True} if role == "server" else {}
    context = world.context("server", verify="optional") if role == "server" else None
    target, peer = duel(world, role, version, lambda p: p.edit(CERTIFICATE, announce),
                        peer_settings=settings, context=context)
    outcome, peak = run_measured(target, peer, after_handshake=ping)
    expect_alert(outcome, "decode_error", "EXCESSIVE_MESSAGE_SIZE")
    assert peak < 1 << 20, peak


@pytest.mark.parametrize("version", ["1.3", "1.2"], ids=["tls1.3", "tls1.2"])
def test_a_long_chain_of_junk_certificates_fails_in_bounded_time(world, version):
    """Two hundred copies of the leaf (60 KB, under the message limit): refused fast."""
    target, peer = duel(world, "client", version,
                        lambda p: p.edit(CERTIFICATE, certificate_list(lambda chain: chain * 200)))
    outcome = run(target, peer, after_handshake=ping, time_limit=3.0)
    assert outcome.error is not None and outcome.alert is not None, outcome
    assert outcome.alert[0] == 2 and outcome.engine_error.alert == outcome.alert[1], outcome


# The stdlib (OpenSSL) as an independent peer: it receives cyssl's alert -------------------


@pytest.mark.parametrize("version", ["1.3", "1.2"], ids=["tls1.3", "tls1.2"])
def test_alpn_mismatch_reaches_openssl_as_no_application_protocol(world, version):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cadata=world.root.cert_pem().decode())
    ctx.set_alpn_protocols(["http/1.1"])
    if version == "1.2":
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    peer = StdlibPeer(ctx, False, "localhost")
    target = Target(world.context("server", alpn=["h2"]), True)
    peer.step()
    outcome = run(target, peer)
    expect_alert(outcome, "no_application_protocol", "NO_APPLICATION_PROTOCOL")
    assert_peer_saw(outcome, "no_application_protocol")


def test_no_common_version_reaches_openssl_as_protocol_version(world):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cadata=world.root.cert_pem().decode())
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    peer = StdlibPeer(ctx, False, "localhost")
    server_ctx = world.server_context()
    server_ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    target = Target(server_ctx, True)
    peer.step()
    outcome = run(target, peer)
    expect_alert(outcome, "protocol_version", "UNSUPPORTED_PROTOCOL")
    assert_peer_saw(outcome, "protocol_version")

