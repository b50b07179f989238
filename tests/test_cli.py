"""The command line, run as real processes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

TOYTLS = [sys.executable, "-m", "toytls.cli"]


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
    result = run("demo", "--certs", str(tmp_path / "pki"), "--no-color")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "✗" not in result.stdout
    assert result.stdout.count("✓") == 3
    assert "attacker reads the letter" in result.stdout
    assert "T ≠ S" in result.stdout
    assert "Traceback" not in result.stderr
