"""Where a server's RSA work runs: inline, or in a worker thread.

A server stream feeds its handshake bytes through :func:`receive_handshake`,
since any of them may hold a ClientKeyExchange and so the RSA decryption of
key X, which takes most of a millisecond and releases the GIL. One
:class:`KeyExchangeLoad` per server :class:`~toytls.streams.context.Context`
(kept on the context) counts the key exchanges under way and holds the
limiter that bounds how many run in threads at once.
"""

from __future__ import annotations

import math

import trio

from ..core import events as ev
from ..core.connection import Connection

#: Handshake work counts as "alone" (done inline) only if no key exchange
#: finished this recently: in a flood, many arrive in one scheduler batch,
#: and doing them all inline would hold the event loop for the whole batch.
KEY_EXCHANGE_QUIET = 0.002


class KeyExchangeLoad:
    """How busy one server context is with key exchanges right now.

    Args:
        workers: How many key exchanges may run in worker threads at once.
    """

    __slots__ = ("last_done", "limiter", "pending")

    def __init__(self, workers: int) -> None:
        #: handshake steps being processed right now
        self.pending = 0
        #: when the last key exchange (the RSA work) finished
        self.last_done = -math.inf
        #: shared by every server stream of the context
        self.limiter = trio.CapacityLimiter(workers)


async def receive_handshake(conn: Connection, load: KeyExchangeLoad, data: bytes) -> list[ev.Event]:
    """Feed server handshake bytes to ``conn``, which may hold ClientKeyExchange.

    When other key exchanges are under way the work runs in a worker thread,
    a few at a time, so a flood of them neither blocks the event loop (and
    the established connections on it) nor queues without bound, and two
    can use two cores. Alone, it runs inline: a thread hop would only add
    latency.

    Returns:
        The connection's events, as :meth:`Connection.receive_data` returns them.

    Raises:
        ToyTLSError: Only if the connection had already failed.
    """
    alone = load.pending == 0 and trio.current_time() - load.last_done > KEY_EXCHANGE_QUIET
    load.pending += 1
    try:
        if alone:
            events = conn.receive_data(data)
        else:
            events = await trio.to_thread.run_sync(conn.receive_data, data, limiter=load.limiter)
    finally:
        load.pending -= 1
    if any(isinstance(event, ev.KeysDerived) for event in events):
        load.last_done = trio.current_time()  # this one did the RSA work
    return events
