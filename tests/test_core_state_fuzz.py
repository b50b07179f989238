"""State × input: every reachable state fed every kind of record (§2 flow, §3.4, §5).

A real :class:`ConnectionPair` drives one side (the *victim*) into each state
a connection can be in while reading. The victim is then fed one record:
each handshake message type, an unknown msg_type, application data (empty
and not), an empty handshake record, and an unknown content type. Records
are protected exactly when the victim's read keys are active, sealed under
the peer's write keys from the ``KeysDerived`` schedule at the right
sequence number; the message the victim expects is the real peer's next
record, so that even a Finished checks out.

The outcome must be what ``toytls/core/state.py`` allows: the expected message
moves to the next state of ``TRANSITIONS``; a record type outside
``ACCEPTED_CONTENT`` or any other message ends with ``ConnectionFailed``
carrying ``unexpected_message`` (``decode_error`` for an empty handshake
record where handshake records are allowed), and the alert is queued —
protected iff the victim's write keys are active — and the real peer reads
it as that alert.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest
from helpers import ConnectionPair, client_config, der
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wire import wire_records

from toytls import events as ev
from toytls.core.connection import Connection
from toytls.core.constants import AlertDescription, AlertLevel, ContentType, HandshakeType
from toytls.core.errors import ToyTLSError
from toytls.core.keyschedule import KeySchedule
from toytls.core.messages import (
    AnyMessage,
    Certificate,
    ClientHello,
    ClientKeyExchange,
    Finished,
    ServerHello,
    UnknownMessage,
    encode_message,
)
from toytls.core.protection import RecordSealer
from toytls.core.records import encode_record
from toytls.core.state import ACCEPTED_CONTENT, TABLE, TRANSITIONS, Role, State
from toytls.pki.generate import PKI

C, S = Role.CLIENT, Role.SERVER

#: every (role, state) in which a real connection reads records
READING_STATES: list[tuple[Role, State]] = [
    (S, State.WAIT_CLIENT_HELLO),
    (S, State.WAIT_CLIENT_KEY_EXCHANGE),
    (S, State.WAIT_CLIENT_FINISHED),
    (S, State.CONNECTED),
    (C, State.WAIT_SERVER_HELLO),
    (C, State.WAIT_CERTIFICATE),
    (C, State.WAIT_SERVER_FINISHED),
    (C, State.CONNECTED),
]
STATE_IDS = [f"{role.value}-{state.name}" for role, state in READING_STATES]

#: the inputs: a handshake msg_type, or the name of a special record
INPUTS: list[HandshakeType | int | str] = [
    *HandshakeType,
    99,  # a msg_type toytls/1 does not define
    "application_data",
    "empty application_data",
    "empty handshake",
    "empty alert",
    "alert of 3 bytes",
    "unknown content type",
]
INPUT_IDS = [i.name if isinstance(i, HandshakeType) else str(i) for i in INPUTS]

UNKNOWN_CONTENT_TYPE = 24
PING = b"ping"


@dataclass
class Driven:
    """A victim in a given state, its real peer, and what it needs next."""

    role: Role
    victim: Connection
    peer: Connection
    #: the peer's real next record: the expected message (application data
    #: once connected)
    next_record: bytes
    victim_events: list[ev.Event] = field(default_factory=list)
    #: how many protected records the victim has read (its read seq)
    read_seq: int = 0

    @property
    def schedule(self) -> KeySchedule | None:
        keys = [e for e in self.victim_events if isinstance(e, ev.KeysDerived)]
        return keys[-1].schedule if keys else None

    @property
    def reads_protected(self) -> bool:
        """True once the victim's read keys are active (§3.4)."""
        return self.schedule is not None

    def seal_for_victim(self, content_type: int, plaintext: bytes) -> bytes:
        """The next record as the peer would send it now (protected iff it must be)."""
        schedule = self.schedule
        if schedule is None:
            return encode_record(content_type, plaintext)
        if self.role is Role.SERVER:
            sealer = RecordSealer(schedule.client_write_key, schedule.client_write_iv)
        else:
            sealer = RecordSealer(schedule.server_write_key, schedule.server_write_iv)
        sealer.seq = self.read_seq
        self.read_seq += 1
        return sealer.seal(content_type, plaintext)[0]


def feed(connection: Connection, data: bytes, log: list[ev.Event]) -> None:
    events = connection.receive_data(data)
    log += events
    assert connection.error is None, events


def drive(pki: PKI, role: Role, state: State) -> Driven:
    """Run a real handshake until ``role``'s side is in ``state``."""
    pair = ConnectionPair.make(pki)
    client, server = pair.client, pair.server
    client_log, server_log = pair.client_events, pair.server_events
    hello = client.data_to_send()
    if role is Role.SERVER:
        if state is State.WAIT_CLIENT_HELLO:
            return Driven(role, server, client, hello, server_log)
        feed(server, hello, server_log)
        feed(client, server.data_to_send(), client_log)
        key_exchange, finished = wire_records(client.data_to_send())
        if state is State.WAIT_CLIENT_KEY_EXCHANGE:
            return Driven(role, server, client, key_exchange, server_log)
        feed(server, key_exchange, server_log)
        if state is State.WAIT_CLIENT_FINISHED:
            return Driven(role, server, client, finished, server_log, read_seq=0)
        feed(server, finished, server_log)
        feed(client, server.data_to_send(), client_log)
        client.send_application_data(PING)
        assert state is State.CONNECTED
        return Driven(role, server, client, client.data_to_send(), server_log, read_seq=1)
    feed(server, hello, server_log)
    server_hello, certificate = wire_records(server.data_to_send())
    if state is State.WAIT_SERVER_HELLO:
        return Driven(role, client, server, server_hello, client_log)
    feed(client, server_hello, client_log)
    if state is State.WAIT_CERTIFICATE:
        return Driven(role, client, server, certificate, client_log)
    feed(client, certificate, client_log)
    feed(server, client.data_to_send(), server_log)
    (finished,) = wire_records(server.data_to_send())
    if state is State.WAIT_SERVER_FINISHED:
        return Driven(role, client, server, finished, client_log, read_seq=0)
    feed(client, finished, client_log)
    server.send_application_data(PING)
    assert state is State.CONNECTED
    return Driven(role, client, server, server.data_to_send(), client_log, read_seq=1)


def message_of_type(pki: PKI, msg_type: int) -> AnyMessage:
    """A well-formed message of ``msg_type`` (not necessarily the right one)."""
    if msg_type == HandshakeType.CLIENT_HELLO:
        return ClientHello(random=bytes(32), server_name=pki.server_name)
    if msg_type == HandshakeType.SERVER_HELLO:
        return ServerHello(random=bytes(range(32)))
    if msg_type == HandshakeType.CERTIFICATE:
        chain = (der(pki.server.certificate), der(pki.intermediate.certificate))
        return Certificate(certificates=chain)
    if msg_type == HandshakeType.CLIENT_KEY_EXCHANGE:
        return ClientKeyExchange(encrypted_secret=b"\x01" * 256)
    if msg_type == HandshakeType.FINISHED:
        return Finished(verify_data=b"\x11" * 32)
    return UnknownMessage(msg_type=msg_type, body=b"?")


# ---------------------------------------------------------- the expected outcome


@dataclass(frozen=True)
class Outcome:
    kind: str  # "progress", "data", "nothing" or "fail"
    next_state: State | None = None
    alert: AlertDescription | None = None


def expected_outcome(role: Role, state: State, item: HandshakeType | int | str) -> Outcome:
    """What the table allows for ``item`` in ``state`` — nothing else."""
    if item == "unknown content type":
        # §1: the header check comes before any state is consulted.
        return Outcome("fail", alert=AlertDescription.UNEXPECTED_MESSAGE)
    if item in ("application_data", "empty application_data"):
        content_type = ContentType.APPLICATION_DATA
    elif item in ("empty alert", "alert of 3 bytes"):
        content_type = ContentType.ALERT
    else:
        content_type = ContentType.HANDSHAKE
    # §3.4: the record type must be one allowed now, before its content is looked at.
    if content_type not in ACCEPTED_CONTENT[state]:
        return Outcome("fail", alert=AlertDescription.UNEXPECTED_MESSAGE)
    if item in ("empty alert", "alert of 3 bytes"):
        # §1: empty alert content; §5: an alert record carries exactly 2 bytes.
        return Outcome("fail", alert=AlertDescription.DECODE_ERROR)
    if item == "application_data":
        return Outcome("data")
    if item == "empty application_data":
        return Outcome("nothing")
    if item == "empty handshake":
        return Outcome("fail", alert=AlertDescription.DECODE_ERROR)
    row = TRANSITIONS.get((role, state))
    if row is not None and item == row[0]:
        return Outcome("progress", next_state=row[1])
    return Outcome("fail", alert=AlertDescription.UNEXPECTED_MESSAGE)


def input_record(pki: PKI, driven: Driven, item: HandshakeType | int | str) -> bytes:
    role, state = driven.role, driven.victim.state
    row = TRANSITIONS.get((role, state))
    if row is not None and item == row[0]:
        # The real next message, which must be of the expected type.
        assert driven.next_record[0] == ContentType.HANDSHAKE
        if driven.schedule is None:
            assert driven.next_record[5] == item
        return driven.next_record
    if item == "application_data":
        if state is State.CONNECTED:
            return driven.next_record
        return driven.seal_for_victim(ContentType.APPLICATION_DATA, PING)
    if item == "empty application_data":
        return driven.seal_for_victim(ContentType.APPLICATION_DATA, b"")
    if item == "empty handshake":
        return driven.seal_for_victim(ContentType.HANDSHAKE, b"")
    if item == "empty alert":
        return driven.seal_for_victim(ContentType.ALERT, b"")
    if item == "alert of 3 bytes":
        return driven.seal_for_victim(ContentType.ALERT, b"\x01\x00\x00")
    if item == "unknown content type":
        return bytes((UNKNOWN_CONTENT_TYPE,)) + b"\x01\x00\x00\x04junk"
    assert not isinstance(item, str)
    message = encode_message(message_of_type(pki, item))
    return driven.seal_for_victim(ContentType.HANDSHAKE, message)


def writes_protected(role: Role, state: State) -> bool:
    """§3.4: a side's write keys are active from its ClientKeyExchange on."""
    if role is Role.SERVER:
        return state in (State.WAIT_CLIENT_FINISHED, State.CONNECTED)
    return state in (State.WAIT_SERVER_FINISHED, State.CONNECTED)


def check_outcome(
    driven: Driven,
    state: State,
    expected: Outcome,
    events: list[ev.Event],
    *,
    item: HandshakeType | int | str,
) -> None:
    victim = driven.victim
    out = victim.data_to_send()
    if expected.kind == "fail":
        assert events, "a refused record must end the connection"
        failed = events[-1]
        assert isinstance(failed, ev.ConnectionFailed), events
        assert failed.error.alert == expected.alert, failed.error
        assert failed.error.from_peer is False
        assert not any(isinstance(e, ev.HandshakeMessageReceived) for e in events)
        assert victim.closed
        assert victim.error is failed.error
        sent = [e for e in events if isinstance(e, ev.AlertSent)]
        assert expected.alert is not None
        assert sent == [
            ev.AlertSent(
                level=AlertLevel.FATAL,
                description=expected.alert,
                protected=writes_protected(driven.role, state),
            )
        ]
        # Exactly one alert record was queued ...
        if writes_protected(driven.role, state):
            # 5 header bytes, then an 18-byte fragment: 2 of alert + 16 of tag.
            assert len(out) == 5 + 18
            assert out[:5] == bytes.fromhex("1501000012")
        else:
            assert out == bytes.fromhex("1501000002") + bytes((2, expected.alert))
        # ... and the real peer reads it as that alert.
        peer_events = driven.peer.receive_data(out)
        peer_failed = peer_events[-1]
        assert isinstance(peer_failed, ev.ConnectionFailed), peer_events
        assert peer_failed.error.alert == expected.alert
        assert peer_failed.error.from_peer is True
        assert ev.AlertReceived(level=2, description=expected.alert) in peer_events
        # After the failure every call raises that same error.
        with pytest.raises(ToyTLSError) as caught:
            victim.receive_data(driven.next_record)
        assert caught.value is failed.error
        return
    assert not any(isinstance(e, ev.ConnectionFailed) for e in events), events
    assert victim.error is None
    if expected.kind == "progress":
        assert victim.state is expected.next_state
        received = [e for e in events if isinstance(e, ev.HandshakeMessageReceived)]
        assert [r.message.msg_type for r in received] == [item]
        # The reply the table names went out (one record per message).
        row = next(r for r in TABLE if r.role is driven.role and r.state is state)
        assert len(wire_records(out)) == len(row.reply)
        if row.next is State.CONNECTED:
            assert victim.handshake_complete
            assert any(isinstance(e, ev.HandshakeComplete) for e in events)
    elif expected.kind == "data":
        assert victim.state is state
        assert events == [ev.ApplicationData(data=PING)]
        assert out == b""
    else:
        assert expected.kind == "nothing"
        assert victim.state is state
        assert events == []
        assert out == b""


# ----------------------------------------------------------------------- tests


def test_table_is_the_spec_flow() -> None:
    # §2's flow, written out independently of toytls/core/state.py.
    assert TRANSITIONS == {
        (S, State.WAIT_CLIENT_HELLO): (HandshakeType.CLIENT_HELLO, State.WAIT_CLIENT_KEY_EXCHANGE),
        (C, State.WAIT_SERVER_HELLO): (HandshakeType.SERVER_HELLO, State.WAIT_CERTIFICATE),
        (C, State.WAIT_CERTIFICATE): (HandshakeType.CERTIFICATE, State.WAIT_SERVER_FINISHED),
        (S, State.WAIT_CLIENT_KEY_EXCHANGE): (
            HandshakeType.CLIENT_KEY_EXCHANGE,
            State.WAIT_CLIENT_FINISHED,
        ),
        (S, State.WAIT_CLIENT_FINISHED): (HandshakeType.FINISHED, State.CONNECTED),
        (C, State.WAIT_SERVER_FINISHED): (HandshakeType.FINISHED, State.CONNECTED),
    }
    handshaking = {ContentType.HANDSHAKE, ContentType.ALERT}
    for _, state in READING_STATES:
        if state is State.CONNECTED:
            # Application data only after both Finished; no handshake after.
            assert ACCEPTED_CONTENT[state] == {ContentType.ALERT, ContentType.APPLICATION_DATA}
        else:
            assert ACCEPTED_CONTENT[state] == handshaking
    assert ACCEPTED_CONTENT[State.CLOSED] == frozenset()


@pytest.mark.parametrize(("role", "state"), READING_STATES, ids=STATE_IDS)
def test_driven_into_state(pki: PKI, role: Role, state: State) -> None:
    driven = drive(pki, role, state)
    assert driven.victim.role is role
    assert driven.victim.state is state
    assert driven.reads_protected == writes_protected(role, state)
    assert driven.victim.data_to_send() == b""


@pytest.mark.parametrize("item", INPUTS, ids=INPUT_IDS)
@pytest.mark.parametrize(("role", "state"), READING_STATES, ids=STATE_IDS)
def test_state_times_input(
    pki: PKI, role: Role, state: State, item: HandshakeType | int | str
) -> None:
    driven = drive(pki, role, state)
    record = input_record(pki, driven, item)
    events = driven.victim.receive_data(record)
    check_outcome(driven, state, expected_outcome(role, state, item), events, item=item)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.sampled_from(READING_STATES),
    st.sampled_from(INPUTS),
    st.lists(st.integers(0, 10_000), max_size=6),
    st.binary(max_size=30),
)
def test_state_times_input_split_and_followed_by_junk(
    pki: PKI,
    role_state: tuple[Role, State],
    item: HandshakeType | int | str,
    cuts: list[int],
    junk: bytes,
) -> None:
    # The same outcome however the record is cut up; after a failure,
    # whatever follows it in the same read is never looked at.
    role, state = role_state
    driven = drive(pki, role, state)
    record = input_record(pki, driven, item)
    expected = expected_outcome(role, state, item)
    data = record + (junk if expected.kind == "fail" else b"")
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    events: list[ev.Event] = []
    for start, end in itertools.pairwise(points):
        if driven.victim.error is not None:
            break
        events += driven.victim.receive_data(data[start:end])
    check_outcome(driven, state, expected, events, item=item)


@pytest.mark.parametrize(("role", "state"), READING_STATES, ids=STATE_IDS)
def test_close_notify_in_every_state(pki: PKI, role: Role, state: State) -> None:
    driven = drive(pki, role, state)
    victim = driven.victim
    events = victim.receive_data(driven.seal_for_victim(ContentType.ALERT, b"\x01\x00"))
    out = victim.data_to_send()
    if state is State.CONNECTED:
        # §5: one direction closes; the victim may still send.
        assert events == [ev.AlertReceived(level=1, description=0), ev.CloseNotifyReceived()]
        assert victim.peer_closed
        assert not victim.closed
        assert out == b""
        return
    # During the handshake it aborts: answered with close_notify, then closed.
    assert isinstance(events[-1], ev.ConnectionFailed)
    assert events[-1].error.alert == AlertDescription.CLOSE_NOTIFY
    assert events[-1].error.from_peer is True
    protected = writes_protected(role, state)
    answer = ev.AlertSent(
        level=AlertLevel.WARNING, description=AlertDescription.CLOSE_NOTIFY, protected=protected
    )
    assert answer in events
    assert len(out) == (23 if protected else 7)
    assert out[:3] == b"\x15\x01\x00"
    assert victim.closed


@pytest.mark.parametrize(("role", "state"), READING_STATES, ids=STATE_IDS)
@pytest.mark.parametrize("alert", [b"\x02\x28", b"\x01\x2a", b"\x02\xfe", b"\x02\x00"])
def test_fatal_alert_in_every_state(pki: PKI, role: Role, state: State, alert: bytes) -> None:
    # §5: every alert but (1, close_notify) is fatal, whatever its level or code.
    driven = drive(pki, role, state)
    victim = driven.victim
    events = victim.receive_data(driven.seal_for_victim(ContentType.ALERT, alert))
    assert events[0] == ev.AlertReceived(level=alert[0], description=alert[1])
    assert isinstance(events[-1], ev.ConnectionFailed)
    assert events[-1].error.alert == alert[1]
    assert events[-1].error.from_peer is True
    assert not any(isinstance(e, ev.AlertSent) for e in events)
    assert victim.data_to_send() == b""
    assert victim.closed


@pytest.mark.parametrize(
    ("role", "state"),
    [rs for rs in READING_STATES if writes_protected(*rs)],
    ids=[i for i, rs in zip(STATE_IDS, READING_STATES, strict=True) if writes_protected(*rs)],
)
@pytest.mark.parametrize(
    ("content_type", "plaintext"),
    [
        (ContentType.HANDSHAKE, encode_message(Finished(verify_data=bytes(32)))),
        (ContentType.APPLICATION_DATA, b"x" * 40),
        (ContentType.ALERT, b"\x02\x28" + bytes(16)),
    ],
    ids=["handshake", "application_data", "alert"],
)
def test_plain_record_once_read_keys_active(
    pki: PKI, role: Role, state: State, content_type: ContentType, plaintext: bytes
) -> None:
    # §3.4: every record after the keys is protected; a plain one fails to open.
    driven = drive(pki, role, state)
    events = driven.victim.receive_data(encode_record(content_type, plaintext))
    assert isinstance(events[-1], ev.ConnectionFailed)
    assert events[-1].error.alert == AlertDescription.BAD_RECORD_MAC
    out = driven.victim.data_to_send()
    assert out[:5] == bytes.fromhex("1501000012")
    assert len(out) == 23


@pytest.mark.parametrize(("role", "state"), READING_STATES, ids=STATE_IDS)
def test_record_limit_follows_read_keys(pki: PKI, role: Role, state: State) -> None:
    # §1: 16384 for an unprotected fragment, 16384 + 16 once it will be protected,
    # refused as soon as the header is in.
    limit = 16384 + 16 if writes_protected(role, state) else 16384
    for content_type in ContentType:
        driven = drive(pki, role, state)
        at_limit = bytes((content_type,)) + b"\x01\x00" + limit.to_bytes(2, "big")
        assert driven.victim.receive_data(at_limit) == []  # waits for the body
        driven = drive(pki, role, state)
        over = bytes((content_type,)) + b"\x01\x00" + (limit + 1).to_bytes(2, "big")
        events = driven.victim.receive_data(over)
        assert isinstance(events[-1], ev.ConnectionFailed)
        assert events[-1].error.alert == AlertDescription.RECORD_OVERFLOW


@pytest.mark.parametrize("role", [Role.CLIENT, Role.SERVER])
def test_records_after_close_notify_are_ignored(pki: PKI, role: Role) -> None:
    # §5: whatever follows the peer's close_notify is ignored, even garbage.
    driven = drive(pki, role, State.CONNECTED)
    victim = driven.victim
    data = (
        driven.seal_for_victim(ContentType.APPLICATION_DATA, PING)
        + driven.seal_for_victim(ContentType.ALERT, b"\x01\x00")
        + driven.seal_for_victim(ContentType.APPLICATION_DATA, b"after")
        + b"\xee\xee\xee\xee\xee garbage"
    )
    events = victim.receive_data(data)
    assert events == [
        ev.ApplicationData(data=PING),
        ev.AlertReceived(level=1, description=0),
        ev.CloseNotifyReceived(),
    ]
    assert victim.receive_data(b"\x00" * 100) == []
    assert victim.receive_data(b"") == []
    assert victim.error is None
    # The victim may still send, then its own close_notify closes it (§5).
    victim.send_application_data(b"last words")
    victim.send_close_notify()
    assert victim.closed
    peer_events = driven.peer.receive_data(victim.data_to_send())
    assert peer_events == [
        ev.ApplicationData(data=b"last words"),
        ev.AlertReceived(level=1, description=0),
        ev.CloseNotifyReceived(),
    ]


def test_client_takes_plain_alert_before_server_finished(pki: PKI) -> None:
    # §3.4's exception: a server that refused ClientKeyExchange answers in the clear.
    driven = drive(pki, Role.CLIENT, State.WAIT_SERVER_FINISHED)
    events = driven.victim.receive_data(encode_record(ContentType.ALERT, b"\x02\x32"))
    assert isinstance(events[-1], ev.ConnectionFailed)
    assert events[-1].error.alert == AlertDescription.DECODE_ERROR
    assert events[-1].error.from_peer is True


def test_client_refuses_plain_alert_once_connected(pki: PKI) -> None:
    driven = drive(pki, Role.CLIENT, State.CONNECTED)
    events = driven.victim.receive_data(encode_record(ContentType.ALERT, b"\x02\x32"))
    assert isinstance(events[-1], ev.ConnectionFailed)
    assert events[-1].error.alert == AlertDescription.BAD_RECORD_MAC
    assert events[-1].error.from_peer is False


@pytest.mark.parametrize("role", [Role.CLIENT, Role.SERVER])
def test_empty_application_data_limit(pki: PKI, role: Role) -> None:
    # §1: more than 32 empty records in a row is fatal; a non-empty one resets.
    driven = drive(pki, role, State.CONNECTED)
    victim = driven.victim

    def empties(count: int) -> bytes:
        return b"".join(
            driven.seal_for_victim(ContentType.APPLICATION_DATA, b"") for _ in range(count)
        )

    assert victim.receive_data(empties(32)) == []
    # A non-empty record resets the count ...
    ping = driven.seal_for_victim(ContentType.APPLICATION_DATA, PING)
    assert victim.receive_data(ping) == [ev.ApplicationData(data=PING)]
    assert victim.receive_data(empties(32)) == []
    # ... and the 33rd empty record in a row is refused.
    events = victim.receive_data(empties(1))
    assert isinstance(events[-1], ev.ConnectionFailed)
    assert events[-1].error.alert == AlertDescription.UNEXPECTED_MESSAGE
    assert len(victim.data_to_send()) == 23


def test_client_reads_nothing_before_initiate(pki: PKI) -> None:
    client = Connection(client_config(pki))
    with pytest.raises(RuntimeError):
        client.receive_data(encode_record(ContentType.HANDSHAKE, b"\x02\x00\x00\x00"))
