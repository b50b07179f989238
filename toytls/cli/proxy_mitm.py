"""The proxy's man-in-the-middle modes: 偷梁换柱, the article's way.

The proxy passes the client's ClientHello to the real server, shows the
client the chain :func:`~toytls.attacker.modes.forged_chain` makes (with the
attacker's key M+ in it), and when the client accepts and sends key X, opens
X with M−, locks the same X with the server's real B+ and passes it on —
all worked out by :class:`~toytls.attacker.key_x_relay.KeyXRelay`; this
module only moves its bytes and reports what happened. If the client
refuses, the outcome says why, and the server's half-done handshake ends.
"""

from __future__ import annotations

from collections.abc import Callable

import trio

from ..attacker import outcomes as out
from ..attacker.key_x_relay import KeyXRelay, NotAClientHello, Step
from ..attacker.modes import forged_chain
from ..attacker.policy import is_client_key_exchange
from ..core import events as ev
from ..core.constants import AlertDescription
from ..core.errors import ToyTLSError
from ..core.keyschedule import session_key_fingerprint
from .proxy_link import Link, show_plaintext
from .proxy_log_texts import LEG

#: Bytes read at a time from either side.
_CHUNK = 65536
#: Chunks queued for one side before the reader waits (about 4 MiB).
_QUEUED = 64
#: How long the last bytes may take to leave once the connection is over.
_FLUSH_TIMEOUT = 1.0


class _Watch:
    """Turns the relay's steps into outcomes and narration, and knows when it is over."""

    def __init__(self, link: Link, relay: KeyXRelay) -> None:
        self.link = link
        self.relay = relay
        #: set when the attack is over: a leg failed, or both closed
        self.done = trio.Event()
        self._hello_seen = False
        self._forged = False
        self._keys: ev.KeysDerived | None = None
        self._server_keys: ev.KeysDerived | None = None
        self._key_exchange_seen = False
        #: the client's leg failed (told as the attack's failure)
        self._client_failed = False
        #: the server's leg failed, and that was told
        self._server_told = False
        self._client_side = _narrate(link, "proxy-client")
        self._server_side = _narrate(link, "proxy-upstream")

    def step(self, step: Step) -> None:
        link, relay = self.link, self.relay
        if relay.upstream is not None and not self._hello_seen:
            self._hello_seen = True
            name = getattr(relay.upstream.config, "server_name", "")
            link.report(out.ClientHelloSeen(connection=link.number, server_name=name))
        if relay.victim is not None and not self._forged:
            self._forged = True
            chain = getattr(relay.victim.config, "certificate_chain", ())
            link.report(
                out.ChainForged(connection=link.number, mode=link.mode, certificates=len(chain))
            )
        for event in step.client_leg:
            self._client_side(event)
            self._on_client_leg(event)
        for event in step.server_leg:
            self._server_side(event)
            self._on_server_leg(event)
        victim, upstream = relay.victim, relay.upstream
        if victim is not None and upstream is not None and victim.closed and upstream.closed:
            self.done.set()

    def _on_client_leg(self, event: ev.Event) -> None:
        link = self.link
        self._key_exchange_seen = self._key_exchange_seen or is_client_key_exchange(event)
        if isinstance(event, ev.KeysDerived):
            self._keys = event
        elif isinstance(event, ev.HandshakeComplete) and self._keys is not None:
            keys = self._keys
            link.report(
                out.AttackSucceeded(
                    connection=link.number,
                    mode=link.mode,
                    secret=keys.secret,
                    key_x_fingerprint=session_key_fingerprint(keys.secret),
                    client_write_key=keys.schedule.client_write_key,
                    server_write_key=keys.schedule.server_write_key,
                )
            )
        elif isinstance(event, ev.ApplicationData):
            show_plaintext(link, out.Direction.TO_SERVER, event.data, stolen=True)
        elif isinstance(event, ev.ConnectionFailed):
            self.done.set()
            self._client_failed = True
            if self.relay.victim is not None and self.relay.victim.session is None:
                link.report(_failure(link, event.error, self._key_exchange_seen))

    def _on_server_leg(self, event: ev.Event) -> None:
        link = self.link
        if isinstance(event, ev.KeysDerived):
            self._server_keys = event
        elif isinstance(event, ev.HandshakeComplete) and self._keys and self._server_keys:
            link.report(
                out.KeyXPassedOn(
                    connection=link.number,
                    key_x_fingerprint=event.session.session_key_fingerprint,
                    client_leg_key=self._keys.schedule.client_write_key,
                    server_leg_key=self._server_keys.schedule.client_write_key,
                )
            )
        elif isinstance(event, ev.ApplicationData):
            show_plaintext(link, out.Direction.TO_CLIENT, event.data, stolen=True)
        elif isinstance(event, ev.ConnectionFailed):
            error = event.error
            self.server_failed(error.alert, error.from_peer, str(error))

    def transport_broke(self, server_side: bool, exc: Exception) -> None:
        """A socket broke: a reset from the real server mid-attack is its leg's failure.

        The client's side is told by its leg; a break after the end (the
        last flush) is not a failure of anyone's.
        """
        upstream = self.relay.upstream
        ended = self.done.is_set() or (upstream is not None and upstream.closed)
        if server_side and not ended:
            self.server_failed(None, True, str(exc.__cause__ or exc))
        self.done.set()

    def server_failed(
        self, alert: AlertDescription | int | None, from_peer: bool, detail: str
    ) -> None:
        """The real server's side broke: tell it once, unless the client's failed first."""
        self.done.set()
        if self._client_failed or self._server_told:
            return
        self._server_told = True
        number = self.link.number
        self.link.report(
            out.ServerLegFailed(connection=number, alert=alert, from_peer=from_peer, detail=detail)
        )


async def mitm(
    link: Link, client: trio.abc.HalfCloseableStream, server: trio.abc.HalfCloseableStream
) -> None:
    """Attack one connection; returns when it is over (or the client gave up)."""
    kit, mode = link.kit, link.mode
    assert kit is not None
    relay = KeyXRelay(
        forge=lambda chain, name: forged_chain(mode, kit, chain, name), attacker_key=kit.key
    )
    watch = _Watch(link, relay)
    to_client, for_client = trio.open_memory_channel[bytes](_QUEUED)
    to_server, for_server = trio.open_memory_channel[bytes](_QUEUED)

    async def deliver(step: Step) -> None:
        # The relay sealed these in order; each channel keeps that order.
        watch.step(step)
        if step.to_client:
            await to_client.send(step.to_client)
        if step.to_server:
            await to_server.send(step.to_server)

    readers_left = [2]

    async def read(source: trio.abc.HalfCloseableStream, feed: Callable[[bytes], Step]) -> None:
        try:
            while data := bytes(await source.receive_some(_CHUNK)):
                await deliver(feed(data))
            await deliver(feed(b""))  # the end of that side, for its leg to judge
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            watch.transport_broke(source is server, exc)
        except (NotAClientHello, ToyTLSError) as exc:
            link.report(out.NoClientHello(connection=link.number, error=_no_hello(exc)))
            watch.done.set()
        finally:
            readers_left[0] -= 1
            if not readers_left[0]:
                watch.done.set()  # both sides ended: nothing more can happen

    async def write(
        sink: trio.abc.HalfCloseableStream, queued: trio.MemoryReceiveChannel[bytes]
    ) -> None:
        try:
            async for data in queued:
                await sink.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            watch.transport_broke(sink is server, exc)

    async with trio.open_nursery() as writers:
        writers.start_soon(write, client, for_client)
        writers.start_soon(write, server, for_server)
        async with trio.open_nursery() as readers:
            readers.start_soon(read, client, relay.client_data)
            readers.start_soon(read, server, relay.server_data)
            await watch.done.wait()
            readers.cancel_scope.cancel()
        # What the last step queued (an alert, a close_notify) may still leave.
        writers.cancel_scope.deadline = trio.current_time() + _FLUSH_TIMEOUT
        await to_client.aclose()
        await to_server.aclose()


def _no_hello(exc: Exception) -> str | None:
    return str(exc) if isinstance(exc, ToyTLSError) else None


def _failure(link: Link, error: ToyTLSError, saw_key_exchange: bool) -> out.AttackFailed:
    """Why the client did not accept the forged chain: its alert, or what broke."""
    return out.AttackFailed(
        connection=link.number,
        mode=link.mode,
        alert=error.alert if error.from_peer else None,
        detail=str(error),
        client_key_exchange_seen=saw_key_exchange,
        sent_alert=None if error.from_peer else error.alert,
    )


def _narrate(link: Link, side: str) -> Callable[[ev.Event], None]:
    """Show one of the two legs' events, at -v and -vv, with --hexdump, or in JSON.

    Told as the attacker's: he plays server to the client with his own pair
    M+/M−, and client to the real server, whose key is B+.
    """
    console = link.console
    prefix = f"{link.prefix}[{LEG[side][console.lang == 'zh']}] "

    def handler(event: ev.Event) -> None:
        if console.json_mode or console.level >= 2 or console.hexdump:
            console.event(event, side=side, prefix=prefix, role="proxy")

    return handler
