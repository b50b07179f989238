"""Join two streams both ways, the heart of a tunnel (trio layer).

:func:`splice` copies each direction until its source ends, passes the
end on as a half-close (``send_eof``: a TCP FIN, or toytls's close_notify),
and lets the other direction carry on — so "I have finished sending, now
answer me" works across the tunnel just as it does without it.

Only one chunk per direction is in flight: a slow reader slows its writer
down through ordinary TCP backpressure, and nothing is buffered without
bound.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

import trio

#: Bytes read at a time: one toytls record, one comfortable TCP read.
CHUNK = 65536


@dataclass
class SpliceResult:
    """What went through a splice, and how it ended."""

    #: bytes copied from ``a`` to ``b``
    a_to_b: int = 0
    #: bytes copied from ``b`` to ``a``
    b_to_a: int = 0
    #: the first failure (``trio.BrokenResourceError``, with the toytls
    #: error as its cause when there is one), or None if both ends finished
    error: BaseException | None = None
    #: which side the failure came from: "a", "b", or None
    failed_side: str | None = None


async def splice(a: trio.abc.HalfCloseableStream, b: trio.abc.HalfCloseableStream) -> SpliceResult:
    """Copy ``a`` to ``b`` and ``b`` to ``a`` until both directions end.

    A direction ends when its source reports end of data; the end is then
    passed on with ``send_eof``. If either stream breaks, both directions
    stop at once (a broken tunnel is not half-open) and the failure is
    returned, not raised. The streams are not closed: the caller owns them.
    """
    result = SpliceResult()

    def failed(exc: BaseException, side: str) -> None:
        if result.error is None:
            result.error = exc
            result.failed_side = side
        nursery.cancel_scope.cancel()

    async def pump(
        source_side: str, source: trio.abc.Stream, sink: trio.abc.HalfCloseableStream
    ) -> None:
        sink_side = "b" if source_side == "a" else "a"
        while True:
            try:
                data = await source.receive_some(CHUNK)
            except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                failed(exc, source_side)
                return
            try:
                if not data:
                    await sink.send_eof()
                    return
                await sink.send_all(data)
            except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                failed(exc, sink_side)
                return
            if source_side == "a":
                result.a_to_b += len(data)
            else:
                result.b_to_a += len(data)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(pump, "a", a, b)
        nursery.start_soon(pump, "b", b, a)
    return result


async def abort(stream: trio.abc.AsyncResource) -> None:
    """Close ``stream`` so that its peer sees an error, not a clean end.

    When one side of a tunnel breaks, closing the other side cleanly would
    tell its peer "that was all the data" — a silent truncation. Instead a
    TCP stream is reset (RST) — also through a transparent wrapper that
    keeps it as ``.transport`` (a wiretap, the proxy's capture) — and any
    other stream (a toytls stream) is closed without its closing message,
    which its peer reports as truncation.
    """
    tcp = _tcp_under(stream)
    if tcp is not None:
        try:
            # SO_LINGER on, with a zero timeout: close() sends a reset.
            tcp.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass  # already gone: closing is all that is left
    # Closing under an already-cancelled scope sends nothing more.
    await trio.aclose_forcefully(stream)


def _tcp_under(stream: object) -> trio.SocketStream | None:
    """``stream`` itself if it is TCP, or the TCP stream under its ``.transport`` wrappers."""
    for _ in range(8):  # wrappers of wrappers, but never a cycle
        if isinstance(stream, trio.SocketStream):
            return stream
        stream = getattr(stream, "transport", None)
        if stream is None:
            return None
    return None
