"""The RSA helper process, for real: a child process, a socket pair, RSA-OAEP.

A busy server hands key X to its helper (``toytls.streams.rsahelper``); these
tests check that the helper's answers are the inline ones, that every
handshake completes whatever happens to the helper (stopped, killed,
never started), that a cancelled wait loses nothing, and that no helper
outlives its trio run or its server.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
from pathlib import Path

import pytest
import trio
import trio.testing
from cryptography.hazmat.primitives.asymmetric import rsa
from processes import process_alive, rsa_helpers_of, start_server, wait_until

import toytls
from toytls.core.keyschedule import OAEP_PADDING, encrypt_secret
from toytls.pki.generate import PKI
from toytls.streams.rsachild import HEAD, KEY, SECRET, take_frames
from toytls.streams.rsahelper import RSAHelper, rsa_helper, start_rsa_helper


async def _ready_helper() -> RSAHelper:
    assert await start_rsa_helper(), "the RSA helper did not start"
    helper = rsa_helper()
    assert helper.process is not None
    return helper


async def _ready_helper_and_pid() -> tuple[RSAHelper, int]:
    helper = await _ready_helper()
    assert helper.process is not None
    return helper, helper.process.pid


def _secret_for(key: rsa.RSAPrivateKey) -> tuple[bytes, bytes]:
    """A fresh secret and its encryption to ``key``."""
    secret = os.urandom(32)
    return secret, encrypt_secret(key.public_key(), secret)


def _kill(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


async def _echo(stream: toytls.ToyTLSStream) -> None:
    async with stream:
        while data := await stream.receive_some(65536):
            await stream.send_all(data)


async def _busy_handshakes(port: int, client: toytls.Context, rounds: int) -> int:
    """``rounds`` x 8 concurrent handshakes, each echoing its own message.

    A task that only yields runs meanwhile, so whenever the server meets a
    key exchange another task is ready to run: the case for the helper.
    """
    completed = 0

    async def one(n: int) -> None:
        nonlocal completed
        stream = await toytls.open_toytls_over_tcp_stream(
            "127.0.0.1", port, context=client, server_hostname="localhost"
        )
        async with stream:
            message = f"handshake {n}".encode() * 50
            await stream.send_all(message)
            echoed = b""
            while len(echoed) < len(message):
                echoed += await stream.receive_some(65536)
            assert echoed == message
        completed += 1

    done = False

    async def yielder() -> None:
        while not done:
            await trio.sleep(0)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(yielder)
        for r in range(rounds):
            async with trio.open_nursery() as clients:
                for n in range(8):
                    clients.start_soon(one, r * 8 + n)
        done = True
    return completed


async def _serve(nursery: trio.Nursery, server: toytls.Context) -> int:
    async def handler(tcp: trio.SocketStream) -> None:
        stream = toytls.ToyTLSStream(tcp, server, server_side=True)
        try:
            await _echo(stream)
        except trio.BrokenResourceError:
            pass

    serve = functools.partial(trio.serve_tcp, handler, 0, host="127.0.0.1")
    listeners = await nursery.start(serve)
    port: int = listeners[0].socket.getsockname()[1]
    return port


def _contexts(pki_dir: Path) -> tuple[toytls.Context, toytls.Context]:
    server = toytls.create_server_context(
        certfile=pki_dir / "chain.pem", keyfile=pki_dir / "server.key"
    )
    return server, toytls.create_default_context(cafile=pki_dir / "root.pem")


async def test_a_busy_server_hands_key_x_to_the_helper_and_every_handshake_completes(
    pki_dir: Path,
) -> None:
    server, client = _contexts(pki_dir)
    helper = await _ready_helper()
    assert helper.process is not None
    assert rsa_helpers_of(os.getpid()) == [helper.process.pid]
    async with trio.open_nursery() as nursery:
        port = await _serve(nursery, server)
        assert await _busy_handshakes(port, client, rounds=4) == 32
        nursery.cancel_scope.cancel()
    load = server.key_exchange_load
    assert load.offloaded >= 1
    assert 1 <= load.peak <= server.handshake_workers
    assert load.pending == 0


async def test_handshake_workers_zero_keeps_rsa_inline_and_starts_no_helper(
    pki_dir: Path,
) -> None:
    server, client = _contexts(pki_dir)
    server.handshake_workers = 0
    async with trio.open_nursery() as nursery:
        port = await _serve(nursery, server)
        assert await _busy_handshakes(port, client, rounds=2) == 16
        nursery.cancel_scope.cancel()
    load = server.key_exchange_load
    assert (load.offloaded, load.peak) == (0, 0)
    assert rsa_helpers_of(os.getpid()) == []


async def test_a_helper_that_cannot_start_leaves_every_handshake_inline(
    pki_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No interpreter where there should be one: the run goes on without a helper."""
    monkeypatch.setattr(sys, "executable", str(pki_dir / "no-such-python"))
    assert not await start_rsa_helper()
    server, client = _contexts(pki_dir)
    async with trio.open_nursery() as nursery:
        port = await _serve(nursery, server)
        assert await _busy_handshakes(port, client, rounds=2) == 16
        nursery.cancel_scope.cancel()
    assert server.key_exchange_load.offloaded == 0
    assert rsa_helpers_of(os.getpid()) == []


async def test_the_helper_decrypts_as_inline_does(pki: PKI) -> None:
    helper = await _ready_helper()
    key = pki.server.key
    secret, encrypted = _secret_for(key)
    assert await helper.decrypt(key, encrypted) == secret
    # What inline decryption rejects, the helper rejects: b"" (never 32
    # bytes), after which the connection uses its fallback.
    flipped = bytes([encrypted[0] ^ 1]) + encrypted[1:]
    assert await helper.decrypt(key, flipped) == b""
    short = key.public_key().encrypt(os.urandom(31), OAEP_PADDING)
    assert await helper.decrypt(key, short) == b""
    # A second key is sent once and used for its own requests only.
    other = pki.attacker_key
    other_secret = os.urandom(32)
    for_other = other.public_key().encrypt(other_secret, OAEP_PADDING)
    assert await helper.decrypt(other, for_other) == other_secret
    assert await helper.decrypt(key, for_other) == b""
    assert await helper.decrypt(key, encrypted) == secret


async def test_a_helper_that_dies_mid_request_leaves_the_caller_to_decrypt_inline(
    pki: PKI,
) -> None:
    helper, pid = await _ready_helper_and_pid()
    key = pki.server.key
    _, encrypted = _secret_for(key)
    answers: list[bytes | None] = []
    _kill(pid, signal.SIGSTOP)  # it cannot answer: the request waits
    try:
        async with trio.open_nursery() as nursery:

            async def ask() -> None:
                answers.append(await helper.decrypt(key, encrypted))

            nursery.start_soon(ask)
            await trio.testing.wait_all_tasks_blocked()
            assert answers == []
            _kill(pid, signal.SIGKILL)
    finally:
        _kill(pid, signal.SIGKILL)
    assert answers == [None]
    assert not helper.ready
    assert await helper.decrypt(key, encrypted) is None  # inline for the rest of the run


async def test_a_cancelled_wait_for_the_helper_returns_none_and_is_cancelled_at_the_next_checkpoint(
    pki: PKI,
) -> None:
    helper, pid = await _ready_helper_and_pid()
    key = pki.server.key
    secret, encrypted = _secret_for(key)
    steps: list[object] = []
    _kill(pid, signal.SIGSTOP)
    try:
        with trio.CancelScope() as scope:
            async with trio.open_nursery() as nursery:

                async def ask() -> None:
                    # A stream has read these bytes: it must get to decrypt
                    # them inline, and only then see the cancellation.
                    steps.append(await helper.decrypt(key, encrypted))
                    await trio.lowlevel.checkpoint()
                    steps.append("not reached")

                nursery.start_soon(ask)
                await trio.testing.wait_all_tasks_blocked()
                scope.cancel()
    finally:
        _kill(pid, signal.SIGCONT)
    assert scope.cancelled_caught
    assert steps == [None]
    # The stopped helper now answers the cancelled request too; that answer
    # is dropped and this one gets its own.
    assert await helper.decrypt(key, encrypted) == secret


def test_the_helper_ends_with_its_trio_run() -> None:
    async def main() -> RSAHelper:
        helper = await _ready_helper()
        assert helper.process is not None
        assert process_alive(helper.process.pid)
        return helper

    helper = trio.run(main)
    assert helper.process is not None
    # It exited by itself on end of file (status 0), not killed after a wait.
    assert helper.process.returncode == 0
    assert not process_alive(helper.process.pid)
    assert rsa_helpers_of(os.getpid()) == []


def test_a_killed_server_takes_its_helper_with_it(pki_dir: Path) -> None:
    """SIGKILL leaves the server no time to stop its helper: end of file does."""
    _, client = _contexts(pki_dir)
    with start_server(pki_dir) as server:
        helpers: list[int] = []

        def helper_started() -> bool:
            helpers[:] = rsa_helpers_of(server.process.pid)
            return bool(helpers) or trio.run(_busy_handshakes, server.port, client, 1) < 0

        wait_until(helper_started, timeout=120)
        server.process.kill()
        server.process.wait()
        wait_until(lambda: not any(process_alive(pid) for pid in helpers), timeout=60)


def test_frames_split_across_reads_wait_for_their_rest() -> None:
    first = HEAD.pack(SECRET, 7, 3) + b"abc"
    second = HEAD.pack(KEY, 8, 5) + b"12345"
    pending = bytearray(first + second[:6])
    assert take_frames(pending) == [(SECRET, 7, b"abc")]
    assert pending == second[:6]
    pending += second[6:]
    assert take_frames(pending) == [(KEY, 8, b"12345")]
    assert pending == b""
