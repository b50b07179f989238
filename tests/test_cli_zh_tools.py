"""``toytls inspect``, ``decode`` and ``wireshark`` in Chinese, as real processes (issue 13, item 4).

A server, a watching proxy writing --pcap and a client writing --keylog make
a real capture on 127.0.0.1; the test PKI gives real certificates and keys.
Every path of the three commands is then run with ``--lang zh`` — good
files, each kind of bad file, wrong keys, captures that stop early — and
nothing they print, on stdout or stderr, may hold an English sentence
(``tests/english.py``). Each case is also run in English: the same exit
status, English the detector does see (so a Chinese line that fell back to
English would fail here), and the English errors word for word as before.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import dpkt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from english import english_sentences
from processes import ENV, TOYTLS, Background, Result, run, run_client, start_proxy, start_server

from toytls.attacker.capture import SNAPLEN, TcpConversation

MESSAGE = "meet me at the old oak at nine"
VECTORS = Path(__file__).parent / "vectors"
CLIENT_HELLO = bytes.fromhex(
    json.loads((VECTORS / "handshake.json").read_text())["records"][0]["record"]
)


@pytest.fixture(scope="module")
def server(pki_dir: Path) -> Iterator[Background]:
    with start_server(pki_dir) as background:
        yield background


@pytest.fixture(scope="module")
def files(server: Background, pki_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real capture and key log, and every bad file the commands can be given."""
    where = tmp_path_factory.mktemp("zh-tools")
    pcap, keylog = where / "cap.pcap", where / "keys.log"
    with start_proxy(server.address, "watch", "--pcap", str(pcap)) as proxy:
        done = run_client(pki_dir, proxy.address, "--message", MESSAGE, "--keylog", str(keylog))
        assert done.returncode == 0, done.stderr
    assert proxy.stop().returncode in (0, 130)
    label, random, secret = keylog.read_text().split()
    (where / "wrong-x.log").write_text(f"{label} {random} {'00' * 32}\n")
    (where / "other.log").write_text(f"{label} {'00' * 32} {secret}\n")
    (where / "empty.log").write_text("# no line here\n")
    (where / "cut.pcap").write_bytes(pcap.read_bytes()[:-7])
    (where / "odd.pcap").write_bytes(_odd_capture())
    (where / "radio.pcap").write_bytes(_pcap([b"\x00" * 40], linktype=147))
    (where / "bad.pcapng").write_bytes(b"\x0a\x0d\x0d\x0a" + b"\xff" * 40)
    (where / "adir").mkdir()
    der = x509.load_pem_x509_certificate((pki_dir / "root.pem").read_bytes())
    (where / "root.der").write_bytes(der.public_bytes(Encoding.DER))
    return where


def _pcap(frames: list[bytes], linktype: int = dpkt.pcap.DLT_EN10MB) -> bytes:
    out = io.BytesIO()
    writer = dpkt.pcap.Writer(out, snaplen=SNAPLEN, linktype=linktype)
    for number, frame in enumerate(frames):
        writer.writepkt(frame, ts=1_700_000_000 + number / 1000)
    return out.getvalue()


def _odd_capture() -> bytes:
    """Two conversations that start as toytls/1 and then go wrong every way decode tells."""
    odd = TcpConversation(("127.0.0.1", 50010), ("127.0.0.1", 4433))
    frames = odd.open()
    alert_of_3 = bytes.fromhex("15010000030228ff")
    frames += odd.data(True, CLIENT_HELLO + alert_of_3 + b"GET / HTTP/1.1\r\n\r\n")
    short_hello = bytes.fromhex("160100000502000001ff")
    frames += odd.data(False, short_hello + bytes.fromhex("1601000030") + b"abc")
    holed = TcpConversation(("127.0.0.1", 50011), ("127.0.0.1", 4433))
    frames += holed.open() + holed.data(True, CLIENT_HELLO)
    frames += holed.data(True, b"lost")[1:] + holed.data(True, CLIENT_HELLO)
    return _pcap(frames)


def _both(*args: str) -> tuple[Result, Result]:
    """The command in Chinese and in English."""
    return run(*args, "--lang", "zh"), run(*args)


def _check(args: tuple[str, ...], status: int, *said: str) -> tuple[Result, Result]:
    zh, en = _both(*args)
    assert zh.returncode == en.returncode == status, (zh.stderr, en.stderr)
    assert english_sentences(zh.stdout + zh.stderr) == [], args
    assert english_sentences(en.stdout + en.stderr), args  # the detector sees the English
    for words in said:
        assert words in zh.stdout + zh.stderr, (words, zh.stdout, zh.stderr)
    assert "Traceback" not in zh.stderr + en.stderr
    if status == 2:
        assert zh.stderr.count("\n") == en.stderr.count("\n") == 1, zh.stderr
    return zh, en


def test_decode_of_a_real_capture_with_and_without_keys(files: Path, pki_dir: Path) -> None:
    cap = str(files / "cap.pcap")
    plain, _ = _check(("decode", cap), 0, "没有给出密钥", "ClientHello", "已解密 0 条")
    assert MESSAGE not in plain.stdout
    for key in (("--keylog", str(files / "keys.log")), ("--key", str(pki_dir / "server.key"))):
        zh, _ = _check(("decode", cap, *key), 0, "密钥X", "已解密（seq 1）：应用数据", "（警告级）")
        assert MESSAGE in zh.stdout
    wrong, _ = _check(("decode", cap, "--key", str(pki_dir / "attacker.key")), 1, "解不开")
    assert wrong.stderr == "toytls：给出的密钥一段对话也解不开\n"
    # A key X found for the conversation but wrong opens nothing: a failure.
    _check(("decode", cap, "--keylog", str(files / "wrong-x.log")), 1, "的记录解密失败", "解不开")
    _check(("decode", cap, "--keylog", str(files / "other.log")), 1, "密钥日志里没有")
    zh, en = _both("decode", cap, "--json")
    assert zh.stdout == en.stdout and zh.stderr == en.stderr == ""  # JSON is data


def test_decode_of_a_capture_that_goes_wrong(files: Path) -> None:
    _, en = _check(
        ("decode", str(files / "odd.pcap")),
        0,
        "无法解析：警报应为 2 字节，这条却有 3 字节",
        "从第 61 字节起就不是 toytls/1 了：未知的记录类型 71",
        "无法解析：ServerHello 格式错误",
        "最后 8 字节是一条不完整的记录",
        "抓包里缺了一段字节",
    )
    assert "client → server stopped: not toytls/1 from byte 61 on: " in en.stdout
    assert "an alert of 3 bytes (2 expected)" in en.stdout


def test_decode_of_files_it_cannot_use(files: Path, pki_dir: Path) -> None:
    cap = str(files / "cap.pcap")
    cases = [
        (("decode", str(files / "cut.pcap")), "抓包文件被截断了", "truncated: packet"),
        (
            ("decode", str(pki_dir / "root.pem")),
            "这不是 pcap 或 pcapng 抓包文件",
            "not a pcap or pcapng capture (the file does not start like one)",
        ),
        (("decode", str(files / "radio.pcap")), "不支持链路类型 147", "unsupported link type 147"),
        (("decode", str(files / "bad.pcapng")), "读不懂这个抓包文件", "not a readable capture: "),
        (("decode", str(files / "missing.pcap")), "：文件不存在", "No such file or directory"),
        (("decode", cap, "--port", "1"), "端口 1 上没有 toytls/1 对话", "on port 1 in this"),
        (
            ("decode", cap, "--keylog", str(files / "empty.log")),
            "没有一行可用的 CLIENT_RANDOM 记录",
            "no usable CLIENT_RANDOM line (expected CLIENT_RANDOM <64 hex> <64 hex>)",
        ),
        (("decode", cap, "--keylog", str(files / "nope.log")), "：文件不存在", "No such file"),
        (
            ("decode", cap, "--key", str(pki_dir / "root.pem")),
            "这不是未加密的 PEM 私钥",
            "not an unencrypted PEM private key",
        ),
    ]
    for args, chinese, english in cases:
        zh, en = _check(args, 2, chinese)
        assert english in en.stderr, en.stderr
        named = next(a for a in reversed(args) if "/" in a)
        assert zh.stderr.startswith(f"toytls：{named}："), zh.stderr
        assert en.stderr.startswith(f"toytls: {named}: "), en.stderr
    directory = run("decode", str(files / "adir"), "--lang", "zh")
    assert directory.returncode == 2
    assert directory.stderr == f"toytls：{files / 'adir'}：这是一个目录，不是文件\n"


def test_inspect_of_good_certificates(files: Path, pki_dir: Path) -> None:
    chain, _ = _check(("inspect", str(pki_dir / "chain.pem")), 0, "第 1 张数字证书", "摘要T")
    assert "  持有者（subject）：CN=localhost" in chain.stdout
    leaf = str(pki_dir / "server.pem")
    _check(("inspect", leaf, "--issuer", str(pki_dir / "intermediate.pem")), 0, "T = S")
    _, en = _check(
        ("inspect", leaf, "--issuer", str(pki_dir / "attacker-root.pem")),
        0,
        "不通过，它的原话是：“",
    )
    assert "refused: " in en.stdout
    _check(("inspect", str(files / "root.der")), 0, "自签名证书", "T = S")
    zh, en = _both("inspect", str(pki_dir / "chain.pem"), "--json")
    assert zh.returncode == 0 and json.loads(zh.stdout)["certificates"]
    assert zh.stderr == en.stderr == ""


def test_inspect_of_files_that_are_no_certificate(files: Path, pki_dir: Path) -> None:
    key = str(pki_dir / "server.key")
    for args in (("inspect", key), ("inspect", str(pki_dir / "server.pem"), "--issuer", key)):
        zh, en = _check(args, 2, "这不是数字证书（既不是含 CERTIFICATE 块的 PEM，也不是 DER）")
        assert en.stderr == (
            f"toytls: {key}: not a certificate (neither PEM with a CERTIFICATE block nor DER)\n"
        )
        assert zh.stderr.startswith(f"toytls：{key}：")
    missing = str(files / "missing.pem")
    zh, en = _check(("inspect", missing), 2, "文件不存在")
    assert en.stderr == f"toytls: {missing}: No such file or directory\n"
    assert zh.stderr == f"toytls：{missing}：文件不存在\n"
    directory = run("inspect", str(files / "adir"), "--lang", "zh")
    assert directory.returncode == 2
    assert directory.stderr == f"toytls：{files / 'adir'}：这是一个目录，不是文件\n"


def test_wireshark_gives_its_advice_in_chinese() -> None:
    en = run("wireshark")
    zh = run("wireshark", "--lang", "zh")
    env = {**ENV, "TOYTLS_LANG": "zh"}
    done = subprocess.run(
        [*TOYTLS, "wireshark"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert en.returncode == zh.returncode == done.returncode == 0
    assert en.stdout == zh.stdout == done.stdout  # the path alone, for $(toytls wireshark)
    assert os.path.isfile(zh.stdout.strip())
    assert zh.stderr == done.stderr
    assert "加载方法：wireshark -X lua_script:PATH" in zh.stderr
    assert "-d tcp.port==PORT,toytls" in zh.stderr
    assert english_sentences(zh.stderr) == []
    assert english_sentences(en.stderr) and "load it with:" in en.stderr
