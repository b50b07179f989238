"""Chains that passed §4, remembered while every certificate of their path is valid.

A client that connects to the same server again is sent the same chain, and
checking it again is the largest cost of its handshake after the RSA
encryption (a path build and two signature checks, about 70 µs). The answer
cannot change: it depends only on the chain's bytes, the name, the trusted
roots and the time, and time only through the validity periods of the path
the verifier built. So a chain that passed is remembered with the window in
which all of that path's certificates are valid, and passes again, without
the checks, for the same chain, name and roots at any moment in that window
(the idea of Chromium's ``CachingCertVerifier``). A refusal is never
remembered: it is checked, and explained, every time.

This module does no I/O; its state is the bounded dictionary below.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from .links import utc
from .verification import VerifiedChain, verify_server_certificates

#: How many passed chains to remember (a client talks to few servers).
MAX_VERDICTS = 64


@dataclass(frozen=True, kw_only=True, slots=True)
class Verdict:
    """A chain that passed, and what the handshake reports about it.

    Attributes:
        chain: The verified path, leaf first.
        path_names: The subjects along the path, RFC 4514 (for the
            :class:`~toytls.core.events.ChainVerified` event).
        root_sha256: The SHA-256 fingerprint of the path's root, hex (for
            the same event; hashed once, not on every handshake).
        valid_from: The latest ``notBefore`` on the path.
        valid_until: The earliest ``notAfter`` on the path.
    """

    chain: VerifiedChain
    path_names: tuple[str, ...]
    root_sha256: str
    valid_from: datetime.datetime
    valid_until: datetime.datetime


_Key = tuple[tuple[x509.Certificate, ...], str, tuple[x509.Certificate, ...]]
_verdicts: dict[_Key, Verdict] = {}


def verify_remembered(
    chain: Sequence[x509.Certificate],
    server_name: str,
    roots: Sequence[x509.Certificate],
    *,
    now: datetime.datetime | None = None,
) -> Verdict:
    """:func:`~toytls.core.verification.verify_server_certificates`, remembered.

    Returns:
        The verdict for a chain that passes; the same object each time the
        same chain, name and roots pass again within its window.

    Raises:
        CertificateVerifyError: As ``verify_server_certificates`` raises it;
            a chain that fails is checked again on every call.
    """
    when = utc(now)
    key = (tuple(chain), server_name, tuple(roots))
    verdict = _verdicts.get(key)
    if verdict is not None and verdict.valid_from <= when <= verdict.valid_until:
        return verdict
    verified = verify_server_certificates(chain, server_name, roots, now=when)
    verdict = Verdict(
        chain=verified,
        path_names=tuple(c.subject.rfc4514_string() for c in verified.path),
        root_sha256=verified.path[-1].fingerprint(hashes.SHA256()).hex(),
        valid_from=max(c.not_valid_before_utc for c in verified.path),
        valid_until=min(c.not_valid_after_utc for c in verified.path),
    )
    if key not in _verdicts and len(_verdicts) >= MAX_VERDICTS:
        del _verdicts[next(iter(_verdicts))]  # the oldest
    _verdicts[key] = verdict
    return verdict


def forget_verdicts() -> None:
    """Forget every remembered chain (for tests and benchmarks)."""
    _verdicts.clear()
