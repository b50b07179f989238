"""Find English sentences left in text that should be Chinese.

Quoted text (a name, a peer's words, a library's own message) and
identifiers (anything holding ``=``, ``_``, ``/``, ``.`` or a digit: field
and alert names, DNs, hex, paths, numbers) are taken out first; what is
left may hold single English words (protocol names such as ``handshake``)
but not three lowercase English words in a row.
"""

from __future__ import annotations

import re

#: Quoted text: '…', "…", “…”, `…`.
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|“[^”]*”|`[^`]*`")
#: Identifiers, hex, paths, DNs, numbers: ASCII runs with one of = _ / . digits.
_IDENTIFIER = re.compile(r"[A-Za-z0-9_.=/+\\-]*[=_/.0-9][A-Za-z0-9_.=/+\\-]*")
#: Three lowercase English words in a row: a sentence, not a name.
_SENTENCE = re.compile(r"(?:\b[a-z][a-z'’-]+\b[ ,:;]+){2,}\b[a-z][a-z'’-]+\b")


def english(text: str) -> list[str]:
    """The English sentences left in ``text`` (none in good Chinese)."""
    bare = _IDENTIFIER.sub(" ", _QUOTED.sub(" ", text))
    return _SENTENCE.findall(bare)
