"""Record framing (§1): the 5-byte header and an incremental reader.

The reader checks each header as soon as its 5 bytes are in — content type,
then version, then length against the limit — so a hostile length is refused
before a single byte of its body is waited for or buffered. It copes with a
record split over any number of reads and with many records in one read.
"""

from __future__ import annotations

from dataclasses import dataclass

from .constants import (
    PROTOCOL_VERSION,
    RECORD_HEADER_SIZE,
    AlertDescription,
    ContentType,
)
from .errors import ToyTLSError

_VERSION = PROTOCOL_VERSION.to_bytes(2, "big")
_CONTENT_TYPES = frozenset(int(t) for t in ContentType)


@dataclass(frozen=True, kw_only=True, slots=True)
class RawRecord:
    """One record as it came off the wire; the fragment may still be sealed."""

    content_type: ContentType
    #: the 5 header bytes exactly as received (the AAD of a protected record)
    header: bytes
    fragment: bytes


def encode_record(content_type: int, fragment: bytes) -> bytes:
    """Frame an unprotected fragment as a record."""
    return bytes((content_type,)) + _VERSION + len(fragment).to_bytes(2, "big") + fragment


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
    content_type = header[0]
    if content_type not in _CONTENT_TYPES:
        raise ToyTLSError(
            f"unknown record content type {content_type}",
            alert=AlertDescription.UNEXPECTED_MESSAGE,
        )
    if header[1:3] != _VERSION:
        raise ToyTLSError(
            f"record version 0x{header[1:3].hex()} is not toytls/1 (0x0100)",
            alert=AlertDescription.PROTOCOL_VERSION,
        )
    length = int.from_bytes(header[3:5], "big")
    if length > limit:
        raise ToyTLSError(
            f"record of {length} bytes is over the limit of {limit}",
            alert=AlertDescription.RECORD_OVERFLOW,
        )
    return ContentType(content_type), length


class RecordReader:
    """Splits a byte stream into records, checking each header first.

    Feed it bytes with :meth:`feed`, then call :meth:`next_record` until it
    returns ``None`` ("need more bytes"). It buffers at most one header and
    one fragment that passed the header checks, plus whatever the caller fed
    beyond that.
    """

    __slots__ = ("_buffer", "_pos")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._pos = 0

    def feed(self, data: bytes) -> None:
        """Append received bytes."""
        if self._pos and self._pos == len(self._buffer):
            # Everything so far was consumed: start over instead of growing.
            self._buffer.clear()
            self._pos = 0
        self._buffer += data

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
        buffer, pos = self._buffer, self._pos
        if len(buffer) - pos < RECORD_HEADER_SIZE:
            return None
        header = bytes(buffer[pos : pos + RECORD_HEADER_SIZE])
        content_type, length = check_header(header, limit)
        start = pos + RECORD_HEADER_SIZE
        end = start + length
        if len(buffer) < end:
            return None
        fragment = bytes(buffer[start:end])
        self._pos = end
        if end > 65536 and end * 2 > len(buffer):
            # Drop consumed bytes now and then so the buffer stays small.
            del buffer[:end]
            self._pos = 0
        return RawRecord(content_type=content_type, header=header, fragment=fragment)
