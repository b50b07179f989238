"""What the client checks before it trusts a server's key (PROTOCOL.md §4).

Theory of operation
-------------------
The *decision* belongs to ``cryptography.x509.verification``: it builds a
path from the leaf through the intermediates the server sent (in any order)
to one of our roots, checks every signature, validity period, CA constraint,
the name and the end-entity profile. We add the one row it does not cover —
the leaf's key must be RSA with a modulus of at least 2048 bits, because the
client is about to encrypt its secret to it.

When the verifier says no, its message is terse ("candidates exhausted: …")
and does not follow §4's order. So :func:`verify_server_chain` then
*explains* the failure (:mod:`toytls.core.refusals`): it inspects the chain
row by row in §4's order with ``cryptography``'s own tools (name matching,
``verify_directly_issued_by``, validity dates, extensions) and raises the
first row that fails, with its alert and a sentence for people. The
explanation never turns a rejection into an acceptance: if it finds nothing,
the verifier's own message is used with ``bad_certificate``.

:func:`check_links` is for narration only. It shows the article's two
digests for each link — S, the SHA-256 of the signed part of a certificate,
and T, the digest recovered from the signature with the issuer's public key
— and whether the signature verifies. It never decides trust.

This module does no I/O. Its only state is a small cache of parsed
certificates (the same chain arrives on every connection to a server).
"""

from __future__ import annotations

import datetime
import functools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from .constants import AlertDescription
from .errors import CertificateVerifyError
from .links import utc
from .refusals import explain, weak_key

#: What cryptography raises for a certificate that is not well formed.
_MALFORMED = (
    ValueError,
    CryptographyDeprecationWarning,
    x509.InvalidVersion,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
)


@dataclass(frozen=True, kw_only=True, slots=True)
class VerifiedChain:
    """A chain that passed every check of §4.

    Attributes:
        path: The certificates from the leaf to the trusted root, as the
            verifier built them.
        server_name: The name the chain was checked against.
    """

    path: tuple[x509.Certificate, ...]
    server_name: str

    @property
    def leaf(self) -> x509.Certificate:
        """The server's certificate."""
        return self.path[0]

    @property
    def leaf_public_key(self) -> rsa.RSAPublicKey:
        """The key the client encrypts its secret to (RSA, checked)."""
        key = self.path[0].public_key()
        # verify_server_chain only builds a VerifiedChain for an RSA leaf.
        assert isinstance(key, rsa.RSAPublicKey)
        return key


# --- parsing ------------------------------------------------------------------


def parse_chain(ders: Sequence[bytes]) -> list[x509.Certificate]:
    """Parse the DER certificates of a Certificate message, leaf first.

    Extensions and the public key are parsed too, so that a malformed one is
    reported here rather than later.

    Raises:
        CertificateVerifyError: ``decode_error`` if ``ders`` is empty or an
            entry is not a well-formed certificate.
    """
    if not ders:
        raise CertificateVerifyError(
            "the server sent no certificate",
            alert=AlertDescription.DECODE_ERROR,
            key="cert.none_sent",
        )
    return [_parse_one(index, der) for index, der in enumerate(ders)]


def _parse_one(index: int, der: bytes) -> x509.Certificate:
    try:
        return _parse_der(der)
    except _MALFORMED as exc:
        raise _malformed(index, exc) from exc


# The same chain arrives on every connection to a server: parse each
# distinct DER once, wherever it stands in a chain. Keyed by the whole DER
# (equal bytes, equal certificate); certificates are immutable; a failure
# raises and so is never cached.
@functools.lru_cache(maxsize=64)
def _parse_der(der: bytes) -> x509.Certificate:
    """Parse one certificate fully, or raise one of ``_MALFORMED``."""
    with warnings.catch_warnings():
        # cryptography only warns about some malformations for now (a serial
        # number that is not positive, RFC 5280 §4.1.2.2) and will reject
        # them in a future release; they are decode errors here already.
        warnings.simplefilter("error", CryptographyDeprecationWarning)
        cert = x509.load_der_x509_certificate(der)
        # Names, dates and extensions are parsed lazily: parse them now,
        # so that a malformed one is a decode_error here and not an
        # exception from deep inside a later check.
        _ = (cert.subject, cert.issuer, cert.extensions)
        _ = (cert.not_valid_before_utc, cert.not_valid_after_utc)
    try:
        cert.public_key()
    except UnsupportedAlgorithm:
        # A well-formed key of a type we do not know: the key row says no.
        pass
    return cert


def _malformed(index: int, exc: Exception) -> CertificateVerifyError:
    return CertificateVerifyError(
        f"certificate {index} is not well-formed DER: {exc}",
        alert=AlertDescription.DECODE_ERROR,
        key="cert.malformed",
        params={"index": index, "detail": str(exc)},
    )


# --- the decision -------------------------------------------------------------


def verify_server_chain(
    ders: Sequence[bytes],
    server_name: str,
    roots: Sequence[x509.Certificate],
    *,
    now: datetime.datetime | None = None,
) -> VerifiedChain:
    """Run the checks of §4 on the chain a server sent.

    Args:
        ders: The Certificate message's entries, leaf first, then
            intermediates in any order (the root may be among them).
        server_name: The name the client asked for.
        roots: The trusted roots.
        now: The time to check validity at (naive means UTC); the current
            time when None.

    Returns:
        The verified path, leaf first, ending at one of ``roots``.

    Raises:
        CertificateVerifyError: With the alert of the first §4 row that
            fails, in the table's order, and a reason naming what failed.
    """
    return verify_server_certificates(parse_chain(ders), server_name, roots, now=now)


def verify_server_certificates(
    chain: Sequence[x509.Certificate],
    server_name: str,
    roots: Sequence[x509.Certificate],
    *,
    now: datetime.datetime | None = None,
) -> VerifiedChain:
    """:func:`verify_server_chain` for a chain already parsed with :func:`parse_chain`.

    Raises:
        CertificateVerifyError: As for :func:`verify_server_chain`.
    """
    when = utc(now)
    if not roots:
        raise CertificateVerifyError(
            "no trusted root certificates are configured",
            alert=AlertDescription.UNKNOWN_CA,
            key="cert.no_roots",
        )
    try:
        verifier = (
            PolicyBuilder()
            .store(Store(list(roots)))
            .time(when)
            .build_server_verifier(x509.DNSName(server_name))
        )
    except ValueError as exc:
        raise CertificateVerifyError(
            f"{server_name!r} is not a valid DNS name, so no certificate can match it",
            alert=AlertDescription.BAD_CERTIFICATE,
            key="cert.bad_dns_name",
            params={"name": server_name},
        ) from exc
    try:
        path = verifier.verify(chain[0], list(chain[1:]))
    except VerificationError as exc:
        raise explain(chain, roots, server_name, when, str(exc)) from exc
    weak = weak_key(path[0], leaf=True)
    if weak is not None:
        raise weak
    return VerifiedChain(path=tuple(path), server_name=server_name)
