"""What the attacker in the middle decides, record by record: pure functions.

The relay and the man in the middle in :mod:`toytls.cli.proxy` move the
bytes; every decision about them is made here, over the core's records
(:class:`~toytls.core.records.RawRecord`) and enums, never over raw byte
values: is this stream toytls or plaintext, is this alert a refusal, is this
message the ClientKeyExchange, which record to flip, replay or cut after.
What to forge in a man-in-the-middle mode is :func:`.modes.forged_chain`.

No I/O and no clock; :class:`RecordPolicy` keeps one counter per connection.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core import events as ev
from ..core.constants import (
    PROTOCOL_VERSION,
    AlertDescription,
    AlertLevel,
    ContentType,
    HandshakeType,
)
from ..core.errors import ToyTLSError
from ..core.messages import AnyMessage, ClientHello, parse_message
from ..core.records import RawRecord
from .modes import Mode, flip_bit, tamper_certificate_record
from .outcomes import Alteration, AlterationEnded, Direction, NothingAltered

_CONTENT_TYPES = frozenset(int(t) for t in ContentType)
_VERSION = PROTOCOL_VERSION.to_bytes(2, "big")
#: §5 — the only alert a side sends when nothing is wrong.
_CLOSE_NOTIFY = bytes((AlertLevel.WARNING, AlertDescription.CLOSE_NOTIFY))
#: §5 — an unprotected alert is level and description, nothing more.
_ALERT_SIZE = 2
#: The relay modes that change a record on its way to the client.
_ATTACKS_RECORDS = frozenset({Mode.TAMPER_CERT, Mode.FLIP, Mode.REPLAY, Mode.TRUNCATE})


def is_toytls_start(data: bytes) -> bool:
    """Whether the first bytes one way can start a toytls record stream.

    The first byte must be a :class:`ContentType` and what follows of the
    header must agree with the record version (§1); fewer than three bytes
    are judged on what there is. Anything else is plaintext.
    """
    return bool(data) and data[0] in _CONTENT_TYPES and _VERSION.startswith(data[1:3])


def rewrite_plaintext(data: bytes, rules: list[tuple[bytes, bytes]]) -> bytes:
    """``data`` with each ``(old, new)`` rule applied in turn, every occurrence."""
    for old, new in rules:
        data = data.replace(old, new)
    return data


def readable_message(record: RawRecord) -> AnyMessage | None:
    """The handshake message in ``record`` if it is readable, else None.

    Handshake records before the keys exist are plaintext; a protected one
    (the Finished messages) does not parse and gives None.
    """
    if record.content_type is not ContentType.HANDSHAKE:
        return None
    try:
        return parse_message(record.fragment)
    except ToyTLSError:
        return None


def readable_alert(record: RawRecord) -> int | None:
    """The description code of an unprotected alert record, else None."""
    if record.content_type is not ContentType.ALERT or len(record.fragment) != _ALERT_SIZE:
        return None
    return record.fragment[1]


def refusal_alert(record: RawRecord) -> int | None:
    """The code of a readable alert that is not close_notify: the sender refuses."""
    if record.fragment == _CLOSE_NOTIFY:
        return None
    return readable_alert(record)


def is_encrypted_alert(record: RawRecord) -> bool:
    """Whether ``record`` is a protected alert (longer than level and code)."""
    return record.content_type is ContentType.ALERT and len(record.fragment) > _ALERT_SIZE


def is_client_key_exchange(event: ev.Event) -> bool:
    """Whether ``event`` is the arrival of the ClientKeyExchange: key X was sent."""
    return (
        isinstance(event, ev.HandshakeMessageReceived)
        and event.message.msg_type == HandshakeType.CLIENT_KEY_EXCHANGE
    )


def first_client_hello(record: RawRecord) -> ClientHello | None:
    """The ClientHello that must open a connection, or None for another message.

    Raises:
        ToyTLSError: The record does not hold a handshake message at all.
    """
    message = parse_message(record.fragment)
    return message if isinstance(message, ClientHello) else None


@dataclass(frozen=True, kw_only=True, slots=True)
class Verdict:
    """What to do with one relayed record."""

    #: the records to send on, in order (the record itself, changed, or twice)
    send: tuple[bytes, ...]
    #: what was done to it, if anything
    alteration: Alteration | None = None
    #: cut both connections after sending (no close_notify)
    cut: bool = False


class RecordPolicy:
    """The relay modes' attack on one connection, decided record by record.

    Only records towards the client are attacked: the Certificate (in
    tamper-cert mode) and the first application-data record (flip, replay,
    truncate). Everything else passes unchanged.

    Args:
        mode: The proxy's mode; the man-in-the-middle modes change nothing here.
    """

    def __init__(self, mode: Mode) -> None:
        self.mode = mode
        self._data_to_client = 0
        #: the change made on this connection, once made
        self.altered: Alteration | None = None
        #: a readable refusal came after the change (already told as such)
        self._refused = False
        self._key_exchange_after = False
        self._alerts_after = {Direction.TO_SERVER: 0, Direction.TO_CLIENT: 0}

    def judge(self, direction: Direction, record: RawRecord) -> Verdict:
        """What to forward for ``record``, going ``direction``."""
        self._watch(direction, record)
        verdict = self._judge(direction, record)
        if verdict.alteration is not None and self.altered is None:
            self.altered = verdict.alteration
        return verdict

    def _watch(self, direction: Direction, record: RawRecord) -> None:
        """Note what follows the change: the part of it the attacker can see."""
        if self.altered is None:
            return
        if is_encrypted_alert(record):
            self._alerts_after[direction] += 1
        elif direction is Direction.TO_SERVER and refusal_alert(record) is not None:
            self._refused = True
        elif direction is Direction.TO_SERVER:
            message = readable_message(record)
            if message is not None and message.msg_type == HandshakeType.CLIENT_KEY_EXCHANGE:
                self._key_exchange_after = True

    def ending(self, connection: int) -> AlterationEnded | NothingAltered | None:
        """What came of the change, told when the connection is over.

        :class:`NothingAltered` when a mode that attacks records found none
        to attack; None in watch mode and the man-in-the-middle modes, or
        when the client refused with a readable alert (that was told as it
        happened).
        """
        if self.altered is None and self.mode in _ATTACKS_RECORDS:
            return NothingAltered(connection=connection, mode=self.mode)
        if self.altered is None or self._refused:
            return None
        return AlterationEnded(
            connection=connection,
            what=self.altered,
            key_exchange_after=self._key_exchange_after,
            client_alerts_after=self._alerts_after[Direction.TO_SERVER],
            server_alerts_after=self._alerts_after[Direction.TO_CLIENT],
        )

    def _judge(self, direction: Direction, record: RawRecord) -> Verdict:
        raw = record.header + record.fragment
        if direction is not Direction.TO_CLIENT:
            return Verdict(send=(raw,))
        if self.mode is Mode.TAMPER_CERT:
            changed = tamper_certificate_record(record)
            if changed is None:
                return Verdict(send=(raw,))
            return Verdict(send=(changed,), alteration=Alteration.TAMPER_CERTIFICATE)
        if record.content_type is not ContentType.APPLICATION_DATA:
            return Verdict(send=(raw,))
        self._data_to_client += 1
        if self._data_to_client != 1:  # each data attack works on the first record
            return Verdict(send=(raw,))
        if self.mode is Mode.FLIP:
            return Verdict(send=(flip_bit(record),), alteration=Alteration.FLIP)
        if self.mode is Mode.REPLAY:
            return Verdict(send=(raw, raw), alteration=Alteration.REPLAY)
        if self.mode is Mode.TRUNCATE:
            return Verdict(send=(raw,), alteration=Alteration.TRUNCATE, cut=True)
        return Verdict(send=(raw,))
