"""§4: every row of the client's table, with a chain that fails exactly there.

Bad chains are built from the session's PKI and reuse its keys; the only key
generated here is the one RSA-1024 key of the weak-key row.
"""

from __future__ import annotations

import ast
import datetime
import functools
import hashlib
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypedDict

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

import toytls.core.verification
from toytls.attacker import tamper
from toytls.core.constants import AlertDescription
from toytls.core.errors import CertificateVerifyError
from toytls.core.links import check_links
from toytls.core.verification import VerifiedChain, parse_chain, verify_server_chain
from toytls.pki.generate import (
    PKI,
    Issued,
    generate_key,
    make_intermediate_ca,
    make_leaf,
    make_root_ca,
)

NOW = datetime.datetime.now(datetime.UTC)
DAY = datetime.timedelta(days=1)
SECOND = datetime.timedelta(seconds=1)


class Dates(TypedDict):
    not_before: datetime.datetime
    not_after: datetime.datetime


#: Validity periods that are over, and that have not begun.
PAST: Dates = {"not_before": NOW - 30 * DAY, "not_after": NOW - DAY}
FUTURE: Dates = {"not_before": NOW + DAY, "not_after": NOW + 30 * DAY}

DECODE_ERROR = AlertDescription.DECODE_ERROR
UNKNOWN_CA = AlertDescription.UNKNOWN_CA
BAD_CERTIFICATE = AlertDescription.BAD_CERTIFICATE
CERTIFICATE_EXPIRED = AlertDescription.CERTIFICATE_EXPIRED


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def ders(*certs: x509.Certificate) -> list[bytes]:
    return [der(c) for c in certs]


def stamp(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def verify(
    pki: PKI,
    chain: Sequence[bytes],
    server_name: str = "localhost",
    roots: Sequence[x509.Certificate] | None = None,
    now: datetime.datetime | None = None,
) -> VerifiedChain:
    trusted = [pki.root.certificate] if roots is None else roots
    return verify_server_chain(chain, server_name, trusted, now=now)


def rejected(
    pki: PKI,
    chain: Sequence[bytes],
    alert: AlertDescription,
    *reason_parts: str,
    server_name: str = "localhost",
    roots: Sequence[x509.Certificate] | None = None,
    now: datetime.datetime | None = None,
) -> CertificateVerifyError:
    """Check that ``chain`` fails with ``alert`` and a reason holding each part."""
    with pytest.raises(CertificateVerifyError) as info:
        verify(pki, chain, server_name, roots, now)
    error = info.value
    assert error.alert is alert, error.reason
    for part in reason_parts:
        assert part in error.reason
    assert not error.from_peer
    return error


Chain = Callable[[PKI], list[bytes]]


@functools.cache
def weak_key() -> rsa.RSAPrivateKey:
    """The one 1024-bit key of the suite."""
    return generate_key(1024)


def under_r3(pki: PKI, names: Sequence[str] = ("localhost",), **options: Any) -> list[bytes]:
    """A leaf from the real intermediate (by default with the server's key), then R3."""
    options.setdefault("key", pki.server.key)
    leaf = make_leaf(pki.intermediate, names, **options)
    return ders(leaf.certificate, pki.intermediate.certificate)


def under(issuer_of: Callable[[PKI], Issued], *, then_r3: bool = False) -> Chain:
    """A chain builder: a leaf for localhost from the issuer ``issuer_of`` makes.

    With ``then_r3`` the real intermediate is sent after that issuer.
    """

    def build(pki: PKI) -> list[bytes]:
        issuer = issuer_of(pki)
        leaf = make_leaf(issuer, ["localhost"], key=pki.server.key)
        r3 = [pki.intermediate.certificate] if then_r3 else []
        return ders(leaf.certificate, issuer.certificate, *r3)

    return build


def swapped(pki: PKI, chain: list[bytes]) -> list[bytes]:
    """``chain`` with the attacker's key put into its leaf (偷梁换柱)."""
    return [tamper.swap_public_key(chain[0], pki.attacker_key.public_key()), *chain[1:]]


def damaged_signature(pki: PKI) -> list[bytes]:
    leaf = bytearray(der(pki.server.certificate))
    leaf[-1] ^= 0x01  # the last byte of the signature value
    return [bytes(leaf), der(pki.intermediate.certificate)]


def negative_serial(pki: PKI) -> list[bytes]:
    """The real leaf with its serial number's sign bit set (RFC 5280 forbids it)."""
    leaf = bytearray(der(pki.server.certificate))
    serial = pki.server.certificate.serial_number.to_bytes(20, "big").lstrip(b"\0")
    position = bytes(leaf).index(b"\x02" + bytes([len(serial)]) + serial) + 2
    assert leaf[position] < 0x80  # DER: a positive serial starts below 0x80
    leaf[position] |= 0x80
    return [bytes(leaf), der(pki.intermediate.certificate)]


# --- the table: one chain per row, and chains that fail two rows at once -------------


def row(name: str, chain: Chain, alert: AlertDescription, reason: str) -> Any:
    return pytest.param(chain, alert, reason, id=name)


ROWS = [
    # row 1: every certificate's DER is well formed
    row("no certificate", lambda pki: [], DECODE_ERROR, "the server sent no certificate"),
    row("garbage", lambda pki: [b"\x30\x03abc"], DECODE_ERROR, "certificate 0 is not well-formed"),
    row(
        "truncated",
        lambda pki: [der(pki.server.certificate)[:-1]],
        DECODE_ERROR,
        "certificate 0 is not well-formed DER",
    ),
    row(
        "trailing byte",
        lambda pki: [der(pki.server.certificate) + b"\0"],
        DECODE_ERROR,
        "certificate 0 is not well-formed DER",
    ),
    row(
        "garbage intermediate",
        lambda pki: [*ders(pki.server.certificate), b"\5\0"],
        DECODE_ERROR,
        "certificate 1 is not well-formed DER",
    ),
    row(
        "garbage before untrusted",
        lambda pki: [*ders(pki.attacker_self_signed), b"junk"],
        DECODE_ERROR,
        "certificate 1 is not well-formed DER",
    ),
    # row 2: a path to a trusted root
    row(
        "attacker's own CA",
        lambda pki: ders(pki.attacker_own_ca),
        UNKNOWN_CA,
        "CN=localhost,O=toytls is issued by CN=toytls Attacker Root,O=toytls, "
        "which is not a trusted root",
    ),
    row(
        "attacker's own CA and root",
        lambda pki: ders(pki.attacker_own_ca, pki.attacker_root.certificate),
        UNKNOWN_CA,
        "CN=toytls Attacker Root,O=toytls is self-signed, and is not a trusted root",
    ),
    row(
        "self-signed",
        lambda pki: ders(pki.attacker_self_signed),
        UNKNOWN_CA,
        "CN=localhost,O=toytls is self-signed, and is not a trusted root",
    ),
    row(
        "intermediate missing",
        lambda pki: ders(pki.server.certificate),
        UNKNOWN_CA,
        "issued by CN=toytls Intermediate R3,O=toytls, which is not a trusted root",
    ),
    row(
        "untrusted before expired",
        lambda pki: ders(
            make_leaf(pki.attacker_root, ["localhost"], key=pki.attacker_key, **PAST).certificate
        ),
        UNKNOWN_CA,
        "not a trusted root",
    ),
    # row 3: every signature on the path
    row(
        "public key swapped",
        lambda pki: swapped(pki, ders(*pki.chain)),
        BAD_CERTIFICATE,
        "the signature on CN=localhost,O=toytls does not match its content: digest T ≠ S",
    ),
    row(
        "subject tampered",
        lambda pki: [tamper.tamper_subject(der(pki.server.certificate)), der(pki.chain[1])],
        BAD_CERTIFICATE,
        "the signature on CN=mocalhost,O=toytls does not match its content: digest T ≠ S",
    ),
    row(
        "signature damaged",
        damaged_signature,
        BAD_CERTIFICATE,
        "the signature on CN=localhost,O=toytls does not match its content: digest T ≠ S",
    ),
    row(
        "signature before expired",
        lambda pki: swapped(pki, under_r3(pki, **PAST)),
        BAD_CERTIFICATE,
        "digest T ≠ S",
    ),
    # row 4: validity, the root included (see also test_root_outside_its_validity)
    row(
        "expired leaf",
        lambda pki: under_r3(pki, **PAST),
        CERTIFICATE_EXPIRED,
        f"CN=localhost,O=toytls expired {stamp(PAST['not_after'])}",
    ),
    row(
        "leaf not yet valid",
        lambda pki: under_r3(pki, **FUTURE),
        CERTIFICATE_EXPIRED,
        "CN=localhost,O=toytls is not yet valid: its validity starts "
        f"{stamp(FUTURE['not_before'])}",
    ),
    row(
        "expired intermediate",
        under(lambda pki: make_intermediate_ca(pki.root, "Old R2", key=pki.attacker_key, **PAST)),
        CERTIFICATE_EXPIRED,
        "CN=Old R2,O=toytls expired",
    ),
    row(
        "expired before name",
        lambda pki: under_r3(pki, ["other.test"], **PAST),
        CERTIFICATE_EXPIRED,
        "CN=other.test,O=toytls expired",
    ),
    # row 5: every issuer is a CA, within its pathLenConstraint
    row(
        "intermediate not a CA",
        under(lambda pki: make_intermediate_ca(pki.root, "No CA", key=pki.attacker_key, ca=False)),
        BAD_CERTIFICATE,
        "CN=No CA,O=toytls issued CN=localhost,O=toytls but is not a CA",
    ),
    row(
        "leaf as issuer",
        under(
            lambda pki: make_leaf(pki.intermediate, ["a.test"], key=pki.attacker_key), then_r3=True
        ),
        BAD_CERTIFICATE,
        "CN=a.test,O=toytls issued CN=localhost,O=toytls but is not a CA",
    ),
    row(
        "pathLen exceeded",
        under(
            lambda pki: make_intermediate_ca(
                pki.intermediate, "Sub", path_length=None, key=pki.attacker_key
            ),
            then_r3=True,
        ),
        BAD_CERTIFICATE,
        "CN=toytls Intermediate R3,O=toytls allows 0 CA certificate(s) below it "
        "(pathLenConstraint 0), but 1 follow it",
    ),
    # row 6: the name
    row(
        "other name",
        lambda pki: ders(pki.attacker_other_name, pki.intermediate.certificate),
        BAD_CERTIFICATE,
        "the certificate is for attacker.test, not localhost",
    ),
    row(
        "name before EKU",
        lambda pki: under_r3(pki, ["other.test"], eku_server_auth=False),
        BAD_CERTIFICATE,
        "the certificate is for other.test, not localhost",
    ),
    # row 7: the leaf is a server certificate
    row(
        "leaf is a CA",
        lambda pki: under_r3(pki, ca=True),
        BAD_CERTIFICATE,
        "the server certificate CN=localhost,O=toytls is a CA",
    ),
    row(
        "EKU clientAuth",
        lambda pki: under_r3(pki, eku_server_auth=False),
        BAD_CERTIFICATE,
        "extendedKeyUsage (clientAuth) lacks serverAuth",
    ),
    row(
        "EKU before weak key",
        lambda pki: under_r3(pki, key=weak_key(), eku_server_auth=False),
        BAD_CERTIFICATE,
        "lacks serverAuth",
    ),
    # row 8: the leaf's key
    row(
        "RSA-1024 leaf",
        lambda pki: under_r3(pki, key=weak_key()),
        BAD_CERTIFICATE,
        "weak key: RSA-1024 in CN=localhost,O=toytls",
    ),
    row(
        "RSA-1024 intermediate",
        under(lambda pki: make_intermediate_ca(pki.root, "Weak CA", key=weak_key())),
        BAD_CERTIFICATE,
        "weak key: RSA-1024 in CN=Weak CA,O=toytls",
    ),
]


@pytest.mark.parametrize(("chain", "alert", "reason"), ROWS)
def test_section_4_row(pki: PKI, chain: Chain, alert: AlertDescription, reason: str) -> None:
    rejected(pki, chain(pki), alert, reason)


# --- accepted ---------------------------------------------------------------------


@pytest.mark.parametrize("server_name", ["localhost", "LOCALHOST", "LocalHost"])
def test_honest_chain_is_accepted(pki: PKI, server_name: str) -> None:
    verified = verify(pki, ders(*pki.chain), server_name)
    assert verified.path == (*pki.chain, pki.root.certificate)
    assert verified.server_name == server_name
    assert verified.leaf == pki.server.certificate
    assert verified.leaf_public_key == pki.server.key.public_key()


def test_root_may_be_sent_too(pki: PKI) -> None:
    verified = verify(pki, ders(*pki.chain, pki.root.certificate))
    assert verified.path == (*pki.chain, pki.root.certificate)


def test_intermediates_in_any_order(pki: PKI) -> None:
    upper = make_intermediate_ca(pki.root, "toytls Upper", path_length=1, key=pki.intermediate.key)
    lower = make_intermediate_ca(upper, "toytls Lower", key=pki.attacker_root.key)
    leaf = make_leaf(lower, ["localhost"], key=pki.server.key).certificate
    expected = (leaf, lower.certificate, upper.certificate, pki.root.certificate)
    for order in ((lower, upper), (upper, lower)):
        verified = verify(pki, ders(leaf, *(issued.certificate for issued in order)))
        assert verified.path == expected


@pytest.mark.parametrize("server_name", ["www.example.test", "WWW.Example.TEST"])
def test_wildcard_in_left_most_label_matches(pki: PKI, server_name: str) -> None:
    chain = under_r3(pki, ["*.example.test"])
    assert verify(pki, chain, server_name).server_name == server_name


@pytest.mark.parametrize(
    ("pattern", "server_name"),
    [
        ("*.example.test", "example.test"),
        ("*.example.test", "a.b.example.test"),
        ("www.*.test", "www.example.test"),
    ],
)
def test_wildcard_matches_one_left_most_label_only(
    pki: PKI, pattern: str, server_name: str
) -> None:
    rejected(
        pki,
        under_r3(pki, [pattern]),
        BAD_CERTIFICATE,
        f"the certificate is for {pattern}, not {server_name}",
        server_name=server_name,
    )


def test_validity_boundaries_are_inclusive(pki: PKI) -> None:
    # The CAs were made just before the leaf, so they are current at both ends.
    leaf = pki.server.certificate
    for moment in (leaf.not_valid_before_utc, leaf.not_valid_after_utc):
        assert verify(pki, ders(*pki.chain), now=moment).leaf == leaf
    for moment in (leaf.not_valid_before_utc - SECOND, leaf.not_valid_after_utc + SECOND):
        rejected(pki, ders(*pki.chain), CERTIFICATE_EXPIRED, "CN=localhost,O=toytls", now=moment)


def test_naive_now_is_utc_and_aware_now_any_zone(pki: PKI) -> None:
    after = pki.server.certificate.not_valid_after_utc + SECOND
    ahead = datetime.timezone(datetime.timedelta(hours=5))
    for now in (after.replace(tzinfo=None), after.astimezone(ahead)):
        rejected(pki, ders(*pki.chain), CERTIFICATE_EXPIRED, "expired", now=now)
    verify(pki, ders(*pki.chain), now=(after - 2 * SECOND).astimezone(ahead))


# --- rows that need more than a chain ------------------------------------------------


def test_non_positive_serial_is_a_decode_error(pki: PKI) -> None:
    # cryptography only warns about this today; it is malformed all the same,
    # whatever the warning filters say.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rejected(pki, negative_serial(pki), DECODE_ERROR, "certificate 0 is not", "serial number")


@given(st.lists(st.binary(max_size=64), min_size=1, max_size=3))
def test_parse_chain_rejects_arbitrary_bytes_with_decode_error(blobs: list[bytes]) -> None:
    with pytest.raises(CertificateVerifyError) as info:
        parse_chain(blobs)
    assert info.value.alert is DECODE_ERROR


def test_leaf_key_that_is_not_rsa(pki: PKI) -> None:
    # The verifier accepts an EC leaf; §4's last row does not: key X is sent
    # with RSA-OAEP.
    honest = pki.server.certificate
    builder = (
        x509.CertificateBuilder()
        .subject_name(honest.subject)
        .issuer_name(honest.issuer)
        .public_key(ec.generate_private_key(ec.SECP256R1()).public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(honest.not_valid_before_utc)
        .not_valid_after(honest.not_valid_after_utc)
    )
    for extension in honest.extensions:
        if not isinstance(extension.value, x509.SubjectKeyIdentifier):
            builder = builder.add_extension(extension.value, critical=extension.critical)
    leaf = builder.sign(pki.intermediate.key, hashes.SHA256())
    reason = "the server certificate's key is ECPublicKey, not RSA"
    rejected(pki, ders(leaf, pki.intermediate.certificate), BAD_CERTIFICATE, reason)


def test_honest_chain_against_other_roots(pki: PKI) -> None:
    rejected(
        pki,
        ders(*pki.chain),
        UNKNOWN_CA,
        "issued by CN=toytls Root X1,O=toytls, which is not a trusted root",
        roots=[pki.attacker_root.certificate],
    )


def test_no_roots_configured(pki: PKI) -> None:
    reason = "no trusted root certificates are configured"
    rejected(pki, ders(*pki.chain), UNKNOWN_CA, reason, roots=[])


def test_damaged_signature_no_longer_decodes(pki: PKI) -> None:
    error = rejected(pki, damaged_signature(pki), BAD_CERTIFICATE)
    assert "T cannot be recovered with CN=toytls Intermediate R3,O=toytls's key" in error.reason


def test_swapped_key_keeps_the_digest_the_ca_signed(pki: PKI) -> None:
    error = rejected(pki, swapped(pki, ders(*pki.chain)), BAD_CERTIFICATE)
    # T decodes (the signature is the CA's own) but is the original's digest.
    honest_s = hashlib.sha256(pki.server.certificate.tbs_certificate_bytes).digest()
    assert f"T = {honest_s[:8].hex()}…" in error.reason


@pytest.mark.parametrize(("dates", "words"), [(PAST, "expired"), (FUTURE, "is not yet valid")])
def test_root_outside_its_validity(pki: PKI, dates: Dates, words: str) -> None:
    root = make_root_ca("toytls Odd Root", key=pki.root.key, **dates)
    intermediate = make_intermediate_ca(root, "toytls Odd R3", key=pki.intermediate.key)
    leaf = make_leaf(intermediate, ["localhost"], key=pki.server.key)
    rejected(
        pki,
        ders(leaf.certificate, intermediate.certificate),
        CERTIFICATE_EXPIRED,
        f"CN=toytls Odd Root,O=toytls {words}",
        roots=[root.certificate],
    )


def test_honest_chain_for_another_name(pki: PKI) -> None:
    reason = "the certificate is for localhost, not example.test"
    rejected(pki, ders(*pki.chain), BAD_CERTIFICATE, reason, server_name="example.test")


@pytest.mark.parametrize("server_name", ["foo bar", "", "é.test", "-..", "localhost."])
def test_invalid_server_name(pki: PKI, server_name: str) -> None:
    reason = "is not a valid DNS name"
    rejected(pki, ders(*pki.chain), BAD_CERTIFICATE, reason, server_name=server_name)


def test_the_explanation_follows_the_issuer_that_signed(pki: PKI) -> None:
    # A decoy with R3's name but another key comes first; the explanation
    # must not blame the leaf's signature for what is a wrong name.
    decoy = make_intermediate_ca(pki.root, "toytls Intermediate R3", key=pki.attacker_key)
    chain = ders(pki.attacker_other_name, decoy.certificate, pki.intermediate.certificate)
    rejected(pki, chain, BAD_CERTIFICATE, "is for attacker.test, not localhost")
    links = check_links([x509.load_der_x509_certificate(d) for d in chain], [pki.root.certificate])
    assert links[0].signature_valid


def test_the_explanation_follows_the_issuer_that_is_current(pki: PKI) -> None:
    expired = make_intermediate_ca(
        pki.root, "toytls Intermediate R3", key=pki.intermediate.key, **PAST
    )
    chain = ders(pki.attacker_other_name, expired.certificate, pki.intermediate.certificate)
    rejected(pki, chain, BAD_CERTIFICATE, "is for attacker.test, not localhost")
    # With only the expired one, expiry is the first row that fails.
    reason = "CN=toytls Intermediate R3,O=toytls expired"
    rejected(pki, chain[:2], CERTIFICATE_EXPIRED, reason)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_a_flipped_bit_in_the_leaf_is_never_accepted_unless_unsigned(
    pki: PKI, data: st.DataObject
) -> None:
    """The decision and its explanation agree: a rejection is always a §4 error.

    A bit flipped in the signed part or the signature is always rejected. The
    only flips the verifier may accept leave the signed bytes and the
    signature value alone (the BIT STRING's unused-bits count, for one).
    """
    good = der(pki.server.certificate)
    position = data.draw(st.integers(0, len(good) - 1), label="position")
    bit = data.draw(st.sampled_from([1, 2, 4, 8, 16, 32, 64, 128]), label="bit")
    damaged = bytearray(good)
    damaged[position] ^= bit
    chain = [bytes(damaged), der(pki.intermediate.certificate)]
    outcome: VerifiedChain | CertificateVerifyError
    try:
        outcome = verify(pki, chain)
    except CertificateVerifyError as error:
        outcome = error
    if isinstance(outcome, CertificateVerifyError):
        assert outcome.alert in {DECODE_ERROR, UNKNOWN_CA, BAD_CERTIFICATE}
    else:
        assert outcome.leaf.tbs_certificate_bytes == pki.server.certificate.tbs_certificate_bytes
        assert outcome.leaf.signature == pki.server.certificate.signature


# --- check_links: the article's digests T and S ---------------------------------------


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def test_links_of_the_honest_chain(pki: PKI) -> None:
    links = check_links(list(pki.chain), [pki.root.certificate])
    assert [link.index for link in links] == [0, 1, 2]
    assert [link.subject for link in links] == [
        "CN=localhost,O=toytls",
        "CN=toytls Intermediate R3,O=toytls",
        "CN=toytls Root X1,O=toytls",
    ]
    assert [link.issuer for link in links] == [
        "CN=toytls Intermediate R3,O=toytls",
        "CN=toytls Root X1,O=toytls",
        "CN=toytls Root X1,O=toytls",
    ]
    for link, cert in zip(links, [*pki.chain, pki.root.certificate], strict=True):
        assert link.issuer_found
        assert link.signature_valid
        assert link.digest_s == sha256(cert.tbs_certificate_bytes)
        assert link.digest_t == link.digest_s


def test_links_when_the_root_is_sent(pki: PKI) -> None:
    links = check_links([*pki.chain, pki.root.certificate], [pki.root.certificate])
    assert [link.index for link in links] == [0, 1, 2]
    assert all(link.digest_t == link.digest_s for link in links)


def test_links_of_a_swapped_key(pki: PKI) -> None:
    chain = [x509.load_der_x509_certificate(d) for d in swapped(pki, ders(*pki.chain))]
    links = check_links(chain, [pki.root.certificate])
    leaf = links[0]
    assert leaf.issuer_found
    assert not leaf.signature_valid
    assert leaf.digest_s == sha256(chain[0].tbs_certificate_bytes)
    assert leaf.digest_t is not None
    assert leaf.digest_t != leaf.digest_s
    # T is what the CA signed: the digest of the honest certificate.
    assert leaf.digest_t == sha256(pki.server.certificate.tbs_certificate_bytes)
    assert all(link.signature_valid for link in links[1:])


def test_links_without_an_issuer(pki: PKI) -> None:
    (link,) = check_links([pki.attacker_own_ca], [pki.root.certificate])
    assert link.issuer == "CN=toytls Attacker Root,O=toytls"
    assert not link.issuer_found
    assert link.digest_t is None
    assert not link.signature_valid
    assert link.digest_s == sha256(pki.attacker_own_ca.tbs_certificate_bytes)


def test_links_of_a_self_signed_leaf(pki: PKI) -> None:
    # Its signature is fine; what fails is trust, which check_links does not judge.
    (link,) = check_links([pki.attacker_self_signed], [pki.root.certificate])
    assert link.issuer_found
    assert link.signature_valid
    assert link.digest_t == link.digest_s


def test_links_of_a_damaged_signature(pki: PKI) -> None:
    chain = [x509.load_der_x509_certificate(d) for d in damaged_signature(pki)]
    link = check_links(chain, [pki.root.certificate])[0]
    assert link.issuer_found
    assert not link.signature_valid
    assert link.digest_t is None


def test_links_of_nothing() -> None:
    assert check_links([], []) == ()


# --- layering -----------------------------------------------------------------------


def test_verification_does_no_io() -> None:
    source = Path(toytls.core.verification.__file__)
    tree = ast.parse(source.read_text(encoding="utf-8"))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module.split(".")[0])
    assert "cryptography" in modules  # the walk does see imports
    assert not modules & {"trio", "socket", "time", "os", "pathlib", "io", "subprocess"}
    assert "print(" not in source.read_text(encoding="utf-8")
