"""The narrator: the article's six steps, told from real in-memory handshakes.

Every narration here comes from the events of a real :class:`ConnectionPair`
with ``trace=True``; nothing is made up. The central check is that the
narrated digests agree with the real verifier: a link narrated as T ≠ S (or
with an unknown issuer) always belongs to a connection the client refused.
"""

from __future__ import annotations

import itertools
import re
import subprocess
import sys

import pytest
from english import english_sentences
from helpers import ConnectionPair, client_config, der, server_config, traced_session

from toytls import events as ev
from toytls.attacker.tamper import swap_public_key, tamper_subject
from toytls.core.config import ClientConfig, ServerConfig
from toytls.core.constants import AlertDescription
from toytls.core.errors import CertificateVerifyError, ToyTLSError
from toytls.core.messages import Certificate, ClientHello
from toytls.pki.generate import PKI
from toytls.story.narration import Narrator, alert_meaning, explain_error, short_hex

STEP = re.compile(r"^\[(\d)/6\]")
LINK_VERDICTS = ("→ T = S", "→ T ≠ S", "→ T cannot be recovered", "→ issuer unknown")
BAD_LINK_VERDICTS = LINK_VERDICTS[1:]


def run(
    pki: PKI, *, client: ClientConfig | None = None, server: ServerConfig | None = None
) -> ConnectionPair:
    """A traced connection; if it comes up, one message each way and a close."""
    return traced_session(
        pki, client=client, server=server, client_says=b"Happy birthday!", server_says=b"thanks"
    )


def swapped_server(pki: PKI, **overrides: object) -> ServerConfig:
    """偷梁换柱: the real leaf with the attacker's key B+ inside."""
    forged = swap_public_key(der(pki.server.certificate), pki.attacker_key.public_key())
    return server_config(
        pki,
        certificate_chain=(forged, der(pki.intermediate.certificate)),
        private_key=pki.attacker_key,
        **overrides,
    )


def scenarios(pki: PKI) -> dict[str, ConnectionPair]:
    """The chains of the article, each run against a verifying client."""
    intermediate = der(pki.intermediate.certificate)
    return {
        "honest": run(pki),
        "swapped_key": run(pki, server=swapped_server(pki)),
        "tampered_subject": run(
            pki,
            server=server_config(
                pki, certificate_chain=(tamper_subject(der(pki.server.certificate)), intermediate)
            ),
        ),
        "attacker_own_ca": run(
            pki,
            server=server_config(
                pki,
                certificate_chain=(der(pki.attacker_own_ca),),
                private_key=pki.attacker_key,
            ),
        ),
        "attacker_own_ca_with_root": run(
            pki,
            server=server_config(
                pki,
                certificate_chain=(der(pki.attacker_own_ca), der(pki.attacker_root.certificate)),
                private_key=pki.attacker_key,
            ),
        ),
    }


@pytest.fixture(scope="module")
def runs(pki: PKI) -> dict[str, ConnectionPair]:
    return scenarios(pki)


def narrate(
    events: list[ev.Event], *, lang: str = "en", level: int = 1, role: str = "client"
) -> list[str]:
    narrator = Narrator(lang=lang, level=level, role=role)
    return [line for event in events for line in narrator.describe(event)]


def is_subsequence(short: list[str], long: list[str]) -> bool:
    remaining = iter(long)
    return all(any(line == candidate for candidate in remaining) for line in short)


def steps(lines: list[str]) -> list[int]:
    return [int(m.group(1)) for line in lines if (m := STEP.match(line))]


# --- levels ---------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", ["honest", "swapped_key", "attacker_own_ca"])
def test_each_level_keeps_every_line_of_the_one_below(
    runs: dict[str, ConnectionPair], name: str, lang: str
) -> None:
    pair = runs[name]
    for role, events in (("client", pair.client_events), ("server", pair.server_events)):
        told = [narrate(events, lang=lang, level=level, role=role) for level in range(4)]
        for lower, higher in itertools.pairwise(told):
            assert is_subsequence(lower, higher)
            assert len(higher) > len(lower)


def test_level_0_tells_only_outcomes(runs: dict[str, ConnectionPair]) -> None:
    client = narrate(runs["honest"].client_events, level=0)
    assert [line for line in client if STEP.match(line)] == [
        next(line for line in client if "verdict: ACCEPTED" in line),
        next(line for line in client if "handshake complete" in line),
    ]
    fingerprint = runs["honest"].client.session
    assert fingerprint is not None
    assert fingerprint.session_key_fingerprint in "\n".join(client)
    assert any("close: the client has finished sending" in line for line in client)
    rejected = narrate(runs["swapped_key"].client_events, level=0)
    assert any("verdict: REJECTED with alert bad_certificate" in line for line in rejected)
    # One reason, the specific one (T ≠ S), once: the alert's generic meaning
    # ("… or it breaks the certificate rules") is not printed besides.
    assert sum("T ≠ S" in line for line in rejected) == 1
    assert not any("alert sent" in line for line in rejected)
    server = narrate(runs["swapped_key"].server_events, level=0, role="server")
    assert any("alert received: bad_certificate" in line for line in server)
    assert "      connection failed: the client ended it with alert bad_certificate" in server


@pytest.mark.parametrize("role", ["client", "server"])
def test_level_1_tells_all_six_steps_in_order(runs: dict[str, ConnectionPair], role: str) -> None:
    events = getattr(runs["honest"], f"{role}_events")
    lines = narrate(events, role=role)
    numbers = steps(lines)
    assert numbers == sorted(numbers)
    assert set(numbers) == {1, 2, 3, 4, 5, 6}
    text = "\n".join(lines)
    assert "B+" in text and "key X" in text
    if role == "server":
        assert "private key B−" in text


def test_level_2_shows_fields_and_keys(runs: dict[str, ConnectionPair]) -> None:
    pair = runs["honest"]
    lines = narrate(pair.client_events, level=2)
    hello = next(e for e in pair.client_events if isinstance(e, ev.HandshakeMessageSent))
    keys = next(e for e in pair.client_events if isinstance(e, ev.KeysDerived))
    assert isinstance(hello.message, ClientHello), hello
    assert f"      random = {short_hex(hello.message.random)}" in lines
    assert "      server_name = 'localhost'" in lines
    assert f"      client_write_key = {short_hex(keys.schedule.client_write_key)}" in lines
    assert f"      key X = {short_hex(keys.secret, 16)}" in lines
    hexed = " ".join(f"{b:02x}" for b in b"Happy birthday!")
    assert f"      data = “Happy birthday!” ({hexed})" in lines
    assert not any("record sent" in line for line in lines)


def test_level_3_shows_every_record(runs: dict[str, ConnectionPair]) -> None:
    pair = runs["honest"]
    lines = narrate(pair.client_events, level=3)
    records = [e for e in pair.client_events if isinstance(e, ev.RecordSent | ev.RecordReceived)]
    assert sum("record sent: " in line or "record received: " in line for line in lines) == len(
        records
    )
    first = records[0]
    assert f"      record sent: handshake (22), {len(first.record)} bytes, unprotected" in lines
    protected, nonce = next((r, r.nonce) for r in records if r.nonce is not None)
    assert any(f"seq {protected.seq}, nonce {nonce.hex()}" in line for line in lines)


# --- the digests agree with the verifier ------------------------------------------------


def link_verdicts(lines: list[str]) -> list[str]:
    return [v for line in lines for v in LINK_VERDICTS if line.strip().startswith(v)]


def test_honest_chain_every_link_t_equals_s(runs: dict[str, ConnectionPair]) -> None:
    pair = runs["honest"]
    lines = narrate(pair.client_events)
    links = [e for e in pair.client_events if isinstance(e, ev.CertificateChecked)]
    assert len(links) == 3  # leaf, intermediate, and the root from the store
    # The two presented links are signatures; the root is trusted for being
    # in the store, not for its self-signature.
    assert link_verdicts(lines) == ["→ T = S"] * 2
    assert pair.client.handshake_complete
    assert "root certificate from the client's own trust store" in "\n".join(lines)
    assert "trusted because it is in the client's trust store" in "\n".join(lines)


def test_swapped_key_leaf_t_differs_from_s_and_is_rejected(
    runs: dict[str, ConnectionPair],
) -> None:
    pair = runs["swapped_key"]
    lines = narrate(pair.client_events)
    leaf = lines.index(next(line for line in lines if "checks certificate 0" in line))
    assert lines[leaf + 4].strip().startswith("→ T ≠ S")
    assert "偷梁换柱" in lines[leaf + 4]
    verdict = next(line for line in lines if "verdict" in line)
    assert verdict.startswith("[3/6] verdict: REJECTED with alert bad_certificate")
    assert isinstance(pair.client.error, CertificateVerifyError)
    assert not any(isinstance(e, ev.KeysDerived) for e in pair.server_events)


@pytest.mark.parametrize(
    "name",
    ["honest", "swapped_key", "tampered_subject", "attacker_own_ca", "attacker_own_ca_with_root"],
)
def test_narrated_digests_agree_with_the_verifier(
    runs: dict[str, ConnectionPair], name: str
) -> None:
    pair = runs[name]
    lines = narrate(pair.client_events)
    verdicts = link_verdicts(lines)
    presented = next(
        e.message.certificates
        for e in pair.client_events
        if isinstance(e, ev.HandshakeMessageReceived) and isinstance(e.message, Certificate)
    )
    # The anchor from the store is told as trusted for being there, not as a link.
    links = [
        e.link
        for e in pair.client_events
        if isinstance(e, ev.CertificateChecked) and e.link.index < len(presented)
    ]
    assert len(verdicts) == len(links) >= 1
    for link, verdict in zip(links, verdicts, strict=True):
        assert (verdict == "→ T = S") == (link.digest_t == link.digest_s and link.signature_valid)
    accepted = [line for line in lines if line.startswith("[3/6] verdict: ACCEPTED")]
    rejected = [line for line in lines if line.startswith("[3/6] verdict: REJECTED")]
    if any(v in BAD_LINK_VERDICTS for v in verdicts):
        assert pair.client.error is not None
        assert rejected and not accepted
    if name == "honest":
        assert set(verdicts) == {"→ T = S"}
        assert accepted and not rejected and pair.client.handshake_complete
    else:
        assert isinstance(pair.client.error, CertificateVerifyError)
        assert rejected and not accepted


def test_a_sound_signature_from_an_untrusted_root_is_still_rejected(
    runs: dict[str, ConnectionPair],
) -> None:
    lines = narrate(runs["attacker_own_ca_with_root"].client_events)
    assert set(link_verdicts(lines)) == {"→ T = S"}
    assert any("REJECTED with alert unknown_ca" in line for line in lines)
    own_ca = narrate(runs["attacker_own_ca"].client_events)
    assert "→ issuer unknown" in link_verdicts(own_ca)


# --- Chinese ------------------------------------------------------------------------

ENGLISH = re.compile(
    r"\b(the|client|server|sends|receives|checks|asks|verdict|handshake complete|key X)\b"
)


@pytest.mark.parametrize("role", ["client", "server"])
def test_chinese_uses_the_articles_terms(runs: dict[str, ConnectionPair], role: str) -> None:
    events = getattr(runs["honest"], f"{role}_events")
    lines = narrate(events, lang="zh", role=role)
    text = "\n".join(lines)
    for term in ("密钥X", "公钥B+", "摘要T", "摘要S", "数字证书", "数字签名"):
        assert term in text, term
    if role == "client":
        assert "根证书" in text and "中间证书" in text and "信任链" in text
    else:
        assert "私钥B−" in text
    assert set(steps(lines)) == {1, 2, 3, 4, 5, 6}
    assert not [line for line in lines if ENGLISH.search(line)]


def test_chinese_rejection(runs: dict[str, ConnectionPair]) -> None:
    lines = narrate(runs["swapped_key"].client_events, lang="zh")
    text = "\n".join(lines)
    assert "T ≠ S" in text and "偷梁换柱" in text
    assert any(line.startswith("[3/6] 结论：拒绝（警报 bad_certificate") for line in lines)


def test_level_3_in_chinese_has_no_english_sentence(pki: PKI) -> None:
    pair = traced_session(pki, client_says="你好".encode(), server_says="你好".encode())
    for role in ("client", "server"):
        lines = narrate(getattr(pair, f"{role}_events"), lang="zh", level=3, role=role)
        assert [line for line in lines if english_sentences(line)] == []
    client = narrate(pair.client_events, lang="zh", level=2)
    assert "      data = “你好”（e4 bd a0 e5 a5 bd）" in client
    assert (
        "      协议 toytls/1，加密 AES-128-GCM，server_name = 'localhost'，证书链已验证" in client
    )
    assert any(line.startswith("      第 1 张证书的 SHA-256 指纹 = ") for line in client)
    english_lines = narrate(pair.client_events, level=2)
    assert "      data = “你好” (e4 bd a0 e5 a5 bd)" in english_lines
    assert any("verified = True" in line for line in english_lines)
    assert any(english_sentences(line) for line in english_lines)  # the check can see English


@pytest.mark.parametrize(
    ("data", "en", "zh"),
    [
        (b"\xff\xfe\x00", "data = ff fe 00", "data = ff fe 00"),
        (b"line one\nline two", "data = “line one\\nline two” (", "data = “line one\\nline two”（"),
        (
            "好" * 60,
            "data = “" + "好" * 48 + "…” (e5 a5 bd e5 a5 bd",
            "data = “" + "好" * 48 + "…”（e5 a5 bd",
        ),
        (bytes(range(0x61, 0x7B)) * 2, "… 52 bytes in all)", "…，共 52 字节）"),
        ("好".encode()[:2], "data = e5 a5", "data = e5 a5"),
    ],
    ids=["not-utf8", "newline", "long-chinese", "long-hex", "cut-character"],
)
def test_data_is_shown_as_text_and_hex(data: bytes | str, en: str, zh: str) -> None:
    raw = data.encode() if isinstance(data, str) else data
    event = ev.ApplicationData(data=raw)
    (_, english_line) = Narrator(level=2).describe(event)
    (_, chinese_line) = Narrator(level=2, lang="zh").describe(event)
    assert en in english_line and zh in chinese_line
    assert english_line.startswith("      data = ")


# --- roles, errors, alerts ----------------------------------------------------------


def test_a_proxy_finds_out_which_side_it_plays(pki: PKI) -> None:
    pair = run(pki, client=client_config(pki, verify=False), server=swapped_server(pki))
    lines = narrate(pair.server_events, role="proxy")
    assert lines[0].startswith("[1/6] the attacker is asked")
    assert any("the attacker unlocks key X with its private key M−" in line for line in lines)
    client = narrate(pair.client_events)
    assert any("[3/6] WARNING: the certificate is NOT checked" in line for line in client)
    assert pair.client.handshake_complete


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="lang"):
        Narrator(lang="fr")
    with pytest.raises(ValueError, match="level"):
        Narrator(level=4)
    with pytest.raises(ValueError, match="role"):
        Narrator(role="browser")
    with pytest.raises(ValueError, match="lang"):
        alert_meaning(0, "de")


def test_every_alert_has_a_meaning_in_both_languages() -> None:
    for lang in ("en", "zh"):
        meanings = {alert_meaning(code, lang) for code in AlertDescription}
        assert len(meanings) == len(AlertDescription)
    assert alert_meaning(AlertDescription.BAD_CERTIFICATE).startswith(
        "the certificate failed a check:"
    )
    assert "99" in alert_meaning(99) and "99" in alert_meaning(99, "zh")


def test_explain_error_names_the_alert(runs: dict[str, ConnectionPair]) -> None:
    client_error = runs["swapped_key"].client.error
    server_error = runs["swapped_key"].server.error
    assert client_error is not None and server_error is not None
    assert explain_error(client_error).startswith("certificate rejected (bad_certificate): ")
    assert "T ≠ S" in explain_error(client_error)
    assert explain_error(server_error).startswith(
        "the peer ended the connection with alert bad_certificate"
    )
    assert "bad_certificate" in explain_error(server_error, "zh")
    local = ToyTLSError("Finished differs", alert=AlertDescription.DECRYPT_ERROR)
    assert explain_error(local).startswith("this side sent alert decrypt_error")
    assert "without an alert" in explain_error(ToyTLSError("cut", alert=None))


def test_short_hex() -> None:
    assert short_hex(bytes(range(10))) == "0001020304050607…"
    assert short_hex(b"\x01\x02", 4) == "0102"


def test_one_proxy_narrator_follows_both_of_its_connections(pki: PKI) -> None:
    toward_client = run(pki, client=client_config(pki, verify=False), server=swapped_server(pki))
    toward_server = run(pki)
    narrator = Narrator(role="proxy")
    as_server = [line for e in toward_client.server_events for line in narrator.describe(e)]
    as_client = [line for e in toward_server.client_events for line in narrator.describe(e)]
    assert (
        as_server[0] == "[1/6] the attacker is asked for a secure talk: ClientHello for 'localhost'"
    )
    assert as_client[0] == "[1/6] the attacker asks for a secure talk: ClientHello for 'localhost'"
    assert any(line.startswith("[3/6] the attacker checks certificate 0") for line in as_client)
    assert any("only the server can unlock X" in line for line in as_client)


def test_no_trio_at_import() -> None:
    code = (
        "import sys, toytls.story.narration, toytls.story.hexdump, toytls.story.eventjson; "
        "assert 'trio' not in sys.modules, 'trio imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_attacker_toward_the_real_server_passes_the_clients_x_on(pki: PKI, lang: str) -> None:
    """The proxy's upstream leg checks nothing and sends on the client's X: it says so."""
    upstream = run(pki, client=client_config(pki, verify=False))
    narrator = Narrator(role="proxy", lang=lang, level=1)
    lines = [line for e in upstream.client_events for line in narrator.describe(e)]
    text = "\n".join(lines)
    assert "--insecure" not in text  # the proxy has no such flag
    assert "makes a fresh session key" not in text and "生成会话密钥X" not in text
    said = {
        "en": ("does not check the real server's chain", "makes no key X of his own"),
        "zh": ("不检查真服务器发来的证书链", "没有自己生成密钥X"),
    }[lang]
    for words in said:
        assert words in text, text
