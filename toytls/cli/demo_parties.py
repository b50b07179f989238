"""What the parties of a ``toytls demo`` scenario report, and the sockets they used.

A :class:`ClientRun` is one client's reply, failure and events; an
:class:`Attacker` is one proxy's port and the outcomes it reported; a
:class:`Wiring` notes every connection a scenario's clients made (straight
to a server, or through a proxy to its upstream) and tells it as a
:class:`Transport` — real TCP on loopback, or nothing but memory.
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

#: Where every part of the demo listens and connects.
HOST = "127.0.0.1"


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


@dataclass(frozen=True, kw_only=True, slots=True)
class Transport:
    """How one scenario ran: over TCP on loopback, or in memory only."""

    #: "tcp" when at least one connection was made, else "memory"
    kind: str
    #: each socket a connection used: "127.0.0.1:PORT client→proxy", …
    sockets: tuple[str, ...] = ()
    #: connections the scenario's clients made
    connections: int = 0
    #: processes taking part: the demo's own (servers, proxies, clients are its tasks)
    processes: int = 1


@dataclass
class Wiring:
    """The proxies one scenario started, and each connection its clients made."""

    #: proxy port → the port of the server it forwards to
    proxies: dict[int, int] = field(default_factory=dict)
    #: the port each client connected to, in order
    connected: list[int] = field(default_factory=list)

    def paths(self) -> list[tuple[int, int | None]]:
        """Each connection: the port the client reached, and the proxy's upstream if any."""
        return [(port, self.proxies.get(port)) for port in self.connected]

    def describe(self, words: dict[str, str]) -> str:
        """Each connection's path in ``words`` (:data:`~toytls.story.demo_texts.WIRE_WORDS`)."""
        hops = [
            words["direct"].format(port=port)
            if upstream is None
            else words["proxied"].format(port=port, upstream=upstream)
            for port, upstream in self.paths()
        ]
        return words["and"].join(hops)

    def transport(self) -> Transport:
        """What the scenario used, as its JSON and its closing line report it."""
        sockets: list[str] = []
        for port, upstream in self.paths():
            if upstream is None:
                sockets.append(f"{HOST}:{port} client→server")
            else:
                sockets += [f"{HOST}:{port} client→proxy", f"{HOST}:{upstream} proxy→server"]
        kind = "tcp" if sockets else "memory"
        return Transport(kind=kind, sockets=tuple(sockets), connections=len(self.connected))
