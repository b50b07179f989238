"""The state machine of toytls/1: everything that moves a connection from one
state to the next lives in this one module (h11's ``_state.py`` is the model).

:data:`TABLE` holds every transition: the client's start, each handshake
message of §2, close_notify sent and received in each direction (§5), and
the fatal error that ends any state. A received handshake message is allowed
only if the table has a row for ``(role, state, its type)``; anything else is
``unexpected_message``. Record types follow from the state through
:data:`ACCEPTED_CONTENT`, and which states carry application data each way
through :data:`RECEIVES_DATA` and :data:`SENDS_DATA`.

:class:`~toytls.core.connection.Connection` asks :func:`transition` for the
row before it acts, dispatches its handshake handling on the row, and moves
to the row's ``next`` state afterwards; it never assigns a state the table
does not name.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .constants import ContentType, HandshakeType


class Role(enum.Enum):
    """Which end of the connection this side is."""

    __hash__ = object.__hash__  # in C, as State's (a key of every transition() lookup)

    CLIENT = "client"
    SERVER = "server"


class State(enum.Enum):
    """Where one side stands in the §2 flow and the §5 close."""

    # Members are compared by identity, so hash them by identity too: in C,
    # not with Enum's Python-level hash of the name (the data path asks
    # "is the state in this set?" several times per record).
    __hash__ = object.__hash__

    #: client: ClientHello not yet sent
    START = "start"
    #: server: waiting for ClientHello
    WAIT_CLIENT_HELLO = "wait ClientHello"
    #: client: ClientHello sent
    WAIT_SERVER_HELLO = "wait ServerHello"
    #: client: ServerHello received
    WAIT_CERTIFICATE = "wait Certificate"
    #: server: ServerHello and Certificate sent
    WAIT_CLIENT_KEY_EXCHANGE = "wait ClientKeyExchange"
    #: server: keys derived, waiting for the client's {Finished}
    WAIT_CLIENT_FINISHED = "wait client Finished"
    #: client: ClientKeyExchange and {Finished} sent
    WAIT_SERVER_FINISHED = "wait server Finished"
    #: both Finished checked: application data flows both ways
    CONNECTED = "connected"
    #: §5: this side sent close_notify; the peer may still send
    SENT_CLOSE_NOTIFY = "sent close_notify"
    #: §5: the peer sent close_notify; this side may still send
    RECEIVED_CLOSE_NOTIFY = "received close_notify"
    #: over: a fatal error, an aborted handshake, or close_notify both ways
    CLOSED = "closed"


class Signal(enum.Enum):
    """What moves the state machine besides a received handshake message."""

    __hash__ = object.__hash__  # in C, as State's

    #: the client sends ClientHello
    INITIATE = "initiate"
    #: this side sends close_notify
    CLOSE_NOTIFY_SENT = "close_notify sent"
    #: close_notify arrives from the peer
    CLOSE_NOTIFY_RECEIVED = "close_notify received"
    #: a fatal error, sent or received
    FAILURE = "failure"


Input = HandshakeType | Signal


@dataclass(frozen=True, kw_only=True, slots=True)
class Transition:
    """One row: in ``state``, ``role`` takes ``expect`` and moves to ``next``.

    ``reply`` names what the side sends in answer, in order (the narration
    and the tests count it); ``role`` None means either side.
    """

    role: Role | None
    state: State
    expect: Input
    next: State
    reply: tuple[str, ...] = ()


#: The states in which the handshake is still under way.
HANDSHAKE_STATES: frozenset[State] = frozenset(
    {
        State.START,
        State.WAIT_CLIENT_HELLO,
        State.WAIT_SERVER_HELLO,
        State.WAIT_CERTIFICATE,
        State.WAIT_CLIENT_KEY_EXCHANGE,
        State.WAIT_CLIENT_FINISHED,
        State.WAIT_SERVER_FINISHED,
    }
)

_FLOW: tuple[Transition, ...] = (
    Transition(
        role=Role.CLIENT,
        state=State.START,
        expect=Signal.INITIATE,
        next=State.WAIT_SERVER_HELLO,
        reply=("ClientHello",),
    ),
    Transition(
        role=Role.SERVER,
        state=State.WAIT_CLIENT_HELLO,
        expect=HandshakeType.CLIENT_HELLO,
        next=State.WAIT_CLIENT_KEY_EXCHANGE,
        reply=("ServerHello", "Certificate"),
    ),
    Transition(
        role=Role.CLIENT,
        state=State.WAIT_SERVER_HELLO,
        expect=HandshakeType.SERVER_HELLO,
        next=State.WAIT_CERTIFICATE,
    ),
    Transition(
        role=Role.CLIENT,
        state=State.WAIT_CERTIFICATE,
        expect=HandshakeType.CERTIFICATE,
        next=State.WAIT_SERVER_FINISHED,
        reply=("ClientKeyExchange", "{Finished}"),
    ),
    Transition(
        role=Role.SERVER,
        state=State.WAIT_CLIENT_KEY_EXCHANGE,
        expect=HandshakeType.CLIENT_KEY_EXCHANGE,
        next=State.WAIT_CLIENT_FINISHED,
    ),
    Transition(
        role=Role.SERVER,
        state=State.WAIT_CLIENT_FINISHED,
        expect=HandshakeType.FINISHED,
        next=State.CONNECTED,
        reply=("{Finished}",),
    ),
    Transition(
        role=Role.CLIENT,
        state=State.WAIT_SERVER_FINISHED,
        expect=HandshakeType.FINISHED,
        next=State.CONNECTED,
    ),
)

_CLOSE: tuple[Transition, ...] = (
    # §5: after the handshake each direction closes on its own.
    Transition(
        role=None,
        state=State.CONNECTED,
        expect=Signal.CLOSE_NOTIFY_SENT,
        next=State.SENT_CLOSE_NOTIFY,
        reply=("close_notify",),
    ),
    Transition(
        role=None,
        state=State.RECEIVED_CLOSE_NOTIFY,
        expect=Signal.CLOSE_NOTIFY_SENT,
        next=State.CLOSED,
        reply=("close_notify",),
    ),
    Transition(
        role=None,
        state=State.CONNECTED,
        expect=Signal.CLOSE_NOTIFY_RECEIVED,
        next=State.RECEIVED_CLOSE_NOTIFY,
    ),
    Transition(
        role=None,
        state=State.SENT_CLOSE_NOTIFY,
        expect=Signal.CLOSE_NOTIFY_RECEIVED,
        next=State.CLOSED,
    ),
    # During the handshake close_notify aborts it, either way; a side that
    # receives it answers with its own.
    *(
        Transition(
            role=None,
            state=state,
            expect=Signal.CLOSE_NOTIFY_SENT,
            next=State.CLOSED,
            reply=("close_notify",),
        )
        for state in sorted(HANDSHAKE_STATES, key=lambda s: s.value)
    ),
    *(
        Transition(
            role=None,
            state=state,
            expect=Signal.CLOSE_NOTIFY_RECEIVED,
            next=State.CLOSED,
            reply=("close_notify",),
        )
        for state in sorted(HANDSHAKE_STATES - {State.START}, key=lambda s: s.value)
    ),
    # Any error ends any state that is not over yet.
    *(
        Transition(role=None, state=state, expect=Signal.FAILURE, next=State.CLOSED)
        for state in State
        if state is not State.CLOSED
    ),
)

#: Every transition there is; nothing else ever happens. The §2 flow comes
#: first, in order.
TABLE: tuple[Transition, ...] = _FLOW + _CLOSE

_INDEX: dict[tuple[Role, State, Input], Transition] = {
    (role, row.state, row.expect): row
    for row in TABLE
    for role in ((row.role,) if row.role is not None else tuple(Role))
}

#: ``(role, state) -> (expected msg_type, next state)``: the handshake
#: messages of :data:`TABLE` alone (§2's flow).
TRANSITIONS: dict[tuple[Role, State], tuple[HandshakeType, State]] = {
    (row.role, row.state): (row.expect, row.next)
    for row in TABLE
    if row.role is not None and isinstance(row.expect, HandshakeType)
}

_HANDSHAKING = frozenset({ContentType.HANDSHAKE, ContentType.ALERT})

#: Record types accepted in each state; anything else is unexpected_message.
#: (Nothing is read in START; after close_notify from the peer, and once
#: CLOSED, nothing is read at all: §5 says what follows is ignored.)
ACCEPTED_CONTENT: dict[State, frozenset[ContentType]] = {
    **dict.fromkeys(HANDSHAKE_STATES - {State.START}, _HANDSHAKING),
    State.START: frozenset(),
    State.CONNECTED: frozenset({ContentType.ALERT, ContentType.APPLICATION_DATA}),
    State.SENT_CLOSE_NOTIFY: frozenset({ContentType.ALERT, ContentType.APPLICATION_DATA}),
    State.RECEIVED_CLOSE_NOTIFY: frozenset(),
    State.CLOSED: frozenset(),
}

#: States in which received bytes are ignored: the peer said it is done,
#: or the connection is over.
READS_NOTHING: frozenset[State] = frozenset({State.RECEIVED_CLOSE_NOTIFY, State.CLOSED})
#: States in which the peer's application data may arrive.
RECEIVES_DATA: frozenset[State] = frozenset({State.CONNECTED, State.SENT_CLOSE_NOTIFY})
#: States in which this side may send application data.
SENDS_DATA: frozenset[State] = frozenset({State.CONNECTED, State.RECEIVED_CLOSE_NOTIFY})


def initial_state(role: Role) -> State:
    """The state a new connection starts in."""
    return State.START if role is Role.CLIENT else State.WAIT_CLIENT_HELLO


def transition(role: Role, state: State, expect: Input) -> Transition | None:
    """The row for ``expect`` arriving in ``state``, or None if it is not allowed."""
    return _INDEX.get((role, state, expect))
