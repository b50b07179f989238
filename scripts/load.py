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

Usage, from the project's root::

    python -m scripts.load                    # full size: 500 x 256 KiB, 200, 1000, 1000
    python -m scripts.load --only exchange --clients 40 --bytes 65536
    python -m scripts.load --only slowloris --slowloris 20 --handshake-timeout 0.5
    python -m scripts.load --json             # one JSON object per run

``--clients 0`` (or 0 for any run) skips that run. The file-descriptor soft
limit is raised as far as needed when the hard limit allows (1,000 idle
connections hold about 2,000 descriptors here, one per end).
tests/test_streams_limits.py runs these same functions scaled down, and at full size
with ``TOYTLS_SLOW=1``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

import trio

import toytls
from toytls.pki.files import write_pki
from toytls.pki.generate import generate_pki

from .loadruns.common import (
    SERVER_NAME,
    echo,
    fds_needed,
    raise_fd_limit,
    serving,
)
from .loadruns.exchange import ExchangeReport, run_exchange
from .loadruns.flood import FloodReport, run_flood
from .loadruns.idle import IdleReport, run_idle
from .loadruns.slowloris import SlowlorisReport, run_slowloris

__all__ = [
    "echo",
    "fds_needed",
    "main",
    "raise_fd_limit",
    "run_exchange",
    "run_flood",
    "run_idle",
    "run_slowloris",
    "serving",
]


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
