"""One client's connection through ``toytls proxy``, as the relay and the MITM share it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import trio

from ..attacker import outcomes as out
from ..attacker.modes import Mode
from ..attacker.policy import RecordPolicy
from ..pki.generate import AttackerKit
from ..web.httpview import HttpConversation
from .console import Console
from .proxy_log import show

#: Called with every outcome, after the console has shown it.
OnOutcome = Callable[[out.Outcome], None]


#: How many bytes of data that is not UTF-8 are shown in hex.
_HEX_SHOWN = 32


@dataclass
class Link:
    """One client's connection through the proxy."""

    number: int
    mode: Mode
    console: Console
    kit: AttackerKit | None
    on_outcome: OnOutcome | None = None
    #: the relay modes' record-by-record attack
    policy: RecordPolicy = field(init=False)
    #: set when the attacker cuts the line (truncate)
    cut: trio.Event = field(default_factory=trio.Event)
    #: HTTP recognised in the plaintext this link reads (watch mode on a
    #: plaintext server, or after a successful attack)
    http: HttpConversation = field(default_factory=HttpConversation)

    def __post_init__(self) -> None:
        self.policy = RecordPolicy(self.mode)

    @property
    def prefix(self) -> str:
        """What starts each of this connection's lines."""
        return f"#{self.number} "

    def report(self, outcome: out.Outcome) -> None:
        """Show ``outcome`` on the console, then pass it on to whoever listens."""
        show(outcome, self.console)
        if self.on_outcome is not None:
            self.on_outcome(outcome)


def show_plaintext(
    link: Link, direction: out.Direction, data: bytes | bytearray, *, stolen: bool
) -> None:
    """Report plaintext the attacker read: as HTTP when it is HTTP, else as text.

    ``stolen`` marks plaintext he could only read because an attack
    succeeded (it was encrypted with key X).
    """
    client_side = direction is out.Direction.TO_SERVER
    sightings = link.http.client_bytes(data) if client_side else link.http.server_bytes(data)
    if link.http.is_http:
        for sighting in sightings:
            link.report(
                out.HttpSeen(
                    connection=link.number,
                    direction=direction,
                    kind=sighting.kind,
                    first_line=sighting.first_line,
                    headers=sighting.headers,
                    lines=tuple(sighting.lines()),
                    stolen=stolen,
                    body_size=sighting.body_size,
                    body_of=sighting.body_of,
                    body_reply=sighting.body_reply,
                )
            )
        return
    raw = bytes(data)
    text = raw.decode("utf-8", errors="replace")
    try:
        raw.decode("utf-8")
        shown = ""
    except UnicodeDecodeError:  # the text alone would hide what the bytes were
        shown = " ".join(f"{b:02x}" for b in raw[:_HEX_SHOWN]) + (
            "…" if len(raw) > _HEX_SHOWN else ""
        )
    link.report(
        out.PlaintextSeen(
            connection=link.number, direction=direction, text=text, stolen=stolen, hex=shown
        )
    )
