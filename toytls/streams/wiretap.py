"""See what crossed the wire: a transport wrapper that counts records.

:class:`WireTap` sits between a :class:`~toytls.streams.stream.ToyTLSStream` and
its TCP stream and changes nothing. It splits each direction into records
with the same :class:`~toytls.core.records.RecordReader` the endpoints use,
counts them by type, and keeps the first record of each type exactly as
it travelled — which is all an eavesdropper ever gets. The HTTP page
(``toytls server --app http``) shows these to the visitor.
"""

from __future__ import annotations

import trio

from ..core.constants import MAX_CIPHERTEXT
from ..core.errors import ToyTLSError
from ..core.records import RecordReader


class WireLog:
    """One direction of the wire: byte and record counts, first records."""

    def __init__(self) -> None:
        #: every byte that passed, records or not
        self.bytes = 0
        #: complete records by content type name ("handshake", …)
        self.records: dict[str, int] = {}
        #: bytes of complete records (headers included) by content type name
        self.record_bytes: dict[str, int] = {}
        #: the first complete record of each type, header included
        self.first: dict[str, bytes] = {}
        self._reader: RecordReader | None = RecordReader()

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Account for ``data``; never raises.

        Bytes that are not toytls records (a peer speaking something else)
        stop the record counting; the byte count goes on.
        """
        self.bytes += len(data)
        reader = self._reader
        if reader is None or not data:
            return
        reader.feed(bytes(data))
        try:
            while (record := reader.next_record(MAX_CIPHERTEXT)) is not None:
                kind = record.content_type.name.lower()
                self.records[kind] = self.records.get(kind, 0) + 1
                size = len(record.header) + len(record.fragment)
                self.record_bytes[kind] = self.record_bytes.get(kind, 0) + size
                if kind not in self.first:
                    self.first[kind] = record.header + record.fragment
        except ToyTLSError:
            self._reader = None  # not records (any more): stop parsing

    def as_dict(self) -> dict[str, object]:
        """The counts as plain JSON-ready values (first records in hex)."""
        return {
            "bytes": self.bytes,
            "records": dict(self.records),
            "record_bytes": dict(self.record_bytes),
            "first_record_hex": {kind: raw.hex() for kind, raw in self.first.items()},
        }


class WireTap(trio.abc.HalfCloseableStream):
    """Wrap ``transport`` and log both directions; otherwise transparent.

    Every method passes straight through, errors included.
    """

    def __init__(self, transport: trio.abc.HalfCloseableStream) -> None:
        self.transport = transport
        #: bytes this end received (from the peer)
        self.received = WireLog()
        #: bytes this end sent
        self.sent = WireLog()

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        data = await self.transport.receive_some(max_bytes)
        self.received.feed(data)
        return data

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await self.transport.send_all(data)
        self.sent.feed(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self.transport.wait_send_all_might_not_block()

    async def send_eof(self) -> None:
        await self.transport.send_eof()

    async def aclose(self) -> None:
        await self.transport.aclose()
