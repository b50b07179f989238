"""Two sans-I/O connections talking in memory (no trio): the good paths.

The handshake with its exact event sequence on each side, the session both
sides agree on, application data in records of at most 16384 bytes, the
half-close of §5, truncation, no-verification mode, the trace events with
sequence numbers and nonces, and §3.4's rule that a side closes rather than
let ``seq`` wrap. Every way of *failing* a check of the spec is in
``test_core_connection_alerts.py``.
"""

from __future__ import annotations

import pytest
from helpers import ConnectionPair, client_config, der, failure, server_config
from wire import split_records

from toytls import events as ev
from toytls.core.connection import Connection
from toytls.core.constants import MAX_SEQ, AlertDescription, AlertLevel, ContentType
from toytls.core.errors import ToyTLSError
from toytls.core.messages import Certificate, ClientHello, ClientKeyExchange, Finished, ServerHello
from toytls.core.protection import RecordSealer, record_nonce
from toytls.pki.generate import PKI


def types(events: list[ev.Event]) -> list[type]:
    return [type(e) for e in events]


def keys_derived(events: list[ev.Event]) -> ev.KeysDerived:
    (found,) = [e for e in events if isinstance(e, ev.KeysDerived)]
    return found


def handshaken(pki: PKI, *, trace: bool = False) -> ConnectionPair:
    pair = ConnectionPair.make(pki, trace=trace)
    pair.handshake()
    return pair


def received_data(events: list[ev.Event]) -> list[bytes]:
    return [e.data for e in events if isinstance(e, ev.ApplicationData)]


# --------------------------------------------------------------- handshake


def test_trace_adds_certificate_links_before_the_verdict(pki: PKI) -> None:
    pair = handshaken(pki, trace=True)
    story = [
        type(e) for e in pair.client_events if not isinstance(e, ev.RecordSent | ev.RecordReceived)
    ]
    start = story.index(ev.ChainVerified) - 3
    assert story[start : start + 4] == [
        ev.CertificateChecked,  # leaf
        ev.CertificateChecked,  # intermediate
        ev.CertificateChecked,  # the root the server left out
        ev.ChainVerified,
    ]
    links = [e.link for e in pair.client_events if isinstance(e, ev.CertificateChecked)]
    assert all(link.signature_valid and link.digest_t == link.digest_s for link in links)


def test_handshake_event_sequence_client_and_server(pki: PKI) -> None:
    pair = ConnectionPair.make(pki)
    assert types(pair.client_events) == [ev.HandshakeMessageSent]
    pair.handshake()
    assert types(pair.client_events) == [
        ev.HandshakeMessageSent,  # ClientHello
        ev.HandshakeMessageReceived,  # ServerHello
        ev.HandshakeMessageReceived,  # Certificate
        ev.ChainVerified,
        ev.HandshakeMessageSent,  # ClientKeyExchange
        ev.KeysDerived,
        ev.HandshakeMessageSent,  # {Finished}
        ev.HandshakeMessageReceived,  # server {Finished}
        ev.HandshakeComplete,
    ]
    assert types(pair.server_events) == [
        ev.HandshakeMessageReceived,  # ClientHello
        ev.HandshakeMessageSent,  # ServerHello
        ev.HandshakeMessageSent,  # Certificate
        ev.HandshakeMessageReceived,  # ClientKeyExchange
        ev.KeysDerived,
        ev.HandshakeMessageReceived,  # client {Finished}
        ev.HandshakeMessageSent,  # server {Finished}
        ev.HandshakeComplete,
    ]
    client_messages = [
        type(e.message)
        for e in pair.client_events
        if isinstance(e, ev.HandshakeMessageSent | ev.HandshakeMessageReceived)
    ]
    assert client_messages == [
        ClientHello,
        ServerHello,
        Certificate,
        ClientKeyExchange,
        Finished,
        Finished,
    ]
    server_messages = [
        type(e.message)
        for e in pair.server_events
        if isinstance(e, ev.HandshakeMessageSent | ev.HandshakeMessageReceived)
    ]
    assert server_messages == client_messages
    # What one side sent is byte for byte what the other received.
    sent = [e.raw for e in pair.client_events if isinstance(e, ev.HandshakeMessageSent)]
    got = [e.raw for e in pair.server_events if isinstance(e, ev.HandshakeMessageReceived)]
    assert sent == got
    chain = [e for e in pair.client_events if isinstance(e, ev.ChainVerified)]
    assert chain[0].server_name == pki.server_name
    assert len(chain[0].path) == 3
    for conn in (pair.client, pair.server):
        assert conn.handshake_complete
        assert not conn.closed
        assert conn.error is None
        assert conn.data_to_send() == b""


def test_handshake_both_sides_derive_the_same_schedule(pki: PKI) -> None:
    pair = handshaken(pki)
    client_keys = keys_derived(pair.client_events)
    server_keys = keys_derived(pair.server_events)
    assert client_keys.secret == server_keys.secret
    assert len(client_keys.secret) == 32
    assert client_keys.schedule == server_keys.schedule


def test_session_info_on_both_sides(pki: PKI) -> None:
    pair = handshaken(pki)
    client, server = pair.client.session, pair.server.session
    assert client is not None
    assert server is not None
    chain = (der(pki.server.certificate), der(pki.intermediate.certificate))
    for session in (client, server):
        assert session.server_name == pki.server_name
        assert session.certificate_chain == chain
        assert session.protocol == "toytls/1"
        assert session.cipher == "AES-128-GCM"
    assert client.verified is True
    assert server.verified is None
    assert client.session_key_fingerprint == server.session_key_fingerprint
    assert len(client.session_key_fingerprint) == 16
    assert client.client_random == server.client_random
    assert client.server_random == server.server_random
    (done,) = [e for e in pair.client_events if isinstance(e, ev.HandshakeComplete)]
    assert done.session == client
    (done,) = [e for e in pair.server_events if isinstance(e, ev.HandshakeComplete)]
    assert done.session == server


def test_session_key_fingerprint_differs_between_connections(pki: PKI) -> None:
    first, second = handshaken(pki), handshaken(pki)
    assert first.client.session is not None
    assert second.client.session is not None
    assert (
        first.client.session.session_key_fingerprint
        != second.client.session.session_key_fingerprint
    )


def test_fresh_randoms_per_connection(pki: PKI) -> None:
    sessions = []
    for _ in range(3):
        pair = handshaken(pki)
        assert pair.client.session is not None
        sessions.append(pair.client.session)
    client_randoms = {s.client_random for s in sessions}
    server_randoms = {s.server_random for s in sessions}
    assert len(client_randoms) == 3
    assert len(server_randoms) == 3
    assert not client_randoms & server_randoms
    assert all(len(r) == 32 for r in client_randoms | server_randoms)


def test_handshake_fed_one_byte_at_a_time(pki: PKI) -> None:
    """§1: a record split across any number of reads."""
    client = Connection(client_config(pki))
    server = Connection(server_config(pki))
    client_events = client.initiate()
    server_events: list[ev.Event] = []
    while True:
        to_server, to_client = client.data_to_send(), b""
        for i in range(len(to_server)):
            server_events += server.receive_data(to_server[i : i + 1])
        to_client = server.data_to_send()
        for i in range(len(to_client)):
            client_events += client.receive_data(to_client[i : i + 1])
        if not to_server and not to_client:
            break
    assert client.handshake_complete
    assert server.handshake_complete
    assert failure(client_events) is None
    assert failure(server_events) is None
    client.send_application_data(b"byte by byte")
    wire = client.data_to_send()
    got: list[ev.Event] = []
    for i in range(len(wire)):
        got += server.receive_data(wire[i : i + 1])
    assert received_data(got) == [b"byte by byte"]


def test_several_records_in_one_read(pki: PKI) -> None:
    pair = handshaken(pki)
    for chunk in (b"one", b"two", b"three"):
        pair.client.send_application_data(chunk)
    wire = pair.client.data_to_send()
    assert len(split_records(wire)) == 3
    assert received_data(pair.server.receive_data(wire)) == [b"one", b"two", b"three"]


def test_no_application_data_before_handshake_complete(pki: PKI) -> None:
    client = Connection(client_config(pki))
    server = Connection(server_config(pki))
    client.initiate()
    with pytest.raises(RuntimeError):
        client.send_application_data(b"too early")
    server.receive_data(client.data_to_send())
    with pytest.raises(RuntimeError):
        server.send_application_data(b"too early")
    client.receive_data(server.data_to_send())
    # §2: the client has sent {Finished} but not yet checked the server's.
    assert not client.handshake_complete
    with pytest.raises(RuntimeError):
        client.send_application_data(b"still too early")
    flight = client.data_to_send()
    assert [t for t, _ in split_records(flight)] == [22, 22]


def test_initiate_only_once_and_only_on_a_client(pki: PKI) -> None:
    client = Connection(client_config(pki))
    client.initiate()
    with pytest.raises(RuntimeError):
        client.initiate()
    with pytest.raises(RuntimeError):
        Connection(server_config(pki)).initiate()


# -------------------------------------------------------- application data


@pytest.mark.parametrize("direction", ["client_to_server", "server_to_client"])
def test_application_data_both_ways(pki: PKI, direction: str) -> None:
    pair = handshaken(pki)
    sender, receiver = (
        (pair.client, pair.server)
        if direction == "client_to_server"
        else (pair.server, pair.client)
    )
    assert sender.send_application_data(b"hello") == []
    wire = sender.data_to_send()
    assert [(t, len(f)) for t, f in split_records(wire)] == [(23, 5 + 16)]
    assert b"hello" not in wire
    assert receiver.receive_data(wire) == [ev.ApplicationData(data=b"hello")]


@pytest.mark.parametrize(
    ("size", "record_sizes"),
    [
        (1, [1]),
        (16383, [16383]),
        (16384, [16384]),
        (16385, [16384, 1]),
        (100000, [16384] * 6 + [100000 - 6 * 16384]),
    ],
    ids=["1", "16383", "16384", "16385", "100000"],
)
def test_application_data_split_into_records(pki: PKI, size: int, record_sizes: list[int]) -> None:
    pair = handshaken(pki)
    payload = bytes(i % 251 for i in range(size))
    pair.client.send_application_data(payload)
    wire = pair.client.data_to_send()
    records = split_records(wire)
    assert [(t, len(f)) for t, f in records] == [(23, n + 16) for n in record_sizes]
    chunks = received_data(pair.server.receive_data(wire))
    assert [len(c) for c in chunks] == record_sizes
    assert b"".join(chunks) == payload
    # And the other way.
    pair.server.send_application_data(payload)
    chunks = received_data(pair.client.receive_data(pair.server.data_to_send()))
    assert b"".join(chunks) == payload
    assert all(len(c) <= 16384 for c in chunks)


def test_empty_send_produces_no_record(pki: PKI) -> None:
    pair = handshaken(pki, trace=True)
    assert pair.client.send_application_data(b"") == []
    assert pair.client.data_to_send() == b""
    # The sequence number did not move: the next record is still seq 1.
    events = pair.client.send_application_data(b"x")
    (sent,) = events
    assert isinstance(sent, ev.RecordSent)
    assert sent.seq == 1
    assert received_data(pair.server.receive_data(pair.client.data_to_send())) == [b"x"]


# --------------------------------------------------------- close_notify, EOF


def test_half_close_then_close_both_ways(pki: PKI) -> None:
    pair = handshaken(pki)
    client, server = pair.client, pair.server
    client.send_application_data(b"request")
    events = client.send_close_notify()
    assert events == [
        ev.AlertSent(
            level=AlertLevel.WARNING, description=AlertDescription.CLOSE_NOTIFY, protected=True
        )
    ]
    assert client.we_closed
    assert not client.closed
    wire = client.data_to_send()
    assert [(t, len(f)) for t, f in split_records(wire)] == [(23, 7 + 16), (21, 2 + 16)]
    with pytest.raises(RuntimeError):
        client.send_application_data(b"after close_notify")
    assert client.data_to_send() == b""
    assert client.send_close_notify() == []  # a second call does nothing
    assert client.data_to_send() == b""

    events = server.receive_data(wire)
    assert events == [
        ev.ApplicationData(data=b"request"),
        ev.AlertReceived(level=1, description=0),
        ev.CloseNotifyReceived(),
    ]
    assert server.peer_closed
    assert not server.closed
    assert server.data_to_send() == b""  # the answer is the server's own choice

    # The other direction still works: half-close.
    server.send_application_data(b"response")
    server.send_application_data(b"more")
    events = client.receive_data(server.data_to_send())
    assert received_data(events) == [b"response", b"more"]

    events = server.send_close_notify()
    assert events == [
        ev.AlertSent(
            level=AlertLevel.WARNING, description=AlertDescription.CLOSE_NOTIFY, protected=True
        )
    ]
    assert server.closed
    events = client.receive_data(server.data_to_send())
    assert events == [ev.AlertReceived(level=1, description=0), ev.CloseNotifyReceived()]
    for conn in (client, server):
        assert conn.closed
        assert conn.error is None
        assert conn.peer_closed
        assert conn.we_closed
        assert conn.data_to_send() == b""
        assert conn.receive_data(b"") == []
        assert conn.receive_data(b"junk after the end") == []
        assert conn.send_close_notify() == []


def test_records_after_peer_close_notify_are_ignored(pki: PKI) -> None:
    pair = handshaken(pki)
    pair.server.send_application_data(b"before")
    pair.server.send_close_notify()
    wire = pair.server.data_to_send()
    # Bytes from whoever, in the same read and in later reads: a record that
    # would not decrypt, a bad header, plain junk.
    trailing = bytes((23, 1, 0, 0, 17)) + bytes(17)
    events = pair.client.receive_data(wire + trailing + b"\xff\xff\xff\xff\xff")
    assert events == [
        ev.ApplicationData(data=b"before"),
        ev.AlertReceived(level=1, description=0),
        ev.CloseNotifyReceived(),
    ]
    assert pair.client.receive_data(trailing) == []
    assert pair.client.receive_data(bytes((99, 3, 1, 255, 255))) == []
    assert pair.client.error is None
    assert pair.client.data_to_send() == b""
    # The client can still send, then close cleanly.
    pair.client.send_application_data(b"still talking")
    assert received_data(pair.server.receive_data(pair.client.data_to_send())) == [b"still talking"]
    pair.client.send_close_notify()
    assert pair.client.closed
    assert pair.client.error is None


def test_eof_after_handshake_without_close_notify_is_truncation(pki: PKI) -> None:
    pair = handshaken(pki)
    events = pair.client.receive_data(b"")
    failed = failure(events)
    assert failed is not None
    assert failed.error.alert is None
    assert failed.error.from_peer is False
    assert pair.client.error is failed.error
    assert pair.client.closed
    assert pair.client.data_to_send() == b""  # no alert: nobody to read it
    with pytest.raises(ToyTLSError) as info:
        pair.client.receive_data(b"")
    assert info.value is failed.error
    with pytest.raises(ToyTLSError) as info:
        pair.client.send_application_data(b"x")
    assert info.value is failed.error


def test_eof_after_own_close_notify_but_not_peers_is_truncation(pki: PKI) -> None:
    pair = handshaken(pki)
    pair.server.send_close_notify()
    pair.client.receive_data(pair.server.data_to_send())
    # The server has sent close_notify, the client has not answered: the
    # stream ends without the client's close_notify.
    failed = failure(pair.server.receive_data(b""))
    assert failed is not None
    assert failed.error.alert is None
    assert pair.server.closed


def test_eof_after_close_notify_is_clean(pki: PKI) -> None:
    pair = handshaken(pki)
    pair.server.send_close_notify()
    events = pair.client.receive_data(pair.server.data_to_send())
    assert events[-1] == ev.CloseNotifyReceived()
    assert pair.client.receive_data(b"") == []
    assert pair.client.error is None
    assert pair.client.data_to_send() == b""


def _eof_stage(pki: PKI, stage: str) -> Connection:
    """A connection in the middle of the handshake at ``stage``."""
    pair = ConnectionPair.make(pki)
    client, server = pair.client, pair.server
    if stage == "server_before_client_hello":
        return server
    if stage == "client_after_client_hello":
        return client
    hello = client.data_to_send()
    if stage == "server_mid_record":
        server.receive_data(hello[:7])
        return server
    server.receive_data(hello)
    if stage == "server_after_server_flight":
        return server
    client.receive_data(server.data_to_send())
    if stage == "client_after_key_exchange":
        return client
    flight = client.data_to_send()
    cke_length = 5 + int.from_bytes(flight[3:5], "big")
    server.receive_data(flight[:cke_length])
    assert stage == "server_after_key_exchange"
    return server


@pytest.mark.parametrize(
    "stage",
    [
        "server_before_client_hello",
        "server_mid_record",
        "client_after_client_hello",
        "server_after_server_flight",
        "client_after_key_exchange",
        "server_after_key_exchange",
    ],
)
def test_eof_during_handshake_fails(pki: PKI, stage: str) -> None:
    conn = _eof_stage(pki, stage)
    conn.data_to_send()  # whatever it had queued for the peer is gone
    events = conn.receive_data(b"")
    failed = failure(events)
    assert failed is not None
    assert failed.error.alert is None
    assert failed.error.from_peer is False
    assert conn.closed
    assert not conn.handshake_complete
    assert conn.data_to_send() == b""
    with pytest.raises(ToyTLSError) as info:
        conn.receive_data(b"")
    assert info.value is failed.error


# --------------------------------------------------------- no verification


def test_no_verification_mode_accepts_the_attackers_self_signed_certificate(pki: PKI) -> None:
    pair = ConnectionPair.make(
        pki,
        client=client_config(pki, verify=False, roots=()),
        server=server_config(
            pki,
            certificate_chain=(der(pki.attacker_self_signed),),
            private_key=pki.attacker_key,
        ),
    )
    pair.handshake()
    assert types(pair.client_events) == [
        ev.HandshakeMessageSent,
        ev.HandshakeMessageReceived,
        ev.HandshakeMessageReceived,
        ev.VerificationSkipped,
        ev.HandshakeMessageSent,
        ev.KeysDerived,
        ev.HandshakeMessageSent,
        ev.HandshakeMessageReceived,
        ev.HandshakeComplete,
    ]
    skipped = [e for e in pair.client_events if isinstance(e, ev.VerificationSkipped)]
    assert skipped == [ev.VerificationSkipped(server_name=pki.server_name)]
    assert pair.client.session is not None
    assert pair.client.session.verified is False
    assert pair.client.session.certificate_chain == (der(pki.attacker_self_signed),)
    assert pair.server.session is not None
    assert (
        pair.client.session.session_key_fingerprint == pair.server.session.session_key_fingerprint
    )
    pair.client.send_application_data(b"secret for the attacker")
    assert received_data(pair.server.receive_data(pair.client.data_to_send())) == [
        b"secret for the attacker"
    ]


def test_same_chain_is_refused_with_verification(pki: PKI) -> None:
    """The control for the test above: only ``verify=False`` made it pass."""
    pair = ConnectionPair.make(
        pki,
        server=server_config(
            pki,
            certificate_chain=(der(pki.attacker_self_signed),),
            private_key=pki.attacker_key,
        ),
    )
    pair.pump()
    assert pair.client.error is not None
    assert pair.client.error.alert == AlertDescription.UNKNOWN_CA
    assert not pair.server.handshake_complete


# ------------------------------------------------------------------- trace


def test_trace_events_carry_seq_and_nonce_for_protected_records(pki: PKI) -> None:
    pair = ConnectionPair.make(pki, trace=True)
    pair.handshake()
    pair.client_events += pair.client.send_application_data(b"ping")
    pair.server_events += pair.server.send_application_data(b"pong")
    pair.pump()
    client_keys = keys_derived(pair.client_events).schedule

    def sent_by(events: list[ev.Event]) -> list[ev.RecordSent]:
        return [e for e in events if isinstance(e, ev.RecordSent)]

    def received_by(events: list[ev.Event]) -> list[ev.RecordReceived]:
        return [e for e in events if isinstance(e, ev.RecordReceived)]

    sent = sent_by(pair.client_events)
    assert [(r.content_type, r.seq) for r in sent] == [
        (ContentType.HANDSHAKE, None),  # ClientHello
        (ContentType.HANDSHAKE, None),  # ClientKeyExchange
        (ContentType.HANDSHAKE, 0),  # {Finished}
        (ContentType.APPLICATION_DATA, 1),
    ]
    for record in sent:
        if record.seq is None:
            assert record.nonce is None
            assert record.record[5:] == record.plaintext
        else:
            assert record.nonce == record_nonce(client_keys.client_write_iv, record.seq)
            assert len(record.record) == 5 + len(record.plaintext) + 16
    assert sent[-1].plaintext == b"ping"

    received = received_by(pair.server_events)
    assert [(r.content_type, r.seq, r.nonce, r.record, r.plaintext) for r in received] == [
        (r.content_type, r.seq, r.nonce, r.record, r.plaintext) for r in sent
    ]

    server_sent = sent_by(pair.server_events)
    assert [(r.content_type, r.seq) for r in server_sent] == [
        (ContentType.HANDSHAKE, None),  # ServerHello
        (ContentType.HANDSHAKE, None),  # Certificate
        (ContentType.HANDSHAKE, 0),  # {Finished}
        (ContentType.APPLICATION_DATA, 1),
    ]
    for record in server_sent[2:]:
        assert record.seq is not None
        assert record.nonce == record_nonce(client_keys.server_write_iv, record.seq)
    client_received = received_by(pair.client_events)
    assert [(r.seq, r.nonce, r.plaintext) for r in client_received] == [
        (r.seq, r.nonce, r.plaintext) for r in server_sent
    ]


def test_no_trace_events_without_trace(pki: PKI) -> None:
    pair = handshaken(pki)
    assert not any(
        isinstance(e, ev.RecordSent | ev.RecordReceived)
        for e in pair.client_events + pair.server_events
    )


def test_nonces_unique_over_1000_records(pki: PKI) -> None:
    pair = handshaken(pki, trace=True)
    client_nonces: list[tuple[int | None, bytes | None]] = []
    server_nonces: list[tuple[int | None, bytes | None]] = []
    for i in range(500):
        for conn, nonces in ((pair.client, client_nonces), (pair.server, server_nonces)):
            (sent,) = conn.send_application_data(i.to_bytes(2, "big"))
            assert isinstance(sent, ev.RecordSent)
            nonces.append((sent.seq, sent.nonce))
    # Every record of both directions, the Finished records included.
    assert len(client_nonces) == len(server_nonces) == 500
    assert [seq for seq, _ in client_nonces] == list(range(1, 501))
    assert [seq for seq, _ in server_nonces] == list(range(1, 501))
    all_nonces = [n for _, n in client_nonces + server_nonces]
    assert len(set(all_nonces)) == 1000
    to_server = pair.server.receive_data(pair.client.data_to_send())
    to_client = pair.client.receive_data(pair.server.data_to_send())
    assert received_data(to_server) == [i.to_bytes(2, "big") for i in range(500)]
    assert received_data(to_client) == [i.to_bytes(2, "big") for i in range(500)]
    assert [(e.seq, e.nonce) for e in to_server if isinstance(e, ev.RecordReceived)] == (
        client_nonces
    )


# ------------------------------------------------------ sequence exhaustion


def _exhausted_writer(pki: PKI) -> tuple[ConnectionPair, ToyTLSError]:
    """A pair whose client used seq 2**64-1 and then tried once more."""
    pair = handshaken(pki, trace=True)
    client, server = pair.client, pair.server
    assert client._sealer is not None
    assert server._opener is not None
    client._sealer.seq = MAX_SEQ
    server._opener.seq = MAX_SEQ
    (sent,) = client.send_application_data(b"the last record")
    assert isinstance(sent, ev.RecordSent)
    assert sent.seq == 2**64 - 1
    events = server.receive_data(client.data_to_send())
    assert received_data(events) == [b"the last record"]
    assert failure(events) is None
    with pytest.raises(ToyTLSError) as info:
        client.send_application_data(b"one too many")
    return pair, info.value


def test_seq_exhaustion_on_the_writer_never_wraps(pki: PKI) -> None:
    """§3.4: seq 2**64-1 may be used for the last record, then no more."""
    pair, error = _exhausted_writer(pki)
    client = pair.client
    assert client._sealer is not None
    assert error.alert is None
    assert error.from_peer is False
    # Nothing went out: in particular no record under seq 0's nonce again.
    assert client.data_to_send() == b""
    assert client._sealer.seq != 0
    with pytest.raises(ToyTLSError):
        client.send_application_data(b"and again")
    assert client.data_to_send() == b""
    # No alert either, not even close_notify: it would need a sequence number.
    client.send_close_notify()
    assert client.data_to_send() == b""


def test_seq_exhaustion_on_the_writer_closes_the_connection(pki: PKI) -> None:
    """§3.4: "a side MUST close the connection rather than let seq wrap".

    The connection must end as for any other failure (module docstring of
    toytls.core.connection): ``closed``, ``error`` set, every later call raising
    that same error.
    """
    pair, error = _exhausted_writer(pki)
    client = pair.client
    assert client.error is error
    assert client.closed
    with pytest.raises(ToyTLSError) as again:
        client.receive_data(b"")
    assert again.value is error
    with pytest.raises(ToyTLSError) as again:
        client.send_application_data(b"x")
    assert again.value is error


def test_seq_exhaustion_on_the_reader(pki: PKI) -> None:
    pair = handshaken(pki)
    client, server = pair.client, pair.server
    schedule = keys_derived(pair.client_events).schedule
    assert client._sealer is not None
    assert server._opener is not None
    client._sealer.seq = MAX_SEQ
    server._opener.seq = MAX_SEQ
    client.send_application_data(b"last")
    assert received_data(server.receive_data(client.data_to_send())) == [b"last"]
    # The record that a wrapped counter would accept: sealed under seq 0.
    wrapped = RecordSealer(schedule.client_write_key, schedule.client_write_iv)
    record, seq, _ = wrapped.seal(ContentType.APPLICATION_DATA, b"wrapped")
    assert seq == 0
    events = server.receive_data(record)
    assert received_data(events) == []
    failed = failure(events)
    assert failed is not None
    assert failed.error.alert is None
    assert failed.error.from_peer is False
    assert server.closed
    assert server.error is failed.error
    assert server.data_to_send() == b""
    assert server._opener.seq != 0
    with pytest.raises(ToyTLSError) as info:
        server.receive_data(record)
    assert info.value is failed.error
