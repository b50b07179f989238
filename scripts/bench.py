"""Benchmark toytls against trio.SSLStream and plain trio TCP, side by side.

All three stacks go through the same harness, in one process and one run,
interleaved over several rounds (the median is reported):

* bulk throughput with 16 KiB and 64 KiB ``send_all`` calls,
* handshakes per second, sequential and 8 at a time (a new TCP connection
  each),
* the 1-byte request/response round trip after the handshake,
* memory per idle established connection (RSS growth over N connections),
* ``toytls --help`` start-up against importing trio and cryptography,
* handshakes/s against ``toytls server --workers N`` (N = 1, 2), 8 clients.

The machine is shared: before measuring, plain TCP's 1-byte round trip is
timed, and above ``QUIET_RTT_US`` the run waits and tries again (for up to
``--wait`` seconds) instead of publishing figures from a slow spell.

trio.SSLStream runs TLS 1.3 with TLS_AES_128_GCM_SHA256 (forced through an
OpenSSL config file, since Python cannot choose TLS 1.3 suites), the same
RSA-2048 chain as toytls, and no session tickets.

    python scripts/bench.py                 # table, about a minute
    python scripts/bench.py --json          # one JSON object, every figure and ratio
    python scripts/bench.py --quick         # small sizes, a smoke test
    python scripts/bench.py --two-process   # bulk figures with the server in a subprocess
    python scripts/bench.py --force         # measure even if the machine is noisy
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import re
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cryptography
import trio

import toytls
from toytls.pki.files import write_pki
from toytls.pki.generate import generate_pki

_OPENSSL_CONF = """\
openssl_conf = default_conf
[default_conf]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
Ciphersuites = TLS_AES_128_GCM_SHA256
"""


def reexec_with_openssl_conf() -> None:
    """OpenSSL reads its config when it loads, so set it and start again.

    The program starts again as it was started: ``python -m scripts.budget``
    as that module, ``python scripts/bench.py`` as that file.
    """
    if os.environ.get("TOYTLS_BENCH_CONF"):
        return
    conf = Path(tempfile.gettempdir()) / "toytls-bench-openssl.cnf"
    conf.write_text(_OPENSSL_CONF)
    env = {**os.environ, "OPENSSL_CONF": str(conf), "TOYTLS_BENCH_CONF": "1"}
    spec = sys.modules["__main__"].__spec__
    args = sys.argv if spec is None else ["-m", spec.name, *sys.argv[1:]]
    os.execve(sys.executable, [sys.executable, *args], env)


Wrap = Callable[[trio.SocketStream], Awaitable[trio.abc.Stream]]
ToyOrSSL = toytls.ToyTLSStream | trio.SSLStream[trio.SocketStream]


@dataclass
class Stack:
    """How one stack turns a TCP stream into a secure stream on each side."""

    name: str
    server: Wrap
    client: Wrap


def toy_server_context(directory: Path) -> toytls.Context:
    """A toytls server context for the PKI that ``write_pki`` left in ``directory``."""
    return toytls.create_server_context(
        certfile=directory / "chain.pem", keyfile=directory / "server.key"
    )


def toy_client_context(directory: Path) -> toytls.Context:
    """A toytls client context trusting that PKI's root."""
    return toytls.create_default_context(cafile=directory / "root.pem")


def handshaken(make: Callable[[trio.SocketStream], ToyOrSSL]) -> Wrap:
    """A :class:`Stack` side: wrap the TCP stream with ``make`` and handshake."""

    async def wrap(tcp: trio.SocketStream) -> trio.abc.Stream:
        stream = make(tcp)
        await stream.do_handshake()
        return stream

    return wrap


def make_stacks(directory: Path) -> list[Stack]:
    toy_server = toy_server_context(directory)
    toy_client = toy_client_context(directory)
    ssl_server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ssl_server.minimum_version = ssl.TLSVersion.TLSv1_3
    ssl_server.load_cert_chain(directory / "chain.pem", directory / "server.key")
    ssl_server.num_tickets = 0
    ssl_client = ssl.create_default_context(cafile=directory / "root.pem")
    ssl_client.minimum_version = ssl.TLSVersion.TLSv1_3

    async def plain(tcp: trio.SocketStream) -> trio.abc.Stream:
        return tcp

    toy_s = handshaken(lambda tcp: toytls.ToyTLSStream(tcp, toy_server, server_side=True))
    toy_c = handshaken(
        lambda tcp: toytls.ToyTLSStream(tcp, toy_client, server_hostname="localhost")
    )
    ssl_s = handshaken(lambda tcp: trio.SSLStream(tcp, ssl_server, server_side=True))
    ssl_c = handshaken(lambda tcp: trio.SSLStream(tcp, ssl_client, server_hostname="localhost"))

    return [
        Stack("tcp", plain, plain),
        Stack("sslstream", ssl_s, ssl_c),
        Stack("toytls", toy_s, toy_c),
    ]


async def _serve(
    nursery: trio.Nursery, stack: Stack, app: Callable[[trio.abc.Stream], Awaitable[None]]
) -> int:
    async def handler(tcp: trio.SocketStream) -> None:
        try:
            stream = await stack.server(tcp)
            async with stream:
                await app(stream)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass

    listeners = await nursery.start(functools.partial(trio.serve_tcp, host="127.0.0.1"), handler, 0)
    port: int = listeners[0].socket.getsockname()[1]
    return port


async def _connect(stack: Stack, port: int) -> trio.abc.Stream:
    return await stack.client(await trio.open_tcp_stream("127.0.0.1", port))


async def _sink(stream: trio.abc.Stream) -> None:
    while await stream.receive_some(65536):
        pass


async def _echo(stream: trio.abc.Stream) -> None:
    while data := await stream.receive_some(65536):
        await stream.send_all(data)


async def _idle(stream: trio.abc.Stream) -> None:
    await trio.sleep_forever()


async def bulk(stack: Stack, megabytes: int, write_size: int) -> float:
    """MB/s for ``megabytes`` sent in ``write_size`` chunks."""
    chunk = b"x" * write_size
    count = megabytes * 1024 * 1024 // write_size
    async with trio.open_nursery() as nursery:
        port = await _serve(nursery, stack, _sink)
        stream = await _connect(stack, port)
        start = time.perf_counter()
        for _ in range(count):
            await stream.send_all(chunk)
        await stream.aclose()
        elapsed = time.perf_counter() - start
        nursery.cancel_scope.cancel()
    return count * write_size / elapsed / 1e6


async def serve_sink_forever(stack: Stack, port_file: Path) -> None:
    """The subprocess side of --two-process: a sink server; writes its port."""
    async with trio.open_nursery() as nursery:
        port = await _serve(nursery, stack, _sink)
        port_file.write_text(str(port))


def bulk_two_process(stack: Stack, directory: Path, megabytes: int, write_size: int) -> float:
    """Like :func:`bulk`, with the receiving server in its own process."""
    port_file = directory / f"port-{stack.name}"
    port_file.unlink(missing_ok=True)
    server = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve-sink",
            stack.name,
            "--pki",
            str(directory),
            "--port-file",
            str(port_file),
        ]
    )
    try:
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text():
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(f"the {stack.name} sink server did not start")
            time.sleep(0.02)
        port = int(port_file.read_text())

        async def send() -> float:
            chunk = b"x" * write_size
            count = megabytes * 1024 * 1024 // write_size
            stream = await _connect(stack, port)
            start = time.perf_counter()
            for _ in range(count):
                await stream.send_all(chunk)
            await stream.aclose()
            return count * write_size / (time.perf_counter() - start) / 1e6

        return trio.run(send)
    finally:
        server.terminate()
        server.wait(timeout=10)


async def handshakes(stack: Stack, total: int, parallel: int) -> float:
    """Handshakes per second, ``parallel`` clients at a time."""
    async with trio.open_nursery() as nursery:
        port = await _serve(nursery, stack, _sink)

        async def worker(n: int) -> None:
            for _ in range(n):
                stream = await _connect(stack, port)
                await stream.aclose()

        start = time.perf_counter()
        async with trio.open_nursery() as workers:
            for _ in range(parallel):
                workers.start_soon(worker, total // parallel)
        elapsed = time.perf_counter() - start
        nursery.cancel_scope.cancel()
    return (total // parallel) * parallel / elapsed


async def round_trip(stack: Stack, count: int) -> float:
    """Microseconds per 1-byte request and reply."""
    async with trio.open_nursery() as nursery:
        port = await _serve(nursery, stack, _echo)
        stream = await _connect(stack, port)
        start = time.perf_counter()
        for _ in range(count):
            await stream.send_all(b"!")
            await stream.receive_some(1)
        elapsed = time.perf_counter() - start
        await stream.aclose()
        nursery.cancel_scope.cancel()
    return elapsed / count * 1e6


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def idle_memory(stack: Stack, connections: int) -> float:
    """KiB of RSS per idle established connection (both ends counted once)."""
    async with trio.open_nursery() as nursery:
        port = await _serve(nursery, stack, _idle)
        # One-time costs (lazy imports, caches, the first arenas) are not
        # per connection: pay them before measuring.
        streams = [await _connect(stack, port) for _ in range(20)]
        before = _rss()
        streams += [await _connect(stack, port) for _ in range(connections)]
        await trio.sleep(0.1)
        after = _rss()
        for stream in streams:
            await trio.aclose_forcefully(stream)
        nursery.cancel_scope.cancel()
    return (after - before) / connections / 1024


def idle_memory_fresh(stack: Stack, pki: Path, connections: int) -> float:
    """:func:`idle_memory` in a new process.

    RSS growth depends on what the allocator has already freed: measured
    after the bulk runs, in the same process, it says more about those
    runs than about one idle connection.
    """
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--idle-only",
            stack.name,
            "--pki",
            str(pki),
            "--idle",
            str(connections),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return float(done.stdout.strip())


def startup_ms(rounds: int) -> dict[str, float]:
    """Median wall time of ``toytls --help`` and of importing trio + cryptography."""

    def time_of(args: list[str]) -> float:
        samples = []
        for _ in range(rounds):
            start = time.perf_counter()
            subprocess.run(args, check=True, capture_output=True)
            samples.append((time.perf_counter() - start) * 1000)
        return statistics.median(samples)

    base = time_of([sys.executable, "-c", "import trio, cryptography.x509"])
    help_ = time_of([sys.executable, "-m", "toytls.cli.main", "--help"])
    return {"imports_ms": round(base, 1), "toytls_help_ms": round(help_, 1)}


async def measure(
    args: argparse.Namespace, stacks: list[Stack]
) -> dict[str, dict[str, list[float]]]:
    figures: dict[str, dict[str, list[float]]] = {s.name: {} for s in stacks}

    def add(stack: Stack, key: str, value: float) -> None:
        figures[stack.name].setdefault(key, []).append(value)

    for _ in range(args.rounds):
        for stack in stacks:  # interleaved: every stack in every round
            add(stack, "bulk_16k_MBps", await bulk(stack, args.megabytes, 16384))
            add(stack, "bulk_64k_MBps", await bulk(stack, args.megabytes, 65536))
            add(stack, "handshakes_seq_per_s", await handshakes(stack, args.handshakes, 1))
            add(stack, "handshakes_8x_per_s", await handshakes(stack, args.handshakes, 8))
            add(stack, "rtt_1byte_us", await round_trip(stack, args.round_trips))
    for _ in range(args.rounds):
        for stack in stacks:
            idle = await trio.to_thread.run_sync(idle_memory_fresh, stack, args.pki, args.idle)
            add(stack, "idle_KiB_per_conn", idle)
    return figures


def _ratios(medians: dict[str, dict[str, float]]) -> dict[str, float]:
    toy, tls, tcp = medians["toytls"], medians["sslstream"], medians["tcp"]
    for figures in (toy, tls, tcp):  # RSS moves in pages: a tiny run may see 0
        figures["idle_KiB_per_conn"] = max(figures["idle_KiB_per_conn"], 0.01)
    return {
        "bulk_16k_vs_tcp": toy["bulk_16k_MBps"] / tcp["bulk_16k_MBps"],
        "bulk_64k_vs_sslstream": toy["bulk_64k_MBps"] / tls["bulk_64k_MBps"],
        "handshakes_seq_vs_sslstream": toy["handshakes_seq_per_s"] / tls["handshakes_seq_per_s"],
        "handshakes_8x_vs_sslstream": toy["handshakes_8x_per_s"] / tls["handshakes_8x_per_s"],
        "rtt_vs_tcp": toy["rtt_1byte_us"] / tcp["rtt_1byte_us"],
        "idle_memory_vs_sslstream": toy["idle_KiB_per_conn"] / tls["idle_KiB_per_conn"],
        "idle_KiB_per_conn": toy["idle_KiB_per_conn"],
    }


#: Target for each ratio: (comparison, bound), from the performance issues.
TARGETS = {
    "bulk_16k_vs_tcp": (">=", 0.75),
    "bulk_64k_vs_sslstream": (">=", 2.0),
    "handshakes_seq_vs_sslstream": (">=", 2.0),
    "handshakes_8x_vs_sslstream": (">=", 2.0),
    "rtt_vs_tcp": ("<=", 1.3),
    "idle_memory_vs_sslstream": ("<=", 0.4),
    "idle_KiB_per_conn": ("<=", 10.0),
}

#: Plain TCP's 1-byte round trip above this (µs) means a slow spell.
QUIET_RTT_US = 60.0


def tcp_round_trip_us(stacks: list[Stack]) -> float:
    """Plain TCP's 1-byte round trip now (best of 3 short runs), in µs."""
    tcp = next(s for s in stacks if s.name == "tcp")

    async def best() -> float:
        return min([await round_trip(tcp, 1000) for _ in range(3)])

    return trio.run(best)


def wait_until_quiet(stacks: list[Stack], wait: float) -> float | None:
    """Wait (up to ``wait`` s) for a quiet spell; its TCP round trip, or None."""
    deadline = time.monotonic() + wait
    while True:
        rtt = tcp_round_trip_us(stacks)
        if rtt <= QUIET_RTT_US:
            return rtt
        if time.monotonic() > deadline:
            return None
        print(
            f"noisy machine: plain TCP round trip {rtt:.1f} us > {QUIET_RTT_US:g}; "
            "trying again in 20 s",
            file=sys.stderr,
        )
        time.sleep(20)


def workers_handshakes(directory: Path, workers: int, total: int) -> float:
    """Handshakes/s, 8 clients at a time, against ``toytls server --workers N``."""
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "toytls.cli.main", "server", "-q", "--no-color"),
            *("--accept", "127.0.0.1:0", "--workers", str(workers)),
            *("--cert-chain", str(directory / "chain.pem"), "--key", str(directory / "server.key")),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        ports: list[int] = []
        while len(ports) < workers:  # each worker says where it listens
            line = server.stdout.readline()
            if not line:
                raise RuntimeError("toytls server --workers ended before it listened")
            # Two workers may write at once: their lines can come out joined.
            ports += [int(p) for p in re.findall(r"listening on [^\s]*:(\d+)", line)]
        (port,) = set(ports)
        # Its log goes on: drain it, or a full pipe stops the server.
        threading.Thread(target=server.stdout.read, daemon=True).start()
        context = toy_client_context(directory)

        async def run() -> float:
            async def worker(n: int) -> None:
                for _ in range(n):
                    tcp = await trio.open_tcp_stream("127.0.0.1", port)
                    stream = toytls.ToyTLSStream(tcp, context, server_hostname="localhost")
                    await stream.do_handshake()
                    await stream.aclose()

            start = time.perf_counter()
            async with trio.open_nursery() as nursery:
                for _ in range(8):
                    nursery.start_soon(worker, total // 8)
            return (total // 8) * 8 / (time.perf_counter() - start)

        return trio.run(run)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)


def main() -> None:
    reexec_with_openssl_conf()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--megabytes", type=int, default=64, help="per bulk run")
    parser.add_argument("--handshakes", type=int, default=400, help="per handshake run")
    parser.add_argument("--round-trips", type=int, default=3000)
    parser.add_argument("--idle", type=int, default=300, help="idle connections for memory")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--wait", type=float, default=300, help="seconds to wait for a quiet spell (default 300)"
    )
    parser.add_argument("--force", action="store_true", help="measure even on a noisy machine")
    parser.add_argument(
        "--two-process",
        action="store_true",
        help="bulk figures only, with the receiving server in a subprocess",
    )
    parser.add_argument("--serve-sink", help=argparse.SUPPRESS)  # the subprocess side
    parser.add_argument("--idle-only", help=argparse.SUPPRESS)  # idle_memory_fresh's side
    parser.add_argument("--pki", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.idle_only:
        stack = {s.name: s for s in make_stacks(args.pki)}[args.idle_only]
        print(trio.run(idle_memory, stack, args.idle))
        return
    if args.serve_sink:
        stack = {s.name: s for s in make_stacks(args.pki)}[args.serve_sink]
        trio.run(serve_sink_forever, stack, args.port_file)
        return
    if args.two_process:
        _two_process(args)
        return
    if args.quick:
        args.rounds, args.megabytes, args.handshakes, args.round_trips, args.idle = 1, 2, 16, 50, 50
    with tempfile.TemporaryDirectory() as temp:
        directory = Path(temp)
        write_pki(generate_pki("localhost"), directory)
        stacks = make_stacks(directory)
        args.pki = directory  # for the idle-memory subprocesses
        quiet_rtt = wait_until_quiet(stacks, 0 if args.quick else args.wait)
        if quiet_rtt is None and not (args.force or args.quick):
            print(
                f"the machine stayed noisy for {args.wait:g} s (plain TCP round trip over "
                f"{QUIET_RTT_US:g} us): no figures published; try later or pass --force",
                file=sys.stderr,
            )
            sys.exit(3)
        figures = trio.run(measure, args, stacks)
        workers = {
            f"workers_{n}": workers_handshakes(directory, n, args.handshakes)
            for n in ((1, 2) if not args.quick else (1,))
        }
    medians = {name: {k: statistics.median(v) for k, v in f.items()} for name, f in figures.items()}
    ratios = _ratios(medians)
    met = {
        key: (value >= bound if op == ">=" else value <= bound)
        for key, value in ratios.items()
        for op, bound in [TARGETS[key]]
    }
    rounded = {n: {k: round(v, 1) for k, v in m.items()} for n, m in medians.items()}
    rounded_ratios = {k: round(v, 2) for k, v in ratios.items()}
    startup = startup_ms(5 if not args.quick else 1)
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "python": platform.python_version(),
        "trio": trio.__version__,
        "cryptography": cryptography.__version__,
        "openssl": ssl.OPENSSL_VERSION,
        "cpus": os.cpu_count(),
        "rounds": args.rounds,
        "medians": rounded,
        "ratios": rounded_ratios,
        "targets_met": met,
        "startup": startup,
        "tcp_rtt_before_us": None if quiet_rtt is None else round(quiet_rtt, 1),
        "server_workers_handshakes_8x_per_s": {k: round(v, 1) for k, v in workers.items()},
    }
    if args.json:
        print(json.dumps(result))
        return
    _print_table(result)


def _print_table(result: dict[str, Any]) -> None:
    rounded, met, startup = result["medians"], result["targets_met"], result["startup"]
    workers = result["server_workers_handshakes_8x_per_s"]
    print(
        f"{result['date']}  Python {result['python']}, trio {result['trio']}, "
        f"cryptography {result['cryptography']}, {result['openssl']}, {result['cpus']} CPUs"
    )
    print(f"quiet check: plain TCP round trip {result['tcp_rtt_before_us']} us before measuring")
    keys = list(rounded["toytls"])
    print(f"\n{'measure':<24}{'tcp':>12}{'sslstream':>12}{'toytls':>12}")
    for key in keys:
        row = [rounded[n][key] for n in ("tcp", "sslstream", "toytls")]
        print(f"{key:<24}" + "".join(f"{v:>12.1f}" for v in row))
    print(f"\n{'ratio':<30}{'value':>8}  target")
    for key, value in result["ratios"].items():
        op, bound = TARGETS[key]
        mark = "ok" if met[key] else "MISSED"
        print(f"{key:<30}{value:>8.2f}  {op} {bound}  {mark}")
    print(
        f"\nstart-up: import trio+cryptography {startup['imports_ms']} ms, "
        f"toytls --help {startup['toytls_help_ms']} ms"
    )
    print(
        "toytls server --workers N, 8 clients in this process (handshakes/s): "
        + ", ".join(f"N={k.split('_')[1]} {v:.1f}" for k, v in workers.items())
    )


def _two_process(args: argparse.Namespace) -> None:
    if args.quick:
        args.rounds, args.megabytes = 1, 2
    with tempfile.TemporaryDirectory() as temp:
        directory = Path(temp)
        write_pki(generate_pki("localhost"), directory)
        stacks = make_stacks(directory)
        figures: dict[str, dict[str, list[float]]] = {s.name: {} for s in stacks}
        for _ in range(args.rounds):
            for stack in stacks:
                for size, key in ((16384, "bulk_16k_MBps"), (65536, "bulk_64k_MBps")):
                    value = bulk_two_process(stack, directory, args.megabytes, size)
                    figures[stack.name].setdefault(key, []).append(value)
    medians = {
        n: {k: round(statistics.median(v), 1) for k, v in f.items()} for n, f in figures.items()
    }
    if args.json:
        print(json.dumps({"two_process": medians}))
        return
    print(f"two processes (server in a subprocess), medians of {args.rounds} rounds, MB/s")
    print(f"{'measure':<24}{'tcp':>12}{'sslstream':>12}{'toytls':>12}")
    for key in ("bulk_16k_MBps", "bulk_64k_MBps"):
        print(
            f"{key:<24}"
            + "".join(f"{medians[n][key]:>12.1f}" for n in ("tcp", "sslstream", "toytls"))
        )


if __name__ == "__main__":
    main()
