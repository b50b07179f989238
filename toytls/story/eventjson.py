"""Events as JSON-ready dicts: one flat-ish object per event, for logs and tools.

:func:`event_to_dict` turns any :mod:`toytls.core.events` event into a dict that
``json.dumps`` accepts as it is: bytes become lowercase hex, enums their
number (with a ``*_name`` beside it where a person wants the name), handshake
messages ``{"type": "ClientHello", ...}``, and nested records (LinkCheck,
KeySchedule, SessionInfo) dicts of their own. It adds no time stamp — the
caller (the CLI) does — and never prints.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from enum import IntEnum

from ..core import events as ev
from ..core.constants import AlertLevel, ContentType, alert_name
from ..core.errors import CertificateVerifyError, ToyTLSError
from ..core.messages import AnyMessage

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")

#: Every event class :func:`event_to_dict` accepts: the members of ``Event``.
EVENT_TYPES: tuple[type, ...] = typing.get_args(ev.Event)


def event_name(event: ev.Event) -> str:
    """The event's class name in snake case, e.g. ``"handshake_message_sent"``."""
    return _CAMEL.sub("_", type(event).__name__).lower()


def _plain(value: object) -> object:
    """A JSON-ready copy of a field value."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, IntEnum):
        return int(value)
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def message_to_dict(message: AnyMessage) -> dict[str, object]:
    """A handshake message as ``{"type": "ClientHello", "msg_type": 1, ...fields}``."""
    result: dict[str, object] = {
        "type": type(message).__name__,
        "msg_type": int(message.msg_type),
    }
    for field in dataclasses.fields(message):
        result[field.name] = _plain(getattr(message, field.name))
    return result


def _session(session: ev.SessionInfo) -> dict[str, object]:
    result = _plain(session)
    assert isinstance(result, dict)
    result["certificate_fingerprints"] = list(session.certificate_fingerprints)
    return result


def _level_name(level: int) -> str:
    try:
        return AlertLevel(level).name.lower()
    except ValueError:
        return f"unknown({level})"


def error_to_dict(error: ToyTLSError) -> dict[str, object]:
    """The fields of a ConnectionFailed error.

    ``reason`` is the sentence of a :class:`~toytls.core.errors.CertificateVerifyError`
    and None for any other error.
    """
    return {
        "error": error.message,
        "error_type": type(error).__name__,
        "alert": error.alert_name,
        "alert_code": None if error.alert is None else int(error.alert),
        "from_peer": error.from_peer,
        "reason": error.reason if isinstance(error, CertificateVerifyError) else None,
    }


def _fields(event: ev.Event) -> dict[str, object]:
    """The event-specific part of :func:`event_to_dict`."""
    if isinstance(event, ev.HandshakeMessageSent | ev.HandshakeMessageReceived):
        return {"message": message_to_dict(event.message), "raw": event.raw.hex()}
    if isinstance(event, ev.HandshakeComplete):
        return {"session": _session(event.session)}
    if isinstance(event, ev.AlertSent | ev.AlertReceived):
        result: dict[str, object] = {
            "level": int(event.level),
            "level_name": _level_name(event.level),
            "description": int(event.description),
            "description_name": alert_name(event.description),
        }
        if isinstance(event, ev.AlertSent):
            result["protected"] = event.protected
        return result
    if isinstance(event, ev.RecordSent | ev.RecordReceived):
        return {
            "content_type": int(event.content_type),
            "content_type_name": ContentType(event.content_type).name.lower(),
            "record": event.record.hex(),
            "plaintext": event.plaintext.hex(),
            "seq": event.seq,
            "nonce": None if event.nonce is None else event.nonce.hex(),
        }
    if isinstance(event, ev.ConnectionFailed):
        return error_to_dict(event.error)
    # The rest hold only plain values, bytes and dataclasses (LinkCheck,
    # KeySchedule): copy them field by field.
    return {f.name: _plain(getattr(event, f.name)) for f in dataclasses.fields(event)}


def event_to_dict(event: ev.Event, *, side: str) -> dict[str, object]:
    """One JSON-serialisable dict for one event.

    Args:
        event: Any event of :mod:`toytls.core.events`.
        side: Who reported it (``"client"``, ``"server"``, ``"proxy"``…);
            copied into the result as is.

    Returns:
        ``{"event": <snake_case name>, "side": side, ...fields}``. Bytes are
        lowercase hex; a message is ``{"type": <class name>, "msg_type": n,
        ...}``; alerts carry ``description`` and ``description_name``;
        ``connection_failed`` carries ``error``, ``alert`` (name or None),
        ``from_peer`` and ``reason``.

    Raises:
        TypeError: ``event`` is not an event.
    """
    if not isinstance(event, EVENT_TYPES):
        raise TypeError(f"not a toytls event: {type(event).__name__}")
    return {"event": event_name(event), "side": side, **_fields(event)}
