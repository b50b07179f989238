"""Run ``toytls`` commands as real processes, and read their JSON events.

Servers and proxies listen on port 0 and announce the real port in their
first JSON line (``{"event": "listening", "port": …}``), so tests never
guess a free port. Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Self

TOYTLS = [sys.executable, "-m", "toytls.cli.main"]
#: Every toytls command, in the order ``toytls --help`` lists them.
COMMANDS = (
    "certs",
    "demo",
    "server",
    "client",
    "tunnel",
    "proxy",
    "inspect",
    "decode",
    "wireshark",
)
#: The environment of every command a test runs: the caller's, minus a
#: TOYTLS_LANG that would turn the English the tests read into Chinese.
ENV = {
    **{name: value for name, value in os.environ.items() if name != "TOYTLS_LANG"},
    "PYTHONWARNINGS": "default",
    "PYTHONUNBUFFERED": "1",
}


def parse_json_lines(text: str) -> list[dict[str, Any]]:
    """Every line of ``text`` that is a JSON object (others are skipped)."""
    events = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("{"):
            events.append(json.loads(line))
    return events


@dataclass
class Result:
    """A finished command."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def events(self) -> list[dict[str, Any]]:
        return parse_json_lines(self.stdout)

    def named(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("event") == name]


def run(*args: str, stdin: str | None = None, timeout: float = 60) -> Result:
    """Run ``toytls ARGS`` to completion."""
    completed = subprocess.run(
        [*TOYTLS, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=ENV,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


class _Running:
    """A ``toytls`` command running in the background, Ctrl-C'd by :meth:`stop`.

    Two threads drain its stdout and stderr all the time, so a chatty
    process never blocks on a full pipe; :attr:`out` and :attr:`err` hold
    what it printed so far, line by line.
    """

    def __init__(self, args: tuple[str, ...], *, stdin: bool) -> None:
        self.args = args
        self.process = subprocess.Popen(
            [*TOYTLS, *args],
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [
            threading.Thread(target=self._drain, args=(pipe, into), daemon=True)
            for pipe, into in ((self.process.stdout, self.out), (self.process.stderr, self.err))
        ]
        for reader in self._readers:
            reader.start()
        self.result: Result | None = None

    @staticmethod
    def _drain(pipe: IO[str] | None, into: list[str]) -> None:
        assert pipe is not None
        for line in pipe:
            into.append(line)

    def send_stdin(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text)
        self.process.stdin.flush()

    def stop(self, timeout: float = 15) -> Result:
        """Ctrl-C the process (once) and collect what it printed."""
        if self.result is None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            for reader in self._readers:
                reader.join(timeout=10)
            for pipe in (self.process.stdin, self.process.stdout, self.process.stderr):
                if pipe is not None:
                    pipe.close()
            self.result = Result(self.process.returncode, "".join(self.out), "".join(self.err))
        return self.result

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Background(_Running):
    """A ``toytls`` server or proxy running in the background with ``--json``."""

    def __init__(self, *args: str, stdin: bool = False) -> None:
        super().__init__((*args, "--json"), stdin=stdin)
        wait_until(lambda: self.out or self.process.poll() is not None, timeout=30)
        if not self.out:
            self.stop()
            raise AssertionError(f"{args} did not start: {''.join(self.err)}")
        self.first: dict[str, Any] = json.loads(self.out[0])
        if self.first.get("event") != "listening":
            raise AssertionError(f"{args} did not start: {self.first}")
        self.port: int = self.first["port"]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def events(self) -> list[dict[str, Any]]:
        """The JSON events printed so far."""
        return parse_json_lines("".join(self.out))


def wait_until(predicate: Any, timeout: float = 10, interval: float = 0.05) -> None:
    """Poll ``predicate()`` until it is true, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)


def _state_and_parent(pid: int) -> tuple[str, int] | None:
    """A process's state letter and parent from /proc (Linux), or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, ppid = stat.rpartition(")")[2].split()[:2]  # the name may hold spaces
    return state, int(ppid)


def process_alive(pid: int) -> bool:
    """True while ``pid`` runs: neither gone nor a zombie waiting to be reaped."""
    found = _state_and_parent(pid)
    return found is not None and found[0] != "Z"


def rsa_helpers_of(parent: int) -> list[int]:
    """Living (not zombie) RSA helper processes whose parent is ``parent`` (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        stat = _state_and_parent(int(entry)) if entry.isdigit() else None
        if stat is None or stat[1] != parent or stat[0] == "Z":
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue  # gone meanwhile
        if b"rsachild" in cmdline:
            found.append(int(entry))
    return found


def server_args(pki_dir: Path, *extra: str, accept: str = "127.0.0.1:0") -> tuple[str, ...]:
    """``toytls server``'s arguments: listen on ``accept`` (a free port), with the test PKI."""
    chain, key = str(pki_dir / "chain.pem"), str(pki_dir / "server.key")
    return ("server", "--accept", accept, "--cert-chain", chain, "--key", key, *extra)


def start_server(pki_dir: Path, *extra: str, stdin: bool = False) -> Background:
    """A ``toytls server`` on a free loopback port, with the test PKI."""
    return Background(*server_args(pki_dir, *extra), stdin=stdin)


def start_proxy(upstream: str, mode: str, *extra: str) -> Background:
    """A ``toytls proxy --mode MODE`` on a free loopback port, in front of ``upstream``."""
    return Background(
        "proxy", "--listen", "127.0.0.1:0", "--upstream", upstream, "--mode", mode, *extra
    )


def run_client(
    pki_dir: Path, address: str, *extra: str, stdin: str | None = None, timeout: float = 60
) -> Result:
    """``toytls client`` to ``address``, trusting the test PKI's root."""
    return run(*client_args(pki_dir, address, *extra), stdin=stdin, timeout=timeout)


def client_args(pki_dir: Path, address: str, *extra: str) -> tuple[str, ...]:
    """``toytls client``'s arguments: connect to ``address``, trusting the test PKI's root."""
    return ("client", "--connect", address, "--cafile", str(pki_dir / "root.pem"), *extra)


class Text(_Running):
    """A ``toytls`` server, proxy or tunnel in text mode, as a person runs it.

    The first line that names a loopback address (after any warnings) must
    give the one it listens on, in either language.
    """

    def __init__(self, *args: str, stdin: bool = False, timeout: float = 30) -> None:
        super().__init__((*args, "--no-color"), stdin=stdin)
        address = re.compile(r"127\.0\.0\.1:(\d+)")

        def first_address() -> re.Match[str] | None:
            return next(filter(None, map(address.search, self.lines)), None)

        wait_until(lambda: first_address() or self.process.poll() is not None, timeout=timeout)
        found = first_address()
        if found is None:
            self.stop()
            raise AssertionError(f"{args} did not start: {self.lines}")
        self.port = int(found.group(1))
        self.address = f"127.0.0.1:{self.port}"

    @property
    def lines(self) -> list[str]:
        """Every line printed so far: stdout's, then stderr's."""
        return [line.rstrip("\n") for line in [*self.out, *self.err]]

    def count(self, pattern: str) -> int:
        """How many lines printed on stdout so far match ``pattern``."""
        return sum(1 for line in list(self.out) if re.search(pattern, line))

    def wait_for(self, pattern: str, times: int = 1, timeout: float = 120) -> None:
        wait_until(lambda: self.count(pattern) >= times, timeout=timeout)
