"""Offline decoding: a capture in, every toytls/1 record and message out, opened if a key allows.

:func:`decode_capture` takes the bytes of a pcap (:mod:`.pcapread` puts the
TCP conversations back together), cuts each direction into records with the
same :class:`~toytls.core.records.RecordReader` the endpoints use, reads
every plaintext handshake message with :func:`~toytls.core.messages.parse_message`,
and — given key X from a key log, or the server's private key B− that opens
ClientKeyExchange and so X — runs the key schedule
(:func:`~toytls.core.keyschedule.derive_schedule`) and opens the protected
records with :class:`~toytls.core.protection.RecordOpener`, as the two ends
did. One parser for everything; pure: bytes and keys in, no file opened.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from cryptography.hazmat.primitives.asymmetric import rsa

from ..core.constants import MAX_CIPHERTEXT, SECRET_SIZE, ContentType
from ..core.errors import DecodeError, ToyTLSError
from ..core.keyschedule import OAEP_PADDING, derive_schedule
from ..core.messages import (
    AnyMessage,
    Certificate,
    ClientHello,
    ClientKeyExchange,
    ServerHello,
    parse_message,
)
from ..core.protection import RecordOpener
from ..core.records import RawRecord, RecordReader
from .decode_texts import TEXT
from .pcapread import CaptureError, Conversation, Endpoint, Stream, read_conversations

__all__ = ["CaptureError", "DecodedConversation", "DecodedRecord", "Stop", "decode_capture"]


@dataclass(frozen=True, kw_only=True, slots=True)
class DecodedRecord:
    """One record of a conversation, as far as it could be read."""

    from_client: bool
    #: the capture's packet that completed it (1 = the first packet)
    packet: int
    content_type: int
    #: the fragment's length (the record header's length field)
    length: int
    #: sealed under the connection's keys
    protected: bool
    #: the record was decrypted (always False for a plaintext record)
    opened: bool = False
    #: the handshake message it carries, if readable
    message: AnyMessage | None = None
    #: (level, description), if it is a readable alert
    alert: tuple[int, int] | None = None
    #: decrypted application data
    data: bytes | None = None
    #: the fragment as it crossed the wire (ciphertext ‖ tag when protected)
    fragment: bytes = b""
    #: the record's sequence number in its direction, when protected
    seq: int | None = None
    #: why it could not be read or opened, with its message id
    #: (:func:`toytls.story.error_texts.describe_reason` says it in either language)
    problem: ToyTLSError | None = None

    @property
    def error(self) -> str | None:
        """Why it could not be read or opened, in English; None if it could."""
        return None if self.problem is None else self.problem.message


@dataclass(frozen=True, kw_only=True, slots=True)
class Stop:
    """A direction of a conversation that stopped before its bytes ran out."""

    from_client: bool
    #: "not_toytls" (bytes that are no toytls/1 record), "incomplete" (the last
    #: record is cut off) or "gap" (the capture missed some bytes)
    kind: str
    #: not_toytls: the offset of the first byte that is no record;
    #: incomplete: how many bytes are left over; gap: 0
    at: int = 0
    #: not_toytls: what the record layer said of those bytes
    error: ToyTLSError | None = None

    @property
    def reason(self) -> str:
        """Why, in English."""
        why = "" if self.error is None else self.error.message
        return TEXT[f"stop_{self.kind}"][0].format(at=self.at, why=why)


@dataclass(frozen=True, kw_only=True, slots=True)
class DecodedConversation:
    """One toytls/1 conversation of the capture."""

    client: Endpoint
    server: Endpoint
    records: tuple[DecodedRecord, ...]
    #: where key X came from: "keylog", "key" (B− opened ClientKeyExchange), or None
    key_source: str | None
    #: key X, when known
    secret: bytes | None
    #: why the records stay closed: "no_key", "not_in_keylog", "key_mismatch",
    #: "no_key_exchange"; None when X is known
    key_problem: str | None
    #: each direction that stopped early, and why
    stopped: tuple[Stop, ...]


class _Read(NamedTuple):
    """What a record's content turned out to be."""

    message: AnyMessage | None = None
    alert: tuple[int, int] | None = None
    data: bytes | None = None
    problem: ToyTLSError | None = None


def _decoded(
    from_client: bool,
    packet: int,
    raw: RawRecord,
    read: _Read,
    *,
    protected: bool,
    seq: int | None = None,
    opened: bool = False,
) -> DecodedRecord:
    return DecodedRecord(
        from_client=from_client,
        packet=packet,
        content_type=int(raw.content_type),
        length=len(raw.fragment),
        protected=protected,
        opened=opened,
        message=read.message,
        alert=read.alert,
        data=read.data,
        fragment=raw.fragment,
        seq=seq,
        problem=read.problem,
    )


class _Walk:
    """The state of reading one conversation in wire order."""

    def __init__(
        self, keylog: Mapping[bytes, bytes] | None, private_key: rsa.RSAPrivateKey | None
    ) -> None:
        self.keylog = keylog
        self.private_key = private_key
        self.transcript: list[bytes] = []
        self.hellos: dict[str, bytes] = {}
        self.keys_on = {True: False, False: False}
        self.openers: dict[bool, RecordOpener] = {}
        self.secret: bytes | None = None
        self.key_source: str | None = None
        self.key_problem: str | None = "no_key" if keylog is None and private_key is None else None

    def record(self, from_client: bool, packet: int, raw: RawRecord) -> DecodedRecord:
        kind, fragment = raw.content_type, raw.fragment
        plain_alert = kind is ContentType.ALERT and len(fragment) == 2
        if not self.keys_on[from_client] or plain_alert:
            read = self._plain(from_client, kind, fragment)
            return _decoded(from_client, packet, raw, read, protected=False)
        opener = self.openers.get(from_client)
        if opener is None:
            return _decoded(from_client, packet, raw, _Read(), protected=True)
        seq = opener.seq
        try:
            plaintext, _, _ = opener.open(raw.header, fragment)
        except ToyTLSError as exc:
            read = _Read(problem=exc)
            return _decoded(from_client, packet, raw, read, protected=True, seq=seq)
        read = self._plain(from_client, kind, plaintext, opened=True)
        return _decoded(from_client, packet, raw, read, protected=True, seq=seq, opened=True)

    def _plain(
        self, from_client: bool, kind: ContentType, content: bytes, *, opened: bool = False
    ) -> _Read:
        if kind is ContentType.APPLICATION_DATA:
            return _Read(data=content if opened else None)
        if kind is ContentType.ALERT:
            if len(content) != 2:
                n = len(content)
                english = f"an alert of {n} bytes (2 expected)"
                wrong = DecodeError(english, key="decode.alert_length", params={"n": n})
                return _Read(problem=wrong)
            return _Read(alert=(content[0], content[1]))
        try:
            message = parse_message(content)
        except ToyTLSError as exc:
            return _Read(problem=exc)
        if not opened:
            self._handshake(from_client, message, content)
        return _Read(message=message)

    def _handshake(self, from_client: bool, message: AnyMessage, raw: bytes) -> None:
        self.transcript.append(raw)
        if isinstance(message, ClientHello | ServerHello):
            self.hellos["client" if from_client else "server"] = message.random
        if isinstance(message, Certificate) and not from_client:
            self.keys_on[False] = True  # the server's next records are sealed
        if isinstance(message, ClientKeyExchange) and from_client:
            self.keys_on[True] = True
            self._derive(message)

    def _derive(self, message: ClientKeyExchange) -> None:
        client_random = self.hellos.get("client")
        server_random = self.hellos.get("server")
        if client_random is None or server_random is None:
            return
        secret = self._secret(client_random, message.encrypted_secret)
        if secret is None:
            return
        th = hashlib.sha256(b"".join(self.transcript)).digest()
        schedule = derive_schedule(
            secret=secret, client_random=client_random, server_random=server_random, th=th
        )
        self.openers[True] = RecordOpener(schedule.client_write_key, schedule.client_write_iv)
        self.openers[False] = RecordOpener(schedule.server_write_key, schedule.server_write_iv)
        self.secret = secret

    def _secret(self, client_random: bytes, encrypted: bytes) -> bytes | None:
        if self.keylog is not None and client_random in self.keylog:
            self.key_source, self.key_problem = "keylog", None
            return self.keylog[client_random]
        if self.private_key is not None:
            secret = open_key_exchange(self.private_key, encrypted)
            if secret is not None:
                self.key_source, self.key_problem = "key", None
                return secret
            self.key_problem = "key_mismatch"
            return None
        if self.keylog is not None:
            self.key_problem = "not_in_keylog"
        return None


def open_key_exchange(private_key: rsa.RSAPrivateKey, encrypted_secret: bytes) -> bytes | None:
    """Key X from ClientKeyExchange with B−, or None if this key does not open it.

    Unlike the server (which must not show whether decryption worked, §5.2),
    the reader of a recording may say so plainly.
    """
    if len(encrypted_secret) != (private_key.key_size + 7) // 8:
        return None
    try:
        secret = private_key.decrypt(encrypted_secret, OAEP_PADDING)
    except ValueError:
        return None
    return secret if len(secret) == SECRET_SIZE else None


def _records(stream: Stream, from_client: bool) -> tuple[list[tuple[int, RawRecord]], Stop | None]:
    """The records of one direction with the packet that completed each; where it stopped."""
    reader = RecordReader()
    reader.feed(bytes(stream.data))
    found: list[tuple[int, RawRecord]] = []
    end = 0
    try:
        while (record := reader.next_record(MAX_CIPHERTEXT)) is not None:
            end += 5 + len(record.fragment)
            found.append((stream.packet_at(end - 1), record))
    except ToyTLSError as exc:
        return found, Stop(from_client=from_client, kind="not_toytls", at=end, error=exc)
    if reader.buffered:
        return found, Stop(from_client=from_client, kind="incomplete", at=reader.buffered)
    return found, Stop(from_client=from_client, kind="gap") if stream.gap else None


def _is_toytls(records: list[tuple[int, RawRecord]]) -> bool:
    if not records:
        return False
    first = records[0][1]
    return first.content_type is ContentType.HANDSHAKE and first.fragment[:1] == b"\x01"


def decode_conversation(
    conversation: Conversation,
    *,
    keylog: Mapping[bytes, bytes] | None = None,
    private_key: rsa.RSAPrivateKey | None = None,
) -> DecodedConversation | None:
    """Read one TCP conversation; None if the client did not speak toytls/1."""
    up, up_stop = _records(conversation.to_server, True)
    if not _is_toytls(up):
        return None
    down, down_stop = _records(conversation.to_client, False)
    tagged = [(packet, 0, i, True, r) for i, (packet, r) in enumerate(up)]
    tagged += [(packet, 1, i, False, r) for i, (packet, r) in enumerate(down)]
    walk = _Walk(keylog, private_key)
    records = tuple(
        walk.record(from_client, packet, raw) for packet, _, _, from_client, raw in sorted(tagged)
    )
    if walk.key_problem is None and walk.secret is None:
        walk.key_problem = "no_key_exchange"
    stopped = tuple(stop for stop in (up_stop, down_stop) if stop is not None)
    return DecodedConversation(
        client=conversation.client,
        server=conversation.server,
        records=records,
        key_source=walk.key_source,
        secret=walk.secret,
        key_problem=walk.key_problem,
        stopped=stopped,
    )


def decode_capture(
    data: bytes,
    *,
    keylog: Mapping[bytes, bytes] | None = None,
    private_key: rsa.RSAPrivateKey | None = None,
    port: int | None = None,
) -> list[DecodedConversation]:
    """Every toytls/1 conversation in a capture, each record read and, with a key, opened.

    Args:
        data: The capture file's bytes (pcap or pcapng).
        keylog: Client random → key X (:func:`toytls.story.keylog.parse_keylog`).
        private_key: The server's B−: opens each ClientKeyExchange it was made for.
        port: Only TCP conversations with this port at either end.

    Raises:
        CaptureError: Not a capture, cut off, or no toytls/1 conversation in it
            (the message says which).
    """
    conversations = read_conversations(data)
    if port is not None:
        conversations = [c for c in conversations if port in (c.client[1], c.server[1])]
    decoded = [
        d
        for c in conversations
        if (d := decode_conversation(c, keylog=keylog, private_key=private_key)) is not None
    ]
    if not decoded:
        where = f" on port {port}" if port is not None else ""
        count = len(conversations)
        raise CaptureError(
            f"no toytls/1 conversation{where} in this capture "
            f"({count} TCP conversation(s), none starts with a ClientHello record)",
            key="capture.no_toytls" if port is None else "capture.no_toytls_on_port",
            params={"count": count, "port": port},
        )
    return decoded
