"""What a peer or a user types cannot crash a command or forge its output (issue 12).

Real processes on loopback: a silent server, bytes that are not UTF-8, a
certificate whose name holds a newline and escape sequences, a chat client
that tries to forge server log lines, a server that streams without end,
and the small address and chain checks. Each negative check has a control
that shows it can fail: the forged text is looked for in its escaped form,
so a test that saw nothing at all would not pass.
"""

from __future__ import annotations

import io
import json
import socket
import subprocess
import time
from pathlib import Path

import pytest
import trio
from processes import ENV, TOYTLS, Result, run, run_client, start_proxy, start_server, wait_until

from toytls.cli.common import host_port
from toytls.cli.console import Console, parse_address
from toytls.core import events as ev
from toytls.core.constants import AlertDescription, AlertLevel
from toytls.pki.files import certificate_pem, private_key_pem
from toytls.pki.generate import PKI, make_leaf
from toytls.story.escape import printable
from toytls.story.narration import Narrator, alert_meaning
from toytls.streams.context import create_server_context
from toytls.streams.stream import ToyTLSStream

#: A name that, printed raw, would start a forged narration line and clear the screen.
FORGED = "evil\n[6/6] FORGED verdict: ACCEPTED\x1b[2J"


def _no_raw_forgery(text: str) -> None:
    assert "\x1b" not in text
    assert not any(line.lstrip().startswith("[6/6] FORGED") for line in text.splitlines())
    assert "Traceback" not in text


# ------------------------------------------------------------ the escaping itself


def test_printable_escapes_controls_and_keeps_text() -> None:
    assert printable(FORGED) == "evil\\n[6/6] FORGED verdict: ACCEPTED\\x1b[2J"
    assert printable("你好, café") == "你好, café"
    assert printable("a\u202eb\x9b\udce9") == "a\\u202eb\\x9b\\xe9"


def test_the_console_escapes_peer_text_but_keeps_its_own_colours() -> None:
    out = io.StringIO()
    Console(color=True, out=out).line(f"says: {FORGED}", style="bold")
    shown = out.getvalue()
    assert shown.count("\x1b") == 2  # our bold on and off, nothing else
    assert shown.startswith("\x1b[1m") and "\\x1b[2J" in shown and shown.count("\n") == 1


def test_json_lines_escape_what_json_dumps_leaves_raw() -> None:
    out = io.StringIO()
    text = "a\x9bb\x7f\u2028\udce9"
    Console(json_mode=True, out=out).record("chat", text=text)
    line = out.getvalue()
    assert not any(c in line for c in "\x9b\x7f\u2028\udce9")
    assert json.loads(line)["text"] == text
    # The control: json.dumps alone would have left them raw.
    assert "\x9b" in json.dumps({"text": text}, ensure_ascii=False)


# ----------------------------------------------------------- network and terminal


@pytest.fixture(scope="module")
def forged_chain(pki: PKI, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A chain whose leaf's name holds a newline and escape sequences."""
    leaf = make_leaf(pki.intermediate, [FORGED, "localhost"])
    directory = tmp_path_factory.mktemp("forged")
    chain = certificate_pem(leaf.certificate, pki.intermediate.certificate)
    (directory / "chain.pem").write_bytes(chain)
    (directory / "server.key").write_bytes(private_key_pem(leaf.key))
    return directory


def test_a_certificate_name_cannot_forge_narration(pki_dir: Path, forged_chain: Path) -> None:
    with start_server(forged_chain) as server:
        result = run_client(pki_dir, server.address, "-v", "--message", "hi", timeout=60)
    shown = result.stdout + result.stderr
    _no_raw_forgery(shown)
    # The control: the name did reach the output, escaped.
    assert "evil\\n[6/6] FORGED" in shown, shown[-3000:]


def test_a_chat_client_cannot_forge_server_log_lines(pki_dir: Path) -> None:
    with start_server(pki_dir, "--app", "chat") as server:
        result = run_client(pki_dir, server.address, "--message", f"hi\n{FORGED}", timeout=60)
        stopped = server.stop()
    assert result.returncode == 0, result.stderr
    said = [e["text"] for e in stopped.named("chat")]
    assert said and "FORGED" in said[0], stopped.stdout  # the control: it was said
    text = run_server_text(pki_dir, f"hi\n{FORGED}")
    _no_raw_forgery(text)
    assert "says: evil" in text and "FORGED verdict: ACCEPTED\\x1b[2J" in text, text


def _server_files(pki_dir: Path) -> list[str]:
    return ["--cert-chain", str(pki_dir / "chain.pem"), "--key", str(pki_dir / "server.key")]


def _client_args(pki_dir: Path, address: str) -> list[str | bytes]:
    return [*TOYTLS, "client", "--connect", address, "--cafile", str(pki_dir / "root.pem"), "-q"]


def run_server_text(pki_dir: Path, message: str) -> str:
    """A chat server's text log (not JSON) while one client says ``message``."""
    process = subprocess.Popen(
        [*TOYTLS, "server", "--accept", "127.0.0.1:0", "--app", "chat", *_server_files(pki_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=ENV,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        port = int(first.split("listening on ")[1].split(" ")[0].rsplit(":", 1)[1])
        client = run_client(pki_dir, f"127.0.0.1:{port}", "--message", message, timeout=60)
        assert client.returncode == 0, client.stderr
        process.send_signal(2)
        rest, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return first + rest


# --------------------------------------------------------------- user input


def test_a_message_that_is_not_utf8_is_sent_as_bytes(pki_dir: Path) -> None:
    with start_server(pki_dir) as server:
        completed = subprocess.run(
            [*_client_args(pki_dir, server.address), "--message", b"caf\xe9\x1b[2J"],
            capture_output=True,
            timeout=60,
            check=False,
            env=ENV,
        )
    out = completed.stdout.decode("utf-8", "replace") + completed.stderr.decode("utf-8", "replace")
    assert completed.returncode == 0, out
    assert "Traceback" not in out and b"\x1b[2J" not in completed.stdout
    assert "reply: caf\\xe9\\x1b[2J" in out, out  # the five bytes came back, shown escaped


def test_typed_input_that_is_not_utf8_is_sent_as_bytes(pki_dir: Path) -> None:
    with start_server(pki_dir) as server:
        completed = subprocess.run(
            _client_args(pki_dir, server.address),
            input=b"caf\xe9\n",
            capture_output=True,
            timeout=60,
            check=False,
            env=ENV,
        )
    out = completed.stdout.decode("utf-8", "replace") + completed.stderr.decode("utf-8", "replace")
    assert completed.returncode == 0, out
    assert "Traceback" not in out
    assert "server: caf\\xe9" in out, out


# ------------------------------------------------------------------ hostile servers


def test_a_silent_server_ends_the_client_with_status_4_in_time(pki_dir: Path) -> None:
    """A server that accepts and never answers: the handshake deadline (10 s), then exit 4."""
    with socket.create_server(("127.0.0.1", 0)) as silent:  # the kernel accepts for it
        started = time.monotonic()
        result = run_client(pki_dir, host_port(*silent.getsockname()[:2]), "--message", "x")
        took = time.monotonic() - started
    assert result.returncode == 4, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "no handshake within 10 s" in line, line
    assert took < 45  # did not hang (the deadline is 10 s)


def test_a_reply_without_end_is_kept_only_up_to_the_limit(pki_dir: Path) -> None:
    """A server that answers 3 MiB: the client keeps 1 MiB, says so, reads to the end."""
    size = 3 << 20
    results: list[Result] = []

    async def main() -> None:
        context = create_server_context(
            certfile=pki_dir / "chain.pem", keyfile=pki_dir / "server.key"
        )
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        port = listeners[0].socket.getsockname()[1]

        async def serve_one() -> None:
            tcp = await listeners[0].accept()
            stream = ToyTLSStream(tcp, context, server_side=True)
            await stream.receive_some()
            for _ in range(size // (1 << 16)):
                await stream.send_all(b"r" * (1 << 16))
            # Read the client's close_notify before closing: a socket closed
            # with unread bytes sends a reset, and under load that reset can
            # overtake the reply's last bytes at the client.
            while await stream.receive_some():
                pass
            await stream.aclose()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(serve_one)
            args = ("--json", "--message", "x")
            results.append(
                await trio.to_thread.run_sync(
                    lambda: run_client(pki_dir, f"127.0.0.1:{port}", *args, timeout=60)
                )
            )
        await listeners[0].aclose()

    async def bounded() -> None:
        with trio.fail_after(90):
            await main()

    trio.run(bounded)
    (result,) = results
    assert result.returncode == 0, result.stderr
    (reply,) = result.named("reply")
    assert reply["bytes"] == size and reply["kept"] == 1 << 20
    assert len(reply["text"]) == 1 << 20
    assert result.named("reply_limit")


# ------------------------------------------------------------------ small ones


@pytest.mark.parametrize("text", ["127.0.0.1:²", "127.0.0.1:٤٤٣٣", "[::1:0", "::1:4433", "[]:1"])
def test_bad_addresses_are_refused_naming_the_flag(text: str) -> None:
    with pytest.raises(ValueError, match="--accept"):
        parse_address(text, what="--accept")


def test_good_addresses_are_read() -> None:
    assert parse_address("[::1]:4433", what="--accept") == ("::1", 4433)
    assert parse_address("127.0.0.1:0", what="--accept") == ("127.0.0.1", 0)
    assert host_port("::1", 43843) == "[::1]:43843"
    assert host_port("127.0.0.1", 1) == "127.0.0.1:1"


def test_a_bad_port_is_a_usage_error_that_names_the_flag(pki_dir: Path) -> None:
    result = run("server", "--accept", "127.0.0.1:²", timeout=30)
    assert result.returncode == 2
    assert "--accept" in result.stderr and "invalid literal" not in result.stderr


def test_a_chain_in_the_wrong_order_is_reported_as_such(pki_dir: Path, tmp_path: Path) -> None:
    chain = (pki_dir / "chain.pem").read_bytes()
    blocks = chain.split(b"-----END CERTIFICATE-----\n")[:-1]
    reversed_chain = b"".join(b + b"-----END CERTIFICATE-----\n" for b in reversed(blocks))
    (tmp_path / "chain.pem").write_bytes(reversed_chain)
    args = ("--cert-chain", str(tmp_path / "chain.pem"), "--key", str(pki_dir / "server.key"))
    result = run("server", "--accept", "127.0.0.1:0", *args, timeout=30)
    assert result.returncode == 2
    assert "out of order" in result.stderr, result.stderr
    # The control: a key that belongs to no certificate of the chain.
    other = ("--key", str(pki_dir / "intermediate.key").replace("intermediate", "attacker"))
    result = run("server", "--accept", "127.0.0.1:0", *args[:2], *other, timeout=30)
    assert result.returncode == 2 and "does not belong" in result.stderr, result.stderr


def test_a_fatal_close_notify_is_not_told_as_an_orderly_close() -> None:
    for lang in ("en", "zh"):
        narrator = Narrator(lang=lang, level=0, role="client")
        fatal = ev.AlertReceived(level=AlertLevel.FATAL, description=AlertDescription.CLOSE_NOTIFY)
        (line,) = narrator.describe(fatal)
        assert alert_meaning(0, lang, fatal=True) in line
        # The control: the warning one is the orderly close.
        assert alert_meaning(0, lang) not in line
    assert "orderly close, nothing went wrong" in alert_meaning(0, "en")
    assert "not an orderly close" in alert_meaning(0, "en", fatal=True)


def test_the_proxy_shows_bytes_that_are_not_utf8_in_hex(pki_dir: Path) -> None:
    """Replacement characters alone would hide what the bytes were: their hex comes along."""
    with (
        start_server(pki_dir, "--plaintext") as server,
        start_proxy(server.address, "watch") as proxy,
    ):
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=30) as raw:
            raw.sendall(b"\xff\xfeok")
            assert raw.recv(100) == b"\xff\xfeok"  # the echo came back through the proxy
        wait_until(lambda: any(e.get("event") == "plaintext" for e in proxy.events()))
    seen = [e for e in proxy.events() if e.get("event") == "plaintext"]
    assert seen[0]["hex"] == "ff fe 6f 6b"
    assert seen[0]["text"] == "\ufffd\ufffdok"
