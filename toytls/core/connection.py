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

from . import events as ev
from .config import ClientConfig, ServerConfig
from .constants import (
    MAX_PLAINTEXT,
    AlertDescription,
    AlertLevel,
    ContentType,
    alert_name,
)
from .errors import DecodeError, ToyTLSError
from .handshake import HandshakeSteps
from .keyschedule import (
    DecryptSecret,
    EncryptSecret,
    KeySchedule,
    Transcript,
    decrypt_secret,
    encrypt_secret,
)
from .protection import RecordOpener, RecordSealer
from .reading import PLAIN_ALERT_SIZE, RecordReading
from .records import RecordReader, encode_record
from .state import (
    READS_NOTHING,
    RECEIVES_DATA,
    SENDS_DATA,
    Role,
    Signal,
    State,
    Transition,
    initial_state,
    transition,
)

_CLOSE_NOTIFY = bytes((AlertLevel.WARNING, AlertDescription.CLOSE_NOTIFY))


class Connection(HandshakeSteps, RecordReading):
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
        decrypt_secret_fn: Server: decrypts the client's secret, with
            :func:`~toytls.core.keyschedule.decrypt_secret`'s contract. The
            stream passes one that may find it decrypted already, in a
            worker thread (see ``toytls.streams.keyexchange``).

    A client must call :meth:`initiate` once before anything else.
    """

    def __init__(
        self,
        config: ClientConfig | ServerConfig,
        *,
        trace: bool = False,
        random_bytes: Callable[[int], bytes] = os.urandom,
        encrypt_secret_fn: EncryptSecret = encrypt_secret,
        decrypt_secret_fn: DecryptSecret = decrypt_secret,
    ) -> None:
        self.config = config
        self.role = Role.CLIENT if isinstance(config, ClientConfig) else Role.SERVER
        self.state = initial_state(self.role)
        self.trace = trace
        self._random = random_bytes
        self._encrypt_secret = encrypt_secret_fn
        self._decrypt_secret = decrypt_secret_fn
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
    def we_closed(self) -> bool:
        """True once this side sent close_notify or a fatal alert: nothing more is sent."""
        return self.state is State.SENT_CLOSE_NOTIFY or self.state is State.CLOSED

    @property
    def peer_closed(self) -> bool:
        """True once the peer's close_notify arrived after the handshake (§5)."""
        state = self.state
        return state is State.RECEIVED_CLOSE_NOTIFY or (
            # CLOSED with no error after the handshake means close_notify both ways
            state is State.CLOSED and self._error is None and self.session is not None
        )

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

    def pieces_to_send(self) -> list[bytes]:
        """:meth:`data_to_send`, not joined: the queued pieces in order (maybe none).

        For a caller that writes several buffers at once (``writev``): a
        record's header and its ciphertext are then never copied together.
        """
        out = self._out
        if not out:
            return []
        self._out = []
        return out

    # --------------------------------------------------------------- sending

    def initiate(self) -> list[ev.Event]:
        """Client: queue the ClientHello.

        Raises:
            RuntimeError: Not a client, or called twice.
        """
        row = transition(self.role, self.state, Signal.INITIATE)
        if row is None:
            raise RuntimeError("initiate() starts a client connection, once")
        events: list[ev.Event] = []
        self._send_client_hello(events)
        self.state = row.next
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
        if self.state not in SENDS_DATA:
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
            sealer = self._sealer
            for start in range(0, len(view), MAX_PLAINTEXT):
                piece = view[start : start + MAX_PLAINTEXT]
                if sealer is not None and not self.trace:  # as above, record by record
                    sealer.seal_into(self._out, ContentType.APPLICATION_DATA, piece)
                else:
                    self._send_record(ContentType.APPLICATION_DATA, piece, events)
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
        row = transition(self.role, self.state, Signal.CLOSE_NOTIFY_SENT)
        if row is not None:
            self._close(row, events)
        return events

    def _close(self, row: Transition, events: list[ev.Event]) -> None:
        """Send close_notify and take the table's row for it."""
        exhausted = self._send_alert(AlertLevel.WARNING, AlertDescription.CLOSE_NOTIFY, events)
        if exhausted is not None:
            self._fail(exhausted, events)
        else:
            self.state = row.next

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
        if self.state in READS_NOTHING:
            return events  # §5: whatever follows close_notify is ignored
        try:
            if not data:
                self._receive_eof()
            else:
                if not self.trace and self.state in RECEIVES_DATA and not self._reader.buffered:
                    used = self._open_whole_records(data, events)
                    if used == len(data):
                        return events
                    data = data[used:]
                self._reader.feed(data)
                self._read_records(events)
        except ToyTLSError as error:
            self._fail(error, events)
        return events

    def _receive_eof(self) -> None:
        if self.state in RECEIVES_DATA:
            raise ToyTLSError(
                "the connection was cut without close_notify (truncation): "
                "the data may be incomplete",
                alert=None,
                key="connection.truncated",
            )
        raise ToyTLSError(
            f"the peer closed the connection during the handshake ({self.state.value})",
            alert=None,
            key="connection.closed_in_handshake",
            params={"state": self.state.value},
        )

    def _handle_alert(self, payload: bytes, events: list[ev.Event]) -> None:
        if len(payload) != PLAIN_ALERT_SIZE:
            raise DecodeError(
                f"an alert is 2 bytes, this one is {len(payload)}",
                key="alert.size",
                params={"n": len(payload)},
            )
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
                key="alert.received",
                params={"alert": alert_name(code), "level": level},
            )
        row = transition(self.role, self.state, Signal.CLOSE_NOTIFY_RECEIVED)
        assert row is not None  # ACCEPTED_CONTENT let the alert in
        if row.reply:
            # close_notify during the handshake aborts it: answer and close.
            self._send_alert(AlertLevel.WARNING, AlertDescription.CLOSE_NOTIFY, events)
            raise ToyTLSError(
                "the peer aborted the handshake with close_notify",
                alert=AlertDescription.CLOSE_NOTIFY,
                from_peer=True,
                key="handshake.aborted",
            )
        events.append(ev.CloseNotifyReceived())
        self.state = row.next

    def _fail(self, error: ToyTLSError, events: list[ev.Event]) -> None:
        if error.alert is not None and not error.from_peer and not self.we_closed:
            self._send_alert(AlertLevel.FATAL, AlertDescription(error.alert), events)
        row = transition(self.role, self.state, Signal.FAILURE)
        assert row is not None  # receive_data and the senders stop once CLOSED
        self.state = row.next
        self._error = error
        events.append(ev.ConnectionFailed(error=error))
