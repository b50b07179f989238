"""Server limits (§6) under load, over real sockets on 127.0.0.1.

The load runs are the functions of ``scripts/load.py``: each test here runs
one scaled down (the ``ci`` variants, a few seconds in all) and checks its
report — no lost or corrupted byte, every dribbler dropped at the handshake
deadline and not before, file descriptors and trio tasks back to where they
were, every server handler finished. The ``full`` variants run the sizes of
the issue (500 clients x 256 KiB, 200 slowloris at the default 10 s, 1,000
idle connections, a flood of 1,000 key exchanges); they are marked ``slow``
and skipped unless ``TOYTLS_SLOW=1`` is set::

    TOYTLS_SLOW=1 .venv/bin/python -m pytest tests/test_streams_limits.py

Nothing here bounds how fast anything is: a deadline test compares against
the configured deadline, with generous slack.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import trio
from scripts_import import script

import toytls
from toytls import events as ev
from toytls.core.connection import Connection

load = script("load")

#: The full-size variants: marked slow, and run only with TOYTLS_SLOW=1.
FULL_SIZE = (
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("TOYTLS_SLOW") != "1", reason="full-size load run: set TOYTLS_SLOW=1"
    ),
)


def server_context(pki_dir: Path) -> toytls.Context:
    return toytls.create_server_context(
        certfile=pki_dir / "chain.pem", keyfile=pki_dir / "server.key"
    )


def client_context(pki_dir: Path) -> toytls.Context:
    return toytls.create_default_context(cafile=pki_dir / "root.pem")


def _need_fds(connections: int) -> None:
    needed = load.fds_needed(connections)
    if load.raise_fd_limit(needed) < needed:
        pytest.skip(f"needs {needed} file descriptors; the hard limit is lower")


def _assert_back_to_baseline(report: Any) -> None:
    """File descriptors and trio tasks are what they were before the run."""
    assert report.fds_after == report.fds_before
    assert report.tasks_after == report.tasks_before


# ----------------------------------------------------------------- exchange


@pytest.mark.parametrize(
    ("clients", "size"),
    [
        pytest.param(40, 64 * 1024, id="ci"),
        pytest.param(500, 256 * 1024, id="full", marks=FULL_SIZE),
    ],
)
async def test_concurrent_clients_lose_and_corrupt_nothing(
    pki_dir: Path, clients: int, size: int
) -> None:
    """Every client sends ``size`` bytes while receiving ``size`` others, all at once.

    Each byte is compared with what was sent and SHA-256 is compared both
    ways; close_notify ends both directions, so every handler finishes.
    """
    _need_fds(clients)
    report = await load.run_exchange(
        server_context(pki_dir), client_context(pki_dir), clients=clients, size=size, timeout=300
    )
    assert report.error_samples == ()
    assert report.client_errors == report.server_errors == 0
    assert report.lost_bytes == report.corrupted_bytes == report.sha256_mismatches == 0
    assert report.completed == clients
    assert report.bytes_verified == report.bytes_expected == 2 * clients * size
    _assert_back_to_baseline(report)


# ---------------------------------------------------------------- slowloris


@pytest.mark.parametrize(
    ("connections", "deadline"),
    [
        pytest.param(20, 0.5, id="ci"),
        pytest.param(200, None, id="full", marks=FULL_SIZE),
    ],
)
async def test_slowloris_dropped_at_the_deadline_honest_client_served(
    pki_dir: Path, connections: int, deadline: float | None
) -> None:
    """Dribblers never finish a ClientHello; each is dropped at the deadline.

    The drop carries no alert (§6). An honest client that connects while
    they dribble is served, and done before the deadline — before the
    first dribbler is dropped. ``deadline=None`` is the default 10 s.
    """
    _need_fds(connections)
    context = server_context(pki_dir)
    if deadline is not None:
        context.handshake_timeout = deadline
    deadline = context.handshake_timeout
    report = await load.run_slowloris(
        context, client_context(pki_dir), connections=connections, timeout=deadline + 60
    )
    assert report.closed == connections
    assert report.bytes_from_server == 0
    assert report.server_deadline_drops == connections
    assert report.server_other_failures == 0
    # Not before the deadline (the client notes its connect a little after
    # the server's clock starts at accept), and not long after it.
    assert report.closed_after_min >= deadline * 0.8
    assert report.closed_after_max <= deadline + 3.0
    assert report.honest_ok, report.honest_error
    assert report.honest_latency < deadline
    assert report.honest_done_before_first_drop
    _assert_back_to_baseline(report)


# --------------------------------------------------------------------- idle


@pytest.mark.parametrize(
    "connections",
    [pytest.param(100, id="ci"), pytest.param(1000, id="full", marks=FULL_SIZE)],
)
async def test_idle_connections_give_back_fds_tasks_and_memory(
    pki_dir: Path, connections: int
) -> None:
    """Established idle connections hold two descriptors each, and free them.

    After close, file descriptors and tasks are back to the baseline, every
    server handler finished, and what tracemalloc still counts once the
    server stopped is a small fraction of what the connections held (trio's
    sets and dicts keep their peak size; no connection stays behind).
    """
    _need_fds(connections)
    report = await load.run_idle(
        server_context(pki_dir), client_context(pki_dir), connections=connections, timeout=300
    )
    assert report.error_samples == ()
    assert report.opened == connections
    assert report.fds_open >= report.fds_before + 2 * connections
    assert report.tasks_open >= report.tasks_before + connections  # one handler each
    assert report.server_handlers_left == 0
    _assert_back_to_baseline(report)
    held_kib = report.traced_KiB_per_connection * connections
    assert held_kib > 0
    assert report.traced_KiB_left_after_stop < 0.1 * held_kib


# -------------------------------------------------------------------- flood


@pytest.mark.parametrize(
    "key_exchanges",
    [pytest.param(100, id="ci"), pytest.param(1000, id="full", marks=FULL_SIZE)],
)
async def test_key_exchange_flood_leaves_established_connection_working(
    pki_dir: Path, key_exchanges: int
) -> None:
    """A flood of RSA key exchanges at once; an established connection keeps echoing.

    Every flooder makes the server decrypt a key exchange (each ends in
    bad_record_mac, at the replayed Finished), some in the RSA helper
    process, at most ``handshake_workers`` waiting on it at a time, and the
    echo connection sees no error and keeps going.
    """
    _need_fds(key_exchanges)
    context = server_context(pki_dir)
    report = await load.run_flood(
        context, client_context(pki_dir), key_exchanges=key_exchanges, timeout=300
    )
    assert report.server_bad_record_mac == key_exchanges
    assert report.server_other_failures == 0
    assert report.flooders_answered == key_exchanges
    assert report.echo_errors == 0, report.error_samples
    assert report.echo_round_trips_during_flood >= 1
    load_seen = context.key_exchange_load
    assert 1 <= load_seen.peak <= context.handshake_workers
    assert load_seen.offloaded >= 1
    assert load_seen.pending == 0
    _assert_back_to_baseline(report)


# ------------------------------------------------------- record size limits


async def _read_to_eof(tcp: trio.SocketStream) -> bytes:
    answer = b""
    try:
        while chunk := await tcp.receive_some(65536):
            answer += chunk
    except trio.BrokenResourceError:
        pass
    return answer


def _header(content_type: toytls.ContentType, length: int) -> bytes:
    return bytes((content_type, 1, 0)) + length.to_bytes(2, "big")


@pytest.mark.parametrize("length", [16385, 16401, 65535])
async def test_oversized_header_refused_before_its_body_is_sent(pki_dir: Path, length: int) -> None:
    """A handshake record header over 16384 is refused at once, body never sent.

    The server answers record_overflow (unprotected) and closes while the
    body is still unsent; a server waiting for the body would instead drop
    the connection silently at the 10 s deadline, after ``fail_after``.
    """
    with trio.fail_after(5):
        async with load.serving(server_context(pki_dir), load.echo) as server:
            tcp = await trio.open_tcp_stream("127.0.0.1", server.port)
            async with tcp:
                await tcp.send_all(_header(toytls.ContentType.HANDSHAKE, length))
                answer = await _read_to_eof(tcp)
            await server.wait_ended(1)
    assert answer == bytes((21, 1, 0, 0, 2, 2, toytls.AlertDescription.RECORD_OVERFLOW))
    cause = server.failures[0].__cause__
    assert isinstance(cause, toytls.ToyTLSError)
    assert cause.alert == toytls.AlertDescription.RECORD_OVERFLOW and not cause.from_peer


async def _handshake_by_hand(tcp: trio.SocketStream, context: toytls.Context) -> Connection:
    """Run a client handshake with a sans-I/O connection over ``tcp``."""
    client = Connection(context.client_config("localhost"))
    client.initiate()
    await tcp.send_all(client.data_to_send())
    while not client.handshake_complete:
        data = await tcp.receive_some(65536)
        assert data, "the server closed during the handshake"
        events = client.receive_data(data)
        assert not any(isinstance(e, ev.ConnectionFailed) for e in events), events
        if out := client.data_to_send():
            await tcp.send_all(out)
    return client


async def test_oversized_protected_header_refused_before_its_body_is_sent(
    pki_dir: Path,
) -> None:
    """After the handshake a 16401-byte record (limit 16400) is refused at once.

    The established server stream answers a protected record_overflow as
    soon as the 5-byte header is in; no body byte is ever sent, and an
    established connection has no deadline that could end it otherwise.
    """
    with trio.fail_after(5):
        async with load.serving(server_context(pki_dir), load.echo) as server:
            tcp = await trio.open_tcp_stream("127.0.0.1", server.port)
            async with tcp:
                client = await _handshake_by_hand(tcp, client_context(pki_dir))
                await tcp.send_all(_header(toytls.ContentType.APPLICATION_DATA, 16401))
                answer = await _read_to_eof(tcp)
            await server.wait_ended(1)
    events = client.receive_data(answer)
    assert isinstance(events[-1], ev.ConnectionFailed)
    assert events[-1].error.from_peer
    assert events[-1].error.alert == toytls.AlertDescription.RECORD_OVERFLOW
    cause = server.failures[0].__cause__
    assert isinstance(cause, toytls.ToyTLSError)
    assert cause.alert == toytls.AlertDescription.RECORD_OVERFLOW and not cause.from_peer
