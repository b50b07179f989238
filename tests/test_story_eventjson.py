"""Events as JSON: every event type, from real honest and failing connections."""

from __future__ import annotations

import json
import typing
from typing import cast

import pytest
from helpers import ConnectionPair, client_config, der, server_config, traced_session

from toytls import events as ev
from toytls.attacker.tamper import swap_public_key
from toytls.core.messages import ClientHello
from toytls.pki.generate import PKI
from toytls.story.eventjson import EVENT_TYPES, event_name, event_to_dict

Sided = list[tuple[str, ev.Event]]


def sided(pair: ConnectionPair) -> Sided:
    return [("client", e) for e in pair.client_events] + [("server", e) for e in pair.server_events]


def honest(pki: PKI, **client: object) -> ConnectionPair:
    pair = traced_session(pki, client=client_config(pki, **client))
    assert pair.client.handshake_complete, pair.client_events
    assert pair.server.handshake_complete, pair.server_events
    return pair


def swapped(pki: PKI, *, verify: bool) -> ConnectionPair:
    forged = swap_public_key(der(pki.server.certificate), pki.attacker_key.public_key())
    server = server_config(
        pki,
        certificate_chain=(forged, der(pki.intermediate.certificate)),
        private_key=pki.attacker_key,
    )
    pair = ConnectionPair.make(
        pki, trace=True, server=server, client=client_config(pki, verify=verify)
    )
    pair.pump()
    return pair


@pytest.fixture(scope="module")
def runs(pki: PKI) -> dict[str, ConnectionPair]:
    cut = ConnectionPair.make(pki, trace=True)
    cut.pump()
    cut.client_events += cut.client.receive_data(b"")  # the transport ends: no alert
    return {
        "honest": honest(pki),
        "rejected": swapped(pki, verify=True),
        "unchecked": swapped(pki, verify=False),
        "truncated": cut,
    }


@pytest.fixture(scope="module")
def everything(runs: dict[str, ConnectionPair]) -> Sided:
    return [item for pair in runs.values() for item in sided(pair)]


def test_every_event_type_is_covered_and_serialises(everything: Sided) -> None:
    members = set(typing.get_args(ev.Event))
    assert set(EVENT_TYPES) == members
    assert {type(e) for _, e in everything} == members
    for side, event in everything:
        result = event_to_dict(event, side=side)
        assert result["event"] == event_name(event)
        assert result["side"] == side
        assert "time" not in result
        assert json.loads(json.dumps(result)) == result


def test_names_are_snake_case(everything: Sided) -> None:
    assert {event_name(e) for _, e in everything} == {
        "handshake_message_sent",
        "handshake_message_received",
        "certificate_checked",
        "chain_verified",
        "verification_skipped",
        "keys_derived",
        "handshake_complete",
        "application_data",
        "close_notify_received",
        "alert_sent",
        "alert_received",
        "record_sent",
        "record_received",
        "connection_failed",
    }


def first(pair: ConnectionPair, side: str, kind: type) -> dict[str, object]:
    events = pair.client_events if side == "client" else pair.server_events
    return event_to_dict(next(e for e in events if isinstance(e, kind)), side=side)


def message_type(entry: dict[str, object]) -> object:
    """The ``type`` inside an event dict's ``message``."""
    message = entry["message"]
    assert isinstance(message, dict), entry
    return message["type"]


def test_messages_and_records(runs: dict[str, ConnectionPair]) -> None:
    pair = runs["honest"]
    hello_event = pair.client_events[0]
    assert isinstance(hello_event, ev.HandshakeMessageSent)
    assert isinstance(hello_event.message, ClientHello), hello_event
    hello = first(pair, "client", ev.HandshakeMessageSent)
    assert hello["message"] == {
        "type": "ClientHello",
        "msg_type": 1,
        "random": hello_event.message.random.hex(),
        "server_name": "localhost",
    }
    assert hello["raw"] == hello_event.raw.hex()
    record = first(pair, "client", ev.RecordSent)
    assert record["content_type"] == 22 and record["content_type_name"] == "handshake"
    assert record["seq"] is None and record["nonce"] is None
    received = [
        event_to_dict(e, side="server")
        for e in pair.server_events
        if isinstance(e, ev.HandshakeMessageReceived)
    ]
    assert [message_type(r) for r in received] == [
        "ClientHello",
        "ClientKeyExchange",
        "Finished",
    ]


def test_links_keys_and_session(runs: dict[str, ConnectionPair]) -> None:
    pair = runs["honest"]
    link_event = next(e for e in pair.client_events if isinstance(e, ev.CertificateChecked))
    link = first(pair, "client", ev.CertificateChecked)["link"]
    assert isinstance(link, dict)
    assert link["index"] == 0 and link["issuer_found"] is True
    assert link["digest_s"] == link_event.link.digest_s.hex() == link["digest_t"]
    keys = first(pair, "server", ev.KeysDerived)
    assert isinstance(keys["schedule"], dict) and len(keys["schedule"]["client_write_key"]) == 32
    session = first(pair, "client", ev.HandshakeComplete)["session"]
    assert isinstance(session, dict)
    assert pair.client.session is not None
    assert session["certificate_fingerprints"] == list(pair.client.session.certificate_fingerprints)
    assert session["verified"] is True and session["cipher"] == "AES-128-GCM"
    assert first(pair, "server", ev.ApplicationData) == {
        "event": "application_data",
        "side": "server",
        "data": b"hello".hex(),
    }


def test_alerts_and_failures(runs: dict[str, ConnectionPair]) -> None:
    pair = runs["rejected"]
    sent = first(pair, "client", ev.AlertSent)
    assert sent == {
        "event": "alert_sent",
        "side": "client",
        "level": 2,
        "level_name": "fatal",
        "description": 42,
        "description_name": "bad_certificate",
        "protected": False,
    }
    assert first(pair, "server", ev.AlertReceived)["description_name"] == "bad_certificate"
    failed = first(pair, "client", ev.ConnectionFailed)
    assert failed["alert"] == "bad_certificate" and failed["from_peer"] is False
    assert "T ≠ S" in str(failed["reason"])
    peer = first(pair, "server", ev.ConnectionFailed)
    assert peer["from_peer"] is True and peer["reason"] is None
    cut = first(runs["truncated"], "client", ev.ConnectionFailed)
    assert cut["alert"] is None and cut["alert_code"] is None
    skipped = first(runs["unchecked"], "client", ev.VerificationSkipped)
    assert skipped == {
        "event": "verification_skipped",
        "side": "client",
        "server_name": "localhost",
    }


def test_refuses_what_is_not_an_event() -> None:
    with pytest.raises(TypeError, match="not a toytls event"):
        # A type checker refuses this call; the run-time check is what is tested.
        event_to_dict(cast(ev.Event, "hello"), side="client")
