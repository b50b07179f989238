"""Draw a :class:`~toytls.story.ladder.Ladder` as SVG text.

One vertical line per lane, one horizontal arrow per record, top to bottom
in time order. Nothing is said by colour alone:

- a record in clear is a solid thin line;
- an encrypted record is a dashed line with a lock drawn on it, its label in
  braces and the words "encrypted with keys from X" under it;
- a record the attacker changed is a thick line with a highlighted label
  that starts with CHANGED, FORGED or REPLAYED;
- where a connection stopped is a box with a thick border and a drawn cross,
  whose text starts with ✗ and names the alert.

Every string is escaped for XML, and characters XML cannot hold at all
(control characters a peer may put in a server name) are shown as ``\\xNN``,
so no peer-controlled value can break or change the drawing. Pure: the
ladder in, the text of one ``<svg>`` element out.
"""

from __future__ import annotations

import re
import unicodedata
from xml.sax.saxutils import escape

from .ladder import Arrow, Ladder, Note, say
from .ladder_texts import ARROWS, LEGEND

#: Fonts that have Latin and Chinese, the common ones first.
FONT_STACK = (
    "system-ui, 'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', "
    "'Microsoft YaHei', 'Noto Sans', 'DejaVu Sans', sans-serif"
)

_WIDTH = 1100
_MARGIN = 150
_TOP = 64
_ARROW_ROW = 52
_CHANGED_ROW = 72
_NOTE_ROW = 32
_LEGEND = 56
_INK, _MUTED, _LIFELINE = "#1d2330", "#4a5263", "#9aa3b2"
_LOCKED = "#1f4f9f"
_CHANGED, _CHANGED_BG = "#b4420a", "#fde68a"
_NOTE_STYLE = {
    "info": ("#f3f4f7", "#c5cad3", 1.0),
    "ok": ("#e6f4ea", "#17713a", 1.2),
    "bad": ("#fdecec", "#a11d1d", 2.6),
    "attack": ("#fff4d6", _CHANGED, 2.0),
}
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: object) -> str:
    """``value`` as text safe inside an XML element or a quoted attribute."""
    text = _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))
    return escape(text, {'"': "&quot;", "'": "&apos;"})


def text_width(text: str, size: float) -> float:
    """An estimate of the drawn width of ``text`` at ``size`` px (CJK counts double)."""
    wide = sum(1 for ch in text if unicodedata.east_asian_width(ch) in "WF")
    return size * (wide * 1.0 + (len(text) - wide) * 0.62)


def fit(text: str, room: float, size: float) -> str:
    """``text``, cut with an ellipsis so that it fits ``room`` px."""
    if text_width(text, size) <= room:
        return text
    while text and text_width(text + "…", size) > room:
        text = text[:-1]
    return text + "…"


def render_svg(ladder: Ladder, *, title: str = "", width: int = _WIDTH) -> str:
    """The SVG of ``ladder``: a lane per party, an arrow per record, a legend.

    Args:
        ladder: What to draw.
        title: The accessible title (and tooltip) of the whole drawing.
        width: The drawing's width in px; lanes spread evenly across it.
    """
    count = max(len(ladder.lanes), 1)
    span = (width - 2 * _MARGIN) / max(count - 1, 1)
    xs = [_MARGIN + i * span for i in range(count)] if count > 1 else [width / 2]
    body: list[str] = []
    y = float(_TOP)
    for step in ladder.steps:
        if isinstance(step, Arrow):
            height = _CHANGED_ROW if step.change else _ARROW_ROW
            body.append(_arrow(step, xs, y, span, ladder.lang))
        else:
            height = _NOTE_ROW
            body.append(_note(step, xs[step.lane], y, width))
        y += height
    height_total = int(y + 16 + _LEGEND)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height_total}" '
        f'viewBox="0 0 {width} {height_total}" role="img" font-family="{FONT_STACK}" '
        f'font-size="14" fill="{_INK}">',
        f"<title>{xml_text(title or ' / '.join(ladder.lanes))}</title>",
        f'<rect width="{width}" height="{height_total}" fill="#ffffff"/>',
    ]
    for x, name in zip(xs, ladder.lanes, strict=False):
        parts.append(_lane(x, name, y + 8, span))
    parts += body
    parts.append(_legend(y + 20, width, ladder.lang))
    parts.append("</svg>")
    return "\n".join(parts)


def _lane(x: float, name: str, bottom: float, span: float) -> str:
    shown = fit(name, min(span - 24, 260), 15)
    box = max(text_width(shown, 15) + 28, 120)
    return (
        f'<g class="lane"><line x1="{x:.0f}" y1="46" x2="{x:.0f}" y2="{bottom:.0f}" '
        f'stroke="{_LIFELINE}" stroke-width="1.5" stroke-dasharray="3 5"/>'
        f'<rect x="{x - box / 2:.0f}" y="10" width="{box:.0f}" height="36" rx="6" '
        f'fill="#eef1f6" stroke="{_INK}" stroke-width="1.2"/>'
        f'<text x="{x:.0f}" y="33" text-anchor="middle" font-weight="700" font-size="15">'
        f"{xml_text(shown)}</text></g>"
    )


def _arrow(arrow: Arrow, xs: list[float], top: float, span: float, lang: str) -> str:
    x1, x2 = xs[arrow.source], xs[arrow.target]
    y = top + 24
    way = 1 if x2 > x1 else -1
    room = max(abs(x2 - x1), span) - 40
    mid = (x1 + x2) / 2
    if arrow.change:
        kind, color, stroke, dash = "arrow changed", _CHANGED, 3.4, ""
    elif arrow.protected:
        kind, color, stroke, dash = "arrow protected", _LOCKED, 1.8, ' stroke-dasharray="8 5"'
    else:
        kind, color, stroke, dash = "arrow clear", _INK, 1.6, ""
    carries = arrow.carries
    if arrow.protected:
        encrypted = say(ARROWS, "encrypted", lang)
        carries = f"{encrypted} · {carries}" if carries else encrypted
    tip = x2 - way * 2
    head = f"{tip:.1f},{y:.1f} {tip - way * 12:.1f},{y - 6:.1f} {tip - way * 12:.1f},{y + 6:.1f}"
    label = fit(arrow.label, room, 14)
    whole = " — ".join(filter(None, (arrow.label, carries, arrow.change or "")))
    parts = [
        f'<g class="{kind}"><title>{xml_text(whole)}</title>',
        f'<line x1="{x1:.1f}" y1="{y:.1f}" x2="{tip - way * 10:.1f}" y2="{y:.1f}" '
        f'stroke="{color}" stroke-width="{stroke}"{dash}/>',
        f'<polygon points="{head}" fill="{color}"/>',
        f'<text x="{mid:.1f}" y="{y - 8:.1f}" text-anchor="middle" font-weight="600">'
        f"{xml_text(label)}</text>",
    ]
    if carries:
        parts.append(
            f'<text x="{mid:.1f}" y="{y + 18:.1f}" text-anchor="middle" font-size="12.5" '
            f'fill="{_MUTED}">{xml_text(fit(carries, room, 12.5))}</text>'
        )
    if arrow.protected:
        parts.append(_lock(x1 + way * 26, y, color))
    if arrow.change:
        change = fit(arrow.change, room, 13)
        box = text_width(change, 13) + 16
        parts.append(
            f'<rect x="{mid - box / 2:.1f}" y="{y + 25:.1f}" width="{box:.1f}" height="20" '
            f'rx="3" fill="{_CHANGED_BG}" stroke="{_CHANGED}" stroke-width="1.2"/>'
            f'<text x="{mid:.1f}" y="{y + 39.5:.1f}" text-anchor="middle" font-size="13" '
            f'font-weight="700" fill="#7a2a05">{xml_text(change)}</text>'
        )
    parts.append("</g>")
    return "".join(parts)


def _lock(x: float, y: float, color: str) -> str:
    """A small padlock drawn on the line (no font needed)."""
    return (
        f'<g class="lock" transform="translate({x:.1f},{y:.1f})">'
        '<rect x="-10" y="-11" width="20" height="21" fill="#ffffff"/>'
        f'<path d="M-4,-1 v-4 a4,4 0 0 1 8,0 v4" fill="none" stroke="{color}" '
        'stroke-width="1.8"/>'
        f'<rect x="-6.5" y="-1" width="13" height="9" rx="1.5" fill="{color}"/></g>'
    )


def _note(note: Note, x: float, top: float, width: int) -> str:
    fill, border, stroke = _NOTE_STYLE.get(note.kind, _NOTE_STYLE["info"])
    cross = note.kind == "bad"
    shown = fit(note.text, width - 60, 13)
    box = text_width(shown, 13) + (40 if cross else 20)
    left = min(max(x - box / 2, 8), width - 8 - box)
    y = top + 4
    parts = [
        f'<g class="note {xml_text(note.kind)}"><title>{xml_text(note.text)}</title>',
        f'<rect x="{left:.1f}" y="{y:.1f}" width="{box:.1f}" height="24" rx="4" '
        f'fill="{fill}" stroke="{border}" stroke-width="{stroke}"/>',
    ]
    text_x = left + 10
    if cross:
        cx, cy = left + 14, y + 12
        parts.append(
            f'<path d="M{cx - 6:.1f},{cy - 6:.1f} L{cx + 6:.1f},{cy + 6:.1f} '
            f'M{cx + 6:.1f},{cy - 6:.1f} L{cx - 6:.1f},{cy + 6:.1f}" '
            f'stroke="{border}" stroke-width="3" stroke-linecap="round"/>'
        )
        text_x += 20
    weight = ' font-weight="700"' if note.kind in ("bad", "attack") else ""
    parts.append(
        f'<text x="{text_x:.1f}" y="{y + 16.5:.1f}" font-size="13"{weight}>{xml_text(shown)}</text>'
    )
    parts.append("</g>")
    return "".join(parts)


def _legend(top: float, width: int, lang: str) -> str:
    def words(key: str) -> str:
        return xml_text(say(LEGEND, key, lang))

    y = top + 20
    step = (width - 80) / 4
    x = [40 + i * step for i in range(4)]
    return "".join(
        [
            f'<g class="legend" font-size="13" fill="{_MUTED}">',
            f'<line x1="{x[0]:.0f}" y1="{y}" x2="{x[0] + 50:.0f}" y2="{y}" stroke="{_INK}" '
            'stroke-width="1.6"/>',
            f'<text x="{x[0] + 60:.0f}" y="{y + 4}">{words("clear")}</text>',
            f'<line x1="{x[1]:.0f}" y1="{y}" x2="{x[1] + 50:.0f}" y2="{y}" stroke="{_LOCKED}" '
            'stroke-width="1.8" stroke-dasharray="8 5"/>',
            _lock(x[1] + 25, y, _LOCKED),
            f'<text x="{x[1] + 60:.0f}" y="{y + 4}">{words("encrypted")}</text>',
            f'<line x1="{x[2]:.0f}" y1="{y}" x2="{x[2] + 50:.0f}" y2="{y}" stroke="{_CHANGED}" '
            'stroke-width="3.4"/>',
            f'<text x="{x[2] + 60:.0f}" y="{y + 4}">{words("changed")}</text>',
            f'<rect x="{x[3]:.0f}" y="{y - 10}" width="24" height="20" rx="3" fill="#fdecec" '
            'stroke="#a11d1d" stroke-width="2.6"/>',
            f'<path d="M{x[3] + 7:.0f},{y - 5} L{x[3] + 17:.0f},{y + 5} M{x[3] + 17:.0f},{y - 5} '
            f'L{x[3] + 7:.0f},{y + 5}" stroke="#a11d1d" stroke-width="2.4"/>',
            f'<text x="{x[3] + 34:.0f}" y="{y + 4}">{words("stopped")}</text>',
            "</g>",
        ]
    )
