"""What a :class:`~toytls.story.ladder.LadderBuilder` is fed, and the order it draws it in.

Also :class:`EventLog`, the bounded list of events a server keeps for the
session page's diagram. Pure.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..core import events as ev

#: A record as one end names it: the lane it goes to, and its bytes.
Key = tuple[int, bytes]


@dataclass(frozen=True, slots=True)
class Input:
    """One thing fed to a :class:`LadderBuilder`, to be drawn in causal order."""

    index: int
    #: whose report it is: the lane that saw it
    stream: int
    #: the record whose sending must be drawn first, if anyone reports it
    needs: Key | None
    #: the record this reports sending
    provides: Key | None
    action: Callable[[], None]


def causal_order(inputs: Sequence[Input]) -> list[Input]:
    """``inputs`` in the order seen, except that a record is received after it is sent.

    Each lane's reports keep their order; among the lanes whose next report
    may go, the earliest seen goes first.
    """
    provided = {item.provides for item in inputs if item.provides is not None}
    queues: dict[int, deque[Input]] = {}
    for item in inputs:
        queues.setdefault(item.stream, deque()).append(item)
    done: set[Key] = set()
    order: list[Input] = []
    while queues:
        heads = sorted((queue[0] for queue in queues.values()), key=lambda item: item.index)
        ready = [h for h in heads if h.needs is None or h.needs in done or h.needs not in provided]
        pick = (ready or heads)[0]
        queue = queues[pick.stream]
        queue.popleft()
        if not queue:
            del queues[pick.stream]
        if pick.provides is not None:
            done.add(pick.provides)
        order.append(pick)
    return order


@dataclass
class EventLog:
    """The first events of one connection, for its diagram; later ones are dropped.

    A long-lived connection (a browser's keep-alive) must not grow without
    end: the handshake and the first records fit well within ``limit``.
    """

    limit: int = 64
    events: list[ev.Event] = field(default_factory=list)

    def __call__(self, event: ev.Event) -> None:
        """Keep ``event`` if there is room (an ``event_handler``)."""
        if len(self.events) < self.limit:
            self.events.append(event)

    def then(self, handler: Callable[[ev.Event], None]) -> Callable[[ev.Event], None]:
        """An event handler that keeps each event here, then passes it to ``handler``."""

        def keep(event: ev.Event) -> None:
            self(event)
            handler(event)

        return keep
