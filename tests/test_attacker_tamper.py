"""The attacker's DER surgery: results parse, signatures break, bad input is a ValueError."""

from __future__ import annotations

import ast
import datetime
import functools
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

import toytls.attacker.tamper
from toytls.attacker.tamper import swap_public_key, tamper_subject
from toytls.pki.generate import PKI, Issued, generate_key


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def load(data: bytes) -> x509.Certificate:
    return x509.load_der_x509_certificate(data)


@pytest.fixture(scope="module")
def small_key() -> rsa.RSAPrivateKey:
    return generate_key(1024)


def unchanged_except_key(before: x509.Certificate, after: x509.Certificate) -> None:
    assert after.subject == before.subject
    assert after.issuer == before.issuer
    assert after.serial_number == before.serial_number
    assert after.not_valid_before_utc == before.not_valid_before_utc
    assert after.not_valid_after_utc == before.not_valid_after_utc
    assert list(after.extensions) == list(before.extensions)
    assert after.signature_algorithm_oid == before.signature_algorithm_oid
    assert after.signature == before.signature


# --- swap_public_key --------------------------------------------------------------


@pytest.mark.parametrize("which", ["same size", "smaller"])
def test_swap_public_key_in_the_leaf(pki: PKI, small_key: rsa.RSAPrivateKey, which: str) -> None:
    new_key = (pki.attacker_key if which == "same size" else small_key).public_key()
    original = pki.server.certificate
    swapped = load(swap_public_key(der(original), new_key))
    assert swapped.public_key() == new_key
    unchanged_except_key(original, swapped)
    with pytest.raises(InvalidSignature):
        swapped.verify_directly_issued_by(pki.intermediate.certificate)


def test_swap_public_key_keeps_everything_outside_the_key_byte_for_byte(pki: PKI) -> None:
    original = der(pki.server.certificate)
    old_spki = pki.server.key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    new_spki = pki.attacker_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # Same key size, so the lengths do not move: exactly the key differs.
    assert swap_public_key(original, pki.attacker_key.public_key()) == original.replace(
        old_spki, new_spki
    )


def test_swap_public_key_in_a_ca_certificate(pki: PKI) -> None:
    original = pki.intermediate.certificate
    swapped = load(swap_public_key(der(original), pki.attacker_key.public_key()))
    assert swapped.public_key() == pki.attacker_key.public_key()
    unchanged_except_key(original, swapped)


def test_swap_public_key_needs_rsa(pki: PKI) -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    with pytest.raises(TypeError, match="expected an RSA public key"):
        # A type checker refuses this call; the run-time check is what is tested.
        swap_public_key(der(pki.server.certificate), cast(rsa.RSAPublicKey, key))


# --- tamper_subject ---------------------------------------------------------------


def test_tamper_subject_changes_one_character_of_the_common_name(pki: PKI) -> None:
    original = der(pki.server.certificate)
    tampered = tamper_subject(original)
    assert len(tampered) == len(original)
    differences = [i for i, (a, b) in enumerate(zip(original, tampered, strict=True)) if a != b]
    assert len(differences) == 1
    cert = load(tampered)
    assert cert.subject.rfc4514_string() == "CN=mocalhost,O=toytls"
    # Only the subject: issuer, SAN and the signature are as they were.
    assert cert.issuer == pki.server.certificate.issuer
    assert list(cert.extensions) == list(pki.server.certificate.extensions)
    assert cert.signature == pki.server.certificate.signature
    with pytest.raises(InvalidSignature):
        cert.verify_directly_issued_by(pki.intermediate.certificate)


def test_tamper_subject_of_a_self_signed_root(pki: PKI) -> None:
    cert = load(tamper_subject(der(pki.root.certificate)))
    assert cert.subject.rfc4514_string() == "CN=uoytls Root X1,O=toytls"
    # The issuer name is a separate field: the surgery leaves it alone.
    assert cert.issuer == pki.root.certificate.subject


def self_signed(issued: Issued, name: x509.Name) -> bytes:
    """A minimal certificate with the given subject, signed by ``issued``'s key."""
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "issuer")]))
        .public_key(issued.key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    return der(builder.sign(issued.key, hashes.SHA256()))


@pytest.mark.parametrize(
    ("common_name", "expected"), [("zz.test", "az.test"), ("-Z9", "-A9"), ("--9", "--0")]
)
def test_tamper_subject_wraps_within_the_character_class(
    pki: PKI, common_name: str, expected: str
) -> None:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = load(tamper_subject(self_signed(pki.server, name)))
    assert cert.subject.rfc4514_string() == f"CN={expected}"


def test_tamper_subject_falls_back_to_another_attribute(pki: PKI) -> None:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
            x509.NameAttribute(NameOID.COMMON_NAME, "--"),
        ]
    )
    cert = load(tamper_subject(self_signed(pki.server, name)))
    assert cert.subject.rfc4514_string() == "CN=--,C=EE"


@pytest.mark.parametrize("attributes", [[], [(NameOID.COMMON_NAME, "-.-")]])
def test_tamper_subject_needs_a_letter_or_digit(
    pki: PKI, attributes: list[tuple[x509.ObjectIdentifier, str]]
) -> None:
    name = x509.Name([x509.NameAttribute(oid, value) for oid, value in attributes])
    with pytest.raises(ValueError, match="no letter or digit"):
        tamper_subject(self_signed(pki.server, name))


# --- bad input ----------------------------------------------------------------------


def long_form_length(data: bytes) -> bytes:
    """Re-encode the outer length with one more byte than needed (BER, not DER)."""
    assert data[1] == 0x82
    return data[:1] + b"\x83\x00" + data[2:]


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: b"",
        lambda d: d[:-1],
        lambda d: d + b"\x00",
        lambda d: d[:4],
        long_form_length,
        lambda d: b"\x31" + d[1:],
    ],
    ids=["empty", "truncated", "trailing byte", "header only", "non-minimal length", "SET"],
)
@pytest.mark.parametrize("function", ["swap", "subject"])
def test_bad_certificates_are_value_errors(
    pki: PKI, damage: Callable[[bytes], bytes], function: str
) -> None:
    data = damage(der(pki.server.certificate))
    rewrite: Callable[[bytes], bytes] = tamper_subject
    if function == "swap":
        rewrite = functools.partial(swap_public_key, public_key=pki.attacker_key.public_key())
    with pytest.raises(ValueError, match="not a DER certificate"):
        rewrite(data)


def test_negative_serial_is_refused(pki: PKI) -> None:
    """cryptography only warns about a serial number that is not positive."""
    cert = pki.server.certificate
    data = bytearray(der(cert))
    serial = cert.serial_number.to_bytes(20, "big").lstrip(b"\0")
    data[bytes(data).index(b"\x02" + bytes([len(serial)]) + serial) + 2] |= 0x80
    for rewrite in (
        tamper_subject,
        functools.partial(swap_public_key, public_key=pki.server.key.public_key()),
    ):
        with (
            warnings.catch_warnings(),
            pytest.raises(ValueError, match=r"not a DER certificate: .*serial number"),
        ):
            warnings.simplefilter("ignore")  # refused whatever the filters say
            rewrite(bytes(data))


@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_value_error_only(data: bytes) -> None:
    with pytest.raises(ValueError):
        tamper_subject(data)


@given(data=st.binary(max_size=300))
def test_arbitrary_bytes_raise_value_error_only_when_swapping(
    small_key: rsa.RSAPrivateKey, data: bytes
) -> None:
    with pytest.raises(ValueError):
        swap_public_key(data, small_key.public_key())


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_mutated_certificates_give_a_certificate_or_value_error(
    pki: PKI, data: st.DataObject
) -> None:
    original = der(pki.intermediate.certificate)
    position = data.draw(st.integers(0, len(original) - 1), label="position")
    value = data.draw(st.integers(0, 255), label="value")
    cut = data.draw(st.integers(position, len(original)), label="cut")
    mutated = original[:position] + bytes([value]) + original[position + 1 : cut]
    for rewrite in (
        lambda d: swap_public_key(d, pki.attacker_key.public_key()),
        tamper_subject,
    ):
        try:
            result = rewrite(mutated)
        except ValueError:
            continue
        load(result)  # whatever comes out parses


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x30", "truncated DER header"),
        (b"\x1f\x01\x00", "high tag number"),
        (b"\x30\x80\x00\x00", "unsupported DER length form"),
        (b"\x30\x85\x00\x00\x00\x00\x01\x00", "unsupported DER length form"),
        (b"\x30\x82\x00", "truncated DER length"),
        (b"\x30\x81\x05" + bytes(5), "non-minimal DER length"),
        (b"\x30\x82\x00\x80" + bytes(128), "non-minimal DER length"),
        (b"\x30\x03\x00", "runs past its end"),
    ],
)
def test_the_der_reader_is_strict(data: bytes, message: str) -> None:
    # Not reachable through the public functions, which let cryptography
    # parse first; the walker's own checks are what keep its indexing safe.
    with pytest.raises(ValueError, match=message):
        toytls.attacker.tamper._read_tlv(data, 0, len(data))


def test_the_der_reader_reads_long_lengths() -> None:
    data = b"\x04\x82\x01\x00" + bytes(256)
    element = toytls.attacker.tamper._read_tlv(data, 0, len(data))
    assert (element.tag, element.content, element.end) == (0x04, 4, 260)


# --- layering -----------------------------------------------------------------------


def test_tamper_does_no_io_and_no_crypto() -> None:
    tree = ast.parse(Path(toytls.attacker.tamper.__file__).read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.update(f"{node.module}.{alias.name}" for alias in node.names)
    assert "cryptography.hazmat.primitives.serialization" in imported  # the walk works
    banned = {"trio", "socket", "time", "os", "pathlib", "io", "subprocess", "hashlib", "hmac"}
    assert not {name.split(".")[0] for name in imported} & banned
    # Serialization and parsing only: no hashing, signing, padding or ciphers.
    crypto = (".hashes", ".padding", ".ciphers", ".hmac", ".exceptions")
    assert not [name for name in imported if name.endswith(crypto)]
