"""The session page draws the visitor's handshake, from the server's events only."""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from browser import CHROMIUM, QUIET, png_colours, screenshot
from helpers import traced_session
from processes import Background, start_server

from toytls.core import events as ev
from toytls.core.constants import ContentType
from toytls.core.messages import ClientHello
from toytls.pki.generate import PKI
from toytls.web.sessionpage import Visit, render_page

SVG = re.compile(r"<svg\b.*?</svg>", re.DOTALL)


def visit(events: tuple[ev.Event, ...], session: ev.SessionInfo | None, lang: str = "en") -> Visit:
    return Visit(
        session=session,
        records_protected=(1, 1),
        wire_received={"bytes": 1, "records": {}},
        wire_sent={"bytes": 1, "records": {}},
        peer="127.0.0.1:1",
        request_head=("GET / HTTP/1.1",),
        earlier_requests=0,
        lang=lang,
        events=events,
    )


def session_of(events: list[ev.Event]) -> ev.SessionInfo:
    return next(e.session for e in events if isinstance(e, ev.HandshakeComplete))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_page_holds_the_visitors_diagram(pki: PKI, lang: str) -> None:
    pair = traced_session(pki)
    events = tuple(pair.server_events)
    page = render_page(visit(events, session_of(pair.server_events), lang)).decode()
    svgs = SVG.findall(page)
    assert len(svgs) == 1
    ET.fromstring(svgs[0])
    assert "ClientHello" in svgs[0] and "{Finished}" in svgs[0]
    assert "T = S" not in svgs[0]  # what the client checked, the server cannot know
    assert ("你（你的客户端）" if lang == "zh" else "You (your client)") in svgs[0]


def test_a_hostile_name_cannot_break_the_page(pki: PKI) -> None:
    pair = traced_session(pki)
    hello = ClientHello(random=bytes(32), server_name='"><script>x</script>\x07')
    record = ev.RecordReceived(
        content_type=ContentType.HANDSHAKE, record=b"\x16", plaintext=b"", seq=None, nonce=None
    )
    events = (record, ev.HandshakeMessageReceived(message=hello, raw=b""))
    page = render_page(visit(events, session_of(pair.server_events))).decode()
    assert "<script>" not in page
    ET.fromstring(SVG.findall(page)[0])


def test_no_diagram_without_events_or_on_a_plaintext_server() -> None:
    assert "<svg" not in render_page(visit((), None)).decode()


@pytest.mark.skipif(CHROMIUM is None, reason="needs chromium: apt-get install chromium")
def test_chromium_draws_the_session_page(pki_dir: Path, tmp_path: Path) -> None:
    with (
        start_server(pki_dir, "--app", "http") as server,
        Background(
            "tunnel",
            "--accept",
            "127.0.0.1:0",
            "--connect",
            server.address,
            "--cafile",
            str(pki_dir / "root.pem"),
        ) as tun,
    ):
        assert CHROMIUM is not None
        dom = subprocess.run(
            [
                CHROMIUM,
                *QUIET,
                f"--user-data-dir={tmp_path / 'dom'}",
                "--dump-dom",
                f"http://{tun.address}/?lang=zh",
            ],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
        png = tmp_path / "session-page.png"  # kept for a person to look at
        screenshot(f"http://{tun.address}/?lang=zh", png, tmp_path / "profile", size="1280,1800")
    assert dom.returncode == 0, dom.stderr
    svg = SVG.findall(dom.stdout)
    assert svg, dom.stdout[:2000]
    assert "服务器眼中的你的握手" in dom.stdout
    assert png_colours(png) > 50
