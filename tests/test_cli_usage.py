"""The command line as people use it: help, mistakes, sessions, narration, Ctrl-C.

Every test runs ``toytls`` as real processes over loopback (servers on
``--accept 127.0.0.1:0``, proxies on ``--listen 127.0.0.1:0``), with bounded
waits and no mocks. A usage mistake must end in one clear line on stderr and
the exit status ``--help`` documents, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pytest
from processes import (
    COMMANDS,
    ENV,
    TOYTLS,
    Background,
    Result,
    parse_json_lines,
    run,
    run_client,
    server_args,
    start_proxy,
    start_server,
    wait_until,
)

from toytls.cli.parser import build_parser as _build_parser

#: Every run is bounded; a command that should fail at once gets less.
RUN_TIMEOUT = 20
USAGE_TIMEOUT = 10


# ---------------------------------------------------------------- helpers


def server(pki_dir: Path, *extra: str, stdin: bool = False) -> Background:
    """A toytls server on a free loopback port, with the test PKI."""
    return start_server(pki_dir, *extra, stdin=stdin)


def client(pki_dir: Path, address: str, *extra: str, stdin: str | None = None) -> Result:
    """``toytls client`` to ``address``, trusting the test root."""
    return run_client(pki_dir, address, *extra, stdin=stdin, timeout=RUN_TIMEOUT)


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.stdout + result.stderr, result.stderr


def one_error_line(result: Result, status: int) -> str:
    """The command failed with ``status`` and said why in one stderr line."""
    no_traceback(result)
    assert result.returncode == status, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("toytls: "), lines
    assert len(lines[0]) > len("toytls: ") + 10, lines
    return lines[0]


@contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound, never listening.

    Holding the socket keeps anyone else from taking the port meanwhile.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Whether a new server could listen on ``port`` now."""
    with socket.socket() as sock:
        # What any server (trio included) does; it still fails while another
        # socket listens on the port.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError:
            return False
        return True


class Drain:
    """Collect the lines of a pipe in a thread, so a test can wait for them."""

    def __init__(self, pipe: IO[str] | None) -> None:
        assert pipe is not None
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._run, args=(pipe,), daemon=True)
        self._thread.start()

    def _run(self, pipe: IO[str]) -> None:
        for line in pipe:
            self.lines.append(line)

    def events(self) -> list[dict[str, Any]]:
        return parse_json_lines("".join(self.lines))

    def join(self, timeout: float = 10) -> str:
        self._thread.join(timeout)
        return "".join(self.lines)


def named(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in events if e.get("event") == name]


@pytest.fixture(scope="module")
def echo_server(pki_dir: Path) -> Iterator[Background]:
    """One echo server for the tests that only look at the client's side."""
    with server(pki_dir) as background:
        yield background


# ------------------------------------------------------------------- help


def _subparser(name: str) -> argparse.ArgumentParser:
    parser = _build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            sub: argparse.ArgumentParser = action.choices[name]
            return sub
    raise AssertionError("no subcommands")


#: A few things each command's help must say, beyond listing the flags.
HELP_SAYS: dict[str, tuple[str, ...]] = {
    "certs": ("example:", "toytls certs --dir certs --name localhost", "0600"),
    "demo": ("example:", "toytls demo", "偷梁换柱"),
    "server": (
        "examples:",
        "--app chat",
        "@N text",
        "--plaintext",
        "handshake",
        "what you see:",
        "-q keeps only the log lines",
    ),
    "client": (
        "examples:",
        "--insecure",
        "--trust certs/attacker-root.pem",
        "3  certificate rejected",
        "4  connection or protocol failure",
        "1  --http: the server answered 400 or more",
    ),
    "tunnel": ("examples:", "--forward HOST:PORT", "--insecure", "reset"),
    "proxy": ("example:", "swap-key", "own-ca", "truncate", "--rewrite OLD=NEW", "M+/M−"),
    "inspect": ("examples:", "--issuer certs/intermediate.pem", "PKCS#1", "DigestInfo", "A+"),
    "decode": ("examples:", "--key certs/server.key", "--keylog keys.log", "key X", "B−"),
    "wireshark": ("examples:", "lua_script:", "4433", "Decode As"),
}
#: Commands that take no flags beyond --help (wireshark has --lang, for its help).
NO_FLAGS: tuple[str, ...] = ()


@pytest.mark.parametrize("command", COMMANDS)
def test_help_explains_every_flag(command: str) -> None:
    result = run(command, "--help", timeout=RUN_TIMEOUT)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    text = result.stdout
    flat = " ".join(text.split())
    assert f"usage: toytls {command}" in text
    for needle in HELP_SAYS[command]:
        assert needle in text, needle
    # The exit statuses are documented on every command.
    assert "exit status" in text and "2  usage" in text
    flags = [a for a in _subparser(command)._actions if not isinstance(a, argparse._HelpAction)]
    assert bool(flags) != (command in NO_FLAGS)
    for action in flags:
        assert action.help and action.help != argparse.SUPPRESS, action.option_strings
        for option in action.option_strings:
            assert option in text, option
        # The explanation is printed, not just the flag's name.
        opening = " ".join(action.help.split("%(")[0].split()[:3])
        assert opening in flat, (action.option_strings, opening)


# ------------------------------------------------------------- bad usage


def _usage_cases() -> list[Any]:
    """(arguments with {pki}/{nowhere}/{closed} placeholders, status, needles)."""
    key = "{pki}/server.key"
    chain = "{pki}/chain.pem"
    root = "{pki}/root.pem"
    to_closed = ("--connect", "127.0.0.1:{closed}")
    case = pytest.param
    return [
        case(
            ("server", "--accept", "127.0.0.1:0", "--cert-chain", "{nowhere}/chain.pem"),
            2,
            ("chain.pem", "not found", "toytls certs"),
            id="server-missing-cert-chain",
        ),
        case(
            ("server", "--accept", "127.0.0.1:0", "--cert-chain", chain, "--key", "{nowhere}/k"),
            2,
            ("k not found", "toytls certs"),
            id="server-missing-key",
        ),
        case(
            ("client", *to_closed, "--cafile", "{nowhere}/root.pem", "--message", "x"),
            2,
            ("root.pem", "not found"),
            id="client-missing-cafile",
        ),
        case(
            ("client", *to_closed, "--cafile", root, "--trust", "{nowhere}/extra.pem"),
            2,
            ("extra.pem", "not found"),
            id="client-missing-trust",
        ),
        case(
            ("server", "--accept", "localhost", "--cert-chain", chain, "--key", key),
            2,
            ("--accept", "HOST:PORT", "'localhost'"),
            id="accept-without-port",
        ),
        case(
            ("server", "--accept", "127.0.0.1:https", "--cert-chain", chain, "--key", key),
            2,
            ("--accept", "HOST:PORT"),
            id="accept-named-port",
        ),
        case(
            ("client", "--connect", "127.0.0.1:70000", "--cafile", root, "--message", "x"),
            2,
            ("--connect", "HOST:PORT", "70000"),
            id="connect-port-too-big",
        ),
        case(
            ("client", "--connect", ":4433", "--cafile", root, "--message", "x"),
            2,
            ("--connect", "HOST:PORT"),
            id="connect-without-host",
        ),
        case(
            ("proxy", "--mode", "watch", "--listen", "8443"),
            2,
            ("--listen", "HOST:PORT", "'8443'"),
            id="listen-without-host",
        ),
        case(
            ("proxy", "--mode", "watch", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:"),
            2,
            ("--upstream", "HOST:PORT"),
            id="upstream-without-port",
        ),
        case(
            ("client", *to_closed, "--cafile", root, "--server-name", "bad_name", "--message", "x"),
            2,
            ("bad_name",),
            id="client-bad-server-name",
        ),
    ]


@pytest.mark.parametrize(("args", "status", "needles"), _usage_cases())
def test_bad_usage_is_one_clear_line(
    pki_dir: Path, tmp_path: Path, args: tuple[str, ...], status: int, needles: tuple[str, ...]
) -> None:
    with closed_port() as closed:
        values = {"pki": str(pki_dir), "nowhere": str(tmp_path / "nowhere"), "closed": closed}
        result = run(*(a.format(**values) for a in args), timeout=USAGE_TIMEOUT)
    line = one_error_line(result, status)
    for needle in needles:
        assert needle in line, (needle, line)
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "flags"),
    [
        pytest.param(
            ("server", "--forward", "127.0.0.1:8000", "--app", "http"),
            ("--app", "--forward"),
            id="server-forward-and-app",
        ),
        pytest.param(
            ("client", "--message", "hi", "--http", "GET", "/"),
            ("--message", "--http"),
            id="client-message-and-http",
        ),
    ],
)
def test_two_alternatives_at_once_are_refused(
    args: tuple[str, ...], flags: tuple[str, str]
) -> None:
    """The parser refuses them before anything starts: status 2, both named."""
    result = run(*args, timeout=USAGE_TIMEOUT)
    assert result.returncode == 2, result.stderr
    no_traceback(result)
    assert result.stdout == ""
    last = result.stderr.strip().splitlines()[-1]
    assert "not allowed with" in last, last
    for flag in flags:
        assert flag in last, last


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(
            (
                "server",
                "--accept",
                "127.0.0.1:0",
                "--cert-chain",
                "{pki}",
                "--key",
                "{pki}/server.key",
            ),
            id="server-cert-chain",
        ),
        pytest.param(
            ("client", "--connect", "127.0.0.1:{closed}", "--cafile", "{pki}", "--message", "x"),
            id="client-cafile",
        ),
    ],
)
def test_a_directory_where_a_file_belongs_is_a_usage_error(
    pki_dir: Path, args: tuple[str, ...]
) -> None:
    # Bug found by this test: an IsADirectoryError escapes as a traceback
    # with exit status 1 instead of a one-line usage error (status 2).
    with closed_port() as closed:
        values = {"pki": str(pki_dir), "closed": closed}
        result = run(*(a.format(**values) for a in args), timeout=USAGE_TIMEOUT)
    line = one_error_line(result, 2)
    assert str(pki_dir) in line


def test_proxy_without_mode_is_an_argparse_error() -> None:
    result = run("proxy", "--listen", "127.0.0.1:0", timeout=USAGE_TIMEOUT)
    no_traceback(result)
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("toytls proxy: error:") and "--mode" in last, result.stderr
    assert result.stdout == ""


def test_proxy_own_ca_without_attacker_files(pki_dir: Path, tmp_path: Path) -> None:
    honest_only = tmp_path / "certs"
    honest_only.mkdir()
    for name in ("root.pem", "chain.pem", "server.key"):
        shutil.copy(pki_dir / name, honest_only / name)
    result = run(
        "proxy",
        "--mode",
        "own-ca",
        "--listen",
        "127.0.0.1:0",
        "--certs",
        str(honest_only),
        timeout=USAGE_TIMEOUT,
    )
    line = one_error_line(result, 2)
    assert "not found" in line and "toytls certs" in line, line
    assert "attacker" in line, line


def test_a_port_in_use_cannot_be_listened_on(pki_dir: Path) -> None:
    with server(pki_dir) as first:
        second = run(*server_args(pki_dir, accept=first.address), timeout=RUN_TIMEOUT)
        line = one_error_line(second, 1)
        assert "cannot listen" in line and first.address in line, line
        # The first server was not disturbed.
        assert client(pki_dir, first.address, "-q", "--message", "still here").returncode == 0


def test_client_to_a_closed_port(pki_dir: Path) -> None:
    with closed_port() as port:
        result = client(pki_dir, f"127.0.0.1:{port}", "--message", "anyone?")
    line = one_error_line(result, 4)
    assert "cannot connect" in line and f"127.0.0.1:{port}" in line, line


def test_proxy_with_unreachable_upstream_keeps_serving(pki_dir: Path) -> None:
    with closed_port() as port:
        proxy = start_proxy(f"127.0.0.1:{port}", "watch")
        with proxy:
            first = client(pki_dir, proxy.address, "--message", "one")
            second = client(pki_dir, proxy.address, "--message", "two")
            stopped = proxy.stop()
    for result in (first, second):
        one_error_line(result, 4)
    no_traceback(stopped)
    assert stopped.returncode == 130, stopped.stderr  # Ctrl-C
    failed = stopped.named("upstream_failed")
    assert [e["connection"] for e in failed] == [1, 2], stopped.stdout


def test_garbage_to_a_server_is_refused_and_it_keeps_serving(pki_dir: Path) -> None:
    with server(pki_dir) as background:
        with socket.create_connection(("127.0.0.1", background.port), timeout=10) as raw:
            raw.sendall(b"GET / HTTP/1.1\r\n\r\n")
            answer = b""
            while chunk := raw.recv(4096):  # the server hangs up (timeout: fails)
                answer += chunk
        honest = client(pki_dir, background.address, "-q", "--message", "after the noise")
        stopped = background.stop()
    assert honest.returncode == 0, honest.stderr
    assert "reply: after the noise" in honest.stdout
    no_traceback(stopped)
    disconnects = stopped.named("disconnect")
    assert len(disconnects) == 2, stopped.stdout
    assert disconnects[0]["connection"] == 1
    assert "failed" in disconnects[0]["how"] and "unexpected_message" in disconnects[0]["how"]
    assert disconnects[1]["how"] == "disconnected"


def test_client_to_a_peer_that_is_not_toytls(pki_dir: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(RUN_TIMEOUT)

        def plain_http() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(RUN_TIMEOUT)
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                try:
                    while conn.recv(65536):  # until the client hangs up
                        pass
                except OSError:
                    pass

        thread = threading.Thread(target=plain_http, daemon=True)
        thread.start()
        result = client(pki_dir, f"127.0.0.1:{listener.getsockname()[1]}", "--message", "hi")
        thread.join(RUN_TIMEOUT)
    line = one_error_line(result, 4)
    assert "unexpected_message" in line, line


# ---------------------------------------------------------------- sessions


def test_honest_session_between_two_processes(pki_dir: Path) -> None:
    message = "hello, toytls — 你好"
    with server(pki_dir) as background:
        result = client(pki_dir, background.address, "--json", "--message", message)
        stopped = background.stop()
    assert result.returncode == 0, result.stderr
    assert [e["text"] for e in result.named("reply")] == [message]
    (outcome,) = result.named("result")
    assert outcome["status"] == "ok" and outcome["exit"] == 0
    assert stopped.returncode == 130, stopped.stderr  # Ctrl-C
    kinds = [e["event"] for e in stopped.events]
    for kind in ("connect", "handshake_complete", "disconnect"):
        assert kind in kinds, kinds
    assert kinds.index("connect") < kinds.index("handshake_complete") < kinds.index("disconnect")
    (done,) = [e for e in stopped.named("handshake_complete") if e.get("side") == "server"]
    assert done["session"]["server_name"] == "localhost"
    (disconnect,) = stopped.named("disconnect")
    assert disconnect["how"] == "disconnected"
    assert disconnect["bytes_in"] == disconnect["bytes_out"] == len(message.encode())


def test_interactive_client_echoes_every_line(pki_dir: Path, echo_server: Background) -> None:
    result = client(pki_dir, echo_server.address, "--json", stdin="one\ntwo\n")
    assert result.returncode == 0, result.stderr
    no_traceback(result)
    echoed = "\n".join(e["text"] for e in result.named("received"))
    assert echoed.splitlines() == ["one", "two"]
    assert result.named("result")[-1]["status"] == "ok"


def test_chat_between_a_client_and_the_operator(pki_dir: Path) -> None:
    with server(pki_dir, "--app", "chat", stdin=True) as background:
        command = [*TOYTLS, "client", "--connect", background.address]
        command += ["--cafile", str(pki_dir / "root.pem"), "--json"]
        pipe = subprocess.PIPE
        # An interactive client whose stdin stays open until the test closes it.
        with subprocess.Popen(
            command, stdin=pipe, stdout=pipe, stderr=pipe, text=True, env=ENV
        ) as talker:
            out, err = Drain(talker.stdout), Drain(talker.stderr)
            try:
                assert talker.stdin is not None
                talker.stdin.write("hello from the client\n")
                talker.stdin.flush()
                # The chat line shows the client is in the room: now answer it.
                wait_until(
                    lambda: any(
                        e.get("text") == "hello from the client"
                        for e in named(background.events(), "chat")
                    ),
                    timeout=RUN_TIMEOUT,
                )
                background.send_stdin("hello from the operator\n")
                wait_until(
                    lambda: any(
                        e.get("text") == "hello from the operator"
                        for e in named(out.events(), "received")
                    ),
                    timeout=RUN_TIMEOUT,
                )
                talker.stdin.close()  # Ctrl-D: the client says goodbye
                status = talker.wait(timeout=RUN_TIMEOUT)
            finally:
                if talker.poll() is None:
                    talker.kill()
                    talker.wait()
                client_out, client_err = out.join(), err.join()
        stopped = background.stop()
    assert status == 0, client_err
    assert "Traceback" not in client_out + client_err
    chat = stopped.named("chat")
    assert [e["text"] for e in chat] == ["hello from the client"], stopped.stdout
    assert chat[0]["connection"] == 1
    assert stopped.returncode == 130, stopped.stderr  # Ctrl-C


# --------------------------------------------------------------- narration

MESSAGE = "narrated hello"


def test_default_narration_tells_all_six_steps(pki_dir: Path, echo_server: Background) -> None:
    result = client(pki_dir, echo_server.address, "--message", MESSAGE)
    assert result.returncode == 0, result.stderr
    for step in range(1, 7):
        assert f"[{step}/6]" in result.stdout, step
    assert f"reply: {MESSAGE}" in result.stdout
    assert result.stderr == ""


def test_quiet_prints_no_steps_but_the_reply(pki_dir: Path, echo_server: Background) -> None:
    quiet = client(pki_dir, echo_server.address, "-q", "--message", MESSAGE)
    assert quiet.returncode == 0, quiet.stderr
    assert f"reply: {MESSAGE}" in quiet.stdout
    for step in (1, 2, 4, 5):
        assert f"[{step}/6]" not in quiet.stdout, quiet.stdout
    assert quiet.stdout.count("\n") < 10, quiet.stdout


def test_lang_zh_uses_the_articles_names(pki_dir: Path, echo_server: Background) -> None:
    result = client(pki_dir, echo_server.address, "--lang", "zh", "--message", MESSAGE)
    assert result.returncode == 0, result.stderr
    assert "密钥X" in result.stdout
    assert "公钥B+" in result.stdout
    assert f"回复：{MESSAGE}" in result.stdout  # the reply line is Chinese too


def test_hexdump_annotates_records(pki_dir: Path, echo_server: Background) -> None:
    result = client(pki_dir, echo_server.address, "-q", "--hexdump", "--message", MESSAGE)
    assert result.returncode == 0, result.stderr
    assert "content_type = 22" in result.stdout
    assert "content_type = 23" in result.stdout


def test_json_prints_only_json_lines(pki_dir: Path, echo_server: Background) -> None:
    result = client(pki_dir, echo_server.address, "--json", "--message", MESSAGE)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines
    events = [json.loads(line) for line in lines]  # every line parses
    assert all(isinstance(e, dict) and "event" in e for e in events)
    kinds = [e["event"] for e in events]
    assert "handshake_complete" in kinds
    assert [e["text"] for e in events if e["event"] == "reply"] == [MESSAGE]


@pytest.mark.parametrize("output", ["-q", "--json"])
def test_insecure_always_warns(pki_dir: Path, echo_server: Background, output: str) -> None:
    result = client(pki_dir, echo_server.address, "--insecure", output, "--message", MESSAGE)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("WARNING")]
    assert warnings, result.stderr
    assert any("--insecure" in line for line in warnings), warnings


# ------------------------------------------------------------------ Ctrl-C


def test_ctrl_c_stops_a_server_and_frees_its_port(pki_dir: Path) -> None:
    background = server(pki_dir)
    # A client is connected (the server waits for its ClientHello) at Ctrl-C.
    with background, socket.create_connection(("127.0.0.1", background.port), timeout=10):
        wait_until(lambda: named(background.events(), "connect"), timeout=RUN_TIMEOUT)
        stopped = background.stop()
    assert stopped.returncode == 130, stopped.stderr  # Ctrl-C
    no_traceback(stopped)
    assert "KeyboardInterrupt" not in stopped.stderr
    assert port_is_free(background.port)


def test_ctrl_c_stops_a_proxy_and_frees_its_port(echo_server: Background) -> None:
    proxy = start_proxy(echo_server.address, "watch")
    with proxy, socket.create_connection(("127.0.0.1", proxy.port), timeout=10):
        wait_until(lambda: named(proxy.events(), "connect"), timeout=RUN_TIMEOUT)
        stopped = proxy.stop()
    assert stopped.returncode == 130, stopped.stderr  # Ctrl-C
    no_traceback(stopped)
    assert "KeyboardInterrupt" not in stopped.stderr
    assert port_is_free(proxy.port)
    # The upstream server outlives the proxy's Ctrl-C.
    assert echo_server.process.poll() is None
