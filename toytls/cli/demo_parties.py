"""What the parties of a ``toytls demo`` scenario report.

A :class:`ClientRun` is one client's reply, failure and events; an
:class:`Attacker` is one proxy's port and the outcomes it reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

import trio

from ..attacker import outcomes as out
from ..core import events as ev

#: Seconds the proxy may take to finish a connection once its client is done.
_PROXY_FINISHES_WITHIN = 10.0

_O = TypeVar("_O")


@dataclass
class ClientRun:
    """What one of the demo's clients got: the reply, or the failure, and its events."""

    reply: bytes | None = None
    error: BaseException | None = None
    events: list[ev.Event] = field(default_factory=list)

    @property
    def links(self) -> list[ev.CertificateChecked]:
        return [e for e in self.events if isinstance(e, ev.CertificateChecked)]


@dataclass
class Attacker:
    """What one of the demo's proxies reported, as outcome objects."""

    port: int = 0
    outcomes: list[out.Outcome] = field(default_factory=list)
    #: set when a connection through it is over (each proxy here carries one)
    finished: trio.Event = field(default_factory=trio.Event)

    def add(self, outcome: out.Outcome) -> None:
        self.outcomes.append(outcome)
        if isinstance(outcome, out.ConnectionClosed):
            self.finished.set()

    def of(self, kind: type[_O]) -> list[_O]:
        """The outcomes of one type, in order."""
        return [o for o in self.outcomes if isinstance(o, kind)]

    async def wait_finished(self) -> None:
        """Wait until the proxy has reported everything about its connection.

        Raises:
            trio.TooSlowError: Not within :data:`_PROXY_FINISHES_WITHIN`.
        """
        with trio.fail_after(_PROXY_FINISHES_WITHIN):
            await self.finished.wait()
