"""The least a trio stream over today's toytls core can do: measured floors.

``scripts/budget.py`` computes floors by adding the core's in-memory costs
to plain TCP's. That arithmetic missed twice: it said 16 KiB writes could
not reach 0.75x TCP, yet a loop with nothing in it but the core's record
protection, the system calls and trio's checkpoints runs *faster* than
plain trio TCP (``SocketStream`` has wrappers of its own); and it leaves out
what the same work costs between system calls, with cold caches.

So this module measures the floors instead. Its "minimal stream" keeps
what any stream must do (the same reads and writes, one checkpoint per
call, the core's :class:`~toytls.core.connection.Connection` or its record
protection) and leaves out everything else ``ToyTLSStream`` does: conflict
detection, the handshake deadline, events, cancellation and failure
handling. It is a measuring device, not a stream: it assumes loopback, a
well-behaved peer and no cancellation.

* :func:`minimal_bulk` — MB/s of bulk writes, sealed and opened by the
  core's :class:`~toytls.core.protection.RecordSealer` and ``RecordOpener``.
* :func:`minimal_stack` — a :class:`bench.Stack` that handshakes through
  the core with bare reads and writes, for ``bench.handshakes``.
* :func:`flights_stack` — the same reads and writes carrying a real
  handshake's byte counts with no work at all: what the handshake's four
  flights and its close_notify exchange cost on top of plain TCP.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import trio

import toytls
from toytls.core.connection import Connection
from toytls.core.constants import MAX_CIPHERTEXT, MAX_PLAINTEXT, RECORD_HEADER_SIZE, ContentType
from toytls.core.protection import RecordOpener, RecordSealer
from toytls.core.state import READS_NOTHING
from toytls.streams.context import Context

from . import bench

#: One read's worth: four whole records of the largest size (as the engine).
_READ = 4 * (RECORD_HEADER_SIZE + MAX_CIPHERTEXT)


async def _read(fd: int) -> bytes:
    """A checkpoint, then a read; waits for the socket only if it is empty."""
    await trio.lowlevel.checkpoint()
    while True:
        try:
            return os.read(fd, _READ)
        except BlockingIOError:
            await trio.lowlevel.wait_readable(fd)


async def _write(fd: int, pieces: list[bytes]) -> None:
    """One writev and a checkpoint; the rest, if the socket was full."""
    await trio.lowlevel.checkpoint_if_cancelled()
    sent = os.writev(fd, pieces)
    rest = b"".join(pieces)[sent:]
    if not rest:
        await trio.lowlevel.cancel_shielded_checkpoint()
    while rest:
        await trio.lowlevel.wait_writable(fd)
        try:
            rest = rest[os.write(fd, rest) :]
        except BlockingIOError:
            pass


async def minimal_bulk(megabytes: int = 32, write_size: int = 16384) -> float:
    """MB/s of ``write_size`` writes through the minimal stream (as ``bench.bulk``)."""
    key, iv = os.urandom(16), os.urandom(12)
    chunk = b"x" * write_size
    count = megabytes * 1024 * 1024 // write_size
    listener = (await trio.open_tcp_listeners(0, host="127.0.0.1"))[0]
    port = listener.socket.getsockname()[1]
    done = trio.Event()

    async def receive() -> None:
        tcp = await listener.accept()
        fd, opener, held = tcp.socket.fileno(), RecordOpener(key, iv), b""
        while data := await _read(fd):
            held = held + data if held else data
            view, pos = memoryview(held), 0
            while len(held) - pos >= RECORD_HEADER_SIZE:
                end = pos + RECORD_HEADER_SIZE + ((held[pos + 3] << 8) | held[pos + 4])
                if end > len(held):
                    break
                opener.open_data(held[pos : pos + RECORD_HEADER_SIZE], view[pos + 5 : end])
                pos = end
            held = held[pos:]
        await tcp.aclose()
        done.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(receive)
        tcp = await trio.open_tcp_stream("127.0.0.1", port)
        fd, sealer = tcp.socket.fileno(), RecordSealer(key, iv)
        start = time.perf_counter()
        view = memoryview(chunk)
        for _ in range(count):
            pieces: list[bytes] = []
            for at in range(0, write_size, MAX_PLAINTEXT):  # a record per 16 KiB
                piece = view[at : at + MAX_PLAINTEXT]
                sealer.seal_into(pieces, ContentType.APPLICATION_DATA, piece)
            await _write(fd, pieces)
        await tcp.aclose()
        await done.wait()
        elapsed = time.perf_counter() - start
        await listener.aclose()
    return count * write_size / elapsed / 1e6


class _Minimal(trio.abc.AsyncResource):
    """A connection driven with bare reads and writes (for ``bench.handshakes``)."""

    def __init__(self, tcp: trio.SocketStream, conn: Connection) -> None:
        self.tcp, self.conn, self.fd = tcp, conn, tcp.socket.fileno()

    async def flush(self) -> None:
        if data := self.conn.data_to_send():
            await _write(self.fd, [data])

    async def handshake(self) -> None:
        await self.flush()
        while not self.conn.handshake_complete:
            await trio.lowlevel.wait_readable(self.fd)  # a flight takes a round trip
            self.conn.receive_data(os.read(self.fd, _READ))
            await self.flush()

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        """Runs the connection to the peer's close_notify (or its end); b""."""
        while self.conn.state not in READS_NOTHING and (data := await _read(self.fd)):
            self.conn.receive_data(data)
        return b""

    async def aclose(self) -> None:
        if not self.conn.closed:
            self.conn.send_close_notify()
            try:
                await self.flush()
            except OSError:
                pass  # the peer may have closed first
        await self.tcp.aclose()


def minimal_stack(server: Context, client: Context) -> bench.Stack:
    """``bench.Stack`` whose two ends handshake through the minimal stream."""

    def make(context: Context, side: bool) -> bench.Wrap:
        async def wrap(tcp: trio.SocketStream) -> trio.abc.Stream:
            name = None if side else "localhost"
            conn = Connection(context.config_for(server_side=side, server_hostname=name))
            if not side:
                conn.initiate()
            minimal = _Minimal(tcp, conn)
            await minimal.handshake()
            return minimal  # type: ignore[return-value]  # only what bench.handshakes uses

        return wrap

    return bench.Stack("minimal", make(server, True), make(client, False))


def flight_sizes(server: Context, client: Context) -> list[int]:
    """Bytes per flight of one real handshake, in order, then each side's close_notify."""
    sender = Connection(client.config_for(server_side=False, server_hostname="localhost"))
    receiver = Connection(server.config_for(server_side=True, server_hostname=None))
    sender.initiate()
    sizes: list[int] = []
    while data := sender.data_to_send():
        sizes.append(len(data))
        receiver.receive_data(data)
        sender, receiver = receiver, sender
    for side in (sender, receiver):  # the client closes first, as in bench
        side.send_close_notify()
        sizes.append(len(side.data_to_send()))
    return sizes


class _Flights(trio.abc.AsyncResource):
    """One end of a handshake that only moves bytes (for ``bench.handshakes``)."""

    def __init__(self, tcp: trio.SocketStream, close_size: int) -> None:
        self.tcp, self.fd, self.close_size = tcp, tcp.socket.fileno(), close_size

    async def exchange(self, sizes: list[int], sends_first: bool) -> None:
        sending = sends_first
        for size in sizes:
            if sending:
                await _write(self.fd, [b"x" * size])
            else:
                got = 0
                while got < size:
                    await trio.lowlevel.wait_readable(self.fd)  # as _Minimal
                    got += len(os.read(self.fd, _READ))
            sending = not sending

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        """Reads to the peer's close (its close_notify's bytes, then end of file); b""."""
        while await _read(self.fd):
            pass
        return b""

    async def aclose(self) -> None:
        try:
            await _write(self.fd, [b"z" * self.close_size])
        except OSError:
            pass  # the peer may have closed first
        await self.tcp.aclose()


def flights_stack(server: Context, client: Context) -> bench.Stack:
    """``bench.Stack`` whose ends exchange a real handshake's byte counts and nothing else."""
    *handshake, close_size, _ = flight_sizes(server, client)

    def make(side: bool) -> bench.Wrap:
        async def wrap(tcp: trio.SocketStream) -> trio.abc.Stream:
            flights = _Flights(tcp, close_size)
            await flights.exchange(handshake, sends_first=not side)
            return flights  # type: ignore[return-value]  # only what bench.handshakes uses

        return wrap

    return bench.Stack("flights", make(True), make(False))


async def measured_floors(directory: Path, rounds: int) -> dict[str, float]:
    """Medians, interleaved: the minimal stream against toytls and the baselines.

    ``directory`` holds the PKI ``bench.make_stacks`` reads. Besides the
    floors, 8 concurrent handshakes are timed with the server's RSA in the
    helper process when the loop is busy (the default) and always inline
    (``handshake_workers = 0``).
    """
    stacks = {s.name: s for s in bench.make_stacks(directory)}
    server, client = bench.toy_server_context(directory), bench.toy_client_context(directory)
    minimal = minimal_stack(server, client)
    flights = flights_stack(server, client)
    inline = bench.toy_server_context(directory)
    inline.handshake_workers = 0
    toy = stacks["toytls"]
    toy_inline = bench.Stack(
        "toytls-inline",
        bench.handshaken(lambda tcp: toytls.ToyTLSStream(tcp, inline, server_side=True)),
        toy.client,
    )
    runs: dict[str, list[float]] = {}
    measures: dict[str, Callable[[], Awaitable[float]]] = {
        "tcp_bulk_16k_MBps": lambda: bench.bulk(stacks["tcp"], 32, 16384),
        "minimal_bulk_16k_MBps": minimal_bulk,
        "toytls_bulk_16k_MBps": lambda: bench.bulk(toy, 32, 16384),
        "sslstream_handshake_us": lambda: _us(bench.handshakes(stacks["sslstream"], 150, 1)),
        "tcp_handshake_us": lambda: _us(bench.handshakes(stacks["tcp"], 300, 1)),
        "flights_handshake_us": lambda: _us(bench.handshakes(flights, 300, 1)),
        "minimal_handshake_us": lambda: _us(bench.handshakes(minimal, 300, 1)),
        "toytls_handshake_us": lambda: _us(bench.handshakes(toy, 300, 1)),
        "toytls_8x_helper_us": lambda: _us(bench.handshakes(toy, 400, 8)),
        "toytls_8x_inline_us": lambda: _us(bench.handshakes(toy_inline, 400, 8)),
    }
    for _ in range(rounds):
        for name, measure in measures.items():
            runs.setdefault(name, []).append(await measure())
    return {name: statistics.median(values) for name, values in runs.items()}


async def _us(per_second: Awaitable[float]) -> float:
    return 1e6 / await per_second
