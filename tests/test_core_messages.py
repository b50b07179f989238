"""Handshake messages (§2): encoding, the framing parser and the body rules.

Every message type is encoded and parsed back whole, with a trailing byte,
truncated at every length and with its uint24 length off by one. Then the
body rules (``check_server_name``, ``check_certificate_count``,
``check_secret_length``) at their edges, and — through real connections —
the §2 order of checks: framing, then msg_type, then the body's own rules.
"""

from __future__ import annotations

import pytest
from helpers import client_config, der, server_config
from wire import wire_records

from toytls import events as ev
from toytls.core.connection import Connection
from toytls.core.constants import AlertDescription, ContentType, HandshakeType
from toytls.core.errors import DecodeError
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
from toytls.core.records import encode_record
from toytls.pki.generate import PKI

RANDOM = bytes(range(32))
FAKE_DER = b"\x30\x82\x01\x00" + b"\xaa" * 256

MESSAGES: dict[str, AnyMessage] = {
    "ClientHello": ClientHello(random=RANDOM, server_name="localhost"),
    "ServerHello": ServerHello(random=RANDOM[::-1]),
    "Certificate": Certificate(certificates=(FAKE_DER, b"\x30\x03\x02\x01\x05")),
    "Certificate-1": Certificate(certificates=(b"\x01",)),
    "ClientKeyExchange": ClientKeyExchange(encrypted_secret=bytes(range(256))),
    "Finished": Finished(verify_data=b"\x5a" * 32),
    "Unknown-99": UnknownMessage(msg_type=99, body=b"whatever"),
    "Unknown-0-empty": UnknownMessage(msg_type=0, body=b""),
}
ALL = pytest.mark.parametrize("message", list(MESSAGES.values()), ids=list(MESSAGES))
#: the types whose body has fields (an unknown body is just bytes)
KNOWN = {name: m for name, m in MESSAGES.items() if not isinstance(m, UnknownMessage)}
ALL_KNOWN = pytest.mark.parametrize("message", list(KNOWN.values()), ids=list(KNOWN))


def with_length(data: bytes, length: int) -> bytes:
    """``data`` with its uint24 length field replaced."""
    return data[:1] + length.to_bytes(3, "big") + data[4:]


def reframe(msg_type: int, body: bytes) -> bytes:
    """A handshake message with a correct outer length around ``body``."""
    return bytes((msg_type,)) + len(body).to_bytes(3, "big") + body


def assert_decode_error(data: bytes) -> DecodeError:
    with pytest.raises(DecodeError) as caught:
        parse_message(data)
    assert caught.value.alert == AlertDescription.DECODE_ERROR
    assert caught.value.from_peer is False
    return caught.value


# ------------------------------------------------------------------ round trips


@ALL
def test_round_trip(message: AnyMessage) -> None:
    data = encode_message(message)
    parsed = parse_message(data)
    assert parsed == message
    assert type(parsed) is type(message)
    assert encode_message(parsed) == data


@ALL
def test_header_layout(message: AnyMessage) -> None:
    data = encode_message(message)
    assert data[0] == message.msg_type
    assert int.from_bytes(data[1:4], "big") == len(data) - 4
    assert data[4:] == message.encode_body()


def test_known_encodings() -> None:
    assert encode_message(ServerHello(random=bytes(32))) == bytes.fromhex("02000020") + bytes(32)
    assert encode_message(Finished(verify_data=b"\x01" * 32)) == bytes.fromhex("14000020") + (
        b"\x01" * 32
    )
    assert encode_message(ClientHello(random=bytes(32), server_name="a.b")) == (
        bytes.fromhex("01000024") + bytes(32) + b"\x03a.b"
    )
    assert (
        encode_message(ClientKeyExchange(encrypted_secret=b"xyz"))
        == bytes.fromhex("10000005" + "0003") + b"xyz"
    )
    assert (
        encode_message(Certificate(certificates=(b"AB", b"C")))
        == bytes.fromhex("0b00000c" + "000009" + "000002") + b"AB" + bytes.fromhex("000001") + b"C"
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ClientHello", 1),
        ("ServerHello", 2),
        ("Certificate", 11),
        ("ClientKeyExchange", 16),
        ("Finished", 20),
        ("Unknown-99", 99),
        ("Unknown-0-empty", 0),
    ],
)
def test_msg_type_values(name: str, expected: int) -> None:
    message = MESSAGES[name]
    assert message.msg_type == expected
    assert encode_message(message)[0] == expected


# ---------------------------------------------------------- framing: decode_error


@ALL
def test_trailing_byte_after_message(message: AnyMessage) -> None:
    assert_decode_error(encode_message(message) + b"\x00")
    assert_decode_error(encode_message(message) + encode_message(message))


@ALL_KNOWN
def test_trailing_byte_inside_body(message: AnyMessage) -> None:
    # The outer length covers it, so the body parser must refuse it.
    assert_decode_error(reframe(message.msg_type, message.encode_body() + b"\x00"))


@ALL
def test_truncated_at_every_length(message: AnyMessage) -> None:
    data = encode_message(message)
    for cut in range(len(data)):
        assert_decode_error(data[:cut])


@ALL_KNOWN
def test_body_truncated_at_every_length_with_consistent_length(message: AnyMessage) -> None:
    body = message.encode_body()
    for cut in range(len(body)):
        assert_decode_error(reframe(message.msg_type, body[:cut]))


@ALL
def test_length_field_off(message: AnyMessage) -> None:
    data = encode_message(message)
    right = len(data) - 4
    wrong = {right - 1, right + 1, right - 4, right + 4, 0, 2**24 - 1} - {right}
    for length in sorted(n for n in wrong if 0 <= n < 2**24):
        assert_decode_error(with_length(data, length))


def test_shorter_than_a_header() -> None:
    for data in (b"", b"\x01", b"\x01\x00", b"\x01\x00\x00"):
        assert_decode_error(data)
    assert parse_message(b"\x63\x00\x00\x00") == UnknownMessage(msg_type=0x63, body=b"")


@pytest.mark.parametrize("msg_type", list(HandshakeType))
def test_known_type_with_empty_body(msg_type: HandshakeType) -> None:
    assert_decode_error(reframe(msg_type, b""))


# ------------------------------------------------------------ ServerHello, Finished


@pytest.mark.parametrize("size", [0, 1, 31, 33, 64])
def test_finished_wrong_size(size: int) -> None:
    assert_decode_error(reframe(HandshakeType.FINISHED, bytes(size)))


@pytest.mark.parametrize("size", [0, 31, 33])
def test_server_hello_wrong_size(size: int) -> None:
    assert_decode_error(reframe(HandshakeType.SERVER_HELLO, bytes(size)))


def test_finished_and_server_hello_of_32() -> None:
    assert parse_message(reframe(HandshakeType.FINISHED, b"\xff" * 32)) == Finished(
        verify_data=b"\xff" * 32
    )
    assert parse_message(reframe(HandshakeType.SERVER_HELLO, b"\xee" * 32)) == ServerHello(
        random=b"\xee" * 32
    )


# ------------------------------------------------------------------ ClientHello


def client_hello_bytes(name: bytes, random: bytes = RANDOM) -> bytes:
    return reframe(HandshakeType.CLIENT_HELLO, random + bytes((len(name),)) + name)


@pytest.mark.parametrize("size", [1, 2, 63, 64, 252, 253])
def test_server_name_legal_lengths(size: int) -> None:
    name = ("a" * size).encode()
    parsed = parse_message(client_hello_bytes(name))
    assert parsed == ClientHello(random=RANDOM, server_name=name.decode())
    assert isinstance(parsed, ClientHello)
    check_server_name(parsed.server_name)
    assert encode_message(parsed) == client_hello_bytes(name)


@pytest.mark.parametrize("size", [0, 254, 255])
def test_server_name_illegal_lengths(size: int) -> None:
    assert_decode_error(client_hello_bytes(b"a" * size))


def test_server_name_length_points_past_end() -> None:
    data = reframe(HandshakeType.CLIENT_HELLO, RANDOM + b"\x0alocalhost")  # 10 for 9
    assert_decode_error(data)
    data = reframe(HandshakeType.CLIENT_HELLO, RANDOM + b"\x08localhost")  # 8 for 9
    assert_decode_error(data)


def test_client_hello_random_short() -> None:
    assert_decode_error(client_hello_bytes(b"localhost", random=bytes(31))[:-1])
    assert_decode_error(reframe(HandshakeType.CLIENT_HELLO, bytes(31)))


GOOD_NAMES = ["localhost", "a", "0", "-", ".", "a-b.c0", "xn--p1ai.test", "toytls.test"]
BAD_NAMES = [
    "Localhost",
    "LOCALHOST",
    "local_host",
    "local host",
    "local\x00host",
    "local\xffhost",
    "\x00",
    "\xff",
    "localhost\n",
    "localhost/",
    "*.localhost",
    "local:host",
    "caf\xe9",
]


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_check_server_name_accepts(name: str) -> None:
    check_server_name(name)


@pytest.mark.parametrize("name", BAD_NAMES)
def test_check_server_name_refuses(name: str) -> None:
    # Framing is fine: the byte is only refused by the body rule.
    parsed = parse_message(client_hello_bytes(name.encode("latin-1")))
    assert isinstance(parsed, ClientHello)
    assert parsed.server_name == name
    with pytest.raises(DecodeError) as caught:
        check_server_name(parsed.server_name)
    assert caught.value.alert == AlertDescription.ILLEGAL_PARAMETER


@pytest.mark.parametrize("byte", range(256))
def test_check_server_name_every_byte(byte: int) -> None:
    name = "a" + chr(byte) + "b"
    legal = chr(byte) in "abcdefghijklmnopqrstuvwxyz0123456789.-"
    if legal:
        check_server_name(name)
    else:
        with pytest.raises(DecodeError) as caught:
            check_server_name(name)
        assert caught.value.alert == AlertDescription.ILLEGAL_PARAMETER


def test_check_server_name_empty() -> None:
    with pytest.raises(DecodeError):
        check_server_name("")


# ------------------------------------------------------------------ Certificate


def certificate_bytes(entries: list[bytes], *, total: int | None = None) -> bytes:
    inner = b"".join(len(e).to_bytes(3, "big") + e for e in entries)
    size = len(inner) if total is None else total
    return reframe(HandshakeType.CERTIFICATE, size.to_bytes(3, "big") + inner)


def test_certificate_zero_entries() -> None:
    # certificate_list<1..2^24-1>: an empty list is a framing error ...
    assert_decode_error(certificate_bytes([]))
    # ... and a message built with none fails the count rule.
    with pytest.raises(DecodeError) as caught:
        check_certificate_count(Certificate(certificates=()))
    assert caught.value.alert == AlertDescription.DECODE_ERROR


@pytest.mark.parametrize("position", [0, 1, 2])
def test_certificate_empty_entry(position: int) -> None:
    entries = [b"leaf", b"mid"]
    entries.insert(position, b"")
    assert_decode_error(certificate_bytes(entries))


@pytest.mark.parametrize("count", [1, 2, 7, 8])
def test_certificate_count_allowed(count: int) -> None:
    entries = [bytes([i]) * (i + 1) for i in range(count)]
    parsed = parse_message(certificate_bytes(entries))
    assert parsed == Certificate(certificates=tuple(entries))
    assert isinstance(parsed, Certificate)
    check_certificate_count(parsed)


@pytest.mark.parametrize("count", [9, 10, 100])
def test_certificate_count_too_many(count: int) -> None:
    entries = [bytes([i % 256]) for i in range(count)]
    parsed = parse_message(certificate_bytes(entries))  # framing is fine
    assert isinstance(parsed, Certificate)
    assert len(parsed.certificates) == count
    with pytest.raises(DecodeError) as caught:
        check_certificate_count(parsed)
    assert caught.value.alert == AlertDescription.DECODE_ERROR


def test_certificate_inner_length_past_end() -> None:
    inner = (5).to_bytes(3, "big") + b"abcd"  # says 5, holds 4
    assert_decode_error(reframe(HandshakeType.CERTIFICATE, len(inner).to_bytes(3, "big") + inner))
    inner = b"\x00\x00\x03abc" + b"\x00\x00\x09xyz"  # second entry runs past the list
    assert_decode_error(reframe(HandshakeType.CERTIFICATE, len(inner).to_bytes(3, "big") + inner))


def test_certificate_entry_length_cut_short() -> None:
    inner = b"\x00\x00\x01a" + b"\x00\x00"  # a second entry's length of 2 bytes
    assert_decode_error(reframe(HandshakeType.CERTIFICATE, len(inner).to_bytes(3, "big") + inner))


@pytest.mark.parametrize("delta", [-1, +1, 100])
def test_certificate_total_length_off(delta: int) -> None:
    entries = [b"leaf", b"intermediate"]
    total = sum(3 + len(e) for e in entries) + delta
    assert_decode_error(certificate_bytes(entries, total=total))


# ------------------------------------------------------------ ClientKeyExchange


@pytest.mark.parametrize("size", [1, 255, 256, 257, 512])
def test_client_key_exchange_lengths_parse(size: int) -> None:
    secret = bytes([7]) * size
    parsed = parse_message(
        reframe(HandshakeType.CLIENT_KEY_EXCHANGE, size.to_bytes(2, "big") + secret)
    )
    assert parsed == ClientKeyExchange(encrypted_secret=secret)


def test_client_key_exchange_empty_or_lying() -> None:
    assert_decode_error(reframe(HandshakeType.CLIENT_KEY_EXCHANGE, b"\x00\x00"))
    assert_decode_error(reframe(HandshakeType.CLIENT_KEY_EXCHANGE, b"\x00\x05abcd"))
    assert_decode_error(reframe(HandshakeType.CLIENT_KEY_EXCHANGE, b"\x00\x03abcd"))
    assert_decode_error(reframe(HandshakeType.CLIENT_KEY_EXCHANGE, b"\x00"))


@pytest.mark.parametrize(("size", "ok"), [(255, False), (256, True), (257, False), (1, False)])
def test_check_secret_length(size: int, ok: bool) -> None:
    message = ClientKeyExchange(encrypted_secret=bytes(size))
    if ok:
        check_secret_length(message, 256)
    else:
        with pytest.raises(DecodeError) as caught:
            check_secret_length(message, 256)
        assert caught.value.alert == AlertDescription.DECODE_ERROR


def test_check_secret_length_other_modulus() -> None:
    check_secret_length(ClientKeyExchange(encrypted_secret=bytes(384)), 384)
    with pytest.raises(DecodeError):
        check_secret_length(ClientKeyExchange(encrypted_secret=bytes(256)), 384)


# -------------------------------------------------------------- unknown msg_type


@pytest.mark.parametrize("msg_type", [0, 3, 4, 12, 15, 17, 21, 99, 255])
@pytest.mark.parametrize("body", [b"", b"\x00", b"some body" * 10])
def test_unknown_msg_type(msg_type: int, body: bytes) -> None:
    data = reframe(msg_type, body)
    parsed = parse_message(data)
    assert parsed == UnknownMessage(msg_type=msg_type, body=body)
    assert encode_message(parsed) == data


# --------------------------------------------- §2 order of checks in a connection


def plain_alert(code: AlertDescription) -> bytes:
    return encode_record(ContentType.ALERT, bytes((2, code)))


def fed(connection: Connection, message: bytes) -> AlertDescription | int | None:
    """Feed one handshake message; return the alert it failed with (or None)."""
    events = connection.receive_data(encode_record(ContentType.HANDSHAKE, message))
    if events and isinstance(events[-1], ev.ConnectionFailed):
        alert = events[-1].error.alert
        assert alert is not None
        # No keys are active yet in any case here: the alert goes in the clear.
        assert connection.data_to_send() == plain_alert(AlertDescription(alert))
        return alert
    return None


def fresh_server(pki: PKI) -> Connection:
    return Connection(server_config(pki))


def client_waiting_server_hello(pki: PKI) -> Connection:
    client = Connection(client_config(pki))
    client.initiate()
    client.data_to_send()
    return client


def client_waiting_certificate(pki: PKI) -> tuple[Connection, bytes]:
    """A client that has read ServerHello, and the server's Certificate record."""
    client = Connection(client_config(pki))
    client.initiate()
    server = fresh_server(pki)
    server.receive_data(client.data_to_send())
    server_hello, certificate = wire_records(server.data_to_send())
    assert client.receive_data(server_hello)
    assert client.error is None
    return client, certificate


def server_waiting_key_exchange(pki: PKI) -> Connection:
    server = fresh_server(pki)
    hello = ClientHello(random=RANDOM, server_name=pki.server_name)
    assert fed(server, encode_message(hello)) is None
    server.data_to_send()
    return server


@pytest.mark.parametrize(
    ("name", "alert"),
    [
        ("localhost", None),
        ("Localhost", AlertDescription.ILLEGAL_PARAMETER),
        ("local_host", AlertDescription.ILLEGAL_PARAMETER),
        ("local host", AlertDescription.ILLEGAL_PARAMETER),
        ("local\x00host", AlertDescription.ILLEGAL_PARAMETER),
        ("local\xffhost", AlertDescription.ILLEGAL_PARAMETER),
    ],
)
def test_server_applies_server_name_rule(
    pki: PKI, name: str, alert: AlertDescription | None
) -> None:
    server = fresh_server(pki)
    hello = encode_message(ClientHello(random=RANDOM, server_name=name))
    assert fed(server, hello) == alert


def test_server_name_rule_comes_after_msg_type(pki: PKI) -> None:
    # A ClientHello sent to a client is unexpected before its name is judged.
    client = client_waiting_server_hello(pki)
    hello = encode_message(ClientHello(random=RANDOM, server_name="BAD_NAME"))
    assert fed(client, hello) == AlertDescription.UNEXPECTED_MESSAGE


def test_framing_comes_before_msg_type(pki: PKI) -> None:
    # A malformed message of a type not expected now is a decode_error.
    client = client_waiting_server_hello(pki)
    assert fed(client, reframe(HandshakeType.FINISHED, bytes(31))) == (
        AlertDescription.DECODE_ERROR
    )
    client = client_waiting_server_hello(pki)
    truncated = encode_message(ClientHello(random=RANDOM, server_name="localhost"))[:-1]
    assert fed(client, truncated) == AlertDescription.DECODE_ERROR
    server = fresh_server(pki)
    assert fed(server, encode_message(Finished(verify_data=bytes(32))) + b"\x00") == (
        AlertDescription.DECODE_ERROR
    )


def test_unknown_msg_type_is_unexpected(pki: PKI) -> None:
    server = fresh_server(pki)
    assert fed(server, reframe(99, b"hello")) == AlertDescription.UNEXPECTED_MESSAGE
    client = client_waiting_server_hello(pki)
    assert fed(client, reframe(0, b"")) == AlertDescription.UNEXPECTED_MESSAGE


def test_certificate_count_rule_in_client(pki: PKI) -> None:
    client, _ = client_waiting_certificate(pki)
    leaf = der(pki.server.certificate)
    assert fed(client, certificate_bytes([leaf] * 9)) == AlertDescription.DECODE_ERROR
    client, _ = client_waiting_certificate(pki)
    assert fed(client, certificate_bytes([])) == AlertDescription.DECODE_ERROR


def test_certificate_count_rule_comes_after_msg_type(pki: PKI) -> None:
    server = fresh_server(pki)
    assert fed(server, certificate_bytes([b"x"] * 9)) == AlertDescription.UNEXPECTED_MESSAGE


def test_real_certificate_record_round_trips(pki: PKI) -> None:
    _, record = client_waiting_certificate(pki)
    parsed = parse_message(record[5:])
    assert parsed == Certificate(
        certificates=(der(pki.server.certificate), der(pki.intermediate.certificate))
    )
    assert encode_message(parsed) == record[5:]


@pytest.mark.parametrize("size", [1, 255, 257, 512])
def test_secret_length_rule_in_server(pki: PKI, size: int) -> None:
    # The test PKI's leaf key is 2048 bits: exactly 256 bytes are allowed.
    assert server_config(pki).modulus_bytes == 256
    server = server_waiting_key_exchange(pki)
    message = encode_message(ClientKeyExchange(encrypted_secret=bytes(size)))
    assert fed(server, message) == AlertDescription.DECODE_ERROR


def test_right_length_secret_is_taken(pki: PKI) -> None:
    server = server_waiting_key_exchange(pki)
    # Random bytes of the modulus size: implicit rejection, no alert (§3.2).
    message = encode_message(ClientKeyExchange(encrypted_secret=bytes(255) + b"\x01"))
    events = server.receive_data(encode_record(ContentType.HANDSHAKE, message))
    assert [type(e) for e in events] == [ev.HandshakeMessageReceived, ev.KeysDerived]
    assert server.data_to_send() == b""


def test_secret_length_rule_comes_after_msg_type(pki: PKI) -> None:
    server = fresh_server(pki)
    message = encode_message(ClientKeyExchange(encrypted_secret=bytes(7)))
    assert fed(server, message) == AlertDescription.UNEXPECTED_MESSAGE
