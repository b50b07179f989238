"""The attacker's decisions as pure functions over records (toytls.attacker.policy).

No sockets: records are built with the core's own encoder and fed to the
policy directly, so each decision is checked on its own.
"""

from __future__ import annotations

import pytest

from toytls.attacker.modes import Mode, flip_bit
from toytls.attacker.outcomes import Alteration, Direction
from toytls.attacker.policy import (
    RecordPolicy,
    first_client_hello,
    is_client_key_exchange,
    is_encrypted_alert,
    is_toytls_start,
    readable_alert,
    readable_message,
    refusal_alert,
    rewrite_plaintext,
)
from toytls.core import events as ev
from toytls.core.constants import AlertDescription, AlertLevel, ContentType
from toytls.core.errors import ToyTLSError
from toytls.core.messages import ClientHello, ClientKeyExchange, encode_message
from toytls.core.records import RawRecord, RecordReader, encode_record

HELLO = ClientHello(random=bytes(32), server_name="localhost")


def record(content_type: ContentType, fragment: bytes) -> RawRecord:
    reader = RecordReader()
    reader.feed(encode_record(content_type, fragment))
    found = reader.next_record(1 << 15)
    assert found is not None
    return found


def data(fragment: bytes = b"ciphertext") -> RawRecord:
    return record(ContentType.APPLICATION_DATA, fragment)


@pytest.mark.parametrize(
    ("start", "toytls"),
    [
        (encode_record(ContentType.HANDSHAKE, b"x"), True),
        (b"\x17", True),
        (b"\x15\x01", True),
        (b"GET / HTTP/1.1\r\n", False),
        (b"\x16\x03\x01", False),  # TLS 1.0's record version
        (b"\x16\x01\x01", False),
        (b"", False),
    ],
)
def test_is_toytls_start(start: bytes, toytls: bool) -> None:
    assert is_toytls_start(start) is toytls


def test_rewrite_plaintext_applies_every_rule_in_order() -> None:
    assert rewrite_plaintext(b"a b a", [(b"a", b"b"), (b"b", b"c")]) == b"c c c"
    assert rewrite_plaintext(b"same", []) == b"same"


def test_alerts() -> None:
    close = record(ContentType.ALERT, bytes((AlertLevel.WARNING, AlertDescription.CLOSE_NOTIFY)))
    fatal = record(ContentType.ALERT, bytes((AlertLevel.FATAL, AlertDescription.BAD_CERTIFICATE)))
    sealed = record(ContentType.ALERT, bytes(18))
    assert readable_alert(close) == AlertDescription.CLOSE_NOTIFY
    assert refusal_alert(close) is None
    assert refusal_alert(fatal) == AlertDescription.BAD_CERTIFICATE
    assert refusal_alert(sealed) is None and is_encrypted_alert(sealed)
    assert not is_encrypted_alert(fatal)
    assert refusal_alert(data(b"\x02\x2a")) is None  # not an alert record at all


def test_handshake_messages() -> None:
    hello = record(ContentType.HANDSHAKE, encode_message(HELLO))
    assert readable_message(hello) == HELLO
    assert first_client_hello(hello) == HELLO
    assert readable_message(record(ContentType.HANDSHAKE, bytes(40))) is None  # sealed
    assert readable_message(data()) is None
    exchange = ClientKeyExchange(encrypted_secret=bytes(256))
    assert first_client_hello(record(ContentType.HANDSHAKE, encode_message(exchange))) is None
    with pytest.raises(ToyTLSError):
        first_client_hello(record(ContentType.HANDSHAKE, b"\x01"))
    raw = encode_message(exchange)
    assert is_client_key_exchange(ev.HandshakeMessageReceived(message=exchange, raw=raw))
    assert not is_client_key_exchange(
        ev.HandshakeMessageReceived(message=HELLO, raw=encode_message(HELLO))
    )


def test_only_the_first_data_record_to_the_client_is_attacked() -> None:
    first, second = data(b"one"), data(b"two")
    raw = first.header + first.fragment
    policy = RecordPolicy(Mode.REPLAY)
    assert policy.judge(Direction.TO_SERVER, first).send == (raw,)
    verdict = policy.judge(Direction.TO_CLIENT, first)
    assert (verdict.send, verdict.alteration, verdict.cut) == ((raw, raw), Alteration.REPLAY, False)
    later = policy.judge(Direction.TO_CLIENT, second)
    assert later.send == (second.header + second.fragment,) and later.alteration is None


@pytest.mark.parametrize(
    ("mode", "alteration", "cut"),
    [(Mode.FLIP, Alteration.FLIP, False), (Mode.TRUNCATE, Alteration.TRUNCATE, True)],
)
def test_flip_and_truncate(mode: Mode, alteration: Alteration, cut: bool) -> None:
    verdict = RecordPolicy(mode).judge(Direction.TO_CLIENT, data())
    assert (verdict.alteration, verdict.cut) == (alteration, cut)
    if mode is Mode.FLIP:
        assert verdict.send == (flip_bit(data()),)


def test_watch_and_the_mitm_modes_change_nothing() -> None:
    for mode in (Mode.WATCH, Mode.SWAP_KEY):
        verdict = RecordPolicy(mode).judge(Direction.TO_CLIENT, data())
        assert verdict.alteration is None and verdict.send == (data().header + data().fragment,)


def test_tamper_cert_leaves_other_records_alone() -> None:
    hello = record(ContentType.HANDSHAKE, encode_message(HELLO))
    verdict = RecordPolicy(Mode.TAMPER_CERT).judge(Direction.TO_CLIENT, hello)
    assert verdict.alteration is None and verdict.send == (hello.header + hello.fragment,)
