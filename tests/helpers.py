"""Shared test helpers: configs from a PKI, and two connections wired together.

:class:`ConnectionPair` is h11's idea: a client and a server
:class:`~toytls.core.connection.Connection` in memory, with :meth:`pump` moving
bytes between them until both are quiet. No trio, no sockets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from toytls import events as ev
from toytls.core.config import ClientConfig, ServerConfig
from toytls.core.connection import Connection
from toytls.pki.generate import PKI


def der(certificate: x509.Certificate) -> bytes:
    """The DER encoding of a certificate."""
    return certificate.public_bytes(serialization.Encoding.DER)


def server_config(pki: PKI, **overrides: Any) -> ServerConfig:
    """The honest server's config: leaf + intermediate, the leaf's key."""
    settings: dict[str, Any] = {
        "certificate_chain": (der(pki.server.certificate), der(pki.intermediate.certificate)),
        "private_key": pki.server.key,
    }
    settings.update(overrides)
    return ServerConfig(**settings)


def client_config(pki: PKI, **overrides: Any) -> ClientConfig:
    """A verifying client for ``pki.server_name`` that trusts ``pki.root``."""
    settings: dict[str, Any] = {"server_name": pki.server_name, "roots": (pki.root.certificate,)}
    settings.update(overrides)
    return ClientConfig(**settings)


def failure(events: list[ev.Event]) -> ev.ConnectionFailed | None:
    """The ConnectionFailed event in ``events``, if any (it is always last)."""
    if events and isinstance(events[-1], ev.ConnectionFailed):
        return events[-1]
    assert not any(isinstance(e, ev.ConnectionFailed) for e in events)
    return None


@dataclass
class ConnectionPair:
    """A client and a server connection talking in memory."""

    client: Connection
    server: Connection
    client_events: list[ev.Event] = field(default_factory=list)
    server_events: list[ev.Event] = field(default_factory=list)

    @classmethod
    def make(
        cls,
        pki: PKI,
        *,
        client: ClientConfig | None = None,
        server: ServerConfig | None = None,
        trace: bool = False,
    ) -> ConnectionPair:
        """A pair with the honest configs unless others are given.

        The client's ClientHello is queued already.
        """
        pair = cls(
            client=Connection(client or client_config(pki), trace=trace),
            server=Connection(server or server_config(pki), trace=trace),
        )
        pair.client_events += pair.client.initiate()
        return pair

    def pump(self) -> tuple[list[ev.Event], list[ev.Event]]:
        """Move bytes both ways until neither side has anything to send.

        Returns:
            ``(client_events, server_events)`` produced during this call.
        """
        client_new: list[ev.Event] = []
        server_new: list[ev.Event] = []
        while True:
            to_server = self.client.data_to_send()
            if to_server and self.server.error is None:
                server_new += self.server.receive_data(to_server)
            to_client = self.server.data_to_send()
            if to_client and self.client.error is None:
                client_new += self.client.receive_data(to_client)
            if not to_server and not to_client:
                break
        self.client_events += client_new
        self.server_events += server_new
        return client_new, server_new

    def handshake(self) -> None:
        """Run the handshake and check that both sides completed it."""
        self.pump()
        assert self.client.handshake_complete, self.client_events
        assert self.server.handshake_complete, self.server_events


def traced_session(
    pki: PKI,
    *,
    client: ClientConfig | None = None,
    server: ServerConfig | None = None,
    client_says: bytes = b"hello",
    server_says: bytes | None = None,
) -> ConnectionPair:
    """A whole traced connection, as the narration, hex dump and JSON see one.

    The handshake runs; if it completes, the client sends ``client_says``
    (and the server ``server_says``, if given), then close_notify goes both
    ways, client first. A handshake that fails stops there: its events end
    with ``ConnectionFailed``.
    """
    pair = ConnectionPair.make(pki, client=client, server=server, trace=True)
    pair.pump()
    if pair.client.handshake_complete:
        pair.client_events += pair.client.send_application_data(client_says)
        if server_says is not None:
            pair.server_events += pair.server.send_application_data(server_says)
        pair.pump()
        pair.client_events += pair.client.send_close_notify()
        pair.pump()
        pair.server_events += pair.server.send_close_notify()
        pair.pump()
    return pair
