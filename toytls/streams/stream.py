"""The trio adapter: :class:`ToyTLSStream`, a drop-in for :class:`trio.SSLStream`.

Theory of operation
-------------------
The stream owns one sans-I/O :class:`~toytls.core.connection.Connection` and
one transport stream; :class:`~toytls.streams.engine.StreamEngine` moves
bytes between them and says how failures look. Whichever of
:meth:`do_handshake`, :meth:`send_all` or :meth:`receive_some` comes first
drives the handshake; the others wait for it to end (``_handshaking``, an
event that exists only while a task drives), and take over if the driver
was cancelled before it finished. It has a
deadline, :attr:`Context.handshake_timeout <toytls.Context>`: on the server
counted from the stream's creation (right after accept, §6), on the client
from the first call that needs the handshake.

State is OK, BROKEN or CLOSED, as in ``trio.SSLStream``; see the engine for
how every failure becomes BROKEN. After :meth:`aclose` every call raises
:class:`trio.ClosedResourceError`.

Cancellation: cancelling :meth:`receive_some` is always safe. Cancelling
:meth:`send_all` before it starts sending is safe; once records are partly
written the stream cannot know what the peer got, so it becomes BROKEN —
the same rule as ``trio.SSLStream``. :meth:`aclose` always closes the
transport, even when cancelled; cancelled, it sends nothing (that is
``trio.aclose_forcefully``'s meaning). To end connections cleanly while
being cancelled (Ctrl-C), use :func:`~toytls.streams.closing.close_cleanly`.

``https_compatible=True`` is SSLStream's mode for peers that end the
transport without close_notify (as many HTTPS servers do): such an end
reads as ``b""`` instead of a truncation error, and :meth:`aclose` closes
the transport without sending close_notify.
"""

from __future__ import annotations

import warnings

import trio

from ..core import events as ev
from ..core.connection import Connection
from ..core.state import State
from .conflict import Conflict
from .context import Context, encode_server_name
from .engine import (
    EventHandler,
    StreamEngine,
    StreamState,
    local_error,
    transport_error,
)
from .incoming import check_max_bytes, take
from .keyexchange import decrypt_precomputed

__all__ = ["EventHandler", "NeedHandshakeError", "ToyTLSInsecureWarning", "ToyTLSStream"]

#: How much application data to seal before handing it to the transport.
_SEND_CHUNK = 4 * 16384


class ToyTLSInsecureWarning(UserWarning):
    """A client connected without checking the server's certificate."""


class NeedHandshakeError(trio.NeedHandshakeError):
    """Session details were asked for before the handshake completed."""


class ToyTLSStream(StreamEngine, trio.abc.HalfCloseableStream):
    """A toytls/1 connection over any trio stream; mirrors ``trio.SSLStream``.

    Args:
        transport_stream: The stream to speak toytls/1 over (usually TCP).
        context: A client or server :class:`~toytls.Context`.
        server_hostname: Client only: the name to ask for and verify; kept
            IDNA-encoded, as ``trio.SSLStream`` keeps it.
        server_side: True for the server end; must match the context.
        https_compatible: Tolerate a transport that ends without
            close_notify, and close without sending one (see the module).
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
        https_compatible: bool = False,
        event_handler: EventHandler | None = None,
    ) -> None:
        name = None if server_hostname is None else encode_server_name(server_hostname)
        config = context.config_for(server_side=server_side, server_hostname=name)
        # Someone listening to events wants the whole story, trace included.
        conn = Connection(
            config,
            trace=context.trace or event_handler is not None,
            decrypt_secret_fn=decrypt_precomputed,
        )
        super().__init__(
            transport_stream, conn, context, server_side=server_side, event_handler=event_handler
        )
        self._server_hostname = name
        self._https_compatible = https_compatible
        self._eof_sent = False
        self._handshaking: trio.Event | None = None
        self._handshake_started = False
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
    def context(self) -> Context:
        """The context; assignable until the handshake starts, as with SSLStream.

        Raises:
            ValueError: On assignment, a context for the other side, or the
                handshake has already started.
        """
        return self._context

    @context.setter
    def context(self, context: Context) -> None:
        if self._handshake_started:
            raise ValueError("the context cannot change once the handshake has started")
        config = context.config_for(
            server_side=self._server_side, server_hostname=self._server_hostname
        )
        self._conn = Connection(
            config,
            trace=context.trace or self._event_handler is not None,
            decrypt_secret_fn=decrypt_precomputed,
        )
        self._context = context

    @property
    def server_side(self) -> bool:
        """True for the server end (read-only)."""
        return self._server_side

    @property
    def server_hostname(self) -> str | None:
        """The name the client asks for and verifies, IDNA-encoded (read-only)."""
        return self._server_hostname

    @property
    def https_compatible(self) -> bool:
        """Whether an end without close_notify is tolerated (read-only)."""
        return self._https_compatible

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
        """``(cipher, protocol, secret bits)``, like :meth:`ssl.SSLSocket.cipher`.

        Raises:
            NeedHandshakeError: The handshake has not completed.
        """
        return (self.session.cipher, self.session.protocol, 128)

    def version(self) -> str:
        """The protocol name, like :meth:`ssl.SSLSocket.version`.

        Raises:
            NeedHandshakeError: The handshake has not completed.
        """
        return self.session.protocol

    # ------------------------------------------------------------- handshake

    async def do_handshake(self) -> None:
        """Run the handshake if it has not run; wait for it if it is running.

        Safe to call many times and from several tasks. :meth:`send_all` and
        :meth:`receive_some` call it for you.

        Raises:
            trio.BrokenResourceError: The handshake failed, or did not finish
                within the context's ``handshake_timeout``; ``__cause__`` is
                a :class:`~toytls.ToyTLSError` (a
                :class:`~toytls.CertificateVerifyError` if the client refused
                the server's certificate).
            trio.ClosedResourceError: The stream was closed.
            Exception: Whatever the transport raised, if it raised something
                other than trio's broken or closed errors (the stream is
                BROKEN from then on).
        """
        self._check_status()
        if self._conn.handshake_complete:
            await trio.lowlevel.checkpoint()
            return
        await trio.lowlevel.checkpoint_if_cancelled()
        while (driving := self._handshaking) is not None:
            await driving.wait()  # it finished, failed, or its driver was cancelled
            self._check_status()
            if self._conn.handshake_complete:
                return
        # This task drives. No lock: taking a trio.Lock is a trip through the
        # scheduler, on every handshake, for a conflict that is rare.
        self._handshaking = done = trio.Event()
        try:
            self._handshake_started = True
            if self._deadline is None:
                self._deadline = trio.current_time() + self._context.handshake_timeout
            with trio.CancelScope(deadline=self._deadline) as scope:
                await self._drive_handshake()
            if scope.cancelled_caught:  # §6: dropped without an alert
                timeout = self._context.handshake_timeout
                why = f"no handshake within {timeout:g} s"
                self._break(local_error(why, "stream.handshake_timeout", timeout=timeout))
                self._report(delivered=False)
                await trio.aclose_forcefully(self.transport_stream)
                self._check_status()
        finally:
            self._handshaking = None
            done.set()  # after any failure is recorded: waiters see it

    async def _drive_handshake(self) -> None:
        conn = self._conn
        if not self._server_side and conn.state is State.START:
            if not self._context.verify:
                warnings.warn(
                    f"toytls: NOT verifying the certificate of {self._server_hostname!r}; "
                    "anyone on the network path can read and change this connection",
                    ToyTLSInsecureWarning,
                    stacklevel=4,
                )
            self._emit(conn.initiate())
        while True:
            # Flush in a separate step so the server's Finished is sent
            # before the handshake counts as done (§6's deadline includes it).
            # No schedule point after the send: the read that follows is one,
            # and every handshake reads before it completes (a step and a
            # trip through the scheduler less per flight).
            await self._flush(schedule=False)
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
        # The conflict check, inlined: this is the hot path (see Conflict).
        conflict = self._send_conflict
        if conflict.held:
            raise trio.BusyResourceError(conflict.msg)
        conflict.held = True
        try:
            if self._state is not StreamState.OK:
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
                    # checked just above, no await since: no second check
                    await self._send_chunk(data, checked=True)
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
                self._break(local_error("send_all was cancelled part-way", "stream.send_cancelled"))
                raise
        finally:
            conflict.held = False

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        """Return the next decrypted bytes; ``b""`` after the peer's close_notify.

        Data decrypted before a failure is returned first; the failure is
        raised by the next call.

        Args:
            max_bytes: Return at most this many bytes; None returns all that
                are buffered (at least one byte).

        Raises:
            trio.BusyResourceError: Another task is receiving.
            trio.BrokenResourceError: The connection failed — including a
                transport that ended without close_notify (truncation),
                unless the stream is ``https_compatible``.
            trio.ClosedResourceError: The stream was closed.
        """
        conflict = self._receive_conflict  # inlined, as in send_all
        if conflict.held:
            raise trio.BusyResourceError(conflict.msg)
        conflict.held = True
        try:
            if max_bytes is not None and (type(max_bytes) is not int or max_bytes < 1):
                max_bytes = check_max_bytes(max_bytes)  # converts, or raises
            state = self._state
            if state is not StreamState.OK and not (state is StreamState.BROKEN and self._incoming):
                self._check_status()
            try:
                # The receiving loop, inlined: one coroutine level less on
                # every call of the data path.
                checkpointed = False
                if self._conn.session is None and not self._incoming:
                    await self.do_handshake()
                    checkpointed = True
                while True:
                    if self._incoming or self._eof_received:
                        if not checkpointed:
                            await trio.lowlevel.checkpoint()
                        return take(self._incoming, max_bytes) if self._incoming else b""
                    if self._state is not StreamState.OK:
                        self._check_status()
                    await self._receive_and_process()  # reading is a checkpoint
                    checkpointed = True
            except trio.BrokenResourceError:
                if self._https_compatible and self._ended_by_eof:
                    # https mode: an end without close_notify reads as EOF,
                    # once; the stream stays BROKEN for everything after.
                    self._ended_by_eof = False
                    await trio.lowlevel.checkpoint()
                    return b""
                raise
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
                await self._fail(transport_error(exc))
            except trio.Cancelled:
                raise  # waiting sent nothing: the stream stays usable
            except BaseException as exc:
                self._break(transport_error(exc))
                raise
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
        """Finish the handshake if needed, send close_notify, close the transport.

        As ``trio.SSLStream.aclose``: a stream that has not handshaken yet
        handshakes first (within the context's ``handshake_timeout``), so the
        peer reads a clean end rather than a cut. It does not wait for the
        peer's close_notify. A broken stream, or an ``https_compatible``
        one, just closes the transport. The transport is closed in every
        case, even if this is cancelled or fails.

        Raises:
            trio.BrokenResourceError: The handshake it ran failed.
        """
        if self._state is StreamState.CLOSED:
            await trio.lowlevel.checkpoint()
            return
        if self._state is StreamState.BROKEN or self._https_compatible:
            self._state = StreamState.CLOSED
            await self.transport_stream.aclose()
            return
        try:
            if not self._conn.handshake_complete:
                await self.do_handshake()
            await self._send_close_notify_on_close()
        except BaseException:
            # Closed before the transport is, so a task blocked on it wakes
            # to ClosedResourceError, not to a broken stream.
            self._state = StreamState.CLOSED
            await trio.aclose_forcefully(self.transport_stream)
            raise
        self._state = StreamState.CLOSED
        await self.transport_stream.aclose()
