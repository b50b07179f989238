"""The applications ``toytls server`` runs on each connection: echo, chat, HTTP, forward.

Each app reads and writes one connection's stream and counts its bytes;
:mod:`.server` accepts, logs and closes the connections around them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import trio

from ..story.ladder_input import EventLog
from ..streams.stream import ToyTLSStream
from ..streams.wiretap import WireTap
from .common import (
    Unreachable,
    cut,
    host_port,
    is_stop,
    open_onwards,
    splice_then_abort,
    stdin_lines,
)
from .console import Console
from .status_texts import status_text

#: What a connection's application sees: a stream of either kind.
AnyStream = trio.abc.HalfCloseableStream


class Connection:
    """One client connection as the server log tells it."""

    def __init__(self, number: int, peer: str, stream: AnyStream, tap: WireTap | None) -> None:
        self.number = number
        self.peer = peer
        self.stream = stream
        #: the transport as the wire saw it (for the HTTP page)
        self.tap = tap
        self.bytes_in = 0
        self.bytes_out = 0
        #: our close_notify has been handed to the transport (not just queued)
        self.close_notify_sent = False
        #: the forward app cut both ends when the server was stopped
        self.cut = False
        #: the first events, kept for the session page's diagram (HTTP app)
        self.events = EventLog()
        #: its narration is printed as text, failure reason included
        self.narrated = False

    @property
    def tag(self) -> str:
        return f"#{self.number} "


@dataclass
class Setup:
    """What every connection's application shares."""

    console: Console
    room: ChatRoom
    #: --forward: the local service to pass the data to
    forward: tuple[str, int] | None = None
    #: --keylog: append each connection's client random and key X here
    keylog: Path | None = None


class ChatRoom:
    """The operator's side of ``--app chat``: who is connected, who to answer."""

    def __init__(self) -> None:
        self.members: dict[int, Connection] = {}

    async def say(self, line: str, console: Console) -> None:
        """Send a line typed by the operator: ``@N text`` to one, else to all.

        Bytes typed that are not UTF-8 (kept by ``surrogateescape``) are
        sent as they were typed.
        """
        targets = list(self.members.values())
        text = line
        if line.startswith("@"):
            number_text, _, text = line[1:].partition(" ")
            if not number_text.isdigit() or int(number_text) not in self.members:
                console.line(
                    status_text(
                        "chat_no_connection",
                        console.lang,
                        number=number_text,
                        connected=sorted(self.members),
                    )
                )
                return
            targets = [self.members[int(number_text)]]
        for member in targets:
            try:
                data = (text + "\n").encode("utf-8", "surrogateescape")
                await member.stream.send_all(data)
                member.bytes_out += len(data)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                pass


async def _echo(conn: Connection, setup: Setup) -> None:
    while data := await conn.stream.receive_some():
        conn.bytes_in += len(data)
        await conn.stream.send_all(data)
        conn.bytes_out += len(data)


async def _chat(conn: Connection, setup: Setup) -> None:
    room, console = setup.room, setup.console
    room.members[conn.number] = conn
    try:
        while data := await conn.stream.receive_some():
            conn.bytes_in += len(data)
            # One log line per line received, each under this client's tag:
            # a client cannot write a line that looks like the server's own
            # (the console escapes anything else it sends).
            for line in data.decode("utf-8", "surrogateescape").rstrip("\n").split("\n"):
                console.line(
                    status_text("chat_says", console.lang, line=line), style="cyan", prefix=conn.tag
                )
            text = data.decode("utf-8", errors="replace").rstrip("\n")
            console.record("chat", connection=conn.number, text=text)
    finally:
        room.members.pop(conn.number, None)


async def _http(conn: Connection, setup: Setup) -> None:
    from ..web.httpapp import HttpCounts, Request, serve_http
    from ..web.sessionpage import Visit, page_language

    stream, tap = conn.stream, conn.tap
    assert tap is not None

    def describe(request: Request, earlier: int) -> Visit:
        tls = stream if isinstance(stream, ToyTLSStream) else None
        setup.console.line(request.head[0], style="cyan", prefix=conn.tag)
        setup.console.record("http_request", connection=conn.number, request=request.head[0])
        return Visit(
            session=tls.session if tls is not None else None,
            records_protected=tls.records_protected if tls is not None else (0, 0),
            wire_received=tap.received.as_dict(),
            wire_sent=tap.sent.as_dict(),
            peer=conn.peer,
            request_head=request.head,
            earlier_requests=earlier,
            lang=page_language(request.target, setup.console.lang),
            events=tuple(conn.events.events),
        )

    counts = HttpCounts()
    try:
        await serve_http(stream, describe, counts)
    finally:
        conn.bytes_in, conn.bytes_out = counts.bytes_in, counts.bytes_out


async def _forward(conn: Connection, setup: Setup) -> None:
    from ..streams.splice import abort

    assert setup.forward is not None
    host, port = setup.forward
    try:
        service = await open_onwards(host, port, setup.console.lang)
    except Unreachable as exc:
        # The client sees its connection fail (no close_notify): "nothing
        # to say" must not look like an answer. The log says why.
        await abort(conn.stream)
        raise ServiceUnreachable(str(exc)) from None
    try:
        address = host_port(host, port)
        setup.console.line(
            status_text("forwarding", setup.console.lang, address=address), prefix=conn.tag
        )
        result = await splice_then_abort(conn.stream, service)
    except BaseException as exc:
        if is_stop(exc):
            # Stopped with the relay open: data may be in flight, so neither
            # end may take the stop for a complete exchange — a reset for the
            # service, no close_notify for the client.
            conn.cut = True
            await cut(service, conn.stream)
        raise
    finally:
        await trio.aclose_forcefully(service)
    conn.bytes_in, conn.bytes_out = result.a_to_b, result.b_to_a
    if result.failed_side == "b":
        raise ServiceUnreachable(
            status_text(
                "service_broke",
                setup.console.lang,
                address=host_port(host, port),
                error=result.error,
            )
        )
    if result.error is not None:
        raise result.error  # the toytls side: reported like any broken connection


class ServiceUnreachable(Exception):
    """The --forward service could not be reached or broke."""


App = Callable[[Connection, Setup], Awaitable[None]]
APPS: dict[str, App] = {"echo": _echo, "chat": _chat, "http": _http, "forward": _forward}


async def operator(room: ChatRoom, console: Console) -> None:
    """Read the operator's replies from stdin (chat app)."""
    async for raw in stdin_lines():
        await room.say(raw.decode("utf-8", "surrogateescape").rstrip("\n"), console)
