"""The direct socket path: what trio.SocketStream would do, on real loopback sockets.

A ToyTLSStream over exactly a ``trio.SocketStream`` reads and writes the
socket itself (``toytls.streams.direct``). These tests hold it to
SocketStream's behaviour where the two could differ: partial writes, a
closed or reset socket, the end of the stream, and cancellation.
"""

from __future__ import annotations

import os
import socket
import struct

import pytest
import trio
from cryptography.hazmat.primitives import serialization

import toytls
from toytls.pki.generate import PKI
from toytls.streams.direct import ReadFirst, can_go_direct, receive_direct, send_direct


async def _pair() -> tuple[trio.SocketStream, trio.SocketStream]:
    listener = (await trio.open_tcp_listeners(0, host="127.0.0.1"))[0]
    port = listener.socket.getsockname()[1]
    client = await trio.open_tcp_stream("127.0.0.1", port)
    server = await listener.accept()
    await listener.aclose()
    assert isinstance(server, trio.SocketStream)
    return client, server


def test_only_a_plain_socket_stream_goes_direct() -> None:
    async def main() -> None:
        client, server = await _pair()
        assert can_go_direct(client)
        left, _ = trio.testing.memory_stream_pair()
        assert not can_go_direct(left)
        await client.aclose()
        await server.aclose()

    trio.run(main)


def test_big_sends_wait_for_the_reader() -> None:
    """More than the socket buffers hold: the send waits, then finishes."""
    payload = bytes(range(256)) * 40_000  # 10 MB

    async def main() -> None:
        client, server = await _pair()
        received = bytearray()

        async def read_all() -> None:
            while len(received) < len(payload):
                await trio.sleep(0)  # a slow reader: the writer must wait
                received.extend(await receive_direct(server, 65536))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(read_all)
            await send_direct(client, payload)
        assert bytes(received) == payload
        await client.aclose()
        assert await receive_direct(server, 10) == b""
        await server.aclose()

    trio.run(main)


def test_a_closed_socket_is_closed_resource_error() -> None:
    async def main() -> None:
        client, server = await _pair()
        await client.aclose()
        with pytest.raises(trio.ClosedResourceError):
            await send_direct(client, b"x")
        with pytest.raises(trio.ClosedResourceError):
            await receive_direct(client, 10)
        await server.aclose()

    trio.run(main)


def test_closing_wakes_a_waiting_receive() -> None:
    async def main() -> None:
        client, server = await _pair()

        async def close_soon() -> None:
            await trio.sleep(0.05)
            await client.aclose()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(close_soon)
            with pytest.raises(trio.ClosedResourceError):
                await receive_direct(client, 10)
        await server.aclose()

    trio.run(main)


def test_a_reset_is_broken_resource_error() -> None:
    async def main() -> None:
        client, server = await _pair()
        # SO_LINGER 0: closing sends RST instead of FIN.
        server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        await server.aclose()
        await trio.sleep(0.05)
        with pytest.raises(trio.BrokenResourceError) as info:
            await receive_direct(client, 10)
        assert isinstance(info.value.__cause__, OSError)
        await client.aclose()

    trio.run(main)


def test_shut_down_for_writing_refuses_to_send() -> None:
    async def main() -> None:
        client, server = await _pair()
        await client.send_eof()
        with pytest.raises(trio.ClosedResourceError):
            await send_direct(client, b"x")
        await client.aclose()
        await server.aclose()

    trio.run(main)


def test_a_cancelled_receive_reads_nothing() -> None:
    async def main() -> None:
        client, server = await _pair()
        with trio.move_on_after(0.05):
            await receive_direct(client, 10)
        await send_direct(server, b"after")
        assert await receive_direct(client, 10) == b"after"
        await client.aclose()
        await server.aclose()

    trio.run(main)


def test_a_cancelled_send_writes_nothing() -> None:
    async def main() -> None:
        client, server = await _pair()
        with trio.CancelScope() as scope:
            scope.cancel()
            with pytest.raises(trio.Cancelled):
                await send_direct(client, b"x")
        with trio.testing.assert_checkpoints():
            await send_direct(client, b"after")
        assert await receive_direct(server, 10) == b"after"  # no "x" before it
        await client.aclose()
        await server.aclose()

    trio.run(main)


@pytest.mark.parametrize("first", list(ReadFirst))
def test_every_way_of_reading_is_a_checkpoint_and_loses_nothing(first: ReadFirst) -> None:
    """Each mode checks for cancellation before reading and yields to the scheduler."""

    async def main() -> None:
        client, server = await _pair()
        await send_direct(server, b"one")
        await trio.sleep(0.05)
        with trio.CancelScope() as scope:
            scope.cancel()
            with pytest.raises(trio.Cancelled):
                await receive_direct(client, 10, first)  # bytes are there: still cancelled
        with trio.testing.assert_checkpoints():
            assert await receive_direct(client, 10, first) == b"one"

        async def later() -> None:
            await trio.sleep(0.05)
            await send_direct(server, b"two")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(later)
            with trio.testing.assert_checkpoints():  # nothing there yet: it waits
                assert await receive_direct(client, 10, first) == b"two"
        await client.aclose()
        await server.aclose()

    trio.run(main)


def test_posix_only(monkeypatch: pytest.MonkeyPatch) -> None:
    async def main() -> None:
        client, server = await _pair()
        with monkeypatch.context() as patch:
            patch.setattr(os, "name", "nt")
            assert not can_go_direct(client)
        await client.aclose()
        await server.aclose()

    trio.run(main)


def test_a_toytls_stream_over_tcp_goes_direct(pki: PKI) -> None:
    """The whole stream on the direct path: handshake, data both ways, a cut."""
    server_context = toytls.Context(server_side=True)
    server_context.certificate_chain = tuple(
        c.public_bytes(serialization.Encoding.DER) for c in pki.chain
    )
    server_context.private_key = pki.server.key
    client_context = toytls.Context()
    client_context.roots = [pki.root.certificate]

    async def main() -> None:
        client_tcp, server_tcp = await _pair()
        client = toytls.ToyTLSStream(client_tcp, client_context, server_hostname="localhost")
        server = toytls.ToyTLSStream(server_tcp, server_context, server_side=True)
        assert client._direct is client_tcp
        async with trio.open_nursery() as nursery:
            nursery.start_soon(server.do_handshake)
            await client.do_handshake()
        big = b"x" * 200_000
        async with trio.open_nursery() as nursery:
            nursery.start_soon(client.send_all, big)
            got = bytearray()
            while len(got) < len(big):
                got += await server.receive_some()
        assert bytes(got) == big
        await server_tcp.aclose()  # the transport goes away under the server
        with pytest.raises(trio.ClosedResourceError):
            await server_tcp.send_all(b"")
        with pytest.raises(trio.BrokenResourceError):
            await server.receive_some()
        with pytest.raises(trio.BrokenResourceError):
            await client.receive_some()  # a cut without close_notify
        await client.aclose()

    trio.run(main)
