"""Record framing (§1): the 5-byte header and an incremental reader.

The reader checks each header as soon as its 5 bytes are in — content type,
then version, then length against the limit — so a hostile length is refused
before a single byte of its body is waited for or buffered. It copes with a
record split over any number of reads and with many records in one read.
"""

from __future__ import annotations

from typing import NamedTuple

from .constants import (
    PROTOCOL_VERSION,
    RECORD_HEADER_SIZE,
    AlertDescription,
    ContentType,
)
from .errors import ToyTLSError

_VERSION = PROTOCOL_VERSION.to_bytes(2, "big")
#: Feeds smaller than this, completing a partial record, go into a growable
#: buffer; larger ones are joined to the partial record once.
_SMALL_FEED = 4096
#: content type byte -> member; a dict lookup is much cheaper than ContentType(n)
_CONTENT_TYPES = {int(t): t for t in ContentType}


class RawRecord(NamedTuple):
    """One record as it came off the wire; the fragment may still be sealed.

    A named tuple rather than a dataclass: one is made for every record, and
    a tuple costs a fifth as much to build.
    """

    content_type: ContentType
    #: the 5 header bytes exactly as received (the AAD of a protected record)
    header: bytes
    fragment: bytes


def encode_record(content_type: int, fragment: bytes | bytearray | memoryview) -> bytes:
    """Frame an unprotected fragment as a record."""
    return bytes((content_type,)) + _VERSION + len(fragment).to_bytes(2, "big") + bytes(fragment)


def check_header(header: bytes, limit: int) -> tuple[ContentType, int]:
    """Apply the §1 header checks, in the spec's order.

    Args:
        header: Exactly 5 bytes.
        limit: The largest fragment allowed now (16384, or 16400 once the
            record will be protected).

    Returns:
        ``(content_type, length)``.

    Raises:
        ToyTLSError: ``unexpected_message`` for an unknown content type,
            ``protocol_version`` for another version, ``record_overflow``
            for a length over ``limit``.
    """
    content_type = _CONTENT_TYPES.get(header[0])
    if content_type is None:
        raise ToyTLSError(
            f"unknown record content type {header[0]}",
            alert=AlertDescription.UNEXPECTED_MESSAGE,
            key="record.unknown_type",
            params={"type": header[0]},
        )
    if header[1] != 1 or header[2] != 0:  # 0x0100
        raise ToyTLSError(
            f"record version 0x{bytes(header[1:3]).hex()} is not toytls/1 (0x0100)",
            alert=AlertDescription.PROTOCOL_VERSION,
            key="record.version",
            params={"version": bytes(header[1:3]).hex()},
        )
    length = (header[3] << 8) | header[4]
    if length > limit:
        raise ToyTLSError(
            f"record of {length} bytes is over the limit of {limit}",
            alert=AlertDescription.RECORD_OVERFLOW,
            key="record.overflow",
            params={"length": length, "limit": limit},
        )
    return content_type, length


class RecordReader:
    """Splits a byte stream into records, checking each header first.

    Feed it bytes with :meth:`feed`, then call :meth:`next_record` until it
    returns ``None`` ("need more bytes"). It keeps what was fed but not yet
    returned, and nothing more: a body is only waited for once its header
    passed the checks.
    """

    __slots__ = ("_buffer", "_pos")

    def __init__(self) -> None:
        # Usually the whole of the last feed; a bytearray only while records
        # arrive in pieces. ``_pos`` is where the next record starts.
        self._buffer: bytes | bytearray = b""
        self._pos = 0

    def feed(self, data: bytes) -> None:
        """Append received bytes."""
        buffer, pos = self._buffer, self._pos
        if pos == len(buffer):
            # Everything so far was consumed (the common case): read straight
            # from the new bytes instead of copying them into a buffer.
            self._buffer = data
        elif isinstance(buffer, bytearray):
            # A record arriving in small pieces: grow in place (amortised
            # O(1) even one byte at a time), dropping what was returned.
            if pos:
                del buffer[:pos]
            buffer += data
        elif len(data) >= _SMALL_FEED:
            # A big read that completes a record: one copy, and the result
            # stays immutable bytes, so fragments can be views into it.
            self._buffer = buffer[pos:] + data
        else:
            grown = bytearray(buffer[pos:])
            grown += data
            self._buffer = grown
        self._pos = 0

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned in a record."""
        return len(self._buffer) - self._pos

    def next_record(self, limit: int) -> RawRecord | None:
        """Return the next complete record, or ``None`` if more bytes are needed.

        Args:
            limit: The largest fragment allowed for this record (see
                :func:`check_header`).

        Raises:
            ToyTLSError: A header check failed; the reader is then unusable.
        """
        found = self.next_record_view(limit)
        if found is None:
            return None
        content_type, header, fragment = found
        return RawRecord(content_type, header, bytes(fragment))

    def next_record_view(self, limit: int) -> tuple[ContentType, bytes, bytes | memoryview] | None:
        """Like :meth:`next_record`, but the fragment may be a view, not a copy.

        The view is read-only and stays valid (it keeps the bytes it looks
        at alive). The connection decrypts application data straight from
        it: a 16 KiB record is not copied just to be decrypted.
        """
        buffer, pos = self._buffer, self._pos
        if len(buffer) - pos < RECORD_HEADER_SIZE:
            if pos == len(buffer) and pos:
                # All of it was returned: don't keep the last read alive.
                self._buffer, self._pos = b"", 0
            return None
        header = bytes(buffer[pos : pos + RECORD_HEADER_SIZE])
        content_type, length = check_header(header, limit)
        start = pos + RECORD_HEADER_SIZE
        end = start + length
        if len(buffer) < end:
            return None
        self._pos = end
        if isinstance(buffer, bytes):
            return content_type, header, memoryview(buffer)[start:end]
        return content_type, header, bytes(buffer[start:end])
