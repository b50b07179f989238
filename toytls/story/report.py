"""The demo's one-file HTML report: every scenario, its diagrams, and the table.

:func:`render_report` takes one :class:`Section` per scenario — its title,
the article's prediction, what happened, and the SVG of each connection it
ran — and returns one self-contained HTML document: inline CSS and SVG, no
script, no external URL, readable at 1280 px and printable. Everything shown
is escaped. :func:`lesson_ladder` draws the three scenarios that run no
connection from the article's own story.

Pure: values in, text out.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from .ladder import Arrow, Ladder, Note, lane_name
from .ladder_svg import FONT_STACK
from .report_texts import LESSON_LANES, LESSON_STEPS, PAGE


@dataclass(frozen=True, kw_only=True, slots=True)
class Diagram:
    """One connection's drawing: its SVG text and a caption (maybe empty)."""

    caption: str
    svg: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Section:
    """One scenario of the report."""

    number: int
    title: str
    predicted: str
    happened: str
    as_predicted: bool
    diagrams: tuple[Diagram, ...]


_STYLE = f"""
html {{ background: #ffffff; }}
body {{ font-family: {FONT_STACK}; max-width: 1160px; margin: 1.5rem auto; padding: 0 1rem;
       line-height: 1.5; color: #1d2330; font-size: 16px; }}
h1 {{ font-size: 1.7rem; margin-bottom: 0.3rem; }}
h2 {{ font-size: 1.3rem; margin: 0 0 0.6rem; }}
section {{ border-top: 2px solid #c5cad3; padding-top: 1.2rem; margin-top: 2rem;
           break-inside: avoid-page; }}
dl {{ display: grid; grid-template-columns: 12rem 1fr; gap: 0.2rem 1rem; margin: 0 0 1rem; }}
dt {{ font-weight: 600; color: #4a5263; }} dd {{ margin: 0; }}
.verdict {{ font-weight: 700; }}
figure {{ margin: 0.8rem 0 1.2rem; }}
figcaption {{ color: #4a5263; font-size: 0.95rem; margin-bottom: 0.3rem; }}
svg {{ max-width: 100%; height: auto; border: 1px solid #e2e5ea; }}
table {{ border-collapse: collapse; width: 100%; margin-top: 0.8rem; }}
th, td {{ border: 1px solid #c5cad3; padding: 0.35rem 0.6rem; text-align: left;
          vertical-align: top; }}
th {{ background: #eef1f6; }}
@media print {{ body {{ max-width: none; margin: 0; font-size: 11pt; }}
               section {{ break-before: page; }} svg {{ border: none; }} }}
"""


def say(key: str, lang: str, **values: object) -> str:
    """One of the report's sentences in ``lang``, not yet escaped."""
    return PAGE[key][0 if lang == "en" else 1].format(**values)


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def render_report(sections: Sequence[Section], *, lang: str = "en") -> str:
    """The whole report as one HTML document (UTF-8 text)."""
    ok = all(section.as_predicted for section in sections)
    parts = [
        "<!doctype html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(say('title', lang))}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{_esc(say('title', lang))}</h1>",
        f"<p>{_esc(say('intro', lang))}</p>",
    ]
    for section in sections:
        parts += _section(section, lang)
    parts += _table(sections, lang)
    parts.append(f'<p class="verdict">{_esc(say("all_ok" if ok else "some_bad", lang))}</p>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _section(section: Section, lang: str) -> list[str]:
    verdict = say("as_predicted" if section.as_predicted else "not_predicted", lang)
    parts = [
        f'<section id="scenario-{section.number}">',
        f"<h2>{section.number}. {_esc(section.title)}</h2>",
        "<dl>",
        f"<dt>{_esc(say('predicted', lang))}</dt><dd>{_esc(section.predicted)}</dd>",
        f"<dt>{_esc(say('happened', lang))}</dt><dd>{_esc(section.happened)} "
        f'<span class="verdict">{_esc(verdict)}</span></dd>',
        "</dl>",
    ]
    if not section.diagrams:
        parts.append(f"<p>{_esc(say('no_diagram', lang))}</p>")
    for diagram in section.diagrams:
        caption = diagram.caption
        if caption and caption != "lesson":
            caption = say("mode", lang, mode=caption)
        elif caption == "lesson":
            caption = say("lesson", lang)
        figcaption = f"<figcaption>{_esc(caption)}</figcaption>" if caption else ""
        # The SVG comes from ladder_svg.render_svg, which escapes every value itself.
        parts.append(f"<figure>{figcaption}{diagram.svg}</figure>")
    parts.append("</section>")
    return parts


def _table(sections: Sequence[Section], lang: str) -> list[str]:
    head = "".join(
        f"<th>{_esc(say(key, lang))}</th>"
        for key in ("col_number", "col_title", "col_predicted", "col_happened", "col_ok")
    )
    rows = [
        f"<tr><td>{s.number}</td><td>{_esc(s.title)}</td><td>{_esc(s.predicted)}</td>"
        f"<td>{_esc(s.happened)}</td><td>{_esc(say('yes' if s.as_predicted else 'no', lang))}"
        "</td></tr>"
        for s in sections
    ]
    return [
        '<section id="table">',
        f"<h2>{_esc(say('table', lang))}</h2>",
        f"<table><tr>{head}</tr>",
        *rows,
        "</table></section>",
    ]


def lesson_ladder(number: int, lang: str = "en") -> Ladder:
    """The diagram of a scenario that runs no connection (2, 3 or 4): the article's story.

    Raises:
        KeyError: ``number`` is not one of those scenarios.
    """
    which = 0 if lang == "en" else 1
    steps: list[Arrow | Note] = []
    for step in LESSON_STEPS[number]:
        if step[0] == "arrow":
            _, source, target, label, carries, protected = step
            steps.append(
                Arrow(
                    source=int(str(source)),
                    target=int(str(target)),
                    label=_pick(label, which),
                    carries=_pick(carries, which),
                    protected=bool(protected),
                )
            )
        else:
            _, lane, text, kind = step
            steps.append(Note(lane=int(str(lane)), text=_pick(text, which), kind=str(kind)))
    lanes = tuple(lane_name(role, lang) for role in LESSON_LANES[number])
    return Ladder(lanes=lanes, steps=tuple(steps), lang=lang)


def _pick(pair: object, which: int) -> str:
    assert isinstance(pair, tuple)
    return str(pair[which])
