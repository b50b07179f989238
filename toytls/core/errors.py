"""The exceptions toytls raises.

Every protocol failure is a :class:`ToyTLSError` that carries the alert that
was sent or received and says whose fault it was (h2's ``error_code``,
tlslite's ``TLSLocalAlert``). The trio stream raises
``trio.BrokenResourceError`` *from* one of these, so ``exc.__cause__`` always
tells what went wrong.
"""

from __future__ import annotations

from .constants import AlertDescription, alert_name


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
    """

    def __init__(
        self,
        message: str,
        *,
        alert: AlertDescription | int | None,
        from_peer: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.alert = alert
        self.from_peer = from_peer

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
    ) -> None:
        super().__init__(message, alert=alert, from_peer=False)


class CertificateVerifyError(ToyTLSError):
    """The server's certificate chain failed a check of §4.

    Attributes:
        reason: One sentence for people, naming what failed (for example
            "the certificate is for attacker.test, not localhost").
    """

    def __init__(self, reason: str, *, alert: AlertDescription) -> None:
        super().__init__(f"certificate rejected: {reason}", alert=alert)
        self.reason = reason
