"""Handshake messages (§2): frozen dataclasses, their encoding and one parser.

:func:`parse_message` applies only the *framing* rules — lengths, trailing
bytes, fields that run past the end — and so raises ``decode_error`` and
nothing else. Whether a message is expected now is the state machine's
question (``unexpected_message``), and the body rules (``server_name``
bytes, how many certificates, the secret's length) come after that: the
functions ``check_*`` below hold them, in that order of §2.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from .codec import Parser, uint_bytes, vector_bytes
from .constants import (
    HANDSHAKE_HEADER_SIZE,
    MAX_CERTIFICATES,
    MAX_SERVER_NAME,
    RANDOM_SIZE,
    VERIFY_DATA_SIZE,
    AlertDescription,
    ContentType,
    HandshakeType,
)
from .errors import DecodeError

_SERVER_NAME = re.compile(r"[a-z0-9.-]+")
_UINT24_MAX = 2**24 - 1


@dataclass(frozen=True, kw_only=True, slots=True)
class ClientHello:
    """The client's first message: its random and the name it asks for."""

    msg_type: ClassVar[HandshakeType] = HandshakeType.CLIENT_HELLO
    random: bytes
    #: decoded as Latin-1 so that any byte survives to :func:`check_server_name`
    server_name: str

    def encode_body(self) -> bytes:
        return self.random + vector_bytes(self.server_name.encode("latin-1"), 1)


@dataclass(frozen=True, kw_only=True, slots=True)
class ServerHello:
    """The server's fresh random."""

    msg_type: ClassVar[HandshakeType] = HandshakeType.SERVER_HELLO
    random: bytes

    def encode_body(self) -> bytes:
        return self.random


@dataclass(frozen=True, kw_only=True, slots=True)
class Certificate:
    """The server's chain as DER blobs, leaf first."""

    msg_type: ClassVar[HandshakeType] = HandshakeType.CERTIFICATE
    certificates: tuple[bytes, ...]

    def encode_body(self) -> bytes:
        entries = b"".join(vector_bytes(der, 3) for der in self.certificates)
        return vector_bytes(entries, 3)


@dataclass(frozen=True, kw_only=True, slots=True)
class ClientKeyExchange:
    """The secret, encrypted to the leaf's RSA key."""

    msg_type: ClassVar[HandshakeType] = HandshakeType.CLIENT_KEY_EXCHANGE
    encrypted_secret: bytes

    def encode_body(self) -> bytes:
        return vector_bytes(self.encrypted_secret, 2)


@dataclass(frozen=True, kw_only=True, slots=True)
class Finished:
    """The MAC over the transcript that closes each side's handshake."""

    msg_type: ClassVar[HandshakeType] = HandshakeType.FINISHED
    verify_data: bytes

    def encode_body(self) -> bytes:
        return self.verify_data


@dataclass(frozen=True, kw_only=True, slots=True)
class UnknownMessage:
    """A message whose msg_type toytls/1 does not define.

    Parsing it succeeds so that the state machine can answer, in the spec's
    order, with ``unexpected_message``.
    """

    msg_type: int
    body: bytes

    def encode_body(self) -> bytes:
        return self.body


Message = ClientHello | ServerHello | Certificate | ClientKeyExchange | Finished
AnyMessage = Message | UnknownMessage


def encode_message(message: AnyMessage) -> bytes:
    """Return ``msg_type ‖ uint24 length ‖ body``, the bytes the transcript sees."""
    body = message.encode_body()
    return uint_bytes(message.msg_type, 1) + uint_bytes(len(body), 3) + body


def parse_message(data: bytes) -> AnyMessage:
    """Parse the fragment of one handshake record into a message.

    Args:
        data: The whole (decrypted) record content.

    Raises:
        DecodeError: The framing is wrong: fewer than 4 bytes, a length that
            is not the fragment's length − 4, a body shorter than its fields,
            a length field that points past its end, or trailing bytes.
    """
    outer = Parser(data, "handshake message")
    msg_type = outer.uint(1)
    length = outer.uint(3)
    if length != len(data) - HANDSHAKE_HEADER_SIZE:
        held = len(data) - HANDSHAKE_HEADER_SIZE
        raise outer.fail(
            f"length field says {length}, record holds {held}",
            "decode.length_field",
            length=length,
            held=held,
        )
    body = outer.fixed(length)
    reader = _BODY_READERS.get(msg_type)
    if reader is None:
        return UnknownMessage(msg_type=msg_type, body=body)
    return reader(body)


def _read_client_hello(body: bytes) -> ClientHello:
    p = Parser(body, "ClientHello")
    random = p.fixed(RANDOM_SIZE)
    name = p.vector(1, 1, MAX_SERVER_NAME)
    p.finish()
    return ClientHello(random=random, server_name=name.decode("latin-1"))


def _read_server_hello(body: bytes) -> ServerHello:
    p = Parser(body, "ServerHello")
    random = p.fixed(RANDOM_SIZE)
    p.finish()
    return ServerHello(random=random)


def _read_certificate(body: bytes) -> Certificate:
    p = Parser(body, "Certificate")
    entries = Parser(p.vector(3, 1, _UINT24_MAX), "certificate_list")
    p.finish()
    certificates = []
    while entries.remaining:
        certificates.append(entries.vector(3, 1, _UINT24_MAX))
    return Certificate(certificates=tuple(certificates))


def _read_client_key_exchange(body: bytes) -> ClientKeyExchange:
    p = Parser(body, "ClientKeyExchange")
    encrypted = p.vector(2, 1, 2**16 - 1)
    p.finish()
    return ClientKeyExchange(encrypted_secret=encrypted)


def _read_finished(body: bytes) -> Finished:
    p = Parser(body, "Finished")
    verify_data = p.fixed(VERIFY_DATA_SIZE)
    p.finish()
    return Finished(verify_data=verify_data)


_BODY_READERS: dict[int, Callable[[bytes], Message]] = {
    HandshakeType.CLIENT_HELLO: _read_client_hello,
    HandshakeType.SERVER_HELLO: _read_server_hello,
    HandshakeType.CERTIFICATE: _read_certificate,
    HandshakeType.CLIENT_KEY_EXCHANGE: _read_client_key_exchange,
    HandshakeType.FINISHED: _read_finished,
}


def check_server_name(name: str) -> None:
    """The body rule of ClientHello: only ``[a-z0-9.-]``.

    Raises:
        DecodeError: With alert ``illegal_parameter``.
    """
    if not _SERVER_NAME.fullmatch(name):
        raise DecodeError(
            f"server_name {name!r} holds bytes outside [a-z0-9.-]",
            alert=AlertDescription.ILLEGAL_PARAMETER,
            key="decode.server_name",
            params={"name": name},
        )


def check_certificate_count(message: Certificate) -> None:
    """The body rule of Certificate: 1 to 8 entries.

    Raises:
        DecodeError: With alert ``decode_error``.
    """
    if not 1 <= len(message.certificates) <= MAX_CERTIFICATES:
        raise DecodeError(
            f"Certificate carries {len(message.certificates)} entries; "
            f"1 to {MAX_CERTIFICATES} are allowed",
            key="decode.certificate_count",
            params={"n": len(message.certificates), "maximum": MAX_CERTIFICATES},
        )


def check_secret_length(message: ClientKeyExchange, modulus_bytes: int) -> None:
    """The body rule of ClientKeyExchange: exactly the modulus size.

    Raises:
        DecodeError: With alert ``decode_error``.
    """
    if len(message.encrypted_secret) != modulus_bytes:
        raise DecodeError(
            f"encrypted_secret is {len(message.encrypted_secret)} bytes; "
            f"the server key needs exactly {modulus_bytes}",
            key="decode.secret_length",
            params={"n": len(message.encrypted_secret), "size": modulus_bytes},
        )


def client_key_exchange_in(data: bytes) -> bytes | None:
    """The encrypted secret of a ClientKeyExchange among the records ``data`` starts with.

    A look ahead for an adapter that wants to decrypt it elsewhere (a worker
    thread): the first whole handshake record that holds just a whole
    ClientKeyExchange, among the first few whole records (a client may send
    ClientHello, ClientKeyExchange and Finished at once); else None. It
    decides nothing: the connection checks every byte when they are fed.
    """
    pos = 0
    for _ in range(4):
        end = pos + 5 + int.from_bytes(data[pos + 3 : pos + 5], "big")
        if len(data) < max(end, pos + 9):
            return None
        if (
            data[pos] == ContentType.HANDSHAKE
            and data[pos + 5] == HandshakeType.CLIENT_KEY_EXCHANGE
        ):
            try:
                message = parse_message(data[pos + 5 : end])
            except DecodeError:
                return None
            return message.encrypted_secret if isinstance(message, ClientKeyExchange) else None
        pos = end
    return None
