"""``toytls demo --html FILE``: record every party of every scenario, then draw them.

A :class:`Recorder` is the demo's :class:`~.demo_witness.Witness`: it keeps
what the client, the server and the proxy of each connection reported, in
the order they reported it. Each connection becomes a
:class:`~toytls.story.ladder.Ladder` — the proxy's outcomes turned into the
arrows it forwarded, the changes it made and the notes of what it did —
and :func:`toytls.story.report.render_report` makes the page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, cast

from ..attacker import outcomes as out
from ..attacker.modes import Mode
from ..core import events as ev
from ..core.messages import Certificate
from ..story.ladder import Ladder, LadderBuilder, change_words, lane_name, note_words
from ..story.ladder_svg import render_svg
from ..story.report import Diagram, Section, lesson_ladder, render_report
from .console import Console
from .demo_witness import Witness

if TYPE_CHECKING:
    from .demorun import ScenarioResult

_T = TypeVar("_T")

#: Lane and peer lane of each party that reports events, with an attacker between.
_WITH_PROXY = {"client": (0, 1), "proxy-client": (1, 0), "proxy-upstream": (1, 2), "server": (2, 1)}
_DIRECT = {"client": (0, 1), "server": (1, 0)}
#: The article's first lessons: each drawn first from the article's own story. Lessons 2
#: and 3 also run a connection of their toy protocols, drawn after it; lesson 4 runs none.
LESSONS = (2, 3, 4)


@dataclass
class Take:
    """One connection of a scenario: who took part, and what each reported, in order."""

    parties: set[str] = field(default_factory=set)
    seen: list[tuple[str, object]] = field(default_factory=list)


class _RecordingConsole(Console):
    """A silent JSON console that hands the events of a server or proxy to a recorder."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__(json_mode=True, sink=lambda _: None)
        self._recorder = recorder

    def event(self, event: ev.Event, *, side: str, prefix: str = "", role: str = "client") -> None:
        self._recorder.saw(side, event)


class Recorder(Witness):
    """Keeps what every party of every scenario reported, one :class:`Take` per connection."""

    def __init__(self) -> None:
        self.takes: list[Take] = [Take()]
        #: the takes of each finished scenario, by number
        self.scenarios: dict[int, list[Take]] = {}

    def console(self) -> Console:
        return _RecordingConsole(self)

    def hear(self, party: str, handler: Callable[[_T], None]) -> Callable[[_T], None]:
        # A second client or proxy in one scenario starts its next connection.
        if party in self.takes[-1].parties:
            self.takes.append(Take())
        self.takes[-1].parties.add(party)

        def heard(item: _T) -> None:
            self.saw(party, item)
            handler(item)

        return heard

    def saw(self, party: str, item: object) -> None:
        """Record one event or outcome of ``party`` in the current connection."""
        self.takes[-1].parties.add(party)
        self.takes[-1].seen.append((party, item))

    def after(self, handler: Callable[[ScenarioResult], None]) -> Callable[[ScenarioResult], None]:
        """``handler`` for each scenario's result, once its connections are filed away."""

        def finished(result: ScenarioResult) -> None:
            self.finish(result.number)
            handler(result)

        return finished

    def finish(self, number: int) -> None:
        """The scenario ``number`` is over: what was recorded since the last one is its."""
        self.scenarios[number] = [take for take in self.takes if take.seen]
        self.takes = [Take()]


def ladder_of(take: Take, lang: str) -> Ladder:
    """The ladder of one recorded connection."""
    proxied = "proxy" in take.parties
    roles = ("client", "attacker", "server") if proxied else ("client", "server")
    builder = LadderBuilder([lane_name(role, lang) for role in roles], lang=lang)
    lanes = _WITH_PROXY if proxied else _DIRECT
    attacker = _AttackerLane(builder, lang)
    for party, item in _victim_leg_after_server_chain(take.seen):
        if party == "proxy":
            attacker.outcome(item)
        elif party in lanes:
            lane, peer = lanes[party]
            builder.event(lane, peer, cast(ev.Event, item))
    return builder.ladder()


def _victim_leg_after_server_chain(seen: list[tuple[str, object]]) -> list[tuple[str, object]]:
    """The proxy's reports with its answer to the client after the server's chain.

    The man in the middle reports both legs of his relay in his own order,
    but what he shows the client (the server's ServerHello, the forged
    chain) is made from what the server sent him, so the client's leg, from
    the proxy's first message on, is drawn once the server's Certificate
    has reached him.
    """
    start = next(
        (
            i
            for i, (party, item) in enumerate(seen)
            if party == "proxy-client" and isinstance(item, ev.HandshakeMessageSent)
        ),
        None,
    )
    end = next(
        (
            i
            for i, (party, item) in enumerate(seen)
            if party == "proxy-upstream"
            and isinstance(item, ev.HandshakeMessageReceived)
            and isinstance(item.message, Certificate)
        ),
        None,
    )
    if start is None or end is None or end < start:
        return seen
    moved = [pair for pair in seen[start:end] if pair[0] == "proxy-client"]
    kept = [pair for pair in seen[start:end] if pair[0] != "proxy-client"]
    return [*seen[:start], *kept, seen[end], *moved, *seen[end + 1 :]]


def mode_of(take: Take) -> Mode | None:
    """The proxy's mode in this connection, if it went through one."""
    for party, item in take.seen:
        if party == "proxy" and isinstance(item, out.ClientConnected):
            return item.mode
    return None


class _AttackerLane:
    """The proxy's outcomes as arrows it forwarded, changes, and notes (lane 1)."""

    def __init__(self, builder: LadderBuilder, lang: str) -> None:
        self.builder = builder
        self.lang = lang
        self.last: dict[out.Direction, bytes] = {}

    @staticmethod
    def target(direction: out.Direction) -> int:
        return 2 if direction is out.Direction.TO_SERVER else 0

    def outcome(self, item: object) -> None:
        b, lang = self.builder, self.lang
        if isinstance(item, out.RecordRelayed):
            raw = item.record.header + item.record.fragment
            self.last[item.direction] = raw
            b.forward(1, self.target(item.direction), raw)
        elif isinstance(item, out.DataAltered):
            self.altered(item)
        elif isinstance(item, out.PlaintextSeen):
            if item.stolen:
                b.note(1, note_words("reads", lang, text=item.text), "attack")
                return
            source = 0 if item.direction is out.Direction.TO_SERVER else 2
            b.plaintext(source, 1, item.text)
            b.plaintext(1, self.target(item.direction), item.text)
            b.note(1, note_words("reads", lang, text=item.text), "attack")
        elif isinstance(item, out.ChainForged):
            swap = item.mode is Mode.SWAP_KEY
            words = note_words("swapped" if swap else "forged", lang, mode=item.mode.value)
            b.note(1, words, "attack")
            b.change_next(1, change_words("swap_key" if swap else "forged_chain", lang))
        elif isinstance(item, out.AttackSucceeded):
            b.note(1, note_words("stole_key", lang, fp=item.key_x_fingerprint), "attack")
        elif isinstance(item, out.AttackRefused):
            b.note(1, note_words("refused", lang, alert=_alert(item.alert)))

    def altered(self, item: out.DataAltered) -> None:
        b, lang = self.builder, self.lang
        target = self.target(item.direction)
        what = item.what
        if what is out.Alteration.REPLAY:
            b.forward(1, target, self.last.get(item.direction, b""), change_words("replay", lang))
        elif what is out.Alteration.REWRITE:
            b.change_last(1, target, change_words("rewrite", lang, text=item.text or ""))
        elif what is out.Alteration.TRUNCATE:
            b.change_last(1, target, change_words("truncate", lang))
            b.note(1, note_words("cut", lang), "attack")
        else:
            key = "flip" if what is out.Alteration.FLIP else "tamper"
            b.change_last(1, target, change_words(key, lang))


def _alert(code: int) -> str:
    from ..core.constants import alert_name

    return alert_name(code)


def write_report(path: Path, recorder: Recorder, results: list[ScenarioResult], lang: str) -> None:
    """Write the HTML report of a finished demo run to ``path`` (UTF-8).

    Raises:
        OSError: ``path`` cannot be written.
    """
    page = render_report(sections(recorder, results, lang), lang=lang)
    path.write_text(page, encoding="utf-8")


def sections(recorder: Recorder, results: list[ScenarioResult], lang: str) -> list[Section]:
    """One report section per scenario result, with the diagrams of its connections."""
    done = []
    for result in results:
        diagrams = []
        if result.number in LESSONS:
            ladder = lesson_ladder(result.number, lang)
            diagrams.append(Diagram(caption="lesson", svg=render_svg(ladder, title=result.title)))
        for take in recorder.scenarios.get(result.number, []):
            mode = mode_of(take)
            svg = render_svg(ladder_of(take, lang), title=result.title)
            diagrams.append(Diagram(caption=mode.value if mode else "", svg=svg))
        done.append(
            Section(
                number=result.number,
                title=result.title,
                predicted=result.predicted,
                happened=result.happened,
                as_predicted=result.as_predicted,
                diagrams=tuple(diagrams),
            )
        )
    return done
