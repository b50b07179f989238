"""``toytls inspect`` as a real process, on the test PKI's files."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from processes import run

from toytls.core.links import SHA256_DIGEST_INFO


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_the_leaf_with_its_issuer_shows_b_plus_the_signature_the_block_and_s(
    pki_dir: Path,
) -> None:
    result = run(
        "inspect", str(pki_dir / "server.pem"), "--issuer", str(pki_dir / "intermediate.pem")
    )
    assert result.returncode == 0, result.stderr
    leaf = _cert(pki_dir / "server.pem")
    key = leaf.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    modulus = key.public_numbers().n.to_bytes(key.key_size // 8, "big")
    out = result.stdout
    assert "public key B+" in out
    assert modulus[-16:].hex(" ") in out
    assert leaf.signature[:16].hex(" ") in out
    assert SHA256_DIGEST_INFO[:16].hex(" ") in out
    assert "T = S" in out
    assert "the signature is valid" in out
    assert "\033[" not in out  # not a terminal: no colour


def test_json_parses_and_matches_cryptography(pki_dir: Path) -> None:
    result = run(
        "inspect",
        str(pki_dir / "server.pem"),
        "--issuer",
        str(pki_dir / "intermediate.pem"),
        "--json",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    (cert,) = data["certificates"]
    leaf = _cert(pki_dir / "server.pem")
    assert cert["signature"] == leaf.signature.hex()
    assert cert["opened"]["digest_info"] == SHA256_DIGEST_INFO.hex()
    assert cert["opened"]["digest_t"] == cert["digest_s"]
    assert cert["verified"] is True


def test_chinese(pki_dir: Path) -> None:
    result = run("inspect", str(pki_dir / "chain.pem"), "--lang", "zh", "--no-color")
    assert result.returncode == 0, result.stderr
    assert "公钥B+" in result.stdout
    assert "摘要T" in result.stdout
    assert "文件里的下一张证书" in result.stdout


def test_a_certificate_whose_issuer_is_not_given(pki_dir: Path) -> None:
    result = run("inspect", str(pki_dir / "server.pem"))
    assert result.returncode == 0, result.stderr
    assert "cannot be opened" in result.stdout
    assert "--issuer" in result.stdout
    assert "T = S" not in result.stdout
    # Control: the root, self-signed, opens with its own A+.
    root = run("inspect", str(pki_dir / "root.pem"))
    assert "T = S" in root.stdout


def test_the_wrong_issuer_is_refused_by_cryptography(pki_dir: Path) -> None:
    result = run(
        "inspect", str(pki_dir / "server.pem"), "--issuer", str(pki_dir / "attacker-root.pem")
    )
    assert result.returncode == 0, result.stderr
    assert "not a PKCS#1 v1.5 block" in result.stdout
    assert "refused" in result.stdout


def test_der_works_too(pki_dir: Path, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding

    der = tmp_path / "root.der"
    der.write_bytes(_cert(pki_dir / "root.pem").public_bytes(Encoding.DER))
    result = run("inspect", str(der))
    assert result.returncode == 0, result.stderr
    assert "T = S" in result.stdout


def test_not_a_certificate_is_one_line_and_status_2(pki_dir: Path, tmp_path: Path) -> None:
    for bad in (pki_dir / "server.key", tmp_path / "missing.pem"):
        result = run("inspect", str(bad))
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1, result.stderr
        assert "Traceback" not in result.stderr
    result = run("inspect", str(pki_dir / "server.pem"), "--issuer", str(pki_dir / "server.key"))
    assert result.returncode == 2
    assert "not a certificate" in result.stderr
