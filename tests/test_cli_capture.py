"""Captures and keys over real processes: proxy --pcap, --keylog, decode, and tshark.

A server, a watching proxy writing --pcap, and a client writing --keylog run
on 127.0.0.1. The capture must be a valid pcap with consistent TCP numbers,
tshark with the shipped dissector must list the handshake, and ``toytls
decode`` must show the message only when given key X (key log) or B−.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import dpkt
import pytest
from processes import ENV, TOYTLS, Background, run, run_client, start_proxy, start_server

MESSAGE = "meet me at the old oak at nine"


@pytest.fixture(scope="module")
def server(pki_dir: Path) -> Iterator[Background]:
    with start_server(pki_dir) as background:
        yield background


@pytest.fixture(scope="module")
def recorded(
    server: Background, pki_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, int]:
    """One conversation through a watching proxy: (capture, key log, proxy port)."""
    where = tmp_path_factory.mktemp("capture")
    pcap, keylog = where / "cap.pcap", where / "keys.log"
    with start_proxy(server.address, "watch", "--pcap", str(pcap)) as proxy:
        result = run_client(pki_dir, proxy.address, "--message", MESSAGE, "--keylog", str(keylog))
        assert result.returncode == 0, result.stderr
        port = proxy.port
    assert proxy.stop().returncode in (0, 130)  # Ctrl-C: the capture is complete anyway
    return pcap, keylog, port


def test_the_capture_is_a_pcap_with_consistent_tcp(recorded: tuple[Path, Path, int]) -> None:
    pcap, _, port = recorded
    with pcap.open("rb") as file:
        packets = [dpkt.ethernet.Ethernet(buf) for _, buf in dpkt.pcap.Reader(file)]
    segments = [p.data.data for p in packets]
    assert all(isinstance(s, dpkt.tcp.TCP) for s in segments)
    assert segments[0].flags & dpkt.tcp.TH_SYN
    assert segments[0].dport == port
    # Each side's next sequence number is where its previous segment ended.
    expected: dict[int, int] = {}
    for tcp in segments:
        if tcp.sport in expected:
            assert tcp.seq == expected[tcp.sport]
        expected[tcp.sport] = (
            tcp.seq + len(tcp.data) + bool(tcp.flags & (dpkt.tcp.TH_SYN | dpkt.tcp.TH_FIN))
        )
    assert any(t.flags & dpkt.tcp.TH_FIN for t in segments)
    assert max(len(t.data) for t in segments) <= 1460


def test_the_key_log_has_one_line_for_the_connection(recorded: tuple[Path, Path, int]) -> None:
    _, keylog, _ = recorded
    (line,) = keylog.read_text().splitlines()
    label, random, secret = line.split()
    assert label == "CLIENT_RANDOM"
    assert len(bytes.fromhex(random)) == 32
    assert len(bytes.fromhex(secret)) == 32
    assert keylog.stat().st_mode & 0o077 == 0


def test_decode_shows_the_message_only_with_a_key(
    recorded: tuple[Path, Path, int], pki_dir: Path
) -> None:
    pcap, keylog, _ = recorded
    plain = run("decode", str(pcap))
    assert plain.returncode == 0, plain.stderr
    assert "ClientHello" in plain.stdout
    assert "ClientKeyExchange" in plain.stdout
    assert MESSAGE not in plain.stdout
    with_log = run("decode", str(pcap), "--keylog", str(keylog))
    assert with_log.returncode == 0, with_log.stderr
    assert MESSAGE in with_log.stdout
    with_key = run("decode", str(pcap), "--key", str(pki_dir / "server.key"))
    assert with_key.returncode == 0, with_key.stderr
    assert MESSAGE in with_key.stdout


def test_a_key_that_does_not_match_opens_nothing(
    recorded: tuple[Path, Path, int], pki_dir: Path
) -> None:
    pcap, _, _ = recorded
    result = run("decode", str(pcap), "--key", str(pki_dir / "attacker.key"))
    assert result.returncode == 1
    assert MESSAGE not in result.stdout
    assert "does not open" in result.stdout


def test_bad_captures_are_one_line_and_status_2(
    recorded: tuple[Path, Path, int], tmp_path: Path, pki_dir: Path
) -> None:
    pcap, _, _ = recorded
    truncated = tmp_path / "cut.pcap"
    truncated.write_bytes(pcap.read_bytes()[:-7])
    for bad, why in (
        (truncated, "truncated"),
        (pki_dir / "root.pem", "not a pcap"),
        (tmp_path / "missing.pcap", "No such file"),
    ):
        result = run("decode", str(bad))
        assert result.returncode == 2, result.stdout
        assert why in result.stderr
        assert result.stderr.count("\n") == 1
    result = run("decode", str(pcap), "--port", "1")
    assert result.returncode == 2
    assert "no toytls/1 conversation on port 1" in result.stderr


def test_the_environment_variable_turns_the_key_log_on(
    server: Background, pki_dir: Path, tmp_path: Path
) -> None:
    keylog = tmp_path / "env.log"
    args = ["client", "--connect", server.address, "--cafile", str(pki_dir / "root.pem")]
    env = {**ENV, "TOYTLS_KEYLOGFILE": str(keylog)}
    done = subprocess.run(
        [*TOYTLS, *args, "--message", "x"], env=env, capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert keylog.read_text().startswith("CLIENT_RANDOM ")
    # Control: without the variable or the flag, nothing is written anywhere.
    quiet = tmp_path / "unset.log"
    env.pop("TOYTLS_KEYLOGFILE")
    subprocess.run([*TOYTLS, *args, "--message", "x"], env=env, timeout=60, check=False)
    assert not quiet.exists()
    assert len(keylog.read_text().splitlines()) == 1


def test_pcap_in_a_man_in_the_middle_mode(
    server: Background, pki_dir: Path, tmp_path: Path
) -> None:
    pcap = tmp_path / "mitm.pcap"
    with start_proxy(
        server.address, "swap-key", "--certs", str(pki_dir), "--pcap", str(pcap)
    ) as proxy:
        run_client(pki_dir, proxy.address, "--message", MESSAGE, "--insecure")
    result = run("decode", str(pcap), "--key", str(pki_dir / "attacker.key"))
    assert result.returncode == 0, result.stderr
    assert MESSAGE in result.stdout  # the victim's side was sealed under the attacker's B+


def test_toytls_wireshark_prints_the_dissector() -> None:
    result = run("wireshark")
    assert result.returncode == 0
    path = Path(result.stdout.strip())
    assert path.is_absolute()
    assert path.name == "toytls.lua"
    assert 'Proto("toytls"' in path.read_text()
    assert "lua_script" in result.stderr


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
def test_tshark_reads_the_handshake_with_the_dissector(recorded: tuple[Path, Path, int]) -> None:
    pcap, _, port = recorded
    lua = run("wireshark").stdout.strip()
    fields = ["-T", "fields", "-e", "toytls.handshake.type", "-e", "toytls.server_name"]
    command = ["tshark", "-X", f"lua_script:{lua}", "-r", str(pcap), *fields]
    env = {**os.environ, "HOME": str(pcap.parent)}  # no personal profile
    done = subprocess.run(
        [*command, "-d", f"tcp.port=={port},toytls"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    types: set[str] = set()
    names: set[str] = set()
    for line in done.stdout.splitlines():
        kinds, _, name = line.partition("\t")
        types |= {k for k in kinds.split(",") if k}
        names |= {name} if name else set()
    assert {"1", "2", "11", "16"} <= types
    assert names == {"localhost"}
    # Control: without "decode as" the proxy's port is not toytls's, and nothing is read.
    other = subprocess.run(
        command, capture_output=True, text=True, timeout=120, check=False, env=env
    )
    assert other.returncode == 0, other.stderr
    assert not other.stdout.replace("\t", "").strip()


def test_server_and_client_log_the_same_line(pki_dir: Path, tmp_path: Path) -> None:
    server_log, client_log = tmp_path / "server.log", tmp_path / "client.log"
    with start_server(pki_dir, "--keylog", str(server_log)) as server:
        result = run_client(pki_dir, server.address, "--message", "x", "--keylog", str(client_log))
        assert result.returncode == 0, result.stderr
        server.stop()
    assert server_log.read_text() == client_log.read_text()
    assert server_log.read_text().count("\n") == 1
