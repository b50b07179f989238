"""The slowloris run: connections that dribble a ClientHello and never finish it."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

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

# ---------------------------------------------------------------- slowloris


def client_hello(client_context: toytls.Context) -> bytes:
    """A genuine ClientHello record for :data:`SERVER_NAME`."""
    client = Connection(client_context.client_config(SERVER_NAME))
    client.initiate()
    return client.data_to_send()


@dataclass
class _Dribbler:
    connected: float = 0.0
    closed: float | None = None
    bytes_from_server: int = 0
    reset: bool = False


async def _dribble(tcp: trio.SocketStream, data: bytes, interval: float) -> None:
    try:
        for index in range(len(data)):
            await tcp.send_all(data[index : index + 1])
            await trio.sleep(interval)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
    await trio.sleep_forever()


async def _slowloris(port: int, hello: bytes, interval: float, out: _Dribbler) -> None:
    tcp = await trio.open_tcp_stream("127.0.0.1", port)
    out.connected = trio.current_time()
    async with tcp, trio.open_nursery() as nursery:
        # Never the last byte: the ClientHello stays incomplete for ever.
        nursery.start_soon(_dribble, tcp, hello[:-1], interval)
        try:
            while data := await tcp.receive_some(4096):
                out.bytes_from_server += len(data)
        except trio.BrokenResourceError:
            out.reset = True  # closed with unread bytes pending: RST, not FIN
        out.closed = trio.current_time()
        nursery.cancel_scope.cancel()


@dataclass(frozen=True, kw_only=True, slots=True)
class SlowlorisReport:
    """The outcome of :func:`run_slowloris`; times in seconds."""

    connections: int
    handshake_timeout: float
    closed: int
    closed_by_reset: int
    bytes_from_server: int
    closed_after_min: float
    closed_after_median: float
    closed_after_max: float
    server_deadline_drops: int
    server_other_failures: int
    honest_ok: bool
    honest_error: str | None
    honest_started_after: float
    honest_latency: float
    honest_done_before_first_drop: bool
    elapsed_s: float
    fds_before: int
    fds_after: int
    tasks_before: int
    tasks_after: int


async def _honest(port: int, context: toytls.Context) -> tuple[float, str | None]:
    start = trio.current_time()
    try:
        stream = await connect(port, context)
        async with stream:
            await stream.send_all(b"still served?")
            reply = await stream.receive_some()
            if reply != b"still served?":
                return trio.current_time() - start, f"wrong echo {reply!r}"
    except (trio.BrokenResourceError, OSError) as exc:
        return trio.current_time() - start, describe_error(exc)
    return trio.current_time() - start, None


async def run_slowloris(
    server_context: toytls.Context,
    client_context: toytls.Context,
    *,
    connections: int,
    timeout: float = 600.0,
) -> SlowlorisReport:
    """``connections`` dribblers and one honest client; see the module doc.

    The dribblers send one byte every tenth of ``handshake_timeout``, so
    about ten bytes of a ClientHello of fifty reach the server in time.
    """
    deadline = server_context.handshake_timeout
    fds_before, tasks_before = await baseline()
    hello = client_hello(client_context)
    dribblers = [_Dribbler() for _ in range(connections)]
    start = trio.current_time()
    with trio.fail_after(timeout):
        async with serving(server_context, echo) as server:
            async with trio.open_nursery() as nursery:
                for dribbler in dribblers:
                    nursery.start_soon(_slowloris, server.port, hello, deadline / 10, dribbler)
                while server.accepted < connections:
                    await trio.sleep(0.005)
                await trio.sleep(deadline / 5)  # let them dribble a little
                honest_start = trio.current_time()
                latency, honest_error = await _honest(server.port, client_context)
            await server.wait_ended(connections + 1)
    closed = [d.closed - d.connected for d in dribblers if d.closed is not None]
    first_drop = min((d.closed for d in dribblers if d.closed is not None), default=math.inf)
    drops = [f for f in server.failures if "no handshake within" in str(f.__cause__)]
    return SlowlorisReport(
        connections=connections,
        handshake_timeout=deadline,
        closed=len(closed),
        closed_by_reset=sum(d.reset for d in dribblers),
        bytes_from_server=sum(d.bytes_from_server for d in dribblers),
        closed_after_min=round(min(closed, default=-1.0), 3),
        closed_after_median=round(statistics.median(closed) if closed else -1.0, 3),
        closed_after_max=round(max(closed, default=-1.0), 3),
        server_deadline_drops=len(drops),
        server_other_failures=len(server.failures) - len(drops),
        honest_ok=honest_error is None,
        honest_error=honest_error,
        honest_started_after=round(honest_start - start, 3),
        honest_latency=round(latency, 4),
        honest_done_before_first_drop=honest_start + latency < first_drop,
        elapsed_s=round(trio.current_time() - start, 3),
        fds_before=fds_before,
        fds_after=count_fds(),
        tasks_before=tasks_before,
        tasks_after=living_tasks(),
    )
