"""The idle run: many established connections doing nothing; memory, fds and tasks."""

from __future__ import annotations

import gc
import time
import tracemalloc
from dataclasses import dataclass

import trio

import toytls

from .common import (
    baseline,
    connect,
    count_fds,
    describe_error,
    echo,
    living_tasks,
    rss_bytes,
    serving,
)

# --------------------------------------------------------------------- idle


@dataclass(frozen=True, kw_only=True, slots=True)
class IdleReport:
    """The outcome of :func:`run_idle`; memory counts both ends of each connection."""

    connections: int
    opened: int
    errors: int
    error_samples: tuple[str, ...]
    open_s: float
    traced_KiB_per_connection: float | None
    rss_KiB_per_connection: float | None
    traced_KiB_left_after_close: float | None
    rss_KiB_left_after_close: float | None
    traced_KiB_left_after_stop: float | None
    fds_before: int
    fds_open: int
    fds_after: int
    tasks_before: int
    tasks_open: int
    tasks_after: int
    server_handlers_left: int


@dataclass
class _Memory:
    traced: int
    rss: int

    @classmethod
    def now(cls) -> _Memory:
        gc.collect()
        return cls(traced=tracemalloc.get_traced_memory()[0], rss=rss_bytes())


async def _open_idle(
    port: int,
    context: toytls.Context,
    limiter: trio.CapacityLimiter,
    streams: list[toytls.ToyTLSStream],
    errors: list[str],
) -> None:
    try:
        async with limiter:
            stream = await connect(port, context)
            streams.append(stream)
            await stream.send_all(b"hello")
            if await stream.receive_some() != b"hello":
                errors.append("wrong echo")
    except (trio.BrokenResourceError, OSError) as exc:
        errors.append(describe_error(exc))


async def run_idle(
    server_context: toytls.Context,
    client_context: toytls.Context,
    *,
    connections: int,
    trace: bool = True,
    timeout: float = 600.0,
) -> IdleReport:
    """Hold ``connections`` established connections idle, then close them.

    Opens them 64 at a time (the run is about holding them, not opening).
    With ``trace`` it starts tracemalloc if it is not running (and stops it
    after); tracemalloc's own records then count in the RSS figures too.
    Without, the traced figures are None unless tracemalloc already runs.
    """
    started_tracing = trace and not tracemalloc.is_tracing()
    if started_tracing:
        tracemalloc.start()
    try:
        fds_before, tasks_before = await baseline()
        streams: list[toytls.ToyTLSStream] = []
        errors: list[str] = []
        limiter = trio.CapacityLimiter(64)
        with trio.fail_after(timeout):
            async with serving(server_context, echo) as server:
                memory = [_Memory.now()]
                start = time.perf_counter()
                async with trio.open_nursery() as nursery:
                    for _ in range(connections):
                        nursery.start_soon(
                            _open_idle, server.port, client_context, limiter, streams, errors
                        )
                open_s = time.perf_counter() - start
                opened = len(streams)
                fds_open, tasks_open = count_fds(), living_tasks()
                memory.append(_Memory.now())
                for stream in streams:
                    await stream.aclose()
                streams.clear()
                await server.wait_ended(server.accepted)
                memory.append(_Memory.now())
        memory.append(_Memory.now())
    finally:
        if started_tracing:
            tracemalloc.stop()
    return IdleReport(
        connections=connections,
        opened=opened,
        errors=len(errors),
        error_samples=tuple(errors[:5]),
        open_s=round(open_s, 3),
        **_memory_figures(memory, connections),
        fds_before=fds_before,
        fds_open=fds_open,
        fds_after=count_fds(),
        tasks_before=tasks_before,
        tasks_open=tasks_open,
        tasks_after=living_tasks(),
        server_handlers_left=server.active,
    )


def _memory_figures(memory: list[_Memory], connections: int) -> dict[str, float | None]:
    """Per-connection and left-over KiB from (base, held, closed, stopped)."""
    base, held, closed, stopped = memory
    per = max(connections, 1) * 1024
    traced = base.traced > 0

    def kib(after: int, before: int, divisor: int = 1024) -> float | None:
        return round((after - before) / divisor, 1)

    return {
        "traced_KiB_per_connection": kib(held.traced, base.traced, per) if traced else None,
        "rss_KiB_per_connection": kib(held.rss, base.rss, per),
        "traced_KiB_left_after_close": kib(closed.traced, base.traced) if traced else None,
        "rss_KiB_left_after_close": kib(closed.rss, base.rss),
        "traced_KiB_left_after_stop": kib(stopped.traced, base.traced) if traced else None,
    }
