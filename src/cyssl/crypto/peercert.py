"""getpeercert()'s dictionary, decoded exactly as CPython's Modules/_ssl.c does it.

``decode_certificate(der)`` returns what the stdlib's ``SSLSocket.getpeercert()``
(``_decode_certificate`` in _ssl.c, linked against OpenSSL 3.0) returns for the same
certificate; ``ssl._ssl._test_decode_cert(pem_path)`` runs the same C code and is the
reference in tests/test_peercert.py. Field by field:

  subject, issuer  tuple of RDNs, each a tuple of (name, value). The name is OpenSSL's
                   long name (OBJ_obj2txt) or the dotted OID when OpenSSL has none.
                   Values go through ASN1_STRING_to_UTF8: the one-byte string types
                   are Latin-1, BMPString is UCS-2 and UniversalString is UCS-4. A BIT
                   STRING gives bytes, or None when it is empty.
  version          the X.509 version field + 1, wrapped like a C long.
  serialNumber     i2a_ASN1_INTEGER: upper-case hex, two digits per octet of the
                   magnitude, "-" for negatives, and "\\\\\\n" after 35 octets (BIO_gets stops
                   at the line break).
  notBefore/After  ASN1_TIME_print: 'Jan  1 00:00:00 2000 GMT', with GeneralizedTime
                   fractions kept, offsets applied, and 'Bad time value' when it
                   cannot be parsed.
  subjectAltName   ('DNS'|'email'|'URI', utf-8 text), ('IP Address', dotted quad or
                   eight %X groups, '<invalid>' for other lengths), ('DirName', name),
                   ('Registered ID', long name or OID), ('othername', 'UPN:...' and
                   the like, or '<unsupported>'), ('X400Name'|'EdiPartyName',
                   '<unsupported>').
  OCSP, caIssuers  URIs from Authority Information Access.
  crlDistributionPoints  the URIs of the fullName distribution points.
The last four are left out when the extension is missing, occurs twice, does not
decode (X509_get_ext_d2i returns NULL) or yields nothing to show.

cryptography's x509 objects are not used to get these values. They keep neither
the ASN.1 string types nor OpenSSL's tolerance: cryptography rejects PrintableStrings
holding '*', '@' or '&', multi-valued RDNs out of DER order, version-2 certificates,
x400Address/ediPartyName and any extension it cannot parse. OpenSSL accepts all of
these and _ssl.c prints them. So a small DER reader below follows OpenSSL's decoder
instead, including which faults make the whole certificate unreadable (ValueError
here) and which only drop one extension.

Names of OIDs come from OpenSSL's own object table when the interpreter has the
stdlib ``_ssl`` module; that is the table the stdlib's getpeercert uses. Without it, a
built-in table covers the usual attribute types.

Where this deliberately differs from the stdlib: bytes after the certificate are
refused (OpenSSL's PEM loader ignores them; a TLS Certificate message cannot carry
them), and BER nested deeper than Python's recursion limit is refused.
"""
import datetime
import functools

try:
    from _ssl import txt2obj as _txt2obj
except ImportError:                                    # an interpreter without OpenSSL
    _txt2obj = None

__all__ = ["decode_certificate"]


class _DecodeError(ValueError):
    """OpenSSL's d2i would refuse this encoding."""


# --- DER reading ----------------------------------------------------------------------

def _read(buf, pos, end):
    """The TLV at buf[pos:end] as (identifier octet, content start, content end,
    end of the TLV). The identifier octet carries class, constructed bit and tag
    number; tag numbers of 31 and more all read as 0x1F, which no caller expects.
    Like OpenSSL, this reads BER: indefinite lengths and non-minimal length octets."""
    if end - pos < 2:
        raise _DecodeError("truncated")
    ident = buf[pos]
    pos += 1
    if ident & 0x1F == 0x1F:            # high tag number form
        number = 0
        while True:
            if pos >= end or number > 0xFFFFFF:
                raise _DecodeError("bad tag")
            number = (number << 7) | (buf[pos] & 0x7F)
            pos += 1
            if not buf[pos - 1] & 0x80:
                break
        if number < 0x1F:               # OpenSSL reads it as the low tag number
            ident = (ident & 0xE0) | number
        if pos >= end:
            raise _DecodeError("truncated")
    length = buf[pos]
    pos += 1
    if length == 0x80:                  # indefinite: up to the matching end-of-contents
        if not ident & 0x20:
            raise _DecodeError("indefinite length on a primitive")
        start = pos
        while not (end - pos >= 2 and buf[pos] == 0 and buf[pos + 1] == 0):
            if pos >= end:
                raise _DecodeError("missing end-of-contents")
            pos = _read(buf, pos, end)[3]
        return ident, start, pos, pos + 2
    if length & 0x80:
        count = length & 0x7F
        if count >= end - pos:          # ASN1_get_object wants one octet more
            raise _DecodeError("truncated length")
        length = int.from_bytes(buf[pos:pos + count], "big")
        pos += count
    if length > end - pos:
        raise _DecodeError("truncated content")
    return ident, pos, pos + length, pos + length


def _items(buf, pos, end):
    """The TLVs that fill buf[pos:end]."""
    out = []
    while pos < end:
        if end - pos >= 2 and buf[pos] == 0 and buf[pos + 1] == 0:
            raise _DecodeError("unexpected end-of-contents")
        tlv = _read(buf, pos, end)
        out.append(tlv)
        pos = tlv[3]
    return out


def _explicit(buf, tlv):
    """The single TLV inside an EXPLICIT tag (which must be constructed)."""
    inner = _items(buf, tlv[1], tlv[2]) if tlv[0] & 0x20 else ()
    if len(inner) != 1:
        raise _DecodeError("bad explicit tag")
    return inner[0]


def _string(buf, tlv, depth=0):
    """A string's octets; constructed (BER) strings are collected as OpenSSL does."""
    ident, start, end = tlv[:3]
    if not ident & 0x20:
        return bytes(buf[start:end])
    if depth > 5:                       # ASN1_MAX_STRING_NEST
        raise _DecodeError("string nested too deep")
    return b"".join(_string(buf, item, depth + 1) for item in _items(buf, start, end))


def _typed_string(buf, tlv):
    """A universal string type's octets, with asn1_ex_c2i's length checks."""
    octets = _string(buf, tlv)
    tag = tlv[0] & 0x1F
    if tag == 30 and len(octets) % 2 or tag == 28 and len(octets) % 4:
        raise _DecodeError("BMPString/UniversalString of a wrong length")
    return octets


def _integer(buf, tlv):
    """An INTEGER, with the padding checks of OpenSSL's c2i_ASN1_INTEGER."""
    ident, start, end = tlv[:3]
    if ident != 0x02 or start == end:
        raise _DecodeError("bad INTEGER")
    if end - start > 1 and ((buf[start] == 0 and buf[start + 1] < 0x80)
                            or (buf[start] == 0xFF and buf[start + 1] >= 0x80)):
        raise _DecodeError("INTEGER with illegal padding")
    return int.from_bytes(buf[start:end], "big", signed=True)


def _oid(buf, tlv):
    """The content octets of an OBJECT IDENTIFIER, checked as c2i_ASN1_OBJECT does."""
    ident, start, end = tlv[:3]
    content = bytes(buf[start:end])
    if ident != 0x06 or not content or content[-1] & 0x80:
        raise _DecodeError("bad OBJECT IDENTIFIER")
    previous = 0
    for octet in content:
        if octet == 0x80 and not previous & 0x80:
            raise _DecodeError("bad OBJECT IDENTIFIER")
        previous = octet
    return content


def _bit_string(octets):
    """c2i_ASN1_BIT_STRING: the data octets with the unused bits cleared."""
    if not octets or octets[0] > 7:
        raise _DecodeError("bad BIT STRING")
    data = bytearray(octets[1:])
    if data:
        data[-1] &= (0xFF << octets[0]) & 0xFF
    return bytes(data)


def _any(buf, tlv):
    """An ASN1_ANY value, checked as asn1_d2i_ex_primitive does, as (type, octets):
    type is the universal tag number, or None for other classes and high tag
    numbers. Octets are filled in for strings only."""
    ident, start, end = tlv[:3]
    tag = ident & 0x1F
    if ident & 0xC0 or tag == 0x1F:
        return None, b""
    if tag in (0x10, 0x11):             # kept encoded, but must be constructed
        if not ident & 0x20:
            raise _DecodeError("primitive SEQUENCE/SET")
        return tag, b""
    if tag in (0x01, 0x02, 0x05, 0x06, 0x0A):
        if ident & 0x20:
            raise _DecodeError("constructed primitive")
        if tag == 0x01 and end - start != 1 or tag == 0x05 and end != start:
            raise _DecodeError("bad BOOLEAN/NULL")
        if tag in (0x02, 0x0A):
            _integer(buf, (0x02, start, end))
        elif tag == 0x06:
            _oid(buf, tlv)
        return tag, b""
    octets = _typed_string(buf, tlv)
    if tag == 0x03:
        _bit_string(octets)
    return tag, octets


def _algorithm(buf, tlv):
    """X509_ALGOR: SEQUENCE { OBJECT, ANY OPTIONAL }."""
    parts = _items(buf, tlv[1], tlv[2]) if tlv[0] == 0x30 else ()
    if not 1 <= len(parts) <= 2:
        raise _DecodeError("bad AlgorithmIdentifier")
    _oid(buf, parts[0])
    if len(parts) == 2:
        _any(buf, parts[1])


# --- OBJECT IDENTIFIER names ----------------------------------------------------------

_FALLBACK_NAMES = {   # OpenSSL 3.0's long names, for interpreters without _ssl
    "0.9.2342.19200300.100.1.1": "userId",
    "0.9.2342.19200300.100.1.25": "domainComponent",
    "1.2.840.113549.1.9.1": "emailAddress",
    "1.2.840.113549.1.9.2": "unstructuredName",
    "1.2.840.113549.1.9.8": "unstructuredAddress",
    "1.3.6.1.4.1.311.60.2.1.1": "jurisdictionLocalityName",
    "1.3.6.1.4.1.311.60.2.1.2": "jurisdictionStateOrProvinceName",
    "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionCountryName",
    "1.3.6.1.5.5.7.3.1": "TLS Web Server Authentication",
    "1.3.6.1.5.5.7.3.2": "TLS Web Client Authentication",
}
_FALLBACK_NAMES.update(("2.5.4.%d" % arc, name) for arc, name in enumerate((
    None, None, None, "commonName", "surname", "serialNumber", "countryName",
    "localityName", "stateOrProvinceName", "streetAddress", "organizationName",
    "organizationalUnitName", "title", "description", "searchGuide", "businessCategory",
    "postalAddress", "postalCode", "postOfficeBox", "physicalDeliveryOfficeName",
    "telephoneNumber", "telexNumber", "teletexTerminalIdentifier",
    "facsimileTelephoneNumber", "x121Address", "internationaliSDNNumber",
    "registeredAddress", "destinationIndicator", "preferredDeliveryMethod",
    "presentationAddress", "supportedApplicationContext", "member", "owner",
    "roleOccupant", "seeAlso", "userPassword", "userCertificate", "cACertificate",
    "authorityRevocationList", "certificateRevocationList", "crossCertificatePair",
    "name", "givenName", "initials", "generationQualifier", "x500UniqueIdentifier",
    "dnQualifier", "enhancedSearchGuide", "protocolInformation", "distinguishedName",
    "uniqueMember", "houseIdentifier", "supportedAlgorithms", "deltaRevocationList",
    "dmdName")) if name)
_FALLBACK_NAMES.update({"2.5.4.65": "pseudonym", "2.5.4.72": "role",
                        "2.5.4.97": "organizationIdentifier", "2.5.4.98": "countryCode3c",
                        "2.5.4.99": "countryCode3n", "2.5.4.100": "dnsName"})


def _dotted(content):
    arcs, value = [], 0
    for octet in content:
        value = (value << 7) | (octet & 0x7F)
        if not octet & 0x80:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = (0, first) if first < 40 else (1, first - 40) if first < 80 else (2, first - 80)
    return ".".join(map(str, head + tuple(arcs[1:])))


@functools.lru_cache(maxsize=512)
def _object_text(content):
    """OBJ_obj2txt(..., no_name=0): OpenSSL's long name, else the dotted OID."""
    if len(content) > 586:              # OpenSSL 3.0.9+ refuses to print such OIDs
        raise ValueError("OBJECT IDENTIFIER too long to print")
    dotted = _dotted(content)
    if _txt2obj is None:
        return _FALLBACK_NAMES.get(dotted, dotted)
    try:
        _nid, short, long, _ = _txt2obj(dotted, False)
    except ValueError:                  # not in OpenSSL's table
        return dotted
    return long or short


# --- names ----------------------------------------------------------------------------

_UNPRINTABLE = object()   # decodes, but ASN1_STRING_to_UTF8 fails on it (SSLError)
_NAME_VALUE_TAGS = frozenset((3, 7, 8, 9, 11, 12, 13, 14, 15, 16, 18, 19, 20, 22, 28, 29, 30))
_LATIN1_TAGS = frozenset((18, 19, 20, 22))


def _name_value(buf, tlv, canon):
    """An ASN1_PRINTABLE value as _ssl.c shows it. ``canon`` applies X509_NAME's
    canonical-encoding step, which refuses invalid UTF8/BMP/Universal strings."""
    ident = tlv[0]
    tag = ident & 0x1F
    if ident & 0xC0 or tag not in _NAME_VALUE_TAGS:
        raise _DecodeError("name value of a type OpenSSL does not accept")
    if tag == 16:
        if not ident & 0x20:
            raise _DecodeError("primitive SEQUENCE")
        return _UNPRINTABLE
    octets = _typed_string(buf, tlv)
    if tag in _LATIN1_TAGS:
        return octets.decode("latin-1")
    if tag == 3:
        return _bit_string(octets) or None
    try:
        if tag == 12:
            return octets.decode("utf-8")
        if tag == 28:
            return octets.decode("utf-32-be")
        if tag == 30:
            if len(octets) % 2 or any(0xD8 <= octets[i] <= 0xDF for i in range(0, len(octets), 2)):
                raise UnicodeError("not UCS-2")
            return octets.decode("utf-16-be")
    except UnicodeError:
        if canon:
            raise _DecodeError("invalid string in a name") from None
        return _UNPRINTABLE
    return _UNPRINTABLE                 # types ASN1_STRING_to_UTF8 has no table entry for


def _name_entry(buf, tlv, canon):
    """X509_NAME_ENTRY: SEQUENCE { OBJECT, ASN1_PRINTABLE } as (oid octets, value)."""
    parts = _items(buf, tlv[1], tlv[2]) if tlv[0] == 0x30 else ()
    if len(parts) != 2:
        raise _DecodeError("bad AttributeTypeAndValue")
    return _oid(buf, parts[0]), _name_value(buf, parts[1], canon)


def _name(buf, tlv):
    """X509_NAME as a list of RDNs, each a list of (oid octets, value); empty RDNs
    vanish, as in OpenSSL. (OpenSSL ignores the constructed bit of a SEQUENCE OF
    or SET OF, here and below.)"""
    if tlv[0] & 0xDF != 0x10:
        raise _DecodeError("Name is not a SEQUENCE")
    rdns = []
    for rdn in _items(buf, tlv[1], tlv[2]):
        if rdn[0] & 0xDF != 0x11:
            raise _DecodeError("RDN is not a SET")
        entries = [_name_entry(buf, entry, True) for entry in _items(buf, rdn[1], rdn[2])]
        if entries:
            rdns.append(entries)
    return rdns


def _name_tuple(rdns):
    """_create_tuple_for_X509_NAME."""
    out = []
    for rdn in rdns:
        attributes = []
        for oid, value in rdn:
            if value is _UNPRINTABLE:
                raise ValueError("name attribute %s cannot be shown as text" % _dotted(oid))
            attributes.append((_object_text(oid), value))
        out.append(tuple(attributes))
    return tuple(out)


# --- GeneralName ----------------------------------------------------------------------

_DIRECTORY_STRING_TAGS = frozenset((12, 19, 20, 28, 30))
_OTHERNAME_LABELS = {   # GENERAL_NAME_print's otherName types (OpenSSL 3.0)
    b"\x2b\x06\x01\x05\x05\x07\x08\x09": ("SmtpUTF8Mailbox", 12),
    b"\x2b\x06\x01\x05\x05\x07\x08\x05": ("XmppAddr", 12),
    b"\x2b\x06\x01\x05\x05\x07\x08\x07": ("SRVName", 22),
    b"\x2b\x06\x01\x04\x01\x82\x37\x14\x02\x03": ("UPN", 12),
    b"\x2b\x06\x01\x05\x05\x07\x08\x08": ("NAIRealm", 12),
}
_IA5_CHOICES = {0x81: "email", 0xA1: "email", 0x82: "DNS", 0xA2: "DNS",
                0x86: "URI", 0xA6: "URI"}


def _directory_string(buf, tlv):
    ident = tlv[0]
    if ident & 0xC0 or ident & 0x1F not in _DIRECTORY_STRING_TAGS:
        raise _DecodeError("bad DirectoryString")
    _typed_string(buf, tlv)


def _general_name(buf, tlv):
    """One GENERAL_NAME, decoded (not yet shown) as a tuple whose first item is the
    kind."""
    ident = tlv[0]
    if ident in _IA5_CHOICES:
        return _IA5_CHOICES[ident], _string(buf, tlv)
    if ident in (0x87, 0xA7):
        return "IP", _string(buf, tlv)
    if ident == 0x88:
        return "RID", _oid(buf, (0x06, tlv[1], tlv[2]))
    if ident == 0xA4:
        return "DirName", _name(buf, _explicit(buf, tlv))
    if ident == 0xA0:
        parts = _items(buf, tlv[1], tlv[2])
        if len(parts) != 2 or parts[1][0] != 0xA0:
            raise _DecodeError("bad otherName")
        oid = _oid(buf, parts[0])
        return ("othername", oid) + _any(buf, _explicit(buf, parts[1]))
    if ident == 0xA3:
        return ("X400Name",)
    if ident == 0xA5:
        parts = _items(buf, tlv[1], tlv[2])
        if parts and parts[0][0] == 0xA0:
            _directory_string(buf, _explicit(buf, parts.pop(0)))
        if len(parts) != 1 or parts[0][0] != 0xA1:
            raise _DecodeError("bad ediPartyName")
        _directory_string(buf, _explicit(buf, parts[0]))
        return ("EdiPartyName",)
    raise _DecodeError("unknown GeneralName choice")


def _general_names(buf, tlv, tag=0x10):
    """GeneralNames: a SEQUENCE OF, or [tag] IMPLICIT SEQUENCE OF."""
    if tlv[0] & 0xDF != tag:
        raise _DecodeError("bad GeneralNames")
    return [_general_name(buf, item) for item in _items(buf, tlv[1], tlv[2])]


def _othername_text(oid, value_type, octets):
    """GENERAL_NAME_print for an otherName, read back through BIO_gets."""
    label, wanted = _OTHERNAME_LABELS.get(oid, (None, 12))
    if label is None or value_type != wanted:
        return "<unsupported>"
    line = b"%s:%s" % (label.encode(), octets.split(b"\0", 1)[0])   # "%.*s" stops at NUL
    newline = line.find(b"\n")
    if newline >= 0:
        line = line[:newline + 1]
    return line[:2046 - len("othername:")].decode("utf-8")


def _show_general_name(name):
    """One subjectAltName entry as _get_peer_alt_names builds it."""
    kind = name[0]
    if kind in ("DNS", "email", "URI"):
        return kind, name[1].decode("utf-8")
    if kind == "IP":
        octets = name[1]
        if len(octets) == 4:
            return "IP Address", "%d.%d.%d.%d" % tuple(octets)
        if len(octets) == 16:
            return "IP Address", ":".join(
                "%X" % (octets[i] << 8 | octets[i + 1]) for i in range(0, 16, 2))
        return "IP Address", "<invalid>"
    if kind == "RID":
        return "Registered ID", _object_text(name[1])
    if kind == "DirName":
        return "DirName", _name_tuple(name[1])
    if kind == "othername":
        return "othername", _othername_text(*name[1:])
    return kind, "<unsupported>"


# --- extensions -----------------------------------------------------------------------

_SUBJECT_ALT_NAME = b"\x55\x1d\x11"
_CRL_DISTRIBUTION_POINTS = b"\x55\x1d\x1f"
_INFO_ACCESS = b"\x2b\x06\x01\x05\x05\x07\x01\x01"
_AD_OCSP = b"\x2b\x06\x01\x05\x05\x07\x30\x01"
_AD_CA_ISSUERS = b"\x2b\x06\x01\x05\x05\x07\x30\x02"


def _extensions(buf, tlv):
    """[3] EXPLICIT Extensions as a list of (oid octets, value octets)."""
    inner = _explicit(buf, tlv)
    if inner[0] & 0xDF != 0x10:
        raise _DecodeError("Extensions is not a SEQUENCE")
    out = []
    for ext in _items(buf, inner[1], inner[2]):
        parts = _items(buf, ext[1], ext[2]) if ext[0] == 0x30 else ()
        if len(parts) == 3 and parts[1][0] == 0x01 and parts[1][2] - parts[1][1] == 1:
            parts = (parts[0], parts[2])
        if len(parts) != 2 or parts[1][0] & 0xDF != 0x04:
            raise _DecodeError("bad Extension")
        out.append((_oid(buf, parts[0]), _string(buf, parts[1])))
    return out


def _extension(extensions, oid, decoder):
    """X509_get_ext_d2i: the decoded extension, or None when it is absent, repeated
    or undecodable. Bytes after the first value are ignored, as OpenSSL does."""
    values = [value for ext_oid, value in extensions if ext_oid == oid]
    if len(values) != 1:
        return None
    try:
        return decoder(values[0], _read(values[0], 0, len(values[0])))
    except _DecodeError:
        return None


def _access_descriptions(buf, tlv):
    if tlv[0] & 0xDF != 0x10:
        raise _DecodeError("AuthorityInfoAccess is not a SEQUENCE")
    out = []
    for item in _items(buf, tlv[1], tlv[2]):
        parts = _items(buf, item[1], item[2]) if item[0] == 0x30 else ()
        if len(parts) != 2:
            raise _DecodeError("bad AccessDescription")
        out.append((_oid(buf, parts[0]), _general_name(buf, parts[1])))
    return out


def _distribution_points(buf, tlv):
    """CRL_DIST_POINTS as a list of fullName GeneralName lists (None for points
    without a fullName: _ssl.c shows nothing for those)."""
    if tlv[0] & 0xDF != 0x10:
        raise _DecodeError("CRLDistributionPoints is not a SEQUENCE")
    out = []
    for point in _items(buf, tlv[1], tlv[2]):
        if point[0] != 0x30:
            raise _DecodeError("DistributionPoint is not a SEQUENCE")
        parts = _items(buf, point[1], point[2])
        names = None
        if parts and parts[0][0] & 0xDF == 0x80:     # [0] EXPLICIT DistributionPointName
            choice = _explicit(buf, parts.pop(0))
            if choice[0] & 0xDF == 0x80:             # fullName
                names = _general_names(buf, choice, 0x80)
            elif choice[0] & 0xDF == 0x81:           # nameRelativeToCRLIssuer
                for entry in _items(buf, choice[1], choice[2]):
                    _name_entry(buf, entry, False)
            else:
                raise _DecodeError("bad DistributionPointName")
        if parts and parts[0][0] & 0xDF == 0x81:     # reasons
            _bit_string(_string(buf, parts.pop(0)))
        if parts and parts[0][0] & 0xDF == 0x82:     # cRLIssuer
            _general_names(buf, parts.pop(0), 0x82)
        if parts:
            raise _DecodeError("bad DistributionPoint")
        out.append(names)
    return out


def _aia_uris(descriptions, method):
    """_get_aia_uri: the URIs of one access method, or None."""
    uris = tuple(location[1].decode("utf-8") for oid, location in descriptions
                 if oid == method and location[0] == "URI")
    return uris or None


# --- validity -------------------------------------------------------------------------

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_FIELD_RANGES = ((0, 99), (0, 99), (1, 12), (1, 31), (0, 23), (0, 59), (0, 59))


def _leap(year):
    return year % 400 == 0 or (year % 100 != 0 and year % 4 == 0)


def _time_fields(text, generalized):
    """ossl_asn1_time_to_tm (non-strict): [year, month, day, hour, minute, second]
    in UTC plus the fraction text, or None where OpenSSL fails."""
    count, seconds_at = (7, 6) if generalized else (6, 5)
    length = len(text)
    if length < (13 if generalized else 11):
        return None
    pos, values = 0, []
    for i in range(count):
        if i == seconds_at and text[pos] in "Z+-":
            values.append(0)
            break
        if not ("0" <= text[pos] <= "9" and pos + 1 < length and "0" <= text[pos + 1] <= "9"):
            return None
        value = int(text[pos:pos + 2])
        pos += 2
        if pos == length:
            return None
        field = i if generalized else i + 1
        low, high = _FIELD_RANGES[field]
        if not low <= value <= high:
            return None
        if field == 3:
            month = values[-1]
            year = values[0] * 100 + values[1] if generalized else (
                2000 + values[0] if values[0] < 50 else 1900 + values[0])
            if value > _MONTH_DAYS[month - 1] + (month == 2 and _leap(year)):
                return None
        values.append(value)
    if generalized:
        fields = [values[0] * 100 + values[1]] + values[2:]
    else:
        fields = [2000 + values[0] if values[0] < 50 else 1900 + values[0]] + values[1:]
    if generalized and text[pos] == ".":
        pos += 1
        if pos == length:
            return None
        start = pos
        while pos < length and "0" <= text[pos] <= "9":
            pos += 1
        if pos == start or pos == length:
            return None
    if text[pos] == "Z":
        pos += 1
    elif text[pos] in "+-":
        sign = 1 if text[pos] == "-" else -1
        pos += 1
        if pos + 4 != length or not text[pos:].isdigit() or not text[pos:].isascii():
            return None
        hours, minutes = int(text[pos:pos + 2]), int(text[pos + 2:pos + 4])
        if hours > 12 or minutes > 59:
            return None
        pos = length
        offset = sign * (hours * 3600 + minutes * 60)
        if offset:                      # OPENSSL_gmtime_adj: the result must be 1900-9999
            if fields[0] < 1:
                return None
            try:
                moved = datetime.datetime(*fields) + datetime.timedelta(seconds=offset)
            except OverflowError:
                return None
            if moved.year < 1900:
                return None
            fields = [moved.year, moved.month, moved.day, moved.hour, moved.minute,
                      moved.second]
    else:
        return None
    return fields if pos == length else None


def _time_text(buf, tlv):
    """ASN1_TIME_print (OpenSSL 3.0)."""
    ident = tlv[0]
    if ident & 0xDF not in (0x17, 0x18):
        raise _DecodeError("Time is neither UTCTime nor GeneralizedTime")
    generalized = ident & 0xDF == 0x18
    text = _string(buf, tlv).decode("latin-1")
    fields = _time_fields(text, generalized) if text else None
    if fields is None:
        return "Bad time value"
    fraction = ""
    if generalized and len(text) > 15 and text[14] == ".":
        end = 15
        while end < len(text) and "0" <= text[end] <= "9":
            end += 1
        fraction = text[14:end]
    year, month, day, hour, minute, second = fields
    return "%s %2d %02d:%02d:%02d%s %d GMT" % (
        _MONTHS[month - 1], day, hour, minute, second, fraction, year)


# --- the certificate ------------------------------------------------------------------

def _serial_text(serial):
    """i2a_ASN1_INTEGER as read back by BIO_gets (one line)."""
    magnitude = abs(serial)
    octets = magnitude.to_bytes(max(1, (magnitude.bit_length() + 7) // 8), "big")
    text = octets[:35].hex().upper() + ("\\\n" if len(octets) > 35 else "")
    return "-" + text if serial < 0 else text


def _version_number(version):
    """X509_get_version() + 1 in C longs: out-of-range versions read as -1."""
    if not -2 ** 63 <= version < 2 ** 63:
        version = -1
    version += 1
    return version - 2 ** 64 if version >= 2 ** 63 else version


def _decode(der):
    top = _read(der, 0, len(der))
    if top[0] != 0x30 or top[3] != len(der):
        raise _DecodeError("not a single certificate")
    parts = _items(der, top[1], top[2])
    if len(parts) != 3 or parts[0][0] != 0x30 or parts[2][0] & 0xDF != 0x03:
        raise _DecodeError("not a certificate")
    _algorithm(der, parts[1])
    _bit_string(_string(der, parts[2]))

    fields = _items(der, parts[0][1], parts[0][2])
    fields.reverse()                    # pop() from the front

    def take():
        if not fields:
            raise _DecodeError("TBSCertificate too short")
        return fields.pop()

    version = 0
    if fields and fields[-1][0] == 0xA0:
        version = _integer(der, _explicit(der, take()))
    serial = _integer(der, take())
    _algorithm(der, take())
    issuer = _name(der, take())
    validity = take()
    times = _items(der, validity[1], validity[2]) if validity[0] == 0x30 else ()
    if len(times) != 2:
        raise _DecodeError("bad Validity")
    subject = _name(der, take())
    spki = take()
    spki_parts = _items(der, spki[1], spki[2]) if spki[0] == 0x30 else ()
    if len(spki_parts) != 2 or spki_parts[1][0] & 0xDF != 0x03:
        raise _DecodeError("bad SubjectPublicKeyInfo")
    _algorithm(der, spki_parts[0])
    _bit_string(_string(der, spki_parts[1]))
    for unique_id in (0x81, 0x82):
        if fields and fields[-1][0] & 0xDF == unique_id:
            _bit_string(_string(der, take()))
    extensions = _extensions(der, take()) if fields and fields[-1][0] == 0xA3 else []
    if fields:
        raise _DecodeError("unexpected data in TBSCertificate")
    not_before, not_after = _time_text(der, times[0]), _time_text(der, times[1])

    result = [("subject", _name_tuple(subject)), ("issuer", _name_tuple(issuer)),
              ("version", _version_number(version)), ("serialNumber", _serial_text(serial)),
              ("notBefore", not_before), ("notAfter", not_after)]
    alt_names = _extension(extensions, _SUBJECT_ALT_NAME, _general_names)
    if alt_names is not None:
        result.append(("subjectAltName", tuple(map(_show_general_name, alt_names))))
    access = _extension(extensions, _INFO_ACCESS, _access_descriptions)
    if access:
        for key, method in (("OCSP", _AD_OCSP), ("caIssuers", _AD_CA_ISSUERS)):
            uris = _aia_uris(access, method)
            if uris is not None:
                result.append((key, uris))
    points = _extension(extensions, _CRL_DISTRIBUTION_POINTS, _distribution_points)
    if points:
        uris = tuple(name[1].decode("utf-8") for names in points if names
                     for name in names if name[0] == "URI")
        if uris:
            result.append(("crlDistributionPoints", uris))
    return tuple(result)


@functools.lru_cache(maxsize=64)
def _decode_cached(der):
    try:
        return _decode(der)
    except (IndexError, OverflowError, RecursionError) as exc:   # belt and braces
        raise ValueError("malformed certificate: %s" % exc) from None


def decode_certificate(der):
    """The dict the stdlib's getpeercert() returns for this DER certificate.

    Raises ValueError when OpenSSL could not load the certificate, or when _ssl.c
    itself would fail to show it (it raises SSLError or UnicodeDecodeError there).
    Results are cached per DER; each call returns a fresh dict.
    """
    if not isinstance(der, bytes):
        der = memoryview(der).tobytes()
    return dict(_decode_cached(der))
