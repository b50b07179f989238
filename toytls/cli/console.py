"""Terminal output for the commands: narration, logs, JSON lines, colour.

Part of the command-line layer (it prints). Each command makes one
:class:`Console` from its flags and sends it text and events; the console
decides how they look: narrated text at the chosen level and language,
annotated hex dumps, or one JSON object per line for tests and tools.

Every line passes :func:`~toytls.story.escape.printable` on its way out,
before the console adds its own colour codes: a name, a message or a reason
that came from the network cannot start a line of its own or send the
terminal an escape sequence. So one call prints one line; text of our own
that spans lines is printed a line at a time.
"""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from ..core import events as ev
from ..core.constants import AlertDescription, AlertLevel
from ..story.escape import is_unsafe, printable
from ..story.eventjson import event_to_dict
from ..story.hexdump import annotate_record
from ..story.narration import Narrator
from .status_texts import status_text

if TYPE_CHECKING:
    from .options import OutputOptions

_STYLES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
}


def parse_address(text: str, *, what: str, lang: str = "en") -> tuple[str, int]:
    """Split ``HOST:PORT``, or ``[IPv6]:PORT``.

    The port is ASCII digits only (``int()`` would also read ``٤٤٣٣``), an
    IPv6 address must be in brackets, and the brackets must match.

    Raises:
        ValueError: With a message in ``lang`` that names ``what`` and the bad text.
    """
    bad = ValueError(status_text("bad_address", lang, what=what, text=text))
    host, sep, port_text = text.rpartition(":")
    if host.startswith("["):
        if not host.endswith("]") or len(host) < 3 or "]" in host[1:-1]:
            raise bad
        host = host[1:-1]
    elif "[" in host or "]" in host or ":" in host:
        raise bad
    if not sep or not host or not (port_text.isascii() and port_text.isdigit()):
        raise bad
    if int(port_text) > 65535:
        raise bad
    return host, int(port_text)


class Console:
    """Where a command's output goes.

    Args:
        json_mode: One JSON object per line on stdout instead of text.
        color: ANSI colours (only when stdout is a terminal and not disabled).
        lang: "en" or "zh" for narration.
        level: Narration level (0 outcomes only, 1 the six steps, 2 fields,
            3 every record).
        hexdump: Show every record byte by byte.
        timestamps: Start every text line with the time (server and proxy
            logs).
        out: The stream for normal output.
        err: The stream for warnings and errors.
        sink: In JSON mode, hand each object to this callable instead of
            printing it (the demo collects the server's and proxy's events).
    """

    def __init__(
        self,
        *,
        json_mode: bool = False,
        color: bool = False,
        lang: str = "en",
        level: int = 1,
        hexdump: bool = False,
        timestamps: bool = False,
        out: TextIO | None = None,
        err: TextIO | None = None,
        sink: Callable[[dict[str, object]], None] | None = None,
    ) -> None:
        self.json_mode = json_mode
        self.color = color
        self.lang = lang
        self.level = level
        self.hexdump = hexdump
        self.timestamps = timestamps
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.sink = sink
        self._narrators: dict[str, Narrator] = {}
        #: roots added by hand (``--trust``): SHA-256 (hex) → subject, for
        #: the client's narration
        self.hand_roots: dict[str, str] = {}

    @classmethod
    def for_output(cls, output: OutputOptions, *, timestamps: bool) -> Console:
        """The console a command's output flags ask for.

        Colour only on a terminal, and never with ``--no-color`` or ``--json``.
        """
        return cls(
            json_mode=output.json,
            color=sys.stdout.isatty() and not output.no_color and not output.json,
            lang=output.lang,
            level=output.level,
            hexdump=output.hexdump,
            timestamps=timestamps,
        )

    def forget(self, prefix: str) -> None:
        """Drop the narration state of a connection that ended."""
        for key in [k for k in self._narrators if k.endswith(f" {prefix}")]:
            del self._narrators[key]

    @property
    def wants_events(self) -> bool:
        """Whether streams should report their events to this console."""
        return self.json_mode or self.hexdump or self.level >= 1

    def paint(self, text: str, style: str | None) -> str:
        """``text`` in ``style`` ("bold red", …) if colours are on, else as it is.

        The one place that writes terminal colour codes.
        """
        if not self.color or style is None:
            return text
        codes = ";".join(_STYLES[s] for s in style.split())
        return f"\033[{codes}m{text}\033[0m"

    def _stamp(self) -> str:
        now = datetime.datetime.now().strftime("%H:%M:%S.%f")[:-3]
        return self.paint(f"[{now}] ", "dim")

    def line(self, text: str, *, style: str | None = None, prefix: str = "") -> None:
        """Print one line of text (nothing in JSON mode)."""
        if self.json_mode:
            return
        stamp = self._stamp() if self.timestamps else ""
        shown = self.paint(printable(text), style)
        print(f"{stamp}{printable(prefix)}{shown}", file=self.out, flush=True)

    def record(self, kind: str, **fields: object) -> None:
        """Print one JSON object (JSON mode only) with a time and ``event``."""
        if not self.json_mode:
            return
        self._emit_json({"time": _now_iso(), "event": kind, **fields})

    def emit(self, obj: dict[str, object]) -> None:
        """Print one JSON object as it is (JSON mode only; no time added)."""
        if self.json_mode:
            self._emit_json(obj)

    def prompt(self, text: str) -> None:
        """A line that asks the person for something: printed in every mode."""
        print(printable(text), file=self.out, flush=True)

    def _emit_json(self, obj: dict[str, object]) -> None:
        if self.sink is not None:
            self.sink(obj)
        else:
            print(json_line(obj), file=self.out, flush=True)

    def warn(self, text: str) -> None:
        """A warning for people, on stderr, always shown (also in JSON mode)."""
        head = status_text("warning_prefix", self.lang)
        print(self.paint(f"{head}{printable(text)}", "bold yellow"), file=self.err, flush=True)

    def error(self, text: str) -> None:
        """A one-line error on stderr."""
        head = status_text("error_prefix", self.lang)
        print(self.paint(f"{head}{printable(text)}", "bold red"), file=self.err, flush=True)

    def event(self, event: ev.Event, *, side: str, prefix: str = "", role: str = "client") -> None:
        """Show one connection event at the console's level.

        Args:
            event: The event.
            side: Who saw it, for JSON ("client", "server", "proxy-client", …).
            prefix: Put before each text line (a connection number, say).
            role: Whose narration to use ("client", "server" or "proxy").
        """
        if self.json_mode:
            self._emit_json({"time": _now_iso(), **event_to_dict(event, side=side)})
            return
        # One narrator per connection: it remembers where that connection is.
        key = f"{role} {prefix}"
        narrator = self._narrators.get(key)
        if narrator is None:
            narrator = self._narrators[key] = Narrator(
                lang=self.lang, level=self.level, role=role, hand_roots=self.hand_roots
            )
        for text in narrator.describe(event):
            self.line(text, style=_style_of(event), prefix=prefix)
        if self.hexdump and isinstance(event, ev.RecordSent | ev.RecordReceived):
            arrow = "→" if isinstance(event, ev.RecordSent) else "←"
            self.line(
                status_text("hexdump_record", self.lang, arrow=arrow), style="dim", prefix=prefix
            )
            for text in annotate_record(
                event.record,
                plaintext=event.plaintext if event.seq is not None else None,
                seq=event.seq,
                nonce=event.nonce,
                lang=self.lang,
            ):
                self.line(text, prefix=prefix + "    ")


def json_line(obj: dict[str, object]) -> str:
    """``obj`` as one line of JSON that is safe on a terminal.

    ``json.dumps`` escapes C0 control characters but, with
    ``ensure_ascii=False``, leaves DEL, the C1 controls (``\\x9b`` is a CSI
    on some terminals), the line separators, bidi controls and lone
    surrogates as they are; they are escaped here too (still valid JSON,
    and the same string once parsed).
    """
    text = json.dumps(obj, ensure_ascii=False)
    if not any(is_unsafe(char) for char in text):
        return text
    return "".join(f"\\u{ord(char):04x}" if is_unsafe(char) else char for char in text)


def _style_of(event: ev.Event) -> str | None:
    if isinstance(event, ev.AlertSent | ev.AlertReceived) and (event.level, event.description) == (
        AlertLevel.WARNING,
        AlertDescription.CLOSE_NOTIFY,
    ):
        return None  # close_notify: an orderly close, nothing went wrong
    if isinstance(event, ev.ConnectionFailed | ev.AlertSent | ev.AlertReceived):
        return "bold red"
    if isinstance(event, ev.VerificationSkipped):
        return "bold yellow"
    if isinstance(event, ev.HandshakeComplete | ev.ChainVerified):
        return "green"
    return None


def _now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")
