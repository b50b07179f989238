"""The exchange run: many clients sending and receiving checked payloads at once."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import trio

import toytls

from .common import (
    App,
    PayloadCheck,
    ServerStats,
    baseline,
    connect,
    count_fds,
    describe_error,
    exchange_payloads,
    living_tasks,
    serving,
    socket_of,
)

# ----------------------------------------------------------------- exchange


@dataclass(frozen=True, kw_only=True, slots=True)
class ExchangeReport:
    """The outcome of :func:`run_exchange`."""

    clients: int
    bytes_each_way: int
    completed: int
    bytes_expected: int
    bytes_verified: int
    lost_bytes: int
    corrupted_bytes: int
    sha256_mismatches: int
    client_errors: int
    server_errors: int
    error_samples: tuple[str, ...]
    elapsed_s: float
    verified_MBps: float
    fds_before: int
    fds_after: int
    tasks_before: int
    tasks_after: int


@dataclass
class _Client:
    port: int | None = None
    #: SHA-256 of what this client sent
    sent: bytes | None = None
    #: what the server sent, checked as it arrived
    download: PayloadCheck | None = None
    error: str | None = None


@dataclass
class _ServerSide:
    #: per client port: what the client sent, checked as it arrived
    uploads: dict[int, PayloadCheck] = field(default_factory=dict)
    #: per client port: SHA-256 of what the server sent
    sent: dict[int, bytes] = field(default_factory=dict)


async def _exchange_client(port: int, context: toytls.Context, size: int, client: _Client) -> None:
    try:
        stream = await connect(port, context)
        async with stream:
            client.port = socket_of(stream).socket.getsockname()[1]
            client.download = PayloadCheck(f"s{client.port}", size)
            client.sent = await exchange_payloads(stream, f"c{client.port}", client.download, size)
    except* (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as group:
        client.error = describe_error(group.exceptions[0])


def _exchange_app(size: int, side: _ServerSide) -> App:
    async def app(stream: toytls.ToyTLSStream) -> None:
        port = socket_of(stream).socket.getpeername()[1]
        upload = side.uploads[port] = PayloadCheck(f"c{port}", size)
        side.sent[port] = await exchange_payloads(stream, f"s{port}", upload, size)

    return app


async def run_exchange(
    server_context: toytls.Context,
    client_context: toytls.Context,
    *,
    clients: int,
    size: int,
    timeout: float = 600.0,
) -> ExchangeReport:
    """``clients`` clients at once, each exchanging ``size`` bytes both ways.

    Raises:
        trio.TooSlowError: The run did not finish within ``timeout`` (a hang).
    """
    fds_before, tasks_before = await baseline()
    outcomes = [_Client() for _ in range(clients)]
    side = _ServerSide()
    start = time.perf_counter()
    with trio.fail_after(timeout):
        async with serving(server_context, _exchange_app(size, side)) as server:
            async with trio.open_nursery() as nursery:
                for outcome in outcomes:
                    nursery.start_soon(_exchange_client, server.port, client_context, size, outcome)
            await server.wait_ended(sum(o.port is not None for o in outcomes))
    elapsed = time.perf_counter() - start
    return _exchange_report(
        outcomes, side, server, size=size, elapsed=elapsed, before=(fds_before, tasks_before)
    )


def _directions(
    outcome: _Client, side: _ServerSide
) -> list[tuple[PayloadCheck | None, bytes | None]]:
    """(check at the receiver, digest at the sender) for both directions."""
    if outcome.port is None:
        return [(None, None), (None, None)]
    return [
        (outcome.download, side.sent.get(outcome.port)),
        (side.uploads.get(outcome.port), outcome.sent),
    ]


def _exchange_report(
    outcomes: list[_Client],
    side: _ServerSide,
    server: ServerStats,
    *,
    size: int,
    elapsed: float,
    before: tuple[int, int],
) -> ExchangeReport:
    lost = corrupted = mismatches = verified = completed = 0
    for outcome in outcomes:
        good = 0
        for check, sent_digest in _directions(outcome, side):
            if check is None:
                lost += size
                continue
            lost += check.lost
            corrupted += check.corrupted
            if sent_digest != check.digest.digest():
                mismatches += 1
            elif check.lost == check.corrupted == 0:
                verified += check.received
                good += 1
        completed += good == 2 and outcome.error is None
    errors = [o.error for o in outcomes if o.error is not None]
    errors += [describe_error(exc) for exc in server.failures]
    return ExchangeReport(
        clients=len(outcomes),
        bytes_each_way=size,
        completed=completed,
        bytes_expected=2 * size * len(outcomes),
        bytes_verified=verified,
        lost_bytes=lost,
        corrupted_bytes=corrupted,
        sha256_mismatches=mismatches,
        client_errors=sum(o.error is not None for o in outcomes),
        server_errors=len(server.failures),
        error_samples=tuple(errors[:5]),
        elapsed_s=round(elapsed, 3),
        verified_MBps=round(verified / elapsed / 1e6, 1),
        fds_before=before[0],
        fds_after=count_fds(),
        tasks_before=before[1],
        tasks_after=living_tasks(),
    )
