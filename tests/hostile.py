"""A scripted hostile toytls/1 peer: a client and a server that send anything.

Everything on the wire is built with :mod:`wire`, from ``PROTOCOL.md`` —
record headers (§1), handshake framing (§2), the key schedule (§3.3) and
AES-128-GCM record protection (§3.4) — not with toytls's own encoders, so a
bug there cannot hide itself. The peer *holds the keys*: it derives the session keys from its
own secret (the client) or from the server's private key (the server), so it
can read the protected alerts it provokes and seal any record at any
sequence number.

A :class:`HostileClient` or :class:`HostileServer` wraps one trio TCP stream:

* builders (``client_hello()``, ``key_exchange()``, ``seal()`` …) return the
  bytes of whole records and update the transcript, the keys and the
  sequence numbers as an honest peer would, so the *next* record is right
  even when this one is sent broken, twice, or not at all;
* :meth:`Peer.send_records` writes records coalesced into one TCP write, one
  write per record, header and body apart, or a few bytes per write;
* :meth:`Peer.read_record` and :meth:`Peer.read_alert` read what came back,
  decrypting with the peer's read keys once they are active, and report
  ``"closed"`` at the end of the stream.

Every wait is bounded by a timeout of at most :data:`TIMEOUT` seconds.
"""

from __future__ import annotations

import hashlib
import ipaddress
import itertools
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import trio
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from wire import (
    ALERT,
    APPLICATION_DATA,
    CERTIFICATE,
    CLIENT_HELLO,
    CLIENT_KEY_EXCHANGE,
    CLOSE_NOTIFY,
    FINISHED,
    HANDSHAKE,
    SERVER_HELLO,
    WARNING,
    Direction,
    Keys,
    certificate_body,
    client_hello_body,
    derive_keys,
    hmac_sha256,
    message,
    oaep,
    record,
    split_wire,
    vector,
)

#: The longest any single wait of the hostile peer may take, in seconds.
TIMEOUT = 5.0

#: How :meth:`Peer.send_records` writes: coalesced (None), one write per
#: record, header and body apart, or so many bytes per write.
Split = int | Literal["records", "header"] | None


# ---------------------------------------------------------- what comes back


@dataclass
class Record:
    """One record read from the peer."""

    header: bytes
    fragment: bytes
    #: True if it was opened with the read keys (or tried to be)
    protected: bool = False
    #: the content: the fragment, the decrypted plaintext, or None if it
    #: did not decrypt under the keys we hold
    plaintext: bytes | None = None

    @property
    def content_type(self) -> int:
        return self.header[0]

    @property
    def raw(self) -> bytes:
        return self.header + self.fragment

    @property
    def shape(self) -> tuple[int, int]:
        """What an eavesdropper sees: type and fragment length."""
        return (self.content_type, len(self.fragment))


class Alert(NamedTuple):
    """An alert as received. ``level`` and ``description`` are None when it
    was protected under keys we do not hold."""

    level: int | None
    description: int | None
    protected: bool


CLOSED: Literal["closed"] = "closed"

# ------------------------------------------------------------ connecting

#: Every connection gets its own loopback source address (127.1.0.1, …), so
#: the peer a server logs names one connection even if the kernel reuses a
#: source port. Where only 127.0.0.1 exists this falls back to it.
_sources = itertools.count(int(ipaddress.IPv4Address("127.1.0.1")))
_unique_sources = True


async def open_tcp(port: int) -> trio.SocketStream:
    """A TCP connection to 127.0.0.1:``port`` from a fresh source address."""
    global _unique_sources  # noqa: PLW0603 - one switch for the whole session
    with trio.fail_after(TIMEOUT):
        if _unique_sources:
            source = str(ipaddress.IPv4Address(next(_sources)))
            try:
                return await trio.open_tcp_stream("127.0.0.1", port, local_address=source)
            except OSError:
                _unique_sources = False
        return await trio.open_tcp_stream("127.0.0.1", port)


def peer_name(stream: trio.SocketStream) -> str:
    """``host:port`` of our end, as the other side logs it."""
    host, port = stream.socket.getsockname()[:2]
    return f"{host}:{port}"


# ----------------------------------------------------------------- the peer


@dataclass
class Peer:
    """What the hostile client and server share: a TCP stream, records, keys."""

    stream: trio.SocketStream
    #: "client" or "server": whose write keys this side uses
    role: str = "client"
    transcript: bytearray = field(default_factory=bytearray)
    keys: Keys | None = None
    sealer: Direction | None = None
    opener: Direction | None = None
    #: every record read so far, in order
    received: list[Record] = field(default_factory=list)
    #: the peer reset the connection instead of closing it
    reset: bool = False
    #: a write failed because the peer had closed already
    send_failed: bool = False
    _buffer: bytearray = field(default_factory=bytearray)
    _eof: bool = False

    @property
    def name(self) -> str:
        """Our ``host:port``, as the other side logs it."""
        return peer_name(self.stream)

    # ------------------------------------------------------------ sending

    async def send(self, data: bytes, *, split: int | None = None) -> None:
        """Write ``data`` in one write, or ``split`` bytes per TCP write.

        A write that fails because the peer closed already is remembered in
        :attr:`send_failed`, not raised: a hostile peer does not care.
        """
        chunks = (
            [data] if split is None else [data[i : i + split] for i in range(0, len(data), split)]
        )
        for chunk in chunks:
            try:
                with trio.fail_after(TIMEOUT):
                    await self.stream.send_all(chunk)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                self.send_failed = True
                return
            if split is not None:
                await trio.sleep(0)

    async def send_records(
        self,
        *records: bytes,
        split: Split = None,
    ) -> None:
        """Send records coalesced into one write (the default), one write per
        record (``"records"``), header and body apart (``"header"``), or
        ``split`` bytes per write."""
        if split == "records":
            for one in records:
                await self.send(one)
        elif split == "header":
            for whole in records:
                for one in split_wire(whole):
                    await self.send(one[:5])
                    await trio.sleep(0.001)
                    await self.send(one[5:])
        elif isinstance(split, int):
            await self.send(b"".join(records), split=split)
        else:
            await self.send(b"".join(records))

    async def half_close(self) -> None:
        """Send a TCP FIN (no close_notify): this side will write no more."""
        try:
            await self.stream.send_eof()
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self.send_failed = True

    async def aclose(self) -> None:
        await trio.aclose_forcefully(self.stream)

    def seal(self, content_type: int, plaintext: bytes) -> bytes:
        """A record protected with this side's write keys, next seq."""
        assert self.sealer is not None, "write keys are not active yet"
        return self.sealer.seal(content_type, plaintext)

    def app_data(self, data: bytes) -> bytes:
        return self.seal(APPLICATION_DATA, data)

    def close_notify(self) -> bytes:
        """close_notify, protected if write keys are active."""
        alert = bytes((WARNING, CLOSE_NOTIFY))
        return record(ALERT, alert) if self.sealer is None else self.seal(ALERT, alert)

    def alert(self, level: int, description: int) -> bytes:
        alert = bytes((level, description))
        return record(ALERT, alert) if self.sealer is None else self.seal(ALERT, alert)

    def add_transcript(self, msg: bytes) -> bytes:
        self.transcript += msg
        return msg

    def th(self) -> bytes:
        return hashlib.sha256(bytes(self.transcript)).digest()

    def activate(self, secret: bytes, client_random: bytes, server_random: bytes) -> Keys:
        """Derive the §3.3 keys over the transcript so far and turn them on."""
        keys = derive_keys(
            secret=secret, client_random=client_random, server_random=server_random, th=self.th()
        )
        client = Direction(keys.client_key, keys.client_iv)
        server = Direction(keys.server_key, keys.server_iv)
        self.keys = keys
        self.sealer, self.opener = (client, server) if self.role == "client" else (server, client)
        return keys

    # ------------------------------------------------------------ reading

    async def _fill(self, size: int) -> bool:
        while len(self._buffer) < size:
            if self._eof:
                return False
            try:
                data = await self.stream.receive_some(65536)
            except trio.BrokenResourceError:
                self.reset = True
                data = b""
            if not data:
                self._eof = True
                return False
            self._buffer += data
        return True

    async def read_record(self, timeout: float = TIMEOUT) -> Record | None:
        """The next record, decrypted if read keys are active; None at EOF.

        A 2-byte alert record is taken as unprotected even with read keys
        active (§3.4's exception); any other record is opened.

        Raises:
            trio.TooSlowError: Nothing complete arrived within ``timeout``.
            AssertionError: The stream ended inside a record.
        """
        with trio.fail_after(timeout):
            if not await self._fill(5):
                assert not self._buffer, f"stream ended inside a header: {bytes(self._buffer)!r}"
                return None
            length = int.from_bytes(self._buffer[3:5], "big")
            complete = await self._fill(5 + length)
            assert complete, f"stream ended inside a record of {length} bytes"
        raw = bytes(self._buffer[: 5 + length])
        del self._buffer[: 5 + length]
        rec = Record(header=raw[:5], fragment=raw[5:])
        plain_alert = rec.content_type == ALERT and len(rec.fragment) == 2
        if self.opener is None or plain_alert:
            rec.plaintext = rec.fragment
        else:
            rec.protected = True
            rec.plaintext = self.opener.open(rec.header, rec.fragment)
        self.received.append(rec)
        return rec

    async def read_alert(self, timeout: float = TIMEOUT) -> Alert | Literal["closed"]:
        """Read until an alert or the end of the stream; other records are kept
        in :attr:`received`."""
        with trio.fail_after(timeout):
            while True:
                rec = await self.read_record(timeout)
                if rec is None:
                    return CLOSED
                if rec.content_type != ALERT:
                    continue
                if rec.plaintext is None or len(rec.plaintext) != 2:
                    return Alert(None, None, rec.protected)
                return Alert(rec.plaintext[0], rec.plaintext[1], rec.protected)

    async def expect_closed(self, timeout: float = TIMEOUT) -> None:
        """The peer must close now, sending nothing more."""
        rec = await self.read_record(timeout)
        assert rec is None, f"expected the connection to close, got {rec}"

    async def nothing_within(self, seconds: float) -> None:
        """Nothing at all may arrive within ``seconds`` (not even a close)."""
        with trio.move_on_after(seconds):
            await self._fill(len(self._buffer) + 1)
            raise AssertionError(f"the peer sent {bytes(self._buffer)!r} or closed early")

    async def read_application_data(self, size: int, timeout: float = TIMEOUT) -> bytes:
        """Read protected application data until ``size`` bytes arrived."""
        data = b""
        with trio.fail_after(timeout):
            while len(data) < size:
                rec = await self.read_record(timeout)
                assert rec is not None, f"closed after {len(data)} of {size} bytes"
                assert rec.content_type == APPLICATION_DATA, rec
                assert rec.plaintext is not None, "application data did not decrypt"
                data += rec.plaintext
        return data


def _leaf_key(der: bytes) -> rsa.RSAPublicKey:
    key = x509.load_der_x509_certificate(der).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def _parse_vector_list(body: bytes) -> list[bytes]:
    total = int.from_bytes(body[:3], "big")
    entries, items = body[3 : 3 + total], []
    while entries:
        size = int.from_bytes(entries[:3], "big")
        items.append(entries[3 : 3 + size])
        entries = entries[3 + size :]
    return items


# --------------------------------------------------------------- the client


@dataclass
class HostileClient(Peer):
    """A client that can send anything. Its honest path is :meth:`handshake`."""

    client_random: bytes = field(default_factory=lambda: os.urandom(32))
    server_random: bytes = b""
    chain: list[bytes] = field(default_factory=list)
    server_key: rsa.RSAPublicKey | None = None
    secret: bytes = field(default_factory=lambda: os.urandom(32))

    @classmethod
    async def connect(cls, port: int) -> HostileClient:
        return cls(stream=await open_tcp(port), role="client")

    def client_hello(self, name: bytes = b"localhost") -> bytes:
        """The ClientHello record (added to the transcript)."""
        msg = message(CLIENT_HELLO, client_hello_body(self.client_random, name))
        return record(HANDSHAKE, self.add_transcript(msg))

    async def read_server_flight(self) -> None:
        """Read ServerHello and Certificate; learn the random and the leaf key."""
        hello = await self.read_record()
        assert hello is not None, "closed instead of ServerHello"
        assert hello.content_type == HANDSHAKE and hello.fragment[0] == SERVER_HELLO, hello
        self.server_random = hello.fragment[4:]
        assert len(self.server_random) == 32, hello
        cert = await self.read_record()
        assert cert is not None, "closed instead of Certificate"
        assert cert.content_type == HANDSHAKE and cert.fragment[0] == CERTIFICATE, cert
        self.chain = _parse_vector_list(cert.fragment[4:])
        self.server_key = _leaf_key(self.chain[0])
        self.add_transcript(hello.fragment)
        self.add_transcript(cert.fragment)

    def key_exchange(self, encrypted: bytes | None = None) -> bytes:
        """The ClientKeyExchange record; then the keys become active.

        Args:
            encrypted: The encrypted_secret to send instead of the honest
                OAEP of :attr:`secret`. The keys are still derived from
                :attr:`secret`, as a client that sent garbage would.
        """
        assert self.server_key is not None, "read the server's flight first"
        if encrypted is None:
            encrypted = oaep(self.server_key, self.secret)
        msg = self.add_transcript(message(CLIENT_KEY_EXCHANGE, vector(encrypted, 2)))
        self.activate(self.secret, self.client_random, self.server_random)
        return record(HANDSHAKE, msg)

    def client_verify_data(self) -> bytes:
        assert self.keys is not None
        return hmac_sha256(self.keys.client_finished, self.keys.th)

    def finished(self, verify_data: bytes | None = None) -> bytes:
        """The protected client Finished record (added to the transcript)."""
        if verify_data is None:
            verify_data = self.client_verify_data()
        return self.seal(HANDSHAKE, self.add_transcript(message(FINISHED, verify_data)))

    async def read_server_finished(self) -> None:
        """Read and check the server's {Finished}."""
        assert self.keys is not None
        rec = await self.read_record()
        assert rec is not None, "closed instead of the server Finished"
        assert rec.content_type == HANDSHAKE and rec.protected, rec
        expected = message(FINISHED, hmac_sha256(self.keys.server_finished, self.th()))
        assert rec.plaintext == expected, "the server Finished does not match"
        self.add_transcript(expected)

    async def handshake(self, *, name: bytes = b"localhost", split: Split = None) -> None:
        """The honest handshake, with each flight written as ``split`` says."""
        await self.send_records(self.client_hello(name), split=split)
        await self.read_server_flight()
        await self.send_records(self.key_exchange(), self.finished(), split=split)
        await self.read_server_finished()

    async def echo(self, data: bytes, *, split: int | None = None) -> None:
        """Send ``data`` as one record; the echo server must send it back."""
        await self.send(self.app_data(data), split=split)
        assert await self.read_application_data(len(data)) == data


async def reach(c: HostileClient, stage: str) -> None:
    """Run the honest handshake up to ``stage``.

    start: TCP only; hello: ClientHello sent and the server's flight read;
    key_exchange: ClientKeyExchange sent too (the server's keys are active);
    connected: both Finished exchanged and checked.
    """
    if stage == "start":
        return
    await c.send_records(c.client_hello())
    await c.read_server_flight()
    if stage == "hello":
        return
    await c.send_records(c.key_exchange())
    if stage == "key_exchange":
        return
    await c.send_records(c.finished())
    await c.read_server_finished()


@asynccontextmanager
async def hostile_client(port: int) -> AsyncIterator[HostileClient]:
    client = await HostileClient.connect(port)
    try:
        yield client
    finally:
        await client.aclose()


# --------------------------------------------------------------- the server


@dataclass
class HostileServer(Peer):
    """A server that can send anything, holding the leaf's private key."""

    role: str = "server"
    private_key: rsa.RSAPrivateKey | None = None
    client_random: bytes = b""
    server_random: bytes = field(default_factory=lambda: os.urandom(32))
    server_name: bytes = b""
    secret: bytes | None = None

    async def read_client_hello(self) -> None:
        rec = await self.read_record()
        assert rec is not None, "the client closed before ClientHello"
        assert rec.content_type == HANDSHAKE and rec.fragment[0] == CLIENT_HELLO, rec
        body = rec.fragment[4:]
        self.client_random = body[:32]
        self.server_name = body[33 : 33 + body[32]]
        self.add_transcript(rec.fragment)

    def server_hello(self, random: bytes | None = None) -> bytes:
        msg = message(SERVER_HELLO, self.server_random if random is None else random)
        return record(HANDSHAKE, self.add_transcript(msg))

    def certificate(self, ders: Sequence[bytes]) -> bytes:
        msg = message(CERTIFICATE, certificate_body(ders))
        return record(HANDSHAKE, self.add_transcript(msg))

    async def read_key_exchange(self) -> Record | None:
        """Read the client's next record; if it is a ClientKeyExchange,
        decrypt the secret and turn the keys on. Returns the record (None if
        the client closed)."""
        rec = await self.read_record()
        if rec is None or rec.content_type != HANDSHAKE or rec.fragment[0] != CLIENT_KEY_EXCHANGE:
            return rec
        assert self.private_key is not None
        encrypted = rec.fragment[6:]
        self.secret = self.private_key.decrypt(
            encrypted,
            padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
        )
        self.add_transcript(rec.fragment)
        self.activate(self.secret, self.client_random, self.server_random)
        return rec

    async def read_client_finished(self) -> None:
        assert self.keys is not None
        rec = await self.read_record()
        assert rec is not None, "the client closed before its Finished"
        assert rec.content_type == HANDSHAKE and rec.protected, rec
        expected = message(FINISHED, hmac_sha256(self.keys.client_finished, self.keys.th))
        assert rec.plaintext == expected, "the client Finished does not match"
        self.add_transcript(expected)

    def server_verify_data(self) -> bytes:
        assert self.keys is not None
        return hmac_sha256(self.keys.server_finished, self.th())

    def finished(self, verify_data: bytes | None = None) -> bytes:
        if verify_data is None:
            verify_data = self.server_verify_data()
        return self.seal(HANDSHAKE, self.add_transcript(message(FINISHED, verify_data)))

    async def handshake(self, chain: Sequence[bytes], *, split: int | None = None) -> None:
        """The honest server side of the handshake."""
        await self.read_client_hello()
        await self.send_records(self.server_hello(), self.certificate(chain), split=split)
        rec = await self.read_key_exchange()
        assert rec is not None and self.keys is not None, f"no ClientKeyExchange: {rec}"
        await self.read_client_finished()
        await self.send_records(self.finished(), split=split)

    async def echo_until_close_notify(self) -> bytes:
        """Echo application data; on close_notify answer with ours. Returns
        everything received."""
        got = b""
        while True:
            rec = await self.read_record()
            assert rec is not None, "the client cut the connection without close_notify"
            assert rec.plaintext is not None, f"a record did not decrypt: {rec}"
            if rec.content_type == ALERT:
                assert rec.plaintext == bytes((WARNING, CLOSE_NOTIFY)), rec
                await self.send(self.close_notify())
                return got
            assert rec.content_type == APPLICATION_DATA, rec
            got += rec.plaintext
            if rec.plaintext:
                await self.send(self.app_data(rec.plaintext))


@asynccontextmanager
async def hostile_listener() -> AsyncIterator[tuple[trio.SocketListener, int]]:
    """A TCP listener on 127.0.0.1 at a free port."""
    (listener,) = await trio.open_tcp_listeners(0, host="127.0.0.1")
    try:
        yield listener, listener.socket.getsockname()[1]
    finally:
        await listener.aclose()
