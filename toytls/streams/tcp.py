"""TCP helpers that mirror trio's ``open_ssl_over_tcp_stream`` family."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import NoReturn

import trio

from .context import Context
from .stream import EventHandler, ToyTLSStream


class ToyTLSListener(trio.abc.Listener[ToyTLSStream]):
    """Accepts transport connections and wraps each in a server stream.

    Args:
        transport_listener: The listener to accept from (usually TCP); its
            ``socket`` tells the bound address.
        context: A server :class:`~toytls.Context`.
        https_compatible: Passed on to each :class:`ToyTLSStream`.
    """

    def __init__(
        self,
        transport_listener: trio.abc.Listener[trio.abc.Stream],
        context: Context,
        *,
        https_compatible: bool = False,
    ) -> None:
        if not context.server_side:
            raise ValueError("a listener needs a server context")
        self.transport_listener = transport_listener
        self.context = context
        self._https_compatible = https_compatible

    async def accept(self) -> ToyTLSStream:
        """Accept one connection; the handshake runs on first use (§6 clock starts now)."""
        transport = await self.transport_listener.accept()
        return ToyTLSStream(
            transport, self.context, server_side=True, https_compatible=self._https_compatible
        )

    async def aclose(self) -> None:
        """Close the transport listener."""
        await self.transport_listener.aclose()


async def open_toytls_over_tcp_stream(
    host: str | bytes,
    port: int,
    *,
    context: Context,
    server_hostname: str | None = None,
    https_compatible: bool = False,
    event_handler: EventHandler | None = None,
) -> ToyTLSStream:
    """Connect over TCP and return a client stream (handshake not yet run).

    Args:
        host: Where to connect.
        port: The TCP port.
        context: A client context.
        server_hostname: The name to ask for and verify; defaults to ``host``.
        https_compatible: See :class:`ToyTLSStream`.
        event_handler: See :class:`ToyTLSStream`.

    Raises:
        OSError: The TCP connection failed.
        ValueError: The server name is not valid.
    """
    if server_hostname is None:
        server_hostname = host.decode("ascii") if isinstance(host, bytes) else host
    tcp = await trio.open_tcp_stream(host, port)
    try:
        return ToyTLSStream(
            tcp,
            context,
            server_hostname=server_hostname,
            https_compatible=https_compatible,
            event_handler=event_handler,
        )
    except BaseException:
        await trio.aclose_forcefully(tcp)
        raise


async def open_toytls_over_tcp_listeners(
    port: int,
    context: Context,
    *,
    host: str | bytes | None = None,
    https_compatible: bool = False,
    backlog: int | None = None,
) -> list[ToyTLSListener]:
    """Open TCP listeners wrapped as :class:`ToyTLSListener`."""
    tcp_listeners = await trio.open_tcp_listeners(port, host=host, backlog=backlog)
    return [
        ToyTLSListener(listener, context, https_compatible=https_compatible)
        for listener in tcp_listeners
    ]


async def serve_toytls_over_tcp(
    handler: Callable[[ToyTLSStream], Awaitable[object]],
    port: int,
    context: Context,
    *,
    host: str | bytes | None = None,
    https_compatible: bool = False,
    backlog: int | None = None,
    handler_nursery: trio.Nursery | None = None,
    task_status: trio.TaskStatus[list[ToyTLSListener]] = trio.TASK_STATUS_IGNORED,
) -> NoReturn:
    """Serve toytls over TCP, starting ``handler(stream)`` per connection.

    Like :func:`trio.serve_ssl_over_tcp`: if ``handler`` raises, the
    exception propagates and stops the server, so a handler should catch
    :class:`trio.BrokenResourceError` for connections that fail. With
    ``nursery.start`` you get the listeners; ``listeners[0]
    .transport_listener.socket.getsockname()`` tells the bound port.

    Returns:
        Only when cancelled.
    """
    listeners = await open_toytls_over_tcp_listeners(
        port, context, host=host, https_compatible=https_compatible, backlog=backlog
    )
    await trio.serve_listeners(
        handler, listeners, handler_nursery=handler_nursery, task_status=task_status
    )
