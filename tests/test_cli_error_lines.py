"""What ``toytls client`` says when an attack is caught: once, and in its language.

A real server, the attacker's proxy (``swap-key``: 偷梁换柱 on the certificate;
``flip``: one bit of a data record changed) and real client processes. The
specific reason (digest T ≠ S; which record failed to decrypt) is printed
exactly once, at the default level and with ``-q``; in Chinese no line holds
an English sentence.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from english import english_sentences
from processes import Background, Text, run_client, start_proxy, start_server, wait_until

from toytls.core.constants import AlertDescription
from toytls.story.narration import alert_meaning

#: For each attack: exit status, and the specific reason in English and Chinese.
ATTACKS = {
    "swap-key": (3, "does not match its content: digest T ≠ S", "的数字签名和证书内容对不上"),
    "flip": (4, "failed to decrypt: it was changed", "的记录解密失败"),
}


@pytest.fixture(scope="module")
def proxies(pki_dir: Path) -> Iterator[dict[str, Background]]:
    with start_server(pki_dir) as server:
        started = {
            mode: start_proxy(server.address, mode, "--certs", str(pki_dir)) for mode in ATTACKS
        }
        try:
            yield started
        finally:
            for proxy in started.values():
                proxy.stop()


@pytest.mark.parametrize("level", ["-q", "--no-color"], ids=["quiet", "default"])
@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("mode", list(ATTACKS))
def test_the_reason_is_said_once_in_the_chosen_language(
    pki_dir: Path, proxies: dict[str, Background], mode: str, lang: str, level: str
) -> None:
    status, in_english, in_chinese = ATTACKS[mode]
    result = run_client(
        pki_dir, proxies[mode].address, "--message", "你好", "--lang", lang, level, timeout=30
    )
    assert result.returncode == status, result.stderr
    said = result.stdout + result.stderr
    reason = in_chinese if lang == "zh" else in_english
    assert said.count(reason) == 1, said
    if lang == "zh":
        assert [line for line in said.splitlines() if english_sentences(line)] == []
        assert in_english not in said
    else:
        assert in_chinese not in said


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_servers_log_says_a_failures_meaning_once(pki_dir: Path, lang: str) -> None:
    """Narrated: the failure line says why, and the end line only names the alert."""
    chain, key = str(pki_dir / "chain.pem"), str(pki_dir / "server.key")
    accept = ("server", "--accept", "127.0.0.1:0", "--cert-chain", chain, "--key", key)
    with Text(*accept, "--lang", lang) as server:
        refused = run_client(pki_dir, server.address, "--server-name", "example.test", "-q")
        assert refused.returncode == 3, refused.stderr
        wait_until(lambda: any("(0 bytes in" in s or "收到 0 字节" in s for s in server.lines))
    meaning = alert_meaning(int(AlertDescription.BAD_CERTIFICATE), lang, fatal=True)
    told = [line for line in server.lines if meaning in line]
    assert len(told) == 1, server.lines
    (end,) = [line for line in server.lines if "(0 bytes in" in line or "收到 0 字节" in line]
    assert "bad_certificate" in end and meaning not in end
