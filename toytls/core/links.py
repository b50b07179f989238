"""The article's two digests for each link of a chain, for the story.

For each certificate :func:`check_links` shows S, the SHA-256 of its signed
part, and T, the digest recovered from its signature with the issuer's
public key A+, and whether the signature verifies. It never decides trust:
that is :mod:`toytls.core.verification`'s, which reuses the path walking and
the signature helpers here to explain a refusal.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

#: The DER DigestInfo header that precedes a SHA-256 digest in a PKCS#1 v1.5
#: signature (RFC 8017 §9.2, note 1).
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


@dataclass(frozen=True, kw_only=True, slots=True)
class LinkCheck:
    """One certificate of a chain, checked against the issuer found for it.

    Attributes:
        index: Position in the presented chain (0 = leaf); the root that
            anchors the chain, when the server did not send it, comes last
            with ``index == len(chain)``.
        subject: The certificate's subject, RFC 4514.
        issuer: The issuer named in the certificate, RFC 4514.
        issuer_found: Whether a certificate with that subject was found
            among the presented ones and the trusted roots.
        digest_s: SHA-256 of the signed part (``tbsCertificate``): the
            article's digest S.
        digest_t: The digest recovered from the signature with the issuer's
            public key: the article's digest T. None if there is no issuer,
            its key is not RSA, or the signature does not decode to a
            SHA-256 DigestInfo under that key.
        signature_valid: Whether the issuer's key verifies the signature.
    """

    index: int
    subject: str
    issuer: str
    issuer_found: bool
    digest_s: bytes
    digest_t: bytes | None
    signature_valid: bool


def sha256(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SHA256())
    digest.update(data)
    return digest.finalize()


def signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer``'s name and key match ``cert``'s issuer and signature."""
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def recover_digest(cert: x509.Certificate, issuer: x509.Certificate) -> bytes | None:
    """Recover digest T from ``cert``'s signature with ``issuer``'s key."""
    try:
        key = issuer.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return None
    if not isinstance(key, rsa.RSAPublicKey):
        return None
    try:
        # With no algorithm, recovery returns the whole DigestInfo.
        info = key.recover_data_from_signature(cert.signature, padding.PKCS1v15(), None)
    except (InvalidSignature, ValueError):
        return None
    if not info.startswith(SHA256_DIGEST_INFO):
        return None
    digest = info[len(SHA256_DIGEST_INFO) :]
    return digest if len(digest) == 32 else None


def find_issuer(
    cert: x509.Certificate,
    pool: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
    now: datetime.datetime,
) -> x509.Certificate | None:
    """Pick ``cert``'s issuer from ``pool`` by name.

    Among certificates with the right subject, prefer one whose signature
    verifies, then one inside its validity period, then a trusted root — the
    same candidate the verifier would settle on.
    """
    matches = [c for c in pool if c.subject == cert.issuer]
    if not matches:
        return None
    return min(
        matches,
        key=lambda c: (
            not signed_by(cert, c),
            not is_current(c, now),
            c not in roots,
        ),
    )


def build_path(
    chain: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
    now: datetime.datetime,
) -> tuple[list[x509.Certificate], bool]:
    """Follow issuer names from the leaf towards a trusted root.

    Returns:
        The path (leaf first) and whether it ends at a trusted root. Each
        certificate appears at most once, so the walk always ends.
    """
    pool = [*chain[1:], *roots]
    path = [chain[0]]
    while path[-1] not in roots:
        cert = path[-1]
        if cert.issuer == cert.subject:
            return path, False
        issuer = find_issuer(cert, [c for c in pool if c not in path], roots, now)
        if issuer is None:
            return path, False
        path.append(issuer)
    return path, True


def _link(index: int, cert: x509.Certificate, issuer: x509.Certificate | None) -> LinkCheck:
    return LinkCheck(
        index=index,
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        issuer_found=issuer is not None,
        digest_s=sha256(cert.tbs_certificate_bytes),
        digest_t=None if issuer is None else recover_digest(cert, issuer),
        signature_valid=issuer is not None and signed_by(cert, issuer),
    )


def check_links(
    chain: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
    *,
    now: datetime.datetime | None = None,
) -> tuple[LinkCheck, ...]:
    """Explain each link of a presented chain: digest S, digest T, verdict.

    For each presented certificate the issuer is looked up by name among
    the presented certificates and the roots. If the chain leads to a root
    the server did not send, a last entry checks that root's
    self-signature. This is narration: it never decides trust (use
    :func:`verify_server_chain`).

    Args:
        chain: The presented certificates, leaf first.
        roots: The trusted roots.
        now: Only breaks ties between issuers of the same name (one inside
            its validity period is preferred); the current time when None.
    """
    if not chain:
        return ()
    when = utc(now)
    pool = [*chain, *(r for r in roots if r not in chain)]
    links = [_link(i, c, find_issuer(c, pool, roots, when)) for i, c in enumerate(chain)]
    path, anchored = build_path(chain, roots, when)
    if anchored and path[-1] not in chain:
        links.append(_link(len(chain), path[-1], path[-1]))
    return tuple(links)


def utc(now: datetime.datetime | None) -> datetime.datetime:
    """Return ``now`` as an aware UTC time; a naive one is taken as UTC."""
    if now is None:
        return datetime.datetime.now(datetime.UTC)
    if now.tzinfo is None:
        return now.replace(tzinfo=datetime.UTC)
    return now.astimezone(datetime.UTC)


def is_current(cert: x509.Certificate, now: datetime.datetime) -> bool:
    return cert.not_valid_before_utc <= now <= cert.not_valid_after_utc
