"""Quick benchmark: toytls against plain trio TCP on loopback, one process.

Measures bulk throughput (16 KiB writes), sequential handshakes per second
(new TCP connection each) and the 1-byte round trip after the handshake.
Prints a table, or one JSON object with ``--json``.

    python scripts/bench.py [--megabytes 64] [--handshakes 200] [--json]

This is the first, small harness; the performance issue extends it with
trio.SSLStream side by side.
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import cryptography
import trio

import toytls
from toytls.pki import generate_pki, write_pki

Opener = Callable[[int], Awaitable[trio.abc.Stream]]


async def _serve(
    nursery: trio.Nursery,
    handler: Callable[[trio.abc.Stream], Awaitable[None]],
    server_context: toytls.Context | None,
) -> int:
    async def wrap(tcp: trio.SocketStream) -> None:
        stream: trio.abc.Stream = tcp
        if server_context is not None:
            stream = toytls.ToyTLSStream(tcp, server_context, server_side=True)
        try:
            await handler(stream)
        except trio.BrokenResourceError:
            pass
        finally:
            await stream.aclose()

    serve = functools.partial(trio.serve_tcp, host="127.0.0.1")
    listeners = await nursery.start(serve, wrap, 0)
    port: int = listeners[0].socket.getsockname()[1]
    return port


async def _sink(stream: trio.abc.Stream) -> None:
    while await stream.receive_some(65536):
        pass


async def _echo(stream: trio.abc.Stream) -> None:
    while data := await stream.receive_some(65536):
        await stream.send_all(data)


async def _open(port: int, client_context: toytls.Context | None) -> trio.abc.Stream:
    tcp = await trio.open_tcp_stream("127.0.0.1", port)
    if client_context is None:
        return tcp
    stream = toytls.ToyTLSStream(tcp, client_context, server_hostname="localhost")
    await stream.do_handshake()
    return stream


async def bulk(
    server: toytls.Context | None, client: toytls.Context | None, megabytes: int
) -> float:
    chunk = b"x" * 16384
    count = megabytes * 64
    async with trio.open_nursery() as nursery:
        port = await _serve(nursery, _sink, server)
        stream = await _open(port, client)
        start = time.perf_counter()
        for _ in range(count):
            await stream.send_all(chunk)
        await stream.aclose()
        elapsed = time.perf_counter() - start
        nursery.cancel_scope.cancel()
    return megabytes * 1024 * 1024 / elapsed / 1e6


async def handshakes(server: toytls.Context | None, client: toytls.Context | None, n: int) -> float:
    async with trio.open_nursery() as nursery:
        port = await _serve(nursery, _sink, server)
        start = time.perf_counter()
        for _ in range(n):
            stream = await _open(port, client)
            await stream.aclose()
        elapsed = time.perf_counter() - start
        nursery.cancel_scope.cancel()
    return n / elapsed


async def round_trip(server: toytls.Context | None, client: toytls.Context | None, n: int) -> float:
    async with trio.open_nursery() as nursery:
        port = await _serve(nursery, _echo, server)
        stream = await _open(port, client)
        start = time.perf_counter()
        for _ in range(n):
            await stream.send_all(b"!")
            await stream.receive_some(1)
        elapsed = time.perf_counter() - start
        await stream.aclose()
        nursery.cancel_scope.cancel()
    return elapsed / n * 1e6


async def main(args: argparse.Namespace) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as temp:
        directory = Path(temp)
        write_pki(generate_pki("localhost"), directory)
        server = toytls.create_server_context(
            certfile=directory / "chain.pem", keyfile=directory / "server.key"
        )
        client = toytls.create_default_context(cafile=directory / "root.pem")
        results: dict[str, object] = {
            "python": platform.python_version(),
            "trio": trio.__version__,
            "cryptography": cryptography.__version__,
            "machine": platform.machine(),
        }
        for name, srv, cli in (("tcp", None, None), ("toytls", server, client)):
            results[f"{name}_bulk_16k_MBps"] = round(await bulk(srv, cli, args.megabytes), 1)
            results[f"{name}_handshakes_per_s"] = round(
                await handshakes(srv, cli, args.handshakes), 1
            )
            results[f"{name}_rtt_us"] = round(await round_trip(srv, cli, args.round_trips), 1)
        return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--megabytes", type=int, default=64)
    parser.add_argument("--handshakes", type=int, default=200)
    parser.add_argument("--round-trips", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    figures = trio.run(main, arguments)
    if arguments.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:<28} {value}")
