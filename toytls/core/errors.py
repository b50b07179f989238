"""The exceptions toytls raises.

Every protocol failure is a :class:`ToyTLSError` that carries the alert that
was sent or received and says whose fault it was (h2's ``error_code``,
tlslite's ``TLSLocalAlert``). The trio stream raises
``trio.BrokenResourceError`` *from* one of these, so ``exc.__cause__`` always
tells what went wrong.

Every error also carries a stable message id (``key``) and the values that
fill it (``params``), so that the story layer can say it in English or
Chinese (:mod:`toytls.story.error_texts`) without parsing the English
message. The English message itself stays as it is, for library users.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from .constants import AlertDescription, alert_name

_NO_PARAMS: Mapping[str, object] = MappingProxyType({})


def _frozen(params: Mapping[str, object] | None) -> Mapping[str, object]:
    return _NO_PARAMS if not params else MappingProxyType(dict(params))


class ToyTLSError(Exception):
    """A toytls/1 connection failed.

    Attributes:
        alert: The alert code that ended the connection: the one this side
            sent (``from_peer`` is False) or the one the peer sent
            (``from_peer`` is True). ``None`` when no alert was exchanged, as
            for a truncated connection or a transport that closed mid-way.
            An ``int`` rather than an :class:`AlertDescription` only for a
            code the peer sent that the spec does not define.
        from_peer: True when the peer reported the failure with an alert;
            False when this side detected it (whether the peer misbehaved
            or a local check failed).
        key: The message's stable id (``"record.bad_mac"``, …), or ``None``
            for an error raised without one.
        params: The values the message was made from, by name (read-only).
    """

    def __init__(
        self,
        message: str,
        *,
        alert: AlertDescription | int | None,
        from_peer: bool = False,
        key: str | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.alert = alert
        self.from_peer = from_peer
        self.key = key
        self.params = _frozen(params)

    @property
    def alert_name(self) -> str | None:
        """The spec's name of :attr:`alert`, or ``None`` without one."""
        return None if self.alert is None else alert_name(self.alert)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, alert={self.alert_name}, "
            f"from_peer={self.from_peer})"
        )


class DecodeError(ToyTLSError):
    """Bytes that do not parse as the structure they claim to be.

    Every parser in toytls raises this and nothing else for bad input; its
    alert is ``decode_error`` unless a more specific one applies (for example
    ``illegal_parameter`` for forbidden bytes in ``server_name``).
    """

    def __init__(
        self,
        message: str,
        *,
        alert: AlertDescription = AlertDescription.DECODE_ERROR,
        key: str | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message, alert=alert, from_peer=False, key=key, params=params)


class CertificateVerifyError(ToyTLSError):
    """The server's certificate chain failed a check of §4.

    Attributes:
        reason: One sentence for people, in English, naming what failed (for
            example "the certificate is for attacker.test, not localhost").
            ``key`` and ``params`` are those of the reason.
    """

    def __init__(
        self,
        reason: str,
        *,
        alert: AlertDescription,
        key: str | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(f"certificate rejected: {reason}", alert=alert, key=key, params=params)
        self.reason = reason


class ConfigError(ValueError):
    """A setting or a file given to toytls that it cannot use.

    A ``ValueError``, as before; it adds what :class:`ToyTLSError` carries
    for people: a message id and its values.

    Attributes:
        detail: The message without the file it concerns.
        path: The file the value came from, if any; ``str(error)`` is then
            ``"PATH: detail"``.
        key: The message's stable id, or ``None``.
        params: The values of the message, by name (read-only).
    """

    def __init__(
        self,
        detail: str,
        *,
        key: str | None = None,
        params: Mapping[str, object] | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(detail if path is None else f"{path}: {detail}")
        self.detail = detail
        self.key = key
        self.params = _frozen(params)
        self.path = path

    def within(self, path: str) -> ConfigError:
        """The same error, said of the file ``path``."""
        return type(self)(self.detail, key=self.key, params=self.params, path=path)
