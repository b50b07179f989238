"""With ``--lang zh``, every line server, client, tunnel and certs print is Chinese.

Real processes on 127.0.0.1, in text mode (not ``--json``): each command's
stdout and stderr are read line by line and every line goes through
:func:`english.english_in` (the detector every zh test shares; its
own cases are in ``test_cli_zh_sweep.py``). :func:`test_the_detector_finds_the_english_lines`
runs the same commands in English and checks that the detector flags them,
so these tests can fail.

Every wait is bounded and generous; nothing depends on how fast the machine is.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from english import english_in
from processes import ENV, TOYTLS, Result, Text, client_args, run, run_client, server_args

#: Generous bounds for a busy machine: only a hang reaches them.
START_TIMEOUT = 60.0
RUN_TIMEOUT = 120.0

# ----------------------------------------------------------------- detector


def assert_chinese(*outputs: str) -> None:
    """Fail, quoting each line, if any line of ``outputs`` has English."""
    bad = [
        (line, found)
        for text in outputs
        for line in text.splitlines()
        if (found := english_in(line))
    ]
    assert not bad, "English in --lang zh output:\n" + "\n".join(
        f"  {line!r}  ← {found}" for line, found in bad
    )


# ---------------------------------------------------------------- processes


def server(pki_dir: Path, *extra: str, stdin: bool = False) -> Text:
    return Text(*server_args(pki_dir, *extra), stdin=stdin, timeout=START_TIMEOUT)


def client(pki_dir: Path, address: str, *extra: str, stdin: str | None = None) -> Result:
    return run_client(pki_dir, address, "--no-color", *extra, stdin=stdin, timeout=RUN_TIMEOUT)


def closed_port() -> int:
    """A loopback port with nothing listening (bound for a moment, then freed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: The end line of a server connection, in Chinese.
SERVER_END = r"（收到 \d+ 字节，发出 \d+ 字节）"
#: The end line of a tunnelled connection, or its refusal, in Chinese.
TUNNEL_END = r"（送过去 \d+ 字节，传回来 \d+ 字节）|没能接通隧道"


@pytest.fixture(scope="module")
def plain_echo(pki_dir: Path) -> Iterator[Text]:
    """A plaintext echo server (zh), for --plaintext, --forward and the tunnel."""
    process = server(pki_dir, "--plaintext", "--lang", "zh")
    yield process
    process.stop()


# -------------------------------------------------------------------- tests


def test_echo_server_and_its_clients(pki_dir: Path, tmp_path: Path) -> None:
    keylog = tmp_path / "gone" / "keys.log"
    keylog.parent.mkdir()
    echo = server(pki_dir, "--lang", "zh", "--keylog", str(keylog))
    shutil.rmtree(keylog.parent)  # every connection's key log line now fails: a warning each
    zh = ("--lang", "zh")
    runs = [
        (client(pki_dir, echo.address, *zh, "--message", "你好"), 0),
        (client(pki_dir, echo.address, *zh, "-v", "--message", "密钥X"), 0),
        (client(pki_dir, echo.address, *zh, "--insecure", "--message", "不验证"), 0),
        (client(pki_dir, echo.address, *zh, "-q", "--insecure", "--message", "安静"), 0),
        (client(pki_dir, echo.address, *zh, stdin="第一行\n第二行\n"), 0),
    ]
    rejected = run(
        "client",
        "--connect",
        echo.address,
        "--cafile",
        str(pki_dir / "attacker-root.pem"),
        "--no-color",
        *zh,
        "--message",
        "偷梁换柱",
        timeout=RUN_TIMEOUT,
    )
    runs.append((rejected, 3))
    # A connection that is not toytls at all: the server's log says why it failed.
    with socket.create_connection(("127.0.0.1", echo.port), timeout=RUN_TIMEOUT) as raw:
        raw.sendall(b"GET / HTTP/1.1\r\n\r\n")
        raw.recv(100)
    echo.wait_for(SERVER_END, times=len(runs) + 1)
    stopped = echo.stop()
    for result, status in runs:
        assert result.returncode == status, result.stderr
        assert_chinese(result.stdout, result.stderr)
    warnings = runs[2][0].stderr.splitlines()
    assert [line for line in warnings if line.startswith("警告：")] == warnings, warnings
    assert len(warnings) == 1, "the --insecure warning is said once"
    assert "回复：你好" in runs[0][0].stdout
    assert "数字证书被拒绝（unknown_ca）" in rejected.stderr
    assert stopped.stdout.count("已断开") >= len(runs) - 1
    assert "服务器已停止" in stopped.stdout
    assert "无法写入密钥日志" in stopped.stderr
    assert_chinese(stopped.stdout, stopped.stderr)


def test_client_usage_errors_and_an_unreachable_server(pki_dir: Path, tmp_path: Path) -> None:
    zh = ("--lang", "zh", "--no-color")
    results = [
        run("client", "--connect", "nowhere", *zh, "--message", "x"),
        run("client", "--connect", "127.0.0.1:1", "--cafile", str(tmp_path / "no.pem"), *zh),
        run("client", "--connect", f"127.0.0.1:{closed_port()}", "--insecure", *zh, "-q"),
    ]
    assert [r.returncode for r in results] == [2, 2, 4], [r.stderr for r in results]
    for result in results:
        assert result.stderr.splitlines()[-1].startswith("toytls："), result.stderr
        assert_chinese(result.stdout, result.stderr)


def test_chat_server(pki_dir: Path) -> None:
    chat = server(pki_dir, "--lang", "zh", "--app", "chat", stdin=True)
    chatter = subprocess.Popen(
        [*TOYTLS, *client_args(pki_dir, chat.address, "--lang", "zh", "--no-color", "-q")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    assert chatter.stdin is not None
    chatter.stdin.write("大家好\n")
    chatter.stdin.flush()
    chat.wait_for("说：大家好")
    chat.send_stdin("@99 没有这个人\n")
    chat.send_stdin("欢迎\n")
    chat.wait_for("没有 '99' 号连接")
    out, err = chatter.communicate(timeout=RUN_TIMEOUT)  # stdin closed: Ctrl-D
    chat.wait_for(SERVER_END)
    stopped = chat.stop()
    assert chatter.returncode == 0, err
    assert "服务器：欢迎" in out
    assert_chinese(out, err, stopped.stdout, stopped.stderr)


def test_http_server(pki_dir: Path) -> None:
    http = server(pki_dir, "--lang", "zh", "--app", "http")
    ok = client(pki_dir, http.address, "--lang", "zh", "-q", "--http", "GET", "/")
    missing = client(pki_dir, http.address, "--lang", "zh", "-q", "--http", "GET", "/nothing")
    http.wait_for(SERVER_END, times=2)
    stopped = http.stop()
    assert (ok.returncode, missing.returncode) == (0, 1), (ok.stderr, missing.stderr)
    # The page's HTML is the server's answer, not a status line: only the
    # client's own lines (stderr, and the narration before the head) count.
    narration = ok.stdout.split("\n> ")[0]
    assert_chinese(narration, ok.stderr, missing.stderr, stopped.stdout, stopped.stderr)
    assert "服务器的应答是 HTTP/1.1 404" in missing.stderr


def test_plaintext_and_forward(pki_dir: Path, plain_echo: Text) -> None:
    zh = ("--lang", "zh")
    plain = client(pki_dir, plain_echo.address, *zh, "--plaintext", "--message", "明文")
    forward = server(pki_dir, *zh, "--forward", plain_echo.address)
    nowhere = server(pki_dir, *zh, "--forward", f"127.0.0.1:{closed_port()}")
    through = client(pki_dir, forward.address, *zh, "-q", "--message", "转发")
    lost = client(pki_dir, nowhere.address, *zh, "-q", "--message", "丢了")
    forward.wait_for(SERVER_END)
    nowhere.wait_for(SERVER_END)
    results = [plain, through, lost, forward.stop(), nowhere.stop()]
    assert [r.returncode for r in results[:2]] == [0, 0], [r.stderr for r in results]
    assert "回复：转发" in through.stdout
    assert "转发到" in results[3].stdout
    assert "无法连接到" in results[4].stdout
    for result in results:
        assert_chinese(result.stdout, result.stderr)
    plain_echo.wait_for(SERVER_END, times=2)
    assert_chinese("".join(plain_echo.out), "".join(plain_echo.err))
    assert "明文模式" in "".join(plain_echo.err)


def test_workers_and_a_port_in_use(pki_dir: Path) -> None:
    workers = server(pki_dir, "--lang", "zh", "--workers", "2")
    answer = client(pki_dir, workers.address, "--lang", "zh", "-q", "--message", "工作进程")
    workers.wait_for(SERVER_END)
    taken = run(
        *server_args(pki_dir, "--lang", "zh", "--no-color", accept=workers.address),
        timeout=RUN_TIMEOUT,
    )
    stopped = workers.stop()
    assert answer.returncode == 0, answer.stderr
    assert taken.returncode == 1, taken.stderr
    assert "无法在" in taken.stderr
    assert stopped.stdout.count("服务器已停止") == 2
    assert_chinese(answer.stdout, answer.stderr, taken.stdout, taken.stderr)
    assert_chinese(stopped.stdout, stopped.stderr)


def test_tunnel(pki_dir: Path) -> None:
    echo = server(pki_dir, "--lang", "zh", "-q")
    zh = ("--lang", "zh", "--accept", "127.0.0.1:0", "--connect")
    honest = Text("tunnel", *zh, echo.address, "--cafile", str(pki_dir / "root.pem"))
    insecure = Text("tunnel", *zh, echo.address, "--insecure")
    wrong_root = Text("tunnel", *zh, echo.address, "--cafile", str(pki_dir / "attacker-root.pem"))
    unreachable = Text(
        "tunnel", *zh, f"127.0.0.1:{closed_port()}", "--cafile", str(pki_dir / "root.pem")
    )
    tunnels = (honest, insecure, wrong_root, unreachable)
    answers = [
        client(pki_dir, t.address, "--lang", "zh", "-q", "--plaintext", "--message", "隧道")
        for t in tunnels
    ]
    for tunnel in tunnels:
        tunnel.wait_for(TUNNEL_END)
    results = [tunnel.stop() for tunnel in tunnels]
    echo.wait_for(SERVER_END, times=3)
    results.append(echo.stop())
    assert [a.returncode for a in answers[:2]] == [0, 0], [a.stderr for a in answers]
    assert "证书链已验证" in results[0].stdout
    assert "证书链未验证（--insecure）" in results[1].stdout
    assert "数字证书被拒绝（unknown_ca）" in results[2].stdout
    assert "无法连接到" in results[3].stdout
    assert all("隧道已停止" in r.stdout for r in results[:4])
    for result in results:
        assert_chinese(result.stdout, result.stderr)


def test_certs(tmp_path: Path) -> None:
    made = run("certs", "--dir", str(tmp_path), "--lang", "zh", timeout=RUN_TIMEOUT)
    again = run("certs", "--dir", str(tmp_path), "--lang", "zh", timeout=RUN_TIMEOUT)
    assert made.returncode == 0, made.stderr
    assert again.returncode == 2, again.stderr
    assert "根 CA 的数字证书" in made.stdout and "不覆盖" in again.stderr
    # The openssl command line is a command to type, not a sentence.
    lines = [line for line in made.stdout.splitlines() if not line.startswith("  openssl ")]
    assert_chinese("\n".join(lines), made.stderr, again.stdout, again.stderr)


def test_the_detector_finds_the_english_lines(pki_dir: Path, tmp_path: Path) -> None:
    """The same commands in English: the detector flags their lines, so the tests above can fail."""
    echo = server(pki_dir)
    insecure = client(pki_dir, echo.address, "--insecure", "--message", "hi")
    echo.wait_for(r"bytes in")
    stopped = echo.stop()
    made = run("certs", "--dir", str(tmp_path), timeout=RUN_TIMEOUT)
    for text in (insecure.stdout, insecure.stderr, stopped.stdout, made.stdout):
        with pytest.raises(AssertionError, match="English in --lang zh output"):
            assert_chinese(text)
    flagged = [line for line in stopped.stdout.splitlines() if english_in(line)]
    assert len(flagged) == len(stopped.stdout.splitlines()) >= 4, stopped.stdout
