"""Ending a stream cleanly even while the caller is being cancelled.

When a program is stopped (Ctrl-C, SIGTERM) the tasks that hold its
connections are cancelled, and a plain ``aclose()`` in a cancelled scope
sends nothing: the peer sees a cut. close_notify means "I sent everything I
meant to", and an endpoint that is stopping has done exactly that, so it may
still say so — within a short bound, because a peer that does not read must
not hold the exit.
"""

from __future__ import annotations

import trio

#: How long a stopping endpoint waits to send its close_notify.
CLOSE_TIMEOUT = 1.0


async def close_cleanly(stream: trio.abc.AsyncResource, timeout: float = CLOSE_TIMEOUT) -> bool:
    """Close ``stream`` gracefully, shielded from cancellation, within ``timeout``.

    For a :class:`~toytls.streams.stream.ToyTLSStream` that means close_notify
    (after the handshake, if it had not run) and then the transport. If the
    bound runs out, or closing fails, the transport is closed forcefully.

    Returns:
        True if the graceful close completed, False if it was cut short or
        failed (the stream is closed either way).
    """
    with trio.CancelScope(shield=True) as scope:
        scope.deadline = trio.current_time() + timeout
        try:
            await stream.aclose()
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return False
    return not scope.cancelled_caught
