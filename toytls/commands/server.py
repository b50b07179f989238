"""``toytls server``: serve many clients at once, echo or chat, narrated.

One log line per connection event (connect, handshake done, alert, end),
plus the narration of each connection at the chosen level.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import sys
from collections.abc import Awaitable, Callable

import trio

from .. import events as ev
from ..console import Console, parse_address
from ..context import Context, create_server_context
from ..errors import ToyTLSError
from ..narration import alert_meaning
from ..stream import ToyTLSStream
from . import EXIT_USAGE, serve_until_stopped, usage_error_text

#: What a connection's application sees: a stream of either kind.
AnyStream = trio.abc.Stream


class _Connection:
    """One client connection as the server log tells it."""

    def __init__(self, number: int, peer: str, stream: AnyStream) -> None:
        self.number = number
        self.peer = peer
        self.stream = stream
        self.bytes_in = 0
        self.bytes_out = 0

    @property
    def tag(self) -> str:
        return f"#{self.number} "


class ChatRoom:
    """The operator's side of ``--app chat``: who is connected, who to answer."""

    def __init__(self) -> None:
        self.members: dict[int, _Connection] = {}

    async def say(self, line: str, console: Console) -> None:
        """Send a line typed by the operator: ``@N text`` to one, else to all."""
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
                await member.stream.send_all((text + "\n").encode())
                member.bytes_out += len(text) + 1
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                pass


def build_context(args: argparse.Namespace) -> Context:
    """The server context from the flags.

    Raises:
        FileNotFoundError: A certificate file is missing.
        ValueError: The files are not a matching chain and key.
    """
    for path in (args.cert_chain, args.key):
        if not path.exists():
            raise FileNotFoundError(
                f"{path} not found — run `toytls certs` first to make the demo certificates"
            )
    context = create_server_context(certfile=args.cert_chain, keyfile=args.key)
    context.handshake_timeout = args.handshake_timeout
    return context


async def _echo(conn: _Connection, console: Console, room: ChatRoom) -> None:
    while data := await conn.stream.receive_some():
        conn.bytes_in += len(data)
        await conn.stream.send_all(data)
        conn.bytes_out += len(data)


async def _chat(conn: _Connection, console: Console, room: ChatRoom) -> None:
    room.members[conn.number] = conn
    try:
        while data := await conn.stream.receive_some():
            conn.bytes_in += len(data)
            text = data.decode("utf-8", errors="replace").rstrip("\n")
            console.line(f"says: {text}", style="cyan", prefix=conn.tag)
            console.record("chat", connection=conn.number, text=text)
    finally:
        room.members.pop(conn.number, None)


App = Callable[[_Connection, Console, ChatRoom], Awaitable[None]]
APPS: dict[str, App] = {"echo": _echo, "chat": _chat}


def _describe_failure(error: BaseException | None, console: Console) -> str:
    if isinstance(error, ToyTLSError):
        if error.from_peer and error.alert is not None:
            meaning = alert_meaning(int(error.alert), console.lang)
            return f"alert received: {error.alert_name} — {meaning}"
        if error.alert is not None:
            return f"alert sent: {error.alert_name} — {error}"
        return str(error)
    return str(error) if error else "connection broken"


async def _handle(
    tcp: trio.SocketStream,
    *,
    args: argparse.Namespace,
    context: Context | None,
    console: Console,
    counter: itertools.count[int],
    room: ChatRoom,
) -> None:
    number = next(counter)
    try:
        host, port = tcp.socket.getpeername()[:2]
        peer = f"{host}:{port}"
    except OSError:
        peer = "?"
    prefix = f"#{number} "
    console.line(f"connected from {peer}", prefix=prefix)
    console.record("connect", connection=number, peer=peer)
    stream: AnyStream = tcp
    if context is not None:

        def on_event(event: ev.Event) -> None:
            if isinstance(event, ev.HandshakeComplete):
                session = event.session
                console.line(
                    f"handshake done: {session.server_name!r}, {session.cipher}, "
                    f"key X fingerprint {session.session_key_fingerprint}",
                    style="green",
                    prefix=prefix,
                )
            if console.wants_events:
                console.event(event, side="server", prefix=prefix, role="server")

        stream = ToyTLSStream(tcp, context, server_side=True, event_handler=on_event)
    conn = _Connection(number, peer, stream)
    alert: str | None = None
    try:
        async with stream:
            if isinstance(stream, ToyTLSStream):
                await stream.do_handshake()
            await APPS[args.app](conn, console, room)
        how = "disconnected"
    except trio.BrokenResourceError as exc:
        cause = exc.__cause__
        how = f"failed: {_describe_failure(cause, console)}"
        if isinstance(cause, ToyTLSError):
            alert = cause.alert_name
    except Exception as exc:  # a bug must not take the other clients down
        how = f"internal error: {type(exc).__name__}: {exc}"
    console.forget(prefix)
    # One line per connection that says who, how it ended, and why.
    console.line(f"{peer} {how} ({conn.bytes_in} bytes in, {conn.bytes_out} out)", prefix=prefix)
    console.record(
        "disconnect",
        connection=number,
        peer=peer,
        how=how,
        alert=alert,
        bytes_in=conn.bytes_in,
        bytes_out=conn.bytes_out,
    )


async def _operator(room: ChatRoom, console: Console) -> None:
    """Read the operator's replies from stdin (chat app)."""
    while True:
        line = await trio.to_thread.run_sync(sys.stdin.readline, abandon_on_cancel=True)
        if not line:
            return
        await room.say(line.rstrip("\n"), console)


async def serve(
    args: argparse.Namespace,
    console: Console,
    context: Context | None,
    *,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Listen and serve until cancelled."""
    host, port = parse_address(args.accept, what="--accept")
    room = ChatRoom()
    handler = functools.partial(
        _handle, args=args, context=context, console=console, counter=itertools.count(1), room=room
    )
    # Opened before any nursery, so "address in use" is a plain OSError.
    listeners = await trio.open_tcp_listeners(port, host=host)
    bound = listeners[0].socket.getsockname()
    mode = "plaintext (no encryption at all!)" if context is None else "toytls/1"
    console.line(
        f"listening on {bound[0]}:{bound[1]} ({mode}, app {args.app}); Ctrl-C stops",
        style="bold",
    )
    console.record(
        "listening", host=bound[0], port=bound[1], plaintext=context is None, app=args.app
    )
    task_status.started(bound[1])
    async with trio.open_nursery() as nursery:
        nursery.start_soon(trio.serve_listeners, handler, listeners)
        if args.app == "chat":
            console.line("type a line to answer every client, or @N text to answer client N")
            nursery.start_soon(_operator, room, console)


def run(args: argparse.Namespace, console: Console) -> int:
    """The ``toytls server`` command."""
    try:
        parse_address(args.accept, what="--accept")
        context = None if args.plaintext else build_context(args)
    except (OSError, ValueError) as exc:  # missing, a directory, unreadable, garbage
        console.error(usage_error_text(exc))
        return EXIT_USAGE
    if args.plaintext:
        console.warn("plaintext mode: everything crosses the network readable and changeable")
    return serve_until_stopped(
        serve, args, console, context, console=console, address=args.accept, what="server"
    )
