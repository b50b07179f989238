"""Hypothesis over every parser, and over whole connections fed junk.

Trait 6 of STYLE.md: a parser raises exactly one exception type, and
re-encoding whatever it accepted gives back the input. The record reader
yields records or a ToyTLSError, and the same ones however the stream is
split. A Connection never raises from ``receive_data`` for anything the peer
sends: a problem ends in one final ``ConnectionFailed`` (with its alert
queued), and every later call raises that same error.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import pytest
from helpers import ConnectionPair, client_config, der, server_config
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from toytls import events as ev
from toytls.core.connection import Connection
from toytls.core.constants import (
    MAX_CIPHERTEXT,
    MAX_PLAINTEXT,
    AlertDescription,
    ContentType,
    HandshakeType,
)
from toytls.core.errors import DecodeError, ToyTLSError
from toytls.core.keyschedule import encrypt_secret
from toytls.core.messages import (
    AnyMessage,
    Certificate,
    ClientHello,
    ClientKeyExchange,
    Finished,
    ServerHello,
    UnknownMessage,
    check_certificate_count,
    check_secret_length,
    check_server_name,
    encode_message,
    parse_message,
)
from toytls.core.records import RawRecord, RecordReader, encode_record
from toytls.pki.generate import PKI

FUZZ = settings(max_examples=300, deadline=None)
FUZZ_CONNECTION = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

KNOWN_TYPES = [int(t) for t in HandshakeType]


def frame(msg_type: int, body: bytes) -> bytes:
    return bytes((msg_type,)) + len(body).to_bytes(3, "big") + body


# -------------------------------------------------------------- strategies


@st.composite
def certificate_bodies(draw: st.DrawFn) -> bytes:
    """A certificate_list whose lengths are usually right and sometimes not."""
    entries = draw(st.lists(st.binary(max_size=20), max_size=10))
    inner = b""
    for entry in entries:
        length = len(entry) + draw(st.sampled_from([0, 0, 0, 0, -1, 1, 5]))
        inner += max(length, 0).to_bytes(3, "big") + entry
    total = len(inner) + draw(st.sampled_from([0, 0, 0, -1, 1]))
    return max(total, 0).to_bytes(3, "big") + inner + draw(st.sampled_from([b"", b"\x00"]))


@st.composite
def vector_bodies(draw: st.DrawFn) -> bytes:
    """A prefix, then a 1- or 2-byte length that may lie, then bytes."""
    prefix = draw(st.sampled_from([b"", bytes(32), bytes(31), bytes(33)]))
    size = draw(st.sampled_from([1, 2]))
    data = draw(st.binary(max_size=300))
    length: int = len(data) + draw(st.sampled_from([0, 0, 0, -1, 1]))
    length = min(max(length, 0), 256**size - 1)
    return prefix + length.to_bytes(size, "big") + data


#: bodies for any msg_type: free bytes and near-valid structures
bodies = st.one_of(
    st.binary(max_size=80),
    st.binary(min_size=30, max_size=34),
    certificate_bodies(),
    vector_bodies(),
)

#: messages with a right outer length, of known and unknown types
framed_messages = st.builds(
    frame, st.one_of(st.sampled_from(KNOWN_TYPES), st.integers(0, 255)), bodies
)


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with a few bytes changed, inserted, deleted or cut off."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        position = draw(st.integers(0, len(out)))
        if kind == "insert":
            out.insert(position, draw(st.integers(0, 255)))
        elif position < len(out):
            if kind == "flip":
                out[position] = draw(st.integers(0, 255))
            elif kind == "delete":
                del out[position]
            else:
                del out[position:]
    return bytes(out)


VALID_MESSAGES = [
    encode_message(ClientHello(random=bytes(32), server_name="localhost")),
    encode_message(ServerHello(random=bytes(range(32)))),
    encode_message(Certificate(certificates=(b"leaf" * 10, b"intermediate"))),
    encode_message(ClientKeyExchange(encrypted_secret=bytes(256))),
    encode_message(Finished(verify_data=b"\x11" * 32)),
    encode_message(UnknownMessage(msg_type=200, body=b"body")),
]

any_message_bytes = st.one_of(
    st.binary(max_size=400),
    framed_messages,
    st.sampled_from(VALID_MESSAGES).flatmap(mutated),
)


@st.composite
def splits(draw: st.DrawFn, data: bytes) -> list[bytes]:
    """``data`` cut at arbitrary points, into non-empty chunks.

    (An empty chunk would mean end of stream to a Connection.)
    """
    cuts = draw(st.lists(st.integers(1, max(len(data) - 1, 1)), max_size=12))
    points = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    return [data[a:b] for a, b in itertools.pairwise(points)]


# ---------------------------------------------------------------- parse_message


def parse_or_error(data: bytes) -> AnyMessage | DecodeError:
    """The parsed message, or the DecodeError (any other exception escapes)."""
    try:
        return parse_message(data)
    except DecodeError as error:
        return error


def body_rule_error(message: AnyMessage) -> DecodeError | None:
    """Apply the body rule of ``message``'s type; return its DecodeError, if any."""
    try:
        if isinstance(message, ClientHello):
            check_server_name(message.server_name)
        elif isinstance(message, Certificate):
            check_certificate_count(message)
        elif isinstance(message, ClientKeyExchange):
            check_secret_length(message, 256)
    except DecodeError as error:
        return error
    return None


def check_parse(data: bytes) -> None:
    message = parse_or_error(data)
    if isinstance(message, DecodeError):
        assert message.alert == AlertDescription.DECODE_ERROR
        assert message.from_peer is False
        return
    # Whatever parsed re-encodes to exactly the input.
    assert encode_message(message) == data
    assert parse_message(encode_message(message)) == message
    # The body rules raise DecodeError or nothing.
    error = body_rule_error(message)
    if error is not None:
        assert error.alert in (AlertDescription.DECODE_ERROR, AlertDescription.ILLEGAL_PARAMETER)


@FUZZ
@given(st.binary(max_size=400))
def test_parse_message_arbitrary_bytes(data: bytes) -> None:
    check_parse(data)


@FUZZ
@given(framed_messages)
def test_parse_message_framed_bodies(data: bytes) -> None:
    check_parse(data)


@FUZZ
@given(st.sampled_from(VALID_MESSAGES).flatmap(mutated))
def test_parse_message_mutated_valid_messages(data: bytes) -> None:
    check_parse(data)


@FUZZ
@given(st.binary(min_size=32, max_size=32), st.binary(min_size=1, max_size=253))
def test_client_hello_any_name_round_trips(random: bytes, name: bytes) -> None:
    data = frame(HandshakeType.CLIENT_HELLO, random + bytes((len(name),)) + name)
    message = parse_message(data)
    assert isinstance(message, ClientHello)
    assert encode_message(message) == data
    legal = all(c in b"abcdefghijklmnopqrstuvwxyz0123456789.-" for c in name)
    error = body_rule_error(message)
    if legal:
        assert error is None
    else:
        assert error is not None
        assert error.alert == AlertDescription.ILLEGAL_PARAMETER


@FUZZ
@given(st.lists(st.binary(min_size=1, max_size=40), min_size=1, max_size=12))
def test_certificate_any_entries_round_trip(entries: list[bytes]) -> None:
    message = Certificate(certificates=tuple(entries))
    data = encode_message(message)
    assert parse_message(data) == message
    if len(entries) <= 8:
        check_certificate_count(message)
    else:
        with pytest.raises(DecodeError):
            check_certificate_count(message)


# ----------------------------------------------------------------- RecordReader


def run_reader(
    chunks: Sequence[bytes], limit: int
) -> tuple[list[RawRecord], AlertDescription | int | None]:
    """Records until the stream ends or a ToyTLSError; the error's alert (or None)."""
    reader = RecordReader()
    records: list[RawRecord] = []
    for chunk in chunks:
        reader.feed(chunk)
        while True:
            try:
                record = reader.next_record(limit)
            except ToyTLSError as error:
                return records, error.alert
            if record is None:
                break
            assert len(record.fragment) <= limit
            assert record.header == encode_record(record.content_type, record.fragment)[:5]
            records.append(record)
    return records, None


HEADER_ALERTS = (
    None,
    AlertDescription.UNEXPECTED_MESSAGE,
    AlertDescription.PROTOCOL_VERSION,
    AlertDescription.RECORD_OVERFLOW,
)

record_streams = st.one_of(
    st.binary(max_size=300),
    st.lists(
        st.one_of(
            st.builds(encode_record, st.sampled_from(list(ContentType)), st.binary(max_size=60)),
            st.binary(max_size=8),
        ),
        max_size=8,
    ).map(b"".join),
)
limits = st.sampled_from([MAX_PLAINTEXT, MAX_CIPHERTEXT, 0, 1, 16, 40])


@FUZZ
@given(record_streams.flatmap(lambda data: st.tuples(st.just(data), splits(data))), limits)
def test_record_reader_split_anywhere(
    data_and_chunks: tuple[bytes, list[bytes]], limit: int
) -> None:
    data, chunks = data_and_chunks
    whole = run_reader([data], limit)
    assert whole[1] in HEADER_ALERTS
    assert run_reader(chunks, limit) == whole
    assert run_reader([data[i : i + 1] for i in range(len(data))], limit) == whole
    records, _ = whole
    consumed = b"".join(r.header + r.fragment for r in records)
    assert data.startswith(consumed)


@FUZZ
@given(
    st.lists(
        st.tuples(st.sampled_from(list(ContentType)), st.binary(max_size=200)), max_size=10
    ).flatmap(
        lambda rs: st.tuples(st.just(rs), splits(b"".join(encode_record(t, f) for t, f in rs)))
    )
)
def test_record_reader_valid_stream_split_anywhere(
    records_and_chunks: tuple[list[tuple[ContentType, bytes]], list[bytes]],
) -> None:
    expected, chunks = records_and_chunks
    records, alert = run_reader(chunks, MAX_PLAINTEXT)
    assert alert is None
    assert [(r.content_type, r.fragment) for r in records] == expected


# ------------------------------------------------------------------- Connection


def check_never_raises(connection: Connection, chunks: Sequence[bytes]) -> None:
    """Feed ``chunks``; check the failure contract of receive_data."""
    failed: ev.ConnectionFailed | None = None
    for chunk in chunks:
        if failed is not None:
            with pytest.raises(ToyTLSError) as caught:
                connection.receive_data(chunk)
            assert caught.value is failed.error
            continue
        events = connection.receive_data(chunk)
        failures = [e for e in events if isinstance(e, ev.ConnectionFailed)]
        assert len(failures) <= 1
        if not failures:
            connection.data_to_send()
            continue
        failed = failures[0]
        assert events[-1] is failed
        assert connection.error is failed.error
        assert connection.closed
        out = connection.data_to_send()
        sent = [e for e in events if isinstance(e, ev.AlertSent)]
        error = failed.error
        if error.alert is not None and not error.from_peer:
            # The alert that names the failure went out, and it was the last record.
            assert sent
            assert sent[-1].description == error.alert
            if sent[-1].protected:
                # 5 header bytes, then 2 bytes of alert + 16 of tag.
                assert out[-23:-18] == bytes.fromhex("1501000012")
            else:
                assert out[-7:] == bytes.fromhex("1501000002") + bytes((2, error.alert))
        elif error.alert == AlertDescription.CLOSE_NOTIFY:
            # close_notify during the handshake is answered with close_notify.
            assert [(a.level, a.description) for a in sent] == [(1, 0)]
        else:
            assert not sent
    event(f"ended in {connection.state.value}")
    if failed is not None:
        event(f"failed with {failed.error.alert_name}")
        with pytest.raises(ToyTLSError) as caught:
            connection.receive_data(b"more")
        assert caught.value is failed.error
        with pytest.raises(ToyTLSError) as caught:
            connection.receive_data(b"")
        assert caught.value is failed.error
        assert connection.data_to_send() == b""


def maybe_eof(chunks: st.SearchStrategy[list[bytes]]) -> st.SearchStrategy[list[bytes]]:
    """The chunks, sometimes followed by end of stream (``b""``)."""
    return st.tuples(chunks, st.booleans()).map(lambda t: t[0] + [b""] * t[1])


def fresh_client(pki: PKI) -> Connection:
    client = Connection(client_config(pki))
    client.initiate()
    client.data_to_send()
    return client


def fresh_server(pki: PKI) -> Connection:
    return Connection(server_config(pki))


@FUZZ_CONNECTION
@given(maybe_eof(st.binary(max_size=200).flatmap(splits)))
def test_client_fed_arbitrary_bytes(pki: PKI, chunks: list[bytes]) -> None:
    check_never_raises(fresh_client(pki), chunks)


@FUZZ_CONNECTION
@given(maybe_eof(st.binary(max_size=200).flatmap(splits)))
def test_server_fed_arbitrary_bytes(pki: PKI, chunks: list[bytes]) -> None:
    check_never_raises(fresh_server(pki), chunks)


def random_records() -> st.SearchStrategy[bytes]:
    """Records with good headers and arbitrary or near-valid content."""
    handshake = st.builds(encode_record, st.just(ContentType.HANDSHAKE), any_message_bytes)
    other = st.builds(
        encode_record,
        st.sampled_from([ContentType.ALERT, ContentType.APPLICATION_DATA]),
        st.one_of(st.binary(max_size=40), st.sampled_from([b"\x01\x00", b"\x02\x28"])),
    )
    return st.one_of(handshake, other, st.binary(max_size=10))


@st.composite
def server_streams(draw: st.DrawFn, pki: PKI) -> list[bytes]:
    """Mostly valid client flights with junk mixed in, cut anywhere."""
    hello = encode_record(
        ContentType.HANDSHAKE,
        encode_message(ClientHello(random=bytes(32), server_name=pki.server_name)),
    )
    secret = encrypt_secret(pki.server.key.public_key(), bytes(32))
    key_exchange = encode_record(
        ContentType.HANDSHAKE, encode_message(ClientKeyExchange(encrypted_secret=secret))
    )
    parts = draw(
        st.lists(st.one_of(st.sampled_from([hello, key_exchange]), random_records()), max_size=6)
    )
    if draw(st.booleans()):
        parts = [hello, key_exchange, *parts]
    data = b"".join(parts)
    return draw(splits(data)) + draw(st.sampled_from([[], [b""]]))


@st.composite
def client_streams(draw: st.DrawFn, pki: PKI) -> list[bytes]:
    """Mostly valid server flights with junk mixed in, cut anywhere."""
    hello = encode_record(
        ContentType.HANDSHAKE, encode_message(ServerHello(random=bytes(range(32))))
    )
    chain = (der(pki.server.certificate), der(pki.intermediate.certificate))
    certificate = encode_record(
        ContentType.HANDSHAKE, encode_message(Certificate(certificates=chain))
    )
    parts = draw(
        st.lists(st.one_of(st.sampled_from([hello, certificate]), random_records()), max_size=6)
    )
    if draw(st.booleans()):
        parts = [hello, certificate, *parts]
    data = b"".join(parts)
    return draw(splits(data)) + draw(st.sampled_from([[], [b""]]))


@FUZZ_CONNECTION
@given(st.data())
def test_server_fed_near_valid_records(pki: PKI, data: st.DataObject) -> None:
    check_never_raises(fresh_server(pki), data.draw(server_streams(pki)))


@FUZZ_CONNECTION
@given(st.data())
def test_client_fed_near_valid_records(pki: PKI, data: st.DataObject) -> None:
    check_never_raises(fresh_client(pki), data.draw(client_streams(pki)))


@settings(FUZZ_CONNECTION, max_examples=60)
@given(
    st.sampled_from(["client", "server"]),
    maybe_eof(st.one_of(st.binary(max_size=100), random_records()).flatmap(splits)),
)
def test_connected_side_fed_arbitrary_bytes(pki: PKI, side: str, chunks: list[bytes]) -> None:
    pair = ConnectionPair.make(pki)
    pair.handshake()
    connection = pair.client if side == "client" else pair.server
    check_never_raises(connection, chunks)
