"""The ladder diagram: events in, well-formed SVG out, one arrow per record."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from helpers import client_config, traced_session

from toytls.core import events as ev
from toytls.core.constants import ContentType
from toytls.core.messages import ClientHello
from toytls.pki.generate import PKI
from toytls.story.ladder import Ladder, LadderBuilder, change_words, lane_name
from toytls.story.ladder_input import EventLog
from toytls.story.ladder_svg import render_svg, xml_text
from toytls.story.report import Diagram, Section, lesson_ladder, render_report

SVG = "{http://www.w3.org/2000/svg}"


def groups(svg: str, kind: str) -> list[ET.Element]:
    root = ET.fromstring(svg)
    return [g for g in root.iter(f"{SVG}g") if g.get("class", "").split()[:1] == [kind]]


def texts(svg: str) -> str:
    return "\n".join("".join(t.itertext()) for t in ET.fromstring(svg).iter(f"{SVG}text"))


def two_sides(client: list[ev.Event], server: list[ev.Event], lang: str = "en") -> Ladder:
    """Client events first, then the server's: the builder restores the causal order."""
    builder = LadderBuilder([lane_name("client", lang), lane_name("server", lang)], lang=lang)
    for event in client:
        builder.event(0, 1, event)
    for event in server:
        builder.event(1, 0, event)
    return builder.ladder()


def records(events: list[ev.Event]) -> int:
    return sum(isinstance(e, ev.RecordSent) for e in events)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_one_arrow_per_record_in_causal_order(pki: PKI, lang: str) -> None:
    pair = traced_session(pki, client_says=b"Happy birthday")
    ladder = two_sides(pair.client_events, pair.server_events, lang)
    svg = render_svg(ladder)
    sent = records(pair.client_events) + records(pair.server_events)
    assert len(ladder.arrows) == sent
    assert len(groups(svg, "arrow")) == sent
    first, second = ladder.arrows[:2]
    assert (first.source, first.target, second.source) == (0, 1, 1)  # ClientHello, then the reply


def test_labels_say_the_message_and_what_it_carries(pki: PKI) -> None:
    pair = traced_session(pki)
    svg = render_svg(two_sides(pair.client_events, pair.server_events))
    shown = texts(svg)
    for label in (
        "ClientHello for 'localhost'",
        "Certificate (localhost ← ",
        "key X locked with B+",
        "{Finished}",
        "{application data} 5 bytes",
        "T = S",
        "handshake done",
    ):
        assert label in shown, label


def test_chinese_labels(pki: PKI) -> None:
    pair = traced_session(pki)
    shown = texts(render_svg(two_sides(pair.client_events, pair.server_events, "zh")))
    assert "用公钥B+ 锁住的密钥X" in shown
    assert "客户端" in shown
    assert "已加密" in shown


def test_encrypted_records_look_different_and_say_so(pki: PKI) -> None:
    pair = traced_session(pki)
    svg = render_svg(two_sides(pair.client_events, pair.server_events))
    protected = groups(svg, "arrow")
    locked = [g for g in protected if "protected" in g.get("class", "")]
    clear = [g for g in protected if "clear" in g.get("class", "")]
    assert locked and clear
    for group in locked:
        line = group.find(f"{SVG}line")
        assert line is not None and line.get("stroke-dasharray")
        assert group.find(f"{SVG}g[@class='lock']") is not None
        assert "encrypted" in "".join(group.itertext())
    for group in clear:
        line = group.find(f"{SVG}line")
        assert line is not None and line.get("stroke-dasharray") is None


def test_the_failing_step_names_its_alert(pki: PKI) -> None:
    pair = traced_session(pki, client=client_config(pki, server_name="example.test"))
    svg = render_svg(two_sides(pair.client_events, pair.server_events))
    bad = groups(svg, "note")
    stopped = [g for g in bad if "bad" in g.get("class", "")]
    assert any("bad_certificate" in "".join(g.itertext()) for g in stopped)
    assert "alert bad_certificate" in texts(svg)


def test_the_attackers_change_is_drawn_and_said() -> None:
    builder = LadderBuilder(["c", "a", "s"])
    builder.forward(1, 0, b"\x17\x00\x01\x00\x01x")
    builder.change_last(1, 0, change_words("flip"))
    svg = render_svg(builder.ladder())
    changed = groups(svg, "arrow")
    assert len(changed) == 1
    assert "changed" in changed[0].get("class", "")
    assert "CHANGED: one bit flipped" in texts(svg)


def test_peer_controlled_strings_cannot_break_the_svg() -> None:
    name = "<script>&amp;\"'\x01\ud800"
    hello = ClientHello(random=bytes(32), server_name=name)
    builder = LadderBuilder(["you", "server"])
    builder.event(
        1,
        0,
        ev.RecordReceived(
            content_type=ContentType.HANDSHAKE,
            record=b"\x16xx",
            plaintext=b"",
            seq=None,
            nonce=None,
        ),
    )
    builder.event(1, 0, ev.HandshakeMessageReceived(message=hello, raw=b""))
    svg = render_svg(builder.ladder(), title=name)
    root = ET.fromstring(svg)  # well-formed
    assert "<script>" not in svg
    assert "<script>&amp;\"'\\x01\\xd800" in texts(svg)
    assert root.find(f"{SVG}script") is None
    assert xml_text("a\x00b") == "a\\x00b"


def test_the_receiver_alone_draws_what_it_received(pki: PKI) -> None:
    pair = traced_session(pki)
    builder = LadderBuilder(["you", "server"])
    for event in pair.server_events:
        builder.event(1, 0, event)
    ladder = builder.ladder()
    received = sum(isinstance(e, ev.RecordReceived) for e in pair.server_events)
    assert len(ladder.arrows) == records(pair.server_events) + received
    assert ladder.arrows[0].label == "ClientHello for 'localhost'"
    assert "T = S" not in texts(render_svg(ladder))  # the server never sees the client's checks


def test_the_event_log_keeps_only_the_first_events(pki: PKI) -> None:
    pair = traced_session(pki)
    seen: list[ev.Event] = []
    log = EventLog(limit=3)
    handler = log.then(seen.append)
    for event in pair.server_events:
        handler(event)
    assert log.events == pair.server_events[:3]
    assert seen == pair.server_events


def test_the_report_is_one_self_contained_page() -> None:
    sections = [
        Section(
            number=n,
            title=f"<t{n}>",
            predicted="p",
            happened="h & h",
            as_predicted=n != 3,
            diagrams=(Diagram(caption="lesson", svg=render_svg(lesson_ladder(n))),),
        )
        for n in (2, 3, 4)
    ]
    page = render_report(sections, lang="zh")
    assert page.count("<svg") == 3
    assert "<t2>" not in page and "&lt;t2&gt;" in page
    assert "<script" not in page
    assert "src=" not in page and "href=" not in page
    assert "Noto Sans CJK SC" in page and "Microsoft YaHei" in page
    assert "✗" in page
