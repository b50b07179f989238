"""Every alert and every check of PROTOCOL.md, from the side that detects it.

Each case puts one connection (the *target*) at some point of the handshake
or after it, feeds it bytes that break one rule, and then checks the whole
story of §5:

* the target fails with exactly the alert the spec names, ``from_peer``
  False, and ends with ``ConnectionFailed``;
* the alert record went out, protected iff the target's write keys were
  active — 23 bytes on the wire with header length 18, or 7 in the clear;
* the target's real peer, fed those bytes, reports the same alert with
  ``from_peer`` True (level 2), and sends nothing back;
* every later call raises that same error, and nothing more is sent.

The records are built with :mod:`wire`, from the spec — headers, handshake
framing, AES-128-GCM with ``iv XOR seq`` under the keys of the
``KeysDerived`` event — not with the implementation's own encoders, so the
tests hold the code to the document.
"""

from __future__ import annotations

import datetime
import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import wire
from alert_cases import SERVER_ALERTS
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from helpers import ConnectionPair, client_config, der, failure, server_config
from wire import (
    ALERT,
    APPLICATION_DATA,
    CERTIFICATE,
    CLIENT_HELLO,
    CLIENT_KEY_EXCHANGE,
    FINISHED,
    HANDSHAKE,
    SERVER_HELLO,
    certificate_body,
    client_hello_body,
    flip,
    header,
    message,
    record,
    split_records,
    vector,
)

from toytls import events as ev
from toytls.attacker.tamper import swap_public_key, tamper_subject
from toytls.core.config import ServerConfig
from toytls.core.connection import Connection
from toytls.core.constants import AlertDescription as AD
from toytls.core.constants import AlertLevel
from toytls.core.errors import ToyTLSError
from toytls.core.keyschedule import KeySchedule
from toytls.core.messages import Certificate
from toytls.pki.generate import PKI, Issued, generate_key, make_leaf

PLAIN_ALERT_SIZE = 5 + 2
PROTECTED_ALERT_SIZE = 5 + 2 + 16

# ------------------------------------------------------ building the wire


def client_hello(name: bytes = b"localhost", random: bytes = b"\x11" * 32) -> bytes:
    return message(CLIENT_HELLO, client_hello_body(random, name))


def certificate(*ders: bytes) -> bytes:
    return message(CERTIFICATE, certificate_body(ders))


def shape(data: bytes) -> list[tuple[int, int]]:
    """What an eavesdropper sees of some records: types and lengths."""
    return [(t, len(f)) for t, f in split_records(data)]


def seal(
    schedule: KeySchedule, writer: str, seq: int, content_type: int, plaintext: bytes
) -> bytes:
    """Protect a record as §3.4 says, with ``writer``'s ("client"/"server") keys."""
    key = getattr(schedule, f"{writer}_write_key")
    iv = getattr(schedule, f"{writer}_write_iv")
    return wire.seal(key, iv, seq, content_type, plaintext)


# ---------------------------------------------------------- the stages


STAGES = (
    "start",  # the client's ClientHello is queued, nothing delivered
    "hello",  # the server has the ClientHello; its flight is held
    "server_flight",  # the client has the flight; its CKE and {Finished} are held
    "key_exchange",  # the server has the CKE (keys active); {Finished} is held
    "client_finished",  # the server has {Finished}; its {Finished} is held
    "connected",  # both sides completed the handshake
)


@dataclass
class Stage:
    """A client and a server stopped at one point of the flow."""

    client: Connection
    server: Connection
    client_events: list[ev.Event] = field(default_factory=list)
    server_events: list[ev.Event] = field(default_factory=list)
    client_hello: bytes = b""
    server_flight: bytes = b""
    key_exchange: bytes = b""
    client_finished: bytes = b""
    server_finished: bytes = b""

    @property
    def schedule(self) -> KeySchedule:
        (keys,) = [e for e in self.client_events if isinstance(e, ev.KeysDerived)]
        return keys.schedule


def stage(
    pki: PKI,
    upto: str,
    *,
    client: Connection | None = None,
    server: Connection | None = None,
) -> Stage:
    """Run the honest handshake up to ``upto`` (one of :data:`STAGES`)."""
    pair = ConnectionPair.make(pki)
    st = Stage(client=client or pair.client, server=server or pair.server)
    if client is not None:
        st.client_events += client.initiate()
    else:
        st.client_events += pair.client_events
    st.client_hello = st.client.data_to_send()
    steps = STAGES.index(upto)
    if steps >= 1:
        st.server_events += st.server.receive_data(st.client_hello)
        st.server_flight = st.server.data_to_send()
    if steps >= 2:
        st.client_events += st.client.receive_data(st.server_flight)
        flight = st.client.data_to_send()
        cke_size = 5 + int.from_bytes(flight[3:5], "big")
        st.key_exchange, st.client_finished = flight[:cke_size], flight[cke_size:]
        assert shape(st.client_finished) == [(HANDSHAKE, 4 + 32 + 16)]
    if steps >= 3:
        st.server_events += st.server.receive_data(st.key_exchange)
        assert st.server.data_to_send() == b""
    if steps >= 4:
        st.server_events += st.server.receive_data(st.client_finished)
        st.server_finished = st.server.data_to_send()
        assert st.server.handshake_complete
    if steps >= 5:
        st.client_events += st.client.receive_data(st.server_finished)
        assert st.client.handshake_complete
    for events in (st.client_events, st.server_events):
        assert failure(events) is None
    return st


# ----------------------------------------------------------- the checks


def assert_fatal(
    conn: Connection,
    events: list[ev.Event],
    alert: AD,
    *,
    protected: bool,
    peer: Connection | None,
) -> bytes:
    """Check that ``conn`` failed with ``alert`` and told ``peer`` so.

    Returns:
        The bytes ``conn`` queued for the peer (the alert record).
    """
    failed = failure(events)
    assert failed is not None, events
    error = failed.error
    assert error.alert == alert, (error, alert)
    assert error.from_peer is False
    assert conn.error is error
    assert conn.closed
    assert ev.AlertSent(level=AlertLevel.FATAL, description=alert, protected=protected) in events, (
        events
    )

    out = conn.data_to_send()
    if protected:
        assert len(out) == PROTECTED_ALERT_SIZE, out
        assert out[:5] == header(ALERT, 18)
    else:
        assert out == record(ALERT, bytes((2, alert)))

    # After a fatal alert a side never sends again, and every call raises.
    for data in (b"", b"more", record(APPLICATION_DATA, b"x" * 20)):
        with pytest.raises(ToyTLSError) as info:
            conn.receive_data(data)
        assert info.value is error
    with pytest.raises(ToyTLSError) as info:
        conn.send_application_data(b"after the end")
    assert info.value is error
    assert conn.send_close_notify() == []
    assert conn.data_to_send() == b""

    if peer is not None:
        peer_events = peer.receive_data(out)
        peer_failed = failure(peer_events)
        assert peer_failed is not None, peer_events
        assert peer_failed.error.alert == alert
        assert peer_failed.error.from_peer is True
        assert peer.closed
        assert ev.AlertReceived(level=2, description=alert) in peer_events
        assert peer.data_to_send() == b""  # a fatal alert is never answered
    return out


def assert_peer_alert(
    conn: Connection, events: list[ev.Event], level: int, code: int
) -> ToyTLSError:
    """``conn`` received the fatal alert ``(level, code)`` and sent nothing."""
    failed = failure(events)
    assert failed is not None, events
    assert failed.error.alert == code
    assert failed.error.from_peer is True
    assert ev.AlertReceived(level=level, description=code) in events
    assert conn.closed
    assert conn.error is failed.error
    assert conn.data_to_send() == b""
    assert not any(isinstance(e, ev.AlertSent) for e in events)
    with pytest.raises(ToyTLSError) as info:
        conn.receive_data(b"\x15")
    assert info.value is failed.error
    assert conn.send_close_notify() == []
    assert conn.data_to_send() == b""
    return failed.error


# ------------------------------------------------------- the case table


@dataclass(frozen=True)
class Case:
    """Feed ``target`` at ``upto`` the bytes ``make`` returns; expect ``alert``."""

    upto: str
    target: str  # "client" or "server"
    make: Callable[[Stage], bytes]
    alert: AD
    protected: bool


def _server_keys_active(upto: str) -> bool:
    return STAGES.index(upto) >= STAGES.index("key_exchange")


def _client_keys_active(upto: str) -> bool:
    return STAGES.index(upto) >= STAGES.index("server_flight")


def case(upto: str, target: str, make: Callable[[Stage], bytes], alert: AD) -> Case:
    active = _server_keys_active(upto) if target == "server" else _client_keys_active(upto)
    return Case(upto=upto, target=target, make=make, alert=alert, protected=active)


def from_client(seq: int, content_type: int, plaintext: bytes) -> Callable[[Stage], bytes]:
    """A record protected with the client's write keys."""
    return lambda st: seal(st.schedule, "client", seq, content_type, plaintext)


def from_server(seq: int, content_type: int, plaintext: bytes) -> Callable[[Stage], bytes]:
    return lambda st: seal(st.schedule, "server", seq, content_type, plaintext)


def raw(data: bytes) -> Callable[[Stage], bytes]:
    return lambda st: data


def _app_records(st: Stage, *chunks: bytes) -> list[bytes]:
    """Real records from the client's own ``send_application_data``."""
    out = []
    for chunk in chunks:
        st.client.send_application_data(chunk)
        out.append(st.client.data_to_send())
    return out


def _replayed(st: Stage) -> bytes:
    (a,) = _app_records(st, b"once")
    return a + a


def _reordered(st: Stage) -> bytes:
    a, b = _app_records(st, b"first", b"second")
    return b + a


def _dropped(st: Stage) -> bytes:
    _a, b = _app_records(st, b"lost", b"arrives")
    return b


def _other_direction(st: Stage) -> bytes:
    """The right sequence number, but sealed under the server's write keys."""
    return seal(st.schedule, "server", 1, APPLICATION_DATA, b"wrong direction")


def _tampered(index: int, *, new_type: int | None = None) -> Callable[[Stage], bytes]:
    def make(st: Stage) -> bytes:
        (data,) = _app_records(st, b"sixteen bytes!!!")
        if new_type is not None:
            return bytes((new_type,)) + data[1:]
        return flip(data, index)

    return make


def _short_tag(st: Stage) -> bytes:
    return record(APPLICATION_DATA, b"\x00" * 15)


def _flipped_client_finished_ciphertext(st: Stage) -> bytes:
    return flip(st.client_finished, 5)


def _flipped_server_finished_tag(st: Stage) -> bytes:
    return flip(st.server_finished, len(st.server_finished) - 1)


def _finished_verify_data(st: Stage, writer: str) -> bytes:
    (sent,) = [
        e.raw
        for e in (st.client_events if writer == "client" else st.server_events)
        if isinstance(e, ev.HandshakeMessageSent) and e.raw[0] == FINISHED
    ]
    return sent[4:]


def _bad_client_finished(st: Stage) -> bytes:
    verify_data = _finished_verify_data(st, "client")
    return seal(st.schedule, "client", 0, HANDSHAKE, message(FINISHED, flip(verify_data, 31)))


def _zero_client_finished(st: Stage) -> bytes:
    return seal(st.schedule, "client", 0, HANDSHAKE, message(FINISHED, b"\x00" * 32))


def _bad_server_finished(st: Stage) -> bytes:
    verify_data = _finished_verify_data(st, "server")
    return seal(st.schedule, "server", 0, HANDSHAKE, message(FINISHED, flip(verify_data, 0)))


def _client_finished_as_server_finished(st: Stage) -> bytes:
    """The client's own verify_data, reflected back under the server's keys."""
    verify_data = _finished_verify_data(st, "client")
    return seal(st.schedule, "server", 0, HANDSHAKE, message(FINISHED, verify_data))


def _empty_records(count: int) -> Callable[[Stage], bytes]:
    return lambda st: b"".join(
        seal(st.schedule, "client", 1 + i, APPLICATION_DATA, b"") for i in range(count)
    )


def _key_exchange_of(size: int) -> Callable[[Stage], bytes]:
    return lambda st: record(HANDSHAKE, message(CLIENT_KEY_EXCHANGE, vector(b"\x01" * size, 2)))


def _after_server_hello(body: bytes) -> Callable[[Stage], bytes]:
    """A good ServerHello, then ``body`` as the next handshake record."""
    hello = record(HANDSHAKE, message(SERVER_HELLO, b"\x22" * 32))
    return raw(hello + record(HANDSHAKE, body))


def _with_chain(*ders: Callable[[Stage], bytes]) -> Callable[[Stage], bytes]:
    hello = record(HANDSHAKE, message(SERVER_HELLO, b"\x22" * 32))

    def make(st: Stage) -> bytes:
        return hello + record(HANDSHAKE, certificate(*(d(st) for d in ders)))

    return make


def _leaf_der(st: Stage) -> bytes:
    (sent,) = [
        e.message
        for e in st.server_events
        if isinstance(e, ev.HandshakeMessageSent) and e.raw[0] == CERTIFICATE
    ]
    assert isinstance(sent, Certificate), sent
    return sent.certificates[0]


def _const(data: bytes) -> Callable[[Stage], bytes]:
    return lambda st: data


Row = tuple[str, str, str, Callable[[Stage], bytes]]


def hs(body: bytes, *, version: int = 0x0100) -> Callable[[Stage], bytes]:
    """A plain handshake record holding ``body``."""
    return raw(record(HANDSHAKE, body, version=version))


def params(alert: AD, rows: list[Row]) -> list[Any]:
    """``(id, upto, target, make)`` rows as parameters expecting ``alert``."""
    return [
        pytest.param(case(upto, target, make, alert), id=ident)
        for ident, upto, target, make in rows
    ]


C, S = from_client, from_server
CKE_256 = message(CLIENT_KEY_EXCHANGE, vector(b"\1" * 256, 2))
ZERO_FINISHED = message(FINISHED, b"\0" * 32)

UNEXPECTED_MESSAGE = params(
    AD.UNEXPECTED_MESSAGE,
    [
        # §1: an unknown content type, checked on the header alone
        ("type-255-to-client", "hello", "client", raw(record(255, b"x"))),
        # §2: application data before the peer's Finished
        (
            "app-data-before-server-hello",
            "hello",
            "client",
            raw(record(APPLICATION_DATA, b"early")),
        ),
        (
            "app-data-instead-of-server-finished",
            "client_finished",
            "client",
            S(0, APPLICATION_DATA, b"early"),
        ),
        # §1: an empty application_data record before the handshake is complete
        (
            "empty-app-data-to-client-in-handshake",
            "hello",
            "client",
            raw(record(APPLICATION_DATA, b"")),
        ),
        # §2: messages out of order
        ("client-hello-to-client", "hello", "client", hs(client_hello())),
        ("certificate-before-server-hello", "hello", "client", hs(certificate(b"\x30\x00"))),
        (
            "second-server-hello",
            "hello",
            "client",
            _after_server_hello(message(SERVER_HELLO, b"\x33" * 32)),
        ),
        (
            "finished-before-certificate",
            "hello",
            "client",
            _after_server_hello(message(FINISHED, b"\x33" * 32)),
        ),
        (
            "server-hello-instead-of-server-finished",
            "client_finished",
            "client",
            S(0, HANDSHAKE, message(SERVER_HELLO, b"\1" * 32)),
        ),
        # §2: the type is checked before the body rules
        (
            "order-type-before-certificate-count",
            "start",
            "server",
            hs(certificate(*[b"\x30\x00"] * 9)),
        ),
        # handshake records after the handshake
        (
            "server-hello-after-handshake",
            "connected",
            "client",
            S(1, HANDSHAKE, message(SERVER_HELLO, b"\0" * 32)),
        ),
        # §1: more than 32 empty application_data records in a row
    ],
)

BAD_RECORD_MAC = params(
    AD.BAD_RECORD_MAC,
    [
        ("flipped-ciphertext-bit", "connected", "server", _tampered(5)),
        ("flipped-tag-bit", "connected", "server", _tampered(-1)),
        ("type-changed-to-handshake", "connected", "server", _tampered(0, new_type=HANDSHAKE)),
        ("type-changed-to-alert", "connected", "server", _tampered(0, new_type=ALERT)),
        ("replayed", "connected", "server", _replayed),
        ("reordered", "connected", "server", _reordered),
        ("dropped", "connected", "server", _dropped),
        ("other-direction-keys", "connected", "server", _other_direction),
        (
            "plaintext-app-data-longer-than-a-tag",
            "connected",
            "server",
            raw(record(APPLICATION_DATA, b"plaintext data that is long enough")),
        ),
        (
            "plaintext-close-notify-to-connected-client",
            "connected",
            "client",
            raw(record(ALERT, b"\x01\x00")),
        ),
        ("flipped-client-finished", "key_exchange", "server", _flipped_client_finished_ciphertext),
        ("flipped-server-finished-tag", "client_finished", "client", _flipped_server_finished_tag),
        ("plaintext-server-finished", "client_finished", "client", hs(ZERO_FINISHED)),
        ("two-byte-plain-handshake-is-no-alert", "client_finished", "client", hs(b"\x14\x00")),
        (
            "eighteen-byte-plaintext-alert",
            "client_finished",
            "client",
            raw(record(ALERT, b"\x02\x28" + b"\0" * 16)),
        ),
        (
            "16400-protected-passes-header-check",
            "connected",
            "server",
            raw(record(APPLICATION_DATA, b"\0" * 16400)),
        ),
    ],
)

RECORD_OVERFLOW = params(
    AD.RECORD_OVERFLOW,
    [
        ("plain-16385-to-client", "hello", "client", hs(b"\0" * 16385)),
        ("plain-16400-before-keys", "hello", "server", raw(header(HANDSHAKE, 16400))),
        ("protected-16401-to-client", "client_finished", "client", raw(header(ALERT, 16401))),
    ],
)

DECODE_ERROR = params(
    AD.DECODE_ERROR,
    [
        # §1: empty handshake or alert content; §5: an alert is exactly 2 bytes
        ("empty-handshake-record-to-client", "hello", "client", hs(b"")),
        ("two-alerts-in-one-record", "connected", "client", S(1, ALERT, b"\x02\x14\x02\x14")),
        # §2 framing
        ("server-hello-31-byte-random", "hello", "client", hs(message(SERVER_HELLO, b"\0" * 31))),
        ("server-hello-33-byte-random", "hello", "client", hs(message(SERVER_HELLO, b"\0" * 33))),
        (
            "certificate-with-0-entries",
            "hello",
            "client",
            _after_server_hello(message(CERTIFICATE, b"\0\0\0")),
        ),
        (
            "certificate-entry-of-length-0",
            "hello",
            "client",
            _after_server_hello(message(CERTIFICATE, b"\0\0\x03\0\0\0")),
        ),
        (
            "certificate-entry-past-end",
            "hello",
            "client",
            _after_server_hello(message(CERTIFICATE, b"\0\0\x05\0\0\x09abcde")),
        ),
        ("certificate-with-9-entries", "hello", "client", _with_chain(*[_leaf_der] * 9)),
        # §4 row 1: every certificate's DER is well formed
        ("certificate-garbage-der", "hello", "client", _with_chain(_const(b"not a certificate"))),
        (
            "certificate-truncated-der",
            "hello",
            "client",
            _with_chain(lambda st: _leaf_der(st)[:-1]),
        ),
        (
            "certificate-der-with-trailing-byte",
            "hello",
            "client",
            _with_chain(lambda st: _leaf_der(st) + b"\0"),
        ),
        (
            "malformed-intermediate-der",
            "hello",
            "client",
            _with_chain(_leaf_der, _const(b"\x30\x03\x02\x01")),
        ),
        # §2: ClientKeyExchange of the wrong length (the server has no keys yet)
        ("client-key-exchange-255-bytes", "server_flight", "server", _key_exchange_of(255)),
        ("client-key-exchange-257-bytes", "server_flight", "server", _key_exchange_of(257)),
        ("client-key-exchange-1-byte", "server_flight", "server", _key_exchange_of(1)),
        (
            "client-key-exchange-empty-vector",
            "server_flight",
            "server",
            hs(message(CLIENT_KEY_EXCHANGE, b"\0\0")),
        ),
        (
            "client-key-exchange-trailing-byte",
            "server_flight",
            "server",
            hs(message(CLIENT_KEY_EXCHANGE, vector(b"\1" * 256, 2) + b"\0")),
        ),
        (
            "server-finished-33-bytes",
            "client_finished",
            "client",
            S(0, HANDSHAKE, message(FINISHED, b"\0" * 33)),
        ),
    ],
)

DECRYPT_ERROR = params(
    AD.DECRYPT_ERROR,
    [
        ("client-finished-flipped", "key_exchange", "server", _bad_client_finished),
        ("client-finished-zero", "key_exchange", "server", _zero_client_finished),
        ("server-finished-flipped", "client_finished", "client", _bad_server_finished),
        (
            "server-finished-is-client-finished",
            "client_finished",
            "client",
            _client_finished_as_server_finished,
        ),
    ],
)

PROTOCOL_VERSION = params(
    AD.PROTOCOL_VERSION,
    [
        (
            "0x0301-to-client",
            "hello",
            "client",
            hs(message(SERVER_HELLO, b"\0" * 32), version=0x0301),
        ),
    ],
)


@pytest.mark.parametrize(
    "c",
    UNEXPECTED_MESSAGE
    + BAD_RECORD_MAC
    + RECORD_OVERFLOW
    + DECODE_ERROR
    + DECRYPT_ERROR
    + PROTOCOL_VERSION,
)
def test_alert(pki: PKI, c: Case) -> None:
    st = stage(pki, c.upto)
    target, peer = (st.server, st.client) if c.target == "server" else (st.client, st.server)
    data = c.make(st)
    events = target.receive_data(data)
    assert_fatal(target, events, c.alert, protected=c.protected, peer=peer)


@pytest.mark.parametrize("name", list(SERVER_ALERTS))
def test_server_alert_in_memory(pki: PKI, name: str) -> None:
    """The shared table of :mod:`alert_cases`, against an in-memory server;
    ``test_streams_alerts.py`` runs the same table over TCP."""
    c = SERVER_ALERTS[name]
    st = stage(pki, c.upto)
    seqs = itertools.count(0 if c.upto == "key_exchange" else 1)

    def sealer(content_type: int, plaintext: bytes) -> bytes:
        return seal(st.schedule, "client", next(seqs), content_type, plaintext)

    events = st.server.receive_data(c.make(sealer))
    assert_fatal(st.server, events, AD(c.alert), protected=c.protected, peer=st.client)


# ------------------------------------------------- the same, a byte at a time


@pytest.mark.parametrize(
    "c",
    [
        pytest.param(
            case("start", "server", raw(header(HANDSHAKE, 16385)), AD.RECORD_OVERFLOW),
            id="record-overflow",
        ),
        pytest.param(
            case("start", "server", raw(header(HANDSHAKE, 1, version=0x0301)), AD.PROTOCOL_VERSION),
            id="protocol-version",
        ),
        pytest.param(
            case("start", "server", raw(header(7, 1)), AD.UNEXPECTED_MESSAGE), id="unknown-type"
        ),
    ],
)
def test_header_checked_as_soon_as_five_bytes_are_in(pki: PKI, c: Case) -> None:
    """§1: the header is checked before the fragment is waited for."""
    st = stage(pki, c.upto)
    data = c.make(st)
    assert len(data) == 5
    for i in range(4):
        assert st.server.receive_data(data[i : i + 1]) == []
    events = st.server.receive_data(data[4:])
    assert_fatal(st.server, events, c.alert, protected=False, peer=st.client)


# --------------------------------------------------- empty records in a row


def test_32_empty_records_are_fine_and_a_nonempty_one_resets_the_count(pki: PKI) -> None:
    st = stage(pki, "connected")
    schedule = st.schedule
    seq = 1
    wire = b""
    for _ in range(3):
        for _ in range(32):
            wire += seal(schedule, "client", seq, APPLICATION_DATA, b"")
            seq += 1
        wire += seal(schedule, "client", seq, APPLICATION_DATA, b"reset")
        seq += 1
    events = st.server.receive_data(wire)
    assert failure(events) is None
    assert events == [ev.ApplicationData(data=b"reset")] * 3
    # After the last reset, 32 more empty records are fine and the 33rd fails.
    events = st.server.receive_data(
        b"".join(seal(schedule, "client", seq + i, APPLICATION_DATA, b"") for i in range(32))
    )
    assert events == []
    events = st.server.receive_data(seal(schedule, "client", seq + 32, APPLICATION_DATA, b""))
    assert_fatal(st.server, events, AD.UNEXPECTED_MESSAGE, protected=True, peer=st.client)


def test_33_empty_records_fail_one_per_read(pki: PKI) -> None:
    st = stage(pki, "connected")
    for seq in range(1, 33):
        assert st.server.receive_data(seal(st.schedule, "client", seq, APPLICATION_DATA, b"")) == []
    events = st.server.receive_data(seal(st.schedule, "client", 33, APPLICATION_DATA, b""))
    assert_fatal(st.server, events, AD.UNEXPECTED_MESSAGE, protected=True, peer=st.client)


def test_empty_records_counted_on_the_client_too(pki: PKI) -> None:
    st = stage(pki, "connected")
    wire = b"".join(seal(st.schedule, "server", 1 + i, APPLICATION_DATA, b"") for i in range(33))
    events = st.client.receive_data(wire)
    assert_fatal(st.client, events, AD.UNEXPECTED_MESSAGE, protected=True, peer=st.server)


# ----------------------------------------------------- record size limits


def test_16400_byte_protected_record_is_accepted(pki: PKI) -> None:
    st = stage(pki, "connected")
    wire = seal(st.schedule, "client", 1, APPLICATION_DATA, b"\x5a" * 16384)
    assert wire[3:5] == (16400).to_bytes(2, "big")
    assert st.server.receive_data(wire) == [ev.ApplicationData(data=b"\x5a" * 16384)]
    assert st.server.error is None


def test_16384_byte_plain_record_passes_the_header_check(pki: PKI) -> None:
    """16384 is within the limit: the record fails later, on its content."""
    st = stage(pki, "start")
    body = client_hello()
    events = st.server.receive_data(record(HANDSHAKE, body + b"\0" * (16384 - len(body))))
    assert_fatal(st.server, events, AD.DECODE_ERROR, protected=False, peer=st.client)


# ------------------------------------------------------------- the reflection


def test_reflected_record_fails(pki: PKI) -> None:
    """The client's own record fed back to it (§3.4: reflected)."""
    st = stage(pki, "connected")
    st.client.send_application_data(b"to the server")
    mine = st.client.data_to_send()
    assert st.server.receive_data(mine) == [ev.ApplicationData(data=b"to the server")]
    events = st.client.receive_data(mine)
    assert_fatal(st.client, events, AD.BAD_RECORD_MAC, protected=True, peer=st.server)


def test_replayed_record_after_good_data(pki: PKI) -> None:
    st = stage(pki, "connected")
    st.server.send_application_data(b"once")
    wire = st.server.data_to_send()
    assert st.client.receive_data(wire) == [ev.ApplicationData(data=b"once")]
    events = st.client.receive_data(wire)
    assert not any(isinstance(e, ev.ApplicationData) for e in events)
    assert_fatal(st.client, events, AD.BAD_RECORD_MAC, protected=True, peer=st.server)


# ---------------------------------------------------------- certificates (§4)


def _server_with(pki: PKI, chain: tuple[bytes, ...], key: rsa.RSAPrivateKey) -> Connection:
    return Connection(ServerConfig(certificate_chain=chain, private_key=key))


@pytest.fixture(scope="module")
def bad_leaves(pki: PKI) -> dict[str, Issued]:
    """Leaves from the legitimate intermediate that break one row of §4."""
    now = datetime.datetime.now(datetime.UTC)
    day = datetime.timedelta(days=1)
    key = pki.server.key
    return {
        "expired": make_leaf(
            pki.intermediate,
            [pki.server_name],
            key=key,
            not_before=now - 10 * day,
            not_after=now - day,
        ),
        "not-yet-valid": make_leaf(
            pki.intermediate,
            [pki.server_name],
            key=key,
            not_before=now + day,
            not_after=now + 10 * day,
        ),
        "leaf-is-ca": make_leaf(pki.intermediate, [pki.server_name], key=key, ca=True),
        "client-auth-eku": make_leaf(
            pki.intermediate, [pki.server_name], key=key, eku_server_auth=False
        ),
        "rsa-1024": make_leaf(pki.intermediate, [pki.server_name], key=generate_key(1024)),
        "other-name-only": make_leaf(pki.intermediate, ["example.test"], key=key),
    }


#: Each bad chain and the alert §4 names for it.
CHAIN_ALERTS = {
    "attacker-own-ca": AD.UNKNOWN_CA,
    "attacker-own-ca-with-its-root": AD.UNKNOWN_CA,
    "attacker-self-signed": AD.UNKNOWN_CA,
    "leaf-without-intermediate": AD.UNKNOWN_CA,
    "attacker-other-name": AD.BAD_CERTIFICATE,
    "swapped-public-key": AD.BAD_CERTIFICATE,
    "tampered-subject": AD.BAD_CERTIFICATE,
    "expired": AD.CERTIFICATE_EXPIRED,
    "not-yet-valid": AD.CERTIFICATE_EXPIRED,
    "leaf-is-ca": AD.BAD_CERTIFICATE,
    "client-auth-eku": AD.BAD_CERTIFICATE,
    "rsa-1024": AD.BAD_CERTIFICATE,
    "other-name-only": AD.BAD_CERTIFICATE,
}


@pytest.fixture(scope="module")
def bad_chains(
    pki: PKI, bad_leaves: dict[str, Issued]
) -> dict[str, tuple[tuple[bytes, ...], rsa.RSAPrivateKey]]:
    """What a server sends for each case of :data:`CHAIN_ALERTS`, and its key."""
    intermediate = der(pki.intermediate.certificate)
    chains = {
        "attacker-own-ca": ((der(pki.attacker_own_ca),), pki.attacker_key),
        "attacker-own-ca-with-its-root": (
            (der(pki.attacker_own_ca), der(pki.attacker_root.certificate)),
            pki.attacker_key,
        ),
        "attacker-self-signed": ((der(pki.attacker_self_signed),), pki.attacker_key),
        "leaf-without-intermediate": ((der(pki.server.certificate),), pki.server.key),
        "attacker-other-name": ((der(pki.attacker_other_name), intermediate), pki.attacker_key),
        "swapped-public-key": (
            (
                swap_public_key(der(pki.server.certificate), pki.attacker_key.public_key()),
                intermediate,
            ),
            pki.attacker_key,
        ),
        "tampered-subject": (
            (tamper_subject(der(pki.server.certificate)), intermediate),
            pki.server.key,
        ),
    }
    for name, issued in bad_leaves.items():
        chains[name] = ((der(issued.certificate), intermediate), issued.key)
    assert set(chains) == set(CHAIN_ALERTS)
    return chains


@pytest.mark.parametrize("name", list(CHAIN_ALERTS))
def test_bad_chain(
    pki: PKI, bad_chains: dict[str, tuple[tuple[bytes, ...], rsa.RSAPrivateKey]], name: str
) -> None:
    chain, key = bad_chains[name]
    alert = CHAIN_ALERTS[name]
    st = stage(pki, "hello", server=_server_with(pki, chain, key))
    events = st.client.receive_data(st.server_flight)
    # §4: checked before ClientKeyExchange, so the client encrypted nothing
    # and sent nothing but one plain alert.
    assert not any(isinstance(e, ev.KeysDerived) for e in events)
    assert not any(
        isinstance(e, ev.HandshakeMessageSent) and e.raw[0] == CLIENT_KEY_EXCHANGE for e in events
    )
    out = assert_fatal(st.client, events, alert, protected=False, peer=st.server)
    assert len(out) == PLAIN_ALERT_SIZE


@pytest.mark.parametrize(
    ("overrides", "alert"),
    [
        pytest.param({"roots": ()}, AD.UNKNOWN_CA, id="no-trusted-roots"),
        pytest.param(
            {"now": datetime.datetime(2200, 1, 1, tzinfo=datetime.UTC)},
            AD.CERTIFICATE_EXPIRED,
            id="clock-in-2200",
        ),
        pytest.param(
            {"now": datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)},
            AD.CERTIFICATE_EXPIRED,
            id="clock-in-2000",
        ),
        pytest.param({"server_name": "www.localhost"}, AD.BAD_CERTIFICATE, id="other-name"),
    ],
)
def test_bad_client_view_of_a_good_chain(pki: PKI, overrides: dict[str, object], alert: AD) -> None:
    client = Connection(client_config(pki, **overrides))
    st = stage(pki, "hello", client=client)
    events = st.client.receive_data(st.server_flight)
    out = assert_fatal(st.client, events, alert, protected=False, peer=st.server)
    assert len(out) == PLAIN_ALERT_SIZE


def _resigned_with_key(pki: PKI, public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey) -> bytes:
    """The honest leaf with another public key, correctly signed by the intermediate."""
    leaf = pki.server.certificate
    builder = (
        x509.CertificateBuilder()
        .subject_name(leaf.subject)
        .issuer_name(leaf.issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(leaf.not_valid_before_utc)
        .not_valid_after(leaf.not_valid_after_utc)
    )
    for extension in leaf.extensions:
        value = extension.value
        if isinstance(value, x509.SubjectKeyIdentifier):
            value = x509.SubjectKeyIdentifier.from_public_key(public_key)
        builder = builder.add_extension(value, critical=extension.critical)
    return der(builder.sign(pki.intermediate.key, hashes.SHA256()))


#: DER of the OID rsaEncryption (1.2.840.113549.1.1.1) and of an unassigned
#: OID of the same length (1.2.840.113549.1.1.99).
RSA_ENCRYPTION_OID = bytes.fromhex("06092a864886f70d010101")
UNKNOWN_KEY_OID = bytes.fromhex("06092a864886f70d010163")


def _unknown_key_type_leaf(pki: PKI) -> bytes:
    """The honest leaf with an SPKI algorithm nobody knows, re-signed by the
    intermediate so that only the key-type row of §4 can reject it."""
    leaf = der(pki.server.certificate)
    assert leaf.count(RSA_ENCRYPTION_OID) == 1
    changed = x509.load_der_x509_certificate(leaf.replace(RSA_ENCRYPTION_OID, UNKNOWN_KEY_OID))
    tbs = changed.tbs_certificate_bytes
    signature = pki.intermediate.key.sign(tbs, padding.PKCS1v15(), hashes.SHA256())
    assert len(signature) == len(changed.signature)
    start = leaf.index(pki.server.certificate.tbs_certificate_bytes)
    body = leaf[:start] + tbs + leaf[start + len(tbs) : -len(signature)]
    return body + signature


@pytest.fixture(scope="module")
def odd_key_leaves(pki: PKI) -> dict[str, bytes]:
    return {
        "ec-p256": _resigned_with_key(pki, ec.generate_private_key(ec.SECP256R1()).public_key()),
        "unknown-key-type": _unknown_key_type_leaf(pki),
    }


@pytest.mark.parametrize("verify", [True, False], ids=["verify", "no-verification"])
@pytest.mark.parametrize("leaf", ["ec-p256", "unknown-key-type"])
def test_leaf_key_that_is_not_rsa(
    pki: PKI, odd_key_leaves: dict[str, bytes], leaf: str, verify: bool
) -> None:
    """§4 last row: the leaf's key must be RSA. Even without verification the
    client cannot send its secret to any other key, and receiving never
    raises for what the peer sent: it must fail with bad_certificate."""
    st = stage(pki, "hello", client=Connection(client_config(pki, verify=verify)))
    flight = _with_chain(_const(odd_key_leaves[leaf]), _const(der(pki.intermediate.certificate)))(
        st
    )
    events = st.client.receive_data(flight)
    assert not any(isinstance(e, ev.KeysDerived) for e in events)
    out = assert_fatal(st.client, events, AD.BAD_CERTIFICATE, protected=False, peer=st.server)
    assert len(out) == PLAIN_ALERT_SIZE


def test_resigned_leaf_helper_makes_a_valid_rsa_leaf(pki: PKI) -> None:
    """The control for the test above: the same surgery with an RSA key passes §4
    as far as the key (it fails only because the server has another key)."""
    leaf = _resigned_with_key(pki, pki.server.key.public_key())
    st = stage(pki, "hello")
    flight = _with_chain(_const(leaf), _const(der(pki.intermediate.certificate)))(st)
    events = st.client.receive_data(flight)
    assert failure(events) is None
    assert any(isinstance(e, ev.ChainVerified) for e in events)


def test_root_sent_in_chain_is_fine(pki: PKI) -> None:
    """The control of the chain tests: a chain the client accepts."""
    server = _server_with(
        pki,
        (
            der(pki.server.certificate),
            der(pki.intermediate.certificate),
            der(pki.root.certificate),
        ),
        pki.server.key,
    )
    st = stage(pki, "connected", server=server)
    assert st.client.session is not None
    assert st.client.session.verified is True


# ---------------------------------------------------------- unrecognized_name


def test_unrecognized_name(pki: PKI) -> None:
    server = Connection(server_config(pki, server_names=frozenset({"other.test"})))
    st = stage(pki, "start", server=server)
    events = st.server.receive_data(st.client_hello)
    assert not any(isinstance(e, ev.HandshakeMessageSent) for e in events)
    assert_fatal(st.server, events, AD.UNRECOGNIZED_NAME, protected=False, peer=st.client)


def test_recognized_name_is_served(pki: PKI) -> None:
    server = Connection(server_config(pki, server_names=frozenset({"other.test", "localhost"})))
    st = stage(pki, "connected", server=server)
    assert st.server.handshake_complete


# ------------------------------------------------------ implicit rejection (§3.2)


def _modulus(pki: PKI) -> tuple[int, int]:
    n = pki.server.key.public_key().public_numbers().n
    return n, (n.bit_length() + 7) // 8


def _oaep(hash_algorithm: hashes.HashAlgorithm, label: bytes | None = None) -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(hash_algorithm), algorithm=hash_algorithm, label=label)


def _encrypt(pki: PKI, plaintext: bytes, pad: padding.AsymmetricPadding) -> bytes:
    return pki.server.key.public_key().encrypt(plaintext, pad)


BAD_KEY_EXCHANGES: dict[str, Callable[[PKI], bytes]] = {
    "random-bytes": lambda p: (
        int.from_bytes(os.urandom(_modulus(p)[1]), "big") % _modulus(p)[0]
    ).to_bytes(_modulus(p)[1], "big"),
    "all-zero": lambda p: bytes(_modulus(p)[1]),
    "one": lambda p: (1).to_bytes(_modulus(p)[1], "big"),
    "modulus-minus-one": lambda p: (_modulus(p)[0] - 1).to_bytes(_modulus(p)[1], "big"),
    "equal-to-modulus": lambda p: _modulus(p)[0].to_bytes(_modulus(p)[1], "big"),
    "modulus-plus-one": lambda p: (_modulus(p)[0] + 1).to_bytes(_modulus(p)[1], "big"),
    "all-ff": lambda p: b"\xff" * _modulus(p)[1],
    "oaep-31-byte-secret": lambda p: _encrypt(p, os.urandom(31), _oaep(hashes.SHA256())),
    "oaep-33-byte-secret": lambda p: _encrypt(p, os.urandom(33), _oaep(hashes.SHA256())),
    "oaep-empty-secret": lambda p: _encrypt(p, b"", _oaep(hashes.SHA256())),
    "oaep-sha1": lambda p: _encrypt(p, os.urandom(32), _oaep(hashes.SHA1())),
    "oaep-with-label": lambda p: _encrypt(p, os.urandom(32), _oaep(hashes.SHA256(), b"x")),
    "pkcs1-v1.5": lambda p: _encrypt(p, os.urandom(32), padding.PKCS1v15()),
    "oaep-other-valid-secret": lambda p: _encrypt(p, os.urandom(32), _oaep(hashes.SHA256())),
}


@dataclass(frozen=True)
class Observed:
    """What the server visibly does, as a wire observer sees it."""

    after_key_exchange: list[tuple[int, int]]
    closed_after_key_exchange: bool
    after_finished: list[tuple[int, int]]
    closed_after_finished: bool


def _observe(st: Stage, key_exchange: bytes, client_finished: bytes) -> tuple[Observed, bytes]:
    server = st.server
    st.server_events += server.receive_data(key_exchange)
    first = server.data_to_send()
    closed_first = server.closed
    st.server_events += server.receive_data(client_finished)
    second = server.data_to_send()
    return Observed(
        after_key_exchange=shape(first),
        closed_after_key_exchange=closed_first,
        after_finished=shape(second),
        closed_after_finished=server.closed,
    ), second


EXPECTED_OBSERVATION = Observed(
    after_key_exchange=[],
    closed_after_key_exchange=False,
    after_finished=[(ALERT, 18)],
    closed_after_finished=True,
)


@pytest.mark.parametrize("wrong_finished", ["flipped-verify-data", "flipped-ciphertext"])
def test_reference_good_key_exchange_wrong_finished(pki: PKI, wrong_finished: str) -> None:
    """The yardstick: a well-formed ClientKeyExchange, then a bad Finished."""
    st = stage(pki, "server_flight")
    if wrong_finished == "flipped-verify-data":
        finished, alert = _bad_client_finished(st), AD.DECRYPT_ERROR
    else:
        finished, alert = flip(st.client_finished, 10), AD.BAD_RECORD_MAC
    observed, out = _observe(st, st.key_exchange, finished)
    assert observed == EXPECTED_OBSERVATION
    assert st.server.error is not None
    assert st.server.error.alert == alert
    events = st.client.receive_data(out)
    failed = failure(events)
    assert failed is not None
    assert failed.error.alert == alert
    assert failed.error.from_peer is True


@pytest.mark.parametrize("variant", list(BAD_KEY_EXCHANGES))
def test_implicit_rejection(pki: PKI, variant: str) -> None:
    """§3.2: no padding oracle. Whatever the ciphertext, the server carries on
    with a random secret, answers the client's {Finished} with a protected
    bad_record_mac, and nothing it shows differs from the yardstick above."""
    st = stage(pki, "server_flight")
    _, size = _modulus(pki)
    encrypted = BAD_KEY_EXCHANGES[variant](pki)
    assert len(encrypted) == size
    key_exchange = record(HANDSHAKE, message(CLIENT_KEY_EXCHANGE, vector(encrypted, 2)))
    assert len(key_exchange) == len(st.key_exchange)
    observed, out = _observe(st, key_exchange, st.client_finished)
    # Exactly what a well-formed ClientKeyExchange with a wrong Finished shows.
    reference = stage(pki, "server_flight")
    expected, _ = _observe(reference, reference.key_exchange, _bad_client_finished(reference))
    assert observed == expected == EXPECTED_OBSERVATION
    error = st.server.error
    assert error is not None
    assert error.alert == AD.BAD_RECORD_MAC
    assert error.from_peer is False
    assert len(out) == PROTECTED_ALERT_SIZE
    # The server did derive keys, from a secret the client does not have.
    (server_keys,) = [e for e in st.server_events if isinstance(e, ev.KeysDerived)]
    (client_keys,) = [e for e in st.client_events if isinstance(e, ev.KeysDerived)]
    assert len(server_keys.secret) == 32
    assert server_keys.secret != client_keys.secret
    # The client cannot decrypt the server's alert: it reports bad_record_mac
    # itself (and answers with its own, which nobody reads any more).
    events = st.client.receive_data(out)
    failed = failure(events)
    assert failed is not None
    assert failed.error.alert == AD.BAD_RECORD_MAC
    assert failed.error.from_peer is False
    assert not any(isinstance(e, ev.AlertReceived) for e in events)


@pytest.mark.parametrize("variant", ["valid", "all-zero", "oaep-31-byte-secret"])
def test_implicit_rejection_draws_the_fallback_before_decrypting(pki: PKI, variant: str) -> None:
    """§3.2: the replacement secret is drawn whether or not decryption fails,
    and is the secret the server then uses."""
    draws: list[bytes] = []

    def random_bytes(n: int) -> bytes:
        draws.append(os.urandom(n))
        return draws[-1]

    server = Connection(server_config(pki), random_bytes=random_bytes)
    st = stage(pki, "server_flight", server=server)
    if variant == "valid":
        key_exchange = st.key_exchange
    else:
        encrypted = BAD_KEY_EXCHANGES[variant](pki)
        key_exchange = record(HANDSHAKE, message(CLIENT_KEY_EXCHANGE, vector(encrypted, 2)))
    assert len(draws) == 1  # the server random
    events = server.receive_data(key_exchange)
    assert len(draws) == 2  # the fallback, drawn in both cases
    (keys,) = [e for e in events if isinstance(e, ev.KeysDerived)]
    client_keys = st.schedule
    if variant == "valid":
        assert keys.schedule == client_keys
        assert keys.secret != draws[1]
    else:
        assert keys.secret == draws[1]
        assert keys.schedule.client_write_key != client_keys.client_write_key


# ------------------------------------------- CKE of the wrong length (§3.4)


def test_wrong_length_key_exchange_alert_is_plain_and_accepted_by_the_client(pki: PKI) -> None:
    """The §3.4 exception: the server has no keys yet and answers in the clear;
    the client, waiting for the server Finished, takes the 2-byte alert."""
    st = stage(pki, "server_flight")
    assert st.client.data_to_send() == b""
    bad = _key_exchange_of(128)(st)
    events = st.server.receive_data(bad + st.client_finished)
    assert not any(isinstance(e, ev.KeysDerived) for e in events)
    out = assert_fatal(st.server, events, AD.DECODE_ERROR, protected=False, peer=None)
    assert out == bytes((21, 1, 0, 0, 2, 2, 50))
    client_events = st.client.receive_data(out)
    error = assert_peer_alert(st.client, client_events, 2, AD.DECODE_ERROR)
    assert error.alert == AD.DECODE_ERROR


@pytest.mark.parametrize(
    ("level", "code"),
    [(2, 50), (2, 40), (2, 99), (1, 20)],
    ids=["decode_error", "40-undefined", "99-undefined", "warning-bad_record_mac"],
)
def test_plain_alert_accepted_while_waiting_for_server_finished(
    pki: PKI, level: int, code: int
) -> None:
    st = stage(pki, "client_finished")
    events = st.client.receive_data(record(ALERT, bytes((level, code))))
    assert_peer_alert(st.client, events, level, code)


def test_plain_alert_before_key_exchange(pki: PKI) -> None:
    """Before ClientKeyExchange a plain alert is simply the normal case."""
    st = stage(pki, "hello")
    events = st.client.receive_data(record(ALERT, b"\x02\x50"))
    assert_peer_alert(st.client, events, 2, AD.INTERNAL_ERROR)


# ------------------------------------------------- alerts received (§5)


RECEIVED_ALERTS = [
    pytest.param(2, 99, id="fatal-99-undefined"),
    pytest.param(1, 99, id="warning-99-undefined"),
    pytest.param(2, 0, id="fatal-close_notify"),
    pytest.param(1, 20, id="warning-bad_record_mac"),
    pytest.param(1, 10, id="warning-unexpected_message"),
    pytest.param(0, 0, id="level-0-close_notify"),
    pytest.param(3, 0, id="level-3-close_notify"),
    pytest.param(255, 255, id="255-255"),
    pytest.param(2, 80, id="fatal-internal_error"),
    pytest.param(2, 112, id="fatal-unrecognized_name"),
]


@pytest.mark.parametrize(("level", "code"), RECEIVED_ALERTS)
def test_received_alert_is_fatal_during_handshake(pki: PKI, level: int, code: int) -> None:
    st = stage(pki, "start")
    events = st.server.receive_data(record(ALERT, bytes((level, code))))
    assert not any(isinstance(e, ev.HandshakeMessageSent) for e in events)
    error = assert_peer_alert(st.server, events, level, code)
    assert isinstance(error.alert, int)


@pytest.mark.parametrize(("level", "code"), RECEIVED_ALERTS)
def test_received_alert_is_fatal_when_connected(pki: PKI, level: int, code: int) -> None:
    st = stage(pki, "connected")
    st.client.send_application_data(b"before")
    wire = st.client.data_to_send() + seal(st.schedule, "client", 2, ALERT, bytes((level, code)))
    events = st.server.receive_data(wire)
    assert events[0] == ev.ApplicationData(data=b"before")
    assert ev.CloseNotifyReceived() not in events
    assert_peer_alert(st.server, events, level, code)


@pytest.mark.parametrize(("level", "code"), [(2, 99), (2, 0), (1, 20)])
def test_received_alert_is_fatal_for_the_client(pki: PKI, level: int, code: int) -> None:
    st = stage(pki, "connected")
    events = st.client.receive_data(seal(st.schedule, "server", 1, ALERT, bytes((level, code))))
    assert_peer_alert(st.client, events, level, code)


def test_undefined_alert_code_is_reported_as_its_number(pki: PKI) -> None:
    st = stage(pki, "start")
    events = st.server.receive_data(record(ALERT, b"\x02\x63"))
    failed = failure(events)
    assert failed is not None
    assert failed.error.alert == 99
    assert failed.error.alert_name == "unknown(99)"


# ------------------------------------------ close_notify during the handshake


def _assert_aborted(conn: Connection, events: list[ev.Event], *, protected: bool) -> bytes:
    """``conn`` got close_notify mid-handshake: it answered with its own and closed."""
    failed = failure(events)
    assert failed is not None, events
    assert failed.error.alert == AD.CLOSE_NOTIFY
    assert failed.error.from_peer is True
    assert conn.error is failed.error
    assert conn.closed
    assert not conn.handshake_complete
    assert ev.AlertReceived(level=1, description=0) in events
    assert (
        ev.AlertSent(level=AlertLevel.WARNING, description=AD.CLOSE_NOTIFY, protected=protected)
        in events
    )
    assert not any(isinstance(e, ev.HandshakeMessageSent) for e in events)
    out = conn.data_to_send()
    if protected:
        assert len(out) == PROTECTED_ALERT_SIZE
        assert out[:5] == header(ALERT, 18)
    else:
        assert out == record(ALERT, b"\x01\x00")
    with pytest.raises(ToyTLSError) as info:
        conn.receive_data(b"")
    assert info.value is failed.error
    assert conn.send_close_notify() == []
    assert conn.data_to_send() == b""
    return out


@pytest.mark.parametrize(
    ("upto", "target", "make", "protected"),
    [
        pytest.param(
            "start",
            "server",
            raw(record(ALERT, b"\x01\x00")),
            False,
            id="server-before-client-hello",
        ),
        pytest.param(
            "hello", "server", raw(record(ALERT, b"\x01\x00")), False, id="server-after-its-flight"
        ),
        pytest.param(
            "hello",
            "client",
            raw(record(ALERT, b"\x01\x00")),
            False,
            id="client-before-server-hello",
        ),
        pytest.param(
            "key_exchange",
            "server",
            from_client(0, ALERT, b"\x01\x00"),
            True,
            id="server-keys-active",
        ),
        pytest.param(
            "client_finished",
            "client",
            from_server(0, ALERT, b"\x01\x00"),
            True,
            id="client-protected",
        ),
        pytest.param(
            "client_finished",
            "client",
            raw(record(ALERT, b"\x01\x00")),
            True,
            id="client-plain-while-waiting-for-server-finished",
        ),
    ],
)
def test_close_notify_during_handshake(
    pki: PKI, upto: str, target: str, make: Callable[[Stage], bytes], protected: bool
) -> None:
    st = stage(pki, upto)
    conn, peer = (st.server, st.client) if target == "server" else (st.client, st.server)
    out = _assert_aborted(conn, conn.receive_data(make(st)), protected=protected)
    # The answer is a real close_notify the peer can read.
    if not peer.closed:
        peer_events = peer.receive_data(out)
        assert ev.AlertReceived(level=1, description=0) in peer_events


def test_client_aborts_handshake_with_close_notify(pki: PKI) -> None:
    st = stage(pki, "start")
    events = st.client.send_close_notify()
    assert events == [
        ev.AlertSent(level=AlertLevel.WARNING, description=AD.CLOSE_NOTIFY, protected=False)
    ]
    assert st.client.closed
    wire = st.client.data_to_send()
    assert wire == record(ALERT, b"\x01\x00")
    server_events = st.server.receive_data(st.client_hello + wire)
    # The server answered the ClientHello, then the close_notify with its own.
    failed = failure(server_events)
    assert failed is not None
    assert failed.error.alert == AD.CLOSE_NOTIFY
    assert failed.error.from_peer is True
    out = st.server.data_to_send()
    assert out.endswith(record(ALERT, b"\x01\x00"))
    assert st.server.closed
    # The client has finished: what arrives now is ignored.
    assert st.client.receive_data(out) == []


def test_client_aborts_after_key_exchange_with_protected_close_notify(pki: PKI) -> None:
    st = stage(pki, "client_finished")
    events = st.client.send_close_notify()
    assert events == [
        ev.AlertSent(level=AlertLevel.WARNING, description=AD.CLOSE_NOTIFY, protected=True)
    ]
    assert st.client.closed
    wire = st.client.data_to_send()
    assert len(wire) == PROTECTED_ALERT_SIZE
    # The server completed its side already: for it this is a plain half-close.
    assert st.server.receive_data(wire) == [
        ev.AlertReceived(level=1, description=0),
        ev.CloseNotifyReceived(),
    ]


def test_server_name_of_253_bytes_is_served(pki: PKI) -> None:
    """The boundary of ``server_name<1..253>`` (§2)."""
    st = stage(pki, "start")
    name = b".".join([b"a" * 63] * 3 + [b"b" * 61])
    assert len(name) == 253
    events = st.server.receive_data(record(HANDSHAKE, client_hello(name)))
    assert failure(events) is None
    assert shape(st.server.data_to_send())[0] == (HANDSHAKE, 4 + 32)
