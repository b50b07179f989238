"""偷梁换柱 the article's way, in memory: a client, the KeyXRelay and a server.

The client and the server are plain sans-I/O connections; the relay sits
between them as the article's attacker. What must hold: an unchecking
client and the server end up with the *same* key X (the article's
prediction), yet the two legs' record keys differ (the transcripts do), the
attacker reads and passes on the data both ways, and a checking client
refuses before it sends X.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from helpers import ConnectionPair, client_config, der, server_config

from toytls import events as ev
from toytls.attacker.key_x_relay import KeyXRelay, NotAClientHello, Step
from toytls.attacker.tamper import swap_public_key
from toytls.core.config import ClientConfig
from toytls.core.connection import Connection
from toytls.core.constants import AlertDescription
from toytls.pki.generate import PKI, make_leaf


@dataclass
class Run:
    client: Connection
    server: Connection
    relay: KeyXRelay
    client_events: list[ev.Event] = field(default_factory=list)
    server_events: list[ev.Event] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)

    def pump(self) -> None:
        """Move bytes client → relay → server and back until all are quiet."""
        while True:
            moved = False
            if data := self.client.data_to_send():
                self._deliver(self.relay.client_data(data))
                moved = True
            if data := self.server.data_to_send():
                self._deliver(self.relay.server_data(data))
                moved = True
            if not moved:
                return

    def _deliver(self, step: Step) -> None:
        self.steps.append(step)
        if step.to_server and self.server.error is None:
            self.server_events += self.server.receive_data(step.to_server)
        if step.to_client and self.client.error is None:
            self.client_events += self.client.receive_data(step.to_client)

    def leg_events(self, leg: str) -> list[ev.Event]:
        return [e for s in self.steps for e in (s.client_leg if leg == "client" else s.server_leg)]


def swap_key(pki: PKI) -> KeyXRelay:
    def forge(chain: tuple[bytes, ...], name: str) -> tuple[bytes, ...]:
        return (swap_public_key(chain[0], pki.attacker_key.public_key()), *chain[1:])

    return KeyXRelay(forge=forge, attacker_key=pki.attacker_key)


def attack(pki: PKI, client: ClientConfig, relay: KeyXRelay | None = None) -> Run:
    run = Run(
        client=Connection(client, trace=True),
        server=Connection(server_config(pki), trace=True),
        relay=relay or swap_key(pki),
    )
    run.client_events += run.client.initiate()
    run.pump()
    return run


def test_an_unchecking_client_and_the_server_hold_the_same_key_x(pki: PKI) -> None:
    run = attack(pki, client_config(pki, verify=False))
    assert run.client.session is not None
    assert run.server.session is not None
    fingerprint = run.client.session.session_key_fingerprint
    assert run.server.session.session_key_fingerprint == fingerprint
    client_x = next(e for e in run.client_events if isinstance(e, ev.KeysDerived)).secret
    server_x = next(e for e in run.server_events if isinstance(e, ev.KeysDerived)).secret
    assert client_x == server_x == run.relay.secret


def test_yet_the_legs_keys_differ_because_the_transcripts_do(pki: PKI) -> None:
    run = attack(pki, client_config(pki, verify=False))
    client_keys = next(e for e in run.client_events if isinstance(e, ev.KeysDerived)).schedule
    server_keys = next(e for e in run.server_events if isinstance(e, ev.KeysDerived)).schedule
    assert client_keys.client_write_key != server_keys.client_write_key
    assert client_keys.th != server_keys.th
    # Same randoms on both legs: the hellos were passed on as they were.
    assert run.client.session is not None
    assert run.server.session is not None
    assert run.client.session.client_random == run.server.session.client_random
    assert run.client.session.server_random == run.server.session.server_random
    # The server saw its own, real chain; the client saw B+ swapped.
    assert run.server.session.certificate_chain[0] == der(pki.server.certificate)
    assert run.client.session.certificate_chain[0] != der(pki.server.certificate)


def test_the_attacker_reads_and_passes_on_both_ways(pki: PKI) -> None:
    run = attack(pki, client_config(pki, verify=False))
    run.client.send_application_data(b"meet me at eight")
    run.pump()
    assert ev.ApplicationData(data=b"meet me at eight") in run.server_events
    assert ev.ApplicationData(data=b"meet me at eight") in run.leg_events("client")
    run.server.send_application_data(b"ok")
    run.pump()
    assert ev.ApplicationData(data=b"ok") in run.client_events
    run.client.send_close_notify()
    run.pump()
    assert any(isinstance(e, ev.CloseNotifyReceived) for e in run.server_events)


def test_a_checking_client_refuses_before_it_sends_key_x(pki: PKI) -> None:
    run = attack(pki, client_config(pki))
    failed = [e for e in run.client_events if isinstance(e, ev.ConnectionFailed)]
    assert failed
    assert failed[0].error.alert == AlertDescription.BAD_CERTIFICATE
    assert run.relay.secret is None
    assert not any(
        isinstance(e, ev.HandshakeMessageReceived) and e.message.msg_type == 16
        for e in run.leg_events("client")
    )
    # The server's half-done handshake is ended, not left hanging.
    assert run.server.closed


def test_control_the_same_client_without_the_attacker_connects(pki: PKI) -> None:
    """The refusal above is the attacker's doing, not the client's config."""
    pair = ConnectionPair.make(pki, client=client_config(pki))
    pair.handshake()


def test_a_client_that_trusts_the_attackers_root_is_fooled_by_own_ca(pki: PKI) -> None:
    def forge(chain: tuple[bytes, ...], name: str) -> tuple[bytes, ...]:
        return (der(make_leaf(pki.attacker_root, [name], key=pki.attacker_key).certificate),)

    relay = KeyXRelay(forge=forge, attacker_key=pki.attacker_key)
    trusting = client_config(pki, roots=(pki.root.certificate, pki.attacker_root.certificate))
    run = attack(pki, trusting, relay)
    assert run.client.session is not None
    assert run.client.session.verified is True
    assert run.server.session is not None
    assert run.client.session.session_key_fingerprint == run.server.session.session_key_fingerprint


def test_not_a_client_hello_is_refused(pki: PKI) -> None:
    relay = swap_key(pki)
    server = Connection(server_config(pki))
    server_hello_first = Connection(client_config(pki))
    server_hello_first.initiate()
    server.receive_data(server_hello_first.data_to_send())
    with pytest.raises(NotAClientHello):
        relay.client_data(server.data_to_send())
