"""``toytls server --workers N``: N processes on one port, each accepting.

Real processes on loopback. The kernel spreads connections over the
workers' SO_REUSEPORT sockets by a hash of each connection's addresses, so
with 40 connections from different source ports both of two workers get
some (all 40 to one worker has a chance of 2 in 2**40).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
from processes import rsa_helpers_of, run, server_args, start_server, wait_until

import toytls

CONNECTIONS = 40


async def _echo_once(address: tuple[str, int], context: toytls.Context, text: bytes) -> bytes:
    tcp = await trio.open_tcp_stream(*address)
    stream = toytls.ToyTLSStream(tcp, context, server_hostname="localhost")
    async with stream:
        await stream.send_all(text)
        return await stream.receive_some()


async def _many(port: int, cafile: Path) -> list[bytes]:
    context = toytls.create_default_context(cafile=cafile)
    answers: list[bytes] = []

    async def one(number: int) -> None:
        answers.append(await _echo_once(("127.0.0.1", port), context, b"hi %d" % number))

    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            for number in range(CONNECTIONS):
                nursery.start_soon(one, number)
    return answers


def test_two_workers_both_accept_connections(pki_dir: Path) -> None:
    with start_server(pki_dir, "--workers", "2") as server:
        # Connect only once both listen: under load the second worker can
        # start well after the first, and the kernel spreads connections
        # only over the sockets listening when they arrive.
        wait_until(lambda: sum(e.get("event") == "listening" for e in server.events()) == 2, 30)
        answers = trio.run(_many, server.port, pki_dir / "root.pem")

        def all_logged() -> bool:
            return len([e for e in server.events() if e.get("event") == "connect"]) == CONNECTIONS

        wait_until(all_logged, timeout=30)
        # Each worker is a core's loop already: none started an RSA helper
        # (a lone server under such load does, test_streams_rsahelper).
        pids = [e["pid"] for e in server.events() if e.get("event") == "listening"]
        assert [rsa_helpers_of(pid) for pid in pids] == [[], []]
        result = server.stop()
    assert sorted(answers) == sorted(b"hi %d" % n for n in range(CONNECTIONS))
    listening = result.named("listening")
    assert {e["worker"] for e in listening} == {1, 2}
    assert len({e["pid"] for e in listening}) == 2
    assert {e["port"] for e in listening} == {server.port}
    connects = result.named("connect")
    by_worker = {w: [e for e in connects if e["worker"] == w] for w in (1, 2)}
    assert all(by_worker.values()), f"one worker took every connection: {by_worker}"
    # Ctrl-C reaches every worker through the parent, and each stops cleanly.
    assert {e["worker"] for e in result.named("stopped")} == {1, 2}
    assert result.returncode == 130


@pytest.mark.parametrize("workers", ["0", "-1"])
def test_workers_must_be_positive(pki_dir: Path, workers: str) -> None:
    result = run(*server_args(pki_dir, "--workers", workers))
    assert result.returncode == 2
    assert "--workers" in result.stderr
