"""The decrypted data a :class:`~toytls.streams.stream.ToyTLSStream` holds for
``receive_some``: taking from it, and checking ``max_bytes`` as trio does.
"""

from __future__ import annotations

import operator


def take(incoming: list[bytes], max_bytes: int | None) -> bytes:
    """Remove and return up to ``max_bytes`` of the oldest data (all if None).

    ``incoming`` holds decrypted chunks, oldest first, and is not empty. A
    single chunk is returned as it is, without a copy.
    """
    first = incoming[0]
    if len(incoming) == 1 and (max_bytes is None or len(first) <= max_bytes):
        incoming.clear()  # the usual case: one record, returned whole
        return first
    if max_bytes is not None and len(first) > max_bytes:
        incoming[0] = first[max_bytes:]
        return first[:max_bytes]
    count, size = 1, len(first)
    while count < len(incoming) and (max_bytes is None or size + len(incoming[count]) <= max_bytes):
        size += len(incoming[count])
        count += 1
    pieces = incoming[:count]
    del incoming[:count]
    return pieces[0] if count == 1 else b"".join(pieces)


def check_max_bytes(max_bytes: int) -> int:
    """``max_bytes`` as an int, or ValueError/TypeError as trio raises them."""
    value = operator.index(max_bytes)
    if value < 1:
        raise ValueError("max_bytes must be >= 1")
    return value
