"""The command line, run as real processes."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

TOYTLS = [sys.executable, "-m", "toytls.cli.main"]


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TOYTLS, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "default"},
    )


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert "demo" in result.stdout and "certs" in result.stdout


def test_no_command_prints_help_and_exits_2() -> None:
    result = run()
    assert result.returncode == 2
    assert "toytls demo" in result.stdout


def test_unknown_option_is_a_usage_error() -> None:
    result = run("certs", "--frobnicate")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "toytls"
    if not script.exists():
        pytest.skip("toytls console script not installed next to this interpreter")
    result = subprocess.run([script, "--version"], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stdout.startswith("toytls ")


def test_certs_writes_the_pki_and_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "certs"
    result = run("certs", "--dir", str(target), "--name", "example.test")
    assert result.returncode == 0, result.stderr
    assert "openssl verify" in result.stdout
    names = sorted(p.name for p in target.iterdir())
    assert "chain.pem" in names and "attacker-other-name.pem" in names
    for key in target.glob("*.key"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
    again = run("certs", "--dir", str(target))
    assert again.returncode == 2
    assert "--force" in again.stderr and "Traceback" not in again.stderr
    forced = run("certs", "--dir", str(target), "--force")
    assert forced.returncode == 0, forced.stderr


def test_demo_runs_every_scenario_as_predicted(tmp_path: Path) -> None:
    result = run("demo", "--certs", str(tmp_path / "pki"), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["number"] for row in rows] == list(range(1, 15))
    failed = [row for row in rows if not row["as_predicted"]]
    assert failed == []
    assert "Traceback" not in result.stderr


def test_demo_text_shows_the_story_and_the_table(tmp_path: Path) -> None:
    result = run("demo", "--no-color", "--only", "5,6")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "== 5." in result.stdout and "== 6." in result.stdout and "== 4." not in result.stdout
    assert "the attacker reads" in result.stdout  # 5: the letter, stolen
    assert "T ≠ S" in result.stdout  # 6: the tampered signature
    assert result.stdout.count("✓") == 2


def test_demo_in_chinese() -> None:
    result = run("demo", "--lang", "zh", "--only", "11", "--no-color")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "根证书" in result.stdout and "密钥X" in result.stdout
    assert "生日快乐" in result.stdout


@pytest.mark.parametrize("only", ["0", "15", "two", ","])
def test_demo_only_rejects_bad_numbers(only: str) -> None:
    result = run("demo", "--only", only)
    assert result.returncode == 2
    assert "--only" in result.stderr and "Traceback" not in result.stderr


def test_demo_ctrl_c_stops_everything_cleanly() -> None:
    process = subprocess.Popen(
        [*TOYTLS, "demo", "--step", "--no-color"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdin is not None and process.stdout is not None
    # Let scenario 1 run (a server and a proxy start and stop), then
    # interrupt while the demo waits before scenario 2.
    for line in process.stdout:
        if "Enter" in line:
            break
    process.stdin.write("\n")
    process.stdin.flush()
    seen = ""
    for line in process.stdout:
        seen += line
        if "Enter" in line:
            break
    assert "== 1." in seen
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=15)
    assert process.returncode == 130
    assert "Traceback" not in err and "interrupted" in err


def test_demo_ctrl_c_during_a_scenario(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [*TOYTLS, "demo", "--no-color", "--certs", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "== 5." in line:  # servers and the proxy are up now
            break
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=15)
    assert process.returncode in (0, 130)  # it may have finished just before
    assert "Traceback" not in err
