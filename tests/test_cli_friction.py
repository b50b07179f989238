"""Friction a newcomer hit (issue 13 item 7): each message says what to do next.

Every test runs ``toytls`` as a real process with a bounded wait.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import threading
from pathlib import Path

import pytest
from processes import ENV, TOYTLS, Background, run, run_client, start_proxy, start_server


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "cannot connect to {a}: connection refused — is `toytls server` running on {a}?"),
        ("zh", "无法连接到 {a}：连接被拒绝 —— `toytls server` 是否在 {a} 上运行？"),
    ],
)
def test_client_to_a_closed_port_asks_whether_the_server_runs(
    pki_dir: Path, lang: str, expected: str
) -> None:
    address = f"127.0.0.1:{_closed_port()}"
    result = run_client(pki_dir, address, "--lang", lang, timeout=30)
    assert result.returncode == 4
    assert expected.format(a=address) in result.stderr
    assert "all attempts" not in result.stderr


def test_client_to_a_running_server_says_nothing_of_refusal(pki_dir: Path) -> None:
    """Control: the same client against a live server connects, no refusal line."""
    with start_server(pki_dir) as server:
        result = run_client(pki_dir, server.address, "--message", "hi", timeout=30)
    assert result.returncode == 0, result.stderr
    assert "connection refused" not in result.stderr + result.stdout


def _run_in(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``toytls ARGS`` run in ``cwd`` (for the default, relative paths)."""
    return subprocess.run(
        [*TOYTLS, *args], cwd=cwd, capture_output=True, text=True, timeout=60, env=ENV, check=False
    )


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_typed_cafile_that_is_missing_gets_no_certs_hint(tmp_path: Path, lang: str) -> None:
    typed = _run_in(tmp_path, "client", "--connect", "127.0.0.1:1", "--cafile", "typo.pem")
    default = _run_in(tmp_path, "client", "--connect", "127.0.0.1:1", "--lang", lang)
    zh = lang == "zh"
    assert typed.returncode == default.returncode == 2
    assert "not found: typo.pem" in typed.stderr
    assert "toytls certs" not in typed.stderr
    # Control: the default path, which `toytls certs` makes, keeps the hint.
    hint = "找不到 certs/root.pem —— 请先运行 `toytls certs`" if zh else "run `toytls certs` first"
    assert hint in default.stderr


def test_certs_twice_refuses_before_announcing(tmp_path: Path) -> None:
    target = str(tmp_path / "pki")
    first = run("certs", "--dir", target)
    assert first.returncode == 0, first.stderr
    assert "Generating" in first.stdout  # control: the first run announces its work
    again = run("certs", "--dir", target)
    assert again.returncode == 2
    assert "Generating" not in again.stdout
    assert "already holds root.pem" in again.stderr and "--force" in again.stderr


def _first_line_of_proxy(upstream: str, lang: str) -> str:
    """The start line of a human-mode proxy, then Ctrl-C (all bounded)."""
    process = subprocess.Popen(
        [
            *TOYTLS,
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            upstream,
            "--mode",
            "watch",
            "--lang",
            lang,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    lines: list[str] = []
    stdout = process.stdout
    assert stdout is not None
    reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout=30)
    process.send_signal(signal.SIGINT)
    try:
        process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
    assert lines, "the proxy printed no start line"
    return lines[0]


@pytest.mark.parametrize(
    ("lang", "says_stop", "says_mode"),
    [("en", "; Ctrl-C stops", "mode watch: only watch"), ("zh", "；按 Ctrl-C 停止", "只旁观")],
)
def test_proxy_start_line_says_how_to_stop_it(lang: str, says_stop: str, says_mode: str) -> None:
    line = _first_line_of_proxy("127.0.0.1:1", lang)
    assert "127.0.0.1:1" in line and says_mode in line
    assert line.rstrip().endswith(says_stop)


def test_rewrite_changes_requests_only_so_http_replies_keep_their_length() -> None:
    with (
        Background("server", "--accept", "127.0.0.1:0", "--plaintext", "--app", "http") as plain,
        start_proxy(plain.address, "watch", "--rewrite", "toytls=TOYTLS-REWRITTEN") as proxy,
    ):
        result = run(
            "client", "--connect", proxy.address, "--plaintext", "--http", "GET", "/", timeout=30
        )
    assert result.returncode == 0, result.stderr
    # Control: the request was rewritten (the page shows the request it got) …
    assert "user-agent: TOYTLS-REWRITTEN/" in result.stdout
    # … and the reply came through unchanged, so its Content-Length still holds.
    assert "<title>toytls: your connection</title>" in result.stdout
    assert "< server: toytls" in result.stdout


def test_proxy_help_says_rewrite_goes_to_the_server_only() -> None:
    text = " ".join(run("proxy", "--help").stdout.split())
    assert "--rewrite OLD=NEW changes what the client sends" in text
    assert "replies pass unchanged" in text


@pytest.mark.parametrize(
    ("lang", "first", "last"),
    [
        ("en", "  1. Plain HTTP: anyone on the path reads and changes", " 14. Recorded today"),
        ("zh", "  1. 明文 HTTP：路上的人能看也能改", " 14. "),
    ],
)
def test_demo_list_prints_the_scenarios_and_runs_none(lang: str, first: str, last: str) -> None:
    result = run("demo", "--list", "--lang", lang, timeout=30)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1] == first and lines[-1].startswith(last)
    assert len(lines) == 15
    assert "==" not in result.stdout  # no scenario ran (a running one prints "== N. title ==")


def test_demo_step_names_the_next_scenario(tmp_path: Path) -> None:
    result = run(
        "demo", "--step", "--only", "2,3", "--no-color", "--certs", str(tmp_path / "pki"),
        stdin="\n\n", timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "(Enter for scenario 2: One symmetric key only)" in result.stdout
    assert "(Enter for scenario 3: One key pair only)" in result.stdout
    # Control: scenarios not chosen are neither run nor announced.
    assert "Enter for scenario 1:" not in result.stdout
    assert "== 2. One symmetric key only ==" in result.stdout
