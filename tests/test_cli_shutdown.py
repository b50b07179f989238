"""Stopping a command: endpoints end cleanly, relays pass the cut on (issue 12).

close_notify means "I sent everything I meant to". A server or an
interactive client stopped by a signal has done that, so it sends
close_notify on each open connection; a relay (tunnel, ``server --forward``,
proxy) cannot know whether data was in flight, so it cuts each open
connection: a TCP reset on plain TCP, no close_notify on toytls.

Real processes on loopback; the peers on the far ends are this test's own
trio code, so that each test can see exactly how its end was closed. Every
wait is for an event or a byte count, bounded by a timeout; each negative
check has a control that shows it can fail (SIGKILL gives the cut that a
clean stop must not).
"""

from __future__ import annotations

import functools
import signal
import socket
import struct
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import trio
from processes import (
    ENV,
    TOYTLS,
    Background,
    Result,
    client_args,
    start_proxy,
    start_server,
    wait_until,
)

from toytls.streams.context import create_default_context
from toytls.streams.stream import ToyTLSStream

#: A bound for every trio part of a test: "did not hang", never a measurement.
LIMIT = 60.0
#: Bytes that must have crossed before a relay is stopped "mid-transfer".
IN_FLIGHT = 1 << 20


def _one(events: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [e for e in events if e.get("event") == kind]
    assert len(found) == 1, events
    return found[0]


async def _wait_for(predicate: Callable[[], bool]) -> None:
    with trio.fail_after(LIMIT):
        while not predicate():
            await trio.sleep(0.02)


async def _toytls_client(pki_dir: Path, port: int) -> ToyTLSStream:
    tcp = await trio.open_tcp_stream("127.0.0.1", port)
    context = create_default_context(cafile=pki_dir / "root.pem")
    stream = ToyTLSStream(tcp, context, server_hostname="localhost")
    await stream.do_handshake()
    return stream


async def _how_it_ends(stream: trio.abc.ReceiveStream) -> str:
    """Read to the end: "clean" (b""), or "broken" (reset, truncation)."""
    try:
        while await stream.receive_some(1 << 16):
            pass
    except trio.BrokenResourceError:
        return "broken"
    return "clean"


def _run(main: Callable[[], Awaitable[None]]) -> None:
    async def bounded() -> None:
        with trio.fail_after(LIMIT):
            await main()

    trio.run(bounded)


# --------------------------------------------------------- the end seen from a peer


@pytest.mark.parametrize("how", ["close", "reset"])
def test_control_a_reset_and_a_clean_end_read_differently(how: str) -> None:
    """The check the relay tests rely on tells a reset from a FIN."""

    async def main() -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        port = listeners[0].socket.getsockname()[1]
        client = await trio.open_tcp_stream("127.0.0.1", port)
        server = await listeners[0].accept()
        await server.send_all(b"x" * 1000)
        if how == "reset":
            server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        await server.aclose()
        assert await _how_it_ends(client) == ("clean" if how == "close" else "broken")
        await client.aclose()
        await listeners[0].aclose()

    _run(main)


# ------------------------------------------------------------------- endpoints


@pytest.mark.parametrize(
    ("sig", "status", "end"),
    [
        (signal.SIGINT, 130, "clean"),
        (signal.SIGTERM, 143, "clean"),
        (signal.SIGKILL, -signal.SIGKILL, "broken"),  # the control: a real cut
    ],
)
def test_a_stopped_server_sends_close_notify_to_its_client(
    pki_dir: Path, sig: int, status: int, end: str
) -> None:
    server = start_server(pki_dir)
    seen: list[str] = []

    async def main() -> None:
        stream = await _toytls_client(pki_dir, server.port)
        await stream.send_all(b"ping")
        assert await stream.receive_some() == b"ping"
        server.process.send_signal(sig)
        seen.append(await _how_it_ends(stream))
        await trio.aclose_forcefully(stream)

    try:
        _run(main)
        server.process.wait(timeout=30)  # so that stop() sends no second signal
    finally:
        stopped = server.stop()
    assert seen == [end]
    assert stopped.returncode == status, stopped.stderr
    if end == "clean":
        disconnect = _one(stopped.events, "disconnect")
        assert disconnect["stopped"] and disconnect["close_notify_sent"], disconnect
        assert _one(stopped.events, "stopped")["exit"] == status
        assert "Traceback" not in stopped.stderr


def _interactive_client(pki_dir: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*TOYTLS, *client_args(pki_dir, f"127.0.0.1:{port}")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


@pytest.mark.parametrize(
    ("sig", "status", "clean"),
    [
        (signal.SIGINT, 130, True),
        (signal.SIGTERM, 143, True),
        (signal.SIGKILL, -signal.SIGKILL, False),  # the control: the server sees a cut
    ],
)
def test_a_stopped_interactive_client_ends_with_close_notify(
    pki_dir: Path, sig: int, status: int, clean: bool
) -> None:
    with start_server(pki_dir) as server:
        client = _interactive_client(pki_dir, server.port)
        try:
            assert client.stdin is not None
            client.stdin.write("hello\n")
            client.stdin.flush()
            # Echoed: the handshake is done and the session is open.
            wait_until(lambda: any(e.get("event") == "connect" for e in server.events()), 30)
            wait_until(
                lambda: any(
                    e.get("event") == "application_data" and e.get("side") == "server"
                    for e in server.events()
                ),
                30,
            )
            client.send_signal(sig)
            _, err = client.communicate(timeout=30)
        finally:
            if client.poll() is None:
                client.kill()
                client.communicate()
        wait_until(lambda: any(e.get("event") == "disconnect" for e in server.events()), 30)
        stopped = server.stop()
    assert client.returncode == status, err
    disconnect = _one(stopped.events, "disconnect")
    if clean:
        assert "Traceback" not in err
        assert disconnect["how"] == "disconnected" and disconnect["alert"] is None, disconnect
        assert "interrupted" in err
    else:
        assert disconnect["how"].startswith("failed"), disconnect


# ---------------------------------------------------------------------- relays


async def _endless_service(
    listener: trio.SocketListener, ends: dict[str, str], *, send: bool
) -> None:
    """Accept one connection; send forever (a download) or read forever (an upload)."""
    conn = await listener.accept()
    try:
        if send:
            while True:
                await conn.send_all(b"d" * (1 << 16))
        else:
            ends["service"] = await _how_it_ends(conn)
    except trio.BrokenResourceError:
        ends["service"] = "broken"
    finally:
        await trio.aclose_forcefully(conn)


async def _service_listener() -> tuple[trio.SocketListener, int]:
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port: int = listeners[0].socket.getsockname()[1]
    return listeners[0], port


def _has(background: Background, kind: str) -> Callable[[], bool]:
    return lambda: any(e.get("event") == kind for e in background.events())


def test_a_stopped_tunnel_cuts_both_sides_mid_download(pki_dir: Path) -> None:
    """SIGTERM mid-download: the local program gets a reset, the server a truncation."""
    ends: dict[str, str] = {}
    results: dict[str, Result] = {}

    async def main() -> None:
        listener, service_port = await _service_listener()
        with start_server(pki_dir, "--forward", f"127.0.0.1:{service_port}") as server:
            tunnel = Background(
                "tunnel",
                "--accept",
                "127.0.0.1:0",
                "--connect",
                server.address,
                "--cafile",
                str(pki_dir / "root.pem"),
            )
            with tunnel:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(
                        functools.partial(_endless_service, listener, ends, send=True)
                    )
                    local = await trio.open_tcp_stream("127.0.0.1", tunnel.port)
                    received = 0
                    while received < IN_FLIGHT:
                        received += len(await local.receive_some(1 << 16))
                    tunnel.process.send_signal(signal.SIGTERM)
                    ends["local"] = await _how_it_ends(local)
                    await trio.aclose_forcefully(local)
                    await _wait_for(lambda: "service" in ends)
                await _wait_for(lambda: tunnel.process.poll() is not None)
                results["tunnel"] = tunnel.stop()
            await _wait_for(_has(server, "disconnect"))
            results["server"] = server.stop()
        await listener.aclose()

    _run(main)
    assert ends == {"local": "broken", "service": "broken"}  # the server passed its cut on
    assert results["tunnel"].returncode == 143, results["tunnel"].stderr
    cut = _one(results["tunnel"].events, "disconnect")
    assert cut["stopped"] and cut["how"].startswith("cut by the stop"), cut
    far = _one(results["server"].events, "disconnect")
    assert far["how"].startswith("failed"), far


def test_a_stopped_forwarding_server_cuts_both_sides_mid_upload(pki_dir: Path) -> None:
    """SIGTERM mid-upload: the service gets a reset, the client no close_notify."""
    ends: dict[str, str] = {}
    results: dict[str, Result] = {}
    sent = 0

    async def upload(stream: ToyTLSStream) -> None:
        nonlocal sent
        try:
            while True:
                await stream.send_all(b"u" * (1 << 16))
                sent += 1 << 16
        except trio.BrokenResourceError:
            pass

    async def main() -> None:
        listener, service_port = await _service_listener()
        server = start_server(pki_dir, "--forward", f"127.0.0.1:{service_port}")
        with server:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(functools.partial(_endless_service, listener, ends, send=False))
                stream = await _toytls_client(pki_dir, server.port)
                nursery.start_soon(upload, stream)
                await _wait_for(lambda: sent >= IN_FLIGHT)
                server.process.send_signal(signal.SIGTERM)
                ends["client"] = await _how_it_ends(stream)
                await _wait_for(lambda: "service" in ends)
                nursery.cancel_scope.cancel()
            await trio.aclose_forcefully(stream)
            await _wait_for(lambda: server.process.poll() is not None)
            results["server"] = server.stop()
        await listener.aclose()

    _run(main)
    assert ends == {"client": "broken", "service": "broken"}
    stopped = results["server"]
    assert stopped.returncode == 143, stopped.stderr
    cut = _one(stopped.events, "disconnect")
    assert cut["stopped"] and not cut["close_notify_sent"], cut
    assert cut["how"].startswith("cut by the stop"), cut


def test_a_stopped_proxy_cuts_both_sides_mid_transfer(pki_dir: Path) -> None:
    """SIGTERM to a watching proxy mid-transfer: the client and the server both see a failure."""
    ends: dict[str, str] = {}
    results: dict[str, Result] = {}
    echoed = 0

    async def main() -> None:
        nonlocal echoed
        with start_server(pki_dir) as server:
            proxy = start_proxy(server.address, "watch")
            with proxy:
                stream = await _toytls_client(pki_dir, proxy.port)
                async with trio.open_nursery() as nursery:

                    async def upload() -> None:
                        try:
                            while True:
                                await stream.send_all(b"p" * (1 << 14))
                        except trio.BrokenResourceError:
                            pass

                    nursery.start_soon(upload)
                    try:
                        while echoed < IN_FLIGHT:
                            echoed += len(await stream.receive_some(1 << 16))
                        proxy.process.send_signal(signal.SIGTERM)
                        ends["client"] = await _how_it_ends(stream)
                    finally:
                        nursery.cancel_scope.cancel()
                await trio.aclose_forcefully(stream)
                await _wait_for(lambda: proxy.process.poll() is not None)
                results["proxy"] = proxy.stop()
            await _wait_for(_has(server, "disconnect"))
            results["server"] = server.stop()

    _run(main)
    assert ends == {"client": "broken"}
    assert results["proxy"].returncode == 143, results["proxy"].stderr
    assert _one(results["proxy"].events, "cut")["connection"] == 1
    far = _one(results["server"].events, "disconnect")
    assert far["how"].startswith("failed"), far
