"""Issue 13, items 5 and 6: the attacker's key pair is M+/M− everywhere (B+/B−
is always the real server's), and one note on real TLS today ends the demo
and the session page, in English and Chinese.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys

import pytest

from toytls.story import demo_texts, ladder_texts, narration_texts
from toytls.streams.wiretap import WireLog
from toytls.web.sessionpage import Visit, render_page
from toytls.web.sessionpage_texts import PAGE_TEXTS

#: The sentences where the attacker shows or uses his own key pair.
ATTACKER_TEXTS: list[str] = [
    *(demo_texts.LINES[lang][key] for lang in ("en", "zh") for key in ("swap_setup", "stolen_key")),
    *ladder_texts.NOTES["swapped"],
    *ladder_texts.NOTES["stole_key"],
    *ladder_texts.CHANGES["swap_key"],
    *(PAGE_TEXTS[lang]["key"] for lang in ("en", "zh")),
]

#: Words of the note, per language, that must all appear.
NOTE_WORDS = {
    "en": (
        "TLS 1.3",
        "RSA key transport",
        "(EC)DHE",
        "CertificateVerify",
        "forward secrecy",
        "PKCS#1 v1.5",
        "ECDSA",
    ),
    "zh": (
        "TLS 1.3",
        "RSA 密钥传输",
        "(EC)DHE",
        "CertificateVerify",
        "前向安全",
        "PKCS#1 v1.5",
        "ECDSA",
    ),
}


@pytest.mark.parametrize("text", ATTACKER_TEXTS)
def test_the_attackers_key_is_m_not_b(text: str) -> None:
    assert not re.search(
        r"(\bhis (own )?((private|public) key )?|自己的(公钥|私钥)?\s?)B[+−]", text
    )
    assert "M+" in text or "M−" in text


def test_one_line_maps_m_to_the_articles_letters() -> None:
    for lang in ("en", "zh"):
        line = demo_texts.LINES[lang]["swap_setup"]
        assert "B+/B−" in line and "A+/A−" in line and "M+/M−" in line
    mapped = [
        key for key, text in demo_texts.LINES["en"].items() if "A+/A−" in text and "M+/M−" in text
    ]
    assert mapped == ["swap_setup"]


def test_a_proxy_playing_server_narrates_with_m() -> None:
    # The texts the server side says take the key's name from the role.
    for key in ("certificate_sent", "cke_received", "keys_server"):
        for text in narration_texts.TEXT[key]:
            assert "B+" not in text and "B−" not in text
            assert "{pub}" in text or "{priv}" in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_demo_ends_with_the_note(lang: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "toytls.cli.main",
            "demo",
            "--only",
            "1",
            "--no-color",
            "--lang",
            lang,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "100"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    tail = result.stdout.split(demo_texts.LINES[lang]["all_ok"])[-1]
    flat = "".join(tail.split()) if lang == "zh" else " ".join(tail.split())
    for words in NOTE_WORDS[lang]:
        assert ("".join(words.split()) if lang == "zh" else words) in flat, words


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_session_page_shows_the_note(lang: str) -> None:
    visit = Visit(
        session=None,
        records_protected=(0, 0),
        wire_received=WireLog().as_dict(),
        wire_sent=WireLog().as_dict(),
        peer="test",
        request_head=["GET / HTTP/1.1", "Host: x"],
        earlier_requests=0,
        lang=lang,
    )
    page = html.unescape(render_page(visit).decode())
    assert PAGE_TEXTS[lang]["real_tls_heading"] in page
    assert PAGE_TEXTS[lang]["real_tls"] in page
    for words in NOTE_WORDS[lang]:
        assert words in PAGE_TEXTS[lang]["real_tls"], words
