"""Where a server's RSA work runs: inline, or in a worker thread.

A server stream feeds its handshake bytes through :func:`receive_handshake`,
since any of them may hold a ClientKeyExchange and so the RSA decryption of
key X, which takes most of a millisecond and releases the GIL. One
:class:`KeyExchangeLoad` per server :class:`~toytls.streams.context.Context`
(kept on the context) counts the key exchanges under way and holds the
limiter that bounds how many run in threads at once.
"""

from __future__ import annotations

import trio

from ..core import events as ev
from ..core.connection import Connection


class KeyExchangeLoad:
    """How busy one server context is with key exchanges right now.

    Args:
        workers: How many key exchanges may run in worker threads at once.
    """

    __slots__ = ("limiter", "pending")

    def __init__(self, workers: int) -> None:
        #: handshake steps being processed right now
        self.pending = 0
        #: shared by every server stream of the context
        self.limiter = trio.CapacityLimiter(workers)


async def receive_handshake(conn: Connection, load: KeyExchangeLoad, data: bytes) -> list[ev.Event]:
    """Feed server handshake bytes to ``conn``, which may hold ClientKeyExchange.

    When anything else is waiting — another key exchange under way, or any
    task ready to run on this event loop — the work runs in a worker thread,
    a few at a time, so a flood of handshakes neither blocks the event loop
    (and the established connections on it) nor queues without bound, and
    two can use two cores. When nothing waits it runs inline: a thread hop
    would only add latency. The decision looks at what is actually waiting,
    not at a clock, so back-to-back handshakes from one client stay inline.

    Returns:
        The connection's events, as :meth:`Connection.receive_data` returns them.

    Raises:
        ToyTLSError: Only if the connection had already failed.
    """
    alone = load.pending == 0 and trio.lowlevel.current_statistics().tasks_runnable == 0
    load.pending += 1
    try:
        if alone:
            events = conn.receive_data(data)
        else:
            events = await trio.to_thread.run_sync(conn.receive_data, data, limiter=load.limiter)
    finally:
        load.pending -= 1
    return events
