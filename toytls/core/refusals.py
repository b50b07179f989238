"""Why the client refused a chain: the rows of §4, checked in the table's order.

When ``cryptography``'s verifier says no, its message is terse and does not
follow §4's order. :func:`explain` inspects the chain row by row with
``cryptography``'s own tools (name matching, ``verify_directly_issued_by``,
validity dates, extensions) and returns the first row that fails, with its
alert, a sentence for people and the sentence's message id and values (for
:mod:`toytls.story.error_texts`). It never turns a rejection into an
acceptance. :func:`weak_key` is also the one row the verifier does not cover.

This module does no I/O.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable, Sequence
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from .constants import AlertDescription
from .errors import CertificateVerifyError
from .links import build_path, is_current, recover_digest, sha256, signed_by

#: §4 — the smallest RSA modulus the client encrypts its secret to.
MIN_RSA_BITS = 2048

_Check = Callable[[], "CertificateVerifyError | None"]
_E = TypeVar("_E", bound=x509.ExtensionType)

#: Names of the extendedKeyUsage purposes a reason may mention.
_EKU_NAMES = {
    ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth",
    ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth",
    ExtendedKeyUsageOID.CODE_SIGNING: "codeSigning",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "emailProtection",
    ExtendedKeyUsageOID.TIME_STAMPING: "timeStamping",
    ExtendedKeyUsageOID.OCSP_SIGNING: "OCSPSigning",
}


def _bad(reason: str, key: str, **params: object) -> CertificateVerifyError:
    return CertificateVerifyError(
        reason, alert=AlertDescription.BAD_CERTIFICATE, key=key, params=params
    )


def _who(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string()


def explain(
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
        lambda: next(filter(None, (weak_key(c, leaf=c is leaf) for c in path)), None),
    ]
    for row in rows:
        error = row()
        if error is not None:
            return error
    detail = message.removeprefix("validation failed: ")
    return _bad(
        f"the chain breaks the certificate profile: {detail}", "cert.profile", detail=detail
    )


def _untrusted(last: x509.Certificate) -> CertificateVerifyError:
    subject, issuer = _who(last), last.issuer.rfc4514_string()
    if last.issuer == last.subject:
        key, reason = "cert.self_signed", f"{subject} is self-signed, and is not a trusted root"
    else:
        key = "cert.untrusted_issuer"
        reason = f"{subject} is issued by {issuer}, which is not a trusted root"
    return CertificateVerifyError(
        reason,
        alert=AlertDescription.UNKNOWN_CA,
        key=key,
        params={"subject": subject, "issuer": issuer},
    )


def _bad_signature(path: Sequence[x509.Certificate]) -> CertificateVerifyError | None:
    for cert, issuer in itertools.pairwise(path):
        if signed_by(cert, issuer):
            continue
        digest_s = sha256(cert.tbs_certificate_bytes)
        digest_t = recover_digest(cert, issuer)
        names = {"subject": _who(cert), "issuer": _who(issuer)}
        if digest_t is None:
            key, detail = "cert.t_unrecoverable", f"T cannot be recovered with {_who(issuer)}'s key"
        else:
            t, s = digest_t[:8].hex(), digest_s[:8].hex()
            key, detail = "cert.t_not_s", f"T = {t}…, S = {s}…"
            names |= {"t": t, "s": s}
        return _bad(
            f"the signature on {_who(cert)} does not match its content: digest T ≠ S ({detail})",
            key,
            **names,
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
            key, reason = (
                "cert.not_yet_valid",
                f"{_who(cert)} is not yet valid: its validity starts {_when(start)}",
            )
        else:
            key, reason = "cert.expired", f"{_who(cert)} expired {_when(end)}"
        return CertificateVerifyError(
            f"{reason} (valid {_when(start)} to {_when(end)}, now {_when(now)})",
            alert=AlertDescription.CERTIFICATE_EXPIRED,
            key=key,
            params={
                "subject": _who(cert),
                "start": _when(start),
                "end": _when(end),
                "now": _when(now),
            },
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
        names = {"issuer": _who(issuer), "subject": _who(child)}
        if constraints is None or not constraints.ca:
            return _bad(
                f"{_who(issuer)} issued {_who(child)} but is not a CA "
                "(basicConstraints cA is not TRUE)",
                "cert.issuer_not_ca",
                **names,
            )
        if usage is None or not usage.key_cert_sign:
            return _bad(
                f"{_who(issuer)} issued {_who(child)} but may not sign "
                "certificates (its keyUsage lacks keyCertSign)",
                "cert.issuer_cannot_sign",
                **names,
            )
        # RFC 5280 §4.2.1.9: self-issued CAs below do not count.
        below = sum(1 for c in path[1:position] if c.issuer != c.subject)
        limit = constraints.path_length
        if limit is not None and below > limit:
            return _bad(
                f"{_who(issuer)} allows {limit} CA certificate(s) below it "
                f"(pathLenConstraint {limit}), but {below} follow it",
                "cert.path_length",
                issuer=_who(issuer),
                limit=limit,
                below=below,
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
        return _bad(
            f"{_who(leaf)} has no subjectAltName, and the common name is never consulted",
            "cert.no_san",
            subject=_who(leaf),
        )
    names = san.get_values_for_type(x509.DNSName)
    if any(_dns_matches(pattern, server_name) for pattern in names):
        return None
    if not names:
        return _bad(
            f"the certificate is for no DNS name at all, not {server_name}",
            "cert.no_dns_name",
            name=server_name,
        )
    held = ", ".join(names)
    return _bad(
        f"the certificate is for {held}, not {server_name}",
        "cert.other_name",
        names=held,
        name=server_name,
    )


def _bad_leaf_profile(leaf: x509.Certificate) -> CertificateVerifyError | None:
    constraints = _extension(leaf, x509.BasicConstraints)
    if constraints is not None and constraints.ca:
        return _bad(
            f"the server certificate {_who(leaf)} is a CA (basicConstraints "
            "cA=TRUE), which a leaf must not be",
            "cert.leaf_is_ca",
            subject=_who(leaf),
        )
    usage = _extension(leaf, x509.ExtendedKeyUsage)
    if usage is not None and ExtendedKeyUsageOID.SERVER_AUTH not in usage:
        held = ", ".join(_EKU_NAMES.get(oid, oid.dotted_string) for oid in usage)
        return _bad(
            f"the server certificate {_who(leaf)} is not for servers: its "
            f"extendedKeyUsage ({held}) lacks serverAuth",
            "cert.not_for_servers",
            subject=_who(leaf),
            usages=held,
        )
    return None


def weak_key(cert: x509.Certificate, *, leaf: bool) -> CertificateVerifyError | None:
    """The key row of §4 for the leaf; for a CA, only RSA below 2048 bits.

    The verifier enforces the same minimum on CA keys but allows other key
    types there, so only a weak RSA CA key is named.
    """
    try:
        key = cert.public_key()
    except UnsupportedAlgorithm:
        return _bad(
            f"{_who(cert)} has a key of a type toytls does not know",
            "cert.unknown_key_type",
            subject=_who(cert),
        )
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            return _bad(
                f"weak key: RSA-{key.key_size} in {_who(cert)} "
                f"(at least RSA-{MIN_RSA_BITS} is required)",
                "cert.weak_key",
                bits=key.key_size,
                subject=_who(cert),
                minimum=MIN_RSA_BITS,
            )
        return None
    if leaf:
        return _bad(
            f"the server certificate's key is {type(key).__name__}, not RSA",
            "cert.leaf_not_rsa",
            key_type=type(key).__name__,
        )
    return None
