"""``toytls tunnel``: the client end of a stunnel-like tunnel.

Plain TCP comes in on ``--accept``; each connection gets its own toytls
connection to ``--connect`` (a ``toytls server --forward``, or any toytls
server), with the server's certificate checked as ``toytls client`` checks
it. Then the bytes flow both ways, half-closes included, until both sides
are done. A rejected certificate or an unreachable server ends that one
connection — the local program sees it closed — and is logged with the
reason; the tunnel goes on serving.
"""

from __future__ import annotations

import functools
import itertools
import warnings

import trio

from ..core import events as ev
from ..story.command_texts import command_text
from ..streams.context import Context
from ..streams.splice import SpliceResult, abort
from ..streams.stream import ToyTLSInsecureWarning, ToyTLSStream
from .client import build_context, failure_of
from .common import (
    EXIT_USAGE,
    Unreachable,
    announce_listening,
    cut,
    is_stop,
    open_onwards,
    peer_of,
    serve_until_stopped,
    splice_then_abort,
    usage_error_text,
)
from .console import Console, parse_address
from .options import TunnelOptions
from .status_texts import status_text


class _Refused(Exception):
    """This connection cannot be tunnelled; the message says why."""

    def __init__(self, reason: str, *, kind: str, alert: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind
        self.alert = alert


async def _open_toytls(
    number: int, options: TunnelOptions, context: Context, console: Console
) -> ToyTLSStream:
    """Connect to the toytls server and complete the handshake.

    Raises:
        _Refused: Unreachable, too slow, or refused (certificate or protocol).
    """
    host, port = parse_address(options.connect, what="--connect", lang=console.lang)
    prefix = f"#{number} "
    try:
        tcp = await open_onwards(host, port, console.lang, toytls_server=True)
    except Unreachable as exc:
        raise _Refused(str(exc), kind="unreachable") from None

    def on_event(event: ev.Event) -> None:
        # The handshake in JSON too; each record of the tunnelled data (which
        # would copy it all into the log) only at -vv or with --hexdump.
        per_record = isinstance(event, ev.RecordSent | ev.RecordReceived | ev.ApplicationData)
        if console.hexdump or console.level >= 2 or (console.json_mode and not per_record):
            console.event(event, side="client", prefix=prefix)

    name = options.trust.server_name
    stream = ToyTLSStream(tcp, context, server_hostname=name, event_handler=on_event)
    try:
        # Within the context's handshake_timeout (CLIENT_HANDSHAKE_TIMEOUT).
        with warnings.catch_warnings():
            # Said once at start-up, not once per connection.
            warnings.simplefilter("ignore", ToyTLSInsecureWarning)
            await stream.do_handshake()
    except trio.BrokenResourceError as exc:
        await stream.aclose()
        failure = failure_of(exc, console)
        raise _Refused(failure.reason, kind="refused", alert=failure.alert) from None
    except BaseException:
        # Stopped mid-handshake: no close_notify, nothing was relayed yet.
        await trio.aclose_forcefully(stream)
        raise
    return stream


async def _handle(
    local: trio.SocketStream,
    *,
    options: TunnelOptions,
    context: Context,
    console: Console,
    counter: itertools.count[int],
) -> None:
    number = next(counter)
    try:
        await _tunnel_one(local, number, options=options, context=context, console=console)
    except Exception as exc:  # a bug must not take the other connections down
        text = status_text("internal_error", console.lang, kind=type(exc).__name__, error=exc)
        console.line(text, style="yellow", prefix=f"#{number} ")
        console.record("internal_error", connection=number, error=f"{type(exc).__name__}: {exc}")


async def _tunnel_one(
    local: trio.SocketStream,
    number: int,
    *,
    options: TunnelOptions,
    context: Context,
    console: Console,
) -> None:
    """Tunnel one local connection, logging how it went."""
    prefix = f"#{number} "
    peer = peer_of(local)
    accepted = status_text("tunnel_accepted", console.lang, peer=peer, connect=options.connect)
    console.line(accepted, prefix=prefix)
    console.record("connect", connection=number, peer=peer)
    try:
        result = await _relay(local, number, options=options, context=context, console=console)
    except BaseException as exc:
        if is_stop(exc):
            # Stopped with the connection open: data may have been in flight,
            # and a relay cannot vouch that it was not, so the cut is passed on
            # as a failure on both sides (_relay has reset both).
            how = command_text("cut_tunnel", console.lang)
            console.forget(prefix)
            console.line(f"{peer} {how}", style="red", prefix=prefix)
            console.record("disconnect", connection=number, peer=peer, how=how, stopped=True)
        raise
    if result is None:
        return
    how = _how_it_ended(result, console)
    console.forget(prefix)
    console.line(
        status_text(
            "tunnel_end", console.lang, peer=peer, how=how, up=result.a_to_b, down=result.b_to_a
        ),
        prefix=prefix,
    )
    console.record(
        "disconnect",
        connection=number,
        peer=peer,
        how=how,
        bytes_up=result.a_to_b,
        bytes_down=result.b_to_a,
    )


async def _relay(
    local: trio.SocketStream,
    number: int,
    *,
    options: TunnelOptions,
    context: Context,
    console: Console,
) -> SpliceResult | None:
    """Open the toytls side and splice; None if it could not be opened (logged here).

    If cancelled (the tunnel is stopped), both sides are cut: a reset for
    the local program, no close_notify for the server.
    """
    prefix = f"#{number} "
    peer = peer_of(local)
    try:
        try:
            stream = await _open_toytls(number, options, context, console)
        except _Refused as refused:
            # The local program sees its connection fail (a reset), not a
            # clean end that could pass for an empty answer.
            await abort(local)
            console.line(
                status_text("not_tunnelled", console.lang, peer=peer, reason=refused.reason),
                style="red",
                prefix=prefix,
            )
            console.record(
                refused.kind,
                connection=number,
                peer=peer,
                reason=refused.reason,
                alert=refused.alert,
            )
            console.forget(prefix)
            return None
        _log_up(stream, number, console)
        try:
            return await splice_then_abort(local, stream)
        except BaseException as exc:
            if is_stop(exc):
                await cut(stream, local)
            raise
        finally:
            await stream.aclose()
    except BaseException as exc:
        if is_stop(exc):
            await cut(local)  # stopped during the handshake: nothing relayed yet
        raise
    finally:
        await local.aclose()


def _log_up(stream: ToyTLSStream, number: int, console: Console) -> None:
    """The tunnel_up line: whom the toytls connection reached, and whether it was checked."""
    session = stream.session
    check = status_text("chain_checked" if session.verified else "chain_not_checked", console.lang)
    console.line(
        status_text(
            "tunnel_up",
            console.lang,
            name=session.server_name,
            check=check,
            fp=session.session_key_fingerprint,
        ),
        style="green" if session.verified else "yellow",
        prefix=f"#{number} ",
    )
    console.record(
        "tunnel_up",
        connection=number,
        server_name=session.server_name,
        verified=session.verified,
        session_key_fingerprint=session.session_key_fingerprint,
    )


def _how_it_ended(result: SpliceResult, console: Console) -> str:
    """ "closed", or "failed: …" naming the side that broke (b is the toytls side)."""
    lang = console.lang
    if result.error is None:
        return status_text("how_closed", lang)
    cause = result.error.__cause__
    if result.failed_side == "b" and cause is not None:
        return status_text("how_failed", lang, why=failure_of(result.error, console).reason)
    broke = status_text("local_broke", lang, error=cause or result.error)
    return status_text("how_failed", lang, why=broke)


async def serve(
    options: TunnelOptions,
    console: Console,
    context: Context,
    *,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Listen for plain TCP on ``options.accept`` and tunnel each connection until cancelled.

    Raises:
        OSError: The address cannot be listened on.
        ValueError: ``options.accept`` is not HOST:PORT.
    """
    host, port = parse_address(options.accept, what="--accept", lang=console.lang)
    listeners = await trio.open_tcp_listeners(port, host=host)
    handler = functools.partial(
        _handle, options=options, context=context, console=console, counter=itertools.count(1)
    )
    announce_listening(
        console,
        listeners,
        task_status,
        status_text(
            "tunnel_listening",
            console.lang,
            address="{address}",
            connect=options.connect,
            name=options.trust.server_name,
        ),
        connect=options.connect,
    )
    await trio.serve_listeners(handler, listeners)


def run(options: TunnelOptions, console: Console) -> int:
    """The ``toytls tunnel`` command.

    Returns:
        0 when stopped, 1 if it cannot listen, 2 for a bad address, name or
        trust file (one error line).
    """
    try:
        parse_address(options.accept, what="--accept", lang=console.lang)
        parse_address(options.connect, what="--connect", lang=console.lang)
        context = build_context(options.trust, lang=console.lang)
    except (OSError, ValueError) as exc:  # missing, a directory, unreadable, garbage
        console.error(usage_error_text(exc, console.lang))
        return EXIT_USAGE
    if options.trust.insecure:
        console.warn(status_text("tunnel_insecure", console.lang))
    return serve_until_stopped(
        serve, options, console, context, console=console, address=options.accept, what="tunnel"
    )
