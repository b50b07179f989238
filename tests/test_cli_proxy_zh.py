"""``toytls proxy --lang zh`` says everything in Chinese, in every mode.

Real processes on loopback: a server, the proxy in text mode (as a person
runs it, not ``--json``) and clients that check the certificate or not. The
proxy's whole output is then read line by line: outside quoted data and
identifiers (message and alert names, hex, HOST:PORT), no line may hold an
English sentence, and data is never shown as a Python bytes repr.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from processes import Background, Text, run, run_client, start_server

from toytls.cli.parser import PROXY_MODES as MODES

MESSAGE = "你好，今晚八点见"
#: What each mode's connections must tell, one fragment per client (verifying, --insecure).
OUTCOMES: dict[str, tuple[str, str]] = {
    "watch": ("application_data，", "application_data，"),
    "swap-key": ("攻击失败：客户端以警报 bad_certificate 拒绝", "攻击成功"),
    "tamper-cert": ("攻击失败：客户端以警报 bad_certificate 拒绝", "结果：客户端没有检查"),
    "swap-cert": ("攻击失败：客户端以警报 bad_certificate 拒绝", "攻击成功"),
    "self-signed": ("攻击失败：客户端以警报 unknown_ca 拒绝", "攻击成功"),
    "own-ca": ("攻击失败：客户端以警报 unknown_ca 拒绝", "攻击成功"),
    "flip": ("结果：被翻转一位的记录", "结果：被翻转一位的记录"),
    "replay": ("结果：重放的副本", "结果：重放的副本"),
    "truncate": ("结果：攻击者在没有 close_notify", "结果：攻击者在没有 close_notify"),
}

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: quoted data: '…', "…", “…”, `…` (backticks and curly quotes first)
_QUOTED = (
    re.compile(r"`[^`]*`"),
    re.compile(r"“[^”]*”"),
    re.compile(r'"[^"]*"'),
    re.compile(r"'[^']*'"),
)
#: three or more lowercase ASCII words in a row: an English phrase
_ENGLISH = re.compile(r"(?:\b[a-z][a-z'’-]+\b[ ,:;]+){2,}\b[a-z][a-z'’-]+\b")
#: a Python bytes repr (b'\xe4…'); a quoted str may escape a control character
_BYTES_REPR = re.compile(r"\bb'|\bb\"")


def english_lines(text: str) -> list[str]:
    """The lines of ``text`` that say something in English, or show a bytes repr."""
    found = []
    for line in text.splitlines():
        plain = _ANSI.sub("", line)
        if _BYTES_REPR.search(plain):
            found.append(line)
            continue
        for quoted in _QUOTED:
            plain = quoted.sub("", plain)
        if _ENGLISH.search(plain):
            found.append(line)
    return found


def assert_chinese(text: str) -> None:
    """Fail, naming the lines, if any line of ``text`` is English."""
    found = english_lines(text)
    assert not found, "English in --lang zh:\n" + "\n".join(found)


def test_the_detector_catches_what_it_should() -> None:
    old = [
        "[12:00:00.000] #1 client connected; mode swap-key",
        "#1 偷梁换柱: keep the real certificate, put the attacker's public key M+ in it",
        "#1 client→server application_data, 22 bytes of ciphertext: 9712445a…",
        "#1 flipped one bit of this record's ciphertext",
        "#1 client says (decrypted with key X): '你好'",
        "#1 [面向服务器]       data = b'\\xe4\\xbd\\xa0 hi'",
    ]
    assert english_lines("\n".join(old)) == old
    fine = [
        "#1 客户端说（用密钥X 解密）：'you are the one I love'",
        "#1 客户端→服务器 application_data，22 字节密文：9712445a…",
        "#1 服务器→客户端 明文：'hi\\x00there'",
        "#1 攻击失败：客户端以警报 bad_certificate 拒绝：公钥被换成 M+ 的真证书与 CA 的数字签名对不上",
        '#1 服务器→客户端的 HTTP 正文（GET /secret 的响应 404 Not Found）：33 字节 "not found: try /"',
        "toytls: 找不到 /x/attacker-root.pem：攻击者的密钥和证书要先用 `toytls certs` 生成",
    ]
    assert english_lines("\n".join(fine)) == []


def text_proxy(upstream: str, mode: str, *extra: str) -> Text:
    """``toytls proxy --lang zh`` in text mode, as a person runs it."""
    listen = ("--listen", "127.0.0.1:0", "--upstream", upstream)
    return Text("proxy", *listen, "--mode", mode, "--lang", "zh", *extra)


def said(proxy: Text) -> str:
    """Ctrl-C the proxy; everything it printed (stdout, then stderr)."""
    result = proxy.stop()
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def server(pki_dir: Path) -> Iterator[Background]:
    with start_server(pki_dir) as process:
        yield process


def _client(pki_dir: Path, address: str, *extra: str) -> None:
    result = run_client(pki_dir, address, "--message", MESSAGE, "-q", *extra)
    assert "Traceback" not in result.stderr, result.stderr


@pytest.mark.parametrize("mode", MODES)
def test_every_line_is_chinese(mode: str, server: Background, pki_dir: Path) -> None:
    proxy = text_proxy(server.address, mode, "--certs", str(pki_dir))
    try:
        _client(pki_dir, proxy.address)
        _client(pki_dir, proxy.address, "--insecure")
    finally:
        text = said(proxy)
    assert proxy.process.returncode == 130, text
    assert_chinese(text)
    verifying, insecure = OUTCOMES[mode]
    first, second = text.split("#2 客户端已连接")
    assert verifying in first and insecure in second, text
    assert first.count("#1 客户端已连接；模式 ") == 1 and "#1 连接已关闭" in first
    assert "#2 连接已关闭" in second and text.rstrip().endswith("代理已停止")
    if mode in ("swap-key", "swap-cert", "self-signed", "own-ca"):
        assert f"#2 客户端说（用密钥X 解密）：'{MESSAGE}'" in second
        assert f"#2 服务器说（用密钥X 解密）：'{MESSAGE}'" in second


def test_narration_of_both_legs_uses_the_attackers_keys(server: Background, pki_dir: Path) -> None:
    """At -vv the leg toward the client is the attacker's: X opens with M−, never B−."""
    proxy = text_proxy(server.address, "swap-key", "--certs", str(pki_dir), "-vv")
    try:
        _client(pki_dir, proxy.address, "--insecure")
    finally:
        text = said(proxy)
    toward_client = [line for line in text.splitlines() if "[面向客户端]" in line]
    assert any("私钥M− 解密" in line for line in toward_client), text
    assert not any("B−" in line for line in toward_client), text
    assert any("[面向服务器]" in line for line in text.splitlines()), text


class _HangUp:
    """A "real server" that accepts and closes at once, or after the first bytes."""

    def __init__(self, *, read_first: bool) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.socket.getsockname()[1]}"
        self.read_first = read_first
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return  # closed
            with connection:
                if self.read_first:
                    connection.recv(65536)


@pytest.mark.parametrize("read_first", [False, True], ids=["at-once", "after-hello"])
def test_a_server_that_hangs_up_is_told(pki_dir: Path, read_first: bool) -> None:
    upstream = _HangUp(read_first=read_first)
    proxy = text_proxy(upstream.address, "swap-key", "--certs", str(pki_dir))
    try:
        result = run("client", "--connect", proxy.address, "--insecure", "--message", MESSAGE, "-q")
    finally:
        text = said(proxy)
        upstream.socket.close()
    assert result.returncode == 4, result.stderr
    assert "no handshake within" not in result.stderr  # dropped at once, not left waiting
    assert "真正的服务器中断了和攻击者之间的连接" in text, text
    assert "内部出错" not in text, text
    assert_chinese(text)


def test_an_unreachable_server_is_told(pki_dir: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed:
        nobody = f"127.0.0.1:{closed.getsockname()[1]}"
    proxy = text_proxy(nobody, "flip")
    try:
        run("client", "--connect", proxy.address, "--insecure", "--message", MESSAGE, "-q")
    finally:
        text = said(proxy)
    assert f"#1 连不上真正的服务器 {nobody}：连接被拒绝" in text, text
    assert "#1 连接已关闭" in text, text  # the connection's end is told, as for every other
    assert_chinese(text)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--mode", "swap-key", "--certs", "{missing}"], "找不到 "),
        (["--mode", "swap-key", "--certs", "{garbage}"], "读不出来"),
        (["--mode", "watch", "--listen", "nope"], "--listen 应写成 HOST:PORT"),
        (["--mode", "watch", "--upstream", "127.0.0.1:99999"], "--upstream 应写成"),
        (["--mode", "watch", "--rewrite", "abc"], "--rewrite 要写成 OLD=NEW"),
        (["--mode", "watch", "--pcap", "{missing}/x.pcap"], "没有这个文件或目录"),
        (["--mode", "watch", "--pcap", "{garbage}"], "这是一个目录"),
    ],
)
def test_usage_errors_are_chinese(tmp_path: Path, args: list[str], says: str) -> None:
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    for name in (
        "attacker.key",
        "attacker-root.key",
        "attacker-root.pem",
        "attacker-other-name.pem",
    ):
        (garbage / name).write_text("not PEM\n")
    values = {"missing": str(tmp_path / "missing"), "garbage": str(garbage)}
    result = run("proxy", "--lang", "zh", *(arg.format(**values) for arg in args))
    assert result.returncode == 2, result.stderr
    assert_chinese(result.stdout + result.stderr)
    assert says in result.stderr, result.stderr


def test_a_busy_address_is_chinese() -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        address = f"127.0.0.1:{busy.getsockname()[1]}"
        result = run("proxy", "--lang", "zh", "--mode", "watch", "--listen", address)
    assert result.returncode == 1, result.stderr
    assert f"无法在 {address} 上监听：地址已被占用" in result.stderr, result.stderr
