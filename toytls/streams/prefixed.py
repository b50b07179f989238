"""A stream that gives back bytes already read before reading on (trio layer).

Whoever has to look at the first bytes of a connection to decide what to do
with it (the attacker proxy reads the ClientHello before it chooses how to
answer) can then hand the whole connection, those bytes included, to code
that expects to read it from the start.
"""

from __future__ import annotations

import trio


class PrefixedStream(trio.abc.HalfCloseableStream):
    """``inner``, with ``prefix`` returned first by :meth:`receive_some`.

    Sending, half-closing and closing go straight to ``inner``.

    Args:
        inner: The stream the prefix was read from.
        prefix: Bytes already read from ``inner``, to be received again.
    """

    def __init__(self, inner: trio.abc.HalfCloseableStream, prefix: bytes) -> None:
        self.inner = inner
        self._prefix = prefix

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        """The prefix (up to ``max_bytes`` of it) until it is used up, then ``inner``'s bytes."""
        if self._prefix:
            # A checkpoint like any receive, so a loop over the prefix can be cancelled.
            await trio.lowlevel.checkpoint()
            size = len(self._prefix) if max_bytes is None else max_bytes
            chunk, self._prefix = self._prefix[:size], self._prefix[size:]
            return chunk
        return bytes(await self.inner.receive_some(max_bytes))

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        """Send through ``inner``."""
        await self.inner.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        """Wait on ``inner``."""
        await self.inner.wait_send_all_might_not_block()

    async def send_eof(self) -> None:
        """Half-close ``inner``."""
        await self.inner.send_eof()

    async def aclose(self) -> None:
        """Close ``inner``."""
        await self.inner.aclose()
