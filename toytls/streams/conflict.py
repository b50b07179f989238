"""Busy detection for :class:`~toytls.streams.stream.ToyTLSStream`: two tasks
sending at once, or receiving at once, get ``trio.BusyResourceError``, as
with ``trio.SSLStream``.
"""

from __future__ import annotations

from types import TracebackType

import trio


class Conflict:
    """Raise BusyResourceError if two tasks do the same thing at once.

    Used as a context manager, except in send_all and receive_some, which
    test and set ``held`` inline: two method calls per operation matter on
    the data path.
    """

    __slots__ = ("held", "msg")

    def __init__(self, msg: str) -> None:
        self.msg = msg
        self.held = False

    def __enter__(self) -> None:
        if self.held:
            raise trio.BusyResourceError(self.msg)
        self.held = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.held = False
