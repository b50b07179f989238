"""``toytls server``: serve many clients at once — echo, chat, HTTP, or forward.

One log line per connection event (connect, handshake done, alert, end),
plus the narration of each connection at the chosen level.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable

import trio

from ..core import events as ev
from ..core.constants import AlertDescription
from ..core.errors import ToyTLSError
from ..story.command_texts import command_text
from ..story.error_texts import describe_logged
from ..streams.closing import close_cleanly
from ..streams.context import Context, create_server_context
from ..streams.stream import ToyTLSStream
from ..streams.wiretap import WireTap
from .common import EXIT_USAGE, announce_listening, peer_of, serve_until_stopped, usage_error_text
from .console import Console, parse_address
from .keylog import check_writable, with_keylog
from .options import ServerOptions
from .server_apps import APPS, ChatRoom, Connection, ServiceUnreachable, Setup, operator
from .status_texts import status_text
from .workers import open_reuse_port_listeners, run_workers


def build_context(options: ServerOptions, lang: str = "en") -> Context:
    """The server context for ``options``: its chain, its key, its handshake deadline.

    With ``--workers N`` above 1 every worker decrypts key X inline: N
    processes already keep N cores busy, and an RSA helper per worker would
    only compete with them (measured on 2 cores, 8 clients in another
    process: 1,133-1,190 handshakes/s inline against 1,067-1,083 with
    helpers).

    Raises:
        FileNotFoundError: A certificate file is missing (the message in ``lang``).
        ValueError: The files are not a matching chain and key.
    """
    for path in (options.cert_chain, options.key):
        if not path.exists():
            raise FileNotFoundError(status_text("server_files_missing", lang, path=path))
    context = create_server_context(certfile=options.cert_chain, keyfile=options.key)
    if options.handshake_timeout is not None:
        context.handshake_timeout = options.handshake_timeout
    if options.workers > 1:
        context.handshake_workers = 0
    return context


def _describe_failure(error: BaseException | None, console: Console, *, told: bool) -> str:
    lang = console.lang
    if isinstance(error, ToyTLSError):
        # The narration just said why: the end line names the alert only.
        return describe_logged(error, lang, told=told)
    return str(error) if error else status_text("connection_broken", lang)


def _server_events(
    console: Console, prefix: str, conn: Connection, *, narrate: bool
) -> Callable[[ev.Event], None]:
    """The event handler of one server connection: the log line, and narration if wanted."""

    def on_event(event: ev.Event) -> None:
        # The stream reports an alert as sent only once it left.
        if isinstance(event, ev.AlertSent) and event.description == AlertDescription.CLOSE_NOTIFY:
            conn.close_notify_sent = True
        if isinstance(event, ev.HandshakeComplete):
            session = event.session
            console.line(
                status_text(
                    "handshake_done",
                    console.lang,
                    name=session.server_name,
                    cipher=session.cipher,
                    fp=session.session_key_fingerprint,
                ),
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
    setup: Setup,
) -> None:
    console = setup.console
    number = next(counter)
    peer = peer_of(tcp)
    prefix = f"#{number} "
    console.line(status_text("connected_from", console.lang, peer=peer), prefix=prefix)
    console.record("connect", connection=number, peer=peer)
    # Only the HTTP page shows the wire; the other apps skip the second parse.
    tap = WireTap(tcp) if app == "http" else None
    conn = Connection(number, peer, tap or tcp, tap)
    if context is not None:
        # A forwarded connection may carry megabytes: its records are told
        # only at -vv, like the tunnel's.
        narrate = console.wants_events and (app != "forward" or console.level >= 2)
        on_event = _server_events(console, prefix, conn, narrate=narrate)
        conn.narrated = narrate and not console.json_mode
        on_event = with_keylog(on_event, setup.keylog, console.warn, console.lang)
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
        how = status_text("how_disconnected", console.lang)
    except trio.BrokenResourceError as exc:
        cause = exc.__cause__
        why = _describe_failure(cause, console, told=conn.narrated)
        how = status_text("how_failed", console.lang, why=why)
        if isinstance(cause, ToyTLSError):
            alert = cause.alert_name
    except ServiceUnreachable as exc:
        how = status_text("how_failed", console.lang, why=exc)
    except Exception as exc:  # a bug must not take the other clients down
        how = status_text("internal_error", console.lang, kind=type(exc).__name__, error=exc)
    except BaseException:  # the server is being stopped (is_stop)
        _log_end(conn, _stopped_how(conn, console), None, console, stopped=True)
        raise
    _log_end(conn, how, alert, console)


def _stopped_how(conn: Connection, console: Console) -> str:
    """How a connection open when the server was stopped ended, as far as the server knows."""
    if conn.cut:
        return command_text("cut_forward", console.lang)
    if not isinstance(conn.stream, ToyTLSStream):
        return command_text("stopped_plaintext", console.lang)
    key = "stopped_close_notify" if conn.close_notify_sent else "stopped_no_close_notify"
    return command_text(key, console.lang, peer=command_text("peer_client", console.lang))


def _log_end(
    conn: Connection, how: str, alert: str | None, console: Console, *, stopped: bool = False
) -> None:
    """One line per connection that says who, how it ended, and why."""
    prefix = conn.tag
    console.forget(prefix)
    console.line(
        status_text(
            "server_end",
            console.lang,
            peer=conn.peer,
            how=how,
            bytes_in=conn.bytes_in,
            bytes_out=conn.bytes_out,
        ),
        prefix=prefix,
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
    lang = console.lang
    host, port = parse_address(options.accept, what="--accept", lang=lang)
    room = ChatRoom()
    forward = (
        parse_address(options.forward, what="--forward", lang=lang) if options.forward else None
    )
    setup = Setup(console=console, room=room, forward=forward, keylog=options.keylog)
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
    mode = status_text("mode_plaintext" if context is None else "mode_toytls", lang)
    if forward:
        app = status_text("app_forward", lang, address=options.forward)
    else:
        app = status_text("app_named", lang, app=options.app)
    announce_listening(
        console,
        listeners,
        task_status,
        status_text("server_listening", lang, address="{address}", mode=mode, app=app),
        plaintext=context is None,
        app=options.app,
    )
    async with trio.open_nursery() as nursery:
        nursery.start_soon(trio.serve_listeners, handler, listeners)
        if options.app == "chat":
            console.line(status_text("chat_prompt", lang))
            nursery.start_soon(operator, room, console)


def run(options: ServerOptions, console: Console) -> int:
    """The ``toytls server`` command: check the options, then serve until Ctrl-C.

    Returns:
        0 when stopped, 1 if it cannot listen, 2 for a bad address or
        certificate file (one error line).
    """
    try:
        parse_address(options.accept, what="--accept", lang=console.lang)
        if options.forward:
            parse_address(options.forward, what="--forward", lang=console.lang)
        context = None if options.plaintext else build_context(options, console.lang)
        check_writable(options.keylog)
    except (OSError, ValueError) as exc:  # missing, a directory, unreadable, garbage
        console.error(usage_error_text(exc, console.lang))
        return EXIT_USAGE
    if options.plaintext:
        console.warn(status_text("server_plaintext", console.lang))

    def serve_one(options: ServerOptions) -> int:
        return serve_until_stopped(
            serve, options, console, context, console=console, address=options.accept, what="server"
        )

    if options.workers > 1:
        return run_workers(options, console, serve_one)
    return serve_one(options)
