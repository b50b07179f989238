"""Text from the network made safe for a terminal or a log.

Anything a peer chose — a certificate's name, a chat line, an alert's
reason, an HTTP head — may hold a newline that forges a log line of our
own, or an escape sequence that recolours, moves the cursor or clears the
screen. :func:`printable` shows every such character as a visible escape
(``\\n``, ``\\x1b``, ``\\u202e``) and leaves all other text, Chinese
included, as it is. The command line applies it to every line it writes,
before it adds colour codes of its own (``toytls.cli.console``).
"""

from __future__ import annotations

import unicodedata

#: Characters that reorder the text around them (the "Trojan Source" trick).
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)

#: Short escapes, as Python writes them.
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def is_unsafe(char: str) -> bool:
    """Whether ``char`` can change what a terminal shows beyond itself.

    Control characters (C0, DEL, C1), line and paragraph separators, bidi
    controls, and lone surrogates (bytes that were not UTF-8, kept by
    ``surrogateescape``).
    """
    if char in _BIDI_CONTROLS:
        return True
    return unicodedata.category(char) in ("Cc", "Zl", "Zp", "Cs")


def _escape(char: str) -> str:
    short = _SHORT.get(char)
    if short is not None:
        return short
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every unsafe character written as a visible escape.

    A backslash is doubled only when the text needs escaping at all, so
    that ordinary text (a Windows path, a regular expression) reads as it
    was, while an escaped line cannot be confused with one whose peer
    typed the backslashes itself.

    >>> printable("ok\\n[6/6] FORGED\\x1b[2J")
    'ok\\\\n[6/6] FORGED\\\\x1b[2J'
    >>> printable("你好")
    '你好'
    """
    if not any(is_unsafe(char) for char in text):
        return text
    return "".join(_escape(char) if is_unsafe(char) or char == "\\" else char for char in text)


def printable_bytes(data: bytes | bytearray) -> str:
    """Bytes from the network as text: UTF-8 where it is, ``\\xNN`` where not, escaped."""
    return printable(bytes(data).decode("utf-8", errors="surrogateescape"))
