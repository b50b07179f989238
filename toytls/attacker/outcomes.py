"""What the attacker in the middle reports: one frozen event per thing that happened.

The proxy (:mod:`toytls.cli.proxy`) makes these as it relays or attacks a
connection and hands each to whoever listens: the command line turns them
into log lines and JSON objects (:mod:`toytls.cli.proxy_log`), the demo
reads them as they are. Every outcome names its ``connection``, the
proxy's number for one client's connection, from 1.

Pure data, no I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ..core.constants import AlertDescription
from ..core.records import RawRecord
from .modes import Mode


class Direction(enum.Enum):
    """Which way bytes were going; the value is how the log writes it."""

    TO_SERVER = "client→server"
    TO_CLIENT = "server→client"


class Alteration(enum.Enum):
    """How the attacker changed what he relayed."""

    #: one letter of the leaf's subject name, inside the signed part
    TAMPER_CERTIFICATE = "tamper-cert"
    #: one bit of a data record's ciphertext
    FLIP = "flip"
    #: a data record sent a second time
    REPLAY = "replay"
    #: both connections cut after a data record, without close_notify
    TRUNCATE = "truncate"
    #: plaintext rewritten by an OLD=NEW rule
    REWRITE = "rewrite"


@dataclass(frozen=True, kw_only=True, slots=True)
class ClientConnected:
    """A client connected to the proxy."""

    connection: int
    mode: Mode


@dataclass(frozen=True, kw_only=True, slots=True)
class UpstreamUnreachable:
    """The real server could not be reached; the client is dropped."""

    connection: int
    upstream: tuple[str, int]
    #: the system's words for why (English)
    reason: str
    #: its error number, when there is one (the log says it in the user's language)
    errno: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class PlaintextStream:
    """The first bytes one way are not toytls: everything that way is readable."""

    connection: int
    direction: Direction


@dataclass(frozen=True, kw_only=True, slots=True)
class UnparseableRecords:
    """Bytes one way stopped parsing as records; they pass on unread from now on."""

    connection: int
    direction: Direction
    error: str
    #: the alert the error carries, if any (the log explains it in the user's language)
    alert: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordRelayed:
    """One toytls record passed through (before any change the attack makes)."""

    connection: int
    direction: Direction
    record: RawRecord


@dataclass(frozen=True, kw_only=True, slots=True)
class DataAltered:
    """The attacker changed, repeated or cut what he relayed."""

    connection: int
    direction: Direction
    what: Alteration
    #: the record's number in its direction, from 1; None for plaintext
    record_index: int | None = None
    #: the plaintext as rewritten (REWRITE only)
    text: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class AttackRefused:
    """In a relay mode the client sent a readable fatal alert: it noticed."""

    connection: int
    #: the alert's code (an :class:`AlertDescription`, or an unknown number)
    alert: int
    #: the proxy's mode, so the line can name what the client refused
    mode: Mode | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class EncryptedAlertSeen:
    """The client sent a protected alert: the attacker cannot read which.

    A close_notify (the normal end of the client's data) looks the same as
    a fatal alert, so this says only what was sent, and after what.
    """

    connection: int
    #: what the attacker had changed on this connection before it, if anything
    after: Alteration | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class AlterationEnded:
    """A relay-mode connection the attacker changed has ended: what came of it.

    Told once, at the end, from what the attacker saw after his change.
    """

    connection: int
    what: Alteration
    #: the client sent ClientKeyExchange after the change (tamper-cert: it
    #: accepted the certificate without checking it)
    key_exchange_after: bool
    #: encrypted alerts each side sent after the change (unreadable to him)
    client_alerts_after: int
    server_alerts_after: int


@dataclass(frozen=True, kw_only=True, slots=True)
class NothingAltered:
    """A relay-mode connection ended before there was anything to attack.

    No Certificate (tamper-cert) or no application data (flip, replay,
    truncate) went to the client: everything passed unchanged.
    """

    connection: int
    mode: Mode


@dataclass(frozen=True, kw_only=True, slots=True)
class PlaintextSeen:
    """Text the attacker read on the way (plaintext, or decrypted with key X)."""

    connection: int
    direction: Direction
    text: str
    #: True if he could read it only because an attack succeeded
    stolen: bool
    #: the bytes in hex (the first 32) when they are not UTF-8; else ""
    hex: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class HttpSeen:
    """An HTTP message head, or a body's summary, in what the attacker read."""

    connection: int
    direction: Direction
    #: "request", "response" or "body"
    kind: str
    first_line: str
    headers: tuple[tuple[str, str], ...]
    #: the lines a person reads: the first line, then headers or a preview
    lines: tuple[str, ...]
    stolen: bool
    #: a body's size, its request ("GET /x") and, for a response's body, its status
    body_size: int = 0
    body_of: str = ""
    body_reply: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class NoClientHello:
    """A man-in-the-middle mode got something other than a ClientHello first."""

    connection: int
    #: why the first record did not parse, or None if it was another message
    error: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class ClientHelloSeen:
    """The client asked for a name; the proxy asks the real server for the same."""

    connection: int
    server_name: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ChainForged:
    """The chain the attacker presents to the client instead of the real one."""

    connection: int
    mode: Mode
    certificates: int


@dataclass(frozen=True, kw_only=True, slots=True)
class AttackSucceeded:
    """The client accepted the forged chain and sent key X locked with the attacker's M+."""

    connection: int
    mode: Mode
    #: key X, opened with the attacker's private key M−
    secret: bytes
    #: the name of key X both ends print (``session_key_fingerprint``)
    key_x_fingerprint: str
    client_write_key: bytes
    server_write_key: bytes


@dataclass(frozen=True, kw_only=True, slots=True)
class KeyXPassedOn:
    """偷梁换柱 completed: the server took the client's own key X from the attacker.

    Both ends now hold the same X (the fingerprint the client and the server
    each print), yet their record keys differ, because each leg's key
    schedule mixes in its own transcript.
    """

    connection: int
    #: the name of key X, the same on both legs
    key_x_fingerprint: str
    #: client→server record key on the client's leg and on the server's leg
    client_leg_key: bytes
    server_leg_key: bytes


@dataclass(frozen=True, kw_only=True, slots=True)
class AttackFailed:
    """A man-in-the-middle handshake with the client did not complete."""

    connection: int
    mode: Mode
    #: the alert the client sent, if it sent one (an unknown code stays a number)
    alert: AlertDescription | int | None
    #: what broke, when the client sent no alert
    detail: str
    #: whether the client sent key X (ClientKeyExchange) before it stopped
    client_key_exchange_seen: bool
    #: the alert the attacker's side sent, when it found the client's message
    #: wrong (None when the client sent one, or when no alert was exchanged)
    sent_alert: AlertDescription | int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ServerLegFailed:
    """In a man-in-the-middle mode, the attacker's connection to the real server failed.

    Told only when the client's side had not failed first; the client is
    dropped with it.
    """

    connection: int
    #: the alert the server sent (``from_peer``) or the attacker's side sent, if any
    alert: AlertDescription | int | None
    from_peer: bool
    #: what broke (English)
    detail: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ConnectionBroke:
    """A side of the connection broke."""

    connection: int
    #: the system's words for what broke (English)
    reason: str
    #: its error number, when there is one
    errno: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class InternalError:
    """A bug in the proxy ended this connection (the others go on)."""

    connection: int
    error: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ConnectionClosed:
    """The connection is over: both sockets are closed. Always the last outcome."""

    connection: int


Outcome = (
    ClientConnected
    | UpstreamUnreachable
    | PlaintextStream
    | UnparseableRecords
    | RecordRelayed
    | DataAltered
    | AttackRefused
    | EncryptedAlertSeen
    | AlterationEnded
    | NothingAltered
    | PlaintextSeen
    | HttpSeen
    | NoClientHello
    | ClientHelloSeen
    | ChainForged
    | AttackSucceeded
    | KeyXPassedOn
    | AttackFailed
    | ServerLegFailed
    | ConnectionBroke
    | InternalError
    | ConnectionClosed
)
