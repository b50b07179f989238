"""The flood run: many key exchanges at once while one connection keeps echoing."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import trio

import toytls
from toytls.core.connection import Connection

from .common import (
    SERVER_NAME,
    baseline,
    connect,
    count_fds,
    describe_error,
    echo,
    living_tasks,
    serving,
)

# -------------------------------------------------------------------- flood


def key_exchange_replay(server_context: toytls.Context, client_context: toytls.Context) -> bytes:
    """ClientHello + ClientKeyExchange + {Finished}, recorded once in memory.

    Replayed to a server with the same key, it makes the server decrypt the
    secret (the RSA work) and then fail the Finished with bad_record_mac.
    """
    client = Connection(client_context.client_config(SERVER_NAME))
    server = Connection(server_context.server_config())
    client.initiate()
    hello = client.data_to_send()
    server.receive_data(hello)
    client.receive_data(server.data_to_send())
    return hello + client.data_to_send()


@dataclass(frozen=True, kw_only=True, slots=True)
class FloodReport:
    """The outcome of :func:`run_flood`; times in seconds."""

    key_exchanges: int
    handshake_workers: int
    server_bad_record_mac: int
    server_other_failures: int
    flooders_answered: int
    flood_s: float
    echo_round_trips_during_flood: int
    echo_longest_pause_s: float
    echo_errors: int
    error_samples: tuple[str, ...]
    fds_before: int
    fds_after: int
    tasks_before: int
    tasks_after: int


@dataclass
class _Echoes:
    during: int = 0
    longest_pause: float = 0.0
    errors: list[str] = field(default_factory=list)


async def _echo_until(stream: toytls.ToyTLSStream, done: trio.Event, echoes: _Echoes) -> None:
    last = trio.current_time()
    try:
        while not done.is_set():
            message = os.urandom(1024)
            await stream.send_all(message)
            reply = b""
            while len(reply) < len(message):
                chunk = await stream.receive_some()
                if not chunk:
                    break
                reply += chunk
            if reply != message:
                echoes.errors.append(f"echo came back as {len(reply)} different bytes")
            now = trio.current_time()
            echoes.during += 1
            echoes.longest_pause = max(echoes.longest_pause, now - last)
            last = now
    except trio.BrokenResourceError as exc:
        echoes.errors.append(describe_error(exc))


async def _flooder(port: int, replay: bytes, answered: list[int]) -> None:
    tcp = await trio.open_tcp_stream("127.0.0.1", port)
    async with tcp:
        received = 0
        try:
            await tcp.send_all(replay)
            while data := await tcp.receive_some(65536):
                received += len(data)
        except trio.BrokenResourceError:
            pass
        answered.append(received)


async def run_flood(
    server_context: toytls.Context,
    client_context: toytls.Context,
    *,
    key_exchanges: int,
    timeout: float = 600.0,
) -> FloodReport:
    """Flood ``key_exchanges`` RSA key exchanges past one echoing connection."""
    fds_before, tasks_before = await baseline()
    replay = key_exchange_replay(server_context, client_context)
    echoes = _Echoes()
    answered: list[int] = []
    with trio.fail_after(timeout):
        async with serving(server_context, echo) as server:
            stream = await connect(server.port, client_context)
            done = trio.Event()
            async with stream, trio.open_nursery() as nursery:
                await stream.send_all(b"warm up")
                await stream.receive_some()
                nursery.start_soon(_echo_until, stream, done, echoes)
                start = trio.current_time()
                async with trio.open_nursery() as flood:
                    for _ in range(key_exchanges):
                        flood.start_soon(_flooder, server.port, replay, answered)
                    while server.ended < key_exchanges:
                        await trio.sleep(0.005)
                flood_s = trio.current_time() - start
                done.set()
            await server.wait_ended(key_exchanges + 1)
    causes = [exc.__cause__ for exc in server.failures]
    bad_mac = [
        c
        for c in causes
        if isinstance(c, toytls.ToyTLSError)
        and c.alert == toytls.AlertDescription.BAD_RECORD_MAC
        and not c.from_peer
    ]
    return FloodReport(
        key_exchanges=key_exchanges,
        handshake_workers=server_context.handshake_workers,
        server_bad_record_mac=len(bad_mac),
        server_other_failures=len(causes) - len(bad_mac),
        flooders_answered=sum(1 for n in answered if n > 0),
        flood_s=round(flood_s, 3),
        echo_round_trips_during_flood=echoes.during,
        echo_longest_pause_s=round(echoes.longest_pause, 4),
        echo_errors=len(echoes.errors),
        error_samples=tuple(echoes.errors[:5]),
        fds_before=fds_before,
        fds_after=count_fds(),
        tasks_before=tasks_before,
        tasks_after=living_tasks(),
    )
