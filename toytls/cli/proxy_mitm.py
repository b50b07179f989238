"""The proxy's man-in-the-middle modes: answer the client with a forged chain.

The proxy reads the client's ClientHello, connects to the real server as
that name (to learn the real chain), and answers the client as a toytls
server with the chain :func:`~toytls.attacker.modes.forged_chain` makes and
the attacker's own key pair. If the client accepts, the attacker holds key X
and relays — and reads — everything; if not, the outcome says why.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import trio

from ..attacker import outcomes as out
from ..attacker.modes import forged_chain
from ..attacker.policy import first_client_hello, is_client_key_exchange
from ..core import events as ev
from ..core.constants import MAX_CIPHERTEXT
from ..core.errors import ToyTLSError
from ..core.keyschedule import session_key_fingerprint
from ..core.messages import ClientHello
from ..core.records import RecordReader
from ..streams.context import Context
from ..streams.prefixed import PrefixedStream
from ..streams.stream import ToyTLSInsecureWarning, ToyTLSStream
from .proxy_link import Link, show_plaintext

#: Bytes read at a time while waiting for the ClientHello.
_CHUNK = 65536


async def mitm(link: Link, client: trio.SocketStream, server: trio.SocketStream) -> None:
    """Attack one connection; returns when it is over (or the client gave up)."""
    assert link.kit is not None
    hello = await _read_client_hello(link, client)
    if hello is None:
        return
    received, client_hello = hello
    name = client_hello.server_name
    link.report(out.ClientHelloSeen(connection=link.number, server_name=name))
    upstream_context = Context()
    upstream_context.verify = False
    upstream = ToyTLSStream(
        server,
        upstream_context,
        server_hostname=name,
        event_handler=_narrate(link, "proxy-upstream", "client"),
    )
    with warnings.catch_warnings():
        # The attacker's own "no verification" warning: he means it.
        warnings.simplefilter("ignore", ToyTLSInsecureWarning)
        await upstream.do_handshake()
    chain = forged_chain(link.mode, link.kit, upstream.session.certificate_chain, name)
    link.report(out.ChainForged(connection=link.number, mode=link.mode, certificates=len(chain)))
    victim, keys = await _pose_as_server(link, client, received, chain)
    if victim is None or keys is None:
        await upstream.aclose()
        return
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
    async with victim, upstream, trio.open_nursery() as nursery:
        nursery.start_soon(_pipe, link, out.Direction.TO_SERVER, victim, upstream)
        nursery.start_soon(_pipe, link, out.Direction.TO_CLIENT, upstream, victim)


async def _pose_as_server(
    link: Link, client: trio.SocketStream, received: bytes, chain: tuple[bytes, ...]
) -> tuple[ToyTLSStream | None, ev.KeysDerived | None]:
    """The handshake with the client, as the server, with the forged chain.

    Returns:
        The stream and the keys it derived, or (None, None) after reporting
        :class:`~toytls.attacker.outcomes.AttackFailed`.
    """
    assert link.kit is not None
    keys: list[ev.KeysDerived] = []
    saw_key_exchange = False
    narration = _narrate(link, "proxy-client", "server")

    def on_event(event: ev.Event) -> None:
        nonlocal saw_key_exchange
        if isinstance(event, ev.KeysDerived):
            keys.append(event)
        saw_key_exchange = saw_key_exchange or is_client_key_exchange(event)
        narration(event)

    context = Context(server_side=True)
    context.certificate_chain = chain
    context.private_key = link.kit.key
    victim = ToyTLSStream(
        PrefixedStream(client, received), context, server_side=True, event_handler=on_event
    )
    try:
        await victim.do_handshake()
    except trio.BrokenResourceError as exc:
        link.report(_failure(link, exc.__cause__, saw_key_exchange))
        return None, None
    return victim, keys[0]


def _failure(link: Link, cause: BaseException | None, saw_key_exchange: bool) -> out.AttackFailed:
    """Why the client did not accept the forged chain: its alert, or what broke."""
    alert = None
    if isinstance(cause, ToyTLSError) and cause.from_peer and cause.alert is not None:
        alert = cause.alert
    return out.AttackFailed(
        connection=link.number,
        mode=link.mode,
        alert=alert,
        detail=str(cause) if cause else "the connection broke",
        client_key_exchange_seen=saw_key_exchange,
    )


def _narrate(link: Link, side: str, role: str) -> Callable[[ev.Event], None]:
    """Show one of the two handshakes' events, at -vv, with --hexdump, or in JSON."""
    console = link.console

    def handler(event: ev.Event) -> None:
        if console.json_mode or console.level >= 2 or console.hexdump:
            console.event(event, side=side, prefix=f"{link.prefix}[{side}] ", role=role)

    return handler


async def _read_client_hello(
    link: Link, client: trio.SocketStream
) -> tuple[bytes, ClientHello] | None:
    """Read up to the first record; the bytes read and the ClientHello it holds.

    Returns:
        None if the client closed first or did not start with a ClientHello
        (reported as :class:`~toytls.attacker.outcomes.NoClientHello`).
    """
    reader = RecordReader()
    received = b""
    while True:
        data = await client.receive_some(_CHUNK)
        if not data:
            return None
        received += data
        reader.feed(data)
        try:
            record = reader.next_record(MAX_CIPHERTEXT)
            if record is None:
                continue
            hello = first_client_hello(record)
        except ToyTLSError as exc:
            link.report(out.NoClientHello(connection=link.number, error=str(exc)))
            return None
        if hello is None:
            link.report(out.NoClientHello(connection=link.number, error=None))
            return None
        return received, hello


async def _pipe(
    link: Link,
    direction: out.Direction,
    source: trio.abc.HalfCloseableStream,
    sink: trio.abc.HalfCloseableStream,
) -> None:
    """Copy one direction of a broken connection, reading everything on the way."""
    try:
        while data := await source.receive_some():
            show_plaintext(link, direction, data, stolen=True)
            await sink.send_all(data)
        await sink.send_eof()
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
