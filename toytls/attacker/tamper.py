"""DER surgery on certificates: what an attacker in the middle can try.

The article's man in the middle first tries 偷梁换柱 — swap the server's
public key for his own inside the real certificate and keep the CA's
signature — or changes some other detail of the signed part. Both leave a
certificate that parses perfectly well, but whose digest S (of the signed
part) no longer equals the digest T recovered from the CA's signature, so
§4's signature row rejects it with ``bad_certificate``.

There is no cryptography here, only a small DER reader: every
type-length-value header is read with strict bounds checks (definite,
minimal lengths of at most four bytes, low tag numbers only) and a length
never points past its parent. Input that is not a certificate, or not one
these functions can rewrite, raises :class:`ValueError` and nothing else.

The module does no I/O and keeps no state.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.utils import CryptographyDeprecationWarning

_SEQUENCE = 0x30
_SET = 0x31
_INTEGER = 0x02
_OID = 0x06
_VERSION = 0xA0  # [0] EXPLICIT Version in tbsCertificate
#: DER of the OID 2.5.4.3, commonName.
_COMMON_NAME_OID = bytes.fromhex("550403")
#: Directory-string types whose characters can be changed one for one.
_STRING_TAGS = frozenset({0x0C, 0x13, 0x14, 0x16, 0x1A})  # UTF8, Printable, …
#: Longest length field accepted: certificates are far below 4 GiB.
_MAX_LENGTH_BYTES = 4


@dataclass(frozen=True, slots=True)
class _TLV:
    """One DER element: where its header starts, its content, and its end."""

    tag: int
    start: int
    content: int
    end: int


def _read_tlv(data: bytes, offset: int, limit: int) -> _TLV:
    """Read the element at ``offset``, which must end by ``limit``.

    Raises:
        ValueError: For a truncated header, a high tag number, an
            indefinite or non-minimal length, or content past ``limit``.
    """
    if offset + 2 > limit:
        raise ValueError(f"truncated DER header at offset {offset}")
    tag, first = data[offset], data[offset + 1]
    if tag & 0x1F == 0x1F:
        raise ValueError(f"unsupported high tag number at offset {offset}")
    position = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > _MAX_LENGTH_BYTES:
            raise ValueError(f"unsupported DER length form at offset {offset}")
        if position + count > limit:
            raise ValueError(f"truncated DER length at offset {offset}")
        length = int.from_bytes(data[position : position + count], "big")
        position += count
        # DER demands the shortest form (X.690 §10.1).
        if length < 0x80 or data[offset + 2] == 0:
            raise ValueError(f"non-minimal DER length at offset {offset}")
    if position + length > limit:
        raise ValueError(
            f"DER element at offset {offset} runs past its end "
            f"({length} bytes announced, {limit - position} available)"
        )
    return _TLV(tag=tag, start=offset, content=position, end=position + length)


def _children(data: bytes, parent: _TLV) -> list[_TLV]:
    """Read the elements inside a constructed element; they must fill it."""
    children = []
    offset = parent.content
    while offset < parent.end:
        child = _read_tlv(data, offset, parent.end)
        children.append(child)
        offset = child.end
    return children


def _expect(element: _TLV, tag: int, what: str) -> _TLV:
    if element.tag != tag:
        raise ValueError(f"expected {what} (tag 0x{tag:02x}), found tag 0x{element.tag:02x}")
    return element


def _encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _encode(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _encode_length(len(content)) + content


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where the parts of a certificate are that the tampering touches."""

    certificate: _TLV
    tbs: _TLV
    subject: _TLV
    spki: _TLV


def _load(der: bytes) -> x509.Certificate:
    """Parse ``der``; what cryptography only warns about is an error here.

    (Such as a serial number that is not positive, which a future release of
    cryptography will refuse to load.)
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", CryptographyDeprecationWarning)
        return x509.load_der_x509_certificate(der)


def _layout(der: bytes) -> _Layout:
    """Locate tbsCertificate, its subject and its SubjectPublicKeyInfo.

    Raises:
        ValueError: If ``der`` is not a DER certificate (RFC 5280 §4.1).
    """
    try:
        _load(der)
    except (ValueError, CryptographyDeprecationWarning) as exc:
        raise ValueError(f"not a DER certificate: {exc}") from exc
    certificate = _expect(_read_tlv(der, 0, len(der)), _SEQUENCE, "Certificate")
    if certificate.end != len(der):
        raise ValueError("trailing bytes after the certificate")
    parts = _children(der, certificate)
    if len(parts) != 3:
        raise ValueError(f"a certificate has 3 parts, this one has {len(parts)}")
    tbs = _expect(parts[0], _SEQUENCE, "tbsCertificate")
    fields = _children(der, tbs)
    if fields and fields[0].tag == _VERSION:
        fields = fields[1:]
    # serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
    if len(fields) < 6:
        raise ValueError("tbsCertificate is too short")
    _expect(fields[0], _INTEGER, "serialNumber")
    return _Layout(
        certificate=certificate,
        tbs=tbs,
        subject=_expect(fields[4], _SEQUENCE, "subject Name"),
        spki=_expect(fields[5], _SEQUENCE, "SubjectPublicKeyInfo"),
    )


def swap_public_key(cert_der: bytes, public_key: rsa.RSAPublicKey) -> bytes:
    """Put another public key into a certificate and keep its signature.

    The SubjectPublicKeyInfo inside tbsCertificate is replaced by
    ``public_key``'s and the lengths of tbsCertificate and Certificate are
    re-encoded; everything else — issuer, names, extensions, the
    signatureAlgorithm and the issuer's signature — is copied byte for byte.
    The result parses, but its signature no longer matches its content.

    Args:
        cert_der: A DER certificate.
        public_key: The key to put in (the attacker's).

    Returns:
        The altered certificate, DER.

    Raises:
        ValueError: If ``cert_der`` is not a DER certificate.
        TypeError: If ``public_key`` is not an RSA public key.
    """
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise TypeError(f"expected an RSA public key, got {type(public_key).__name__}")
    layout = _layout(cert_der)
    spki = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    tbs_content = (
        cert_der[layout.tbs.content : layout.spki.start]
        + spki
        + cert_der[layout.spki.end : layout.tbs.end]
    )
    # The signatureAlgorithm and signatureValue that follow tbsCertificate.
    signature_part = cert_der[layout.tbs.end : layout.certificate.end]
    return _parsed(_encode(_SEQUENCE, _encode(_SEQUENCE, tbs_content) + signature_part))


def _parsed(der: bytes) -> bytes:
    """Return ``der`` if it still parses as a certificate, else raise."""
    try:
        _load(der)
    except (ValueError, CryptographyDeprecationWarning) as exc:
        raise ValueError(f"the rewritten certificate does not parse: {exc}") from exc
    return der


def _changed(byte: int) -> int | None:
    """The next letter or digit in the same class, wrapping; None otherwise."""
    for first, count in ((0x61, 26), (0x41, 26), (0x30, 10)):
        if first <= byte < first + count:
            return first + (byte - first + 1) % count
    return None


def _name_strings(der: bytes, subject: _TLV) -> list[tuple[bytes, _TLV]]:
    """Every (attribute type OID, string value) in a Name, in order."""
    values = []
    for rdn in _children(der, subject):
        _expect(rdn, _SET, "RelativeDistinguishedName")
        for attribute in _children(der, rdn):
            _expect(attribute, _SEQUENCE, "AttributeTypeAndValue")
            parts = _children(der, attribute)
            if len(parts) != 2:
                raise ValueError("an AttributeTypeAndValue has two parts")
            oid = _expect(parts[0], _OID, "attribute type")
            if parts[1].tag in _STRING_TAGS:
                values.append((der[oid.content : oid.end], parts[1]))
    return values


def tamper_subject(cert_der: bytes) -> bytes:
    """Change one character of the subject's name inside the signed part.

    The first ASCII letter or digit of the commonName (or, without one, of
    another string in the subject) is replaced by the next one of its kind
    ("localhost" becomes "mocalhost"). Lengths stay the same, so the DER
    stays valid and parses, but the signature no longer matches.

    Args:
        cert_der: A DER certificate.

    Returns:
        The altered certificate, DER.

    Raises:
        ValueError: If ``cert_der`` is not a DER certificate, or its subject
            has no string attribute with a letter or digit in it.
    """
    layout = _layout(cert_der)
    strings = _name_strings(cert_der, layout.subject)
    # The common name first: it is what people read as "who this is".
    strings.sort(key=lambda item: item[0] != _COMMON_NAME_OID)
    for _, value in strings:
        for position in range(value.content, value.end):
            replacement = _changed(cert_der[position])
            if replacement is not None:
                tampered = bytearray(cert_der)
                tampered[position] = replacement
                return _parsed(bytes(tampered))
    raise ValueError("the subject has no letter or digit to change")
