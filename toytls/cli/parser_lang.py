"""``--help`` and usage errors in the user's language.

The parser is built in English (:mod:`.parser`); for ``zh``,
:func:`localise` then swaps every text argparse will show — descriptions,
each flag's help, group titles, argparse's own "show this help message
and exit" — for its Chinese from :data:`.parser_texts.ZH`, and
:class:`ToyParser` puts argparse's own words ("usage:", "error:", and the
error messages it composes) into Chinese as they are printed.

The language is chosen before the parser exists (:func:`choose_lang`), so
``--lang zh`` works before or after ``--help``, and on commands that have
no ``--lang`` of their own: the last ``--lang`` on the line, else the
environment variable ``TOYTLS_LANG``, else English. The locale (``LANG``,
``LC_ALL``) is not read: what a command prints must not change with the
language of the desktop it runs on.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import NoReturn

from . import parser_texts as texts

LANGUAGES = ("en", "zh")
#: The environment variable that chooses the language when no --lang is given.
LANG_VARIABLE = "TOYTLS_LANG"


def choose_lang(argv: Sequence[str], environ: Mapping[str, str]) -> str:
    """The language of this run: the last ``--lang`` in ``argv``, ``TOYTLS_LANG``, or en.

    ``--lang zh``, ``--lang=zh`` and argparse's abbreviations (``--la zh``)
    count; anything after ``--`` does not. An unknown value is left for
    argparse to refuse.
    """
    chosen: str | None = None
    words = list(argv)
    for index, word in enumerate(words):
        if word == "--":
            break
        name, equals, value = word.partition("=")
        if len(name) < len("--la") or not "--lang".startswith(name):
            continue
        if not equals:
            value = words[index + 1] if index + 1 < len(words) else ""
        if value in LANGUAGES:
            chosen = value
    if chosen is not None:
        return chosen
    wanted = environ.get(LANG_VARIABLE, "").strip().lower()
    return "zh" if wanted.startswith("zh") else "en"


class ToyParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that speaks :attr:`lang` in its help and its errors.

    Sub-parsers are made with the same class, and :func:`localise` sets
    :attr:`lang` on each.
    """

    #: "en" or "zh"
    lang: str = "en"

    def _get_formatter(self) -> argparse.HelpFormatter:
        if self.lang == "zh":
            return ChineseHelpFormatter(prog=self.prog)
        return super()._get_formatter()

    def error(self, message: str) -> NoReturn:
        """Print the usage and ``PROG: error: MESSAGE`` on stderr, exit 2 — in :attr:`lang`."""
        if self.lang != "zh":
            super().error(message)
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: 错误：{translate_error(message)}\n")


class ChineseHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help in Chinese: "用法：" for "usage: ", and lines wrapped by their width on screen.

    A Chinese character takes two columns of a terminal; argparse counts it
    as one, and would print help lines up to twice as wide as the screen.
    """

    #: As wide on screen as 用法： (6 columns), swapped for it once the usage is laid out.
    _PLACEHOLDER = "usage:"

    def _format_usage(
        self,
        usage: str | None,
        actions: Iterable[argparse.Action],
        groups: Iterable[argparse._MutuallyExclusiveGroup],
        prefix: str | None,
    ) -> str:
        if prefix is not None:
            return super()._format_usage(usage, actions, groups, prefix)
        text = super()._format_usage(usage, actions, groups, self._PLACEHOLDER)
        return "用法：" + text.removeprefix(self._PLACEHOLDER)

    def _split_lines(self, text: str, width: int) -> list[str]:
        return wrap_display(" ".join(text.split()), width)

    def format_help(self) -> str:
        # argparse ends each section's heading with ":"; a Chinese one takes "：".
        return _HEADING.sub(r"\1：", super().format_help())


#: A section heading argparse made from a Chinese title: "选项:".
_HEADING = re.compile(r"^(\S[^\n:]*[\u4e00-\u9fff]):$", re.MULTILINE)


def display_width(text: str) -> int:
    """Columns ``text`` takes on a terminal: two for each wide (CJK) character."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


#: Punctuation that must not start a line; it stays with what it follows.
_NO_LINE_START = set("，。、；：！？）」』》”’〉,.;:!?)]}>…")
#: Punctuation that must not end a line; it goes with what follows it.
_NO_LINE_END = set("（「『《“‘〈([{<")
#: A run of narrow non-space characters (a word, a flag, a number), one wide
#: character, or one space.
_TOKEN = re.compile(r"[^\s\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]+|\s|.")


def wrap_display(text: str, width: int) -> list[str]:
    """Wrap ``text`` to ``width`` columns, breaking between Chinese characters or at spaces.

    Words, flags and numbers are never split; a closing mark such as "，"
    or "）" never starts a line (it takes the character before it along),
    an opening one such as "（" never ends one.
    """
    lines: list[list[str]] = [[]]
    for token in _TOKEN.findall(text):
        line = lines[-1]
        if not line or display_width("".join(line) + token) <= width:
            if line or not token.isspace():
                line.append(token)
            continue
        carried = [] if token.isspace() else [token]
        while carried and carried[0] in _NO_LINE_START and len(line) > 1:
            carried.insert(0, line.pop())
        while len(line) > 1 and (line[-1] in _NO_LINE_END or line[-1].isspace()):
            if not line[-1].isspace():
                carried.insert(0, line[-1])
            line.pop()
        lines.append(carried)
    return [text for text in ("".join(line).strip() for line in lines) if text]


def translate_error(message: str) -> str:
    """argparse's English error ``message`` in Chinese, as far as :data:`.parser_texts.ERRORS` goes.

    "argument X: …" is translated around its own message; a message no
    pattern knows is left as it is.
    """
    argument = re.fullmatch(r"argument (.+?): (.*)", message, re.DOTALL)
    if argument is not None:
        return f"参数 {argument[1]}：{translate_error(argument[2])}"
    for pattern, chinese in texts.ERRORS:
        found = re.fullmatch(pattern, message, re.DOTALL)
        if found is not None:
            return found.expand(chinese)
    return message


def localise(parser: argparse.ArgumentParser, lang: str) -> None:
    """Set ``parser``, its groups, flags and sub-parsers to speak ``lang``.

    Every ``--lang`` of every command defaults to ``lang``, so ``TOYTLS_LANG``
    and a ``--lang`` before the command name choose the command's language too.
    For ``zh``, each text is replaced by its entry in :data:`.parser_texts.ZH`
    (an English text without one stays English: the tests find it).
    """
    for each in _all_parsers(parser):
        if isinstance(each, ToyParser):
            each.lang = lang
        if any(action.dest == "lang" for action in each._actions):
            each.set_defaults(lang=lang)
        if lang == "en":
            continue
        each.description = _say(each.description)
        each.epilog = _say(each.epilog)
        for group in each._action_groups:
            group.title = _say(group.title)
            group.description = _say(group.description)
        for action in each._actions:
            action.help = _say(action.help)
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    choice.help = _say(choice.help)


def _all_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found.extend(_all_parsers(sub))
    return found


def _say(text: str | None) -> str | None:
    """``text`` in Chinese, or as it is when it has no translation (None stays None)."""
    if text is None:
        return None
    return texts.ZH.get(text, text)
