"""The receiving half of the record layer: records in, checked, to their handler.

:class:`RecordReading` is mixed into :class:`~toytls.core.connection.Connection`
(as :class:`~toytls.core.handshake.HandshakeSteps` is). It takes each record
the :class:`~toytls.core.records.RecordReader` returns through the checks of
§3.4 and the state table, in the spec's order, and hands alerts and
handshake messages to the connection's handlers.

Application data after the handshake is most of all traffic, and it has a
data path of its own for when nobody traces: whole records are decrypted
straight from the received bytes, with the same checks in the same order,
and only what is left (another type, a record still arriving) takes the
general way.
"""

from __future__ import annotations

from . import events as ev
from .constants import (
    MAX_CIPHERTEXT,
    MAX_EMPTY_RECORDS,
    MAX_PLAINTEXT,
    RECORD_HEADER_SIZE,
    ContentType,
)
from .errors import DecodeError
from .handshake import unexpected
from .protection import RecordOpener
from .records import RawRecord, RecordReader, check_header
from .state import ACCEPTED_CONTENT, READS_NOTHING, RECEIVES_DATA, State

#: §3.4: the size of the one alert that may arrive unprotected after the keys.
PLAIN_ALERT_SIZE = 2


class RecordReading:
    """Reading records; mixed into the connection, which sets these attributes up."""

    state: State
    trace: bool
    _reader: RecordReader
    _opener: RecordOpener | None
    _empty_records: int

    def _handle_alert(self, payload: bytes, events: list[ev.Event]) -> None:
        """The connection's."""
        raise NotImplementedError

    def _handle_handshake(self, payload: bytes, events: list[ev.Event]) -> None:
        """The handshake steps'."""
        raise NotImplementedError

    def _read_records(self, events: list[ev.Event]) -> None:
        reader = self._reader
        while self.state not in READS_NOTHING:
            opener = self._opener
            found = reader.next_record_view(MAX_PLAINTEXT if opener is None else MAX_CIPHERTEXT)
            if found is None:
                return
            content_type, header, fragment = found
            if (
                content_type is ContentType.APPLICATION_DATA
                and self.state in RECEIVES_DATA
                and opener is not None
                and not self.trace
            ):
                # The bulk of all traffic: the same checks as _handle_record
                # (decrypt, then type, then content) without its generality,
                # decrypting straight from the received bytes.
                data = opener.open_data(header, fragment)
                if data:
                    self._empty_records = 0
                    events.append(ev.ApplicationData(data=data))
                else:
                    self._count_empty_record()
            else:
                self._handle_record(RawRecord(content_type, header, bytes(fragment)), events)

    def _open_whole_records(self, data: bytes, events: list[ev.Event]) -> int:
        """The data path: open the whole application_data records that ``data`` starts with.

        The same checks as the reader and :meth:`_handle_record`, in the same
        order, straight from the received bytes. Returns how many bytes it
        used; the rest (another type, a partial record) takes the general path.
        """
        opener = self._opener
        assert opener is not None  # RECEIVES_DATA
        pos, end = 0, len(data)
        view = memoryview(data)  # one view per read, sliced per record
        while end - pos >= RECORD_HEADER_SIZE and data[pos] == ContentType.APPLICATION_DATA:
            header = data[pos : pos + RECORD_HEADER_SIZE]
            length = (header[3] << 8) | header[4]
            if header[1] != 1 or header[2] != 0 or length > MAX_CIPHERTEXT:
                check_header(header, MAX_CIPHERTEXT)  # raises the check that fails
            start = pos + RECORD_HEADER_SIZE
            if end - start < length:
                break
            pos = start + length
            # A big record is decrypted from a view: no 16 KiB copy first.
            plaintext = opener.open_data(
                header, data[start:pos] if length < 1024 else view[start:pos]
            )
            if plaintext:
                self._empty_records = 0
                events.append(ev.ApplicationData(data=plaintext))
            else:
                self._count_empty_record()
        return pos

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
            raise unexpected(
                f"{content_type.name.lower()} record not allowed in state '{self.state.value}'",
                "record.unexpected",
                type=content_type.name.lower(),
                state=self.state.value,
            )
        if plaintext:
            self._empty_records = 0
        if content_type is ContentType.APPLICATION_DATA:
            self._handle_application_data(plaintext, events)
        elif not plaintext:
            raise DecodeError(
                f"empty {content_type.name.lower()} record",
                key="record.empty",
                params={"type": content_type.name.lower()},
            )
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
            and len(record.fragment) == PLAIN_ALERT_SIZE
        )

    def _handle_application_data(self, data: bytes, events: list[ev.Event]) -> None:
        if data:
            events.append(ev.ApplicationData(data=data))
        else:
            self._count_empty_record()

    def _count_empty_record(self) -> None:
        self._empty_records += 1
        if self._empty_records > MAX_EMPTY_RECORDS:
            raise unexpected(
                f"more than {MAX_EMPTY_RECORDS} empty records in a row",
                "record.too_many_empty",
                limit=MAX_EMPTY_RECORDS,
            )
