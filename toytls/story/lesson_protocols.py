"""The toy protocols of demo lessons 2 and 3, as bytes in and bytes out (sans-I/O).

These are not toytls/1: they are the article's first two attempts, kept
as small as they can be so that what crosses the wire is plain to see.
Each message is one line of ASCII — a tag, a space, the payload in hex,
a newline — so the watching proxy shows it as text:

* **Lesson 2, one symmetric key.** The client makes key X and sends it
  (``KEY``), then the letter locked with X (``DATA``); the server opens it
  and echoes it back locked with X (``DATA``). Whoever relays the bytes
  copies X and opens both.
* **Lesson 3, one key pair.** The client asks (``HELLO``); the server sends
  its public key B+ to everyone (``PUBKEY``, DER); the client locks its
  letter with B+ (``DATA``, RSA-OAEP) and only B− opens it; the server
  answers, locked with B− (``REPLY``: a two-byte length, then RSA
  signatures that carry the data) — and anyone holding B+ opens that.

A party (:class:`Party`) is fed whole frames by a :class:`FrameReader` and
returns the bytes to send; the trio side that drives it over TCP is
:mod:`toytls.cli.demo_lessons`. :func:`eavesdrop_symmetric` and
:func:`eavesdrop_asymmetric` read what a relay saw, each direction as one
byte string. No I/O, no clock.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .lessons import (
    lock_with_private_key,
    lock_with_public_key,
    new_key_x,
    open_with_private_key,
    open_with_public_key,
    open_with_x,
    seal_with_x,
)

#: The longest line a party accepts, newline included (B+ in DER is ~550 hex digits).
MAX_LINE = 4096
_TAGS = frozenset({"KEY", "DATA", "HELLO", "PUBKEY", "REPLY"})
_HEX = frozenset(string.hexdigits.encode())


class LessonWireError(ValueError):
    """Bytes that are not a lesson frame, or a frame that makes no sense now."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Frame:
    """One line: what it is, and what it carries."""

    tag: str
    payload: bytes


def frame(tag: str, payload: bytes = b"") -> bytes:
    """The bytes of one frame: ``TAG HEX\\n``."""
    return f"{tag} {payload.hex()}\n".encode("ascii")


def _parse_line(line: bytes) -> Frame:
    tag, space, digits = line.partition(b" ")
    name = tag.decode("ascii", "replace")
    if not space or name not in _TAGS:
        raise LessonWireError(f"not a lesson frame: {line[:16]!r}")
    if len(digits) % 2 or not set(digits) <= _HEX:
        raise LessonWireError(f"{name}: the payload is not hex")
    return Frame(tag=name, payload=bytes.fromhex(digits.decode("ascii")))


class FrameReader:
    """Cuts a byte stream into frames, whatever the pieces it arrives in."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes | bytearray) -> list[Frame]:
        """The frames ``data`` completes, in order.

        Raises:
            LessonWireError: A line is malformed or longer than :data:`MAX_LINE`;
                the reader is of no use afterwards.
        """
        self._buffer += data
        frames = []
        while (end := self._buffer.find(b"\n")) >= 0:
            if end >= MAX_LINE:
                raise LessonWireError(f"a line longer than {MAX_LINE} bytes")
            line = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            frames.append(_parse_line(line))
        if len(self._buffer) >= MAX_LINE:
            raise LessonWireError(f"a line longer than {MAX_LINE} bytes")
        return frames

    @property
    def pending(self) -> int:
        """Bytes of a line not finished yet."""
        return len(self._buffer)


def frames_in(data: bytes) -> list[Frame]:
    """Every frame of one direction's bytes; an unfinished last line is left out.

    Raises:
        LessonWireError: A line is malformed.
    """
    return FrameReader().feed(data[: data.rfind(b"\n") + 1])


class Party(Protocol):
    """One side of a lesson protocol."""

    @property
    def done(self) -> bool:
        """Whether this side has nothing more to wait for."""

    def start(self) -> bytes:
        """What this side sends as soon as the connection is up."""

    def receive(self, got: Frame) -> bytes:
        """What to send after ``got``.

        Raises:
            LessonWireError: ``got`` makes no sense now.
            LockError: Its payload does not open.
        """


def _expect(got: Frame, *tags: str) -> None:
    if got.tag not in tags:
        raise LessonWireError(f"unexpected {got.tag}; expected {' or '.join(tags)}")


@dataclass
class SymmetricClient:
    """Lesson 2's client: makes key X, sends it in clear, then the letter locked with it."""

    letter: bytes
    key: bytes = field(default_factory=new_key_x)
    reply: bytes | None = None

    @property
    def done(self) -> bool:
        return self.reply is not None

    def start(self) -> bytes:
        return frame("KEY", self.key) + frame("DATA", seal_with_x(self.key, self.letter))

    def receive(self, got: Frame) -> bytes:
        _expect(got, "DATA")
        self.reply = open_with_x(self.key, got.payload)
        return b""


@dataclass
class SymmetricServer:
    """Lesson 2's server: takes key X as it comes, and echoes each letter locked with it."""

    key: bytes | None = None

    @property
    def done(self) -> bool:
        return False

    def start(self) -> bytes:
        return b""

    def receive(self, got: Frame) -> bytes:
        if self.key is None:
            _expect(got, "KEY")
            self.key = got.payload
            return b""
        _expect(got, "DATA")
        return frame("DATA", seal_with_x(self.key, open_with_x(self.key, got.payload)))


def _reply_payload(private_key: rsa.RSAPrivateKey, data: bytes) -> bytes:
    return len(data).to_bytes(2, "big") + lock_with_private_key(private_key, data)


def open_reply(public_key: rsa.RSAPublicKey, payload: bytes) -> bytes:
    """Open a ``REPLY`` payload with B+, as the client — or anyone — does.

    Raises:
        LockError: It does not open with ``public_key``.
    """
    return open_with_public_key(public_key, payload[2:], int.from_bytes(payload[:2], "big"))


def load_public_key(der: bytes) -> rsa.RSAPublicKey:
    """B+ from a ``PUBKEY`` payload.

    Raises:
        LessonWireError: Not an RSA public key in DER.
    """
    try:
        key = serialization.load_der_public_key(der)
    except ValueError as exc:
        raise LessonWireError("PUBKEY: not a public key") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise LessonWireError("PUBKEY: not an RSA key")
    return key


@dataclass
class AsymmetricClient:
    """Lesson 3's client: asks, gets B+, locks its letter with B+, opens the reply with B+."""

    letter: bytes
    public_key: rsa.RSAPublicKey | None = None
    reply: bytes | None = None

    @property
    def done(self) -> bool:
        return self.reply is not None

    def start(self) -> bytes:
        return frame("HELLO")

    def receive(self, got: Frame) -> bytes:
        if self.public_key is None:
            _expect(got, "PUBKEY")
            self.public_key = load_public_key(got.payload)
            return frame("DATA", lock_with_public_key(self.public_key, self.letter))
        _expect(got, "REPLY")
        self.reply = open_reply(self.public_key, got.payload)
        return b""


@dataclass
class AsymmetricServer:
    """Lesson 3's server: gives B+ to whoever asks, opens letters with B−, answers with B−."""

    private_key: rsa.RSAPrivateKey

    @property
    def done(self) -> bool:
        return False

    def start(self) -> bytes:
        return b""

    def receive(self, got: Frame) -> bytes:
        _expect(got, "HELLO", "DATA")
        if got.tag == "HELLO":
            der = self.private_key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            return frame("PUBKEY", der)
        letter = open_with_private_key(self.private_key, got.payload)
        return frame("REPLY", _reply_payload(self.private_key, letter))


@dataclass(frozen=True, kw_only=True, slots=True)
class SymmetricSighting:
    """What lesson 2's eavesdropper made of the bytes he relayed."""

    #: key X, copied off the wire (None if it never went by)
    key: bytes | None
    #: each DATA payload as it travelled, client's first
    ciphertexts: tuple[bytes, ...]
    #: the same, opened with the copied X
    opened: tuple[bytes, ...]


def eavesdrop_symmetric(to_server: bytes, to_client: bytes) -> SymmetricSighting:
    """Copy key X from the client's bytes and open every DATA frame with it.

    Raises:
        LessonWireError: The bytes are not lesson frames.
        LockError: A DATA frame does not open with the copied X.
    """
    sent = frames_in(to_server)
    key = next((f.payload for f in sent if f.tag == "KEY"), None)
    data = [f.payload for f in (*sent, *frames_in(to_client)) if f.tag == "DATA"]
    opened = [open_with_x(key, payload) for payload in data] if key is not None else []
    return SymmetricSighting(key=key, ciphertexts=tuple(data), opened=tuple(opened))


@dataclass(frozen=True, kw_only=True, slots=True)
class AsymmetricSighting:
    """What lesson 3's eavesdropper made of the bytes he relayed."""

    #: the server's B+ in DER, copied off the wire (None if it never went by)
    public_key: bytes | None
    #: the client's letter as it travelled, locked with B+: he has no B− to open it
    requests: tuple[bytes, ...]
    #: each server REPLY, opened with the copied B+
    opened: tuple[bytes, ...]


def eavesdrop_asymmetric(to_server: bytes, to_client: bytes) -> AsymmetricSighting:
    """Copy B+ from the server's bytes and open every REPLY with it.

    Raises:
        LessonWireError: The bytes are not lesson frames, or PUBKEY is no key.
        LockError: A REPLY does not open with the copied B+.
    """
    answers = frames_in(to_client)
    der = next((f.payload for f in answers if f.tag == "PUBKEY"), None)
    requests = tuple(f.payload for f in frames_in(to_server) if f.tag == "DATA")
    opened: list[bytes] = []
    if der is not None:
        public_key = load_public_key(der)
        opened = [open_reply(public_key, f.payload) for f in answers if f.tag == "REPLY"]
    return AsymmetricSighting(public_key=der, requests=requests, opened=tuple(opened))
