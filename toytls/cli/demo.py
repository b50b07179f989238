"""``toytls demo``: run the scenarios (:mod:`.demorun`) and show them in one terminal.

The scenarios report through a ``write`` callable; this module decides how
that looks — wrapped for a projector, the scenario titles and the one
sentence that matters in colour — and ends with the table of what the
article predicted and what happened.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import sys
import textwrap
from collections.abc import Callable
from typing import TYPE_CHECKING

from .common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail, stop_status, usage_error_text
from .console import Console
from .options import DemoOptions
from .status_texts import status_text

if TYPE_CHECKING:
    from .demo_report import Recorder
    from .demorun import ScenarioResult


#: Holds a Latin run together while a Chinese line is wrapped (WORD JOINER).
_JOIN = "\u2060"


def _wrap(line: str, width: int, rest: str) -> list[str]:
    """``line`` cut to ``width`` columns, later parts indented with ``rest``.

    Chinese has no spaces to break at, so a line with wide characters is
    cut between them by its width on screen (two columns each); English
    keeps textwrap's breaks.
    """
    from .parser_lang import display_width, wrap_display

    if display_width(line) == len(line):
        return textwrap.wrap(line, width, subsequent_indent=rest)
    first = line[: len(line) - len(line.lstrip())]
    # Latin runs inside Chinese are names and commands ("toytls proxy --mode
    # watch", a DN): keep each on one line, joined by a character that is
    # not a space while wrapping.
    joined = re.sub(r"(?<=[\x21-\x7e]) (?=[\x21-\x7e])", _JOIN, line.strip())
    parts = wrap_display(joined, width - max(len(first), len(rest)))
    return [(first if n == 0 else rest) + part.replace(_JOIN, " ") for n, part in enumerate(parts)]


def _writer(console: Console, width: int) -> Callable[[str, bool], None]:
    """The demo's way to show a line: wrapped for a projector, keeping its indent."""

    def write(line: str, highlight: bool) -> None:
        indent = " " * (len(line) - len(line.lstrip()))
        style = "bold cyan" if line.startswith("==") else "bold yellow" if highlight else None
        for part in _wrap(line, width, indent + "  ") or [""]:
            console.line(part, style=style)  # one line per call: the console escapes newlines

    return write


def run(options: DemoOptions) -> int:
    """Run the demo; 0 if every scenario behaved as the article predicts, else 1.

    A PKI directory that cannot be used is status 2; Ctrl-C stops every
    scenario's servers and proxies and is status 130 (SIGTERM: 143).
    """
    import trio

    from ..story.demo_texts import LINES
    from .common import until_interrupted
    from .demorun import run_demo

    console = Console(
        json_mode=options.json,
        color=sys.stdout.isatty() and not options.no_color and not options.json,
    )
    width = max(60, min(shutil.get_terminal_size((100, 24)).columns, 100))
    write = _writer(console, width)
    recorder = _recorder(options)

    def on_result(result: ScenarioResult) -> None:
        console.emit({"event": "scenario", **dataclasses.asdict(result)})

    async def pause(number: int, title: str) -> None:
        console.prompt(LINES[options.lang]["pause"].format(number=number, title=title))
        await trio.to_thread.run_sync(sys.stdin.readline, abandon_on_cancel=True)

    results: list[ScenarioResult] = []

    async def main() -> None:
        results.extend(
            await run_demo(
                write,
                lang=options.lang,
                certs_dir=options.certs,
                only=set(options.only) if options.only is not None else None,
                pause=pause if options.step else None,
                on_result=on_result if recorder is None else recorder.after(on_result),
                witness=recorder,
            )
        )

    try:
        interrupted = trio.run(until_interrupted, main)
    except (OSError, ValueError) as exc:
        return fail(usage_error_text(exc, options.lang), EXIT_USAGE, options.lang)
    if interrupted is not None:
        words = status_text("demo_interrupted", options.lang)
        return fail(words, stop_status(interrupted), options.lang)
    ok = all(r.as_predicted for r in results)
    _table(console, results, lang=options.lang, width=width, ok=ok)
    if recorder is not None and (status := _save_report(console, options, recorder, results)):
        return status
    return EXIT_OK if ok else EXIT_FAILED


def list_scenarios(options: DemoOptions) -> int:
    """``demo --list``: each scenario's number and title (JSON: one object each); 0."""
    from ..story.demo_texts import LINES, TITLES

    console = Console(json_mode=options.json, color=False)
    console.line(LINES[options.lang]["list"])
    for number, (title, _) in TITLES[options.lang].items():
        console.line(f"{number:>3}. {title}")
        console.emit({"event": "scenario_title", "number": number, "title": title})
    return EXIT_OK


def _recorder(options: DemoOptions) -> Recorder | None:
    """What records every party of every scenario, when ``--html`` asks for the report."""
    from .demo_report import Recorder

    return Recorder() if options.html is not None else None


def _save_report(
    console: Console, options: DemoOptions, recorder: Recorder, results: list[ScenarioResult]
) -> int:
    """Write the ``--html`` report: 0, or the usage status when it cannot be written."""
    from ..story.demo_texts import LINES
    from ..story.error_texts import os_error_text
    from .demo_report import write_report

    assert options.html is not None
    words = LINES[options.lang]
    try:
        write_report(options.html, recorder, results, options.lang)
    except OSError as exc:
        why = os_error_text(exc, options.lang)
        said = words["report_failed"].format(path=options.html, why=why)
        return fail(said, EXIT_USAGE, options.lang)
    console.line(words["report_written"].format(path=options.html))
    return EXIT_OK


def _table(
    console: Console, results: list[ScenarioResult], *, lang: str, width: int, ok: bool
) -> None:
    """The closing table: each scenario's prediction and what happened (not in JSON)."""
    from ..story.demo_texts import LINES

    console.line("")
    console.line(LINES[lang]["table"])
    for r in results:
        mark = "✓" if r.as_predicted else "✗"
        style = "bold green" if r.as_predicted else "bold red"
        console.line(f" {mark} {r.number:>2}. {r.title}", style=style)
        for text in (r.predicted, f"→ {r.happened}"):
            for part in _wrap(" " * 7 + text, width, " " * 9):
                console.line(part)
    console.line("")
    console.line(LINES[lang]["all_ok" if ok else "some_bad"])
    console.line("")
    for part in _wrap(LINES[lang]["real_tls"], width, ""):
        console.line(part)
