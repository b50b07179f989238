"""``--help`` and usage errors in Chinese, and each command's exit-status table.

The help is read from real processes (``python -m toytls.cli.main``), the
way a user sees it: chosen by ``--lang zh`` before or after ``--help``, or
by ``TOYTLS_LANG=zh``. A Chinese help must hold no English sentence: after
quoted text, example commands, flags and choice lists are set aside, three
lowercase English words in a row are a sentence someone forgot to
translate. Each command's exit-status table must list exactly the statuses
that command can return, read from the command's module.
"""

from __future__ import annotations

import ast
import inspect
import re
import subprocess
from pathlib import Path

import pytest
from processes import COMMANDS, ENV, TOYTLS

from toytls.cli import common, main, workers
from toytls.cli.parser import build_parser
from toytls.cli.parser_lang import choose_lang, display_width, translate_error, wrap_display
from toytls.cli.parser_texts import EXIT_STATUSES

#: The top level, then each command.
TARGETS: tuple[tuple[str, ...], ...] = ((), *((c,) for c in COMMANDS))
TIMEOUT = 20
#: Help is laid out for this many columns; no line may be wider.
COLUMNS = 80


def toytls(*args: str, lang_env: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``toytls ARGS`` with ``TOYTLS_LANG`` set to ``lang_env`` (unset if None)."""
    env = {key: value for key, value in ENV.items() if key != "TOYTLS_LANG"}
    env["COLUMNS"] = str(COLUMNS)
    if lang_env is not None:
        env["TOYTLS_LANG"] = lang_env
    return subprocess.run(
        [*TOYTLS, *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        env=env,
    )


# -------------------------------------------------------- English detector

#: Three or more lowercase English words in a row: a sentence.
ENGLISH = re.compile(r"(?:\b[a-z][a-z'’-]+\b[ ,:;]+){2,}\b[a-z][a-z'’-]+\b")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|“[^”]*”|`[^`]*`")
_FLAG = re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*")
_CHOICES = re.compile(r"\{[^}]*\}")
#: Lines that are commands to type, not prose.
_EXAMPLE = re.compile(r"^(?:\d?\$ |toytls |python3 |curl |wireshark |tshark )")


def english_in(text: str) -> list[str]:
    """The English sentences in ``text``, outside quotes, examples, flags and usage lines."""
    found: list[str] = []
    in_usage = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith(("用法：", "usage:")):
            in_usage = True
        if in_usage:  # the synopsis: flags and metavariables, up to a blank line
            in_usage = bool(line)
            continue
        if _EXAMPLE.match(line):
            continue
        line = _CHOICES.sub(" ", _FLAG.sub(" ", _QUOTED.sub(" ", line)))
        found.extend(match.group(0) for match in ENGLISH.finditer(line))
    return found


def test_the_detector_finds_english_and_passes_chinese() -> None:
    assert english_in("  --app chat   show what each client says")
    assert english_in("退出状态：\n  1  cannot listen on the address")
    assert not english_in("  --app chat   显示每个客户端说的话；输入“@N 文字”只回复第 N 个")
    assert not english_in(
        "  toytls server --forward 127.0.0.1:8000   # 挡在 python -m http.server 前面"
    )
    assert not english_in("  --app {echo,chat,http}\n  密钥 'the key X'，`toytls certs first`")


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: " ".join(t) or "toytls")
def test_the_english_help_is_english(target: tuple[str, ...]) -> None:
    """The detector sees the English help (so it would see an untranslated text)."""
    result = toytls(*target, "--help")
    assert result.returncode == 0, result.stderr
    assert len(english_in(result.stdout)) > 3, result.stdout


# ------------------------------------------------------------- Chinese help


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: " ".join(t) or "toytls")
def test_help_in_chinese_has_no_english(target: tuple[str, ...]) -> None:
    result = toytls(*target, "--help", "--lang", "zh")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    text = result.stdout
    assert english_in(text) == [], text
    for heading in ("用法：", "选项：", "退出状态", "显示这份帮助并退出"):
        assert heading in text, heading
    for english in ("usage:", "options:", "exit status", "positional arguments"):
        assert english not in text, english
    wide = [
        line
        for line in text.splitlines()
        if display_width(line) > COLUMNS and not _EXAMPLE.match(line.strip())
    ]
    assert wide == [], wide


@pytest.mark.parametrize(
    ("args", "lang_env"),
    [
        pytest.param(("--lang", "zh", "--help"), None, id="toytls-lang-first"),
        pytest.param(("--help", "--lang=zh"), None, id="toytls-lang-after-help"),
        pytest.param(("--help",), "zh_CN.UTF-8", id="toytls-TOYTLS_LANG-locale-style"),
        pytest.param(("proxy", "--lang", "zh", "--help"), None, id="proxy-lang-first"),
        pytest.param(("proxy", "--help", "--lang", "zh"), None, id="proxy-lang-after-help"),
        pytest.param(("--lang", "zh", "proxy", "--help"), None, id="proxy-lang-before-command"),
        pytest.param(("proxy", "--help"), "zh", id="proxy-TOYTLS_LANG"),
        # certs has no --lang of its own (yet): the help follows all the same
        pytest.param(("certs", "--help", "--lang", "zh"), None, id="certs-lang-after-help"),
        pytest.param(("--lang", "zh", "certs", "--help"), None, id="certs-lang-before-command"),
        pytest.param(("certs", "--help"), "zh", id="certs-TOYTLS_LANG"),
    ],
)
def test_every_way_of_asking_for_chinese(args: tuple[str, ...], lang_env: str | None) -> None:
    result = toytls(*args, lang_env=lang_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("用法："), result.stdout[:200]
    assert english_in(result.stdout) == []


@pytest.mark.parametrize(
    ("args", "lang_env"),
    [
        pytest.param(("server", "--help"), "en", id="TOYTLS_LANG-en"),
        pytest.param(("server", "--help", "--lang", "en"), "zh", id="lang-beats-environment"),
        pytest.param(("server", "--help"), None, id="nothing-said"),
    ],
)
def test_english_when_asked_or_by_default(args: tuple[str, ...], lang_env: str | None) -> None:
    result = toytls(*args, lang_env=lang_env)
    assert result.stdout.startswith("usage: toytls server"), result.stdout[:200]
    assert "exit status:" in result.stdout


def test_the_locale_alone_does_not_switch_to_chinese() -> None:
    """LANG is not read (the choice documented in --help)."""
    env = {key: value for key, value in ENV.items() if key != "TOYTLS_LANG"}
    env |= {"LANG": "zh_CN.UTF-8", "LC_ALL": "zh_CN.UTF-8", "LANGUAGE": "zh_CN"}
    result = subprocess.run(
        [*TOYTLS, "--help"], capture_output=True, text=True, timeout=TIMEOUT, check=False, env=env
    )
    assert result.stdout.startswith("usage: toytls"), result.stdout[:200]
    assert "TOYTLS_LANG" in result.stdout and "LANG" in result.stdout


# -------------------------------------------------------- usage errors in zh


@pytest.mark.parametrize(
    ("args", "lang_env", "says"),
    [
        pytest.param(("proxy", "--lang", "zh"), None, "缺少必需的参数：--mode", id="required"),
        pytest.param(
            ("proxy", "--lang", "zh", "--mode", "nope"), None, "无效的选择：'nope'", id="choice"
        ),
        pytest.param(("--lang", "zh", "bogus"), None, "无效的选择：'bogus'", id="command"),
        pytest.param(
            ("client", "--wat", "--lang", "zh"), None, "无法识别的参数：--wat", id="unknown"
        ),
        pytest.param(("certs", "--wat"), "zh", "无法识别的参数：--wat", id="certs-environment"),
        pytest.param(
            ("client", "--lang", "zh", "--message", "a", "--http", "GET", "/"),
            None,
            "不能和参数 --message 一起用",
            id="not-allowed-with",
        ),
        pytest.param(("client", "--http", "GET"), "zh", "后面要跟 2 个值", id="nargs"),
        pytest.param(
            ("server", "--workers", "0", "--lang", "zh"), None, "必须是不小于 1 的整数", id="type"
        ),
    ],
)
def test_usage_errors_in_chinese(args: tuple[str, ...], lang_env: str | None, says: str) -> None:
    result = toytls(*args, lang_env=lang_env)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("用法：toytls"), lines
    assert re.match(r"toytls( \w+)?: 错误：", lines[-1]), lines[-1]
    assert says in lines[-1], lines[-1]
    assert "error" not in result.stderr and "usage" not in result.stderr
    assert english_in(lines[-1]) == [], lines[-1]


def test_an_unknown_error_stays_as_argparse_said_it() -> None:
    assert translate_error("argument --x: something new") == "参数 --x：something new"
    assert translate_error("expected 2 arguments") == "后面要跟 2 个值"


# ------------------------------------------------------- choosing a language


@pytest.mark.parametrize(
    ("argv", "environ", "lang"),
    [
        ([], {}, "en"),
        ([], {"TOYTLS_LANG": "zh"}, "zh"),
        ([], {"TOYTLS_LANG": "ZH_tw"}, "zh"),
        ([], {"TOYTLS_LANG": "fr"}, "en"),
        ([], {"LANG": "zh_CN.UTF-8", "LC_ALL": "zh_CN.UTF-8"}, "en"),
        (["client", "--lang", "zh"], {}, "zh"),
        (["--lang=zh", "client"], {}, "zh"),
        (["proxy", "--la", "zh"], {}, "zh"),
        (["client", "--lang", "en"], {"TOYTLS_LANG": "zh"}, "en"),
        (["--lang", "zh", "client", "--lang", "en"], {}, "en"),
        (["client", "--lang", "xx"], {"TOYTLS_LANG": "zh"}, "zh"),
        (["client", "--", "--lang", "zh"], {}, "en"),
        (["client", "--l", "zh"], {}, "en"),
        (["client", "--lang"], {}, "en"),
    ],
)
def test_choose_lang(argv: list[str], environ: dict[str, str], lang: str) -> None:
    assert choose_lang(argv, environ) == lang


@pytest.mark.parametrize(
    ("argv", "environ", "lang"),
    [
        (["--lang", "zh", "client"], {}, "zh"),
        (["client"], {"TOYTLS_LANG": "zh"}, "zh"),
        (["demo"], {"TOYTLS_LANG": "zh"}, "zh"),
        (["--lang", "zh", "demo", "--lang", "en"], {}, "en"),
        (["client"], {}, "en"),
    ],
)
def test_the_chosen_language_is_the_commands_default(
    argv: list[str], environ: dict[str, str], lang: str
) -> None:
    """``toytls --lang zh client`` and ``TOYTLS_LANG=zh`` narrate in Chinese too."""
    args = build_parser(lang=choose_lang(argv, environ)).parse_args(argv)
    assert args.lang == lang


def test_wrapping_counts_columns_and_keeps_words_and_marks() -> None:
    text = "讲得更细：-v 显示每条消息的字段和各个密钥，-vv 显示每一条记录（默认：certs/root.pem）"
    for width in range(16, 60):  # the widest word, "certs/root.pem）", takes 16
        lines = wrap_display(text, width)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
        for line in lines:
            assert display_width(line) <= width, (width, line)
            assert not line.startswith(("，", "）", "：")), (width, line)
            assert not line.endswith("（"), (width, line)
        assert all("certs/root.pem" in line for line in lines if "certs/" in line), lines


# ---------------------------------------------------------------- B+ vs M+


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("target", TARGETS, ids=lambda t: " ".join(t) or "toytls")
def test_the_attackers_keys_are_m_not_b(target: tuple[str, ...], lang: str) -> None:
    """B+/B− is always the real server's pair; the attacker's is M+/M−."""
    text = " ".join(toytls(*target, "--help", "--lang", lang).stdout.split())
    assert not re.search(r"attacker's (?:own )?(?:public |private )?key B", text), text
    assert not re.search(r"攻击者(?:自己)?的(?:公钥|私钥) ?B", text), text
    if target == ("proxy",):
        assert re.search(r"attacker's public key M\+|攻击者 ?的公钥 ?M\+", text), text


# ------------------------------------------------------------ exit statuses

_CLI = Path(main.__file__).parent
#: What the shared helpers a command calls can return. serve_until_stopped
#: also has an EXIT_OK for a serve() that ends by itself, but none does:
#: server, tunnel and proxy serve until a signal.
HELPERS = {
    "serve_until_stopped": {1, 130, 143},
    "run_workers": {1, 130, 143},
    "stop_status": {130, 143},
}
#: What main.py adds to every command: argparse's usage errors (2),
#: KeyboardInterrupt (130), and a closed stdout (BrokenPipeError: 1).
EVERY_COMMAND = {1, 2, 130}


def _statuses_used(tree: ast.AST) -> set[int]:
    """The EXIT_* constants ``tree`` reads and the helpers it calls, as statuses."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id.startswith("EXIT_"):
            found.add(getattr(common, node.id))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            found |= HELPERS.get(node.func.id, set())
    return found


def _function(module: object, name: str) -> ast.AST:
    return ast.parse(inspect.getsource(getattr(module, name)))


def can_return(command: str) -> set[int]:
    """Every status ``toytls COMMAND`` can end with, read from its modules."""
    found = _statuses_used(ast.parse((_CLI / f"{command}.py").read_text(encoding="utf-8")))
    found |= _statuses_used(_function(main, f"_{command}"))
    return found | EVERY_COMMAND


def test_the_helpers_return_what_the_model_says() -> None:
    """If a helper learns a new status, HELPERS (and the tables) must learn it too."""
    assert _statuses_used(_function(common, "serve_until_stopped")) - {0} == {1, 130, 143}
    assert _statuses_used(_function(common, "stop_status")) == set()  # 128 + the signal
    source = inspect.getsource(workers.run_workers) + inspect.getsource(workers._wait)
    assert "return 1" in source and "128 + stopped_by[0]" in source
    assert set(re.findall(r"\bEXIT_\w+", inspect.getsource(main.main))) == {
        "EXIT_USAGE",
        "EXIT_INTERRUPTED",
        "EXIT_FAILED",
    }


def _table(text: str, heading: str) -> list[int]:
    """The statuses listed under ``heading`` in a help text."""
    section = text.split(heading, 1)[1]
    statuses = []
    for line in section.splitlines()[1:]:
        if not line.strip():
            break
        if found := re.match(r"  (\d{1,3})  \S", line):
            statuses.append(int(found[1]))
    return statuses


@pytest.mark.parametrize("command", COMMANDS)
def test_each_exit_table_lists_what_the_command_can_return(command: str) -> None:
    expected = can_return(command)
    assert set(EXIT_STATUSES[command]) == expected
    english = toytls(command, "--help").stdout
    chinese = toytls(command, "--help", "--lang", "zh").stdout
    assert sorted(_table(english, "exit status:")) == sorted(expected), english
    assert sorted(_table(chinese, "退出状态：")) == sorted(expected), chinese


def test_the_top_level_table_lists_every_status() -> None:
    every = set().union(*(can_return(command) for command in COMMANDS))
    english = toytls("--help").stdout
    assert set(_table(english, "exit status (each command's --help lists its own):")) == every
    chinese = toytls("--help", "--lang", "zh").stdout
    assert set(_table(chinese, "退出状态（每个命令的 --help 里列出它自己的）：")) == every
