"""Every command in Chinese, end to end: no English sentence (issue 13, item 4).

Real processes on loopback, as a learner runs them with ``--lang zh``: the
demo, the client at every level of detail and when it fails, the tunnel,
the session page through the tunnel, and ``toytls certs``. The proxy and
the server in every attack mode are covered by the truth matrix
(``test_story_truth_matrix.py``), and ``--help`` by ``test_cli_usage.py``.
What may stay as it is: quoted data, identifiers (alert and message names,
flags, paths, hex) and commands; see :mod:`english`.
"""

from __future__ import annotations

import ast
import html
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from english import english_in, english_sentences
from processes import Text, run, run_client

ZH = ("--lang", "zh", "--no-color")


def page_text(markup: str) -> str:
    """What a reader of an HTML page sees, data aside: no styles, no tags, entities decoded."""
    markup = re.sub(r"(?s)<(style|script)\b.*?</\1>", " ", markup)
    # <pre> holds data: the visitor's own request, a fingerprint.
    markup = re.sub(r"(?s)<pre>.*?</pre>", " ", markup)
    markup = re.sub(r"(?s)<!--.*?-->", " ", markup)
    return html.unescape(re.sub(r"<[^>]+>", "\n", markup))


def no_english(*outputs: str) -> None:
    text = "\n".join(outputs)
    assert "Traceback" not in text, text
    found = english_sentences(text)
    assert found == [], "\n".join(found)


@pytest.mark.parametrize(
    "line",
    [
        "[3/6] 结论：拒绝：the certificate is for attacker.test",
        "[16:00:00.000] #1 connected from 127.0.0.1:56860",
        "#1 handshake done: 'localhost', AES-128-GCM, key X fingerprint 3cf54d1c1a478d06",
        "#1 127.0.0.1:56860 disconnected (6 bytes in, 6 out)",
        "\x1b[1mhandshake done\x1b[0m：'localhost'",
        "reply: 你好",
        "WARNING: --plaintext: no encryption at all; everything is readable on the wire",
        "toytls: interrupted",
        "toytls：interrupted",
        "#1 127.0.0.1:56860 disconnected（收到 6 字节，发出 6 字节）",
        "\x1b[1;33mserver stopped\x1b[0m",
        "#1 127.0.0.1:1 not tunnelled: 无法连接到 127.0.0.1:1",
        "Anyone between you and the server can pose as it, read and change everything.",
    ],
)
def test_the_detector_flags_english(line: str) -> None:
    assert english_in(line), line


@pytest.mark.parametrize(
    "line",
    [
        "[16:00:00.000] #1 127.0.0.1:56860 已断开（收到 6 字节，发出 6 字节）",
        "握手完成：'localhost'，AES-128-GCM，密钥X 的指纹 3cf54d1c1a478d06",
        "      关闭：服务器已发送完毕（close_notify），数据完整结束",
        "[6/6] 客户端收到 {Finished}：警报 bad_record_mac，ClientHello 'meet me at eight'",
        "      CN=toytls Root X1,O=toytls；指纹 3cf54d1c1a478d06；运行 `toytls certs`",
        "      00 01 ff ff … ff 00；toytls decode cap.pcap --key certs/server.key",
        "      AES-128-GCM，127.0.0.1:4433，--insecure，data = “你好”（e4 bd a0）",
        "回复：'hi there, how are you'",
        "      备用名称：DNS:attacker.test，URI:https://example.test/a",
        "> GET / HTTP/1.1（Host: localhost）",
        "< Content-Type: text/html; charset=utf-8",
        "打开 http://127.0.0.1:8080/ 看看",
        "找不到 certs/root.pem —— 请先运行 `toytls certs`",
        "toytls：certs/ 里已有 root.pem, root.key, attacker-own-ca.pem：不覆盖（加 --force 才会替换）",
    ],
)
def test_the_detector_lets_chinese_and_identifiers_pass(line: str) -> None:
    assert english_in(line) == [], line


def test_a_page_is_read_as_its_reader_sees_it() -> None:
    assert english_sentences(page_text("<p>你的<b>client checked</b> every signature</p>"))
    assert not english_sentences(page_text("<style>code, pre { font-family: mono; }</style>"))


@pytest.fixture(scope="module")
def echo_zh(pki_dir: Path) -> Iterator[Text]:
    """``toytls server --lang zh`` (echo: the reply is the client's own data), in text mode."""
    chain, key = str(pki_dir / "chain.pem"), str(pki_dir / "server.key")
    args = ("server", "--accept", "127.0.0.1:0", "--cert-chain", chain, "--key", key)
    with Text(*args, *ZH) as server:
        yield server
    no_english(*server.lines)


@pytest.fixture(scope="module")
def server_zh(pki_dir: Path) -> Iterator[Text]:
    """``toytls server --app http --lang zh``, in text mode."""
    chain, key = str(pki_dir / "chain.pem"), str(pki_dir / "server.key")
    args = ("server", "--accept", "127.0.0.1:0", "--cert-chain", chain, "--key", key)
    with Text(*args, "--app", "http", *ZH) as server:
        yield server
    no_english(*server.lines)


def test_the_demo(tmp_path: Path) -> None:
    done = run("demo", *ZH, "--html", str(tmp_path / "report.html"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("✓") >= 14
    no_english(done.stdout, done.stderr)
    no_english(page_text((tmp_path / "report.html").read_text(encoding="utf-8")))


@pytest.mark.parametrize("detail", [(), ("-q",), ("-v",), ("-vv", "--hexdump")])
def test_the_client_at_every_level(server_zh: Text, pki_dir: Path, detail: tuple[str, ...]) -> None:
    done = run_client(pki_dir, server_zh.address, *ZH, *detail, "--http", "GET", "/api/session")
    assert done.returncode == 0, done.stderr
    no_english(done.stderr, done.stdout)


def test_the_client_sending_chinese_data(echo_zh: Text, pki_dir: Path) -> None:
    done = run_client(pki_dir, echo_zh.address, *ZH, "-v", "--message", "你好")
    assert done.returncode != 0 or "你好" in done.stdout
    no_english(done.stdout, done.stderr)
    assert "b'\\x" not in done.stdout  # data as text and hex, not a bytes repr


@pytest.mark.parametrize(
    "case",
    ["refused", "missing-cafile", "not-a-certificate", "wrong-name", "insecure", "plaintext"],
)
def test_the_client_when_something_is_off(
    echo_zh: Text, pki_dir: Path, tmp_path: Path, case: str
) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# not a certificate\n", encoding="utf-8")
    address = echo_zh.address
    extra: tuple[str, ...] = {
        "refused": ("--connect", "127.0.0.1:9"),
        "missing-cafile": ("--cafile", str(tmp_path / "no-such-root.pem")),
        "not-a-certificate": ("--cafile", str(readme)),
        "wrong-name": ("--server-name", "example.test"),
        "insecure": ("--insecure",),
        "plaintext": ("--plaintext",),
    }[case]
    done = run_client(pki_dir, address, *ZH, "--message", "你好", *extra)
    assert done.stdout or done.stderr
    no_english(done.stdout, done.stderr)


def test_the_tunnel_and_the_session_page(server_zh: Text, pki_dir: Path) -> None:
    args = ("tunnel", "--accept", "127.0.0.1:0", "--connect", server_zh.address)
    with Text(*args, "--cafile", str(pki_dir / "root.pem"), *ZH) as tunnel:
        pages = []
        for path in ("/", "/?lang=zh"):
            with urllib.request.urlopen(f"http://{tunnel.address}{path}", timeout=30) as answer:
                pages.append(answer.read().decode("utf-8"))
    for page in pages:
        assert '<html lang="zh">' in page
        no_english(page_text(page))
    no_english(*tunnel.lines)


def test_certs(tmp_path: Path) -> None:
    first = run("certs", "--dir", str(tmp_path / "certs"), "--lang", "zh")
    again = run("certs", "--dir", str(tmp_path / "certs"), "--lang", "zh")
    assert first.returncode == 0, first.stderr
    assert again.returncode != 0
    no_english(first.stdout, first.stderr, again.stdout, again.stderr)


def _chinese_texts() -> list[tuple[str, int, str]]:
    """Every Chinese string literal in the package (docstrings aside): (file, line, text)."""
    package = Path(__file__).resolve().parent.parent / "toytls"
    found = []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
                continue
            chinese = len(re.findall(r"[\u4e00-\u9fff]", node.value))
            latin = len(re.findall(r"[A-Za-z]", node.value))
            # An English sentence that names 偷梁换柱 is not a Chinese text.
            if id(node) not in docstrings and chinese and chinese * 2 >= latin:
                found.append((path.name, node.lineno, node.value))
    return found


def test_every_chinese_text_in_the_package() -> None:
    """The texts themselves, including those no run above happens to print."""
    texts = _chinese_texts()
    assert len(texts) > 500, len(texts)
    bad = [
        f"{name}:{line}: {found}"
        for name, line, text in texts
        for found in english_sentences(re.sub(r"\{[^{}]*\}", "“”", text))
    ]
    assert bad == [], "\n".join(bad)


@pytest.mark.parametrize("only", ["99", "x"])
def test_the_demo_refuses_a_bad_only_in_chinese(only: str) -> None:
    done = run("demo", "--only", only, *ZH)
    assert done.returncode == 2
    assert "--only" in done.stderr
    no_english(done.stdout, done.stderr)
