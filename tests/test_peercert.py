"""decode_certificate against the stdlib's own decoder.

The reference is ``ssl._ssl._test_decode_cert(pem_path)``. It runs the same C code
(Modules/_ssl.c ``_decode_certificate`` over OpenSSL) as ``SSLSocket.getpeercert()``.
Every case writes a certificate to a PEM file and requires one of two outcomes:
decode_certificate returns exactly the reference's dict, or, when the stdlib cannot
load or show the certificate (SSLError, UnicodeDecodeError, ...), it raises
ValueError.

Three sources of certificates:
  * tests/pki.py chains and cryptography's CertificateBuilder: what real peers send;
  * hand-built DER (the small encoder below), for what cryptography will not build
    but OpenSSL accepts: version 2, negative serials, PrintableString '*', unsorted
    multi-valued RDNs, BER, x400Address/ediPartyName, pre-1950 dates...;
  * the system CA bundle, and mutations of rich certificates.
"""
import datetime
import ipaddress
import random
import re
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID, ObjectIdentifier
from hypothesis import HealthCheck, given, settings, strategies as st

import pki
from cyssl.crypto import peercert
from cyssl.crypto.peercert import decode_certificate

pytestmark = pytest.mark.skipif(not hasattr(ssl._ssl, "_test_decode_cert"),
                                reason="the stdlib has no _test_decode_cert")

UTC = datetime.timezone.utc


class Refused:
    """The stdlib could not load or show the certificate."""

    def __init__(self, exc):
        self.exc = exc

    def __repr__(self):
        return "Refused(%r)" % (self.exc,)


def reference(der, path):
    path.write_text(ssl.DER_cert_to_PEM_cert(der))
    try:
        return ssl._ssl._test_decode_cert(str(path))
    except Exception as exc:            # SSLError, UnicodeDecodeError, SystemError
        return Refused(exc)


def ours(der):
    try:
        return decode_certificate(der)
    except ValueError as exc:
        return Refused(exc)


def assert_same(der, path):
    """decode_certificate(der) is the stdlib's dict, or both refuse; returns it."""
    expected, got = reference(der, path), ours(der)
    if isinstance(expected, Refused):
        assert isinstance(got, Refused), "stdlib refused (%r) but we decoded %r" % (
            expected.exc, got)
    else:
        assert got == expected
    return got


@pytest.fixture
def pem_path(tmp_path):
    return tmp_path / "cert.pem"


# --- a small DER encoder for certificates cryptography will not build ---------------

def _length(n):
    if n < 0x80:
        return bytes([n])
    octets = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets)]) + octets


def tlv(tag, content):
    return bytes([tag]) + _length(len(content)) + content


def seq(*items):
    return tlv(0x30, b"".join(items))


def set_of(*items):
    return tlv(0x31, b"".join(items))


def ctx(number, content, constructed=True):
    return tlv((0xA0 if constructed else 0x80) | number, content)


def integer(n):
    size = (n.bit_length() + 8) // 8 if n >= 0 else ((-n - 1).bit_length() + 8) // 8
    return tlv(0x02, n.to_bytes(size, "big", signed=True))


def oid_content(dotted):
    arcs = [int(arc) for arc in dotted.split(".")]
    out = b""
    for arc in [arcs[0] * 40 + arcs[1]] + arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return out


def oid(dotted):
    return tlv(0x06, oid_content(dotted))


UTF8, PRINTABLE, T61, IA5, BMP, UNIVERSAL, BITS = 0x0C, 0x13, 0x14, 0x16, 0x1E, 0x1C, 0x03


def name(*rdns):
    """Each RDN a list of (dotted OID, tag, value octets), in the order given."""
    return seq(*(set_of(*(seq(oid(o), tlv(t, v)) for o, t, v in rdn)) for rdn in rdns))


def cn(value, tag=UTF8):
    return name([("2.5.4.3", tag, value)])


def utc(text):
    return tlv(0x17, text.encode())


def gen(text):
    return tlv(0x18, text.encode())


def ext(dotted, value, critical=False):
    return seq(oid(dotted), *([tlv(0x01, b"\xff")] if critical else []), tlv(0x04, value))


SAN, AIA, CDP = "2.5.29.17", "1.3.6.1.5.5.7.1.1", "2.5.29.31"
OCSP, CA_ISSUERS = "1.3.6.1.5.5.7.48.1", "1.3.6.1.5.5.7.48.2"
ECDSA_SHA256 = seq(oid("1.2.840.10045.4.3.2"))
SPKI = seq(seq(oid("1.2.840.10045.2.1"), oid("1.2.840.10045.3.1.7")),
           tlv(0x03, b"\x00\x04" + bytes(range(64))))


def tbs(*, version=2, serial=1, serial_tlv=None, issuer=None, subject=None,
        not_before=None, not_after=None, extensions=None):
    subject = cn(b"subject") if subject is None else subject
    fields = [ctx(0, integer(version))] if version is not None else []
    fields += [serial_tlv or integer(serial), ECDSA_SHA256,
               cn(b"issuer") if issuer is None else issuer,
               seq(not_before or utc("200101000000Z"), not_after or utc("300101000000Z")),
               subject, SPKI]
    if extensions is not None:
        fields.append(ctx(3, seq(*extensions)))
    return seq(*fields)


def certificate(tbs_der=None, **fields):
    return seq(tbs_der or tbs(**fields), ECDSA_SHA256,
               tlv(0x03, b"\x00" + seq(integer(1), integer(1))))


def raw_certificate(*trailing_fields, version=None, signature=ECDSA_SHA256, spki=SPKI):
    """A certificate whose TBSCertificate ends with ``trailing_fields`` as given."""
    fields = (version or ctx(0, integer(2)), integer(7), signature, cn(b"i"),
              seq(utc("200101000000Z"), utc("300101000000Z")), cn(b"s"), spki)
    return seq(seq(*fields + trailing_fields), ECDSA_SHA256, tlv(0x03, b"\x00\x01"))


def with_san(*general_names, raw=None):
    return certificate(extensions=[ext(SAN, seq(*general_names) if raw is None else raw)])


def uri(text):
    return ctx(6, text.encode(), False)


def other_name(dotted, value_tlv):
    return ctx(0, oid(dotted) + ctx(0, value_tlv))


UPN, SRV, XMPP, SMTP_UTF8, NAI = ("1.3.6.1.4.1.311.20.2.3", "1.3.6.1.5.5.7.8.7",
                                  "1.3.6.1.5.5.7.8.5", "1.3.6.1.5.5.7.8.9",
                                  "1.3.6.1.5.5.7.8.8")


# --- certificates from cryptography's builder ---------------------------------------

_SIGNING_KEY = ec.generate_private_key(ec.SECP256R1())


def build(subject=None, issuer=None, *, serial=0x1234, extensions=(),
          not_before=datetime.datetime(2020, 1, 1, tzinfo=UTC),
          not_after=datetime.datetime(2030, 1, 1, tzinfo=UTC)):
    subject = subject or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "leaf")])
    builder = (x509.CertificateBuilder()
               .subject_name(subject).issuer_name(issuer or subject)
               .public_key(pki.new_key("ecdsa-p256").public_key())
               .serial_number(serial)
               .not_valid_before(not_before).not_valid_after(not_after))
    for value in extensions:
        builder = builder.add_extension(value, critical=False)
    return builder.sign(_SIGNING_KEY, hashes.SHA256()).public_bytes(Encoding.DER)


def attr(oid_, value, asn1_type=None):
    if asn1_type is None:
        return x509.NameAttribute(oid_, value)
    return x509.NameAttribute(oid_, value, asn1_type)


def rdn(*attributes):
    return x509.RelativeDistinguishedName(attributes)


# --- tests/pki.py chains ------------------------------------------------------------

@pytest.mark.parametrize("key_type", pki.ALL_KEY_TYPES)
def test_pki_chain(key_type, pem_path):
    root = pki.CA.root(key_type=key_type)
    inter = root.intermediate(key_type=key_type, path_length=0)
    hosts = ("localhost", "127.0.0.1", "::1", "2001:db8::1:0:0:1", "*.example.com",
             "xn--bcher-kva.example")
    leaf = inter.leaf(hosts=hosts, key_type=key_type, client=True)
    for issued in (root, inter, leaf, pki.self_signed(key_type=key_type)):
        decoded = assert_same(issued.der(), pem_path)
        assert decoded["version"] == 3
    decoded = decode_certificate(leaf.der())
    assert decoded["subjectAltName"][1:3] == (("IP Address", "127.0.0.1"),
                                              ("IP Address", "0:0:0:0:0:0:0:1"))
    assert decoded["issuer"] == ((("commonName", "cyssl test intermediate"),),)


def test_pki_leaf_with_aia_and_crl_distribution_points(pem_path):
    root = pki.CA.root()
    leaf = root.leaf(extra_extensions=[
        x509.AuthorityInformationAccess([
            x509.AccessDescription(AuthorityInformationAccessOID.OCSP,
                                   x509.UniformResourceIdentifier("http://ocsp.example/")),
            x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS,
                                   x509.UniformResourceIdentifier("http://ca.example/r.der"))]),
        x509.CRLDistributionPoints([x509.DistributionPoint(
            [x509.UniformResourceIdentifier("http://crl.example/r.crl")], None, None, None)]),
    ])
    decoded = assert_same(leaf.der(), pem_path)
    assert decoded["OCSP"] == ("http://ocsp.example/",)
    assert decoded["caIssuers"] == ("http://ca.example/r.der",)
    assert decoded["crlDistributionPoints"] == ("http://crl.example/r.crl",)


# --- names --------------------------------------------------------------------------

def _every_name_oid():
    fixed = {NameOID.COUNTRY_NAME: "DE", NameOID.JURISDICTION_COUNTRY_NAME: "CH",
             NameOID.X500_UNIQUE_IDENTIFIER: None}
    out = []
    for member in sorted(n for n in dir(NameOID) if n.isupper()):
        oid_ = getattr(NameOID, member)
        if oid_ == NameOID.X500_UNIQUE_IDENTIFIER:
            out.append(attr(oid_, b"\x00\xa5", _ASN1Type.BitString))
        else:
            value = fixed.get(oid_) or "v %s" % member.lower().replace("_", " ")[:20]
            out.append(attr(oid_, value))
    return out


NAMES = {
    "every NameOID": x509.Name(_every_name_oid()),
    "typical server": x509.Name([
        attr(NameOID.COUNTRY_NAME, "US"), attr(NameOID.STATE_OR_PROVINCE_NAME, "California"),
        attr(NameOID.LOCALITY_NAME, "San Francisco"),
        attr(NameOID.ORGANIZATION_NAME, "Example, Inc."),
        attr(NameOID.ORGANIZATIONAL_UNIT_NAME, "Ops"),
        attr(NameOID.COMMON_NAME, "www.example.com"),
        attr(NameOID.EMAIL_ADDRESS, "hostmaster@example.com")]),
    "EV": x509.Name([
        attr(NameOID.JURISDICTION_COUNTRY_NAME, "US"),
        attr(NameOID.JURISDICTION_STATE_OR_PROVINCE_NAME, "Delaware"),
        attr(NameOID.JURISDICTION_LOCALITY_NAME, "Wilmington"),
        attr(NameOID.BUSINESS_CATEGORY, "Private Organization"),
        attr(NameOID.SERIAL_NUMBER, "5157550"),
        attr(NameOID.ORGANIZATION_IDENTIFIER, "NTRUS+DE-5157550"),
        attr(NameOID.COMMON_NAME, "ev.example")]),
    "domain components": x509.Name([
        attr(NameOID.DOMAIN_COMPONENT, "com"), attr(NameOID.DOMAIN_COMPONENT, "example"),
        attr(NameOID.USER_ID, "jdoe"), attr(NameOID.COMMON_NAME, "John Doe")]),
    "multi-valued RDNs": x509.Name([
        rdn(attr(NameOID.COUNTRY_NAME, "US")),
        rdn(attr(NameOID.ORGANIZATION_NAME, "Org"), attr(NameOID.ORGANIZATIONAL_UNIT_NAME, "A"),
            attr(NameOID.ORGANIZATIONAL_UNIT_NAME, "B")),
        rdn(attr(NameOID.COMMON_NAME, "z"), attr(NameOID.USER_ID, "a"),
            attr(NameOID.EMAIL_ADDRESS, "a@b.example"))]),
    "unicode": x509.Name([
        attr(NameOID.COMMON_NAME, "Bücher-straße.example"),
        attr(NameOID.ORGANIZATION_NAME, "株式会社 例 😀"),
        attr(NameOID.LOCALITY_NAME, "Zürich\u0000nul"),
        attr(NameOID.ORGANIZATIONAL_UNIT_NAME, "\ufeff\ufffe bom")]),
    "string types": x509.Name([
        attr(NameOID.COMMON_NAME, "printable", _ASN1Type.PrintableString),
        attr(NameOID.ORGANIZATION_NAME, "é€ bmp", _ASN1Type.BMPString),
        attr(NameOID.ORGANIZATIONAL_UNIT_NAME, "é€😀 universal", _ASN1Type.UniversalString),
        attr(NameOID.LOCALITY_NAME, "é t61 as latin-1", _ASN1Type.T61String),
        attr(NameOID.STATE_OR_PROVINCE_NAME, "ia5", _ASN1Type.IA5String),
        attr(NameOID.STREET_ADDRESS, "12345", _ASN1Type.NumericString),
        attr(NameOID.TITLE, "utf8 ✓", _ASN1Type.UTF8String)]),
    "bit strings": x509.Name([
        attr(NameOID.X500_UNIQUE_IDENTIFIER, b"\x00", _ASN1Type.BitString),
        attr(NameOID.X500_UNIQUE_IDENTIFIER, b"\x03\xff\xff", _ASN1Type.BitString)]),
    "unknown and odd OIDs": x509.Name([
        attr(ObjectIdentifier("1.2.3.4.5"), "private"),
        attr(ObjectIdentifier("2.999.123456789012345678901234567890"), "big arc"),
        attr(ObjectIdentifier("1.3.6.1.5.5.7.3.1"), "a known non-attribute OID"),
        attr(ObjectIdentifier("2.5.29.17"), "an extension OID"),
        attr(ObjectIdentifier("1.2.840.113549.1.9.2"), "unstructured"),
        attr(ObjectIdentifier("1.3.6.1.4.1.311.20.2.3"), "a" * 300)]),
}


@pytest.mark.parametrize("label", sorted(NAMES))
def test_subject_and_issuer_names(label, pem_path):
    issuer = x509.Name([attr(NameOID.COMMON_NAME, "issuer of %s" % label)])
    assert_same(build(NAMES[label], issuer), pem_path)
    assert_same(build(issuer, NAMES[label]), pem_path)


def test_name_shapes(pem_path):
    decoded = assert_same(build(NAMES["multi-valued RDNs"]), pem_path)
    assert decoded["subject"][0] == (("countryName", "US"),)
    assert len(decoded["subject"][1]) == 3
    decoded = assert_same(build(NAMES["string types"]), pem_path)
    assert ("localityName", "Ã© t61 as latin-1") in sum(decoded["subject"], ())
    decoded = assert_same(build(NAMES["bit strings"]), pem_path)
    assert decoded["subject"] == ((("x500UniqueIdentifier", None),),
                                  (("x500UniqueIdentifier", b"\xff\xf8"),))


@pytest.mark.parametrize("label, subject", [
    ("version-1 style empty subject", seq()),
    ("empty RDNs vanish", seq(set_of(), set_of(seq(oid("2.5.4.3"), tlv(UTF8, b"a"))),
                              set_of())),
    ("PrintableString with * @ & _", cn(b"*.a@b&c_d.example", PRINTABLE)),
    ("PrintableString with Latin-1", cn(b"caf\xe9", PRINTABLE)),
    ("T61String", cn(b"\xe9\x80\xff", T61)),
    ("IA5String with high octets", cn(b"\xff", IA5)),
    ("NumericString with letters", cn(b"abc", 0x12)),
    ("multi-valued RDN out of DER order", name(
        [("2.5.4.3", UTF8, b"b"), ("2.5.4.3", UTF8, b"a"), ("2.5.4.6", PRINTABLE, b"US")])),
    ("BMPString", cn("é€\ufffe".encode("utf-16-be"), BMP)),
    ("empty BMPString", cn(b"", BMP)),
    ("UniversalString", cn("😀é".encode("utf-32-be"), UNIVERSAL)),
    ("UTF8String with NUL", cn(b"a\x00b", UTF8)),
    ("empty BIT STRING", name([("2.5.4.45", BITS, b"\x00")])),
    ("BIT STRING with unused bits", name([("2.5.4.45", BITS, b"\x07\xff\xff")])),
    ("constructed UTF8String", name([("2.5.4.3", 0x2C, tlv(0x04, b"ab") + tlv(0x04, b"c"))])),
    ("indefinite-length string", seq(set_of(seq(
        oid("2.5.4.3"), b"\x2c\x80" + tlv(UTF8, b"ab") + b"\x00\x00")))),
    ("primitive-flagged SET OF and SEQUENCE OF",
     tlv(0x10, tlv(0x11, seq(oid("2.5.4.3"), tlv(UTF8, b"x"))))),
    ("tag 12 in high-tag-number form", seq(set_of(seq(oid("2.5.4.3"), b"\x1f\x0c\x01x")))),
    ("OID with a 586-octet body", seq(set_of(seq(tlv(0x06, b"\x2a" + b"\x01" * 585),
                                                 tlv(UTF8, b"x"))))),
    # The stdlib refuses these, and so must we (ValueError):
    ("invalid UTF-8", cn(b"\xe9", UTF8)),
    ("UTF-8 surrogate", cn(b"\xed\xa0\x80", UTF8)),
    ("UTF-8 overlong", cn(b"\xc0\x80", UTF8)),
    ("BMPString surrogate pair", cn("😀".encode("utf-16-be"), BMP)),
    ("BMPString of odd length", cn(b"\x00a\x00", BMP)),
    ("UniversalString beyond U+10FFFF", cn(b"\x00\x11\x00\x00", UNIVERSAL)),
    ("VisibleString", cn(b"v", 0x1A)),
    ("OCTET STRING value", cn(b"v", 0x04)),
    ("SEQUENCE value", name([("2.5.4.3", 0x30, b"")])),
    ("ObjectDescriptor value", name([("2.5.4.3", 0x07, b"x")])),
    ("BIT STRING with 8 unused bits", name([("2.5.4.45", BITS, b"\x08\x00")])),
    ("OID with a 587-octet body", seq(set_of(seq(tlv(0x06, b"\x2a" + b"\x01" * 586),
                                                 tlv(UTF8, b"x"))))),
    ("OID with a 0x80 pad", seq(set_of(seq(tlv(0x06, b"\x2a\x80\x01"), tlv(UTF8, b"x"))))),
    ("AttributeTypeAndValue with 3 items", seq(set_of(seq(oid("2.5.4.3"), tlv(UTF8, b"x"),
                                                          tlv(UTF8, b"y"))))),
    ("RDN that is not a SET", seq(seq(seq(oid("2.5.4.3"), tlv(UTF8, b"x"))))),
])
def test_hand_built_names(label, subject, pem_path):
    assert_same(certificate(subject=subject), pem_path)
    assert_same(certificate(issuer=subject), pem_path)


# --- version, serial number and validity --------------------------------------------

@pytest.mark.parametrize("serial", [
    1, 0x0F, 0x7F, 0x80, 0xFF, 0x100, 0xABC, 0x8000, 0x123456789, 2 ** 63, 2 ** 64,
    2 ** 127 + 1, 2 ** 158, 2 ** 159 - 1, 0x00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF >> 1])
def test_serial_numbers(serial, pem_path):
    decoded = assert_same(build(serial=serial), pem_path)
    assert decoded["serialNumber"] == decoded["serialNumber"].upper()


@pytest.mark.parametrize("serial", [
    0, -1, -128, -129, -256, -(2 ** 64), 2 ** 159, 2 ** 160, 2 ** 279, 2 ** 280, 2 ** 400,
    -(2 ** 400)])
def test_serial_numbers_cryptography_will_not_build(serial, pem_path):
    decoded = assert_same(certificate(serial=serial), pem_path)
    if abs(serial) >= 2 ** 280:         # i2a_ASN1_INTEGER breaks the line after 35 octets
        assert decoded["serialNumber"].endswith("\\\n")


@pytest.mark.parametrize("serial_tlv", [
    tlv(0x02, b""), tlv(0x02, b"\x00\x01"), tlv(0x02, b"\xff\x80"), tlv(0x22, tlv(0x02, b"\x01"))])
def test_malformed_serial_numbers(serial_tlv, pem_path):
    assert isinstance(assert_same(certificate(serial_tlv=serial_tlv), pem_path), Refused)


@pytest.mark.parametrize("version", [None, 0, 1, 2, 3, 100, -1, 2 ** 31, 2 ** 63 - 1, -2 ** 63,
                                     2 ** 63, -2 ** 63 - 1, 2 ** 64])
def test_versions(version, pem_path):
    assert_same(certificate(version=version), pem_path)


@pytest.mark.parametrize("not_before, not_after", [
    ((2000, 1, 1), (2000, 1, 9, 9, 9, 9)),
    ((2000, 1, 10), (2001, 2, 28, 23, 59, 59)),
    ((2004, 2, 29, 12), (2049, 12, 31, 23, 59, 59)),
    ((1950, 1, 1), (2050, 1, 1)),
    ((1999, 12, 31, 23, 59, 59), (9999, 12, 31, 23, 59, 59)),
    ((2024, 7, 4, 1, 2, 3), (2124, 11, 30, 4, 5, 6)),
])
def test_validity_dates(not_before, not_after, pem_path):
    decoded = assert_same(build(not_before=datetime.datetime(*not_before, tzinfo=UTC),
                                not_after=datetime.datetime(*not_after, tzinfo=UTC)),
                          pem_path)
    assert re.fullmatch(r"[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d \d{4} GMT",
                        decoded["notBefore"])


def test_single_digit_days_have_two_spaces():
    decoded = decode_certificate(build(
        not_before=datetime.datetime(2000, 1, 1, tzinfo=UTC),
        not_after=datetime.datetime(2050, 3, 14, 15, 9, 26, tzinfo=UTC)))
    assert decoded["notBefore"] == "Jan  1 00:00:00 2000 GMT"
    assert decoded["notAfter"] == "Mar 14 15:09:26 2050 GMT"


@pytest.mark.parametrize("time_tlv", [
    gen("19491231235959Z"), gen("19000101000000Z"), gen("00010101000000Z"),
    gen("00000101000000Z"), gen("20000101000000.5Z"), gen("20000101000000.1234567890Z"),
    gen("200001010000Z"), gen("20000101000000+0100"), gen("20000101000000.25-0130"),
    gen("99991231233000-0100"), gen("19000101003000+0100"), gen("20000229000000Z"),
    utc("0001010000Z"), utc("000101000000+0000"), utc("000101000000-1259"),
    utc("500101000000Z"), utc("491231235959Z"), tlv(0x37, tlv(0x04, b"000101") +
                                                   tlv(0x04, b"000000Z")),
    # ASN1_TIME_print gives "Bad time value" for these:
    gen("20000101000000"), gen("2000010100Z"), gen("20000101000000.Z"),
    gen("20000101000000,5Z"), gen("20010229000000Z"), gen("20000101240000Z"),
    utc("000101000000"), utc("000101000000+2400"), utc("000101000060Z"), utc("0001010000"),
    utc("00010100000Z"), utc(""), tlv(0x17, b"\xb2\xb20101000000Z"),
    tlv(0x17, b"000101000000+01\xb2\xb2"),
    # and the stdlib refuses to load these:
    tlv(0x13, b"000101000000Z"), tlv(0x04, b"000101000000Z"),
])
def test_time_encodings(time_tlv, pem_path):
    assert_same(certificate(not_before=time_tlv), pem_path)
    assert_same(certificate(not_after=time_tlv), pem_path)


# --- subjectAltName -----------------------------------------------------------------

def _other(type_id, value_der):
    return x509.OtherName(ObjectIdentifier(type_id), value_der)


SAN_CASES = {
    "DNS": [x509.DNSName("a.example"), x509.DNSName("*.wild.example"),
            x509.DNSName("xn--bcher-kva.example"), x509.DNSName("localhost")],
    "IP": [x509.IPAddress(ipaddress.ip_address(a)) for a in (
        "127.0.0.1", "0.0.0.0", "255.255.255.255", "10.1.2.3", "::", "::1", "2001:db8::",
        "2001:db8:0:0:1:0:0:1", "fe80::1", "::ffff:192.0.2.1", "ff02::fb",
        "1:203:405:607:809:a0b:c0d:e0f", "abcd:ef01:2345:6789:abcd:ef01:2345:6789")],
    "email and URI": [x509.RFC822Name("user@example.com"), x509.RFC822Name("example.com"),
                      x509.UniformResourceIdentifier("https://example.com/path?q=1#f"),
                      x509.UniformResourceIdentifier("urn:uuid:12345678")],
    "DirName": [x509.DirectoryName(NAMES["multi-valued RDNs"]),
                x509.DirectoryName(NAMES["string types"]),
                x509.DirectoryName(x509.Name([]))],
    "Registered ID": [x509.RegisteredID(ObjectIdentifier(o)) for o in (
        "1.2.3.4", "1.3.6.1.5.5.7.3.1", "2.5.4.3", "1.2.840.113549.1.1.11",
        "2.999.1234567890123456789012345")],
    "otherName": [
        _other(UPN, tlv(UTF8, b"user@corp.example")),
        _other(SRV, tlv(IA5, b"_ldap.example")),
        _other(XMPP, tlv(UTF8, b"juliet@im.example")),
        _other(SMTP_UTF8, tlv(UTF8, "δοκιμή@παράδειγμα.δοκιμή".encode())),
        _other(NAI, tlv(UTF8, b"realm.example")),
        _other(UPN, tlv(IA5, b"wrong type")),
        _other(SRV, tlv(UTF8, b"wrong type")),
        _other("1.2.3.4", tlv(UTF8, b"unknown type-id")),
        _other(UPN, integer(5)),
        _other(UPN, seq(tlv(UTF8, b"nested")))],
    "everything": [x509.DNSName("a.example"), x509.IPAddress(ipaddress.ip_address("::1")),
                   x509.RFC822Name("a@a.example"),
                   x509.UniformResourceIdentifier("http://a.example/"),
                   x509.DirectoryName(NAMES["typical server"]),
                   x509.RegisteredID(ObjectIdentifier("1.2.3")),
                   _other(UPN, tlv(UTF8, b"u@a.example")),
                   x509.IPAddress(ipaddress.ip_address("192.0.2.7"))],
}


@pytest.mark.parametrize("label", sorted(SAN_CASES))
def test_subject_alt_names(label, pem_path):
    decoded = assert_same(build(extensions=[x509.SubjectAlternativeName(SAN_CASES[label])]),
                          pem_path)
    assert len(decoded["subjectAltName"]) == len(SAN_CASES[label])


def test_subject_alt_name_rendering():
    decoded = decode_certificate(build(extensions=[x509.SubjectAlternativeName(
        SAN_CASES["IP"][4:6] + SAN_CASES["otherName"][:2] + SAN_CASES["otherName"][-1:])]))
    assert decoded["subjectAltName"] == (
        ("IP Address", "0:0:0:0:0:0:0:0"), ("IP Address", "0:0:0:0:0:0:0:1"),
        ("othername", "UPN:user@corp.example"), ("othername", "SRVName:_ldap.example"),
        ("othername", "<unsupported>"))


@pytest.mark.parametrize("label, cert", [
    ("empty SAN", with_san()),
    ("x400Address", with_san(ctx(3, b""), ctx(3, integer(1)))),
    ("ediPartyName", with_san(ctx(5, ctx(1, tlv(UTF8, b"party"))),
                              ctx(5, ctx(0, tlv(BMP, b"\x00a")) + ctx(1, tlv(PRINTABLE, b"p"))))),
    ("IP of 0, 5, 8 and 32 octets", with_san(*(ctx(7, bytes(n), False) for n in (0, 5, 8, 32)))),
    ("constructed IA5String", with_san(tlv(0xA2, tlv(0x04, b"con") + tlv(0x04, b".example")))),
    ("DNS name in UTF-8", with_san(ctx(2, "bücher.example".encode(), False))),
    ("DNS name with NUL", with_san(ctx(2, b"a\x00b.example", False))),
    ("long DNS name", with_san(ctx(2, b"a" * 3000, False))),
    ("otherName with NUL", with_san(other_name(UPN, tlv(UTF8, b"a\x00b")))),
    ("otherName with newline", with_san(other_name(UPN, tlv(UTF8, b"a\nb")))),
    ("otherName with colon", with_san(other_name(XMPP, tlv(UTF8, b"a:b:c")))),
    ("otherName cut by BIO_gets", with_san(other_name(UPN, tlv(UTF8, b"x" * 3000)))),
    ("otherName cut inside a character", with_san(
        other_name(UPN, tlv(UTF8, b"x" * 2031 + "é".encode())))),
    ("otherName with constructed UTF8String", with_san(
        other_name(UPN, tlv(0x2C, tlv(0x04, b"u@") + tlv(0x04, b"x"))))),
    ("SAN then trailing bytes", with_san(raw=seq(ctx(2, b"a.example", False)) + b"\x05\x00")),
    ("SAN as primitive-flagged SEQUENCE OF", with_san(raw=tlv(0x10, ctx(2, b"a", False)))),
    ("indefinite-length SAN", with_san(raw=b"\x30\x80" + ctx(2, b"a", False) + b"\x00\x00")),
    ("DirName with unsorted RDN", with_san(ctx(4, name(
        [("2.5.4.3", UTF8, b"b"), ("2.5.4.3", PRINTABLE, b"a")])))),
    # SAN left out: repeated, or X509_get_ext_d2i cannot decode it
    ("two SAN extensions", certificate(extensions=[
        ext(SAN, seq(ctx(2, b"a", False))), ext(SAN, seq(ctx(2, b"b", False)))])),
    ("SAN that is not a SEQUENCE", with_san(raw=b"\x05\x00")),
    ("SAN with an unknown choice", with_san(ctx(9, b"x", False))),
    ("SAN with a bad ediPartyName", with_san(ctx(5, integer(1)))),
    ("SAN with a primitive x400Address", with_san(ctx(3, b"", False))),
    ("SAN with a constructed registeredID", with_san(ctx(8, oid("1.2.3"), True))),
    ("SAN with an otherName missing its value", with_san(ctx(0, oid(UPN)))),
    ("SAN with an otherName holding a bad INTEGER", with_san(
        other_name(UPN, tlv(0x02, b"\x00\x01")))),
    ("DirName with invalid UTF-8", with_san(ctx(4, cn(b"\xff")))),
    ("DirName with a VisibleString", with_san(ctx(4, cn(b"v", 0x1A)))),
    # the stdlib raises while showing these (SSLError / UnicodeDecodeError)
    ("DNS name in Latin-1", with_san(ctx(2, b"caf\xe9.example", False))),
    ("URI in Latin-1", with_san(uri("http://x/") , ctx(6, b"\xe9", False))),
    ("otherName with invalid UTF-8", with_san(other_name(UPN, tlv(UTF8, b"\xff")))),
    ("DirName with a SEQUENCE value", with_san(ctx(4, name([("2.5.4.3", 0x30, b"")])))),
    ("registeredID with a 587-octet OID", with_san(ctx(8, b"\x2a" + b"\x01" * 586, False))),
])
def test_hand_built_subject_alt_names(label, cert, pem_path):
    assert_same(cert, pem_path)


# --- Authority Information Access and CRL distribution points -----------------------

def _ad(method, location):
    return x509.AccessDescription(method, location)


AIA_CASES = {
    "OCSP and caIssuers": [
        _ad(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier("http://o1/")),
        _ad(AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier("http://c/")),
        _ad(AuthorityInformationAccessOID.OCSP, x509.DNSName("not-a-uri.example")),
        _ad(ObjectIdentifier("1.3.6.1.5.5.7.48.5"), x509.UniformResourceIdentifier("http://r/")),
        _ad(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier("http://o2/"))],
    "caIssuers only": [
        _ad(AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier("http://1/")),
        _ad(AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier("ldap://2"))],
    "no URIs": [_ad(AuthorityInformationAccessOID.OCSP, x509.DNSName("o.example")),
                _ad(AuthorityInformationAccessOID.CA_ISSUERS,
                    x509.DirectoryName(NAMES["typical server"]))],
}


@pytest.mark.parametrize("label", sorted(AIA_CASES))
def test_authority_information_access(label, pem_path):
    assert_same(build(extensions=[x509.AuthorityInformationAccess(AIA_CASES[label])]), pem_path)


def _dp(full_name=None, relative_name=None, reasons=None, crl_issuer=None):
    return x509.DistributionPoint(full_name, relative_name, reasons, crl_issuer)


CDP_CASES = {
    "full names": [_dp([x509.UniformResourceIdentifier("http://a/1.crl"),
                        x509.DNSName("not-a-uri.example"),
                        x509.UniformResourceIdentifier("ldap://a/cn=crl")]),
                   _dp([x509.UniformResourceIdentifier("http://b/2.crl")])],
    "reasons and CRL issuer": [_dp([x509.UniformResourceIdentifier("http://a/")],
                                   reasons=frozenset([x509.ReasonFlags.key_compromise]),
                                   crl_issuer=[x509.DirectoryName(NAMES["typical server"])])],
    "relative name": [_dp(relative_name=rdn(attr(NameOID.COMMON_NAME, "crl1"))),
                      _dp([x509.UniformResourceIdentifier("http://after/")])],
    "issuer only": [_dp(crl_issuer=[x509.UniformResourceIdentifier("http://issuer/")])],
}


@pytest.mark.parametrize("label", sorted(CDP_CASES))
def test_crl_distribution_points(label, pem_path):
    assert_same(build(extensions=[x509.CRLDistributionPoints(CDP_CASES[label])]), pem_path)


@pytest.mark.parametrize("label, extensions", [
    ("AIA repeated", [ext(AIA, seq(seq(oid(OCSP), uri("http://1")))),
                      ext(AIA, seq(seq(oid(OCSP), uri("http://2"))))]),
    ("AIA empty", [ext(AIA, seq())]),
    ("AIA undecodable", [ext(AIA, seq(integer(1))), ext(SAN, seq(ctx(2, b"a", False)))]),
    ("AIA with an x400Address location", [ext(AIA, seq(seq(oid(OCSP), ctx(3, b"")),
                                                       seq(oid(CA_ISSUERS), uri("c"))))]),
    ("AIA URI in Latin-1", [ext(AIA, seq(seq(oid(OCSP), ctx(6, b"\xe9", False))))]),
    ("CDP empty", [ext(CDP, seq())]),
    ("CDP with empty points", [ext(CDP, seq(seq(), seq(ctx(0, ctx(0, uri("http://x"))))))]),
    ("CDP undecodable", [ext(CDP, seq(seq(ctx(0, ctx(0, ctx(9, b"", False))))))]),
    ("CDP fullName primitive-flagged", [ext(CDP, seq(seq(ctx(0, ctx(0, uri("http://p"),
                                                                      False)))))]),
    ("CDP critical, trailing bytes", [ext(CDP, seq(seq(ctx(0, ctx(0, uri("http://t"))))) + b"zz",
                                          critical=True)]),
    ("unknown critical extension", [ext("1.2.3.4", b"\x05\x00", critical=True),
                                    ext(AIA, seq(seq(oid(OCSP), uri("http://o"))))]),
    ("empty extension list", []),
    ("extension with a two-octet BOOLEAN", [
        seq(oid(SAN), tlv(0x01, b"\xff\xff"), tlv(0x04, seq(ctx(2, b"a", False))))]),
    ("extension value as constructed OCTET STRING", [
        seq(oid(SAN), tlv(0x24, tlv(0x04, seq(ctx(2, b"a", False)))))]),
])
def test_hand_built_extensions(label, extensions, pem_path):
    assert_same(certificate(extensions=extensions), pem_path)


# --- whole certificates -------------------------------------------------------------

@pytest.mark.parametrize("label, der", [
    ("version 1, no extensions", certificate(version=None)),
    ("version 2", certificate(version=1, extensions=[ext(SAN, seq(ctx(2, b"v2", False)))])),
    ("issuer and subject unique IDs", raw_certificate(
        ctx(1, b"\x00\xaa", False), ctx(2, b"\x04\xbb", False),
        ctx(3, seq(ext(SAN, seq(ctx(2, b"u", False))))))),
    ("constructed unique ID", raw_certificate(tlv(0xA1, tlv(0x03, b"\x00\xaa")))),
    ("unique IDs out of order", raw_certificate(ctx(2, b"\x00", False), ctx(1, b"\x00", False))),
    ("indefinite-length certificate", b"\x30\x80" + tbs() + ECDSA_SHA256 +
     tlv(0x03, b"\x00\x01") + b"\x00\x00"),
    ("long-form length octets", b"\x30\x84" + len(tbs() + ECDSA_SHA256 + b"\x03\x01\x00")
     .to_bytes(4, "big") + tbs() + ECDSA_SHA256 + b"\x03\x01\x00"),
    ("truncated", certificate()[:-1]),
    ("not a certificate", seq(integer(1))),
    ("empty", b""),
    ("junk", b"\x00\x01\x02"),
    ("TBSCertificate with an extra field", raw_certificate(integer(9))),
    ("extensions twice", raw_certificate(ctx(3, seq()), ctx(3, seq()))),
    ("explicit version 1 (DEFAULT encoded)", certificate(version=0)),
    ("primitive [0] version", raw_certificate(version=ctx(0, integer(2), False))),
    ("bad subjectPublicKeyInfo", raw_certificate(spki=seq(seq(oid("1.2.3")), integer(1)))),
    ("AlgorithmIdentifier with NULL parameters", raw_certificate(
        signature=seq(oid("1.2.840.113549.1.1.11"), tlv(0x05, b"")))),
    ("AlgorithmIdentifier with a bad NULL", raw_certificate(
        signature=seq(oid("1.2.840.113549.1.1.11"), tlv(0x05, b"x")))),
    ("signature BIT STRING with 8 unused bits", seq(tbs(), ECDSA_SHA256, tlv(0x03, b"\x08"))),
])
def test_whole_certificates(label, der, pem_path):
    assert_same(der, pem_path)


def test_trailing_data_is_refused(pem_path):
    """OpenSSL's PEM loader ignores bytes after the certificate. A TLS Certificate
    message cannot carry such bytes (OpenSSL fails the handshake), so
    decode_certificate treats them as malformed."""
    der = certificate()
    assert reference(der + b"\x00\x00", pem_path) == decode_certificate(der)
    with pytest.raises(ValueError):
        decode_certificate(der + b"\x00\x00")


# --- the system CA bundle -----------------------------------------------------------

def _system_bundle():
    candidates = [ssl.get_default_verify_paths().cafile, "/etc/ssl/certs/ca-certificates.crt"]
    for path in candidates:
        if path and Path(path).is_file():
            pem = Path(path).read_text(errors="replace")
            return [ssl.PEM_cert_to_DER_cert(block) for block in re.findall(
                r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", pem, re.DOTALL)]
    return []


def test_system_ca_bundle(pem_path):
    ders = _system_bundle()
    if not ders:
        pytest.skip("no system CA bundle")
    for der in ders:
        assert not isinstance(assert_same(der, pem_path), Refused)


def test_builtin_oid_names_match_openssl():
    for dotted, long_name in peercert._FALLBACK_NAMES.items():
        _nid, short, long, _ = ssl._ssl.txt2obj(dotted, False)
        assert (long or short) == long_name, dotted


def test_without_the_stdlib_object_table(monkeypatch):
    """Interpreters without _ssl use the built-in table: same names for the usual
    attribute types, dotted OIDs for the rest."""
    ders = _system_bundle() or []
    ders += [build(NAMES[label]) for label in ("every NameOID", "EV", "typical server",
                                               "domain components")]
    expected = [decode_certificate(der) for der in ders]
    monkeypatch.setattr(peercert, "_txt2obj", None)
    peercert._object_text.cache_clear()
    peercert._decode_cached.cache_clear()
    try:
        got = [decode_certificate(der) for der in ders]
        rid = decode_certificate(build(extensions=[x509.SubjectAlternativeName(
            [x509.RegisteredID(ObjectIdentifier("1.2.840.113549.1.1.11"))])]))
    finally:
        peercert._object_text.cache_clear()
        peercert._decode_cached.cache_clear()
    names_in = lambda decoded: {n for r in decoded["subject"] + decoded["issuer"] for n, _ in r}
    for want, have in zip(expected, got):
        unknown = names_in(want) - set(peercert._FALLBACK_NAMES.values())
        if not unknown:
            assert have == want
    assert rid["subjectAltName"] == (("Registered ID", "1.2.840.113549.1.1.11"),)


# --- mutations and random values ----------------------------------------------------

def _rich_certificates():
    full = seq(ctx(2, b"a.example", False), ctx(1, b"u@x", False), uri("http://u"),
               ctx(7, bytes(range(16)), False), ctx(7, b"\x01\x02\x03\x04", False),
               ctx(8, oid_content("1.2.3.4"), False), other_name(UPN, tlv(UTF8, b"upn@x")),
               other_name(SRV, tlv(IA5, b"_s.x")),
               ctx(4, name([("2.5.4.3", UTF8, b"d")], [("2.5.4.6", PRINTABLE, b"US")])),
               ctx(3, b""), ctx(5, ctx(0, tlv(PRINTABLE, b"as")) + ctx(1, tlv(BMP, b"\x00p"))))
    extensions = [
        ext(SAN, full),
        ext(AIA, seq(seq(oid(OCSP), uri("http://o")), seq(oid(CA_ISSUERS), uri("http://c")))),
        ext(CDP, seq(seq(ctx(0, ctx(0, uri("http://crl"))), ctx(1, b"\x07\x80", False),
                         ctx(2, ctx(2, b"i", False))),
                     seq(ctx(0, ctx(1, seq(oid("2.5.4.3"), tlv(PRINTABLE, b"r"))))))),
        ext("2.5.29.19", seq(tlv(0x01, b"\xff")), critical=True)]
    subject = name([("2.5.4.6", PRINTABLE, b"US")],
                   [("2.5.4.10", UTF8, "Ünï".encode()), ("2.5.4.11", BMP, b"\x00b\x00m")],
                   [("2.5.4.3", T61, b"t61\xe9")], [("2.5.4.45", BITS, b"\x01\xfe")],
                   [("1.3.6.1.4.1.311.60.2.1.3", PRINTABLE, b"DE"),
                    ("1.2.840.113549.1.9.1", IA5, b"a@b")])
    yield certificate(serial=0xFF12, subject=subject, not_before=gen("19491231235959Z"),
                      not_after=utc("491231235959Z"), extensions=extensions)
    yield certificate(version=1, serial=-(2 ** 100), subject=cn("ü".encode(), UTF8),
                      not_before=gen("20000101000000.25Z"), extensions=extensions[1:])


_SPECIAL_OCTETS = (0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0C, 0x10, 0x11, 0x13, 0x14,
                   0x16, 0x17, 0x18, 0x1C, 0x1E, 0x1F, 0x24, 0x2C, 0x30, 0x31, 0x7F, 0x80,
                   0x81, 0x82, 0xA0, 0xA3, 0xA4, 0xFF)


@pytest.mark.parametrize("index", [0, 1])
def test_mutated_certificates(index, pem_path):
    """Byte flips, insertions and deletions in rich hand-built certificates: the same
    dict or both refuse, and never an exception other than ValueError."""
    base = list(_rich_certificates())[index]
    rng = random.Random(20240 + index)
    agreed_dicts = 0
    for _ in range(800):
        der = bytearray(base)
        for _ in range(rng.choice((1, 1, 2, 3))):
            pos = rng.randrange(len(der) - 40)      # the TBSCertificate, mostly
            roll = rng.random()
            if roll < 0.4:
                der[pos] = rng.randrange(256)
            elif roll < 0.6:
                der[pos] ^= 1 << rng.randrange(8)
            elif roll < 0.7:
                del der[pos]
            elif roll < 0.8:
                der.insert(pos, rng.randrange(256))
            else:
                der[pos] = rng.choice(_SPECIAL_OCTETS)
        agreed_dicts += not isinstance(assert_same(bytes(der), pem_path), Refused)
    assert agreed_dicts > 100                      # the mutations do not all break it


_STRING_TAGS = st.sampled_from([UTF8, BMP, UNIVERSAL, PRINTABLE, T61, IA5, 0x12, BITS])
_VALUE_OCTETS = st.one_of(
    st.binary(max_size=12),
    st.text(max_size=4).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.text(max_size=4).map(lambda s: s.encode("utf-16-be", "surrogatepass")),
    st.text(max_size=3).map(lambda s: s.encode("utf-32-be", "surrogatepass")))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tag=_STRING_TAGS, value=_VALUE_OCTETS)
def test_random_string_values(tag, value, pem_path):
    assert_same(certificate(subject=cn(value, tag)), pem_path)
    assert_same(with_san(ctx(4, cn(value, tag)), ctx(2, value, False),
                         other_name(UPN, tlv(UTF8, value)), other_name(SRV, tlv(IA5, value))),
                pem_path)


# --- the API ------------------------------------------------------------------------

def test_each_call_returns_a_fresh_dict():
    der = build()
    first = decode_certificate(der)
    first["subject"] = "changed"
    first.clear()
    assert decode_certificate(der)["subject"] == ((("commonName", "leaf"),),)
    assert decode_certificate(der) is not decode_certificate(der)


def test_accepts_bytes_like_input():
    der = build()
    expected = decode_certificate(der)
    assert decode_certificate(bytearray(der)) == expected
    assert decode_certificate(memoryview(der)) == expected


def test_rejects_non_bytes():
    with pytest.raises(TypeError):
        decode_certificate("not bytes")


@pytest.mark.parametrize("der", [b"", b"\x30", b"\x30\x00", b"\x30\x80", b"\x30\x80\x00\x00",
                                 b"\xff" * 40, b"\x30\x84\xff\xff\xff\xff",
                                 b"\x30\x80" * 5000])
def test_garbage_raises_value_error(der):
    with pytest.raises(ValueError):
        decode_certificate(der)


def test_deep_nesting_raises_value_error():
    der = b"".join(b"\x2c\x80" for _ in range(3000))
    with pytest.raises(ValueError):
        decode_certificate(certificate(subject=seq(set_of(seq(oid("2.5.4.3"), der)))))
