"""The certificate x-ray (toytls.story.xray): fields, the opened signature, S and T.

Every value is checked against cryptography's own view of the same
certificate, with the fixed chain of tests/vectors/pki and a fresh PKI.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from english import english_sentences

from toytls.attacker.tamper import tamper_subject
from toytls.core.links import SHA256_DIGEST_INFO
from toytls.pki.generate import PKI
from toytls.story.xray import read_block, xray, xray_chain, xray_file
from toytls.story.xray_render import render_xray, xray_to_dict

VECTORS = Path(__file__).parent / "vectors" / "pki"


def _load(name: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates((VECTORS / name).read_bytes())


def test_the_leaf_opened_with_the_intermediate_matches_cryptography() -> None:
    leaf, intermediate = _load("server.pem")[0], _load("intermediate.pem")[0]
    x = xray(leaf, intermediate, issuer_source="given")
    key = leaf.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    assert x.public_key.role == "B+"
    assert x.public_key.kind == "RSA"
    assert x.public_key.size == key.key_size == 2048
    assert x.public_key.exponent == key.public_numbers().e
    assert x.public_key.modulus == key.public_numbers().n.to_bytes(256, "big")
    assert x.signature == leaf.signature
    assert x.digest_s == hashlib.sha256(leaf.tbs_certificate_bytes).digest()
    opened = x.opened
    assert opened is not None
    assert opened.lead == b"\x00\x01"
    assert opened.padding == b"\xff" * len(opened.padding or b"")
    assert opened.separator == b"\x00"
    assert opened.digest_info == SHA256_DIGEST_INFO
    assert opened.hash_name == "SHA-256"
    # cryptography's recovery of the same signature gives the same DigestInfo ‖ T.
    issuer_key = intermediate.public_key()
    assert isinstance(issuer_key, rsa.RSAPublicKey)
    recovered = issuer_key.recover_data_from_signature(leaf.signature, padding.PKCS1v15(), None)
    assert recovered == SHA256_DIGEST_INFO + (opened.digest_t or b"")
    assert opened.block == b"\x00\x01" + opened.padding + b"\x00" + recovered
    assert x.t_equals_s is True
    assert x.verified is True
    assert x.alt_names == ("DNS:toytls.test",)
    assert x.is_ca is False
    assert x.key_usage == ("digital_signature", "key_encipherment")


def test_a_ca_holds_a_plus_and_a_root_opens_itself() -> None:
    root = _load("root.pem")[0]
    (x,) = xray_file([root])
    assert x.public_key.role == "A+"
    assert x.is_ca is True
    assert x.issuer_source == "self"
    assert x.t_equals_s is True
    assert x.verified is True


def test_the_next_certificate_in_the_file_is_the_issuer() -> None:
    leaf, intermediate = xray_file(_load("chain.pem"), _load("root.pem")[0])
    assert leaf.issuer_source == "next"
    assert intermediate.issuer_source == "given"
    assert leaf.verified is True
    assert intermediate.verified is True


def test_without_its_issuer_the_signature_stays_closed() -> None:
    (x,) = xray_file(_load("server.pem"))
    assert x.opened is None
    assert x.not_opened == "no_issuer"
    assert x.verified is None
    assert x.digest_s is not None  # S is still computed
    text = "\n".join(line for line, _ in render_xray(x, "en"))
    assert "--issuer" in text


def test_the_wrong_issuer_opens_noise_and_cryptography_refuses(pki: PKI) -> None:
    leaf = _load("server.pem")[0]
    x = xray(leaf, pki.attacker_root.certificate, issuer_source="given")
    assert x.opened is not None
    assert not x.opened.well_formed
    assert x.opened.digest_t is None
    assert x.t_equals_s is None
    assert x.verified is False
    assert x.verify_error
    # Control: the right issuer from the same fresh PKI opens its own leaf.
    good = xray(pki.server.certificate, pki.intermediate.certificate)
    assert good.t_equals_s is True


def test_a_changed_certificate_gives_t_not_s(pki: PKI) -> None:
    forged = x509.load_der_x509_certificate(
        tamper_subject(pki.server.certificate.public_bytes(Encoding.DER))
    )
    x = xray(forged, pki.intermediate.certificate)
    assert x.opened is not None
    assert x.opened.well_formed
    assert x.t_equals_s is False
    assert x.verified is False


def test_an_ecdsa_signature_cannot_be_opened_but_the_rest_is_shown() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ec.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (x,) = xray_file([cert])
    assert x.opened is None
    assert x.not_opened == "not_rsa_signature"
    assert x.public_key.kind == "EC"
    assert x.public_key.curve == "secp256r1"
    assert x.verified is True  # verified, not recovered
    for lang in ("en", "zh"):
        text = "\n".join(line for line, _ in render_xray(x, lang))
        assert "ECDSA" in text
    chinese = [line for line, _ in render_xray(x, "zh")]
    assert "    EC，256 位，secp256r1" in chinese
    assert all(english_sentences(line) == [] for line in chinese), chinese
    assert "    EC, 256 bits, secp256r1" in [line for line, _ in render_xray(x, "en")]


def test_cryptographys_refusal_is_quoted_in_chinese(pki: PKI) -> None:
    """Its words are data: shown as they are, inside quotes, after the Chinese."""
    x = xray(pki.server.certificate, pki.attacker_root.certificate)
    assert x.verified is False and x.verify_error
    (verdict,) = [line for line, _ in render_xray(x, "zh") if "不通过" in line]
    assert verdict.endswith(f"不通过，它的原话是：“{x.verify_error}”")
    assert english_sentences(verdict) == []
    (refused,) = [line for line, _ in render_xray(x, "en") if "refused" in line]
    assert refused.endswith(f"): refused: {x.verify_error}")
    assert english_sentences(refused)  # unquoted English, as before: the detector sees it


def test_read_block_refuses_what_is_not_pkcs1() -> None:
    assert not read_block(b"\x00\x02" + b"\xff" * 20 + b"\x00" + b"x" * 51).well_formed
    assert not read_block(b"\x00\x01" + b"\xff" * 3 + b"\x00" + SHA256_DIGEST_INFO).well_formed
    good = b"\x00\x01" + b"\xff" * 8 + b"\x00" + SHA256_DIGEST_INFO + bytes(32)
    assert read_block(good).well_formed
    assert not read_block(good[:-1]).well_formed  # a digest one byte short


def test_the_client_view_adds_the_trusted_root(pki: PKI) -> None:
    chain = [pki.server.certificate, pki.intermediate.certificate]
    xrays = xray_chain(chain, [pki.root.certificate])
    assert [x.issuer_source for x in xrays] == ["chain", "trusted", "self"]
    assert all(x.t_equals_s for x in xrays)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_render_and_json(lang: str) -> None:
    leaf, intermediate = _load("server.pem")[0], _load("intermediate.pem")[0]
    x = xray(leaf, intermediate, issuer_source="given")
    text = "\n".join(line for line, _ in render_xray(x, lang))
    key = leaf.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    modulus = key.public_numbers().n.to_bytes(256, "big")
    assert modulus[:16].hex(" ") in text
    assert leaf.signature[:16].hex(" ") in text
    assert "T = S" in text
    assert "B+" in text
    assert ("摘要S" in text) == (lang == "zh")
    data = json.loads(json.dumps(xray_to_dict(x)))
    assert data["public_key"]["modulus"] == modulus.hex()
    assert data["opened"]["digest_info"] == SHA256_DIGEST_INFO.hex()
    assert data["t_equals_s"] is True
    with pytest.raises(ValueError, match="lang"):
        render_xray(x, "fr")
