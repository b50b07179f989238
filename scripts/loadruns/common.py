"""What every load run shares: measuring, the server, the payloads."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import random
import resource
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import cast

import trio

import toytls
from toytls.streams.rsahelper import start_rsa_helper

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


async def baseline() -> tuple[int, int]:
    """Open file descriptors and living trio tasks before a run.

    The run's RSA helper (a socket and a system task that last as long as
    the trio run, started by the first busy key exchange) is started first,
    so it is part of the baseline and a run that started it still ends
    where it began.
    """
    await start_rsa_helper()
    return count_fds(), living_tasks()


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


def describe_error(exc: BaseException) -> str:
    """One line for an error, with its cause (a toytls error behind a trio one)."""
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


def socket_of(stream: toytls.ToyTLSStream) -> trio.SocketStream:
    """The TCP stream under ``stream`` (every run's streams are over TCP)."""
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
