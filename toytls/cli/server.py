"""``toytls server``: serve many clients at once — echo, chat, HTTP, or forward.

One log line per connection event (connect, handshake done, alert, end),
plus the narration of each connection at the chosen level.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import trio

from ..core import events as ev
from ..core.constants import AlertDescription
from ..core.errors import ToyTLSError
from ..story.command_texts import command_text
from ..story.error_texts import describe_logged
from ..story.ladder_input import EventLog
from ..streams.closing import close_cleanly
from ..streams.context import Context, create_server_context
from ..streams.stream import ToyTLSStream
from ..streams.wiretap import WireTap
from .common import (
    EXIT_USAGE,
    Unreachable,
    announce_listening,
    cut,
    host_port,
    is_stop,
    open_onwards,
    peer_of,
    serve_until_stopped,
    splice_then_abort,
    stdin_lines,
    usage_error_text,
)
from .console import Console, parse_address
from .keylog import check_writable, with_keylog
from .options import ServerOptions
from .workers import open_reuse_port_listeners, run_workers

#: What a connection's application sees: a stream of either kind.
AnyStream = trio.abc.HalfCloseableStream


class _Connection:
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

    @property
    def tag(self) -> str:
        return f"#{self.number} "


@dataclass
class _Setup:
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
        self.members: dict[int, _Connection] = {}

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
                console.line(f"no connection {number_text!r}; connected: {sorted(self.members)}")
                return
            targets = [self.members[int(number_text)]]
        for member in targets:
            try:
                data = (text + "\n").encode("utf-8", "surrogateescape")
                await member.stream.send_all(data)
                member.bytes_out += len(data)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                pass


def build_context(options: ServerOptions) -> Context:
    """The server context for ``options``: its chain, its key, its handshake deadline.

    Raises:
        FileNotFoundError: A certificate file is missing.
        ValueError: The files are not a matching chain and key.
    """
    for path in (options.cert_chain, options.key):
        if not path.exists():
            raise FileNotFoundError(
                f"{path} not found — run `toytls certs` first to make the demo certificates"
            )
    context = create_server_context(certfile=options.cert_chain, keyfile=options.key)
    if options.handshake_timeout is not None:
        context.handshake_timeout = options.handshake_timeout
    return context


async def _echo(conn: _Connection, setup: _Setup) -> None:
    while data := await conn.stream.receive_some():
        conn.bytes_in += len(data)
        await conn.stream.send_all(data)
        conn.bytes_out += len(data)


async def _chat(conn: _Connection, setup: _Setup) -> None:
    room, console = setup.room, setup.console
    room.members[conn.number] = conn
    try:
        while data := await conn.stream.receive_some():
            conn.bytes_in += len(data)
            # One log line per line received, each under this client's tag:
            # a client cannot write a line that looks like the server's own
            # (the console escapes anything else it sends).
            for line in data.decode("utf-8", "surrogateescape").rstrip("\n").split("\n"):
                console.line(f"says: {line}", style="cyan", prefix=conn.tag)
            text = data.decode("utf-8", errors="replace").rstrip("\n")
            console.record("chat", connection=conn.number, text=text)
    finally:
        room.members.pop(conn.number, None)


async def _http(conn: _Connection, setup: _Setup) -> None:
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


async def _forward(conn: _Connection, setup: _Setup) -> None:
    from ..streams.splice import abort

    assert setup.forward is not None
    host, port = setup.forward
    try:
        service = await open_onwards(host, port)
    except Unreachable as exc:
        # The client sees its connection fail (no close_notify): "nothing
        # to say" must not look like an answer. The log says why.
        await abort(conn.stream)
        raise _ServiceUnreachable(str(exc)) from None
    try:
        setup.console.line(f"forwarding to {host_port(host, port)}", prefix=conn.tag)
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
        raise _ServiceUnreachable(f"the service at {host}:{port} broke: {result.error}")
    if result.error is not None:
        raise result.error  # the toytls side: reported like any broken connection


class _ServiceUnreachable(Exception):
    """The --forward service could not be reached or broke."""


App = Callable[[_Connection, _Setup], Awaitable[None]]
APPS: dict[str, App] = {"echo": _echo, "chat": _chat, "http": _http, "forward": _forward}


def _describe_failure(error: BaseException | None, console: Console) -> str:
    if isinstance(error, ToyTLSError):
        return describe_logged(error, console.lang)
    return str(error) if error else "connection broken"


def _server_events(
    console: Console, prefix: str, conn: _Connection, *, narrate: bool
) -> Callable[[ev.Event], None]:
    """The event handler of one server connection: the log line, and narration if wanted."""

    def on_event(event: ev.Event) -> None:
        # The stream reports an alert as sent only once it left.
        if isinstance(event, ev.AlertSent) and event.description == AlertDescription.CLOSE_NOTIFY:
            conn.close_notify_sent = True
        if isinstance(event, ev.HandshakeComplete):
            session = event.session
            console.line(
                f"handshake done: {session.server_name!r}, {session.cipher}, "
                f"key X fingerprint {session.session_key_fingerprint}",
                style="green",
                prefix=prefix,
            )
        if narrate:
            console.event(event, side="server", prefix=prefix, role="server")

    return on_event


async def _handle(
    tcp: trio.SocketStream,
    *,
    app: str,
    context: Context | None,
    counter: itertools.count[int],
    setup: _Setup,
) -> None:
    console = setup.console
    number = next(counter)
    peer = peer_of(tcp)
    prefix = f"#{number} "
    console.line(f"connected from {peer}", prefix=prefix)
    console.record("connect", connection=number, peer=peer)
    # Only the HTTP page shows the wire; the other apps skip the second parse.
    tap = WireTap(tcp) if app == "http" else None
    conn = _Connection(number, peer, tap or tcp, tap)
    if context is not None:
        # A forwarded connection may carry megabytes: its records are told
        # only at -vv, like the tunnel's.
        narrate = console.wants_events and (app != "forward" or console.level >= 2)
        on_event = _server_events(console, prefix, conn, narrate=narrate)
        on_event = with_keylog(on_event, setup.keylog, console.warn)
        if app == "http":  # the session page draws the visitor's handshake from them
            on_event = conn.events.then(on_event)
        conn.stream = ToyTLSStream(tap or tcp, context, server_side=True, event_handler=on_event)
    alert: str | None = None
    try:
        try:
            if isinstance(conn.stream, ToyTLSStream):
                await conn.stream.do_handshake()
            await APPS[app](conn, setup)
        finally:
            # Bounded and shielded: a stopping server still says "that was
            # all" (close_notify) to each client it served to the end; the
            # forward app has already cut its client if it was stopped.
            await close_cleanly(conn.stream)
        how = "disconnected"
    except trio.BrokenResourceError as exc:
        cause = exc.__cause__
        how = f"failed: {_describe_failure(cause, console)}"
        if isinstance(cause, ToyTLSError):
            alert = cause.alert_name
    except _ServiceUnreachable as exc:
        how = f"failed: {exc}"
    except Exception as exc:  # a bug must not take the other clients down
        how = f"internal error: {type(exc).__name__}: {exc}"
    except BaseException:  # the server is being stopped (is_stop)
        _log_end(conn, _stopped_how(conn, console), None, console, stopped=True)
        raise
    _log_end(conn, how, alert, console)


def _stopped_how(conn: _Connection, console: Console) -> str:
    """How a connection open when the server was stopped ended, as far as the server knows."""
    if conn.cut:
        return command_text("cut_forward", console.lang)
    if not isinstance(conn.stream, ToyTLSStream):
        return command_text("stopped_plaintext", console.lang)
    key = "stopped_close_notify" if conn.close_notify_sent else "stopped_no_close_notify"
    return command_text(key, console.lang, peer=command_text("peer_client", console.lang))


def _log_end(
    conn: _Connection, how: str, alert: str | None, console: Console, *, stopped: bool = False
) -> None:
    """One line per connection that says who, how it ended, and why."""
    prefix = conn.tag
    console.forget(prefix)
    console.line(
        f"{conn.peer} {how} ({conn.bytes_in} bytes in, {conn.bytes_out} out)", prefix=prefix
    )
    console.record(
        "disconnect",
        connection=conn.number,
        peer=conn.peer,
        how=how,
        alert=alert,
        bytes_in=conn.bytes_in,
        bytes_out=conn.bytes_out,
        stopped=stopped,
        close_notify_sent=conn.close_notify_sent,
    )


async def _operator(room: ChatRoom, console: Console) -> None:
    """Read the operator's replies from stdin (chat app)."""
    async for raw in stdin_lines():
        await room.say(raw.decode("utf-8", "surrogateescape").rstrip("\n"), console)


async def serve(
    options: ServerOptions,
    console: Console,
    context: Context | None,
    *,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Listen on ``options.accept`` and serve ``options.app`` until cancelled.

    Args:
        options: What to serve, and where.
        console: Where the log and the narration go.
        context: The server context, or None for plaintext.
        task_status: Receives the port actually bound (for port 0).

    Raises:
        OSError: The address cannot be listened on.
        ValueError: An address in ``options`` is not HOST:PORT.
    """
    host, port = parse_address(options.accept, what="--accept")
    room = ChatRoom()
    forward = parse_address(options.forward, what="--forward") if options.forward else None
    setup = _Setup(console=console, room=room, forward=forward, keylog=options.keylog)
    handler = functools.partial(
        _handle,
        app=options.app,
        context=context,
        counter=itertools.count(1),
        setup=setup,
    )
    # Opened before any nursery, so "address in use" is a plain OSError.
    if options.workers > 1:  # one of several processes on this port
        listeners = await open_reuse_port_listeners(host, port)
    else:
        listeners = await trio.open_tcp_listeners(port, host=host)
    mode = "plaintext (no encryption at all!)" if context is None else "toytls/1"
    app = f"forwarding to {options.forward}" if forward else f"app {options.app}"
    announce_listening(
        console,
        listeners,
        task_status,
        f"listening on {{address}} ({mode}, {app}); Ctrl-C stops",
        plaintext=context is None,
        app=options.app,
    )
    async with trio.open_nursery() as nursery:
        nursery.start_soon(trio.serve_listeners, handler, listeners)
        if options.app == "chat":
            console.line("type a line to answer every client, or @N text to answer client N")
            nursery.start_soon(_operator, room, console)


def run(options: ServerOptions, console: Console) -> int:
    """The ``toytls server`` command: check the options, then serve until Ctrl-C.

    Returns:
        0 when stopped, 1 if it cannot listen, 2 for a bad address or
        certificate file (one error line).
    """
    try:
        parse_address(options.accept, what="--accept")
        if options.forward:
            parse_address(options.forward, what="--forward")
        context = None if options.plaintext else build_context(options)
        check_writable(options.keylog)
    except (OSError, ValueError) as exc:  # missing, a directory, unreadable, garbage
        console.error(usage_error_text(exc, console.lang))
        return EXIT_USAGE
    if options.plaintext:
        console.warn("plaintext mode: everything crosses the network readable and changeable")

    def serve_one(options: ServerOptions) -> int:
        return serve_until_stopped(
            serve, options, console, context, console=console, address=options.accept, what="server"
        )

    if options.workers > 1:
        return run_workers(options, console, serve_one)
    return serve_one(options)
