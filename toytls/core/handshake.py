"""The handshake steps of §2, one method per message the table allows.

:class:`HandshakeSteps` is the half of :class:`~toytls.core.connection.Connection`
that knows what each handshake message means: it checks the message's own
rules (§2, §4), adds it to the transcript, answers, derives the keys and
builds the :class:`~toytls.core.events.SessionInfo`. Which message may arrive
when is not decided here: :func:`toytls.core.state.transition` gives the row,
and :meth:`HandshakeSteps._handle_handshake` dispatches on the row's message
type through :data:`_STEPS`. The record layer (sealing, alerts, failure) is
the connection's and reading is :mod:`toytls.core.reading`'s; the one hook
the connection provides is :meth:`HandshakeSteps._send_record`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa

from . import events as ev
from .config import ClientConfig, ServerConfig
from .constants import (
    CIPHER_NAME,
    PROTOCOL_NAME,
    RANDOM_SIZE,
    SECRET_SIZE,
    AlertDescription,
    ContentType,
    HandshakeType,
)
from .errors import CertificateVerifyError, ToyTLSError
from .keyschedule import (
    DecryptSecret,
    EncryptSecret,
    KeySchedule,
    Transcript,
    derive_schedule,
    finished_matches,
    finished_verify_data,
    session_key_fingerprint,
)
from .links import check_links
from .messages import (
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
from .protection import RecordOpener, RecordSealer
from .state import Role, State, transition
from .verdicts import verify_remembered
from .verification import parse_chain

_M = TypeVar("_M", ClientHello, ServerHello, Certificate, ClientKeyExchange, Finished)


def unexpected(what: str, key: str, **params: object) -> ToyTLSError:
    """The error for a record or message the state machine does not allow."""
    return ToyTLSError(what, alert=AlertDescription.UNEXPECTED_MESSAGE, key=key, params=params)


class HandshakeSteps:
    """What each handshake message does; mixed into the connection.

    The attributes below are the handshake's own; the connection sets them up.
    """

    config: ClientConfig | ServerConfig
    role: Role
    state: State
    trace: bool
    session: ev.SessionInfo | None
    _random: Callable[[int], bytes]
    _encrypt_secret: EncryptSecret
    _decrypt_secret: DecryptSecret
    _transcript: Transcript
    _sealer: RecordSealer | None
    _opener: RecordOpener | None
    _schedule: KeySchedule | None
    _secret: bytes
    _client_random: bytes
    _server_random: bytes
    _server_name: str
    _chain: tuple[bytes, ...]
    _verified: bool | None

    def _send_record(
        self,
        content_type: ContentType,
        plaintext: bytes | bytearray | memoryview,
        events: list[ev.Event],
    ) -> None:
        """Seal (once keys are active) and queue one record: the connection's."""
        raise NotImplementedError

    def _send_handshake(self, message: AnyMessage, events: list[ev.Event]) -> None:
        raw = encode_message(message)
        self._transcript.add(raw)
        events.append(ev.HandshakeMessageSent(message=message, raw=raw))
        self._send_record(ContentType.HANDSHAKE, raw, events)

    def _send_client_hello(self, events: list[ev.Event]) -> None:
        assert isinstance(self.config, ClientConfig)
        self._client_random = self._random(RANDOM_SIZE)
        self._server_name = self.config.server_name
        hello = ClientHello(random=self._client_random, server_name=self._server_name)
        self._send_handshake(hello, events)

    def _handle_handshake(self, payload: bytes, events: list[ev.Event]) -> None:
        message = parse_message(payload)  # framing first: decode_error
        expect = None if isinstance(message, UnknownMessage) else message.msg_type
        row = None if expect is None else transition(self.role, self.state, expect)
        if row is None or expect is None:
            raise unexpected(
                f"handshake message {message.msg_type} not allowed in state '{self.state.value}'",
                "handshake.unexpected",
                msg_type=int(message.msg_type),
                state=self.state.value,
            )
        _STEPS[expect](self, ev.HandshakeMessageReceived(message=message, raw=payload), events)
        if self.state is not State.CLOSED:
            self.state = row.next

    def _accept(self, received: ev.HandshakeMessageReceived, events: list[ev.Event]) -> None:
        """The message passed its checks: into the transcript and the story."""
        self._transcript.add(received.raw)
        events.append(received)

    # ------------------------------------------------------------- the steps

    def _on_client_hello(
        self, received: ev.HandshakeMessageReceived, events: list[ev.Event]
    ) -> None:
        hello = _message(received, ClientHello)
        assert isinstance(self.config, ServerConfig)
        check_server_name(hello.server_name)
        names = self.config.server_names
        if names is not None and hello.server_name not in names:
            raise ToyTLSError(
                f"this server does not serve {hello.server_name!r}",
                alert=AlertDescription.UNRECOGNIZED_NAME,
                key="handshake.unrecognized_name",
                params={"name": hello.server_name},
            )
        self._accept(received, events)
        self._client_random = hello.random
        self._server_name = hello.server_name
        self._server_random = self._random(RANDOM_SIZE)
        self._chain = self.config.certificate_chain
        self._send_handshake(ServerHello(random=self._server_random), events)
        self._send_handshake(Certificate(certificates=self._chain), events)

    def _on_server_hello(
        self, received: ev.HandshakeMessageReceived, events: list[ev.Event]
    ) -> None:
        hello = _message(received, ServerHello)
        self._accept(received, events)
        self._server_random = hello.random

    def _on_certificate(
        self, received: ev.HandshakeMessageReceived, events: list[ev.Event]
    ) -> None:
        message = _message(received, Certificate)
        check_certificate_count(message)
        self._accept(received, events)
        self._chain = _shared(message.certificates)
        public_key = self._check_chain(message.certificates, events)
        # Only now, with a key that passed §4, does anything get encrypted.
        self._secret = self._random(SECRET_SIZE)
        encrypted = self._encrypt_secret(public_key, self._secret)
        self._send_handshake(ClientKeyExchange(encrypted_secret=encrypted), events)
        schedule = self._activate_keys(events)
        verify_data = finished_verify_data(schedule.client_finished, schedule.th)
        self._send_handshake(Finished(verify_data=verify_data), events)

    def _check_chain(self, ders: tuple[bytes, ...], events: list[ev.Event]) -> rsa.RSAPublicKey:
        assert isinstance(self.config, ClientConfig)
        config = self.config
        certificates = parse_chain(ders)
        if config.verify:
            if self.trace:  # explanation only; the verifier below decides
                for link in check_links(certificates, config.roots):
                    events.append(ev.CertificateChecked(link=link))
            verdict = verify_remembered(
                certificates, config.server_name, config.roots, now=config.now
            )
            events.append(
                ev.ChainVerified(
                    server_name=config.server_name,
                    path=verdict.path_names,
                    root_sha256=verdict.root_sha256,
                )
            )
            self._verified = True
        else:
            events.append(ev.VerificationSkipped(server_name=config.server_name))
            self._verified = False
        return _rsa_key(certificates[0])

    def _on_client_key_exchange(
        self, received: ev.HandshakeMessageReceived, events: list[ev.Event]
    ) -> None:
        message = _message(received, ClientKeyExchange)
        assert isinstance(self.config, ServerConfig)
        check_secret_length(message, self.config.modulus_bytes)
        self._accept(received, events)
        # Drawn before decrypting, so nothing observable depends on the result.
        fallback = self._random(SECRET_SIZE)
        key = self.config.private_key
        self._secret = self._decrypt_secret(key, message.encrypted_secret, fallback)
        self._activate_keys(events)

    def _activate_keys(self, events: list[ev.Event]) -> KeySchedule:
        schedule = derive_schedule(
            secret=self._secret,
            client_random=self._client_random,
            server_random=self._server_random,
            th=self._transcript.digest(),
        )
        self._schedule = schedule
        client = (schedule.client_write_key, schedule.client_write_iv)
        server = (schedule.server_write_key, schedule.server_write_iv)
        mine, theirs = (client, server) if self.role is Role.CLIENT else (server, client)
        self._sealer = RecordSealer(*mine)
        self._opener = RecordOpener(*theirs)
        events.append(ev.KeysDerived(secret=self._secret, schedule=schedule))
        return schedule

    def _on_finished(self, received: ev.HandshakeMessageReceived, events: list[ev.Event]) -> None:
        message = _message(received, Finished)
        schedule = self._schedule
        assert schedule is not None
        if self.role is Role.SERVER:
            expected = finished_verify_data(schedule.client_finished, schedule.th)
        else:
            expected = finished_verify_data(schedule.server_finished, self._transcript.digest())
        if not finished_matches(expected, message.verify_data):
            raise ToyTLSError(
                "the peer's Finished does not match: it holds other keys or saw another handshake",
                alert=AlertDescription.DECRYPT_ERROR,
                key="handshake.finished_mismatch",
            )
        self._accept(received, events)
        if self.role is Role.SERVER:
            verify_data = finished_verify_data(schedule.server_finished, self._transcript.digest())
            self._send_handshake(Finished(verify_data=verify_data), events)
        self.session = ev.SessionInfo(
            protocol=PROTOCOL_NAME,
            cipher=CIPHER_NAME,
            server_name=self._server_name,
            certificate_chain=self._chain,
            verified=self._verified,
            session_key_fingerprint=session_key_fingerprint(self._secret),
            client_random=self._client_random,
            server_random=self._server_random,
        )
        events.append(ev.HandshakeComplete(session=self.session))
        # Only the record keys are needed from now on: forget key X and the
        # rest of the schedule (less to leak, less memory per connection).
        self._secret = b""
        self._schedule = None
        # An idle connection need not hold the AES-GCM state (see protection).
        assert self._sealer is not None  # Finished is protected
        assert self._opener is not None
        self._sealer.rest()
        self._opener.rest()


_Step = Callable[[HandshakeSteps, ev.HandshakeMessageReceived, list[ev.Event]], None]

#: The step for each message type the table names (its ``expect``).
_STEPS: dict[HandshakeType, _Step] = {
    HandshakeType.CLIENT_HELLO: HandshakeSteps._on_client_hello,
    HandshakeType.SERVER_HELLO: HandshakeSteps._on_server_hello,
    HandshakeType.CERTIFICATE: HandshakeSteps._on_certificate,
    HandshakeType.CLIENT_KEY_EXCHANGE: HandshakeSteps._on_client_key_exchange,
    HandshakeType.FINISHED: HandshakeSteps._on_finished,
}


#: The chain the last Certificate message carried (DER, leaf first).
_last_chain: list[tuple[bytes, ...]] = [()]


def _shared(chain: tuple[bytes, ...]) -> tuple[bytes, ...]:
    """``chain``, or an equal one received before: every connection to a
    server then keeps one copy of its chain (about 1.8 KB) in its session."""
    if chain == _last_chain[0]:
        return _last_chain[0]
    _last_chain[0] = chain
    return chain


def _message(received: ev.HandshakeMessageReceived, kind: type[_M]) -> _M:
    # The table named this type and parse_message built it from the same
    # byte, so a mismatch here is a bug in toytls, not in the peer.
    message = received.message
    assert isinstance(message, kind)
    return message


def _rsa_key(leaf: x509.Certificate) -> rsa.RSAPublicKey:
    try:
        key = leaf.public_key()
    except (UnsupportedAlgorithm, ValueError):
        key = None
    if not isinstance(key, rsa.RSAPublicKey):
        # Even without verification there is no way to send X to such a key.
        raise CertificateVerifyError(
            "the leaf certificate's key is not RSA, so key X cannot be sent to it",
            alert=AlertDescription.BAD_CERTIFICATE,
            key="cert.no_rsa_for_x",
        )
    return key
