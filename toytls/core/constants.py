"""Protocol constants of toytls/1, named as ``PROTOCOL.md`` names them.

Everything here is data: the numbers that go on the wire and the limits a
receiver enforces. The section of the specification that defines each value
is given in a ``#:`` comment beside it.
"""

from __future__ import annotations

from enum import IntEnum

#: §1 — the only record version toytls/1 speaks.
PROTOCOL_VERSION = 0x0100

#: §1 — bytes in a record header: content_type, version, length.
RECORD_HEADER_SIZE = 5

#: §1 — the largest fragment of an unprotected record.
MAX_PLAINTEXT = 16384

#: §3.4 — AES-128-GCM tag length.
TAG_SIZE = 16

#: §1 — the largest fragment of a protected record (plaintext + tag).
MAX_CIPHERTEXT = MAX_PLAINTEXT + TAG_SIZE

#: §1 — more empty application_data records in a row than this is fatal.
MAX_EMPTY_RECORDS = 32

#: §2 — length of ClientHello.random and ServerHello.random.
RANDOM_SIZE = 32

#: §3.2 — length of the session secret (the article's key X).
SECRET_SIZE = 32

#: §2 — length of Finished.verify_data.
VERIFY_DATA_SIZE = 32

#: §2 — handshake message header: msg_type (1) and uint24 length.
HANDSHAKE_HEADER_SIZE = 4

#: §2 — server_name<1..253>.
MAX_SERVER_NAME = 253

#: §2 — a Certificate message carries 1 to 8 entries.
MAX_CERTIFICATES = 8

#: §3.4 — the last usable sequence number in one direction.
MAX_SEQ = 2**64 - 1

#: §3.4 — the cipher every connection uses (for descriptions only).
CIPHER_NAME = "AES-128-GCM"

#: The protocol's name as shown to people.
PROTOCOL_NAME = "toytls/1"


class ContentType(IntEnum):
    """Record content types (§1)."""

    #: §5
    ALERT = 21
    #: §2
    HANDSHAKE = 22
    #: §3.4
    APPLICATION_DATA = 23


class HandshakeType(IntEnum):
    """Handshake message types (§2)."""

    CLIENT_HELLO = 1
    SERVER_HELLO = 2
    CERTIFICATE = 11
    CLIENT_KEY_EXCHANGE = 16
    FINISHED = 20


class AlertLevel(IntEnum):
    """Alert levels (§5)."""

    #: only ever sent with close_notify
    WARNING = 1
    FATAL = 2


class AlertDescription(IntEnum):
    """Alert codes (§5); the docstring of each member says when it is sent."""

    #: a side has finished sending
    CLOSE_NOTIFY = 0
    #: a record or message not allowed now, or an unknown content type
    UNEXPECTED_MESSAGE = 10
    #: a protected record fails to decrypt (§3.4)
    BAD_RECORD_MAC = 20
    #: a record header announces more than the limit (§1)
    RECORD_OVERFLOW = 22
    #: a certificate check of §4 failed
    BAD_CERTIFICATE = 42
    #: a certificate on the path is outside its validity period (§4)
    CERTIFICATE_EXPIRED = 45
    #: a field holds a value outside its allowed set (§2 server_name)
    ILLEGAL_PARAMETER = 47
    #: the chain does not lead to a trusted root (§4)
    UNKNOWN_CA = 48
    #: a malformed message or alert
    DECODE_ERROR = 50
    #: a Finished that decrypts but does not match (§3.3)
    DECRYPT_ERROR = 51
    #: record version not 0x0100 (§1)
    PROTOCOL_VERSION = 70
    #: a local failure unrelated to the peer
    INTERNAL_ERROR = 80
    #: the server does not serve the name asked for (§2, optional)
    UNRECOGNIZED_NAME = 112


def alert_name(code: int) -> str:
    """Return the spec's name for an alert code, or ``"unknown(N)"``."""
    try:
        return AlertDescription(code).name.lower()
    except ValueError:
        return f"unknown({code})"
