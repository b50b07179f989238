"""A certificate x-ray: every field the article talks about, and its signature opened.

:func:`xray` takes one certificate and the certificate believed to have
issued it, and returns a :class:`CertificateXray`: the holder, its names,
the issuer, the dates, whether it is a CA, its key usage; its public key
(B+ for a server, A+ for a CA) with the RSA numbers; the signature; and —
the one place in toytls where the raw RSA operation is done by hand, for
display only — the signature *opened* with the issuer's public key A+:
``pow(signature, e, n)`` laid out as the PKCS#1 v1.5 block
``00 01 ff…ff 00 ‖ DigestInfo ‖ T``, next to S, the digest of the signed
part (``tbsCertificate``) computed here. Whether the signature is good is
still :mod:`cryptography`'s word (``verify_directly_issued_by``), never the
comparison shown.

Pure: certificates in, frozen dataclasses out. Rendering in English and
Chinese is :mod:`toytls.story.xray_render`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa

from ..core.links import SHA256_DIGEST_INFO

#: The DER DigestInfo headers of RFC 8017 §9.2, note 1, by hash name.
DIGEST_INFOS: dict[str, bytes] = {
    "SHA-1": bytes.fromhex("3021300906052b0e03021a05000414"),
    "SHA-224": bytes.fromhex("302d300d06096086480165030402040500041c"),
    "SHA-256": SHA256_DIGEST_INFO,
    "SHA-384": bytes.fromhex("3041300d060960864801650304020205000430"),
    "SHA-512": bytes.fromhex("3051300d060960864801650304020305000440"),
}
_HASHLIB = {
    "SHA-1": "sha1",
    "SHA-224": "sha224",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}
_HASH_NAMES = {"sha1": "SHA-1", "sha224": "SHA-224", "sha256": "SHA-256"}
_HASH_NAMES |= {"sha384": "SHA-384", "sha512": "SHA-512"}


@dataclass(frozen=True, kw_only=True, slots=True)
class PublicKeyView:
    """A public key as the article names it."""

    #: "B+" for a certificate that is no CA (a server's), "A+" for a CA's
    role: str
    #: "RSA", "EC", "Ed25519", "Ed448", "DSA" or the class name
    kind: str
    #: size in bits (the modulus for RSA, the curve for EC)
    size: int
    #: RSA only: the public exponent e and the modulus n
    exponent: int | None = None
    modulus: bytes | None = None
    #: EC only: the curve's name
    curve: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class OpenedSignature:
    """``pow(signature, e, n)`` with the issuer's A+, cut into its PKCS#1 v1.5 parts.

    When the block is not well formed (a wrong key opens any signature into
    noise), ``block`` is still there and the parts are None.
    """

    #: the whole result, as many bytes as the modulus
    block: bytes
    #: 00 01, ff … ff, 00: the padding, when the block starts that way
    lead: bytes | None
    padding: bytes | None
    separator: bytes | None
    #: the DER DigestInfo that names the hash, and the hash it names
    digest_info: bytes | None
    hash_name: str | None
    #: the digest recovered from the signature: the article's T
    digest_t: bytes | None

    @property
    def well_formed(self) -> bool:
        """Whether the block is ``00 01 ff…ff 00 ‖ a known DigestInfo ‖ digest``."""
        return self.digest_t is not None


@dataclass(frozen=True, kw_only=True, slots=True)
class CertificateXray:
    """One certificate seen through, with its signature opened if it can be."""

    index: int
    subject: str
    alt_names: tuple[str, ...]
    issuer: str
    not_before: str
    not_after: str
    is_ca: bool
    #: the keyUsage bits that are set, by their RFC 5280 names
    key_usage: tuple[str, ...]
    public_key: PublicKeyView
    #: the signature algorithm's name ("sha256WithRSAEncryption") and OID
    signature_algorithm: str
    signature_oid: str
    signature: bytes
    #: SHA-256 fingerprint of the whole certificate, hex
    fingerprint: str
    #: where the issuer's key came from: "given", "next" (next in the
    #: file), "self" (self-signed), "chain", "trusted" — or None: not given
    issuer_source: str | None
    #: the subject of the certificate whose key opened the signature
    issuer_used: str | None
    #: the hash S is computed with, and S = hash(tbsCertificate)
    hash_name: str | None
    digest_s: bytes | None
    #: the opened signature, or None (see ``not_opened``)
    opened: OpenedSignature | None
    #: why the signature was not opened: "no_issuer", "not_rsa_signature",
    #: "issuer_key_not_rsa"; None when it was
    not_opened: str | None
    #: cryptography's verdict (verify_directly_issued_by); None without an issuer
    verified: bool | None
    #: what cryptography said when it refused
    verify_error: str | None

    @property
    def t_equals_s(self) -> bool | None:
        """T = S? None when there is no T to compare."""
        if self.opened is None or self.opened.digest_t is None or self.digest_s is None:
            return None
        return self.opened.digest_t == self.digest_s


def public_key_view(key: object, *, is_ca: bool) -> PublicKeyView:
    """Describe a certificate's public key (B+ or A+)."""
    role = "A+" if is_ca else "B+"
    if isinstance(key, rsa.RSAPublicKey):
        numbers = key.public_numbers()
        size = key.key_size
        return PublicKeyView(
            role=role,
            kind="RSA",
            size=size,
            exponent=numbers.e,
            modulus=numbers.n.to_bytes((size + 7) // 8, "big"),
        )
    if isinstance(key, ec.EllipticCurvePublicKey):
        return PublicKeyView(role=role, kind="EC", size=key.key_size, curve=key.curve.name)
    if isinstance(key, ed25519.Ed25519PublicKey):
        return PublicKeyView(role=role, kind="Ed25519", size=256)
    if isinstance(key, ed448.Ed448PublicKey):
        return PublicKeyView(role=role, kind="Ed448", size=456)
    if isinstance(key, dsa.DSAPublicKey):
        return PublicKeyView(role=role, kind="DSA", size=key.key_size)
    return PublicKeyView(role=role, kind=type(key).__name__, size=0)


def open_signature(signature: bytes, key: rsa.RSAPublicKey) -> OpenedSignature:
    """Raise ``signature`` to the power e modulo n, and read the PKCS#1 v1.5 block.

    For display only: nothing is decided from it.
    """
    numbers = key.public_numbers()
    size = (key.key_size + 7) // 8
    value = int.from_bytes(signature, "big")
    if value >= numbers.n:  # not a signature under this key at all
        return OpenedSignature(
            block=b"",
            lead=None,
            padding=None,
            separator=None,
            digest_info=None,
            hash_name=None,
            digest_t=None,
        )
    block = pow(value, numbers.e, numbers.n).to_bytes(size, "big")
    return read_block(block)


def read_block(block: bytes) -> OpenedSignature:
    """Cut an opened block into ``00 01 ‖ ff…ff ‖ 00 ‖ DigestInfo ‖ T``."""
    bad = OpenedSignature(
        block=block,
        lead=None,
        padding=None,
        separator=None,
        digest_info=None,
        hash_name=None,
        digest_t=None,
    )
    if block[:2] != b"\x00\x01":
        return bad
    end = 2
    while end < len(block) and block[end] == 0xFF:
        end += 1
    if end - 2 < 8 or end >= len(block) or block[end] != 0:
        return bad
    rest = block[end + 1 :]
    for name, info in DIGEST_INFOS.items():
        digest = rest[len(info) :]
        if rest.startswith(info) and len(digest) == hashlib.new(_HASHLIB[name]).digest_size:
            return OpenedSignature(
                block=block,
                lead=block[:2],
                padding=block[2:end],
                separator=block[end : end + 1],
                digest_info=info,
                hash_name=name,
                digest_t=digest,
            )
    return bad


def _key_usage(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return ()
    names = [
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
    ]
    found = [name for name in names if getattr(usage, name)]
    if usage.key_agreement:
        found += [n for n in ("encipher_only", "decipher_only") if getattr(usage, n)]
    return tuple(found)


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _alt_names(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    names = [f"DNS:{n}" for n in san.get_values_for_type(x509.DNSName)]
    names += [f"IP:{a}" for a in san.get_values_for_type(x509.IPAddress)]
    names += [f"email:{e}" for e in san.get_values_for_type(x509.RFC822Name)]
    names += [f"URI:{u}" for u in san.get_values_for_type(x509.UniformResourceIdentifier)]
    return tuple(names)


def _verdict(cert: x509.Certificate, issuer: x509.Certificate) -> tuple[bool, str | None]:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm) as exc:
        return False, str(exc) or type(exc).__name__
    return True, None


def _parameters(cert: x509.Certificate) -> object:
    """The signature's padding (PKCS1v15, PSS), ECDSA, or None; None if unknown."""
    try:
        return cert.signature_algorithm_parameters
    except (ValueError, UnsupportedAlgorithm):
        return None


def _hash_name(cert: x509.Certificate) -> str | None:
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return None
    return None if algorithm is None else _HASH_NAMES.get(algorithm.name)


def xray(
    cert: x509.Certificate,
    issuer: x509.Certificate | None,
    *,
    index: int = 0,
    issuer_source: str | None = None,
) -> CertificateXray:
    """See through ``cert``, opening its signature with ``issuer``'s public key.

    Args:
        cert: Any X.509 certificate.
        issuer: The certificate whose key should have signed it, or None.
        index: Its position in the file or chain (0 first).
        issuer_source: Where ``issuer`` came from (see
            :attr:`CertificateXray.issuer_source`).
    """
    ca = _is_ca(cert)
    oid = cert.signature_algorithm_oid
    hash_name = _hash_name(cert)
    tbs = cert.tbs_certificate_bytes
    opened: OpenedSignature | None = None
    not_opened: str | None = None
    if issuer is None:
        not_opened = "no_issuer"
    elif not isinstance(_parameters(cert), padding.PKCS1v15):
        not_opened = "not_rsa_signature"
    else:
        key = issuer.public_key()
        if isinstance(key, rsa.RSAPublicKey):
            opened = open_signature(cert.signature, key)
        else:
            not_opened = "issuer_key_not_rsa"
    verified, error = (None, None) if issuer is None else _verdict(cert, issuer)
    return CertificateXray(
        index=index,
        subject=cert.subject.rfc4514_string(),
        alt_names=_alt_names(cert),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc.isoformat(),
        not_after=cert.not_valid_after_utc.isoformat(),
        is_ca=ca,
        key_usage=_key_usage(cert),
        public_key=public_key_view(cert.public_key(), is_ca=ca),
        signature_algorithm=str(getattr(oid, "_name", oid.dotted_string)),
        signature_oid=oid.dotted_string,
        signature=cert.signature,
        fingerprint=cert.fingerprint(hashes.SHA256()).hex(),
        issuer_source=None if issuer is None else issuer_source,
        issuer_used=None if issuer is None else issuer.subject.rfc4514_string(),
        hash_name=hash_name,
        digest_s=None if hash_name is None else hashlib.new(_HASHLIB[hash_name], tbs).digest(),
        opened=opened,
        not_opened=not_opened,
        verified=verified,
        verify_error=error,
    )


def pick_issuer(
    cert: x509.Certificate, candidates: Sequence[tuple[str, x509.Certificate]]
) -> tuple[str, x509.Certificate] | None:
    """The first candidate named as ``cert``'s issuer; else the first one; else itself.

    Args:
        cert: The certificate whose signature is to be opened.
        candidates: ``(source, certificate)`` pairs in order of preference.

    Returns:
        ``(source, issuer)``, or None if there is no candidate and ``cert``
        is not self-issued.
    """
    for source, candidate in candidates:
        if candidate.subject == cert.issuer:
            return source, candidate
    if cert.subject == cert.issuer:
        return "self", cert
    return candidates[0] if candidates else None


def xray_file(
    certs: Sequence[x509.Certificate], issuer: x509.Certificate | None = None
) -> list[CertificateXray]:
    """X-ray every certificate of a file, as ``toytls inspect`` does.

    Each certificate's signature is opened with the next certificate in the
    file, the given ``issuer``, or itself if self-signed — the first of those
    whose name is its issuer's, else the first there is.
    """
    result = []
    for index, cert in enumerate(certs):
        candidates: list[tuple[str, x509.Certificate]] = []
        if index + 1 < len(certs):
            candidates.append(("next", certs[index + 1]))
        if issuer is not None:
            candidates.append(("given", issuer))
        picked = pick_issuer(cert, candidates)
        source, used = picked if picked is not None else (None, None)
        result.append(xray(cert, used, index=index, issuer_source=source))
    return result


def xray_chain(
    chain: Sequence[x509.Certificate], roots: Sequence[x509.Certificate]
) -> list[CertificateXray]:
    """X-ray a presented chain as the client checks it (``client -vv``).

    Each certificate is opened with its issuer by name among the chain and
    the trusted roots; a trusted root the chain leads to but the server did
    not send comes last.
    """
    result = []
    pool = [("chain", c) for c in chain] + [("trusted", r) for r in roots]
    for index, cert in enumerate(chain):
        named = [(s, c) for s, c in pool if c.subject == cert.issuer and c is not cert]
        picked = pick_issuer(cert, named)
        source, used = picked if picked is not None else (None, None)
        if source == "chain" and used in roots:
            source = "trusted"
        result.append(xray(cert, used, index=index, issuer_source=source))
    last = chain[-1] if chain else None
    if last is not None and last.subject != last.issuer:
        for root in roots:
            if root.subject == last.issuer and root not in chain:
                result.append(xray(root, root, index=len(chain), issuer_source="self"))
                break
    return result
