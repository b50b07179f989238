"""The trio adapter: :class:`ToyTLSStream`, a drop-in for :class:`trio.SSLStream`.

Theory of operation
-------------------
The stream owns one sans-I/O :class:`~toytls.core.connection.Connection` and one
transport stream. Everything the connection queues is sent by one task at a
time (``_take_transport`` / ``_give_transport``, a FIFO that costs nothing
when free), so records leave in the order they were sealed even when a
receiving task must answer (the handshake flight, an alert) while a sending
task is busy. The handshake runs under ``_handshake_lock``:
whichever of :meth:`do_handshake`, :meth:`send_all` or :meth:`receive_some`
comes first drives it; the others wait for it.

State is OK, BROKEN or CLOSED, as in ``trio.SSLStream``. Any protocol or
transport failure makes the stream BROKEN: the alert (if any) is sent with a
short time limit, the transport is closed, and this and every later call
raise :class:`trio.BrokenResourceError` whose ``__cause__`` is the
:class:`~toytls.core.errors.ToyTLSError`. After :meth:`aclose` every call raises
:class:`trio.ClosedResourceError`.

Cancellation: cancelling :meth:`receive_some` is always safe. Cancelling
:meth:`send_all` before it starts sending is safe; once records are partly
written the stream cannot know what the peer got, so it becomes BROKEN —
the same rule as ``trio.SSLStream``. :meth:`aclose` always closes the
transport, even when cancelled.
"""

from __future__ import annotations

import enum
import math
import warnings
from collections.abc import Callable
from typing import NoReturn

import trio

from ..core import events as ev
from ..core.config import ClientConfig, ServerConfig
from ..core.connection import Connection
from ..core.errors import ToyTLSError
from ..core.state import State
from .conflict import Conflict
from .context import Context
from .incoming import check_max_bytes, take
from .keyexchange import receive_handshake

#: How much to ask the transport for at once.
_RECEIVE_SIZE = 65536
#: How much application data to seal before handing it to the transport.
_SEND_CHUNK = 4 * 16384
#: A failing side sends its alert best-effort for at most this long, so a
#: peer that stops reading cannot hold the connection open.
_ALERT_SEND_TIMEOUT = 1.0

EventHandler = Callable[[ev.Event], object]


class ToyTLSInsecureWarning(UserWarning):
    """A client connected without checking the server's certificate."""


class NeedHandshakeError(Exception):
    """Session details were asked for before the handshake completed."""


class _State(enum.Enum):
    OK = "ok"
    BROKEN = "broken"
    CLOSED = "closed"


class ToyTLSStream(trio.abc.HalfCloseableStream):
    """A toytls/1 connection over any trio stream; mirrors ``trio.SSLStream``.

    Args:
        transport_stream: The stream to speak toytls/1 over (usually TCP).
        context: A client or server :class:`~toytls.Context`.
        server_hostname: Client only: the name to ask for and verify.
        server_side: True for the server end; must match the context.
        event_handler: Called with every :mod:`toytls.core.events` event, in
            order, for narration and tools. Exceptions it raises propagate.

    Raises:
        ValueError: A client without ``server_hostname``, an invalid name,
            or a context for the other side.
    """

    def __init__(
        self,
        transport_stream: trio.abc.Stream,
        context: Context,
        *,
        server_hostname: str | None = None,
        server_side: bool = False,
        event_handler: EventHandler | None = None,
    ) -> None:
        if server_side != context.server_side:
            side = "server" if context.server_side else "client"
            raise ValueError(f"a {side} context cannot make a server_side={server_side} stream")
        config: ClientConfig | ServerConfig
        if server_side:
            config = context.server_config()
        elif server_hostname is None:
            raise ValueError("a client stream needs server_hostname")
        else:
            config = context.client_config(server_hostname)
        #: the stream that carries the records
        self.transport_stream = transport_stream
        self.context = context
        self.server_side = server_side
        self.server_hostname = server_hostname
        # Someone listening to events wants the whole story, trace included.
        self._conn = Connection(config, trace=context.trace or event_handler is not None)
        self._event_handler = event_handler
        self._state = _State.OK
        self._error: ToyTLSError | None = None
        #: decrypted data not yet returned: chunks, oldest first (a list, not
        #: a deque: it rarely holds more than a few, and a deque costs 600 B)
        self._incoming: list[bytes] = []
        self._eof_received = False
        self._eof_sent = False
        self._handshake_lock = trio.Lock()
        # The transport's send side: one task at a time, first come first
        # served. A flag plus a parking lot rather than a trio.Lock, because
        # taking it uncontended must cost nothing on the data path.
        self._transport_busy = False
        self._send_waiters = trio.lowlevel.ParkingLot()
        self._send_waiting = 0  # tasks parked there (cheaper than bool(lot))
        self._send_conflict = Conflict("another task is sending on this stream")
        self._receive_conflict = Conflict("another task is receiving on this stream")
        self._deadline: float | None = None
        if server_side:
            try:
                self._deadline = trio.current_time() + context.handshake_timeout
            except RuntimeError:  # made outside trio: count from the handshake
                pass

    # ------------------------------------------------------------ description

    @property
    def session(self) -> ev.SessionInfo:
        """The established session: server name, chain, fingerprints, cipher.

        Raises:
            NeedHandshakeError: The handshake has not completed.
        """
        if self._conn.session is None:
            raise NeedHandshakeError("the handshake has not completed")
        return self._conn.session

    @property
    def records_protected(self) -> tuple[int, int]:
        """``(sent, received)``: records encrypted and decrypted so far.

        The handshake's Finished messages count, as do alerts sent under
        the keys. Both are 0 before the keys are in use.
        """
        return self._conn.records_protected

    def cipher(self) -> tuple[str, str, int]:
        """``(cipher, protocol, secret bits)``, like :meth:`ssl.SSLSocket.cipher`."""
        return (self.session.cipher, self.session.protocol, 128)

    def version(self) -> str:
        """The protocol name, like :meth:`ssl.SSLSocket.version`."""
        return self.session.protocol

    # -------------------------------------------------------------- internals

    def _check_status(self) -> None:
        if self._state is _State.CLOSED:
            raise trio.ClosedResourceError("this toytls stream was closed")
        if self._state is _State.BROKEN:
            raise trio.BrokenResourceError("this toytls stream is broken") from self._error

    def _emit(self, events: list[ev.Event]) -> ToyTLSError | None:
        failure = None
        for event in events:
            if isinstance(event, ev.ApplicationData):
                self._incoming.append(event.data)
            elif isinstance(event, ev.CloseNotifyReceived):
                self._eof_received = True
            elif isinstance(event, ev.ConnectionFailed):
                failure = event.error
            if self._event_handler is not None:
                self._event_handler(event)
        return failure

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

    async def _flush(self) -> None:
        """Send what the connection queued, in order; a checkpoint if it sends."""
        if self._transport_busy or self._send_waiting:
            await self._take_transport()
        else:
            # Uncontended (the usual case): no trip through the scheduler;
            # the send below is the checkpoint.
            self._transport_busy = True
        try:
            data = self._conn.data_to_send()
            if data:
                try:
                    await self.transport_stream.send_all(data)
                except trio.Cancelled:
                    # Part of a record may be on the wire: the stream can't
                    # go on, because the peer's sequence numbers now differ.
                    self._break(ToyTLSError("a send was cancelled mid-record", alert=None))
                    raise
                except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                    await self._transport_failed(exc)
        finally:
            self._give_transport()

    async def _transport_failed(self, exc: BaseException) -> NoReturn:
        if self._state is _State.CLOSED:
            raise trio.ClosedResourceError("this toytls stream was closed") from None
        error = ToyTLSError(f"the transport failed: {exc or type(exc).__name__}", alert=None)
        error.__cause__ = exc
        await self._fail(error)

    def _break(self, error: ToyTLSError) -> None:
        if self._state is _State.OK:
            self._state = _State.BROKEN
            self._error = error

    async def _fail(self, error: ToyTLSError) -> NoReturn:
        """Send the queued alert best-effort, close the transport, raise."""
        if self._state is _State.CLOSED:
            raise trio.ClosedResourceError("this toytls stream was closed") from error
        self._break(error)
        data = self._conn.data_to_send()
        if data and not self._transport_busy:
            with trio.move_on_after(_ALERT_SEND_TIMEOUT):
                try:
                    await self.transport_stream.send_all(data)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    pass
        await trio.aclose_forcefully(self.transport_stream)
        raise trio.BrokenResourceError(str(self._error)) from self._error

    async def _receive_and_process(self) -> None:
        """Read once from the transport and feed the connection."""
        try:
            data = await self.transport_stream.receive_some(_RECEIVE_SIZE)
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            await self._transport_failed(exc)
        try:
            if self.server_side and self._conn.session is None:
                # Any of these bytes may hold a ClientKeyExchange (a client
                # may send its whole flight at once): the RSA work.
                events = await receive_handshake(
                    self._conn, self.context.key_exchange_load, bytes(data)
                )
            else:
                events = self._conn.receive_data(bytes(data))
        except ToyTLSError as error:  # the connection had already failed
            await self._fail(error)
        failure = self._emit(events)
        if failure is not None:
            await self._fail(failure)
        if self._conn.state is State.CLOSED:
            await self._close_transport_if_done()

    async def _close_transport_if_done(self) -> None:
        # §5: a side that has both sent and received close_notify closes the
        # connection. The stream itself stays usable: receive_some keeps
        # returning b"" and aclose() still works.
        if self._conn.closed and self._conn.error is None:
            await self.transport_stream.aclose()

    # ------------------------------------------------------------- handshake

    async def do_handshake(self) -> None:
        """Run the handshake if it has not run; wait for it if it is running.

        Safe to call many times and from several tasks. :meth:`send_all` and
        :meth:`receive_some` call it for you.

        Raises:
            trio.BrokenResourceError: The handshake failed; ``__cause__`` is
                a :class:`~toytls.ToyTLSError` (a
                :class:`~toytls.CertificateVerifyError` if the client refused
                the server's certificate).
            trio.ClosedResourceError: The stream was closed.
        """
        self._check_status()
        if self._conn.handshake_complete:
            await trio.lowlevel.checkpoint()
            return
        async with self._handshake_lock:
            self._check_status()
            if self._conn.handshake_complete:
                return
            if self._deadline is None and self.server_side:
                self._deadline = trio.current_time() + self.context.handshake_timeout
            deadline = math.inf if self._deadline is None else self._deadline
            with trio.CancelScope(deadline=deadline) as scope:
                await self._drive_handshake()
            if scope.cancelled_caught:
                # §6: dropped without an alert, whatever else was going on.
                self._state = _State.BROKEN
                self._error = ToyTLSError(
                    f"no handshake within {self.context.handshake_timeout:g} s",
                    alert=None,
                )
                await trio.aclose_forcefully(self.transport_stream)
                raise trio.BrokenResourceError(str(self._error)) from self._error

    async def _drive_handshake(self) -> None:
        conn = self._conn
        if not self.server_side and conn.state is State.START:
            if not self.context.verify:
                warnings.warn(
                    f"toytls: NOT verifying the certificate of {self.server_hostname!r}; "
                    "anyone on the network path can read and change this connection",
                    ToyTLSInsecureWarning,
                    stacklevel=4,
                )
            self._emit(conn.initiate())
        while True:
            # Flush in a separate step so the server's Finished is sent
            # before the handshake counts as done (§6's deadline includes it).
            await self._flush()
            if conn.handshake_complete:
                return
            await self._receive_and_process()

    # ----------------------------------------------------------- stream API

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        """Protect and send ``data``, handshaking first if needed.

        Raises:
            trio.BusyResourceError: Another task is sending.
            trio.BrokenResourceError: The connection failed.
            trio.ClosedResourceError: The stream was closed, or
                :meth:`send_eof` was called.
        """
        # The conflict check, inlined: this is the hot path (see _Conflict).
        conflict = self._send_conflict
        if conflict.held:
            raise trio.BusyResourceError(conflict.msg)
        conflict.held = True
        try:
            if self._state is not _State.OK:
                self._check_status()
            if self._eof_sent:
                raise trio.ClosedResourceError("send_eof() was called: sending is over")
            checkpointed = False
            if self._conn.session is None:
                await self.do_handshake()
                checkpointed = True
            if not data:
                if not checkpointed:
                    await trio.lowlevel.checkpoint()
                return
            await trio.lowlevel.checkpoint_if_cancelled()
            try:
                if len(data) <= _SEND_CHUNK:  # the usual case: one step
                    await self._send_chunk(data)
                    return
                # Seal and send a few records at a time: memory stays bounded
                # and the first bytes leave while the rest are encrypted.
                view = memoryview(data).cast("B")
                for start in range(0, len(view), _SEND_CHUNK):
                    # No copy: the chunk is encrypted before the next await.
                    await self._send_chunk(view[start : start + _SEND_CHUNK])
            except trio.Cancelled:
                # Some records may be sealed or sent and others not: like
                # trio.SSLStream, a send_all cancelled part-way breaks the stream.
                self._break(ToyTLSError("send_all was cancelled part-way", alert=None))
                raise
        finally:
            conflict.held = False

    async def _send_chunk(self, chunk: bytes | bytearray | memoryview) -> None:
        if self._state is not _State.OK:
            self._check_status()
        try:
            events = self._conn.send_application_data(chunk)
        except ToyTLSError as error:
            await self._fail(error)
        if events:
            self._emit(events)
        await self._flush()

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        """Return the next decrypted bytes; ``b""`` after the peer's close_notify.

        Args:
            max_bytes: Return at most this many bytes; None returns all that
                are buffered (at least one byte).

        Raises:
            trio.BusyResourceError: Another task is receiving.
            trio.BrokenResourceError: The connection failed — including a
                transport that ended without close_notify (truncation).
            trio.ClosedResourceError: The stream was closed.
        """
        conflict = self._receive_conflict  # inlined, as in send_all
        if conflict.held:
            raise trio.BusyResourceError(conflict.msg)
        conflict.held = True
        try:
            if max_bytes is not None and (type(max_bytes) is not int or max_bytes < 1):
                max_bytes = check_max_bytes(max_bytes)  # converts, or raises
            if self._state is not _State.OK:
                self._check_status()
            checkpointed = False
            if self._conn.session is None:
                await self.do_handshake()
                checkpointed = True
            while True:
                if self._incoming or self._eof_received:
                    if not checkpointed:
                        await trio.lowlevel.checkpoint()
                    return take(self._incoming, max_bytes) if self._incoming else b""
                await self._receive_and_process()  # reading is a checkpoint
                checkpointed = True
        finally:
            conflict.held = False

    async def wait_send_all_might_not_block(self) -> None:
        """Wait until :meth:`send_all` would probably not block (see trio)."""
        with self._send_conflict:
            self._check_status()
            if self._eof_sent:
                raise trio.ClosedResourceError("send_eof() was called: sending is over")
            await self._take_transport()
            try:
                await self.transport_stream.wait_send_all_might_not_block()
            except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                await self._transport_failed(exc)
            finally:
                self._give_transport()

    async def send_eof(self) -> None:
        """Send close_notify: this side has finished sending (§5).

        The receive side stays open, so the peer can still answer — unlike
        ``trio.SSLStream``. Calling it again does nothing.

        Raises:
            trio.BusyResourceError: Another task is sending.
            trio.BrokenResourceError: The connection failed.
            trio.ClosedResourceError: The stream was closed.
        """
        with self._send_conflict:
            self._check_status()
            if self._eof_sent:
                await trio.lowlevel.checkpoint()
                return
            await self.do_handshake()  # a checkpoint, whatever follows
            self._eof_sent = True
            failure = self._emit(self._conn.send_close_notify())
            if failure is not None:
                await self._fail(failure)
            await self._flush()
            await self._close_transport_if_done()

    async def aclose(self) -> None:
        """Send close_notify if it is still owed, then close the transport.

        Does not wait for the peer's answer. Closes the transport even if
        cancelled or if sending fails.
        """
        if self._state is _State.CLOSED:
            await trio.lowlevel.checkpoint()
            return
        was_ok = self._state is _State.OK
        self._state = _State.CLOSED
        try:
            conn = self._conn
            if was_ok and conn.handshake_complete and not conn.we_closed:
                self._emit(conn.send_close_notify())
                data = conn.data_to_send()
                if not self._transport_busy:
                    try:
                        await self.transport_stream.send_all(data)
                    except (trio.BrokenResourceError, trio.ClosedResourceError):
                        pass
        finally:
            await self.transport_stream.aclose()
