"""ToyTLSStream under faults (issue 12), beyond trio's own tests
(tests/test_trio_ssl_port.py): data before an error, the client's handshake
deadline, logs that claim only what was sent, and a clean close while being
cancelled.

Each test with a "control" runs the same steps without the fault, so the
assertion that the fault changed something cannot hold by accident.
"""

from __future__ import annotations

import pytest
import trio
import trio.testing
from helpers import client_config, server_config

import toytls
from toytls import events as ev
from toytls.core.connection import Connection
from toytls.core.constants import AlertDescription
from toytls.pki.generate import PKI
from toytls.streams.closing import close_cleanly

TIMEOUT = 10


def server_context(pki: PKI) -> toytls.Context:
    config = server_config(pki)
    context = toytls.Context(server_side=True)
    context.certificate_chain = config.certificate_chain
    context.private_key = config.private_key
    return context


def client_context(pki: PKI) -> toytls.Context:
    context = toytls.create_default_context()
    context.roots.append(pki.root.certificate)
    return context


async def sansio_client(pki: PKI, transport: trio.abc.Stream) -> Connection:
    """A client Connection driven by hand over ``transport`` to a finished handshake."""
    conn = Connection(client_config(pki))
    conn.initiate()
    while not conn.handshake_complete:
        await transport.send_all(conn.data_to_send())
        conn.receive_data(bytes(await transport.receive_some()))
    await transport.send_all(conn.data_to_send())  # the client's Finished went earlier
    return conn


async def test_good_record_then_bad_record_in_one_read(pki: PKI) -> None:
    """The good plaintext comes first; the replayed record's error comes next."""
    left, right = trio.testing.memory_stream_pair()
    server = toytls.ToyTLSStream(right, server_context(pki), server_side=True)
    with trio.fail_after(TIMEOUT):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(server.do_handshake)
            conn = await sansio_client(pki, left)
        conn.send_application_data(b"meet me at eight")
        record = conn.data_to_send()
        await left.send_all(record + record)  # the second is a replay: seq 1 expected 0

        assert await server.receive_some() == b"meet me at eight"
        with pytest.raises(trio.BrokenResourceError) as caught:
            await server.receive_some()
        cause = caught.value.__cause__
        assert isinstance(cause, toytls.ToyTLSError)
        assert cause.alert == AlertDescription.BAD_RECORD_MAC


async def test_control_two_good_records_in_one_read(pki: PKI) -> None:
    left, right = trio.testing.memory_stream_pair()
    server = toytls.ToyTLSStream(right, server_context(pki), server_side=True)
    with trio.fail_after(TIMEOUT):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(server.do_handshake)
            conn = await sansio_client(pki, left)
        conn.send_application_data(b"one ")
        conn.send_application_data(b"two")
        await left.send_all(conn.data_to_send())
        assert await server.receive_some() == b"one two"


async def test_a_client_gives_up_on_a_silent_server(
    pki: PKI, autojump_clock: trio.testing.MockClock
) -> None:
    left, _right = trio.testing.memory_stream_pair()  # nobody answers on _right
    context = client_context(pki)
    context.handshake_timeout = 5
    client = toytls.ToyTLSStream(left, context, server_hostname="localhost")
    start = trio.current_time()
    with trio.fail_after(60), pytest.raises(trio.BrokenResourceError) as caught:
        await client.do_handshake()
    assert "no handshake within 5 s" in str(caught.value.__cause__)
    assert trio.current_time() - start == 5


async def test_a_library_client_waits_by_default(
    pki: PKI, autojump_clock: trio.testing.MockClock
) -> None:
    """Like trio.SSLStream, a library client has no deadline unless its context sets one."""
    left, _right = trio.testing.memory_stream_pair()
    client = toytls.ToyTLSStream(left, client_context(pki), server_hostname="localhost")
    with trio.move_on_after(3600) as scope:
        await client.do_handshake()
    assert scope.cancelled_caught


async def _refused_garbage(pki: PKI, *, break_sends: bool) -> list[ev.Event]:
    """Garbage to a server stream; the events its handler was told."""
    left, right = trio.testing.memory_stream_pair()
    told: list[ev.Event] = []
    server = toytls.ToyTLSStream(
        right, server_context(pki), server_side=True, event_handler=told.append
    )
    if break_sends:

        async def broken() -> None:
            raise trio.BrokenResourceError("the peer is gone")

        right.send_stream.send_all_hook = broken
    await left.send_all(b"GET / HTTP/1.1\r\n\r\n")
    with trio.fail_after(TIMEOUT):
        try:
            await server.do_handshake()
        except trio.BrokenResourceError:
            pass
    return told


async def test_an_alert_that_could_not_be_sent_is_not_reported(pki: PKI) -> None:
    told = await _refused_garbage(pki, break_sends=True)
    assert any(isinstance(event, ev.ConnectionFailed) for event in told)
    assert not any(isinstance(event, ev.AlertSent) for event in told)


async def test_control_an_alert_that_was_sent_is_reported(pki: PKI) -> None:
    told = await _refused_garbage(pki, break_sends=False)
    assert any(isinstance(event, ev.AlertSent) for event in told)


async def _close_while_cancelled(pki: PKI, *, cleanly: bool) -> bytes | BaseException:
    """Handshake, then close the client inside a cancelled scope; what the server reads."""
    left, right = trio.testing.memory_stream_pair()
    client = toytls.ToyTLSStream(left, client_context(pki), server_hostname="localhost")
    server = toytls.ToyTLSStream(right, server_context(pki), server_side=True)
    with trio.fail_after(TIMEOUT):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(client.do_handshake)
            nursery.start_soon(server.do_handshake)
        with trio.CancelScope() as scope:
            scope.cancel()  # as Ctrl-C does to every task
            if cleanly:
                await close_cleanly(client)
            else:
                await client.aclose()
        try:
            return await server.receive_some()
        except trio.BrokenResourceError as exc:
            return exc


async def test_close_cleanly_sends_close_notify_while_cancelled(pki: PKI) -> None:
    assert await _close_while_cancelled(pki, cleanly=True) == b""


async def test_control_a_cancelled_aclose_sends_nothing(pki: PKI) -> None:
    """aclose() in a cancelled scope is trio's aclose_forcefully: the peer sees a cut."""
    outcome = await _close_while_cancelled(pki, cleanly=False)
    assert isinstance(outcome, trio.BrokenResourceError)
    assert "without close_notify" in str(outcome.__cause__)


async def test_the_context_is_fixed_once_the_handshake_starts(pki: PKI) -> None:
    left, right = trio.testing.memory_stream_pair()
    client = toytls.ToyTLSStream(left, client_context(pki), server_hostname="localhost")
    server = toytls.ToyTLSStream(right, server_context(pki), server_side=True)
    with trio.fail_after(TIMEOUT):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(client.do_handshake)
            nursery.start_soon(server.do_handshake)
    other = client_context(pki)
    with pytest.raises(ValueError, match="handshake has started"):
        client.context = other
    assert client.context is not other
