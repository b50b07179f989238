"""Where a server's RSA work runs: inline, or in a worker thread.

A server stream feeds its handshake bytes through :func:`receive_handshake`,
since any of them may hold a ClientKeyExchange and so the RSA decryption of
key X, which takes most of a millisecond and releases the GIL. One
:class:`KeyExchangeLoad` per server :class:`~toytls.streams.context.Context`
(kept on the context) counts the key exchanges under way and bounds how
many run in threads at once.

Only the RSA decryption goes to the thread, not the handshake step around
it: that step is Python, and Python in a worker thread fights the event
loop for the GIL (measured: 8 concurrent handshakes ran at 547/s with the
whole step in a thread, 877/s all inline). The stream finds the encrypted
secret in the bytes (:func:`~toytls.core.messages.client_key_exchange_in`),
has it decrypted in a thread, and the connection's
:func:`decrypt_precomputed` then takes that result instead of decrypting.

The thread is started with trio's low-level ``start_thread_soon``, not
``trio.to_thread.run_sync``: a key exchange goes to a thread only when a
worker is free (else it runs inline), so it never waits for a
``CapacityLimiter`` token, and taking one is a schedule point. Under load
that schedule point cost a whole pass over the other tasks before the
thread even started (measured, 8 concurrent handshakes: a hop of 2.8 ms
around 0.35 ms of RSA, against 1.9-2.4 ms without it, and about 5% more
handshakes per second). As with ``run_sync``, a cancelled task waits for
its thread to finish.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import trio
from cryptography.hazmat.primitives.asymmetric import rsa

from ..core import events as ev
from ..core.config import ServerConfig
from ..core.connection import Connection
from ..core.constants import SECRET_SIZE
from ..core.keyschedule import decrypt_secret
from ..core.messages import client_key_exchange_in

if TYPE_CHECKING:
    import outcome

#: Secrets decrypted in a worker thread, by encrypted secret, for the one
#: ``receive_data`` call that follows: (the key used, the secret or b"").
_DECRYPTED: dict[bytes, tuple[rsa.RSAPrivateKey, bytes]] = {}


class KeyExchangeLoad:
    """How busy one server context is with key exchanges right now.

    Args:
        workers: How many key exchanges may run in worker threads at once.
    """

    __slots__ = ("pending", "workers")

    def __init__(self, workers: int) -> None:
        #: handshake steps being processed right now
        self.pending = 0
        #: at most this many RSA decryptions in worker threads at once
        self.workers = workers


def decrypt_precomputed(key: rsa.RSAPrivateKey, encrypted: bytes, fallback: bytes) -> bytes:
    """:func:`~toytls.core.keyschedule.decrypt_secret`, taking a thread's result if there is one.

    The same contract: the secret if it decrypts to 32 bytes, else ``fallback``.
    """
    found = _DECRYPTED.get(encrypted)
    if found is None or found[0] is not key:
        return decrypt_secret(key, encrypted, fallback)
    secret = found[1]
    return secret if len(secret) == SECRET_SIZE else fallback


def _decrypt_or_empty(key: rsa.RSAPrivateKey, encrypted: bytes) -> bytes:
    return decrypt_secret(key, encrypted, b"")  # b"" (never 32 bytes) for "failed"


async def receive_handshake(conn: Connection, load: KeyExchangeLoad, data: bytes) -> list[ev.Event]:
    """Feed server handshake bytes to ``conn``, which may hold ClientKeyExchange.

    When anything else is waiting — another key exchange under way, or any
    task ready to run on this event loop — the RSA decryption runs in a
    worker thread, so the event loop stays free for the established
    connections and two decryptions use two cores. When nothing waits it
    runs inline: a thread hop would only add latency. When every worker is
    busy it also runs inline, rather than queueing for a worker. The decision looks at what
    is actually waiting, not at a clock, so back-to-back handshakes from
    one client stay inline.

    Returns:
        The connection's events, as :meth:`Connection.receive_data` returns them.

    Raises:
        ToyTLSError: Only if the connection had already failed.
    """
    # Every worker busy: decrypt here rather than queue for one. The loop
    # pays 0.3 ms, but a queued thread hop costs it more (measured).
    busy = load.pending >= load.workers
    encrypted = None if busy else client_key_exchange_in(data)
    # Only bytes that hold a key exchange ask the scheduler whether anything
    # waits (about 2 µs): a ClientHello never goes to a thread.
    if encrypted is None:
        return conn.receive_data(data)
    if load.pending == 0 and trio.lowlevel.current_statistics().tasks_runnable == 0:
        return conn.receive_data(data)  # alone: a thread hop would only add latency
    config = conn.config
    assert isinstance(config, ServerConfig)  # only server streams come here
    key = config.private_key
    load.pending += 1  # no await since the check: never more than load.workers
    try:
        secret = await _in_thread(key, encrypted)
    finally:
        load.pending -= 1
    _DECRYPTED[encrypted] = (key, secret)
    try:
        return conn.receive_data(data)
    finally:
        del _DECRYPTED[encrypted]


async def _in_thread(key: rsa.RSAPrivateKey, encrypted: bytes) -> bytes:
    """:func:`_decrypt_or_empty` in a worker thread; waits for it even if cancelled."""
    task = trio.lowlevel.current_task()
    token = trio.lowlevel.current_trio_token()

    def deliver(result: outcome.Outcome[bytes]) -> None:  # in the worker thread
        token.run_sync_soon(trio.lowlevel.reschedule, task, result)

    trio.lowlevel.start_thread_soon(lambda: _decrypt_or_empty(key, encrypted), deliver)
    secret: bytes = await trio.lowlevel.wait_task_rescheduled(
        lambda _: trio.lowlevel.Abort.FAILED  # the thread cannot be stopped
    )
    return secret
