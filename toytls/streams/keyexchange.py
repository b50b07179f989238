"""Where a server's RSA work runs: inline, or in a helper process.

A server stream feeds its handshake bytes through :func:`receive_handshake`,
since any of them may hold a ClientKeyExchange and so the RSA decryption of
key X, which takes about 0.3 ms. One :class:`KeyExchangeLoad` per server
:class:`~toytls.streams.context.Context` (kept on the context) counts the
key exchanges under way and bounds how many wait on the helper at once.

When nothing else waits, the decryption runs inline: a hop to another
process only adds latency. When other work waits (another key exchange, or
any task ready to run), it goes to this run's helper process
(:mod:`.rsahelper`), so that the event loop gets on with that work while
the other core decrypts. Only the RSA decryption goes there, not the
handshake step around it: the stream finds the encrypted secret in the
bytes (:func:`~toytls.core.messages.client_key_exchange_in`), has it
decrypted, and the connection's :func:`decrypt_precomputed` then takes that
result instead of decrypting.

Until round 2 of the performance work the decryption went to a worker
thread. A thread never helped under load: :mod:`.rsahelper` says why (the
GIL). With 8 concurrent handshakes, ``scripts/bench.py`` measured the
thread version at 1.56-1.71x ``trio.SSLStream``'s rate over six quiet
runs, and the helper at 2.02-2.14x over six.
"""

from __future__ import annotations

import trio
from cryptography.hazmat.primitives.asymmetric import rsa

from ..core import events as ev
from ..core.config import ServerConfig
from ..core.connection import Connection
from ..core.constants import SECRET_SIZE
from ..core.keyschedule import decrypt_secret
from ..core.messages import client_key_exchange_in
from .rsahelper import rsa_helper

#: Secrets decrypted by the helper, by encrypted secret, for the one
#: ``receive_data`` call that follows: (the key used, the secret or b"").
_DECRYPTED: dict[bytes, tuple[rsa.RSAPrivateKey, bytes]] = {}


class KeyExchangeLoad:
    """How busy one server context is with key exchanges right now.

    Args:
        workers: How many RSA decryptions may wait on the helper at once.
    """

    __slots__ = ("offloaded", "peak", "pending", "workers")

    def __init__(self, workers: int) -> None:
        #: decryptions handed to the helper and not answered yet
        self.pending = 0
        #: at most this many at once (0: every decryption runs inline)
        self.workers = workers
        #: the most that were ever handed over at once
        self.peak = 0
        #: how many the helper has decrypted
        self.offloaded = 0


def decrypt_precomputed(key: rsa.RSAPrivateKey, encrypted: bytes, fallback: bytes) -> bytes:
    """:func:`~toytls.core.keyschedule.decrypt_secret`, taking the helper's result if there is one.

    The same contract: the secret if it decrypts to 32 bytes, else ``fallback``.
    """
    found = _DECRYPTED.get(encrypted)
    if found is None or found[0] is not key:
        return decrypt_secret(key, encrypted, fallback)
    secret = found[1]
    return secret if len(secret) == SECRET_SIZE else fallback


async def receive_handshake(conn: Connection, load: KeyExchangeLoad, data: bytes) -> list[ev.Event]:
    """Feed server handshake bytes to ``conn``, which may hold ClientKeyExchange.

    When anything else is waiting — another key exchange under way, or any
    task ready to run on this event loop — the RSA decryption goes to the
    helper process, so the event loop stays free for that work and the
    decryption uses another core. When nothing waits it runs inline: the
    hop would only add latency. When ``load.workers`` decryptions already
    wait on the helper, or the helper is not ready (starting, or gone), it
    also runs inline. The decision looks at what is actually waiting, not at
    a clock, so back-to-back handshakes from one client stay inline.

    Returns:
        The connection's events, as :meth:`Connection.receive_data` returns them.

    Raises:
        ToyTLSError: Only if the connection had already failed.
    """
    busy = load.pending >= load.workers
    encrypted = None if busy else client_key_exchange_in(data)
    # Only bytes that hold a key exchange ask the scheduler whether anything
    # waits (about 2 µs): a ClientHello never goes to the helper.
    if encrypted is None:
        return conn.receive_data(data)
    if load.pending == 0 and trio.lowlevel.current_statistics().tasks_runnable == 0:
        return conn.receive_data(data)  # alone: a hop would only add latency
    helper = rsa_helper()
    if not helper.ready:  # starting, or gone: inline, as when alone
        return conn.receive_data(data)
    config = conn.config
    assert isinstance(config, ServerConfig)  # only server streams come here
    key = config.private_key
    load.pending += 1  # no await since the check: never more than load.workers
    load.peak = max(load.peak, load.pending)
    try:
        secret = await helper.decrypt(key, encrypted)
    finally:
        load.pending -= 1
    if secret is None:  # the helper could not answer after all
        return conn.receive_data(data)
    load.offloaded += 1
    _DECRYPTED[encrypted] = (key, secret)
    try:
        return conn.receive_data(data)
    finally:
        del _DECRYPTED[encrypted]
