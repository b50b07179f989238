"""splice() and abort(): the two ends of a tunnel, in one process.

Plain streams are real loopback TCP; toytls streams run over them with the
session's certificates. No mocks: each check watches what the far end
actually receives.
"""

from __future__ import annotations

import functools
import socket
import struct
from pathlib import Path

import pytest
import trio

import toytls
from toytls.streams.splice import CHUNK, abort, splice

MIB = 1024 * 1024


async def tcp_pair(nursery: trio.Nursery) -> tuple[trio.SocketStream, trio.SocketStream]:
    """Two ends of one real loopback TCP connection, closed when ``nursery`` ends."""
    accepted: list[trio.SocketStream] = []
    got_one = trio.Event()

    async def handler(stream: trio.SocketStream) -> None:
        async with stream:
            accepted.append(stream)
            got_one.set()
            await trio.sleep_forever()

    listeners = await nursery.start(functools.partial(trio.serve_tcp, host="127.0.0.1"), handler, 0)
    port = listeners[0].socket.getsockname()[1]
    client = await trio.open_tcp_stream("127.0.0.1", port)

    async def close_at_the_end() -> None:
        async with client:
            await trio.sleep_forever()

    nursery.start_soon(close_at_the_end)
    await got_one.wait()
    return client, accepted[0]


async def read_all(stream: trio.abc.ReceiveStream) -> bytes:
    data = bytearray()
    while chunk := await stream.receive_some():
        data += chunk
    return bytes(data)


async def test_both_directions_with_half_close_each_way() -> None:
    """Two TCP connections joined: each side sends, then ends, then reads all."""
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            left, a = await tcp_pair(nursery)
            b, right = await tcp_pair(nursery)
            up, down = b"u" * (3 * CHUNK + 7), b"d" * (2 * CHUNK + 1)
            results: dict[str, bytes] = {}

            async def side(name: str, stream: trio.SocketStream, data: bytes) -> None:
                await stream.send_all(data)
                await stream.send_eof()  # "that was all", but keep reading
                results[name] = await read_all(stream)

            async with trio.open_nursery() as inner:
                inner.start_soon(side, "left", left, up)
                inner.start_soon(side, "right", right, down)
                result = await splice(a, b)
            nursery.cancel_scope.cancel()
    assert results == {"left": down, "right": up}
    assert (result.a_to_b, result.b_to_a) == (len(up), len(down))
    assert result.error is None
    assert result.failed_side is None


async def test_a_broken_side_stops_both_directions_and_says_which() -> None:
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            left, a = await tcp_pair(nursery)
            b, right = await tcp_pair(nursery)
            await left.send_all(b"before the break")
            # A reset from the left: reading `a` fails, not ends.
            left.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            await left.aclose()
            result = await splice(a, b)
            assert await right.receive_some() == b"before the break"
            nursery.cancel_scope.cancel()
    assert isinstance(result.error, trio.BrokenResourceError)
    assert result.failed_side == "a"
    assert result.a_to_b == len(b"before the break")


async def test_abort_resets_a_tcp_stream() -> None:
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            near, far = await tcp_pair(nursery)
            await abort(near)
            with pytest.raises(trio.BrokenResourceError) as caught:
                await far.receive_some()
            nursery.cancel_scope.cancel()
    assert isinstance(caught.value.__cause__, ConnectionResetError)


async def test_a_clean_close_is_not_a_reset() -> None:
    """The control for the test above: aclose() is an ordinary end."""
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            near, far = await tcp_pair(nursery)
            await near.aclose()
            assert await far.receive_some() == b""
            nursery.cancel_scope.cancel()


@pytest.mark.parametrize("aborted", [True, False])
async def test_abort_leaves_a_toytls_peer_seeing_truncation(pki_dir: Path, aborted: bool) -> None:
    """abort() closes a toytls stream without close_notify; aclose() sends it."""
    client_context = toytls.create_default_context(cafile=pki_dir / "root.pem")
    server_context = toytls.create_server_context(
        certfile=pki_dir / "chain.pem", keyfile=pki_dir / "server.key"
    )
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            near_tcp, far_tcp = await tcp_pair(nursery)
            near = toytls.ToyTLSStream(near_tcp, client_context, server_hostname="localhost")
            far = toytls.ToyTLSStream(far_tcp, server_context, server_side=True)
            async with trio.open_nursery() as handshakes:
                handshakes.start_soon(near.do_handshake)
                handshakes.start_soon(far.do_handshake)
            await near.send_all(b"part of the data")
            if aborted:
                await abort(near)
            else:
                await near.aclose()
            assert await far.receive_some() == b"part of the data"
            if aborted:
                with pytest.raises(trio.BrokenResourceError) as caught:
                    await far.receive_some()
                assert "truncation" in str(caught.value.__cause__)
            else:
                assert await far.receive_some() == b""
            nursery.cancel_scope.cancel()
