"""The half of :class:`~toytls.streams.stream.ToyTLSStream` that faces the
transport: ordered sends, reads fed to the connection, events reported, and
the one way every failure goes.

Theory of operation
-------------------
Everything the connection queues is sent by one task at a time
(``_take_transport`` / ``_give_transport``, a FIFO that costs nothing when
free), so records leave in the order they were sealed even when a receiving
task must answer (the handshake flight, an alert) while a sending task is
busy.

Failure has one shape, whatever its source. A protocol error from the
connection, a transport that breaks or closes, or *any other exception* from
the transport (a ``KeyError`` from a test hook, a raw ``OSError``) makes the
stream BROKEN, as ``trio.SSLStream`` does: from then on every call raises
:class:`trio.BrokenResourceError` whose ``__cause__`` is the
:class:`~toytls.core.errors.ToyTLSError` (itself caused by the transport's
exception, if there was one). The call that met a foreign exception re-raises
it unchanged. Data decrypted before a failure is not lost: ``receive_some``
returns it first and raises on the next call.

Events reach the event handler in order, but a batch that says something was
sent (a handshake message, a record, an alert) is held until its bytes have
been handed to the transport; if that send fails, the "sent" events of the
batch are dropped and the rest reported, so a log never claims a record left
that did not.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import NoReturn

import trio

from ..core import events as ev
from ..core.connection import Connection
from ..core.constants import MAX_CIPHERTEXT, RECORD_HEADER_SIZE
from ..core.errors import ToyTLSError
from ..core.state import State
from .context import Context
from .direct import ReadFirst, can_go_direct, receive_direct, send_direct, write_now
from .keyexchange import receive_handshake

#: How much to ask the transport for at once: four whole records of the
#: largest size. A peer that writes 64 KiB at a time sends four such records;
#: reading 65536 bytes would cut the fourth, and every read would then have
#: to join its start to the next one (a 64 KiB copy per read).
RECEIVE_SIZE = 4 * (RECORD_HEADER_SIZE + MAX_CIPHERTEXT)
#: Chunks at least this long are written as pieces with one writev (a
#: record's header and ciphertext never joined); smaller ones are joined,
#: which costs less than writev's own overhead.
_WRITEV_FROM = 4096
#: A side that fails or closes sends its alert best-effort for at most this
#: long, so a peer that stops reading cannot hold the connection open.
ALERT_SEND_TIMEOUT = 1.0

EventHandler = Callable[[ev.Event], object]

#: Events that say something went out on the wire.
_SENT_EVENTS = (ev.HandshakeMessageSent, ev.RecordSent, ev.AlertSent)


class StreamState(enum.Enum):
    """OK, BROKEN or CLOSED, as in ``trio.SSLStream``."""

    OK = "ok"
    BROKEN = "broken"
    CLOSED = "closed"


def transport_error(exc: BaseException) -> ToyTLSError:
    """The stream's error for a transport that failed with ``exc``."""
    detail = str(exc) or type(exc).__name__
    error = ToyTLSError(
        f"the transport failed: {detail}",
        alert=None,
        key="stream.transport_failed",
        params={"detail": detail, "errno": _errno_of(exc)},
    )
    error.__cause__ = exc
    return error


def local_error(message: str, key: str, **params: object) -> ToyTLSError:
    """A failure of this side's stream that no alert reports (a timeout, a cancel)."""
    return ToyTLSError(message, alert=None, key=key, params=params)


def _errno_of(exc: BaseException) -> int | None:
    """The OS error number behind ``exc`` (its causes followed), if any."""
    seen: BaseException | None = exc
    for _ in range(8):  # a short chain; never a cycle
        if seen is None:
            return None
        if isinstance(seen, OSError) and seen.errno is not None:
            return seen.errno
        seen = seen.__cause__ or seen.__context__
    return None


class StreamEngine:
    """Drives one :class:`Connection` over one transport stream.

    Args:
        transport_stream: The stream that carries the records.
        conn: The sans-I/O connection.
        context: Its context (the server's key-exchange load lives there).
        server_side: Whether this is the server end.
        event_handler: Called with every event, in order; see the module.
    """

    def __init__(
        self,
        transport_stream: trio.abc.Stream,
        conn: Connection,
        context: Context,
        *,
        server_side: bool,
        event_handler: EventHandler | None,
    ) -> None:
        #: the stream that carries the records
        self.transport_stream = transport_stream
        self._conn = conn
        self._context = context
        self._server_side = server_side
        self._event_handler = event_handler
        self._state = StreamState.OK
        self._error: ToyTLSError | None = None
        #: decrypted data not yet returned: chunks, oldest first (a list, not
        #: a deque: it rarely holds more than a few, and a deque costs 600 B)
        self._incoming: list[bytes] = []
        self._eof_received = False
        #: the failure came from the transport's end of stream (https mode)
        self._ended_by_eof = False
        #: events waiting for the bytes they describe to be sent
        self._unreported: list[ev.Event] = []
        # The transport's send side: one task at a time, first come first
        # served. A flag plus a parking lot rather than a trio.Lock, because
        # taking it uncontended must cost nothing on the data path.
        self._transport_busy = False
        self._send_waiters = trio.lowlevel.ParkingLot()
        self._send_waiting = 0  # tasks parked there (cheaper than bool(lot))
        #: the transport again if it is a trio.SocketStream whose socket the
        #: data path may use itself (see :mod:`.direct`), else None
        self._direct: trio.SocketStream | None = (
            transport_stream if can_go_direct(transport_stream) else None
        )
        #: how the next direct read starts: WAIT after a flight that went out
        #: with no schedule point (the peer cannot have answered yet), READ
        #: after a read that filled its buffer (more is probably waiting),
        #: else YIELD (see :func:`.direct.receive_direct`)
        self._read_first = ReadFirst.YIELD

    def _check_status(self) -> None:
        if self._state is StreamState.CLOSED:
            raise trio.ClosedResourceError("this toytls stream was closed")
        if self._state is StreamState.BROKEN:
            raise trio.BrokenResourceError("this toytls stream is broken") from self._error

    # ----------------------------------------------------------------- events

    def _emit(self, events: list[ev.Event]) -> ToyTLSError | None:
        """Take in the connection's events; return the failure among them."""
        if len(events) == 1 and self._event_handler is None:
            (event,) = events  # the data path's usual batch: one record's data
            if type(event) is ev.ApplicationData:
                self._incoming.append(event.data)
                return None
        failure = None
        for event in events:
            if isinstance(event, ev.ApplicationData):
                self._incoming.append(event.data)
            elif isinstance(event, ev.CloseNotifyReceived):
                self._eof_received = True
            elif isinstance(event, ev.ConnectionFailed):
                failure = event.error
        if self._event_handler is not None and events:
            unreported = self._unreported
            unreported.extend(events)
            if not any(isinstance(event, _SENT_EVENTS) for event in unreported):
                self._report(delivered=True)
        return failure

    def _report(self, *, delivered: bool) -> None:
        """Hand the held events to the handler; drop "sent" ones if not ``delivered``."""
        handler = self._event_handler
        events, self._unreported = self._unreported, []
        if handler is None:
            return
        for event in events:
            if delivered or not isinstance(event, _SENT_EVENTS):
                handler(event)

    # ---------------------------------------------------------------- sending

    async def _take_transport(self) -> None:
        """Wait for the transport's send side (no checkpoint if it is free)."""
        if self._transport_busy or self._send_waiting:
            self._send_waiting += 1
            try:
                await self._send_waiters.park()  # the releaser hands it over
            finally:
                self._send_waiting -= 1
        else:
            self._transport_busy = True

    def _give_transport(self) -> None:
        # Hand over to the next waiter if there is one (still busy: now its
        # turn). The count can include a waiter that was just cancelled and
        # is no longer in the lot, so free the transport if nobody woke.
        if not (self._send_waiting and self._send_waiters.unpark()):
            self._transport_busy = False

    async def _send_chunk(
        self, chunk: bytes | bytearray | memoryview, *, checked: bool = False
    ) -> None:
        """Seal ``chunk`` (at most a few records) and send it, in order.

        ``checked``: the caller checked for cancellation with no await since,
        so the send need not check again.
        """
        if self._state is not StreamState.OK:
            self._check_status()
        conn = self._conn
        try:
            events = conn.send_application_data(chunk)
        except ToyTLSError as error:
            await self._fail(error)
        if events or self._transport_busy or self._send_waiting:
            if events:
                self._emit(events)
            await self._flush()
            return
        # _flush and _send inlined for the usual case (nothing to report, the
        # transport free): each coroutine level costs on every call.
        self._transport_busy = True
        try:
            if self._direct is None:
                await self.transport_stream.send_all(conn.data_to_send())
            elif len(chunk) < _WRITEV_FROM:
                await send_direct(self._direct, conn.data_to_send(), checked=checked)
            else:  # header and ciphertext in one writev: no 16 KiB join
                await send_direct(self._direct, conn.pieces_to_send(), checked=checked)
        except BaseException as exc:
            await self._send_failed(exc)
        finally:
            self._give_transport()

    async def _flush(self, *, schedule: bool = True) -> None:
        """Send what the connection queued, in order; a checkpoint if it sends.

        ``schedule=False``: a cancellation point but no schedule point when
        the socket takes the bytes at once, for a caller that reads next.
        """
        if self._transport_busy or self._send_waiting:
            await self._take_transport()
        else:
            # Uncontended (the usual case): no trip through the scheduler;
            # the send below is the checkpoint.
            self._transport_busy = True
        try:
            data = self._conn.data_to_send()
            if data:
                await self._send(data, schedule)
            if self._unreported:
                self._report(delivered=True)
        finally:
            self._give_transport()

    async def _send(self, data: bytes, schedule: bool = True) -> None:
        try:
            if self._direct is not None:
                await send_direct(self._direct, data, schedule=schedule)
                # No schedule point: in this process nobody has run since;
                # over a network an answer takes a round trip.
                if not schedule:
                    self._read_first = ReadFirst.WAIT
                elif self._read_first is ReadFirst.WAIT:
                    self._read_first = ReadFirst.YIELD  # others ran: the answer may be in
            else:
                await self.transport_stream.send_all(data)
        except BaseException as exc:
            await self._send_failed(exc)

    async def _send_failed(self, exc: BaseException) -> NoReturn:
        """What a failed transport send means; always raises.

        A separate step so the send itself can be inlined on the data path.
        """
        if isinstance(exc, trio.Cancelled):
            # Part of a record may be on the wire: the stream can't go on,
            # because the peer's sequence numbers now differ.
            self._break(local_error("a send was cancelled mid-record", "stream.cut_mid_record"))
            self._report(delivered=False)
            raise exc
        self._break(transport_error(exc))
        self._report(delivered=False)
        if isinstance(exc, trio.BrokenResourceError | trio.ClosedResourceError):
            await self._fail(transport_error(exc))
        # Some unknown part of the data went out: the stream is doomed, and
        # the caller sees what the transport raised.
        raise exc

    # -------------------------------------------------------------- receiving

    async def _receive_and_process(self) -> None:
        """Read once from the transport and feed the connection."""
        conn = self._conn
        try:
            data: bytes | bytearray
            if self._direct is not None:
                data = await receive_direct(self._direct, RECEIVE_SIZE, self._read_first)
                full = len(data) == RECEIVE_SIZE
                self._read_first = ReadFirst.READ if full else ReadFirst.YIELD
            else:
                data = await self.transport_stream.receive_some(RECEIVE_SIZE)
        except trio.Cancelled:
            raise  # nothing was read, nothing lost: the stream stays usable
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            await self._fail(transport_error(exc))
        except BaseException as exc:
            self._break(transport_error(exc))
            raise
        try:
            if self._server_side and conn.session is None:
                # Any of these bytes may hold a ClientKeyExchange (a client
                # may send its whole flight at once): the RSA work.
                events = await receive_handshake(conn, self._context.key_exchange_load, bytes(data))
            else:
                events = conn.receive_data(bytes(data))
        except ToyTLSError as error:  # the connection had already failed
            await self._fail(error)
        failure = self._emit(events)
        if failure is not None:
            self._ended_by_eof = not data
            if self._incoming:
                # Data that decrypted before the failure is returned first.
                await self._shut_down_after(failure)
                return
            await self._fail(failure)
        if conn.state is State.CLOSED:
            await self._close_transport_if_done()

    async def _close_transport_if_done(self) -> None:
        # §5: a side that has both sent and received close_notify closes the
        # connection. The stream itself stays usable: receive_some keeps
        # returning b"" and aclose() still works.
        if self._conn.closed and self._conn.error is None:
            await self.transport_stream.aclose()

    # ---------------------------------------------------------------- failing

    def _break(self, error: ToyTLSError) -> None:
        if self._state is StreamState.OK:
            self._state = StreamState.BROKEN
            self._error = error

    async def _shut_down_after(self, error: ToyTLSError) -> None:
        """Become BROKEN: send the queued alert best-effort, close the transport."""
        self._break(error)
        data = self._conn.data_to_send()
        delivered = not data
        if data and not self._transport_busy:
            with trio.move_on_after(ALERT_SEND_TIMEOUT):
                try:
                    await self.transport_stream.send_all(data)
                    delivered = True
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    pass
        self._report(delivered=delivered)
        await trio.aclose_forcefully(self.transport_stream)

    async def _fail(self, error: ToyTLSError) -> NoReturn:
        """:meth:`_shut_down_after`, then raise BrokenResourceError."""
        if self._state is StreamState.CLOSED:
            raise trio.ClosedResourceError("this toytls stream was closed") from error
        await self._shut_down_after(error)
        raise trio.BrokenResourceError(str(self._error)) from self._error

    async def _send_close_notify_on_close(self) -> None:
        """aclose()'s close_notify: sent once, bounded, reported only if it left."""
        conn = self._conn
        if conn.we_closed or self._transport_busy:
            # Already sent (send_eof), or another task is sending: like
            # SSLStream, the close is then not a clean one.
            await trio.lowlevel.checkpoint()
            return
        self._emit(conn.send_close_notify())
        delivered = False
        try:
            data = conn.data_to_send()
            if self._direct is not None:
                # Almost always the socket takes the alert at once: then no
                # timeout scope is needed, and closing the transport next is
                # the schedule point.
                await trio.lowlevel.checkpoint_if_cancelled()
                data = data[write_now(self._direct, data) :]
                delivered = not data
            if data:
                # Bounded: a peer that does not read cannot hold us here.
                with trio.move_on_after(ALERT_SEND_TIMEOUT):
                    await self.transport_stream.send_all(data)
                    delivered = True
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass  # the peer may have closed first: allowed (see trio)
        finally:
            self._report(delivered=delivered)
