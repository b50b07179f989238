"""One table of what a server must answer with which fatal alert, from the spec.

Each case names the point of the handshake it starts from (``upto``: one of
:data:`STAGES`) and builds the bytes a client sends there, with :mod:`wire`
alone. ``sealer`` seals with the client's write keys at the next sequence
number (0 for the record after ClientKeyExchange, 1 after the Finished), so
the same case runs against an in-memory :class:`~toytls.core.connection.Connection`
(``test_core_connection_alerts.py``) and against a real server on loopback
TCP (``test_streams_alerts.py``). The answer is the alert named here,
protected iff the server's write keys are active.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from wire import (
    ALERT,
    APPLICATION_DATA,
    BAD_RECORD_MAC,
    CLIENT_HELLO,
    CLIENT_KEY_EXCHANGE,
    DECODE_ERROR,
    FINISHED,
    HANDSHAKE,
    ILLEGAL_PARAMETER,
    PROTOCOL_VERSION,
    RECORD_OVERFLOW,
    SERVER_HELLO,
    UNEXPECTED_MESSAGE,
    client_hello_body,
    header,
    message,
    record,
    vector,
)

#: The points a case can start from, as the server sees them: nothing yet;
#: ClientHello answered; ClientKeyExchange received (keys active); connected.
STAGES = ("start", "hello", "key_exchange", "connected")

#: Seals ``(content_type, plaintext)`` with the client's keys at the next seq.
Sealer = Callable[[int, bytes], bytes]
Make = Callable[[Sealer], bytes]


@dataclass(frozen=True)
class AlertCase:
    upto: str
    make: Make
    alert: int

    @property
    def protected(self) -> bool:
        """The server's write keys are active from ClientKeyExchange on (§3.4)."""
        return STAGES.index(self.upto) >= STAGES.index("key_exchange")


def raw(data: bytes) -> Make:
    return lambda seal: data


def hs(body: bytes, *, version: int = 0x0100) -> Make:
    """A plain handshake record holding ``body``."""
    return raw(record(HANDSHAKE, body, version=version))


def sealed(content_type: int, plaintext: bytes) -> Make:
    return lambda seal: seal(content_type, plaintext)


def empty_records(count: int) -> Make:
    return lambda seal: b"".join(seal(APPLICATION_DATA, b"") for _ in range(count))


def client_hello(name: bytes = b"localhost", random: bytes = b"\x11" * 32) -> bytes:
    return message(CLIENT_HELLO, client_hello_body(random, name))


CKE_256 = message(CLIENT_KEY_EXCHANGE, vector(b"\1" * 256, 2))
ZERO_FINISHED = message(FINISHED, b"\0" * 32)

SERVER_ALERTS: dict[str, AlertCase] = {
    # §1: an unknown content type, checked on the header alone
    "type-24-header-only": AlertCase("start", raw(header(24, 5)), UNEXPECTED_MESSAGE),
    "type-20": AlertCase("start", raw(record(20, b"\x01")), UNEXPECTED_MESSAGE),
    "type-0": AlertCase("start", raw(record(0, b"")), UNEXPECTED_MESSAGE),
    "type-24-when-protected": AlertCase("connected", raw(header(24, 30)), UNEXPECTED_MESSAGE),
    "order-type-before-version-and-length": AlertCase(
        "start", raw(header(99, 20000, version=0x0301)), UNEXPECTED_MESSAGE
    ),
    # §2: application data before the peer's Finished
    "app-data-before-client-hello": AlertCase(
        "start", raw(record(APPLICATION_DATA, b"early")), UNEXPECTED_MESSAGE
    ),
    "app-data-instead-of-client-finished": AlertCase(
        "key_exchange", sealed(APPLICATION_DATA, b"early"), UNEXPECTED_MESSAGE
    ),
    "empty-app-data-before-handshake": AlertCase(
        "start", raw(record(APPLICATION_DATA, b"")), UNEXPECTED_MESSAGE
    ),
    "empty-app-data-protected-in-handshake": AlertCase(
        "key_exchange", sealed(APPLICATION_DATA, b""), UNEXPECTED_MESSAGE
    ),
    # §2: messages out of order
    "second-client-hello": AlertCase("hello", hs(client_hello()), UNEXPECTED_MESSAGE),
    "finished-before-client-key-exchange": AlertCase(
        "hello", hs(ZERO_FINISHED), UNEXPECTED_MESSAGE
    ),
    "client-key-exchange-before-client-hello": AlertCase("start", hs(CKE_256), UNEXPECTED_MESSAGE),
    "server-hello-to-server": AlertCase(
        "start", hs(message(SERVER_HELLO, b"\0" * 32)), UNEXPECTED_MESSAGE
    ),
    "unknown-msg-type-99": AlertCase("start", hs(message(99, b"?")), UNEXPECTED_MESSAGE),
    "unknown-msg-type-0-empty-body": AlertCase("start", hs(message(0, b"")), UNEXPECTED_MESSAGE),
    "second-client-key-exchange": AlertCase(
        "key_exchange", sealed(HANDSHAKE, CKE_256), UNEXPECTED_MESSAGE
    ),
    "order-type-before-server-name-rule": AlertCase(
        "hello", hs(client_hello(b"bad_name")), UNEXPECTED_MESSAGE
    ),
    # handshake records after the handshake
    "client-hello-after-handshake": AlertCase(
        "connected", sealed(HANDSHAKE, client_hello()), UNEXPECTED_MESSAGE
    ),
    "finished-after-handshake": AlertCase(
        "connected", sealed(HANDSHAKE, ZERO_FINISHED), UNEXPECTED_MESSAGE
    ),
    "empty-handshake-after-handshake": AlertCase(
        "connected", sealed(HANDSHAKE, b""), UNEXPECTED_MESSAGE
    ),
    # §1: more than 32 empty application_data records in a row
    "33-empty-records": AlertCase("connected", empty_records(33), UNEXPECTED_MESSAGE),
    # §3.4: once the keys are active, every record must decrypt
    "shorter-than-a-tag": AlertCase(
        "connected", raw(record(APPLICATION_DATA, b"\x00" * 15)), BAD_RECORD_MAC
    ),
    "zero-length-protected-record": AlertCase(
        "connected", raw(record(APPLICATION_DATA, b"")), BAD_RECORD_MAC
    ),
    "plaintext-app-data": AlertCase(
        "connected", raw(record(APPLICATION_DATA, b"plaintext data")), BAD_RECORD_MAC
    ),
    "plaintext-alert-to-server": AlertCase(
        "connected", raw(record(ALERT, b"\x02\x0a")), BAD_RECORD_MAC
    ),
    "plaintext-client-finished": AlertCase("key_exchange", hs(ZERO_FINISHED), BAD_RECORD_MAC),
    # §1: the record size limits, checked on the header
    "plain-16385-header-only": AlertCase("start", raw(header(HANDSHAKE, 16385)), RECORD_OVERFLOW),
    "plain-65535-header-only": AlertCase(
        "start", raw(header(APPLICATION_DATA, 65535)), RECORD_OVERFLOW
    ),
    "protected-16401-header-only": AlertCase(
        "connected", raw(header(APPLICATION_DATA, 16401)), RECORD_OVERFLOW
    ),
    "protected-16401-in-handshake": AlertCase(
        "key_exchange", raw(header(HANDSHAKE, 16401)), RECORD_OVERFLOW
    ),
    # §1 and §5: empty handshake or alert content; an alert is exactly 2 bytes
    "empty-handshake-record": AlertCase("start", hs(b""), DECODE_ERROR),
    "empty-protected-handshake-record": AlertCase(
        "key_exchange", sealed(HANDSHAKE, b""), DECODE_ERROR
    ),
    "empty-alert": AlertCase("start", raw(record(ALERT, b"")), DECODE_ERROR),
    "one-byte-alert": AlertCase("start", raw(record(ALERT, b"\x02")), DECODE_ERROR),
    "three-byte-alert": AlertCase("start", raw(record(ALERT, b"\x02\x0a\x00")), DECODE_ERROR),
    "empty-protected-alert": AlertCase("connected", sealed(ALERT, b""), DECODE_ERROR),
    "one-byte-protected-alert": AlertCase("connected", sealed(ALERT, b"\x01"), DECODE_ERROR),
    "three-byte-protected-alert": AlertCase(
        "connected", sealed(ALERT, b"\x01\x00\x00"), DECODE_ERROR
    ),
    # §2 framing
    "shorter-than-message-header": AlertCase("start", hs(b"\x01\x00\x00"), DECODE_ERROR),
    "truncated-message": AlertCase("start", hs(client_hello()[:-1]), DECODE_ERROR),
    "trailing-byte-after-message": AlertCase("start", hs(client_hello() + b"\0"), DECODE_ERROR),
    "server-name-points-past-end": AlertCase(
        "start", hs(message(CLIENT_HELLO, b"\0" * 32 + b"\x03ab")), DECODE_ERROR
    ),
    "trailing-byte-in-client-hello-body": AlertCase(
        "start", hs(message(CLIENT_HELLO, b"\0" * 32 + b"\x02abc")), DECODE_ERROR
    ),
    "empty-server-name": AlertCase(
        "start", hs(message(CLIENT_HELLO, b"\0" * 32 + b"\0")), DECODE_ERROR
    ),
    "server-name-254-bytes": AlertCase("start", hs(client_hello(b"a" * 254)), DECODE_ERROR),
    "client-hello-short-random": AlertCase(
        "start", hs(message(CLIENT_HELLO, b"\0" * 31)), DECODE_ERROR
    ),
    "order-framing-before-msg-type": AlertCase("start", hs(message(99, b"") + b"\0"), DECODE_ERROR),
    "finished-31-bytes": AlertCase(
        "key_exchange", sealed(HANDSHAKE, message(FINISHED, b"\0" * 31)), DECODE_ERROR
    ),
    # §2: server_name is lower-case letters, digits, '-' and '.'
    **{
        f"illegal-name-{ident}": AlertCase("start", hs(client_hello(name)), ILLEGAL_PARAMETER)
        for ident, name in [
            ("underscore", b"local_host"),
            ("uppercase", b"LOCALHOST"),
            ("one-uppercase", b"localHost"),
            ("byte-0xff", b"local\xffhost"),
            ("space", b"local host"),
            ("nul", b"localhost\x00"),
            ("slash", b"a/b"),
            ("utf8", "l\u00f6calhost".encode()),
        ]
    },
    # §1: version 1.0 only
    **{
        f"version-0x{version:04x}": AlertCase(
            "start", raw(header(HANDSHAKE, 10, version=version)), PROTOCOL_VERSION
        )
        for version in (0x0301, 0x0303, 0x0000, 0x0101, 0x0200, 0x0001)
    },
    "version-0x0301-when-protected": AlertCase(
        "connected", raw(record(APPLICATION_DATA, b"\0" * 20, version=0x0301)), PROTOCOL_VERSION
    ),
    "order-version-before-length": AlertCase(
        "start", raw(header(HANDSHAKE, 16385, version=0x0301)), PROTOCOL_VERSION
    ),
}
