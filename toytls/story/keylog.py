"""The key log: one ``CLIENT_RANDOM <client random> <key X>`` line per connection.

Like the ``SSLKEYLOGFILE`` of real TLS (NSS key log format), but the secret
is toytls/1's key X, from which every key of the connection is derived
(``docs/keylog.md``). :class:`KeyLogWatcher` turns a connection's events
into its line; :func:`parse_keylog` reads a file's text back. Pure: the
command line does the file I/O.
"""

from __future__ import annotations

from ..core import events as ev
from ..core.constants import RANDOM_SIZE, SECRET_SIZE
from ..core.errors import ConfigError
from ..core.messages import ClientHello

#: The label of each line, as in NSS's key log format.
LABEL = "CLIENT_RANDOM"


def keylog_line(client_random: bytes, secret: bytes) -> str:
    """``CLIENT_RANDOM <64 hex digits> <64 hex digits>``, without a newline."""
    return f"{LABEL} {client_random.hex()} {secret.hex()}"


class KeyLogWatcher:
    """Follows one connection's events; gives its key log line once X is known.

    Feed it every event of the connection in order: the ClientHello (sent or
    received) gives the client random, and ``KeysDerived`` gives key X.
    """

    def __init__(self) -> None:
        self._client_random: bytes | None = None
        self._done = False

    def see(self, event: ev.Event) -> str | None:
        """The line to log, the one time both halves are known; else None."""
        if isinstance(event, ev.HandshakeMessageSent | ev.HandshakeMessageReceived):
            if isinstance(event.message, ClientHello):
                self._client_random = event.message.random
            return None
        if isinstance(event, ev.KeysDerived) and self._client_random and not self._done:
            self._done = True
            return keylog_line(self._client_random, event.secret)
        return None


class KeyLogError(ConfigError):
    """A key log holds no usable line (message id ``keylog.no_line``)."""


def parse_keylog(text: str) -> dict[bytes, bytes]:
    """Read a key log: client random → key X.

    Lines that are blank, start with ``#`` or carry another label (a real
    TLS key log may be mixed in) are skipped; a ``CLIENT_RANDOM`` line with
    the wrong sizes is skipped too.

    Raises:
        KeyLogError: Not one usable ``CLIENT_RANDOM`` line.
    """
    keys: dict[bytes, bytes] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 3 or parts[0] != LABEL:
            continue
        try:
            random, secret = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
        except ValueError:
            continue
        if len(random) == RANDOM_SIZE and len(secret) == SECRET_SIZE:
            keys[random] = secret
    if not keys:
        raise KeyLogError(
            f"no usable {LABEL} line (expected {LABEL} <64 hex> <64 hex>)",
            key="keylog.no_line",
            params={"label": LABEL},
        )
    return keys
