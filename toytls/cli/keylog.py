"""Append each connection's key log line to a file (``--keylog``, ``TOYTLS_KEYLOGFILE``).

The line itself comes from :class:`toytls.story.keylog.KeyLogWatcher`; this
module only writes it. The file is created readable by its owner only
(it holds the keys of every conversation it lists) and each line is
appended whole, so several connections or processes can share one file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ..core import events as ev
from ..story.error_texts import os_error_text
from ..story.keylog import KeyLogWatcher
from .status_texts import status_text

Handler = Callable[[ev.Event], None]


def append_line(path: Path, line: str) -> None:
    """Append ``line`` and a newline to ``path`` (created with mode 0600).

    Raises:
        OSError: The file cannot be opened or written.
    """
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="ascii") as file:
        file.write(line + "\n")


def check_writable(path: Path | None) -> None:
    """Fail now, not at the first connection, if the key log cannot be written.

    Raises:
        OSError: It cannot be opened for appending (creating it if need be).
    """
    if path is not None:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.close(fd)


def with_keylog(
    handler: Handler, path: Path | None, warn: Callable[[str], None], lang: str = "en"
) -> Handler:
    """``handler``, and also append this connection's key log line to ``path``.

    Make one per connection. Without a path, ``handler`` itself. A write
    that fails is a warning (``warn``, in ``lang``); the connection goes on.
    """
    if path is None:
        return handler
    watcher = KeyLogWatcher()

    def on_event(event: ev.Event) -> None:
        handler(event)
        line = watcher.see(event)
        if line is not None:
            try:
                append_line(path, line)
            except OSError as exc:
                why = os_error_text(exc, lang)
                warn(status_text("keylog_unwritable", lang, path=path, why=why))

    return on_event
