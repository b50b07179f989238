"""The events of :mod:`toytls.core.events`, under the name they had before the
core became a package: ``import toytls.events`` keeps working.

Nothing lives here; every name is the core's own object.
"""

from __future__ import annotations

from .core.events import (
    AlertReceived,
    AlertSent,
    ApplicationData,
    CertificateChecked,
    ChainVerified,
    CloseNotifyReceived,
    ConnectionFailed,
    Event,
    HandshakeComplete,
    HandshakeMessageReceived,
    HandshakeMessageSent,
    KeysDerived,
    RecordReceived,
    RecordSent,
    SessionInfo,
    VerificationSkipped,
)

__all__ = [
    "AlertReceived",
    "AlertSent",
    "ApplicationData",
    "CertificateChecked",
    "ChainVerified",
    "CloseNotifyReceived",
    "ConnectionFailed",
    "Event",
    "HandshakeComplete",
    "HandshakeMessageReceived",
    "HandshakeMessageSent",
    "KeysDerived",
    "RecordReceived",
    "RecordSent",
    "SessionInfo",
    "VerificationSkipped",
]
