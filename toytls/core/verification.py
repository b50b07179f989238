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
*explains* the failure: it inspects the chain row by row in §4's order with
``cryptography``'s own tools (name matching, ``verify_directly_issued_by``,
validity dates, extensions) and raises the first row that fails, with its
alert and a sentence for people. The explanation never turns a rejection
into an acceptance: if it finds nothing, the verifier's own message is used
with ``bad_certificate``.

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
import itertools
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from .constants import AlertDescription
from .errors import CertificateVerifyError
from .links import (
    build_path,
    is_current,
    recover_digest,
    sha256,
    signed_by,
    utc,
)

#: §4 — the smallest RSA modulus the client encrypts its secret to.
MIN_RSA_BITS = 2048

_Check = Callable[[], "CertificateVerifyError | None"]
_E = TypeVar("_E", bound=x509.ExtensionType)

#: What cryptography raises for a certificate that is not well formed.
_MALFORMED = (
    ValueError,
    CryptographyDeprecationWarning,
    x509.InvalidVersion,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
)

#: Names of the extendedKeyUsage purposes a reason may mention.
_EKU_NAMES = {
    ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth",
    ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth",
    ExtendedKeyUsageOID.CODE_SIGNING: "codeSigning",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "emailProtection",
    ExtendedKeyUsageOID.TIME_STAMPING: "timeStamping",
    ExtendedKeyUsageOID.OCSP_SIGNING: "OCSPSigning",
}


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
            "the server sent no certificate", alert=AlertDescription.DECODE_ERROR
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
        ) from exc
    try:
        path = verifier.verify(chain[0], list(chain[1:]))
    except VerificationError as exc:
        raise _explain(chain, roots, server_name, when, str(exc)) from exc
    weak = _weak_key(path[0], leaf=True)
    if weak is not None:
        raise weak
    return VerifiedChain(path=tuple(path), server_name=server_name)


# --- explaining a rejection, row by row in §4's order -------------------------


def _bad(reason: str) -> CertificateVerifyError:
    return CertificateVerifyError(reason, alert=AlertDescription.BAD_CERTIFICATE)


def _who(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string()


def _explain(
    chain: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
    server_name: str,
    now: datetime.datetime,
    message: str,
) -> CertificateVerifyError:
    """Say which row of §4 a chain the verifier rejected fails first."""
    path, anchored = build_path(chain, roots, now)
    leaf = path[0]
    rows: list[_Check] = [
        lambda: None if anchored else _untrusted(path[-1]),
        lambda: _bad_signature(path),
        lambda: _outside_validity(path, now),
        lambda: _not_a_ca(path),
        lambda: _name_mismatch(leaf, server_name),
        lambda: _bad_leaf_profile(leaf),
        lambda: next(filter(None, (_weak_key(c, leaf=c is leaf) for c in path)), None),
    ]
    for row in rows:
        error = row()
        if error is not None:
            return error
    detail = message.removeprefix("validation failed: ")
    return _bad(f"the chain breaks the certificate profile: {detail}")


def _untrusted(last: x509.Certificate) -> CertificateVerifyError:
    if last.issuer == last.subject:
        reason = f"{_who(last)} is self-signed, and is not a trusted root"
    else:
        reason = (
            f"{_who(last)} is issued by {last.issuer.rfc4514_string()}, which is not a trusted root"
        )
    return CertificateVerifyError(reason, alert=AlertDescription.UNKNOWN_CA)


def _bad_signature(path: Sequence[x509.Certificate]) -> CertificateVerifyError | None:
    for cert, issuer in itertools.pairwise(path):
        if signed_by(cert, issuer):
            continue
        digest_s = sha256(cert.tbs_certificate_bytes)
        digest_t = recover_digest(cert, issuer)
        if digest_t is None:
            detail = f"T cannot be recovered with {_who(issuer)}'s key"
        else:
            detail = f"T = {digest_t[:8].hex()}…, S = {digest_s[:8].hex()}…"
        return _bad(
            f"the signature on {_who(cert)} does not match its content: digest T ≠ S ({detail})"
        )
    return None


def _when(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _outside_validity(
    path: Sequence[x509.Certificate], now: datetime.datetime
) -> CertificateVerifyError | None:
    for cert in path:
        if is_current(cert, now):
            continue
        start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
        if now < start:
            reason = f"{_who(cert)} is not yet valid: its validity starts {_when(start)}"
        else:
            reason = f"{_who(cert)} expired {_when(end)}"
        return CertificateVerifyError(
            f"{reason} (valid {_when(start)} to {_when(end)}, now {_when(now)})",
            alert=AlertDescription.CERTIFICATE_EXPIRED,
        )
    return None


def _extension(cert: x509.Certificate, kind: type[_E]) -> _E | None:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _not_a_ca(path: Sequence[x509.Certificate]) -> CertificateVerifyError | None:
    for position in range(1, len(path)):
        issuer, child = path[position], path[position - 1]
        constraints = _extension(issuer, x509.BasicConstraints)
        usage = _extension(issuer, x509.KeyUsage)
        if constraints is None or not constraints.ca:
            return _bad(
                f"{_who(issuer)} issued {_who(child)} but is not a CA "
                "(basicConstraints cA is not TRUE)"
            )
        if usage is None or not usage.key_cert_sign:
            return _bad(
                f"{_who(issuer)} issued {_who(child)} but may not sign "
                "certificates (its keyUsage lacks keyCertSign)"
            )
        # RFC 5280 §4.2.1.9: self-issued CAs below do not count.
        below = sum(1 for c in path[1:position] if c.issuer != c.subject)
        limit = constraints.path_length
        if limit is not None and below > limit:
            return _bad(
                f"{_who(issuer)} allows {limit} CA certificate(s) below it "
                f"(pathLenConstraint {limit}), but {below} follow it"
            )
    return None


def _dns_matches(pattern: str, name: str) -> bool:
    """RFC 6125 §6.4: ASCII case-insensitive, ``*`` as the whole left-most label."""
    pattern, name = pattern.lower(), name.lower()
    if not pattern.startswith("*."):
        return pattern == name
    head, _, rest = name.partition(".")
    return bool(head) and rest == pattern[2:]


def _name_mismatch(leaf: x509.Certificate, server_name: str) -> CertificateVerifyError | None:
    san = _extension(leaf, x509.SubjectAlternativeName)
    if san is None:
        return _bad(f"{_who(leaf)} has no subjectAltName, and the common name is never consulted")
    names = san.get_values_for_type(x509.DNSName)
    if any(_dns_matches(pattern, server_name) for pattern in names):
        return None
    held = ", ".join(names) if names else "no DNS name at all"
    return _bad(f"the certificate is for {held}, not {server_name}")


def _bad_leaf_profile(leaf: x509.Certificate) -> CertificateVerifyError | None:
    constraints = _extension(leaf, x509.BasicConstraints)
    if constraints is not None and constraints.ca:
        return _bad(
            f"the server certificate {_who(leaf)} is a CA (basicConstraints "
            "cA=TRUE), which a leaf must not be"
        )
    usage = _extension(leaf, x509.ExtendedKeyUsage)
    if usage is not None and ExtendedKeyUsageOID.SERVER_AUTH not in usage:
        held = ", ".join(_EKU_NAMES.get(oid, oid.dotted_string) for oid in usage)
        return _bad(
            f"the server certificate {_who(leaf)} is not for servers: its "
            f"extendedKeyUsage ({held}) lacks serverAuth"
        )
    return None


def _weak_key(cert: x509.Certificate, *, leaf: bool) -> CertificateVerifyError | None:
    """The key row of §4 for the leaf; for a CA, only RSA below 2048 bits.

    The verifier enforces the same minimum on CA keys but allows other key
    types there, so only a weak RSA CA key is named.
    """
    try:
        key = cert.public_key()
    except UnsupportedAlgorithm:
        return _bad(f"{_who(cert)} has a key of a type toytls does not know")
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            return _bad(
                f"weak key: RSA-{key.key_size} in {_who(cert)} "
                f"(at least RSA-{MIN_RSA_BITS} is required)"
            )
        return None
    if leaf:
        return _bad(f"the server certificate's key is {type(key).__name__}, not RSA")
    return None
