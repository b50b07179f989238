"""ToyTLSStream: trio's generic stream checks, and real TCP on loopback."""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import trio
import trio.testing
from helpers import der

import toytls
from toytls import events as ev
from toytls.pki.generate import PKI

StreamPair = tuple[toytls.ToyTLSStream, toytls.ToyTLSStream]


def server_context(pki_dir: Path) -> toytls.Context:
    return toytls.create_server_context(
        certfile=pki_dir / "chain.pem", keyfile=pki_dir / "server.key"
    )


def client_context(pki_dir: Path) -> toytls.Context:
    return toytls.create_default_context(cafile=pki_dir / "root.pem")


async def _handshake_pair(
    client_transport: trio.abc.Stream,
    server_transport: trio.abc.Stream,
    pki_dir: Path,
    pki: PKI,
) -> StreamPair:
    client = toytls.ToyTLSStream(
        client_transport, client_context(pki_dir), server_hostname=pki.server_name
    )
    server = toytls.ToyTLSStream(server_transport, server_context(pki_dir), server_side=True)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(client.do_handshake)
        nursery.start_soon(server.do_handshake)
    return client, server


def stream_makers(
    pki_dir: Path, pki: PKI
) -> tuple[Callable[[], Awaitable[StreamPair]], Callable[[], Awaitable[StreamPair]]]:
    async def memory_pair() -> StreamPair:
        a, b = trio.testing.memory_stream_pair()
        return await _handshake_pair(a, b, pki_dir, pki)

    async def lockstep_pair() -> StreamPair:
        a, b = trio.testing.lockstep_stream_pair()
        return await _handshake_pair(a, b, pki_dir, pki)

    return memory_pair, lockstep_pair


async def test_generic_half_closeable_stream_checks(pki_dir: Path, pki: PKI) -> None:
    memory_pair, lockstep_pair = stream_makers(pki_dir, pki)
    await trio.testing.check_half_closeable_stream(memory_pair, lockstep_pair)


async def test_generic_checks_with_roles_flipped(pki_dir: Path, pki: PKI) -> None:
    memory_pair, lockstep_pair = stream_makers(pki_dir, pki)

    async def flipped_memory() -> StreamPair:
        client, server = await memory_pair()
        return server, client

    async def flipped_lockstep() -> StreamPair:
        client, server = await lockstep_pair()
        return server, client

    await trio.testing.check_half_closeable_stream(flipped_memory, flipped_lockstep)


async def test_session_description(pki_dir: Path, pki: PKI) -> None:
    a, b = trio.testing.memory_stream_pair()
    client = toytls.ToyTLSStream(a, client_context(pki_dir), server_hostname="LocalHost")
    with pytest.raises(toytls.NeedHandshakeError):
        _ = client.session
    server = toytls.ToyTLSStream(b, server_context(pki_dir), server_side=True)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(client.do_handshake)
        nursery.start_soon(server.do_handshake)
    assert client.session.server_name == "localhost"
    assert server.session.server_name == "localhost"
    assert client.session.verified is True and server.session.verified is None
    assert client.session.session_key_fingerprint == server.session.session_key_fingerprint
    leaf = hashlib.sha256(der(pki.server.certificate)).hexdigest()
    assert client.session.certificate_fingerprints[0] == leaf
    assert client.cipher() == ("AES-128-GCM", "toytls/1", 128)
    assert client.version() == "toytls/1"
    await client.aclose()
    await server.aclose()


async def _serve(
    nursery: trio.Nursery,
    handler: Callable[[toytls.ToyTLSStream], Awaitable[object]],
    context: toytls.Context,
) -> int:
    serve = functools.partial(toytls.serve_toytls_over_tcp, host="127.0.0.1")
    listeners: list[toytls.ToyTLSListener] = await nursery.start(serve, handler, 0, context)
    transport = listeners[0].transport_listener
    assert isinstance(transport, trio.SocketListener), transport
    port: int = transport.socket.getsockname()[1]
    return port


async def test_tcp_eight_mib_each_way(pki_dir: Path, pki: PKI) -> None:
    size = 8 * 1024 * 1024
    server_payload = os.urandom(size)
    client_payload = os.urandom(size)
    server_got = hashlib.sha256()

    async def drain(stream: toytls.ToyTLSStream, digest: hashlib._Hash, total: int) -> None:
        received = 0
        while received < total:
            chunk = await stream.receive_some(65536)
            assert chunk, "clean EOF before all data arrived"
            digest.update(chunk)
            received += len(chunk)

    async def handler(stream: toytls.ToyTLSStream) -> None:
        async with stream, trio.open_nursery() as inner:
            inner.start_soon(drain, stream, server_got, size)
            for start in range(0, size, 100_000):
                await stream.send_all(server_payload[start : start + 100_000])
        done.set()

    done = trio.Event()
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            port = await _serve(nursery, handler, server_context(pki_dir))
            client = await toytls.open_toytls_over_tcp_stream(
                "127.0.0.1", port, context=client_context(pki_dir), server_hostname="localhost"
            )
            client_got = hashlib.sha256()
            async with client, trio.open_nursery() as inner:
                inner.start_soon(drain, client, client_got, size)
                await client.send_all(client_payload)
            await done.wait()
            nursery.cancel_scope.cancel()
    assert client_got.digest() == hashlib.sha256(server_payload).digest()
    assert server_got.digest() == hashlib.sha256(client_payload).digest()


async def test_tcp_close_notify_half_close(pki_dir: Path, pki: PKI) -> None:
    async def handler(stream: toytls.ToyTLSStream) -> None:
        request = b""
        while chunk := await stream.receive_some():
            request += chunk
        # The client said it has finished; we can still answer.
        await stream.send_all(b"got " + request)
        await stream.aclose()

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            port = await _serve(nursery, handler, server_context(pki_dir))
            client = await toytls.open_toytls_over_tcp_stream(
                "127.0.0.1", port, context=client_context(pki_dir), server_hostname="localhost"
            )
            await client.send_all(b"ping")
            await client.send_eof()
            reply = b""
            while chunk := await client.receive_some():
                reply += chunk
            assert reply == b"got ping"
            assert await client.receive_some() == b""
            await client.aclose()
            nursery.cancel_scope.cancel()


async def test_tcp_truncation_is_an_error(pki_dir: Path, pki: PKI) -> None:
    async def handler(stream: toytls.ToyTLSStream) -> None:
        await stream.send_all(b"partial")
        # Cut TCP under the stream: no close_notify goes out.
        await stream.transport_stream.aclose()

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            port = await _serve(nursery, handler, server_context(pki_dir))
            client = await toytls.open_toytls_over_tcp_stream(
                "127.0.0.1", port, context=client_context(pki_dir), server_hostname="localhost"
            )
            assert await client.receive_some() == b"partial"
            with pytest.raises(trio.BrokenResourceError) as info:
                await client.receive_some()
            cause = info.value.__cause__
            assert isinstance(cause, toytls.ToyTLSError)
            assert cause.alert is None and "truncation" in str(cause)
            # Once broken, it stays broken.
            with pytest.raises(trio.BrokenResourceError):
                await client.send_all(b"x")
            await client.aclose()
            nursery.cancel_scope.cancel()


def _broken_handler(
    errors: list[BaseException],
) -> Callable[[toytls.ToyTLSStream], Awaitable[None]]:
    """A server handler that handshakes and records how the stream broke."""

    async def handler(stream: toytls.ToyTLSStream) -> None:
        try:
            await stream.do_handshake()
        except trio.BrokenResourceError as exc:
            errors.append(exc)

    return handler


async def test_rejected_certificate_on_both_sides(pki_dir: Path, pki: PKI) -> None:
    server_errors: list[BaseException] = []
    handler = _broken_handler(server_errors)

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            port = await _serve(nursery, handler, server_context(pki_dir))
            client = await toytls.open_toytls_over_tcp_stream(
                "127.0.0.1",
                port,
                context=client_context(pki_dir),
                server_hostname="wrong.example",
            )
            with pytest.raises(trio.BrokenResourceError) as info:
                await client.send_all(b"secret")
            cause = info.value.__cause__
            assert isinstance(cause, toytls.CertificateVerifyError)
            assert cause.alert == toytls.AlertDescription.BAD_CERTIFICATE
            assert "localhost" in cause.reason and not cause.from_peer
            await client.aclose()
            while not server_errors:
                await trio.sleep(0.01)
            nursery.cancel_scope.cancel()
    peer = server_errors[0].__cause__
    assert isinstance(peer, toytls.ToyTLSError)
    assert peer.from_peer and peer.alert == toytls.AlertDescription.BAD_CERTIFICATE


async def test_insecure_client_warns_and_reports_skipped(pki_dir: Path, pki: PKI) -> None:
    context = toytls.create_default_context()  # no roots at all
    context.verify = False
    seen: list[ev.Event] = []
    a, b = trio.testing.memory_stream_pair()
    client = toytls.ToyTLSStream(a, context, server_hostname="localhost", event_handler=seen.append)
    server = toytls.ToyTLSStream(b, server_context(pki_dir), server_side=True)
    with pytest.warns(toytls.ToyTLSInsecureWarning, match="NOT verifying"):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(client.do_handshake)
            nursery.start_soon(server.do_handshake)
    assert any(isinstance(e, ev.VerificationSkipped) for e in seen)
    assert client.session.verified is False


async def test_empty_trust_store_rejects_as_unknown_ca(pki_dir: Path, pki: PKI) -> None:
    a, b = trio.testing.memory_stream_pair()
    client = toytls.ToyTLSStream(a, toytls.create_default_context(), server_hostname="localhost")
    server = toytls.ToyTLSStream(b, server_context(pki_dir), server_side=True)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_swallow_broken, server.do_handshake)
        with pytest.raises(trio.BrokenResourceError) as info:
            await client.do_handshake()
    cause = info.value.__cause__
    assert isinstance(cause, toytls.CertificateVerifyError)
    assert cause.alert == toytls.AlertDescription.UNKNOWN_CA


async def _swallow_broken(fn: Callable[[], Awaitable[object]]) -> None:
    try:
        await fn()
    except trio.BrokenResourceError:
        pass


async def test_server_handshake_deadline(pki_dir: Path) -> None:
    context = server_context(pki_dir)
    context.handshake_timeout = 0.3
    results: list[BaseException] = []
    handler = _broken_handler(results)

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            port = await _serve(nursery, handler, context)
            # A client that connects and then says nothing (slowloris).
            tcp = await trio.open_tcp_stream("127.0.0.1", port)
            # The server closes without a word: no alert, just EOF.
            assert await tcp.receive_some(100) == b""
            await tcp.aclose()
            while not results:
                await trio.sleep(0.01)
            nursery.cancel_scope.cancel()
    cause = results[0].__cause__
    assert isinstance(cause, toytls.ToyTLSError)
    assert cause.alert is None and "no handshake within" in str(cause)


async def test_garbage_from_a_non_toytls_peer(pki_dir: Path) -> None:
    results: list[BaseException] = []
    handler = _broken_handler(results)

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            port = await _serve(nursery, handler, server_context(pki_dir))
            tcp = await trio.open_tcp_stream("127.0.0.1", port)
            await tcp.send_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            answer = b""
            while chunk := await tcp.receive_some(100):
                answer += chunk
            await tcp.aclose()
            while not results:
                await trio.sleep(0.01)
            nursery.cancel_scope.cancel()
    # 'G' (0x47) is no content type: a plain unexpected_message alert, then close.
    assert answer == bytes([21, 1, 0, 0, 2, 2, 10])
    cause = results[0].__cause__
    assert isinstance(cause, toytls.ToyTLSError)
    assert cause.alert == toytls.AlertDescription.UNEXPECTED_MESSAGE


def test_client_stream_needs_a_valid_name(pki_dir: Path) -> None:
    a, _ = trio.testing.memory_stream_pair()
    with pytest.raises(ValueError, match="server_hostname"):
        toytls.ToyTLSStream(a, client_context(pki_dir))
    with pytest.raises(ValueError, match="may only hold"):
        toytls.ToyTLSStream(a, client_context(pki_dir), server_hostname="bad_name")
    with pytest.raises(ValueError, match="client context"):
        toytls.ToyTLSStream(a, client_context(pki_dir), server_side=True)


async def test_close_notify_both_ways_closes_the_transport(pki_dir: Path, pki: PKI) -> None:
    a, b = trio.testing.memory_stream_pair()
    client, server = await _handshake_pair(a, b, pki_dir, pki)
    await client.send_eof()
    assert await server.receive_some() == b""
    await server.send_all(b"last words")
    await server.send_eof()  # both directions done on the server: TCP closes
    with pytest.raises(trio.ClosedResourceError):
        await b.send_all(b"raw")
    assert await client.receive_some() == b"last words"
    assert await client.receive_some() == b""  # ... and on the client too
    with pytest.raises(trio.ClosedResourceError):
        await a.send_all(b"raw")
    assert await client.receive_some() == b""  # still a clean end, not an error
    await client.aclose()
    await server.aclose()


async def test_transport_send_gate_is_fifo_and_survives_a_cancelled_waiter(
    pki_dir: Path, pki: PKI
) -> None:
    """The send side of the transport is handed over in arrival order, and a
    waiter cancelled while parked neither keeps it nor blocks the others."""
    a, b = trio.testing.memory_stream_pair()
    client, server = await _handshake_pair(a, b, pki_dir, pki)
    order: list[str] = []

    async def user(name: str) -> None:
        await client._take_transport()
        order.append(name)
        await trio.sleep(0.01)
        client._give_transport()

    with trio.fail_after(5):
        await client._take_transport()  # held by the test
        async with trio.open_nursery() as nursery:
            nursery.start_soon(user, "first")
            await trio.testing.wait_all_tasks_blocked()  # parked first...
            nursery.start_soon(user, "second")
            await trio.testing.wait_all_tasks_blocked()  # ...and second
            client._give_transport()
        assert order == ["first", "second"]

        # A waiter cancelled while parked is out of the lot at once, but its
        # cleanup has not run yet when the holder lets go: the transport must
        # come free all the same.
        await client._take_transport()
        async with trio.open_nursery() as nursery:
            doomed = trio.CancelScope()
            nursery.start_soon(_cancelled_waiter, client, doomed)
            await trio.testing.wait_all_tasks_blocked()
            doomed.cancel()
            client._give_transport()  # before the cancelled task runs again
        async with trio.open_nursery() as nursery:
            nursery.start_soon(user, "third")
    assert order == ["first", "second", "third"]
    assert client._transport_busy is False and client._send_waiting == 0
    await client.send_all(b"still works")
    assert await server.receive_some() == b"still works"


async def _cancelled_waiter(stream: toytls.ToyTLSStream, scope: trio.CancelScope) -> None:
    with scope:
        await stream._take_transport()
        raise AssertionError("a cancelled waiter must not get the transport")
