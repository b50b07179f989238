"""Find English left in output meant to be Chinese (issue 13, item 4).

A zh run may show data, identifiers and commands as they are: quoted text,
alert and message names (``bad_record_mac``, ``ClientHello``), flags,
paths, ``host:port``, hex, distinguished names, ``toytls COMMAND``, an HTTP
head. What it must not show is a sentence, a label or a state of ours left
in English. The signs, once data and identifiers are taken out: two or more
lowercase English words in a row, a word with an ASCII colon after it
(``reply:``), or one of the one-word states our English lines end in.
"""

from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_STAMP = re.compile(r"^\[\d\d:\d\d:\d\d\.\d{3}\] ")
#: Quoted data and commands: shown as they are.
_QUOTED = re.compile(r"b?'[^']*'|\"[^\"]*\"|“[^”]*”|‘[^’]*’|`[^`]*`|「[^」]*」")
#: ``toytls demo``, ``python3 -m http.server``: commands named in running text.
_COMMAND = re.compile(r"\b(?:toytls|python3?|curl|tshark|openssl)(?: +-{0,2}[\w.:/=-]+)*")
#: snake_case, kebab-case, dotted names, paths, flags, key=value, host:port, hex.
_IDENTIFIER = re.compile(
    r"(?<![\w-])(?:\w+://\S+|\w+:[^\s:：，。）)]+|--?[\w-]+|[\w.+-]*[_/=.\\][\w./=:+-]*|\w+(?:-\w+)+|[0-9a-f]{2,}…?)(?![\w-])"
)
_WORDS = re.compile(r"\b[a-z][a-z'’]+\b(?:[ ,;:]+\b[a-z][a-z'’]+\b)+")
_LABEL = re.compile(r"(?:^|[\s#(])([A-Za-z]{3,}):(?!//)(?: |$)")
_STATE = re.compile(r"\b(?:accepted|closed|disconnected|failed|interrupted|stopped)\b")


def english_in(line: str) -> list[str]:
    """The English found in one printed line (empty if none)."""
    text = _STAMP.sub("", _ANSI.sub("", line)).strip()
    if text.startswith(("< ", "> ")):  # an HTTP head: the protocol's own words
        return []
    if text.startswith("回复："):  # the client's reply line: all data after the label
        return []
    bare = _IDENTIFIER.sub(" ", _COMMAND.sub(" ", _QUOTED.sub(" ", text)))
    found = [m.group() for m in _WORDS.finditer(bare)]
    found += [m.group(1) + ":" for m in _LABEL.finditer(bare)]
    found += [m.group() for m in _STATE.finditer(bare) if m.group() not in " ".join(found)]
    return found


def english_sentences(text: str) -> list[str]:
    """One ``'words' in 'line'`` entry per piece of English in ``text``.

    Empty when the text is all Chinese; otherwise ready for an assertion
    message.
    """
    return [
        f"{found!r} in {line.strip()!r}" for line in text.splitlines() for found in english_in(line)
    ]
