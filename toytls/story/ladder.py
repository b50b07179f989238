"""A connection as a ladder (sequence) diagram: lanes, and arrows in time order.

A :class:`Ladder` is the drawing's input: one lane per party (client,
attacker, server) and a time-ordered list of steps, each an :class:`Arrow`
(one record from one lane to another, labelled with the message and what it
carries in the article's names) or a :class:`Note` (something one party did
or decided: the digests T and S it compared, key X, the alert that stopped
it). :mod:`toytls.story.ladder_svg` draws it.

:class:`LadderBuilder` makes a ladder from what the parties saw, fed in the
order it was seen: each observed party's :mod:`toytls.core.events`
(:meth:`~LadderBuilder.event`), and — for a proxy, whose outcome types
live in a layer this one may not import — records it forwarded and changes
it made (:meth:`~LadderBuilder.forward`, :meth:`~LadderBuilder.change_last`,
:meth:`~LadderBuilder.change_next`, :meth:`~LadderBuilder.note`). Each
record is one arrow, drawn by whichever of its two ends reports it first: a
sender reports a record only after its bytes left, so the receiver may be
first — or the only one, as on the session page, where the visitor's side
is unknown and the diagram holds only what the server knows.

Pure: events in, a frozen :class:`Ladder` out.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from ..core import events as ev
from ..core.constants import ContentType, alert_name
from ..core.errors import ToyTLSError
from ..core.keyschedule import session_key_fingerprint
from ..core.links import LinkCheck
from ..core.messages import (
    AnyMessage,
    Certificate,
    ClientHello,
    ClientKeyExchange,
    Finished,
    ServerHello,
)
from .error_texts import describe_reason
from .hexdump import der_subject
from .ladder_input import Input, Key, causal_order
from .ladder_texts import ARROWS, CHANGES, LANES, NOTES
from .narration import alert_meaning, short_hex

LANGUAGES = ("en", "zh")
#: How a note looks: said, passed, stopped here, or the attacker's deed.
NOTE_KINDS = ("info", "ok", "bad", "attack")

_CN = re.compile(r"(?:^|,)CN=((?:[^,\\]|\\.)*)")
_PREVIEW = 40


@dataclass(frozen=True, kw_only=True, slots=True)
class Arrow:
    """One record going from lane ``source`` to lane ``target``."""

    source: int
    target: int
    #: the message, e.g. "ClientHello for 'localhost'" or "{Finished}"
    label: str
    #: what it carries, in the article's names and with real values
    carries: str = ""
    #: True if the record was encrypted (drawn dashed, with a lock)
    protected: bool = False
    #: the attacker's change to this record, in words; None if unchanged
    change: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Note:
    """Something one party did or decided, written on its lane."""

    lane: int
    text: str
    #: one of :data:`NOTE_KINDS`
    kind: str = "info"


Step = Arrow | Note


@dataclass(frozen=True, kw_only=True, slots=True)
class Ladder:
    """What a ladder diagram shows: lane names and the steps in time order."""

    lanes: tuple[str, ...]
    steps: tuple[Step, ...]
    lang: str = "en"

    @property
    def arrows(self) -> tuple[Arrow, ...]:
        """The arrows only, in order."""
        return tuple(step for step in self.steps if isinstance(step, Arrow))


def lane_name(role: str, lang: str = "en") -> str:
    """The lane title for ``role`` ("client", "server", "attacker", "you", …)."""
    return LANES[role][_index(lang)]


def say(table: dict[str, tuple[str, str]], key: str, lang: str, **values: object) -> str:
    """One of the diagram's sentences in ``lang``, with ``values`` filled in."""
    return table[key][_index(lang)].format(**values)


def _index(lang: str) -> int:
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    return LANGUAGES.index(lang)


class LadderBuilder:
    """Collect what the parties saw, in the order seen; :meth:`ladder` orders it.

    Args:
        lanes: The lane titles, left to right.
        lang: ``"en"`` or ``"zh"``.

    Raises:
        ValueError: An unknown ``lang``.
    """

    def __init__(self, lanes: Sequence[str], *, lang: str = "en") -> None:
        _index(lang)
        self.lang = lang
        self._lanes = tuple(lanes)
        self._inputs: list[Input] = []
        self._reset()

    def _reset(self) -> None:
        """Forget the drawing (not the input): :meth:`ladder` draws it again."""
        #: (when, step); "when" is the order seen, moved later for a forwarded record
        self._steps: list[tuple[float, Step]] = []
        self._clock = 0.0
        #: the handshake message each lane is about to send
        self._outgoing: dict[int, AnyMessage] = {}
        #: a received record still waiting for its message, by lane: its step index
        self._awaiting: dict[int, int] = {}
        #: records drawn so far, by (source, target, bytes): when, and the arrow
        self._drawn: dict[tuple[int, int, bytes], tuple[float, Arrow]] = {}
        #: the same, by (target, bytes): what a relaying lane got, to pass on
        self._incoming: dict[tuple[int, bytes], tuple[float, Arrow]] = {}
        #: a change to write on the next Certificate a lane sends
        self._next_change: dict[int, str] = {}
        self._sent_key_exchange: set[int] = set()

    # ---------------------------------------------------------------- input

    def event(self, lane: int, peer: int, event: ev.Event) -> None:
        """One event of the connection between ``lane`` (who saw it) and ``peer``."""
        needs = (lane, event.record) if isinstance(event, ev.RecordReceived) else None
        provides = (peer, event.record) if isinstance(event, ev.RecordSent) else None
        self._queue(lane, needs, provides, functools.partial(self._on_event, lane, peer, event))

    def forward(self, lane: int, target: int, record: bytes, change: str | None = None) -> None:
        """``lane`` passed ``record`` on to ``target`` (a relaying proxy).

        A change (a replay, say) is always drawn as an arrow of its own.
        """
        action = functools.partial(self._on_forward, lane, target, record, change)
        self._queue(lane, (lane, record), (target, record), action)

    def plaintext(self, lane: int, target: int, text: str, change: str | None = None) -> None:
        """Plain TCP bytes (no toytls at all) from ``lane`` to ``target``."""
        self._queue(
            lane, None, None, functools.partial(self._on_plaintext, lane, target, text, change)
        )

    def note(self, lane: int, text: str, kind: str = "info") -> None:
        """A note of one's own on ``lane`` (the attacker's deeds, say)."""
        self._queue(lane, None, None, functools.partial(self._on_note, lane, text, kind))

    def change_last(self, source: int, target: int, change: str) -> None:
        """Write ``change`` on the latest arrow from ``source`` to ``target``."""
        self._queue(
            source, None, None, functools.partial(self._on_change_last, source, target, change)
        )

    def change_next(self, lane: int, change: str) -> None:
        """Write ``change`` on the next Certificate that ``lane`` sends."""
        self._queue(lane, None, None, functools.partial(self._on_change_next, lane, change))

    def ladder(self) -> Ladder:
        """The ladder of everything fed in, its steps in time order.

        Each lane's input keeps its own order; a received record comes after
        the report of its sending, wherever that report came in.
        """
        self._reset()
        for item in causal_order(self._inputs):
            item.action()
        ordered = sorted(enumerate(self._steps), key=lambda item: (item[1][0], item[0]))
        steps = tuple(step for _, (_, step) in ordered)
        return Ladder(lanes=self._lanes, steps=steps, lang=self.lang)

    # ---------------------------------------------------------------- drawing

    def _queue(
        self, stream: int, needs: Key | None, provides: Key | None, action: Callable[[], None]
    ) -> None:
        self._inputs.append(Input(len(self._inputs), stream, needs, provides, action))

    def _on_event(self, lane: int, peer: int, event: ev.Event) -> None:
        self._clock += 1
        if isinstance(event, ev.HandshakeMessageSent):
            self._outgoing[lane] = event.message
            if isinstance(event.message, ClientKeyExchange):
                self._sent_key_exchange.add(lane)
        elif isinstance(event, ev.RecordSent):
            message = self._outgoing.pop(lane, None)
            if event.content_type is not ContentType.HANDSHAKE:
                message = None
            if (lane, peer, event.record) not in self._drawn:
                self._arrow(self._record_arrow(lane, peer, event, message), event.record)
        elif isinstance(event, ev.RecordReceived):
            # Drawn by whoever reports the record first: a sender reports
            # after its bytes left, so the receiver may be first (or alone).
            if (peer, lane, event.record) not in self._drawn:
                self._arrow(self._record_arrow(peer, lane, event, None), event.record)
                if event.content_type is ContentType.HANDSHAKE:
                    self._awaiting[lane] = len(self._steps) - 1
        elif isinstance(event, ev.HandshakeMessageReceived) and lane in self._awaiting:
            at = self._awaiting.pop(lane)
            when, arrow = self._steps[at]
            assert isinstance(arrow, Arrow)
            label, carries = self._message_words(event.message)
            change = arrow.change
            if isinstance(event.message, Certificate):
                change = self._next_change.pop(arrow.source, change)
            arrow = replace(arrow, label=_braced(label, arrow), carries=carries, change=change)
            self._steps[at] = (when, arrow)
        else:
            for note in self._notes(lane, event):
                self._steps.append((self._clock, note))

    def _on_forward(self, lane: int, target: int, record: bytes, change: str | None) -> None:
        self._clock += 1
        if change is None and (lane, target, record) in self._drawn:
            return
        seen = self._incoming.get((lane, record))
        if seen is None:
            when, arrow = self._clock, self._raw_arrow(lane, target, record)
        else:
            # The sender's event may be reported after the proxy's: keep cause first.
            when = max(self._clock, seen[0] + 0.5)
            arrow = replace(seen[1], source=lane, target=target)
        arrow = replace(arrow, change=change)
        self._steps.append((when, arrow))
        self._drawn[(lane, target, record)] = (when, arrow)

    def _on_plaintext(self, lane: int, target: int, text: str, change: str | None) -> None:
        self._clock += 1
        label = say(ARROWS, "plaintext", self.lang, n=len(text.encode()))
        carries = say(ARROWS, "plaintext_carries", self.lang, text=_preview(text))
        arrow = Arrow(source=lane, target=target, label=label, carries=carries, change=change)
        self._steps.append((self._clock, arrow))

    def _on_note(self, lane: int, text: str, kind: str) -> None:
        self._clock += 1
        self._steps.append((self._clock, Note(lane=lane, text=text, kind=kind)))

    def _on_change_next(self, lane: int, change: str) -> None:
        self._next_change[lane] = change

    def _on_change_last(self, source: int, target: int, change: str) -> None:
        for at in range(len(self._steps) - 1, -1, -1):
            when, step = self._steps[at]
            if isinstance(step, Arrow) and (step.source, step.target) == (source, target):
                self._steps[at] = (when, replace(step, change=change))
                return

    # -------------------------------------------------------------- arrows

    def _arrow(self, arrow: Arrow, record: bytes) -> None:
        self._steps.append((self._clock, arrow))
        self._drawn[(arrow.source, arrow.target, record)] = (self._clock, arrow)
        self._incoming[(arrow.target, record)] = (self._clock, arrow)

    def _record_arrow(
        self,
        source: int,
        target: int,
        event: ev.RecordSent | ev.RecordReceived,
        message: AnyMessage | None,
    ) -> Arrow:
        protected = event.seq is not None
        kind = event.content_type
        change = None
        if message is not None:
            label, carries = self._message_words(message)
            if isinstance(message, Certificate):
                change = self._next_change.pop(source, None)
        elif kind is ContentType.APPLICATION_DATA:
            data = event.plaintext
            label = say(ARROWS, "data", self.lang, n=len(data))
            text = _preview(data.decode("utf-8", errors="replace"))
            carries = say(ARROWS, "data_carries", self.lang, preview=f"'{text}'")
        elif kind is ContentType.ALERT and len(event.plaintext) == 2:
            label, carries = self._alert_words(event.plaintext[1], protected)
        else:
            n = len(event.record)
            label = say(ARROWS, "record_unknown", self.lang, kind=kind.name.lower(), n=n)
            carries = ""
        arrow = Arrow(source=source, target=target, label=label, carries=carries)
        return replace(
            arrow, label=_braced(label, arrow, protected), protected=protected, change=change
        )

    def _raw_arrow(self, source: int, target: int, record: bytes) -> Arrow:
        """A record nobody reported sending: only its header is known."""
        try:
            kind = ContentType(record[0]).name.lower()
        except (IndexError, ValueError):
            kind = "?"
        label = say(ARROWS, "record_unknown", self.lang, kind=kind, n=len(record))
        return Arrow(source=source, target=target, label=label)

    def _message_words(self, message: AnyMessage) -> tuple[str, str]:
        lang = self.lang
        if isinstance(message, ClientHello):
            return (
                say(ARROWS, "hello", lang, name=message.server_name),
                say(ARROWS, "hello_carries", lang, random=short_hex(message.random)),
            )
        if isinstance(message, ServerHello):
            return (
                say(ARROWS, "server_hello", lang),
                say(ARROWS, "server_hello_carries", lang, random=short_hex(message.random)),
            )
        if isinstance(message, Certificate):
            names = " ← ".join(_der_name(der) for der in message.certificates)
            leaf = message.certificates[0] if message.certificates else b""
            fp = hashlib.sha256(leaf).hexdigest()[:16]
            return (
                say(ARROWS, "certificate", lang, names=names),
                say(ARROWS, "certificate_carries", lang, fp=fp),
            )
        if isinstance(message, ClientKeyExchange):
            n = len(message.encrypted_secret)
            return say(ARROWS, "cke", lang), say(ARROWS, "cke_carries", lang, n=n)
        if isinstance(message, Finished):
            value = short_hex(message.verify_data)
            return say(ARROWS, "finished", lang), say(ARROWS, "finished_carries", lang, value=value)
        return say(ARROWS, "handshake_other", lang, code=message.msg_type), ""

    def _alert_words(self, code: int, protected: bool) -> tuple[str, str]:
        key = "alert_protected" if protected else "alert"
        return (
            say(ARROWS, key, self.lang, name=alert_name(code)),
            say(ARROWS, "alert_carries", self.lang, meaning=alert_meaning(code, self.lang)),
        )

    # --------------------------------------------------------------- notes

    def _notes(self, lane: int, event: ev.Event) -> list[Note]:
        lang = self.lang
        if isinstance(event, ev.CertificateChecked):
            return [Note(lane=lane, text=_link_text(event.link, lang), kind=_link_kind(event.link))]
        if isinstance(event, ev.ChainVerified):
            return [Note(lane=lane, text=say(NOTES, "chain_ok", lang, name=event.server_name))]
        if isinstance(event, ev.VerificationSkipped):
            return [Note(lane=lane, text=say(NOTES, "skipped", lang), kind="attack")]
        if isinstance(event, ev.KeysDerived):
            key = "keys_client" if lane in self._sent_key_exchange else "keys_server"
            fp = session_key_fingerprint(event.secret)
            return [Note(lane=lane, text=say(NOTES, key, lang, fp=fp))]
        if isinstance(event, ev.HandshakeComplete):
            fp = event.session.session_key_fingerprint
            return [Note(lane=lane, text=say(NOTES, "complete", lang, fp=fp), kind="ok")]
        if isinstance(event, ev.ConnectionFailed):
            # Only the side that found the problem is where it stopped.
            kind = "info" if event.error.from_peer else "bad"
            return [Note(lane=lane, text=failure_text(event.error, lang), kind=kind)]
        return []


def failure_text(error: ToyTLSError, lang: str = "en") -> str:
    """The note that marks where a connection stopped, naming its alert."""
    name = error.alert_name or "—"
    if error.from_peer:
        return say(NOTES, "failed_by_peer", lang, alert=name)
    return say(NOTES, "failed", lang, alert=name, why=describe_reason(error, lang))


def change_words(key: str, lang: str = "en", **values: object) -> str:
    """The label of one of the attacker's changes (:data:`~.ladder_texts.CHANGES`)."""
    return say(CHANGES, key, lang, **values)


def note_words(key: str, lang: str = "en", **values: object) -> str:
    """One of the notes of :data:`~.ladder_texts.NOTES`, for a caller's own notes."""
    return say(NOTES, key, lang, **values)


def _link_text(link: LinkCheck, lang: str) -> str:
    subject, issuer = _common_name(link.subject), _common_name(link.issuer)
    s = short_hex(link.digest_s, 4)
    if not link.issuer_found:
        return say(NOTES, "link_unknown", lang, index=link.index, subject=subject, issuer=issuer)
    if link.digest_t == link.digest_s and link.signature_valid:
        return say(NOTES, "link_ok", lang, index=link.index, subject=subject, issuer=issuer, s=s)
    t = "—" if link.digest_t is None else short_hex(link.digest_t, 4)
    return say(NOTES, "link_bad", lang, index=link.index, subject=subject, s=s, t=t)


def _link_kind(link: LinkCheck) -> str:
    good = link.issuer_found and link.signature_valid and link.digest_t == link.digest_s
    return "ok" if good else "bad"


def _braced(label: str, arrow: Arrow, protected: bool | None = None) -> str:
    """Mark an encrypted record's label in braces, unless its words already do."""
    is_protected = arrow.protected if protected is None else protected
    if is_protected and not label.startswith("{"):
        return "{" + label + "}"
    return label


def _common_name(subject: str) -> str:
    match = _CN.search(subject)
    return match.group(1).replace("\\", "") if match else subject


def _der_name(der: bytes) -> str:
    subject = der_subject(der)
    return "?" if subject is None else _common_name(subject)


def _preview(text: str) -> str:
    return text if len(text) <= _PREVIEW else text[:_PREVIEW] + "…"
