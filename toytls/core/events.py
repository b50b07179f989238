"""Events: what a :class:`~toytls.core.connection.Connection` reports.

Every step of a connection is an event — a frozen, keyword-only dataclass —
so a test compares whole lists, the trio stream reads the data events, and
the narration (CLI, proxy, demo) reads the same list to tell the story. The
library itself never prints.

Events marked *trace* are only produced when the connection was created with
``trace=True``; the rest always are.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .constants import AlertDescription, AlertLevel, ContentType
from .errors import ToyTLSError
from .keyschedule import KeySchedule
from .links import LinkCheck
from .messages import AnyMessage


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionInfo:
    """A read-only description of an established session."""

    protocol: str
    cipher: str
    #: the name the client asked for in ClientHello
    server_name: str
    #: the chain the server sent, DER, leaf first
    certificate_chain: tuple[bytes, ...]
    #: True if the client checked the chain (§4); False in no-verification
    #: mode; None on the server side
    verified: bool | None
    #: a short, printable fingerprint of the session secret (key X)
    session_key_fingerprint: str
    client_random: bytes
    server_random: bytes

    @property
    def certificate_fingerprints(self) -> tuple[str, ...]:
        """SHA-256 of each certificate in :attr:`certificate_chain`, hex."""
        return tuple(hashlib.sha256(der).hexdigest() for der in self.certificate_chain)


@dataclass(frozen=True, kw_only=True, slots=True)
class HandshakeMessageSent:
    """This side sent a handshake message (its encoding is ``raw``)."""

    message: AnyMessage
    raw: bytes


@dataclass(frozen=True, kw_only=True, slots=True)
class HandshakeMessageReceived:
    """A handshake message arrived and passed the checks for now."""

    message: AnyMessage
    raw: bytes


@dataclass(frozen=True, kw_only=True, slots=True)
class CertificateChecked:
    """*Trace*: the client examined one link of the chain (digests T and S).

    Narration only: trust is decided by the verifier (see ChainVerified).
    """

    link: LinkCheck


@dataclass(frozen=True, kw_only=True, slots=True)
class ChainVerified:
    """The client accepted the chain: it leads to a trusted root (§4)."""

    server_name: str
    #: subjects on the validated path, leaf first, root last
    path: tuple[str, ...]
    #: SHA-256 of the anchoring root's DER, hex: which trusted root vouched
    #: (the client's command tells a built-in root from one added by hand)
    root_sha256: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class VerificationSkipped:
    """The client did *not* check the chain: no-verification mode.

    Whoever sits on the wire can now read and change everything.
    """

    server_name: str


@dataclass(frozen=True, kw_only=True, slots=True)
class KeysDerived:
    """Both directions' keys exist; protection starts now (§3.3, §3.4)."""

    #: the session secret, the article's key X
    secret: bytes
    schedule: KeySchedule


@dataclass(frozen=True, kw_only=True, slots=True)
class HandshakeComplete:
    """Both Finished messages checked out; application data may flow."""

    session: SessionInfo


@dataclass(frozen=True, kw_only=True, slots=True)
class ApplicationData:
    """Decrypted application bytes from the peer."""

    data: bytes


@dataclass(frozen=True, kw_only=True, slots=True)
class CloseNotifyReceived:
    """The peer has finished sending; a clean end of its data (§5)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class AlertSent:
    """This side sent an alert."""

    level: AlertLevel
    description: AlertDescription
    protected: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class AlertReceived:
    """The peer sent an alert (the code may be one the spec does not define)."""

    level: int
    description: int


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordSent:
    """*Trace*: one record left this side.

    ``seq`` and ``nonce`` are None for an unprotected record.
    """

    content_type: ContentType
    record: bytes
    plaintext: bytes
    seq: int | None
    nonce: bytes | None


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordReceived:
    """*Trace*: one record arrived and (if protected) decrypted."""

    content_type: ContentType
    record: bytes
    plaintext: bytes
    seq: int | None
    nonce: bytes | None


@dataclass(frozen=True, kw_only=True, slots=True)
class ConnectionFailed:
    """The connection is over because of ``error``; always the last event."""

    error: ToyTLSError


Event = (
    HandshakeMessageSent
    | HandshakeMessageReceived
    | CertificateChecked
    | ChainVerified
    | VerificationSkipped
    | KeysDerived
    | HandshakeComplete
    | ApplicationData
    | CloseNotifyReceived
    | AlertSent
    | AlertReceived
    | RecordSent
    | RecordReceived
    | ConnectionFailed
)
