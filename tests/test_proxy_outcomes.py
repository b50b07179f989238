"""The proxy's typed outcomes, and the JSON and lines derived from them.

The JSON event names and keys are the proxy's documented output (tools and
the other tests read them); here each outcome is turned into JSON and into
text without running a proxy, and the events are checked to be frozen,
keyword-only objects.
"""

from __future__ import annotations

import dataclasses
import io
import typing

import pytest

from toytls.attacker import outcomes as out
from toytls.attacker.modes import Mode
from toytls.cli.console import Console
from toytls.cli.proxy_log import json_of, show
from toytls.core.constants import AlertDescription, ContentType
from toytls.core.records import RecordReader, encode_record

TO_SERVER, TO_CLIENT = out.Direction.TO_SERVER, out.Direction.TO_CLIENT


def _record() -> out.RecordRelayed:
    reader = RecordReader()
    reader.feed(encode_record(ContentType.APPLICATION_DATA, bytes(20)))
    found = reader.next_record(1 << 15)
    assert found is not None
    return out.RecordRelayed(connection=1, direction=TO_CLIENT, record=found)


EXPECTED: list[tuple[out.Outcome, dict[str, object] | None]] = [
    (out.ClientConnected(connection=1, mode=Mode.FLIP), {"event": "connect", "connection": 1}),
    (
        out.UpstreamUnreachable(connection=1, upstream=("127.0.0.1", 9), reason="refused"),
        {"event": "upstream_failed", "connection": 1},
    ),
    (out.PlaintextStream(connection=1, direction=TO_SERVER), None),
    (
        _record(),
        {
            "event": "record",
            "connection": 1,
            "direction": "server→client",
            "content_type": "application_data",
            "length": 20,
        },
    ),
    (
        out.DataAltered(connection=1, direction=TO_CLIENT, what=out.Alteration.FLIP),
        {"event": "tampered", "connection": 1, "direction": "server→client"},
    ),
    (
        out.AttackRefused(connection=1, alert=AlertDescription.BAD_RECORD_MAC),
        {"event": "attack_failed", "connection": 1, "alert": "bad_record_mac"},
    ),
    (out.EncryptedAlertSeen(connection=1), {"event": "client_alert_encrypted", "connection": 1}),
    (
        out.EncryptedAlertSeen(connection=1, after=out.Alteration.FLIP),
        {"event": "client_alert_encrypted", "connection": 1, "after": "flip"},
    ),
    (
        out.AlterationEnded(
            connection=1,
            what=out.Alteration.REPLAY,
            key_exchange_after=False,
            client_alerts_after=1,
            server_alerts_after=0,
        ),
        {
            "event": "alteration_ended",
            "connection": 1,
            "what": "replay",
            "key_exchange_after": False,
            "client_alerts_after": 1,
            "server_alerts_after": 0,
        },
    ),
    (
        out.NothingAltered(connection=1, mode=Mode.FLIP),
        {"event": "nothing_altered", "connection": 1, "mode": "flip"},
    ),
    (
        out.PlaintextSeen(connection=1, direction=TO_SERVER, text="hi", stolen=True),
        {"event": "stolen", "connection": 1, "direction": "client→server", "text": "hi"},
    ),
    (
        out.PlaintextSeen(connection=1, direction=TO_SERVER, text="hi", stolen=False),
        {"event": "plaintext", "connection": 1, "direction": "client→server", "text": "hi"},
    ),
    (
        out.HttpSeen(
            connection=1,
            direction=TO_SERVER,
            kind="request",
            first_line="GET / HTTP/1.1",
            headers=(("host", "x"),),
            lines=("GET / HTTP/1.1", "host: x"),
            stolen=False,
        ),
        {
            "event": "http",
            "connection": 1,
            "direction": "client→server",
            "http": "request",
            "first_line": "GET / HTTP/1.1",
            "headers": [["host", "x"]],
            "stolen": False,
        },
    ),
    (
        out.ChainForged(connection=1, mode=Mode.SWAP_KEY, certificates=2),
        {"event": "forged", "connection": 1, "certificates": 2},
    ),
    (
        out.AttackSucceeded(
            connection=1,
            mode=Mode.SWAP_KEY,
            secret=b"\x01",
            key_x_fingerprint="00",
            client_write_key=b"\x02",
            server_write_key=b"\x03",
        ),
        {
            "event": "attack_succeeded",
            "connection": 1,
            "secret": "01",
            "client_write_key": "02",
            "server_write_key": "03",
        },
    ),
    (
        out.KeyXPassedOn(
            connection=1, key_x_fingerprint="ab", client_leg_key=b"\x02", server_leg_key=b"\x04"
        ),
        {
            "event": "key_x_passed_on",
            "connection": 1,
            "key_x_fingerprint": "ab",
            "client_leg_key": "02",
            "server_leg_key": "04",
        },
    ),
    (
        out.AttackFailed(
            connection=1,
            mode=Mode.OWN_CA,
            alert=AlertDescription.UNKNOWN_CA,
            detail="ignored when there is an alert",
            client_key_exchange_seen=False,
        ),
        {
            "event": "attack_failed",
            "connection": 1,
            "alert": "unknown_ca",
            "reason": "the client refused with alert unknown_ca: "
            "the chain does not lead to a root the client trusts",
            "client_key_exchange_seen": False,
        },
    ),
    (
        out.ServerLegFailed(
            connection=1,
            alert=AlertDescription.UNRECOGNIZED_NAME,
            from_peer=True,
            detail="the peer sent alert unrecognized_name (level 2)",
        ),
        {
            "event": "server_failed",
            "connection": 1,
            "alert": "unrecognized_name",
            "from_peer": True,
            "reason": "it sent alert unrecognized_name: "
            "the server does not serve the name the client asked for",
        },
    ),
    (out.ConnectionBroke(connection=1, reason="x"), {"event": "broken", "connection": 1}),
    (out.InternalError(connection=1, error="x"), {"event": "internal_error", "connection": 1}),
    (out.ConnectionClosed(connection=1), {"event": "disconnect", "connection": 1}),
]


@pytest.mark.parametrize(("outcome", "expected"), EXPECTED, ids=lambda o: type(o).__name__)
def test_json_keeps_the_documented_keys(
    outcome: out.Outcome, expected: dict[str, object] | None
) -> None:
    found = json_of(outcome)
    if expected is not None and "reason" in expected and found is not None:
        # The meaning of an alert is narration's wording; the shape is what matters here.
        head = str(expected["reason"]).split(": ")[0]
        assert str(found["reason"]).startswith(f"{head}: ")
        found["reason"] = expected["reason"]
    assert found == expected


TEXT_ONLY: list[out.Outcome] = [
    out.UnparseableRecords(connection=1, direction=TO_CLIENT, error="bad"),
    out.NoClientHello(connection=1, error=None),
    out.ClientHelloSeen(connection=1, server_name="localhost"),
]


def test_every_outcome_type_is_covered_and_shown() -> None:
    covered = {type(o) for o, _ in EXPECTED} | {type(o) for o in TEXT_ONLY}
    assert covered == set(typing.get_args(out.Outcome))
    for outcome in [*(o for o, _ in EXPECTED), *TEXT_ONLY]:
        stream = io.StringIO()
        show(outcome, Console(out=stream))
        assert stream.getvalue().startswith(f"#{outcome.connection} ")
    assert all(json_of(o) is None for o in TEXT_ONLY)


def test_outcomes_are_frozen_and_keyword_only() -> None:
    closed = out.ConnectionClosed(connection=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        closed.connection = 4  # type: ignore[misc]
    with pytest.raises(TypeError):
        out.ConnectionClosed(3)  # type: ignore[call-arg]
    assert not hasattr(closed, "__dict__")  # slots


def test_text_lines_carry_the_connection_number() -> None:
    stream = io.StringIO()
    console = Console(out=stream)
    (request,) = [o for o, _ in EXPECTED if isinstance(o, out.HttpSeen)]
    show(dataclasses.replace(request, stolen=True), console)
    lines = stream.getvalue().splitlines()
    assert lines == [
        "#1 client HTTP request (decrypted with key X): GET / HTTP/1.1",
        "#1     host: x",
    ]
