"""Load runs: a real toytls server and its clients in one trio process, on 127.0.0.1.

Each run starts ``serve_toytls_over_tcp`` on a free port, drives clients at
it and prints what it measured. Both ends of every connection live in this
process, so CPU, memory and file descriptors count both sides.

``--clients N --bytes B`` (exchange)
    N clients at once, each sending B bytes while it receives B other bytes,
    then close_notify both ways. Every byte is compared with the payload it
    should be (lost and corrupted bytes are counted) and SHA-256 digests are
    compared in both directions.
``--slowloris N``
    N connections that dribble a ClientHello a byte at a time and never
    finish it; once they are all in place, one honest client connects,
    handshakes and echoes. Reports when each dribbler was dropped, counted
    from its connect (§6: at the handshake deadline), how many bytes the
    server sent them (none: the drop carries no alert) and the honest
    client's latency.
``--idle N``
    N established connections (a handshake and one echo each), then nothing.
    Reports memory per connection (tracemalloc, and RSS from
    /proc/self/statm) while they are open and what is left after they close,
    and file descriptors (/proc/self/fd) and trio tasks before, during and
    after. ``--no-tracemalloc`` measures RSS alone (tracemalloc's own
    records inflate it). RSS is a high-water mark: the allocator keeps freed
    memory for reuse, so it does not fall back after close.
``--flood N``
    N key exchanges at once while one established connection keeps echoing.
    Each flooder replays a recorded ClientHello + ClientKeyExchange +
    Finished, so the server does the RSA decryption for every one of them
    and the flooders do no crypto; every one ends in bad_record_mac (the
    replayed Finished does not match the new server random). Reports the
    echo connection's round trips and its longest pause during the flood.

Usage::

    python scripts/load.py                    # full size: 500 x 256 KiB, 200, 1000, 1000
    python scripts/load.py --only exchange --clients 40 --bytes 65536
    python scripts/load.py --only slowloris --slowloris 20 --handshake-timeout 0.5
    python scripts/load.py --json             # one JSON object per run

``--clients 0`` (or 0 for any run) skips that run. The file-descriptor soft
limit is raised as far as needed when the hard limit allows (1,000 idle
connections hold about 2,000 descriptors here, one per end).
tests/test_limits.py runs these same functions scaled down, and at full size
with ``TOYTLS_SLOW=1``.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import hashlib
import json
import math
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import cast

import trio

import toytls
from toytls.connection import Connection
from toytls.pki import generate_pki, write_pki

App = Callable[[toytls.ToyTLSStream], Awaitable[None]]

#: Payloads are made of blocks this big, each from its own seeded generator,
#: so no side ever holds a whole payload in memory.
BLOCK = 65536
#: The name the test PKI's leaf certificate is for.
SERVER_NAME = "localhost"
#: Descriptors kept free on top of what a run needs.
_FD_MARGIN = 256


# ---------------------------------------------------------------- measuring


def count_fds() -> int:
    """Open file descriptors of this process (Linux: /proc/self/fd)."""
    return len(os.listdir("/proc/self/fd"))


def rss_bytes() -> int:
    """Resident set size of this process (Linux: /proc/self/statm)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def living_tasks() -> int:
    """Tasks alive in the current trio run."""
    return trio.lowlevel.current_statistics().tasks_living


def raise_fd_limit(needed: int) -> int:
    """Raise the soft RLIMIT_NOFILE to ``needed`` if the hard limit allows.

    Returns:
        The soft limit now in force (it may still be below ``needed``).
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def fds_needed(connections: int) -> int:
    """Descriptors for ``connections`` in-process connections (two ends each)."""
    return 2 * connections + _FD_MARGIN


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if exc.__cause__ is not None:
        text += f" (cause: {exc.__cause__})"
    return text


# ------------------------------------------------------------------ server


@dataclass
class ServerStats:
    """What the server side saw: connections started, ended, and failures."""

    port: int = 0
    accepted: int = 0
    ended: int = 0
    #: each handler's BrokenResourceError; ``__cause__`` is the ToyTLSError
    failures: list[BaseException] = field(default_factory=list)

    @property
    def active(self) -> int:
        """Handlers still running."""
        return self.accepted - self.ended

    async def wait_ended(self, count: int) -> None:
        """Wait until ``count`` handlers have started and finished."""
        while self.ended < count:
            await trio.sleep(0.005)


@contextlib.asynccontextmanager
async def serving(context: toytls.Context, app: App) -> AsyncIterator[ServerStats]:
    """Serve ``app`` on 127.0.0.1 (a free port) while the block runs.

    A handler whose stream breaks is recorded in ``failures``; anything else
    it raises stops the server and propagates, as a bug should.
    """
    stats = ServerStats()

    async def handler(stream: toytls.ToyTLSStream) -> None:
        stats.accepted += 1
        try:
            async with stream:
                await app(stream)
        except* trio.BrokenResourceError as group:
            stats.failures.extend(group.exceptions)
        finally:
            stats.ended += 1

    async with trio.open_nursery() as nursery:
        serve = functools.partial(toytls.serve_toytls_over_tcp, host="127.0.0.1")
        listeners: list[toytls.ToyTLSListener] = await nursery.start(serve, handler, 0, context)
        tcp = cast(trio.SocketListener, listeners[0].transport_listener)
        stats.port = tcp.socket.getsockname()[1]
        yield stats
        nursery.cancel_scope.cancel()


async def echo(stream: toytls.ToyTLSStream) -> None:
    """Send back whatever arrives, until the peer's close_notify."""
    while data := await stream.receive_some():
        await stream.send_all(data)


async def connect(port: int, context: toytls.Context) -> toytls.ToyTLSStream:
    """Open a client stream to the local server and finish its handshake."""
    stream = await toytls.open_toytls_over_tcp_stream(
        "127.0.0.1", port, context=context, server_hostname=SERVER_NAME
    )
    try:
        await stream.do_handshake()
    except BaseException:
        await trio.aclose_forcefully(stream)
        raise
    return stream


def _socket(stream: toytls.ToyTLSStream) -> trio.SocketStream:
    transport = stream.transport_stream
    assert isinstance(transport, trio.SocketStream)
    return transport


# ----------------------------------------------------------------- payloads


def payload_block(seed: str, index: int) -> bytes:
    """Block ``index`` of the payload named ``seed`` (always BLOCK bytes)."""
    return random.Random(f"{seed}/{index}").randbytes(BLOCK)


class PayloadCheck:
    """Compares bytes with the payload they should be, as they arrive."""

    def __init__(self, seed: str, size: int) -> None:
        self.seed = seed
        self.size = size
        self.received = 0
        #: bytes that differ from the payload, plus any beyond its end
        self.corrupted = 0
        self.digest = hashlib.sha256()
        self._index = -1
        self._block = b""

    @property
    def lost(self) -> int:
        """Payload bytes that never arrived."""
        return max(0, self.size - self.received)

    def update(self, data: bytes) -> None:
        """Check the next received bytes."""
        self.digest.update(data)
        view = memoryview(data)
        while view:
            if self.received >= self.size:
                self.corrupted += len(view)
                self.received += len(view)
                return
            index, within = divmod(self.received, BLOCK)
            if index != self._index:
                self._index = index
                self._block = payload_block(self.seed, index)[: self.size - index * BLOCK]
            piece = bytes(view[: len(self._block) - within])
            expected = self._block[within : within + len(piece)]
            if piece != expected:
                self.corrupted += sum(a != b for a, b in zip(piece, expected, strict=True))
            self.received += len(piece)
            view = view[len(piece) :]


async def send_payload(stream: toytls.ToyTLSStream, seed: str, size: int) -> bytes:
    """Send the payload ``seed`` of ``size`` bytes, then close_notify.

    Returns:
        The SHA-256 of what was sent.
    """
    digest = hashlib.sha256()
    for index, start in enumerate(range(0, size, BLOCK)):
        block = payload_block(seed, index)[: size - start]
        digest.update(block)
        await stream.send_all(block)
    await stream.send_eof()
    return digest.digest()


async def receive_payload(stream: toytls.ToyTLSStream, check: PayloadCheck) -> None:
    """Feed ``check`` until the peer's close_notify."""
    while data := await stream.receive_some():
        check.update(data)


async def exchange_payloads(
    stream: toytls.ToyTLSStream, send_seed: str, check: PayloadCheck, size: int
) -> bytes:
    """Send one payload while checking the other arrive; both end in close_notify.

    Returns:
        The SHA-256 of what was sent.
    """
    sent = b""

    async def send() -> None:
        nonlocal sent
        sent = await send_payload(stream, send_seed, size)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(send)
        await receive_payload(stream, check)
    return sent


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
            client.port = _socket(stream).socket.getsockname()[1]
            client.download = PayloadCheck(f"s{client.port}", size)
            client.sent = await exchange_payloads(stream, f"c{client.port}", client.download, size)
    except* (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as group:
        client.error = _describe(group.exceptions[0])


def _exchange_app(size: int, side: _ServerSide) -> App:
    async def app(stream: toytls.ToyTLSStream) -> None:
        port = _socket(stream).socket.getpeername()[1]
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
    fds_before, tasks_before = count_fds(), living_tasks()
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
    errors += [_describe(exc) for exc in server.failures]
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
        return trio.current_time() - start, _describe(exc)
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
    fds_before, tasks_before = count_fds(), living_tasks()
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
        errors.append(_describe(exc))


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
        fds_before, tasks_before = count_fds(), living_tasks()
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
        echoes.errors.append(_describe(exc))


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
    fds_before, tasks_before = count_fds(), living_tasks()
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


# ---------------------------------------------------------------------- CLI

RUNS = ("exchange", "slowloris", "idle", "flood")


async def main(args: argparse.Namespace) -> dict[str, dict[str, object]]:
    """Run the selected load runs and return their reports as dicts."""
    with tempfile.TemporaryDirectory() as temp:
        directory = Path(temp)
        write_pki(generate_pki(SERVER_NAME), directory)
        server = toytls.create_server_context(
            certfile=directory / "chain.pem", keyfile=directory / "server.key"
        )
        server.handshake_timeout = args.handshake_timeout
        client = toytls.create_default_context(cafile=directory / "root.pem")
    sizes = {
        "exchange": args.clients,
        "slowloris": args.slowloris,
        "idle": args.idle,
        "flood": args.flood,
    }
    limit = raise_fd_limit(fds_needed(max(sizes.values())))
    results: dict[str, dict[str, object]] = {}
    for name in args.only or RUNS:
        if not sizes[name]:
            continue
        report: ExchangeReport | SlowlorisReport | IdleReport | FloodReport
        if name == "exchange":
            report = await run_exchange(server, client, clients=args.clients, size=args.bytes)
        elif name == "slowloris":
            report = await run_slowloris(server, client, connections=args.slowloris)
        elif name == "idle":
            report = await run_idle(
                server, client, connections=args.idle, trace=not args.no_tracemalloc
            )
        else:
            report = await run_flood(server, client, key_exchanges=args.flood)
        results[name] = {"fd_soft_limit": limit, **asdict(report)}
        _show(name, results[name], as_json=args.json)
    return results


def _show(name: str, figures: dict[str, object], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"run": name, **figures}))
    else:
        print(f"== {name} ==")
        for key, value in figures.items():
            print(f"  {key:<32} {value}")
    sys.stdout.flush()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=500, help="exchange: concurrent clients")
    parser.add_argument("--bytes", type=int, default=262144, help="exchange: bytes each way")
    parser.add_argument("--slowloris", type=int, default=200, help="dribbling connections")
    parser.add_argument("--idle", type=int, default=1000, help="idle established connections")
    parser.add_argument(
        "--no-tracemalloc", action="store_true", help="idle: RSS only, without tracemalloc's cost"
    )
    parser.add_argument("--flood", type=int, default=1000, help="key exchanges in the flood")
    parser.add_argument(
        "--handshake-timeout", type=float, default=10.0, help="the server's §6 deadline (s)"
    )
    parser.add_argument("--only", action="append", choices=RUNS, help="run only this (repeatable)")
    parser.add_argument("--json", action="store_true", help="one JSON object per run")
    return parser


if __name__ == "__main__":
    trio.run(main, _parser().parse_args())
