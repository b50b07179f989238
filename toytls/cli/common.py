"""The ``toytls`` subcommands. Part of the command-line layer: they print.

Each module has one ``run(args, console) -> int`` that returns the exit
status; :mod:`toytls.cli.main` parses the flags and calls it.
"""

from __future__ import annotations

import errno
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import trio

    from ..streams.splice import SpliceResult
    from .console import Console

#: Exit statuses shared by every command (documented in ``--help``).
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CERTIFICATE_REJECTED = 3
EXIT_CONNECTION_FAILED = 4
#: Stopped by a signal: 128 + its number, as a shell reports it. Ctrl-C
#: (SIGINT) is 130 and SIGTERM 143 in every command; each endpoint has sent
#: close_notify where it could, and each relay has cut what was open.
EXIT_INTERRUPTED = 128 + signal.SIGINT
EXIT_TERMINATED = 128 + signal.SIGTERM

#: Seconds to open a TCP connection onwards (tunnel, server --forward).
CONNECT_TIMEOUT = 10.0

#: Seconds a client end (client, tunnel) gives the server to finish the
#: handshake, unless ``--handshake-timeout`` says otherwise.
CLIENT_HANDSHAKE_TIMEOUT = 10.0


async def until_interrupted(main: Callable[..., Awaitable[object]], *args: object) -> int | None:
    """Run ``main(*args)`` until it returns or Ctrl-C / SIGTERM arrives.

    A signal cancels ``main`` cleanly (its ``finally`` blocks and stream
    closes run) instead of raising KeyboardInterrupt somewhere inside it.
    An exception from ``main`` comes out as itself, not in a group.

    Returns:
        The number of the signal that stopped it, or None.
    """
    import trio

    interrupted: int | None = None
    failure: BaseException | None = None
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:

            async def watch() -> None:
                nonlocal interrupted
                async for signum in signals:
                    interrupted = signum
                    nursery.cancel_scope.cancel()
                    return

            nursery.start_soon(watch)
            try:
                await main(*args)
            except Exception as exc:  # re-raised below, outside the nursery
                failure = exc
            nursery.cancel_scope.cancel()
    if failure is not None:
        raise failure
    return interrupted


def is_stop(exc: BaseException) -> bool:
    """Whether ``exc`` means the command is being stopped, not that something failed.

    A cancellation, bare or gathered in a group by a nursery (trio's strict
    exception groups), or KeyboardInterrupt: anything that is not an
    ``Exception``.
    """
    return not isinstance(exc, Exception)


class Unreachable(Exception):
    """A TCP connection onwards could not be opened; the message says why."""


def _refused(exc: BaseException) -> bool:
    """Whether ``exc`` (or every attempt trio gathered in its cause) was refused."""

    cause = exc.__cause__
    if isinstance(cause, BaseExceptionGroup):
        return all(_refused(one) for one in cause.exceptions)
    return isinstance(exc, OSError) and exc.errno == errno.ECONNREFUSED


def why_unreachable(
    host: str, port: int, exc: BaseException, lang: str = "en", *, toytls_server: bool = False
) -> str:
    """Why a TCP connection to HOST:PORT failed, in ``lang``, for a newcomer.

    A refusal says so plainly (not trio's "all attempts to connect … failed")
    and, with ``toytls_server``, asks whether ``toytls server`` runs there.
    """
    import trio

    address = host_port(host, port)
    zh = lang == "zh"
    head = "cannot connect to" if toytls_server else "cannot reach"
    if isinstance(exc, trio.TooSlowError):
        return f"无法连接到 {address}：超时无应答" if zh else f"{head} {address}: no answer in time"
    if _refused(exc):
        if zh:
            ask = f" —— `toytls server` 是否在 {address} 上运行？" if toytls_server else ""
            return f"无法连接到 {address}：连接被拒绝{ask}"
        ask = f" — is `toytls server` running on {address}?" if toytls_server else ""
        return f"{head} {address}: connection refused{ask}"
    why: object = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
    cause = exc.__cause__
    if isinstance(cause, BaseExceptionGroup) and isinstance(cause.exceptions[0], OSError):
        why = cause.exceptions[0].strerror or why
    return f"无法连接到 {address}：{why}" if zh else f"{head} {address}: {why}"


async def open_onwards(
    host: str, port: int, lang: str = "en", *, toytls_server: bool = False
) -> trio.SocketStream:
    """Open a TCP connection onwards (tunnel, server --forward), bounded in time.

    Raises:
        Unreachable: Refused, no route, or no answer within
            :data:`CONNECT_TIMEOUT`; the message (:func:`why_unreachable`)
            reads "cannot reach HOST:PORT: why" (or "cannot connect to" a toytls server).
    """
    import trio

    try:
        with trio.fail_after(CONNECT_TIMEOUT):
            return await trio.open_tcp_stream(host, port)
    except (OSError, trio.TooSlowError) as exc:
        text = why_unreachable(host, port, exc, lang, toytls_server=toytls_server)
        raise Unreachable(text) from None


async def splice_then_abort(
    a: trio.abc.HalfCloseableStream, b: trio.abc.HalfCloseableStream
) -> SpliceResult:
    """Join ``a`` and ``b`` both ways; if one breaks, break the other too.

    A break on one side is passed on as a break (:func:`~toytls.streams.splice.abort`:
    a reset for TCP, no close_notify for toytls), never as a clean end that
    would pass a truncation off as all the data. Clean ends and half-closes
    pass through as they are. Neither stream is closed otherwise: the caller
    owns them.

    Returns:
        What went through, and which side broke first, if any.
    """
    from ..streams.splice import abort, splice

    result = await splice(a, b)
    if result.failed_side == "a":
        await abort(b)
    elif result.failed_side == "b":
        await abort(a)
    return result


async def stdin_lines() -> AsyncIterator[bytes]:
    """The lines typed on stdin, as bytes (a last one without a newline included).

    Read with ``os.read`` in a worker thread that a stop may abandon: a
    buffered read would hold ``sys.stdin``'s lock in that thread, and the
    interpreter aborts when it finds the lock taken at exit.
    """
    import trio

    fd = sys.stdin.fileno()
    pending = b""
    while chunk := await trio.to_thread.run_sync(os.read, fd, 65536, abandon_on_cancel=True):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield line + b"\n"
    if pending:
        yield pending


async def cut(*streams: trio.abc.AsyncResource) -> None:
    """Close every one of ``streams`` so that its peer sees a failure, even while cancelled.

    :func:`~toytls.streams.splice.abort` for each (a reset for TCP, no
    close_notify for toytls), under a shield: a closing stream's checkpoint
    would otherwise re-raise the stop's cancellation and leave the next
    stream open, to be closed cleanly later by mistake.
    """
    import trio

    from ..streams.splice import abort

    with trio.CancelScope(shield=True):
        for stream in streams:
            await abort(stream)


def fail(message: str, status: int = EXIT_FAILED, lang: str = "en") -> int:
    """Say ``toytls: message`` on stderr, uncoloured, and return ``status``.

    For failures before a command has a :class:`~.console.Console`, or
    outside one (the demo's); ``lang`` picks the prefix's punctuation.
    """
    from ..story.escape import printable
    from .status_texts import status_text

    print(status_text("error_prefix", lang) + printable(message), file=sys.stderr)
    return status


def usage_error_text(exc: BaseException, lang: str = "en") -> str:
    """One line for a bad file or value given on the command line, in ``lang``."""
    from ..story.error_texts import describe_error

    return describe_error(exc, lang)


def stop_status(signum: int) -> int:
    """The exit status of a command stopped by signal ``signum``: 128 + its number."""
    return 128 + signum


def host_port(host: str, port: int) -> str:
    """``host:port``, with an IPv6 address in brackets (``[::1]:4433``)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def peer_of(tcp: trio.SocketStream) -> str:
    """``host:port`` of the other end, or ``?`` if the socket is already gone."""
    try:
        host, port = tcp.socket.getpeername()[:2]
    except OSError:
        return "?"
    return host_port(host, port)


def announce_listening(
    console: Console,
    listeners: Sequence[trio.SocketListener],
    task_status: trio.TaskStatus[int],
    line: str,
    **fields: object,
) -> None:
    """Say where a listening command (server, proxy, tunnel) listens.

    Prints ``line`` with ``{address}`` replaced by the bound HOST:PORT,
    records the JSON ``listening`` event with the real port and ``fields``
    (tools and tests wait for it, as the first line, to learn a port-0
    port), and reports that port to ``task_status``.
    """
    host, port = listeners[0].socket.getsockname()[:2]
    console.line(line.replace("{address}", host_port(host, port)), style="bold")
    console.record("listening", host=host, port=port, **fields)
    task_status.started(port)


def serve_until_stopped(
    serve: Callable[..., Awaitable[object]],
    *args: object,
    console: Console,
    address: str,
    what: str,
) -> int:
    """Run a listening command (server, proxy, tunnel) until a signal; its exit status.

    A socket that cannot be opened ("address in use") is one line and
    status 1; a signal stops it with 128 + its number (130 for Ctrl-C, 143
    for SIGTERM), once every connection has been closed or cut as the
    command's rule says. ``what`` ("server", "tunnel" or "proxy") names the
    command in its last line.
    """
    import trio

    from .status_texts import listen_error, status_text

    try:
        signum = trio.run(until_interrupted, serve, *args)
    except OSError as exc:
        why = listen_error(exc, console.lang)
        console.error(status_text("cannot_listen", console.lang, address=address, why=why))
        return EXIT_FAILED
    status = EXIT_OK if signum is None else stop_status(signum)
    console.line(status_text(f"stopped_{what}", console.lang))
    console.record("stopped", exit=status)
    return status
