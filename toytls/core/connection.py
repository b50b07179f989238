"""The sans-I/O connection: bytes in, events out, bytes to send drained.

Theory of operation
-------------------
A :class:`Connection` is one side of one toytls/1 connection. It never does
I/O: the caller feeds it what arrived (:meth:`Connection.receive_data`,
``b""`` for end of stream), gets back a list of events, and sends whatever
:meth:`Connection.data_to_send` returns. Receiving can require sending — the
server's reply flight, the client's key exchange, an alert — which is why
outgoing bytes collect in a buffer instead of being returned.

Incoming bytes pass four layers, each with the checks the spec puts there
and in the spec's order:

1. framing (:mod:`toytls.core.records`): the header checks of §1;
2. protection (:mod:`toytls.core.protection`): once read keys are active, every
   record must decrypt (§3.4);
3. the state machine (:mod:`toytls.core.state`): the record type, then the
   handshake message, must be the one allowed now;
4. the message's own rules (§2, §4, §5).

The first failure becomes a :class:`~toytls.core.errors.ToyTLSError`: the
connection queues the alert it names (protected if write keys are active),
ends with a :class:`~toytls.core.events.ConnectionFailed` event and stops;
every later call raises that same error. Receiving never raises for
anything the peer sends.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa

from . import events as ev
from .config import ClientConfig, ServerConfig
from .constants import (
    CIPHER_NAME,
    MAX_CIPHERTEXT,
    MAX_EMPTY_RECORDS,
    MAX_PLAINTEXT,
    PROTOCOL_NAME,
    RANDOM_SIZE,
    SECRET_SIZE,
    AlertDescription,
    AlertLevel,
    ContentType,
    alert_name,
)
from .errors import CertificateVerifyError, DecodeError, ToyTLSError
from .keyschedule import (
    EncryptSecret,
    KeySchedule,
    Transcript,
    decrypt_secret,
    derive_schedule,
    encrypt_secret,
    finished_matches,
    finished_verify_data,
    session_key_fingerprint,
)
from .messages import (
    AnyMessage,
    Certificate,
    ClientHello,
    ClientKeyExchange,
    Finished,
    ServerHello,
    check_certificate_count,
    check_secret_length,
    check_server_name,
    encode_message,
    parse_message,
)
from .protection import RecordOpener, RecordSealer
from .records import RawRecord, RecordReader, encode_record
from .state import ACCEPTED_CONTENT, TRANSITIONS, Role, State, initial_state
from .verification import check_links, parse_chain, verify_server_certificates

_CLOSE_NOTIFY = bytes((AlertLevel.WARNING, AlertDescription.CLOSE_NOTIFY))
_PLAIN_ALERT_SIZE = 2


def _unexpected(what: str) -> ToyTLSError:
    return ToyTLSError(what, alert=AlertDescription.UNEXPECTED_MESSAGE)


class Connection:
    """One side of a toytls/1 connection, with no I/O of its own.

    Args:
        config: A :class:`ClientConfig` makes a client, a
            :class:`ServerConfig` a server.
        trace: Also report what only narration needs: every record sent and
            received (:class:`~toytls.core.events.RecordSent`,
            :class:`~toytls.core.events.RecordReceived`) and the digests S and T
            of each certificate link (:class:`~toytls.core.events.CertificateChecked`).
        random_bytes: The cryptographic random source; tests pass a
            deterministic one to reproduce the vectors.
        encrypt_secret_fn: Encrypts the client's secret to the leaf key.
            Only the vector tests replace it, with an OAEP encryption under a
            recorded seed, to reproduce a recorded connection byte for byte.

    A client must call :meth:`initiate` once before anything else.
    """

    def __init__(
        self,
        config: ClientConfig | ServerConfig,
        *,
        trace: bool = False,
        random_bytes: Callable[[int], bytes] = os.urandom,
        encrypt_secret_fn: EncryptSecret = encrypt_secret,
    ) -> None:
        self.config = config
        self.role = Role.CLIENT if isinstance(config, ClientConfig) else Role.SERVER
        self.state = initial_state(self.role)
        self.trace = trace
        self._random = random_bytes
        self._encrypt_secret = encrypt_secret_fn
        self._reader = RecordReader()
        #: records queued for the peer, as pieces joined once when drained
        self._out: list[bytes] = []
        self._transcript = Transcript()
        self._sealer: RecordSealer | None = None
        self._opener: RecordOpener | None = None
        self._schedule: KeySchedule | None = None
        self._secret = b""
        self._client_random = b""
        self._server_random = b""
        self._server_name = ""
        self._chain: tuple[bytes, ...] = ()
        self._verified: bool | None = None
        self._empty_records = 0
        self._error: ToyTLSError | None = None
        #: the peer sent close_notify: nothing more will be read
        self.peer_closed = False
        #: this side sent close_notify (or a fatal alert): nothing more is sent
        self.we_closed = False
        #: filled in when the handshake completes
        self.session: ev.SessionInfo | None = None

    # ----------------------------------------------------------------- status

    @property
    def handshake_complete(self) -> bool:
        """True once both Finished messages have been checked."""
        return self.session is not None

    @property
    def error(self) -> ToyTLSError | None:
        """The error that ended the connection, if one did."""
        return self._error

    @property
    def closed(self) -> bool:
        """True once nothing more can be sent or received.

        That is after a fatal error, an aborted handshake, or close_notify
        both ways; the caller should then close the transport.
        """
        return self.state is State.CLOSED

    @property
    def records_protected(self) -> tuple[int, int]:
        """``(sealed, opened)``: records protected so far, each direction.

        They are the next sequence numbers (§3.4), so both are 0 until the
        keys are in use.
        """
        sealed = self._sealer.seq if self._sealer is not None else 0
        opened = self._opener.seq if self._opener is not None else 0
        return sealed, opened

    def data_to_send(self) -> bytes:
        """Return and forget the bytes queued for the peer (maybe ``b""``)."""
        out = self._out
        if not out:
            return b""
        data = out[0] if len(out) == 1 else b"".join(out)
        out.clear()
        return data

    # --------------------------------------------------------------- sending

    def initiate(self) -> list[ev.Event]:
        """Client: queue the ClientHello.

        Raises:
            RuntimeError: Not a client, or called twice.
        """
        if self.role is not Role.CLIENT or self.state is not State.START:
            raise RuntimeError("initiate() starts a client connection, once")
        assert isinstance(self.config, ClientConfig)
        events: list[ev.Event] = []
        self._client_random = self._random(RANDOM_SIZE)
        self._server_name = self.config.server_name
        hello = ClientHello(random=self._client_random, server_name=self._server_name)
        self._send_handshake(hello, events)
        self.state = State.WAIT_SERVER_HELLO
        return events

    def send_application_data(self, data: bytes | bytearray | memoryview) -> list[ev.Event]:
        """Protect ``data`` as application_data records (16384 bytes each).

        Returns:
            Trace events only; the records go to :meth:`data_to_send`.

        Raises:
            ToyTLSError: The connection already failed (the same error), or
                fails now because the sequence numbers ran out (§3.4; the
                connection is then closed, without an alert).
            RuntimeError: The handshake is not complete, or this side has
                sent close_notify.
        """
        if self._error is not None:
            raise self._error
        if self.state is not State.CONNECTED or self.we_closed:
            raise RuntimeError(
                "application data can only be sent after the handshake and before close_notify"
            )
        events: list[ev.Event] = []
        try:
            if len(data) <= MAX_PLAINTEXT:  # one record: no slicing at all
                if data:
                    sealer = self._sealer
                    if sealer is not None and not self.trace:  # the common case, inlined
                        sealer.seal_into(self._out, ContentType.APPLICATION_DATA, data)
                    else:
                        self._send_record(ContentType.APPLICATION_DATA, data, events)
                return events
            view = memoryview(data)
            for start in range(0, len(view), MAX_PLAINTEXT):
                self._send_record(
                    ContentType.APPLICATION_DATA, view[start : start + MAX_PLAINTEXT], events
                )
        except ToyTLSError as error:  # sequence numbers ran out (§3.4)
            self._fail(error, events)
            raise
        return events

    def send_close_notify(self) -> list[ev.Event]:
        """Say that this side has finished sending (§5).

        During the handshake this aborts it. Calling it again, or after the
        connection ended, does nothing. If the sequence numbers ran out, the
        connection fails instead (the events end with ConnectionFailed).
        """
        events: list[ev.Event] = []
        if self.we_closed or self.state is State.CLOSED:
            return events
        exhausted = self._send_alert(AlertLevel.WARNING, AlertDescription.CLOSE_NOTIFY, events)
        if exhausted is not None:
            self._fail(exhausted, events)
        elif self.state is not State.CONNECTED or self.peer_closed:
            self.state = State.CLOSED
        return events

    def _send_record(
        self,
        content_type: ContentType,
        plaintext: bytes | bytearray | memoryview,
        events: list[ev.Event],
    ) -> None:
        out = self._out
        start = len(out)
        seq: int | None = None
        nonce: bytes | None = None
        if self._sealer is None:
            out.append(encode_record(content_type, plaintext))
        else:
            seq, nonce = self._sealer.seal_into(out, content_type, plaintext)
        if self.trace:
            record = b"".join(out[start:])
            events.append(
                ev.RecordSent(
                    content_type=content_type,
                    record=record,
                    plaintext=bytes(plaintext),
                    seq=seq,
                    nonce=nonce,
                )
            )

    def _send_handshake(self, message: AnyMessage, events: list[ev.Event]) -> None:
        raw = encode_message(message)
        self._transcript.add(raw)
        events.append(ev.HandshakeMessageSent(message=message, raw=raw))
        self._send_record(ContentType.HANDSHAKE, raw, events)

    def _send_alert(
        self,
        level: AlertLevel,
        description: AlertDescription,
        events: list[ev.Event],
    ) -> ToyTLSError | None:
        """Queue an alert; return the error if sequence numbers ran out."""
        protected = self._sealer is not None
        try:
            self._send_record(ContentType.ALERT, bytes((level, description)), events)
        except ToyTLSError as exhausted:
            return exhausted  # §3.4: close without an alert rather than wrap
        self.we_closed = True
        events.append(ev.AlertSent(level=level, description=description, protected=protected))
        return None

    # -------------------------------------------------------------- receiving

    def receive_data(self, data: bytes) -> list[ev.Event]:
        """Process bytes from the peer; ``b""`` means the transport ended.

        Returns:
            The events, in order. If the connection failed, the last one is
            :class:`~toytls.core.events.ConnectionFailed` and the alert to send
            (if any) is queued in :meth:`data_to_send`.

        Raises:
            ToyTLSError: Only if the connection had *already* failed.
            RuntimeError: A client that has not called :meth:`initiate`.
        """
        if self._error is not None:
            raise self._error
        if self.state is State.START:
            raise RuntimeError("call initiate() before receiving")
        events: list[ev.Event] = []
        if self.state is State.CLOSED or self.peer_closed:
            return events  # §5: whatever follows close_notify is ignored
        try:
            if not data:
                self._receive_eof()
            else:
                self._reader.feed(data)
                self._read_records(events)
        except ToyTLSError as error:
            self._fail(error, events)
        return events

    def _receive_eof(self) -> None:
        if self.state is State.CONNECTED:
            raise ToyTLSError(
                "the connection was cut without close_notify (truncation): "
                "the data may be incomplete",
                alert=None,
            )
        raise ToyTLSError(
            f"the peer closed the connection during the handshake ({self.state.value})",
            alert=None,
        )

    def _read_records(self, events: list[ev.Event]) -> None:
        reader = self._reader
        while self.state is not State.CLOSED and not self.peer_closed:
            opener = self._opener
            found = reader.next_record_view(MAX_PLAINTEXT if opener is None else MAX_CIPHERTEXT)
            if found is None:
                return
            content_type, header, fragment = found
            if (
                content_type is ContentType.APPLICATION_DATA
                and self.state is State.CONNECTED
                and opener is not None
                and not self.trace
            ):
                # The bulk of all traffic: the same checks as _handle_record
                # (decrypt, then type, then content) without its generality,
                # decrypting straight from the received bytes.
                data = opener.open(header, fragment)[0]
                if data:
                    self._empty_records = 0
                    events.append(ev.ApplicationData(data=data))
                else:
                    self._count_empty_record()
            else:
                self._handle_record(RawRecord(content_type, header, bytes(fragment)), events)

    def _handle_record(self, record: RawRecord, events: list[ev.Event]) -> None:
        content_type = record.content_type
        seq: int | None = None
        nonce: bytes | None = None
        if self._opener is None or self._is_plain_alert_allowed(record):
            plaintext = record.fragment
        else:
            plaintext, seq, nonce = self._opener.open(record.header, record.fragment)
        if self.trace:
            events.append(
                ev.RecordReceived(
                    content_type=content_type,
                    record=record.header + record.fragment,
                    plaintext=plaintext,
                    seq=seq,
                    nonce=nonce,
                )
            )
        if content_type not in ACCEPTED_CONTENT[self.state]:
            raise _unexpected(
                f"{content_type.name.lower()} record not allowed in state '{self.state.value}'"
            )
        if plaintext:
            self._empty_records = 0
        if content_type is ContentType.APPLICATION_DATA:
            self._handle_application_data(plaintext, events)
        elif not plaintext:
            raise DecodeError(f"empty {content_type.name.lower()} record")
        elif content_type is ContentType.ALERT:
            self._handle_alert(plaintext, events)
        else:
            self._handle_handshake(plaintext, events)

    def _is_plain_alert_allowed(self, record: RawRecord) -> bool:
        # §3.4's one exception: a server that rejects ClientKeyExchange
        # before deriving keys answers in the clear, so until the client has
        # checked the server Finished it takes a 2-byte (unprotected) alert.
        return (
            self.state is State.WAIT_SERVER_FINISHED
            and record.content_type is ContentType.ALERT
            and len(record.fragment) == _PLAIN_ALERT_SIZE
        )

    def _handle_application_data(self, data: bytes, events: list[ev.Event]) -> None:
        if data:
            events.append(ev.ApplicationData(data=data))
        else:
            self._count_empty_record()

    def _count_empty_record(self) -> None:
        self._empty_records += 1
        if self._empty_records > MAX_EMPTY_RECORDS:
            raise _unexpected(f"more than {MAX_EMPTY_RECORDS} empty records in a row")

    def _handle_alert(self, payload: bytes, events: list[ev.Event]) -> None:
        if len(payload) != _PLAIN_ALERT_SIZE:
            raise DecodeError(f"an alert is 2 bytes, this one is {len(payload)}")
        level, code = payload[0], payload[1]
        events.append(ev.AlertReceived(level=level, description=code))
        if payload != _CLOSE_NOTIFY:
            described: AlertDescription | int
            try:
                described = AlertDescription(code)
            except ValueError:
                described = code
            raise ToyTLSError(
                f"the peer sent alert {alert_name(code)} (level {level})",
                alert=described,
                from_peer=True,
            )
        if self.state is not State.CONNECTED:
            # close_notify during the handshake aborts it: answer and close.
            self._send_alert(AlertLevel.WARNING, AlertDescription.CLOSE_NOTIFY, events)
            raise ToyTLSError(
                "the peer aborted the handshake with close_notify",
                alert=AlertDescription.CLOSE_NOTIFY,
                from_peer=True,
            )
        self.peer_closed = True
        events.append(ev.CloseNotifyReceived())
        if self.we_closed:
            self.state = State.CLOSED

    def _fail(self, error: ToyTLSError, events: list[ev.Event]) -> None:
        if error.alert is not None and not error.from_peer and not self.we_closed:
            self._send_alert(AlertLevel.FATAL, AlertDescription(error.alert), events)
        self.we_closed = True
        self.state = State.CLOSED
        self._error = error
        events.append(ev.ConnectionFailed(error=error))

    # -------------------------------------------------------------- handshake

    def _handle_handshake(self, payload: bytes, events: list[ev.Event]) -> None:
        message = parse_message(payload)  # framing first: decode_error
        row = TRANSITIONS.get((self.role, self.state))
        if row is None or message.msg_type != row[0]:
            raise _unexpected(
                f"handshake message {message.msg_type} not allowed in state '{self.state.value}'"
            )
        received = ev.HandshakeMessageReceived(message=message, raw=payload)
        if isinstance(message, ClientHello):
            self._on_client_hello(message, received, events)
        elif isinstance(message, ServerHello):
            self._on_server_hello(message, received, events)
        elif isinstance(message, Certificate):
            self._on_certificate(message, received, events)
        elif isinstance(message, ClientKeyExchange):
            self._on_client_key_exchange(message, received, events)
        else:
            assert isinstance(message, Finished)
            self._on_finished(message, received, events)
        if self.state is not State.CLOSED:
            self.state = row[1]

    def _on_client_hello(
        self, hello: ClientHello, received: ev.HandshakeMessageReceived, events: list[ev.Event]
    ) -> None:
        assert isinstance(self.config, ServerConfig)
        check_server_name(hello.server_name)
        names = self.config.server_names
        if names is not None and hello.server_name not in names:
            raise ToyTLSError(
                f"this server does not serve {hello.server_name!r}",
                alert=AlertDescription.UNRECOGNIZED_NAME,
            )
        self._transcript.add(received.raw)
        events.append(received)
        self._client_random = hello.random
        self._server_name = hello.server_name
        self._server_random = self._random(RANDOM_SIZE)
        self._chain = self.config.certificate_chain
        self._send_handshake(ServerHello(random=self._server_random), events)
        self._send_handshake(Certificate(certificates=self._chain), events)

    def _on_server_hello(
        self, hello: ServerHello, received: ev.HandshakeMessageReceived, events: list[ev.Event]
    ) -> None:
        self._transcript.add(received.raw)
        events.append(received)
        self._server_random = hello.random

    def _on_certificate(
        self,
        message: Certificate,
        received: ev.HandshakeMessageReceived,
        events: list[ev.Event],
    ) -> None:
        assert isinstance(self.config, ClientConfig)
        check_certificate_count(message)
        self._transcript.add(received.raw)
        events.append(received)
        self._chain = message.certificates
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
            verified = verify_server_certificates(
                certificates, config.server_name, config.roots, now=config.now
            )
            events.append(
                ev.ChainVerified(
                    server_name=config.server_name,
                    path=tuple(c.subject.rfc4514_string() for c in verified.path),
                )
            )
            self._verified = True
        else:
            events.append(ev.VerificationSkipped(server_name=config.server_name))
            self._verified = False
        return _rsa_key(certificates[0])

    def _on_client_key_exchange(
        self,
        message: ClientKeyExchange,
        received: ev.HandshakeMessageReceived,
        events: list[ev.Event],
    ) -> None:
        assert isinstance(self.config, ServerConfig)
        check_secret_length(message, self.config.modulus_bytes)
        self._transcript.add(received.raw)
        events.append(received)
        # Drawn before decrypting, so nothing observable depends on the result.
        fallback = self._random(SECRET_SIZE)
        self._secret = decrypt_secret(self.config.private_key, message.encrypted_secret, fallback)
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

    def _on_finished(
        self,
        message: Finished,
        received: ev.HandshakeMessageReceived,
        events: list[ev.Event],
    ) -> None:
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
            )
        self._transcript.add(received.raw)
        events.append(received)
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
        )
    return key
