"""A length-checked reader and writer for the fixed binary layouts of §2.

:class:`Parser` is the only place that slices untrusted bytes. Every read
checks that the bytes are there first, so a short or lying length field
becomes one :class:`~toytls.core.errors.DecodeError` instead of an ``IndexError``
or ``struct.error`` (tlslite's ``codec.Parser`` is the model).
"""

from __future__ import annotations

from .errors import DecodeError


class Parser:
    """Reads big-endian integers and length-prefixed vectors from a buffer.

    Args:
        data: The bytes to read.
        what: A short name of the structure, used in error messages.
    """

    __slots__ = ("_data", "_pos", "_what")

    def __init__(self, data: bytes, what: str) -> None:
        self._data = data
        self._pos = 0
        self._what = what

    @property
    def remaining(self) -> int:
        """How many bytes are left unread."""
        return len(self._data) - self._pos

    def fail(self, problem: str, key: str, **params: object) -> DecodeError:
        """Return (not raise) a decode error that names the structure.

        ``key`` and ``params`` say ``problem`` for people; ``what`` is added.
        """
        return DecodeError(
            f"malformed {self._what}: {problem}", key=key, params={"what": self._what, **params}
        )

    def uint(self, size: int) -> int:
        """Read an unsigned integer of ``size`` bytes.

        Raises:
            DecodeError: Fewer than ``size`` bytes remain.
        """
        return int.from_bytes(self.fixed(size), "big")

    def fixed(self, size: int) -> bytes:
        """Read exactly ``size`` bytes.

        Raises:
            DecodeError: Fewer than ``size`` bytes remain.
        """
        end = self._pos + size
        if end > len(self._data):
            raise self.fail(
                f"needs {size} more bytes, has {self.remaining}",
                "decode.short",
                size=size,
                remaining=self.remaining,
            )
        chunk = self._data[self._pos : end]
        self._pos = end
        return chunk

    def vector(self, length_size: int, minimum: int, maximum: int) -> bytes:
        """Read a vector ``<minimum..maximum>`` with a ``length_size`` prefix.

        Raises:
            DecodeError: The length is out of range or points past the end.
        """
        length = self.uint(length_size)
        if not minimum <= length <= maximum:
            raise self.fail(
                f"length {length} outside {minimum}..{maximum}",
                "decode.length_range",
                length=length,
                minimum=minimum,
                maximum=maximum,
            )
        return self.fixed(length)

    def finish(self) -> None:
        """Check that every byte was consumed.

        Raises:
            DecodeError: Bytes are left over.
        """
        if self.remaining:
            raise self.fail(f"{self.remaining} trailing bytes", "decode.trailing", n=self.remaining)


def uint_bytes(value: int, size: int) -> bytes:
    """Encode ``value`` as an unsigned big-endian integer of ``size`` bytes."""
    return value.to_bytes(size, "big")


def vector_bytes(data: bytes, length_size: int) -> bytes:
    """Encode ``data`` behind a ``length_size``-byte length prefix."""
    return len(data).to_bytes(length_size, "big") + data
