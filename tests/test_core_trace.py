"""``trace=True`` only adds events: the fast path behaves exactly like the traced one.

A traced connection also reports every record (``RecordSent``,
``RecordReceived``) and each certificate link (``CertificateChecked``), and
the untraced one takes inlined shortcuts to avoid that work. Here two twins —
one traced, one not, with the same config and the same deterministic
randomness — are fed identical bytes in identical pieces, and after every
call they must agree on everything else: the other events, the bytes to
send, and the error raised (its type, alert, side and text), including every
call after a failure. Hypothesis chooses how the bytes are cut and which
byte of the conversation an attacker flips; a few fixed hostile inputs and
random garbage run too.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from helpers import client_config, server_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wire import ALERT, APPLICATION_DATA, HANDSHAKE, header, record

from toytls import events as ev
from toytls.core.config import ClientConfig, ServerConfig
from toytls.core.connection import Connection
from toytls.core.errors import ToyTLSError
from toytls.core.keyschedule import encrypt_secret
from toytls.pki.generate import PKI

#: What only a traced connection reports.
TRACE_ONLY = (ev.RecordSent, ev.RecordReceived, ev.CertificateChecked)

#: An error as the twins must agree on it.
ErrorKey = tuple[type, int | None, bool, str]

#: What one call showed: the events beside the trace, the bytes queued, the error.
Step = tuple[list[object], bytes, ErrorKey | None]


def error_key(error: ToyTLSError | RuntimeError) -> ErrorKey:
    """An error by value: a ToyTLSError with its alert and side; a misuse
    (RuntimeError, e.g. data before the handshake) by its text."""
    if isinstance(error, ToyTLSError):
        return (type(error), error.alert, error.from_peer, str(error))
    return (type(error), None, False, str(error))


def comparable(events: list[ev.Event]) -> list[object]:
    """The events that are not trace-only; a failure as its :func:`error_key`
    (two errors are never the same object)."""
    return [
        ("failed", error_key(e.error)) if isinstance(e, ev.ConnectionFailed) else e
        for e in events
        if not isinstance(e, TRACE_ONLY)
    ]


Action = Callable[[Connection], list[ev.Event]]


def receiving(data: bytes) -> Action:
    return lambda conn: conn.receive_data(data)


def sending(data: bytes) -> Action:
    return lambda conn: conn.send_application_data(data)


@dataclass
class Twins:
    """A traced and an untraced connection, fed and called identically."""

    traced: Connection
    plain: Connection
    #: how many trace-only events the traced twin reported (so the test
    #: cannot pass by comparing two untraced connections)
    trace_events: int = 0

    @classmethod
    def make(cls, config: ClientConfig | ServerConfig, seed: int) -> Twins:
        def twin(trace: bool) -> Connection:
            return Connection(
                config,
                trace=trace,
                random_bytes=random.Random(seed).randbytes,
                encrypt_secret_fn=_deterministic_oaep,
            )

        return cls(traced=twin(True), plain=twin(False))

    def call(self, action: Action) -> Step:
        """Do ``action`` to both; they must agree. Returns what they showed."""
        steps = []
        for conn in (self.traced, self.plain):
            try:
                events, error = action(conn), None
            except (ToyTLSError, RuntimeError) as exc:
                events, error = [], error_key(exc)
            steps.append((comparable(events), conn.data_to_send(), error))
            if conn is self.traced:
                self.trace_events += sum(isinstance(e, TRACE_ONLY) for e in events)
        traced, plain = steps
        assert traced == plain
        assert (self.traced.error is None) == (self.plain.error is None)
        assert self.traced.handshake_complete == self.plain.handshake_complete
        assert self.traced.closed == self.plain.closed
        return plain

    def feed(self, pieces: list[bytes]) -> bytes:
        """Feed ``pieces`` one call each; returns everything queued meanwhile."""
        out = b""
        for piece in pieces:
            out += self.call(receiving(piece))[1]
        return out


#: The first OAEP ciphertext of each (modulus, secret), reused after.
_CIPHERTEXTS: dict[tuple[int, bytes], bytes] = {}


def _deterministic_oaep(public_key: rsa.RSAPublicKey, secret: bytes) -> bytes:
    """OAEP is randomised: both twins must send the same ciphertext for the
    same secret, so the first encryption of a secret is reused."""
    key = (public_key.public_numbers().n, secret)
    if key not in _CIPHERTEXTS:
        _CIPHERTEXTS[key] = encrypt_secret(public_key, secret)
    return _CIPHERTEXTS[key]


# ------------------------------------------------------------ conversations

#: Cuts the bytes of one flight into the pieces each call receives.
Cutter = Callable[[bytes], list[bytes]]
#: Changes the bytes of flight number ``n`` on their way (an attacker).
Mutate = Callable[[int, bytes], bytes]


def whole(data: bytes) -> list[bytes]:
    return [data]


def cut_by(sizes: list[int]) -> Cutter:
    """Pieces of the given sizes, used in turn, until the flight is all fed."""

    def cut(data: bytes) -> list[bytes]:
        pieces, start, turn = [], 0, 0
        while start < len(data):
            size = sizes[turn % len(sizes)]
            pieces.append(data[start : start + size])
            start += size
            turn += 1
        return pieces

    return cut


def untouched(flight: int, data: bytes) -> bytes:
    return data


@dataclass
class Conversation:
    """A client pair of twins and a server pair, bytes carried between them."""

    client: Twins
    server: Twins
    cut: Cutter = whole
    mutate: Mutate = untouched
    to_server: bytes = b""
    to_client: bytes = b""
    flights: int = 0

    @classmethod
    def start(cls, pki: PKI, *, cut: Cutter = whole, mutate: Mutate = untouched) -> Conversation:
        conversation = cls(
            client=Twins.make(client_config(pki), seed=1),
            server=Twins.make(server_config(pki), seed=2),
            cut=cut,
            mutate=mutate,
        )
        conversation.to_server += conversation.client.call(lambda conn: conn.initiate())[1]
        return conversation

    def settle(self) -> None:
        """Carry the bytes both ways, through ``mutate`` and ``cut``, until
        neither side has more to send."""
        while self.to_server or self.to_client:
            data, self.to_server = self.to_server, b""
            if data:
                self.to_client += self.server.feed(self.cut(self.mutate(self.flights, data)))
                self.flights += 1
            data, self.to_client = self.to_client, b""
            if data:
                self.to_server += self.client.feed(self.cut(self.mutate(self.flights, data)))
                self.flights += 1

    def run(self) -> None:
        """The whole conversation as far as it gets: the handshake, data
        both ways, close_notify both ways, and then the end of the stream."""
        self.settle()
        for side, text in ((self.client, b"to the server " * 40), (self.server, b"back")):
            self._send(side, sending(text))
        self.settle()
        for side in (self.client, self.server):
            self._send(side, lambda conn: conn.send_close_notify())
            self.settle()
        for side in (self.client, self.server):
            side.call(lambda conn: conn.receive_data(b""))

    def _send(self, side: Twins, action: Action) -> None:
        out = side.call(action)[1]
        if side is self.client:
            self.to_server += out
        else:
            self.to_client += out


# ------------------------------------------------------------------- tests


def test_honest_conversation_agrees_and_the_trace_is_there(pki: PKI) -> None:
    talk = Conversation.start(pki)
    talk.run()
    assert talk.client.plain.handshake_complete and talk.server.plain.handshake_complete
    assert talk.client.plain.error is None and talk.server.plain.error is None
    # The traced twins really traced: every record, and the certificate links.
    assert talk.client.trace_events > 10
    assert talk.server.trace_events > 5


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=st.lists(st.integers(min_value=1, max_value=700), min_size=1, max_size=8))
def test_every_chunking_agrees(pki: PKI, sizes: list[int]) -> None:
    talk = Conversation.start(pki, cut=cut_by(sizes))
    talk.run()
    assert talk.client.plain.handshake_complete and talk.server.plain.handshake_complete


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    flight=st.integers(min_value=0, max_value=8),
    position=st.integers(min_value=0),
    bit=st.sampled_from([0x01, 0x10, 0x80]),
    sizes=st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=4),
)
def test_a_flipped_bit_anywhere_agrees(
    pki: PKI, flight: int, position: int, bit: int, sizes: list[int]
) -> None:
    """An attacker flips one bit of one flight: whatever breaks, it breaks
    the same way with and without the trace."""

    def mutate(n: int, data: bytes) -> bytes:
        if n != flight:
            return data
        index = position % len(data)
        return data[:index] + bytes((data[index] ^ bit,)) + data[index + 1 :]

    Conversation.start(pki, cut=cut_by(sizes), mutate=mutate).run()


@settings(max_examples=60, deadline=None)
@given(garbage=st.binary(max_size=300), to_client=st.booleans())
def test_garbage_agrees(pki: PKI, garbage: bytes, to_client: bool) -> None:
    """Random bytes to a fresh server, or to the client waiting for the flight."""
    talk = Conversation.start(pki)
    if to_client:
        talk.to_server = b""
        talk.client.feed([garbage])
    else:
        talk.server.feed([garbage])
    talk.run()


#: Hostile bytes sent to a side in place of its peer's next flight.
HOSTILE = {
    "oversized-header": header(HANDSHAKE, 16385),
    "bad-version": header(HANDSHAKE, 10, version=0x0303),
    "unknown-type": record(24, b"\x01"),
    "plain-alert": record(ALERT, b"\x02\x28"),
    "close-notify": record(ALERT, b"\x01\x00"),
    "app-data-too-early": record(APPLICATION_DATA, b"early"),
    "empty-handshake": record(HANDSHAKE, b""),
    "truncated-header": b"\x16\x01",
}


@pytest.mark.parametrize("target", ["server", "client"])
@pytest.mark.parametrize("name", list(HOSTILE))
@pytest.mark.parametrize("after_flights", [0, 1, 2, 4])
def test_hostile_bytes_agree(pki: PKI, name: str, target: str, after_flights: int) -> None:
    """The honest conversation up to a point, then hostile bytes to one side."""
    talk = Conversation.start(pki)

    def mutate(n: int, data: bytes) -> bytes:
        going_to = "server" if n % 2 == 0 else "client"
        if n >= after_flights and going_to == target:
            return HOSTILE[name]
        return data

    talk.mutate = mutate
    talk.run()
