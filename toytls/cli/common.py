"""The ``toytls`` subcommands. Part of the command-line layer: they print.

Each module has one ``run(args, console) -> int`` that returns the exit
status; :mod:`toytls.cli.main` parses the flags and calls it.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
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
EXIT_INTERRUPTED = 130

#: Seconds to open a TCP connection onwards (tunnel, server --forward).
CONNECT_TIMEOUT = 10.0


async def until_interrupted(main: Callable[..., Awaitable[object]], *args: object) -> bool:
    """Run ``main(*args)`` until it returns or Ctrl-C / SIGTERM arrives.

    A signal cancels ``main`` cleanly (its ``finally`` blocks and stream
    closes run) instead of raising KeyboardInterrupt somewhere inside it.
    An exception from ``main`` comes out as itself, not in a group.

    Returns:
        True if a signal stopped it.
    """
    import trio

    interrupted = False
    failure: BaseException | None = None
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:

            async def watch() -> None:
                nonlocal interrupted
                async for _ in signals:
                    interrupted = True
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


class Unreachable(Exception):
    """A TCP connection onwards could not be opened; the message says why."""


async def open_onwards(host: str, port: int) -> trio.SocketStream:
    """Open a TCP connection onwards (tunnel, server --forward), bounded in time.

    Raises:
        Unreachable: Refused, no route, or no answer within
            :data:`CONNECT_TIMEOUT`; the message reads "cannot reach
            HOST:PORT: why".
    """
    import trio

    try:
        with trio.fail_after(CONNECT_TIMEOUT):
            return await trio.open_tcp_stream(host, port)
    except (OSError, trio.TooSlowError) as exc:
        why = "no answer in time" if isinstance(exc, trio.TooSlowError) else exc.strerror or exc
        raise Unreachable(f"cannot reach {host}:{port}: {why}") from None


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


def fail(message: str, status: int = EXIT_FAILED) -> int:
    """Say ``toytls: message`` on stderr, uncoloured, and return ``status``.

    For failures before a command has a :class:`~.console.Console`, or
    outside one (the demo's).
    """
    print(f"toytls: {message}", file=sys.stderr)
    return status


def usage_error_text(exc: BaseException) -> str:
    """One line for a bad file or value given on the command line."""
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}"
    return str(exc)


def peer_of(tcp: trio.SocketStream) -> str:
    """``host:port`` of the other end, or ``?`` if the socket is already gone."""
    try:
        host, port = tcp.socket.getpeername()[:2]
    except OSError:
        return "?"
    return f"{host}:{port}"


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
    console.line(line.replace("{address}", f"{host}:{port}"), style="bold")
    console.record("listening", host=host, port=port, **fields)
    task_status.started(port)


def serve_until_stopped(
    serve: Callable[..., Awaitable[object]],
    *args: object,
    console: Console,
    address: str,
    what: str,
) -> int:
    """Run a listening command (server, proxy) until Ctrl-C; its exit status.

    A socket that cannot be opened ("address in use") is one line and
    status 1; a signal stops it cleanly with status 0.
    """
    import trio

    try:
        trio.run(until_interrupted, serve, *args)
    except OSError as exc:
        console.error(f"cannot listen on {address}: {exc.strerror or exc}")
        return EXIT_FAILED
    console.line(f"{what} stopped")
    console.record("stopped")
    return EXIT_OK
