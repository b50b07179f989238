"""The generated PKI: the §4 profile, the files, and loading them back."""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, SignatureAlgorithmOID

from toytls.core.certificates import describe_certificate, dns_names, fingerprint
from toytls.pki.files import (
    PKI_FILES,
    PEMError,
    certificate_pem,
    ensure_pki,
    load_pem_certificates,
    load_pem_private_key_rsa,
    load_pki,
    private_key_pem,
    write_pki,
)
from toytls.pki.generate import (
    PKI,
    Issued,
    generate_key,
    generate_pki,
    make_intermediate_ca,
    make_leaf,
    make_root_ca,
)

CA_FIELDS = ("root", "intermediate", "attacker_root")
LEAF_FIELDS = ("server", "attacker_own_ca", "attacker_self_signed", "attacker_other_name")
ALL_FIELDS = CA_FIELDS + LEAF_FIELDS
SECOND = datetime.timedelta(seconds=1)


def certificate(pki: PKI, field: str) -> x509.Certificate:
    value = getattr(pki, field)
    return value.certificate if isinstance(value, Issued) else value


def issuer_of(pki: PKI, field: str) -> x509.Certificate:
    """The certificate that should have signed ``field``."""
    return certificate(
        pki,
        {
            "root": "root",
            "intermediate": "root",
            "server": "intermediate",
            "attacker_root": "attacker_root",
            "attacker_own_ca": "attacker_root",
            "attacker_self_signed": "attacker_self_signed",
            "attacker_other_name": "intermediate",
        }[field],
    )


E = TypeVar("E", bound=x509.ExtensionType)


def ext(cert: x509.Certificate, kind: type[E]) -> x509.Extension[E]:
    return cert.extensions.get_extension_for_class(kind)


def cn(cert: x509.Certificate) -> str:
    value = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert isinstance(value, str)
    return value


# --- the profile of §4 -----------------------------------------------------------


@pytest.mark.parametrize("field", ALL_FIELDS)
def test_every_certificate_follows_the_common_profile(pki: PKI, field: str) -> None:
    cert = certificate(pki, field)
    issuer = issuer_of(pki, field)
    assert cert.version is x509.Version.v3
    assert cert.signature_algorithm_oid == SignatureAlgorithmOID.RSA_WITH_SHA256
    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    assert key.key_size == 2048
    ski = ext(cert, x509.SubjectKeyIdentifier)
    assert ski.value == x509.SubjectKeyIdentifier.from_public_key(key)
    aki = ext(cert, x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ext(issuer, x509.SubjectKeyIdentifier).value.digest
    assert cert.issuer == issuer.subject
    cert.verify_directly_issued_by(issuer)


@pytest.mark.parametrize("field", CA_FIELDS)
def test_cas_may_sign_certificates_and_nothing_else(pki: PKI, field: str) -> None:
    cert = certificate(pki, field)
    constraints = ext(cert, x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value.ca
    usage = ext(cert, x509.KeyUsage)
    assert usage.critical
    assert usage.value.key_cert_sign
    assert usage.value.crl_sign
    assert not usage.value.digital_signature
    assert not usage.value.key_encipherment


def test_root_is_self_signed_without_path_limit(pki: PKI) -> None:
    root = pki.root.certificate
    assert root.subject == root.issuer
    assert ext(root, x509.BasicConstraints).value.path_length is None


def test_intermediate_is_r3_with_path_length_zero(pki: PKI) -> None:
    cert = pki.intermediate.certificate
    assert cn(cert) == "toytls Intermediate R3"
    assert ext(cert, x509.BasicConstraints).value.path_length == 0


@pytest.mark.parametrize("field", LEAF_FIELDS)
def test_leaves_are_server_certificates(pki: PKI, field: str) -> None:
    cert = certificate(pki, field)
    constraints = ext(cert, x509.BasicConstraints)
    assert constraints.critical
    assert not constraints.value.ca
    assert list(ext(cert, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH]
    usage = ext(cert, x509.KeyUsage).value
    assert usage.digital_signature
    assert usage.key_encipherment
    assert not usage.key_cert_sign
    names = ext(cert, x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == [cn(cert)]


def test_server_leaf_is_for_the_server_name(pki: PKI) -> None:
    assert pki.server_name == "localhost"
    assert dns_names(pki.server.certificate) == ["localhost"]
    assert pki.chain == (pki.server.certificate, pki.intermediate.certificate)


def test_attacker_certificates(pki: PKI) -> None:
    attacker_public = pki.attacker_key.public_key()
    for cert in (pki.attacker_own_ca, pki.attacker_self_signed, pki.attacker_other_name):
        assert cert.public_key() == attacker_public
    assert dns_names(pki.attacker_own_ca) == ["localhost"]
    assert dns_names(pki.attacker_self_signed) == ["localhost"]
    assert dns_names(pki.attacker_other_name) == ["attacker.test"]
    assert pki.attacker_own_ca.issuer == pki.attacker_root.certificate.subject
    assert pki.attacker_self_signed.issuer == pki.attacker_self_signed.subject
    assert pki.attacker_other_name.issuer == pki.intermediate.certificate.subject
    assert pki.attacker_root.certificate.subject != pki.root.certificate.subject


def test_keys_belong_to_their_certificates(pki: PKI) -> None:
    for issued in (pki.root, pki.intermediate, pki.server, pki.attacker_root):
        assert issued.certificate.public_key() == issued.key.public_key()


@pytest.mark.parametrize(
    ("field", "lifetime"),
    [("root", 3650), ("intermediate", 1825), ("server", 825), ("attacker_other_name", 825)],
)
def test_default_validity(pki: PKI, field: str, lifetime: int) -> None:
    cert = certificate(pki, field)
    now = datetime.datetime.now(datetime.UTC)
    # The session fixture was made at most a few minutes ago.
    slack = datetime.timedelta(minutes=10)
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    assert now - datetime.timedelta(hours=1) - slack <= start <= now - datetime.timedelta(hours=1)
    assert end - start == datetime.timedelta(days=lifetime, hours=1)


# --- the builders' knobs for bad chains -------------------------------------------


def test_generate_key_sizes() -> None:
    assert generate_key(1024).key_size == 1024
    with pytest.raises(ValueError, match="1024"):
        generate_key(512)


def test_make_root_ca_with_given_key_and_dates(pki: PKI) -> None:
    start = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    end = datetime.datetime(2021, 1, 1, tzinfo=datetime.UTC)
    root = make_root_ca("Old Root", key=pki.root.key, not_before=start, not_after=end)
    assert root.key is pki.root.key
    assert root.certificate.public_key() == pki.root.key.public_key()
    assert (root.certificate.not_valid_before_utc, root.certificate.not_valid_after_utc) == (
        start,
        end,
    )
    assert cn(root.certificate) == "Old Root"


def test_make_intermediate_that_is_not_a_ca(pki: PKI) -> None:
    issued = make_intermediate_ca(pki.root, "Not A CA", key=pki.server.key, ca=False)
    cert = issued.certificate
    assert not ext(cert, x509.BasicConstraints).value.ca
    assert not ext(cert, x509.KeyUsage).value.key_cert_sign
    cert.verify_directly_issued_by(pki.root.certificate)


def test_make_intermediate_without_path_limit(pki: PKI) -> None:
    issued = make_intermediate_ca(pki.root, "Sub", key=pki.server.key, path_length=None)
    assert ext(issued.certificate, x509.BasicConstraints).value.path_length is None


def test_make_leaf_that_is_a_ca_for_clients(pki: PKI) -> None:
    issued = make_leaf(
        pki.intermediate,
        ["a.test", "*.b.test"],
        key=pki.server.key,
        ca=True,
        eku_server_auth=False,
    )
    cert = issued.certificate
    assert ext(cert, x509.BasicConstraints).value.ca
    assert ext(cert, x509.KeyUsage).value.key_cert_sign
    assert list(ext(cert, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert dns_names(cert) == ["a.test", "*.b.test"]
    assert cn(cert) == "a.test"


def test_make_self_signed_leaf(pki: PKI) -> None:
    cert = make_leaf(None, ["self.test"], key=pki.server.key).certificate
    assert cert.issuer == cert.subject
    cert.verify_directly_issued_by(cert)


def test_make_leaf_for_a_name_too_long_for_a_common_name(pki: PKI) -> None:
    name = "a" * 63 + ".example.test"
    cert = make_leaf(pki.intermediate, [name], key=pki.server.key).certificate
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME) == []
    assert dns_names(cert) == [name]


def test_make_leaf_needs_a_name(pki: PKI) -> None:
    with pytest.raises(ValueError, match="at least one DNS name"):
        make_leaf(pki.intermediate, [], key=pki.server.key)


# --- PEM helpers ------------------------------------------------------------------


def test_load_pem_certificates_keeps_order(pki: PKI) -> None:
    data = certificate_pem(*pki.chain)
    assert load_pem_certificates(data) == list(pki.chain)


@pytest.mark.parametrize("data", [b"", b"garbage", b"-----BEGIN CERTIFICATE-----\nAAAA\n"])
def test_load_pem_certificates_rejects_garbage(data: bytes) -> None:
    with pytest.raises(PEMError, match="not a PEM certificate"):
        load_pem_certificates(data)
    assert issubclass(PEMError, ValueError)


def test_load_pem_private_key_round_trip(pki: PKI) -> None:
    data = private_key_pem(pki.server.key)
    assert data.startswith(b"-----BEGIN PRIVATE KEY-----\n")  # PKCS#8, unencrypted
    key = load_pem_private_key_rsa(data)
    assert key.private_numbers() == pki.server.key.private_numbers()


def test_load_pem_private_key_rejects_non_rsa() -> None:
    data = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(PEMError, match="expected an RSA private key, got EC"):
        load_pem_private_key_rsa(data)


def test_load_pem_private_key_rejects_encrypted_and_garbage(pki: PKI) -> None:
    encrypted = pki.server.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    for data in (encrypted, b"garbage", certificate_pem(pki.root.certificate)):
        with pytest.raises(PEMError, match="not an unencrypted PEM private key"):
            load_pem_private_key_rsa(data)


def test_fingerprint_is_colon_separated_sha256(pki: PKI) -> None:
    cert = pki.server.certificate
    value = fingerprint(cert)
    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", value)
    der = cert.public_bytes(serialization.Encoding.DER)
    assert value.replace(":", "").lower() == hashlib.sha256(der).hexdigest()


def test_describe_certificate(pki: PKI) -> None:
    cert = pki.server.certificate
    assert describe_certificate(cert) == {
        "subject": "CN=localhost,O=toytls",
        "issuer": "CN=toytls Intermediate R3,O=toytls",
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "fingerprint": fingerprint(cert),
    }
    assert describe_certificate(cert)["not_after"].endswith("+00:00")


# --- files ------------------------------------------------------------------------


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """Umask 0, so that only the code can keep key files private."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_write_pki_writes_every_file(pki: PKI, pki_dir: Path) -> None:
    assert sorted(p.name for p in pki_dir.iterdir()) == sorted(PKI_FILES)
    assert len(PKI_FILES) == 13
    assert load_pem_certificates((pki_dir / "chain.pem").read_bytes()) == list(pki.chain)
    assert (pki_dir / "server.key").read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")


def test_write_pki_returns_paths_in_order(pki: PKI, tmp_path: Path, permissive_umask: None) -> None:
    written = write_pki(pki, tmp_path / "new" / "dir")
    assert written == [tmp_path / "new" / "dir" / name for name in PKI_FILES]
    for path in written:
        expected = 0o600 if path.suffix == ".key" else 0o644
        assert mode(path) == expected, path.name


def test_keys_are_private_even_when_overwritten(
    pki: PKI, tmp_path: Path, permissive_umask: None
) -> None:
    key_file = tmp_path / "server.key"
    key_file.write_bytes(b"old")
    key_file.chmod(0o644)
    write_pki(pki, tmp_path, force=True)
    assert mode(key_file) == 0o600
    assert load_pem_private_key_rsa(key_file.read_bytes()).private_numbers() == (
        pki.server.key.private_numbers()
    )


def test_write_pki_refuses_to_overwrite(pki: PKI, pki_dir: Path) -> None:
    before = {name: (pki_dir / name).read_bytes() for name in PKI_FILES}
    with pytest.raises(FileExistsError, match=r"refusing to overwrite root\.pem.*force"):
        write_pki(pki, pki_dir)
    assert {name: (pki_dir / name).read_bytes() for name in PKI_FILES} == before


def test_write_pki_refuses_when_a_single_file_exists(pki: PKI, tmp_path: Path) -> None:
    (tmp_path / "attacker.key").write_bytes(b"mine")
    with pytest.raises(FileExistsError, match=r"attacker\.key"):
        write_pki(pki, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["attacker.key"]
    assert (tmp_path / "attacker.key").read_bytes() == b"mine"


def test_write_pki_force_replaces(pki: PKI, tmp_path: Path) -> None:
    write_pki(pki, tmp_path)
    other = generate_pki("other.test")
    write_pki(other, tmp_path, force=True)
    loaded = load_pki(tmp_path)
    assert loaded.server_name == "other.test"
    assert loaded.root.certificate == other.root.certificate


def test_load_pki_round_trip(pki: PKI, pki_dir: Path) -> None:
    loaded = load_pki(pki_dir)
    assert loaded.server_name == pki.server_name
    for field in ALL_FIELDS:
        assert certificate(loaded, field) == certificate(pki, field)
    for field in ("root", "intermediate", "server", "attacker_root"):
        assert getattr(loaded, field).key.private_numbers() == (
            getattr(pki, field).key.private_numbers()
        )
    assert loaded.attacker_key.private_numbers() == pki.attacker_key.private_numbers()


def copy_pki(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def test_load_pki_rejects_a_wrong_chain(pki: PKI, pki_dir: Path, tmp_path: Path) -> None:
    directory = copy_pki(pki_dir, tmp_path / "copy")
    (directory / "chain.pem").write_bytes(certificate_pem(*reversed(pki.chain)))
    with pytest.raises(PEMError, match=r"chain\.pem is not server\.pem followed by"):
        load_pki(directory)


def test_load_pki_rejects_a_key_of_another_certificate(
    pki: PKI, pki_dir: Path, tmp_path: Path
) -> None:
    directory = copy_pki(pki_dir, tmp_path / "copy")
    (directory / "server.key").write_bytes(private_key_pem(pki.attacker_key))
    with pytest.raises(PEMError, match=r"server\.key is not the key of .*server\.pem"):
        load_pki(directory)


def test_load_pki_reports_a_missing_file(pki_dir: Path, tmp_path: Path) -> None:
    directory = copy_pki(pki_dir, tmp_path / "copy")
    (directory / "attacker-other-name.pem").unlink()
    with pytest.raises(FileNotFoundError, match=r"attacker-other-name\.pem"):
        load_pki(directory)


def test_ensure_pki_generates_then_loads(tmp_path: Path) -> None:
    first = ensure_pki(tmp_path / "certs")
    assert sorted(p.name for p in (tmp_path / "certs").iterdir()) == sorted(PKI_FILES)
    assert first.server_name == "localhost"
    again = ensure_pki(tmp_path / "certs")
    assert fingerprint(again.server.certificate) == fingerprint(first.server.certificate)
    assert again.root.certificate == first.root.certificate


def test_ensure_pki_refuses_a_partial_set(pki_dir: Path, tmp_path: Path) -> None:
    directory = copy_pki(pki_dir, tmp_path / "copy")
    (directory / "server.key").unlink()
    (directory / "chain.pem").unlink()
    with pytest.raises(FileExistsError, match=r"incomplete.*server\.key, chain\.pem.*force"):
        ensure_pki(directory)
    assert not (directory / "server.key").exists()


def test_ensure_pki_refuses_another_server_name(pki_dir: Path) -> None:
    with pytest.raises(FileExistsError, match=r"for localhost, not example\.test.*force"):
        ensure_pki(pki_dir, "example.test")
    assert ensure_pki(pki_dir, "LOCALHOST").server_name == "localhost"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_openssl_accepts_the_chain(pki_dir: Path) -> None:
    def verify(leaf: str, *extra: str) -> subprocess.CompletedProcess[str]:
        command = ["openssl", "verify", "-CAfile", "root.pem", "-untrusted", "intermediate.pem"]
        return subprocess.run(
            [*command, *extra, leaf], cwd=pki_dir, capture_output=True, text=True, check=False
        )

    honest = verify("server.pem")
    assert honest.returncode == 0, honest.stderr
    assert honest.stdout.strip() == "server.pem: OK"
    strict = verify("server.pem", "-purpose", "sslserver", "-verify_hostname", "localhost")
    assert strict.returncode == 0, strict.stderr
    # The same command must be able to say no, or the check above means nothing.
    assert verify("attacker-own-ca.pem").returncode != 0
    assert verify("attacker-other-name.pem", "-verify_hostname", "localhost").returncode != 0


def test_pki_uses_sha256_everywhere(pki: PKI) -> None:
    for field in ALL_FIELDS:
        algorithm = certificate(pki, field).signature_hash_algorithm
        assert isinstance(algorithm, hashes.SHA256)
