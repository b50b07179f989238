"""偷梁换柱 as the article tells it: the man in the middle passes key X on.

The article's attacker swaps the server's public key B+ for his own M+ in
the certificate, opens the client's key X with his private key M−, locks
*the same X* with the server's real B+ and passes it on, then reads
everything. :class:`KeyXRelay` does exactly that, sans-I/O, with two
:class:`~toytls.core.connection.Connection` objects:

* toward the client it is a server (``victim``) with the forged chain and
  M−, whose ServerHello carries the real server's random;
* toward the server it is a client (``upstream``) whose ClientHello carries
  the real client's random, and whose key X is the one the client sent.

So both ends hold the same X — what the article predicts. What the article
does not say: their record keys still differ, because toytls (like TLS)
mixes the transcript into the key schedule and into Finished, and the two
transcripts differ in the Certificate and the ClientKeyExchange. Holding X,
the attacker can derive both sets of keys: each leg's Connection checks and
makes its own Finished, and every record is opened on one leg and sealed
again on the other.

Bytes in, bytes out: :meth:`KeyXRelay.client_data` and
:meth:`KeyXRelay.server_data` take what arrived and return a :class:`Step`
with what to send each way and the events of each leg.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import rsa

from ..core import events as ev
from ..core.config import ClientConfig, ServerConfig
from ..core.connection import Connection
from ..core.constants import MAX_CIPHERTEXT
from ..core.messages import Certificate, ServerHello
from ..core.records import RawRecord, RecordReader
from .policy import first_client_hello, readable_message

#: Makes the chain shown to the client from the real one and the name asked for.
Forge = Callable[[tuple[bytes, ...], str], tuple[bytes, ...]]


class _Scripted:
    """A random source that answers with given values first, in order."""

    def __init__(self, random_bytes: Callable[[int], bytes]) -> None:
        self._random = random_bytes
        self._queue: list[bytes] = []

    def give(self, value: bytes) -> None:
        self._queue.append(value)

    def __call__(self, size: int) -> bytes:
        if self._queue:
            value = self._queue.pop(0)
            assert len(value) == size  # the handshake asks in a fixed order
            return value
        return self._random(size)


@dataclass(kw_only=True, slots=True)
class Step:
    """What one call produced: bytes for each side, and each leg's events."""

    to_client: bytes = b""
    to_server: bytes = b""
    #: the leg toward the client (the attacker plays the server)
    client_leg: list[ev.Event] = field(default_factory=list)
    #: the leg toward the server (the attacker plays the client)
    server_leg: list[ev.Event] = field(default_factory=list)


class NotAClientHello(Exception):
    """The client's first record is not a ClientHello: nothing to attack."""


class KeyXRelay:
    """One connection attacked the article's way.

    Args:
        forge: Makes the chain the client sees (for 偷梁换柱, the real chain
            with M+ in place of B+).
        attacker_key: M−, the private key of every forged chain.
        random_bytes: The randomness for what the attacker makes himself.
    """

    def __init__(
        self,
        *,
        forge: Forge,
        attacker_key: rsa.RSAPrivateKey,
        random_bytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self._forge = forge
        self._key = attacker_key
        self._victim_random = _Scripted(random_bytes)
        self._upstream_random = _Scripted(random_bytes)
        self._client_records = RecordReader()
        self._server_records = RecordReader()
        #: the attacker as a server, toward the client (after ServerHello)
        self.victim: Connection | None = None
        #: the attacker as a client, toward the server (after ClientHello)
        self.upstream: Connection | None = None
        self._hello: RawRecord | None = None
        self._certificate: RawRecord | None = None
        #: key X, once the client sent it
        self.secret: bytes | None = None
        #: the client's data that arrived before the server's leg was ready
        self._early: list[bytes] = []
        self._early_close = False
        #: the server closed its end before there was a leg toward it
        self._server_gone = False

    # ----------------------------------------------------------- from the client

    def client_data(self, data: bytes) -> Step:
        """Bytes from the client (``b""``: it closed its end).

        Raises:
            NotAClientHello: The first record is something else.
            ToyTLSError: The first bytes are not a toytls record at all.
        """
        step = Step()
        if self.upstream is None:
            self._client_records.feed(data)
            self._start_upstream(step)
            return step
        if self.victim is None:
            self._client_records.feed(data)  # early: the client speaks before ServerHello
            return step
        victim = self.victim
        if victim.error is None:
            step.client_leg += victim.receive_data(data)
        step.to_client += victim.data_to_send()
        self._after_client_events(step)
        return step

    def _start_upstream(self, step: Step) -> None:
        record = self._client_records.next_record(MAX_CIPHERTEXT)
        if record is None:
            return
        hello = first_client_hello(record)
        if hello is None:
            raise NotAClientHello(f"the first message is type {record.fragment[:1].hex()}")
        self._hello = record
        self._upstream_random.give(hello.random)  # the server sees the client's own random
        upstream = Connection(
            ClientConfig(server_name=hello.server_name, verify=False),
            random_bytes=self._upstream_random,
            trace=True,
        )
        self.upstream = upstream
        step.server_leg += upstream.initiate()
        step.to_server += upstream.data_to_send()
        if self._server_gone:
            step.server_leg += upstream.receive_data(b"")

    def _after_client_events(self, step: Step) -> None:
        upstream = self.upstream
        assert upstream is not None
        for event in step.client_leg:
            if isinstance(event, ev.KeysDerived) and self.secret is None:
                self._pass_key_x_on(event.secret, step)
            elif isinstance(event, ev.ApplicationData):
                self._to_server(event.data, step)
            elif isinstance(event, ev.CloseNotifyReceived):
                self._close_toward_server(step)
            elif isinstance(event, ev.ConnectionFailed) and not upstream.closed:
                # The client refused (or broke): end the server's handshake too.
                step.server_leg += upstream.send_close_notify()
        step.to_server += upstream.data_to_send()

    def _pass_key_x_on(self, secret: bytes, step: Step) -> None:
        """The client's X, locked now with the real B+: the server's leg goes on."""
        upstream = self.upstream
        assert upstream is not None
        assert self._certificate is not None
        self.secret = secret
        self._upstream_random.give(secret)
        certificate = self._certificate
        step.server_leg += upstream.receive_data(certificate.header + certificate.fragment)

    def _to_server(self, data: bytes, step: Step) -> None:
        upstream = self.upstream
        assert upstream is not None
        if upstream.handshake_complete:
            step.server_leg += upstream.send_application_data(data)
        else:
            self._early.append(data)

    def _close_toward_server(self, step: Step) -> None:
        upstream = self.upstream
        assert upstream is not None
        if upstream.handshake_complete:
            step.server_leg += upstream.send_close_notify()
        else:
            self._early_close = True

    # ----------------------------------------------------------- from the server

    def server_data(self, data: bytes) -> Step:
        """Bytes from the server (``b""``: it closed its end)."""
        step = Step()
        upstream = self.upstream
        if upstream is None:  # it hung up before the client's ClientHello came
            self._server_gone = self._server_gone or not data
            return step
        if self.victim is None:
            self._server_records.feed(data)
            self._read_server_flight(step)
            if not data and upstream.error is None:  # it hung up before its Certificate
                step.server_leg += upstream.receive_data(b"")
            return step
        if upstream.error is None:
            step.server_leg += upstream.receive_data(data)
        self._after_server_events(step)
        return step

    def _read_server_flight(self, step: Step) -> None:
        """ServerHello goes to the server's leg; Certificate is held until X is known."""
        upstream = self.upstream
        assert upstream is not None
        while self._certificate is None:
            record = self._server_records.next_record(MAX_CIPHERTEXT)
            if record is None:
                return
            message = readable_message(record)
            if isinstance(message, Certificate):
                self._certificate = record
                self._answer_client(message.certificates, step)
                return
            step.server_leg += upstream.receive_data(record.header + record.fragment)
            if isinstance(message, ServerHello):
                self._victim_random.give(message.random)
            if upstream.error is not None:
                return  # the server refused: the caller ends both sides

    def _answer_client(self, real_chain: tuple[bytes, ...], step: Step) -> None:
        """The client's leg starts: ServerHello as the server's, the forged chain."""
        upstream = self.upstream
        assert upstream is not None
        assert self._hello is not None
        assert upstream.session is None
        config = upstream.config
        assert isinstance(config, ClientConfig)
        victim = Connection(
            ServerConfig(
                certificate_chain=self._forge(real_chain, config.server_name),
                private_key=self._key,
            ),
            random_bytes=self._victim_random,
            trace=True,
        )
        self.victim = victim
        hello = self._hello
        step.client_leg += victim.receive_data(hello.header + hello.fragment)
        # Anything the client sent early waits in the reader as whole records.
        while (record := self._client_records.next_record(MAX_CIPHERTEXT)) is not None:
            step.client_leg += victim.receive_data(record.header + record.fragment)
        step.to_client += victim.data_to_send()
        self._after_client_events(step)

    def _after_server_events(self, step: Step) -> None:
        victim = self.victim
        upstream = self.upstream
        assert victim is not None
        assert upstream is not None
        for event in step.server_leg:
            if isinstance(event, ev.HandshakeComplete):
                for data in self._early:
                    step.server_leg += upstream.send_application_data(data)
                self._early.clear()
                if self._early_close:
                    step.server_leg += upstream.send_close_notify()
            elif isinstance(event, ev.ApplicationData) and victim.handshake_complete:
                step.client_leg += victim.send_application_data(event.data)
            elif isinstance(event, ev.CloseNotifyReceived) and victim.handshake_complete:
                step.client_leg += victim.send_close_notify()
        step.to_server += upstream.data_to_send()
        step.to_client += victim.data_to_send()
