"""Remembered verdicts: a chain that passed passes again only where it would pass.

The cache must never change an answer: the same chain, name and roots at a
moment inside the path's validity window give the remembered verdict; any
other name, roots, bytes or moment is checked again, and refusals are
never remembered.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from toytls.core import verdicts
from toytls.core.errors import CertificateVerifyError
from toytls.core.verdicts import forget_verdicts, verify_remembered
from toytls.core.verification import VerifiedChain, parse_chain, verify_server_certificates
from toytls.pki.generate import PKI, generate_pki

SECOND = datetime.timedelta(seconds=1)


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    forget_verdicts()
    yield
    forget_verdicts()


@pytest.fixture
def chain(pki: PKI) -> list[x509.Certificate]:
    return parse_chain([c.public_bytes(Encoding.DER) for c in pki.chain])


def _count_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = verify_server_certificates

    def counting(
        chain: Sequence[x509.Certificate],
        server_name: str,
        roots: Sequence[x509.Certificate],
        *,
        now: datetime.datetime | None = None,
    ) -> VerifiedChain:
        calls.append("checked")
        return real(chain, server_name, roots, now=now)

    monkeypatch.setattr(verdicts, "verify_server_certificates", counting)
    return calls


def test_the_same_chain_is_checked_once(
    pki: PKI, chain: list[x509.Certificate], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _count_checks(monkeypatch)
    roots = [pki.root.certificate]
    first = verify_remembered(chain, "localhost", roots)
    again = verify_remembered(list(chain), "localhost", tuple(roots))
    assert again is first
    assert calls == ["checked"]
    assert first.path_names[0] == pki.server.certificate.subject.rfc4514_string()
    assert first.valid_from == max(c.not_valid_before_utc for c in first.chain.path)
    assert first.valid_until == min(c.not_valid_after_utc for c in first.chain.path)


def test_another_name_or_roots_is_checked_again(pki: PKI, chain: list[x509.Certificate]) -> None:
    verify_remembered(chain, "localhost", [pki.root.certificate])
    with pytest.raises(CertificateVerifyError):
        verify_remembered(chain, "example.com", [pki.root.certificate])
    other = generate_pki("localhost")
    with pytest.raises(CertificateVerifyError):
        verify_remembered(chain, "localhost", [other.root.certificate])


def test_outside_the_window_is_checked_again(pki: PKI, chain: list[x509.Certificate]) -> None:
    roots = [pki.root.certificate]
    verdict = verify_remembered(chain, "localhost", roots)
    assert verify_remembered(chain, "localhost", roots, now=verdict.valid_until) is verdict
    with pytest.raises(CertificateVerifyError, match="expired"):
        verify_remembered(chain, "localhost", roots, now=verdict.valid_until + SECOND)
    with pytest.raises(CertificateVerifyError, match="not yet valid"):
        verify_remembered(chain, "localhost", roots, now=verdict.valid_from - SECOND)


def test_refusals_are_not_remembered(
    pki: PKI, chain: list[x509.Certificate], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _count_checks(monkeypatch)
    for _ in range(2):
        with pytest.raises(CertificateVerifyError):
            verify_remembered(chain, "other.example", [pki.root.certificate])
    assert calls == ["checked", "checked"]


def test_the_cache_is_bounded(
    pki: PKI, chain: list[x509.Certificate], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verdicts, "MAX_VERDICTS", 2)
    roots = [pki.root.certificate]
    moments = [verify_remembered(chain, "localhost", roots)]
    # Other root tuples make other keys (the same root twice is another tuple).
    verify_remembered(chain, "localhost", roots * 2)
    verify_remembered(chain, "localhost", roots * 3)
    assert len(verdicts._verdicts) == 2
    assert verify_remembered(chain, "localhost", roots) is not moments[0]
