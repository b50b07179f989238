"""The shared alert table of :mod:`alert_cases`, over real TCP on loopback.

A :class:`~toytls.ToyTLSStream` server (``serve_toytls_over_tcp`` on
127.0.0.1, an echo handler) meets :class:`hostile.HostileClient`, which runs
the honest handshake up to the case's stage and sends the case's bytes in
one write. The client must read exactly the fatal alert of the table —
protected iff the server's keys are active — and then the close; the
server's stream must break with that alert as its own (not the peer's).
``test_core_connection_alerts.py`` runs the same table in memory.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
import trio
from alert_cases import SERVER_ALERTS
from hostile import TIMEOUT, Alert, hostile_client, reach
from wire import FATAL

import toytls


@pytest.mark.parametrize("name", list(SERVER_ALERTS))
async def test_server_alert_over_tcp(pki_dir: Path, name: str) -> None:
    c = SERVER_ALERTS[name]
    context = toytls.create_server_context(
        certfile=pki_dir / "chain.pem", keyfile=pki_dir / "server.key"
    )
    errors: list[BaseException] = []

    async def handler(stream: toytls.ToyTLSStream) -> None:
        try:
            await stream.do_handshake()
            while data := await stream.receive_some():
                await stream.send_all(data)
        except trio.BrokenResourceError as exc:
            errors.append(exc)

    with trio.fail_after(4 * TIMEOUT):
        async with trio.open_nursery() as nursery:
            serve = functools.partial(toytls.serve_toytls_over_tcp, host="127.0.0.1")
            listeners: list[toytls.ToyTLSListener] = await nursery.start(serve, handler, 0, context)
            transport = listeners[0].transport_listener
            assert isinstance(transport, trio.SocketListener), transport
            port: int = transport.socket.getsockname()[1]
            async with hostile_client(port) as client:
                await reach(client, c.upto)
                await client.send_records(c.make(client.seal))
                got = await client.read_alert()
                assert got == Alert(FATAL, c.alert, c.protected), got
                await client.expect_closed()
            while not errors:
                await trio.sleep(0.01)
            nursery.cancel_scope.cancel()
    cause = errors[0].__cause__
    assert isinstance(cause, toytls.ToyTLSError), cause
    assert cause.alert == c.alert and not cause.from_peer, cause
