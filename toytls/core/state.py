"""The handshake state machine of toytls/1: everything that decides what may
arrive when lives in this one table (h11's ``_state.py`` is the model).

A received handshake message is allowed only if :data:`TRANSITIONS` has an
entry for ``(role, state)`` naming its type; anything else is
``unexpected_message``. Record types follow from the state through
:data:`ACCEPTED_CONTENT`. The narration draws the flow diagram from the same
table, so the picture cannot drift from the code.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .constants import ContentType, HandshakeType


class Role(enum.Enum):
    """Which end of the connection this side is."""

    CLIENT = "client"
    SERVER = "server"


class State(enum.Enum):
    """Where one side stands in the §2 flow."""

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
    #: both Finished checked: application data flows
    CONNECTED = "connected"
    #: a fatal error, or the handshake aborted by close_notify
    CLOSED = "closed"


@dataclass(frozen=True, kw_only=True, slots=True)
class Transition:
    """One row: in ``state``, ``role`` accepts ``expect`` and moves to ``next``.

    ``reply`` names what the side sends in answer, for the narration.
    """

    role: Role
    state: State
    expect: HandshakeType
    next: State
    reply: tuple[str, ...]


#: The whole §2 flow, in order. Nothing else is ever accepted.
TABLE: tuple[Transition, ...] = (
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
        reply=(),
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
        reply=(),
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
        reply=(),
    ),
)

#: ``(role, state) -> (expected msg_type, next state)``, built from TABLE.
TRANSITIONS: dict[tuple[Role, State], tuple[HandshakeType, State]] = {
    (row.role, row.state): (row.expect, row.next) for row in TABLE
}

_HANDSHAKING = frozenset({ContentType.HANDSHAKE, ContentType.ALERT})

#: Record types accepted in each state; anything else is unexpected_message.
#: (Nothing is read in START, and CLOSED reads nothing at all.)
ACCEPTED_CONTENT: dict[State, frozenset[ContentType]] = {
    State.START: frozenset(),
    State.WAIT_CLIENT_HELLO: _HANDSHAKING,
    State.WAIT_SERVER_HELLO: _HANDSHAKING,
    State.WAIT_CERTIFICATE: _HANDSHAKING,
    State.WAIT_CLIENT_KEY_EXCHANGE: _HANDSHAKING,
    State.WAIT_CLIENT_FINISHED: _HANDSHAKING,
    State.WAIT_SERVER_FINISHED: _HANDSHAKING,
    State.CONNECTED: frozenset({ContentType.ALERT, ContentType.APPLICATION_DATA}),
    State.CLOSED: frozenset(),
}


def initial_state(role: Role) -> State:
    """The state a new connection starts in."""
    return State.START if role is Role.CLIENT else State.WAIT_CLIENT_HELLO


def expected_message(role: Role, state: State) -> HandshakeType | None:
    """The one handshake message ``role`` accepts in ``state``, if any."""
    row = TRANSITIONS.get((role, state))
    return None if row is None else row[0]
