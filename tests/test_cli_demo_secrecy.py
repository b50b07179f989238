"""Scenario 14 of ``toytls demo``, the forward-secrecy lesson; and abort() through a capture.

The scenario records an honest conversation with the watching proxy's
``--pcap``, then opens the recording with the server's private key B−. The
process tests run it as people do; the in-process ones record a
conversation the scenario's way and check both halves of its claim: the
recording stays closed without the key (and with the wrong one), and opens
with B−. No mocks: real sockets on loopback, a real pcap file.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
import trio
from cryptography.hazmat.primitives.asymmetric import rsa
from processes import run

from toytls.cli.demo_secrecy import _record
from toytls.cli.demo_witness import Witness
from toytls.cli.demorun import Stage
from toytls.cli.proxy_capture import CapturedStream, PcapFile
from toytls.core import events as ev
from toytls.pki.generate import PKI
from toytls.story.decode import decode_capture
from toytls.story.demo_texts import LETTER
from toytls.streams.splice import abort

LETTER_EN = LETTER["en"][0]

# ------------------------------------------------------------ the scenario


def test_demo_only_14_holds_as_json() -> None:
    result = run("demo", "--only", "14", "--json", timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [row["number"] for row in rows] == [14]
    assert rows[0]["as_predicted"] is True
    assert "B−" in rows[0]["happened"]
    assert "Traceback" not in result.stderr


def test_demo_only_14_tells_the_lesson() -> None:
    result = run("demo", "--only", "14", "--no-color", timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    flat = " ".join(result.stdout.split())
    assert "== 14." in flat and "== 13." not in flat
    assert "toytls proxy --pcap" in flat and "toytls decode --key" in flat
    assert f"the old recording reads: {LETTER_EN!r}" in flat
    assert "(EC)DHE" in flat and "CertificateVerify" in flat and "forward secrecy" in flat
    assert result.stdout.count("✓") == 1


def test_demo_only_14_in_chinese() -> None:
    result = run("demo", "--only", "14", "--lang", "zh", "--no-color", timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    for words in ("私钥B−", "密钥X", "前向安全", "CertificateVerify", LETTER["zh"][0]):
        assert words in result.stdout, words


def test_demo_html_report_has_scenario_14(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    result = run("demo", "--only", "14", "--no-color", "--html", str(page), timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    html = page.read_text(encoding="utf-8")
    section = html.split('id="scenario-14"', 1)[1].split("</section>", 1)[0]
    assert "forward secrecy" in section
    assert "<svg" in section  # the recorded connection: client, watching proxy, server


# ------------------------------------------------ the recording, in process


@pytest.fixture
async def recording(pki: PKI, pki_dir: Path, tmp_path: Path) -> tuple[bytes, bytes]:
    """An honest conversation recorded the scenario's way: the pcap and the client's key X."""
    stage = Stage(pki_dir, pki, "en", lambda _line, _highlight: None, Witness())
    capture = tmp_path / "recording.pcap"
    with trio.fail_after(30):
        run_ = await _record(stage, capture)
    assert run_.reply == LETTER_EN.encode(), run_.error
    secrets = [e.secret for e in run_.events if isinstance(e, ev.KeysDerived)]
    assert len(secrets) == 1
    return capture.read_bytes(), secrets[0]


def _client_data(
    data: bytes, private_key: rsa.RSAPrivateKey | None = None
) -> tuple[bytes, bytes | None, str | None]:
    """What the client sent, as far as ``toytls decode [--key]`` opens it; X; why not."""
    (conversation,) = decode_capture(data, private_key=private_key)
    sent = b"".join(r.data or b"" for r in conversation.records if r.from_client)
    return sent, conversation.secret, conversation.key_problem


async def test_without_a_key_the_recording_stays_closed(recording: tuple[bytes, bytes]) -> None:
    data, _ = recording
    assert LETTER_EN.encode() not in data
    sent, secret, problem = _client_data(data)
    assert (sent, secret, problem) == (b"", None, "no_key")


async def test_the_wrong_private_key_does_not_open_it(
    recording: tuple[bytes, bytes], pki: PKI
) -> None:
    data, _ = recording
    sent, secret, problem = _client_data(data, private_key=pki.attacker_key)
    assert (sent, secret, problem) == (b"", None, "key_mismatch")


async def test_the_leaked_b_minus_opens_the_old_recording(
    recording: tuple[bytes, bytes], pki: PKI
) -> None:
    data, key_x = recording
    sent, secret, problem = _client_data(data, private_key=pki.server.key)
    assert sent == LETTER_EN.encode()
    assert secret == key_x  # the very X the client derived back then
    assert problem is None


# ----------------------------------------------- abort() through the capture


async def _tcp_pair(nursery: trio.Nursery) -> tuple[trio.SocketStream, trio.SocketStream]:
    accepted: list[trio.SocketStream] = []
    got_one = trio.Event()

    async def handler(stream: trio.SocketStream) -> None:
        accepted.append(stream)
        got_one.set()
        await trio.sleep_forever()

    serve = functools.partial(trio.serve_tcp, host="127.0.0.1")
    listeners = await nursery.start(serve, handler, 0)
    port = listeners[0].socket.getsockname()[1]
    client = await trio.open_tcp_stream("127.0.0.1", port)
    await got_one.wait()
    return client, accepted[0]


@pytest.mark.parametrize("aborted", [True, False])
async def test_abort_resets_through_the_capture_wrapper(tmp_path: Path, aborted: bool) -> None:
    """abort() on ``proxy --pcap``'s wrapper resets the TCP connection; aclose() ends it cleanly."""
    with trio.fail_after(30), PcapFile(tmp_path / "cap.pcap") as pcap:
        async with trio.open_nursery() as nursery:
            near, far = await _tcp_pair(nursery)
            wrapped = CapturedStream(far, pcap)
            await near.send_all(b"hello")
            assert await wrapped.receive_some() == b"hello"
            if aborted:
                await abort(wrapped)
                with pytest.raises(trio.BrokenResourceError) as caught:
                    await near.receive_some()
                assert isinstance(caught.value.__cause__, ConnectionResetError)
            else:
                await wrapped.aclose()
                assert await near.receive_some() == b""
            await near.aclose()
            nursery.cancel_scope.cancel()
    assert (tmp_path / "cap.pcap").stat().st_size > 24  # the header, and the frames


async def test_the_capture_records_what_it_sends_before_it_leaves(tmp_path: Path) -> None:
    """The client may answer the moment bytes reach it: they must be in the file first.

    Otherwise the client's answer can come first in the capture and the
    decoder's transcript (and so its keys) would follow the wrong order.
    """
    path = tmp_path / "cap.pcap"
    sizes: list[int] = []
    with trio.fail_after(30), PcapFile(path) as pcap:
        async with trio.open_nursery() as nursery:
            near, far = await _tcp_pair(nursery)
            wrapped = CapturedStream(far, pcap)
            before = path.stat().st_size
            send = far.send_all

            async def spying_send_all(data: bytes | bytearray | memoryview) -> None:
                sizes.append(path.stat().st_size)
                await send(data)

            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(far, "send_all", spying_send_all)
                await wrapped.send_all(b"ServerHello")
            assert await near.receive_some() == b"ServerHello"
            await near.aclose()
            nursery.cancel_scope.cancel()
    assert len(sizes) == 1 and sizes[0] > before
