"""``toytls server --workers N``: N processes serving one port, one trio loop each.

One trio loop runs on one core, and Python runs one thread at a time. To use
more cores the server forks N worker processes; each opens its own listening
socket on the same port with ``SO_REUSEPORT``, and the kernel spreads new
connections over them. The connections are independent (toytls/1 has no
session cache), so nothing is shared between workers — which is also how a
deployment goes past one machine: more of them behind any TCP load balancer.

The parent only reserves the port (so that port 0 names one port for all
workers), starts the workers, passes SIGINT and SIGTERM on to them, and
exits with the worst status among them. In ``--json`` mode every line a
worker prints carries ``"worker"`` (1 to N) and its ``"pid"``.
"""

from __future__ import annotations

import copy
import dataclasses
import multiprocessing
import os
import signal
import socket
from collections.abc import Callable
from multiprocessing.synchronize import Lock
from types import FrameType
from typing import TYPE_CHECKING

from .console import Console, parse_address
from .status_texts import listen_error, status_text

if TYPE_CHECKING:
    import trio

    from .options import ServerOptions


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` with SO_REUSEPORT (not listening yet).

    Raises:
        OSError: The address cannot be bound.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


async def open_reuse_port_listeners(host: str, port: int) -> list[trio.SocketListener]:
    """One worker's listener on the shared port.

    Raises:
        OSError: The address cannot be bound.
    """
    import trio

    sock = trio.socket.from_stdlib_socket(reuse_port_socket(host, port))
    sock.listen(socket.SOMAXCONN)
    return [trio.SocketListener(sock)]


def _tag_json(console: Console, worker: int, lock: Lock) -> None:
    """Make every JSON line of this worker say which worker printed it.

    The workers share stdout: each line is written whole, under a lock the
    workers share, so lines of two workers never interleave.
    """
    pid, untagged = os.getpid(), copy.copy(console)

    def tagged(obj: dict[str, object]) -> None:
        with lock:
            untagged.emit({**obj, "worker": worker, "pid": pid})

    console.sink = tagged


def run_workers(
    options: ServerOptions, console: Console, serve_one: Callable[[ServerOptions], int]
) -> int:
    """Fork ``options.workers`` workers that each run ``serve_one``; wait for them.

    Returns:
        The highest exit status among the workers (130 or 143 after a
        signal), or 1 if the port cannot be reserved.
    """
    host, port = parse_address(options.accept, what="--accept", lang=console.lang)
    try:
        reserved = reuse_port_socket(host, port)  # bound, never listening
    except OSError as exc:
        why = listen_error(exc, console.lang)
        console.error(status_text("cannot_listen", console.lang, address=options.accept, why=why))
        return 1
    port = reserved.getsockname()[1]
    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    each = dataclasses.replace(options, accept=shown)
    lock = multiprocessing.Lock()  # made before the fork: shared by the workers
    pids: list[int] = []
    for worker in range(1, options.workers + 1):
        pid = os.fork()
        if pid == 0:  # the worker
            reserved.close()
            if console.json_mode:
                _tag_json(console, worker, lock)
            status = 1
            try:
                status = serve_one(each)
            finally:
                os._exit(status)
        pids.append(pid)
    reserved.close()
    return _wait(pids)


def _wait(pids: list[int]) -> int:
    """Wait for every worker, passing SIGINT and SIGTERM on; the worst status."""
    stopped_by: list[int] = []

    def forward(signum: int, frame: FrameType | None) -> None:
        stopped_by.append(signum)
        for pid in pids:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    worst = 0
    try:
        for pid in pids:
            _, code = os.waitpid(pid, 0)
            status = os.waitstatus_to_exitcode(code)
            worst = max(worst, status if status >= 0 else 128 - status)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if stopped_by and worst == 0:
        return 128 + stopped_by[0]  # as a shell reports a signal
    return worst
