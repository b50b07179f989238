"""Scenarios 2–4 of ``toytls demo`` and the sockets every scenario reports.

Lessons 2 and 3 must really cross the wire: a client and a server of the
lesson protocol on loopback, through the real watching proxy. The
in-process tests keep the client's side to compare with what the
eavesdropper printed, check the byte counts against the frames' sizes, and
check that the ports are gone afterwards; the process tests read the JSON
(``transport``) and the closing line of each scenario, in English and
Chinese. No mocks, no clocks.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import trio
from processes import run

from toytls.cli.demo_lessons import asymmetric, symmetric
from toytls.cli.demo_witness import Witness
from toytls.cli.demorun import Stage
from toytls.pki.generate import PKI
from toytls.story.demo_texts import LETTER, LINES
from toytls.story.lesson_protocols import AsymmetricClient, SymmetricClient

#: AES-GCM nonce and tag around the letter in a DATA frame.
_NONCE, _TAG = 12, 16
#: a 2048-bit RSA block
_RSA = 256


def _stage(pki: PKI, pki_dir: Path, lang: str, lines: list[str]) -> Stage:
    return Stage(pki_dir, pki, lang, lambda line, _highlight: lines.append(line), Witness())


def _frame_size(tag: str, payload: int) -> int:
    """Bytes of one lesson frame: ``TAG HEX\\n``."""
    return len(tag) + 1 + 2 * payload + 1


def _numbers(template: str, lines: list[str]) -> tuple[int, int]:
    """The two byte counts of the line made from ``template`` ({up}, {down})."""
    pattern = re.escape(template).replace(r"\{up\}", r"(\d+)").replace(r"\{down\}", r"(\d+)")
    found = [m for line in lines if (m := re.search(pattern, line))]
    assert len(found) == 1, lines
    return int(found[0][1]), int(found[0][2])


async def _refused(port: int) -> bool:
    try:
        stream = await trio.open_tcp_stream("127.0.0.1", port)
    except OSError:
        return True
    await stream.aclose()
    return False


async def _check_the_sockets(stage: Stage) -> None:
    """One connection, client → proxy → server, on two ports that are gone afterwards."""
    transport = stage.wiring.transport()
    assert transport.kind == "tcp" and transport.connections == 1 and transport.processes == 1
    (proxy, upstream) = stage.wiring.paths()[0]
    assert upstream is not None and proxy != upstream
    assert transport.sockets == (
        f"127.0.0.1:{proxy} client→proxy",
        f"127.0.0.1:{upstream} proxy→server",
    )
    assert await _refused(proxy) and await _refused(upstream)  # the scenario stopped both


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_lesson_2_the_eavesdropper_copies_the_clients_x_off_the_wire(
    pki: PKI, pki_dir: Path, lang: str
) -> None:
    lines: list[str] = []
    stage = _stage(pki, pki_dir, lang, lines)
    letter = LETTER[lang][0].encode()
    client = SymmetricClient(letter)
    with trio.fail_after(30):
        happened, ok = await symmetric(stage, client)
    assert ok, (happened, lines)
    assert client.reply == letter  # the server opened it and sent it back: a real conversation
    # The X he printed is the X the client made and used.
    key_line = LINES[lang]["sym_key"].format(key=client.key.hex())
    assert [line.strip() for line in lines].count(key_line) == 1
    # He relayed exactly the frames: KEY + DATA up, DATA down.
    data = _frame_size("DATA", _NONCE + len(letter) + _TAG)
    assert _numbers(LINES[lang]["sym_wire"], lines) == (_frame_size("KEY", 16) + data, data)
    assert any(repr(letter.decode()) in line for line in lines)
    await _check_the_sockets(stage)


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_lesson_3_b_plus_off_the_wire_opens_the_reply(
    pki: PKI, pki_dir: Path, lang: str
) -> None:
    lines: list[str] = []
    stage = _stage(pki, pki_dir, lang, lines)
    letter = LETTER[lang][0].encode()
    client = AsymmetricClient(letter)
    with trio.fail_after(30):
        happened, ok = await asymmetric(stage, client)
    assert ok, (happened, lines)
    assert client.reply == letter and client.public_key is not None
    assert client.public_key.public_numbers() == pki.server.key.public_key().public_numbers()
    der = 294  # B+ of 2048 bits as SubjectPublicKeyInfo
    up = _frame_size("HELLO", 0) + _frame_size("DATA", _RSA)
    down = _frame_size("PUBKEY", der) + _frame_size("REPLY", 2 + 2 * _RSA)
    assert _numbers(LINES[lang]["asym_wire"], lines) == (up, down)
    assert any(LINES[lang]["asym_closed"] in line for line in lines)
    assert any(repr(letter.decode()) in line for line in lines)
    await _check_the_sockets(stage)


# ---------------------------------------------------------------- processes


def logical_lines(text: str) -> list[str]:
    """The demo's lines as it wrote them: a wrapped line's continuations joined back.

    The demo wraps a line with a deeper indent for what follows (two more
    spaces in a scenario, two more in the table), so a line indented more
    than the one before continues it.
    """
    joined: list[str] = []
    indents: list[int] = []
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip())
        if joined and line.strip() and indent == indents[-1] + 2 and indents[-1] > 0:
            joined[-1] += " " + line.strip()
            continue
        joined.append(line)
        indents.append(indent)
    return joined


def test_the_json_names_each_scenarios_sockets() -> None:
    result = run("demo", "--only", "2,3,4,13", "--json", timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {row["number"]: row for row in map(json.loads, result.stdout.splitlines())}
    assert sorted(rows) == [2, 3, 4, 13] and all(r["as_predicted"] for r in rows.values())
    for number in (2, 3):
        transport = rows[number]["transport"]
        assert transport["kind"] == "tcp" and transport["processes"] == 1
        assert transport["connections"] == 1
        proxy, server = transport["sockets"]
        assert proxy.endswith(" client→proxy") and server.endswith(" proxy→server")
        ports = {int(s.split(" ")[0].removeprefix("127.0.0.1:")) for s in (proxy, server)}
        assert len(ports) == 2 and 0 not in ports  # two listeners, up at the same time
    assert rows[4]["transport"] == {
        "kind": "memory",
        "sockets": [],
        "connections": 0,
        "processes": 1,
    }
    (direct,) = rows[13]["transport"]["sockets"]
    assert re.fullmatch(r"127\.0\.0\.1:\d+ client→server", direct)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_scenario_says_how_it_ran_in_one_line(lang: str) -> None:
    result = run("demo", "--lang", lang, "--no-color", timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    blocks = ["\n".join(logical_lines(b)) for b in result.stdout.split("\n== ")[1:]]
    assert len(blocks) == 14
    tcp = LINES[lang]["wire_tcp"].split("{paths}")[0]
    memory = LINES[lang]["wire_memory"]
    for number, block in enumerate(blocks, start=1):
        said = [line for line in block.splitlines() if tcp in line or memory in line]
        assert len(said) == 1, (number, block)
        assert (memory in said[0]) == (number == 4), number
    proxied = "client → proxy :" if lang == "en" else "客户端 → 中间人 :"
    for number in (2, 3):
        assert proxied in blocks[number - 1], number


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_chain_scenario_does_not_count_the_roots_self_signature(lang: str) -> None:
    """Scenario 8: the root is trusted for being in the store, not shown as a link T = S."""
    result = run("demo", "--only", "8", "--lang", lang, "--no-color", timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = logical_lines(result.stdout)
    root = [line for line in lines if line.strip().startswith("CN=toytls Root X1")]
    assert len(root) == 1, lines
    assert "T = S" not in root[0]
    assert ("self-signature" if lang == "en" else "自签名") in root[0]
    links = [line for line in lines if "T = S ✓" in line]
    assert len(links) == 2, lines  # intermediate and leaf
