"""Which performance targets toytls can reach at all on this machine, and why.

For each target of the performance issue this script computes a *floor*:
the best toytls could possibly do if the trio stream layer cost nothing.
It measures, on this machine, in this run:

* what plain trio TCP and trio.SSLStream achieve through the same harness
  as ``scripts/bench.py`` (medians of interleaved rounds);
* what toytls cannot avoid: the sans-I/O work per record (seal and drain,
  receive and open — AES-GCM included), AES-GCM alone, and per handshake
  the RSA-2048 OAEP decryption and the chain check.

A floor is "TCP's own cost plus the unavoidable toytls work", for a stream
layer that costs nothing. Measure it on a quiet machine (plain TCP's round
trip under 60 µs): on a slow spell every figure moves, and a floor from one
proves nothing. The floors leave out what running the same work between
system calls costs (a cold cache): the round trip showed about twice the
in-memory cost of the core, so a floor that only just meets a target is not
a promise.

The computed floors missed twice (see ``scripts/minimal.py``), so they are
followed by *measured* ones: a minimal stream over today's core, as thin as
a stream can be, timed against toytls and the baselines in the same run.

It also takes one handshake through ``ToyTLSStream`` apart with a profile:
the share of RSA, the chain check, toytls's own Python, the trio event loop
and sockets, and the hop to the RSA helper process, scaled to the measured time; and
counts, for each stack, the scheduler's task steps and batches per
handshake (a measure that a busy machine does not move).

    python -m scripts.budget            # table (from the project's root)
    python -m scripts.budget --json     # every figure
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import tempfile
import time
import timeit
from collections.abc import Callable
from pathlib import Path

import trio
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding

from toytls.core.config import ClientConfig, ServerConfig
from toytls.core.connection import Connection
from toytls.core.keyschedule import decrypt_secret, encrypt_secret
from toytls.core.verification import verify_server_chain
from toytls.pki.files import write_pki
from toytls.pki.generate import PKI, generate_pki

from . import bench, minimal


def _best(fn: Callable[[], object], number: int) -> float:
    """Seconds per call: the minimum over repeats (the least disturbed)."""
    return min(timeit.repeat(fn, number=number, repeat=7)) / number


def _chain_der(pki: PKI) -> tuple[bytes, ...]:
    return tuple(cert.public_bytes(Encoding.DER) for cert in pki.chain)


def _pair(pki: PKI) -> tuple[Connection, Connection]:
    """A client and a server connection, handshaken in memory."""
    client = Connection(ClientConfig(server_name="localhost", roots=(pki.root.certificate,)))
    server = Connection(ServerConfig(certificate_chain=_chain_der(pki), private_key=pki.server.key))
    client.initiate()
    for _ in range(4):  # the handshake is two round trips
        if data := client.data_to_send():
            server.receive_data(data)
        if data := server.data_to_send():
            client.receive_data(data)
    assert client.handshake_complete
    assert server.handshake_complete
    return client, server


def record_costs(pki: PKI) -> dict[str, float]:
    """Microseconds per record for the sans-I/O work, and AES-GCM alone."""
    figures: dict[str, float] = {}
    aead = AESGCM(os.urandom(16))
    nonce = os.urandom(12)
    for size, label in ((1, "1B"), (16384, "16k")):
        payload = b"x" * size
        client, _server = _pair(pki)

        def seal(client: Connection = client, payload: bytes = payload) -> None:
            client.send_application_data(payload)
            client.data_to_send()

        figures[f"seal_{label}_us"] = _best(seal, 2000) * 1e6
        # Opening needs records in sequence: a fresh pair, records sealed in
        # batches. Four at a time, one read's worth (RECEIVE_SIZE): they are
        # in the cache, as the bytes a read just brought are. Batches of
        # 2,000 (32 MB at 16 KiB) time the memory as well: kept as "cold".
        for batch_size, suffix in ((4, ""), (2000, "_cold")):
            figures[f"open_{label}{suffix}_us"] = _open_cost(pki, payload, batch_size) * 1e6
        sealed = aead.encrypt(nonce, payload, b"hdr")

        def encrypt(p: bytes = payload) -> bytes:
            return aead.encrypt(nonce, p, b"hdr")

        def decrypt(c: bytes = sealed) -> bytes:
            return aead.decrypt(nonce, c, b"hdr")

        figures[f"aes_encrypt_{label}_us"] = _best(encrypt, 2000) * 1e6
        figures[f"aes_decrypt_{label}_us"] = _best(decrypt, 2000) * 1e6
    return figures


def _open_cost(pki: PKI, payload: bytes, batch_size: int) -> float:
    """Seconds to receive and open one record, sealed ``batch_size`` at a time."""
    client, server = _pair(pki)
    rounds = max(1, 2000 // batch_size)
    best = float("inf")
    for _ in range(7):
        elapsed = 0.0
        for _ in range(rounds):
            batch = []
            for _ in range(batch_size):
                client.send_application_data(payload)
                batch.append(client.data_to_send())
            start = time.perf_counter()
            for record in batch:
                server.receive_data(record)
            elapsed += time.perf_counter() - start
        best = min(best, elapsed / (rounds * batch_size))
    return best


def handshake_costs(pki: PKI) -> dict[str, float]:
    """Microseconds of the cryptography every handshake needs."""
    secret = os.urandom(32)
    leaf_key = pki.server.certificate.public_key()
    assert isinstance(leaf_key, rsa.RSAPublicKey)
    encrypted = encrypt_secret(leaf_key, secret)
    fallback = os.urandom(32)
    roots = [pki.root.certificate]

    def handshake() -> None:
        _pair(pki)

    return {
        "handshake_in_memory_us": _best(handshake, 30) * 1e6,
        "rsa_oaep_decrypt_us": _best(
            lambda: decrypt_secret(pki.server.key, encrypted, fallback), 50
        )
        * 1e6,
        "rsa_oaep_encrypt_us": _best(lambda: encrypt_secret(leaf_key, secret), 200) * 1e6,
        "chain_verify_us": _best(
            lambda: verify_server_chain(_chain_der(pki), "localhost", roots), 200
        )
        * 1e6,
    }


#: Where a profiled function's time goes, by what its file or name holds.
_BREAKDOWN = (
    ("RSA (decrypt, encrypt)", ("RSAPrivateKey", "RSAPublicKey")),
    ("chain check", ("ServerVerifier", "x509/", "verification.py", "verdicts.py")),
    ("RSA helper hop", ("rsahelper.py",)),
    ("toytls's own Python", ("toytls/",)),
    ("AES-GCM, HKDF, hashes", ("aead", "hkdf", "hashes", "hmac", "_hashlib", "_rust")),
    ("event loop and sockets", ("trio/", "socket", "epoll", "select", "outcome", "contextlib")),
)


#: Parts that are native code (timed as profiled, not scaled).
_NATIVE = ("RSA (decrypt, encrypt)", "AES-GCM, HKDF, hashes")


def handshake_breakdown(stack: bench.Stack, count: int = 300) -> dict[str, float]:
    """Microseconds per sequential handshake through the stream, by where they go.

    The wall time is measured without a profiler. A profiled run then times
    the native parts (RSA, AES-GCM and hashes), which it hardly slows, and
    splits the rest of the wall time between the Python parts by their
    profiled shares.
    """
    trio.run(bench.handshakes, stack, 50, 1)  # warm up
    wall_us = 1e6 / trio.run(bench.handshakes, stack, count, 1)
    profile = cProfile.Profile()
    profile.enable()
    trio.run(bench.handshakes, stack, count, 1)
    profile.disable()
    shares: dict[str, float] = dict.fromkeys([name for name, _ in _BREAKDOWN], 0.0)
    shares["the rest (benchmark, builtins)"] = 0.0
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    for (filename, _, function), (_, _, own, _, _) in stats.items():
        where = f"{filename} {function}"
        name = next(
            (n for n, keys in _BREAKDOWN if any(k in where for k in keys)),
            "the rest (benchmark, builtins)",
        )
        shares[name] += own
    # Native code runs at full speed under the profiler: its parts keep
    # their profiled time; the Python parts share what is left of the wall.
    native = {k: shares[k] * 1e6 / count for k in _NATIVE}
    python_total = sum(v for k, v in shares.items() if k not in _NATIVE)
    left_us = wall_us - sum(native.values())
    return {
        "wall_us": wall_us,
        **{k: native[k] if k in _NATIVE else left_us * v / python_total for k, v in shares.items()},
    }


class _Steps(trio.abc.Instrument):
    """Counts the scheduler's task steps and its I/O waits (one per batch)."""

    def __init__(self) -> None:
        self.steps = 0
        self.batches = 0

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        self.steps += 1

    def before_io_wait(self, timeout: float) -> None:
        self.batches += 1


def handshake_steps(stacks: list[bench.Stack], count: int = 200) -> dict[str, dict[str, float]]:
    """Per sequential handshake (TCP connect and close included), for each stack:
    task steps and trips through the scheduler. Deterministic, unlike times:
    a fair measure on a busy machine."""
    result = {}
    for stack in stacks:
        steps = _Steps()
        trio.run(bench.handshakes, stack, count, 1, instruments=[steps])
        result[stack.name] = {
            "task_steps": steps.steps / count,
            "scheduler_batches": steps.batches / count,
        }
    return result


async def stack_figures(stacks: list[bench.Stack], rounds: int) -> dict[str, dict[str, float]]:
    """Medians for TCP and SSLStream, through bench.py's harness."""
    runs: dict[str, dict[str, list[float]]] = {s.name: {} for s in stacks}
    for _ in range(rounds):
        for stack in stacks:
            row = runs[stack.name]
            row.setdefault("bulk_16k_MBps", []).append(await bench.bulk(stack, 32, 16384))
            row.setdefault("bulk_64k_MBps", []).append(await bench.bulk(stack, 32, 65536))
            row.setdefault("handshakes_seq_per_s", []).append(await bench.handshakes(stack, 200, 1))
            row.setdefault("rtt_1byte_us", []).append(await bench.round_trip(stack, 2000))
    return {n: {k: statistics.median(v) for k, v in row.items()} for n, row in runs.items()}


def floors(
    stacks: dict[str, dict[str, float]], rec: dict[str, float], hs: dict[str, float]
) -> list[dict[str, object]]:
    """Each target: what it requires, and two floors for toytls.

    ``crypto_floor`` adds only the cryptography (AES-GCM; RSA and the chain
    check) to TCP's own cost; ``core_floor`` adds today's whole sans-I/O
    work (seal, open, the in-memory handshake). Both assume a stream layer
    that costs nothing.
    """
    tcp, ssl = stacks["tcp"], stacks["sslstream"]

    def mbps(tcp_mbps: float, write: int, extra_us: float) -> float:
        tcp_us = write / tcp_mbps  # bytes / (MB/s) = microseconds
        return write / (tcp_us + extra_us)

    aes_16k = rec["aes_encrypt_16k_us"] + rec["aes_decrypt_16k_us"]
    core_16k = rec["seal_16k_us"] + rec["open_16k_us"]
    aes_1b = rec["aes_encrypt_1B_us"] + rec["aes_decrypt_1B_us"]
    core_1b = rec["seal_1B_us"] + rec["open_1B_us"]
    # A TCP connection, then the handshake's two round trips (ClientHello →
    # ServerHello and Certificate; ClientKeyExchange and Finished → Finished).
    connect_us = 1e6 / tcp["handshakes_seq_per_s"] + 2 * tcp["rtt_1byte_us"]
    crypto_hs = hs["rsa_oaep_decrypt_us"] + hs["rsa_oaep_encrypt_us"] + hs["chain_verify_us"]
    rows = [
        (
            "bulk 16 KiB >= 2.0x SSLStream (MB/s)",
            2 * ssl["bulk_16k_MBps"],
            mbps(tcp["bulk_16k_MBps"], 16384, aes_16k),
            mbps(tcp["bulk_16k_MBps"], 16384, core_16k),
            True,
        ),
        (
            "bulk 16 KiB >= 0.75x TCP (MB/s)",
            0.75 * tcp["bulk_16k_MBps"],
            mbps(tcp["bulk_16k_MBps"], 16384, aes_16k),
            mbps(tcp["bulk_16k_MBps"], 16384, core_16k),
            True,
        ),
        (
            "bulk 64 KiB >= 2.0x SSLStream (MB/s)",
            2 * ssl["bulk_64k_MBps"],
            mbps(tcp["bulk_64k_MBps"], 65536, 4 * aes_16k),
            mbps(tcp["bulk_64k_MBps"], 65536, 4 * core_16k),
            True,
        ),
        (
            "handshakes/s >= 2.0x SSLStream",
            2 * ssl["handshakes_seq_per_s"],
            1e6 / (connect_us + crypto_hs),
            1e6 / (connect_us + hs["handshake_in_memory_us"]),
            True,
        ),
        (
            "1-byte round trip <= 1.3x TCP (us)",
            1.3 * tcp["rtt_1byte_us"],
            tcp["rtt_1byte_us"] + 2 * aes_1b,
            tcp["rtt_1byte_us"] + 2 * core_1b,
            False,
        ),
    ]
    result: list[dict[str, object]] = []
    for target, needs, crypto, core, higher in rows:

        def ok(value: float, needs: float = needs, higher: bool = higher) -> bool:
            return value >= needs if higher else value <= needs

        result.append(
            {
                "target": target,
                "needs": needs,
                "crypto_floor": crypto,
                "core_floor": core,
                "reachable_crypto_only": ok(crypto),
                "reachable_with_todays_core": ok(core),
            }
        )
    return result


def main() -> None:
    bench.reexec_with_openssl_conf()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    pki = generate_pki("localhost")
    rec = record_costs(pki)
    hs = handshake_costs(pki)
    with tempfile.TemporaryDirectory() as temp:
        write_pki(pki, Path(temp))
        every = bench.make_stacks(Path(temp))
        stacks = [s for s in every if s.name != "toytls"]
        figures = trio.run(stack_figures, stacks, args.rounds)
        breakdown = handshake_breakdown(next(s for s in every if s.name == "toytls"))
        steps = handshake_steps(every)
        measured = trio.run(minimal.measured_floors, Path(temp), args.rounds)
    rows = floors(figures, rec, hs)
    result = {
        "stacks": figures,
        "record_costs_us": rec,
        "handshake_costs_us": hs,
        "handshake_through_stream_us": breakdown,
        "handshake_scheduler_steps": steps,
        "targets": rows,
        "measured_floors": measured,
    }
    if args.json:
        print(json.dumps(result))
        return
    print("toytls's own work, sans-I/O (best of 7, microseconds):")
    for key, value in {**rec, **hs}.items():
        print(f"  {key:<26}{value:>10.2f}")
    print(f"\none handshake through ToyTLSStream, both ends: {breakdown['wall_us']:.0f} us")
    for key, value in breakdown.items():
        if key != "wall_us":
            print(f"  {key:<34}{value:>8.0f} us")
    print("\nper sequential handshake, connect and close included (deterministic):")
    for name, row in steps.items():
        print(f"  {name:<10}" + "  ".join(f"{k} {v:.1f}" for k, v in row.items()))
    print("\nthrough bench.py's harness (medians):")
    for name, row in figures.items():
        print(f"  {name:<10}" + "  ".join(f"{k} {v:.1f}" for k, v in row.items()))
    print("\ncomputed floors (TCP plus the core in memory, a stream layer that costs nothing):")
    print(f"{'target':<40}{'needs':>9}{'crypto':>9}{'core':>9}  reachable (crypto / core)")
    for floor in rows:
        marks = " / ".join(
            "yes" if floor[key] else "NO"
            for key in ("reachable_crypto_only", "reachable_with_todays_core")
        )
        print(
            f"{floor['target']:<40}{floor['needs']:>9.1f}{floor['crypto_floor']:>9.1f}"
            f"{floor['core_floor']:>9.1f}  {marks}"
        )
    _print_measured(measured)


def _print_measured(m: dict[str, float]) -> None:
    tcp, ssl = m["tcp_bulk_16k_MBps"], m["sslstream_handshake_us"]
    print("\nmeasured floors: a minimal stream over today's core (scripts/minimal.py):")
    for who in ("minimal", "toytls"):
        print(f"  bulk 16 KiB, {who:<8}{m[f'{who}_bulk_16k_MBps']:>8.1f} MB/s", end="")
        print(f"  {m[f'{who}_bulk_16k_MBps'] / tcp:.2f}x TCP (target 0.75x)")
    for who in ("minimal", "toytls"):
        print(f"  handshake, {who:<10}{m[f'{who}_handshake_us']:>8.0f} us", end="")
        print(f"  {ssl / m[f'{who}_handshake_us']:.2f}x SSLStream (target 2.0x; {ssl:.0f} us)")
    tcp_us, flights_us = m["tcp_handshake_us"], m["flights_handshake_us"]
    print(f"  connect and close, plain TCP {tcp_us:>8.0f} us")
    print(f"  the same, with a handshake's bytes and no work {flights_us:>5.0f} us", end="")
    print(f" (+{flights_us - tcp_us:.0f} us for four flights and close_notify both ways)")
    for how in ("helper", "inline"):
        print(f"  8 concurrent, RSA {how:<8}{m[f'toytls_8x_{how}_us']:>6.0f} us per handshake")


if __name__ == "__main__":
    main()
