"""Offline decoding (toytls.story.decode) of the recorded connection in tests/vectors.

The twelve records of handshake.json are framed into a capture with the
proxy's own recorder (toytls.attacker.capture), then decoded: without a key
nothing protected opens; with the key log line or with server.key, every
record opens to the recorded plaintext. Bad captures are one CaptureError.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import dpkt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from english import english_sentences

from toytls.attacker.capture import SNAPLEN, TcpConversation
from toytls.core.errors import DecodeError
from toytls.core.messages import ClientHello, ClientKeyExchange, Finished
from toytls.pki.generate import PKI
from toytls.story.decode import CaptureError, DecodedRecord, Stop, decode_capture
from toytls.story.decode_render import _Say, conversation_lines, record_lines
from toytls.story.error_texts import describe_reason
from toytls.story.keylog import KeyLogError, keylog_line, parse_keylog

VECTORS = Path(__file__).parent / "vectors"
CASE = json.loads((VECTORS / "handshake.json").read_text())
SECRET = bytes.fromhex(CASE["secret"])
CLIENT_RANDOM = bytes.fromhex(CASE["client_random"])
PLAINTEXTS = {
    bytes.fromhex(r["plaintext"]) for side in CASE["application_data"].values() for r in side
}


def _server_key() -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key((VECTORS / "pki" / "server.key").read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def capture(*, segment: int | None = None, shuffle: bool = False, extra: bytes = b"") -> bytes:
    """The recorded connection as a pcap, optionally cut into tiny segments."""
    tcp = TcpConversation(("127.0.0.1", 50000), ("127.0.0.1", 4433))
    frames = tcp.open()
    for record in CASE["records"]:
        data = bytes.fromhex(record["record"])
        from_client = record["direction"] == "client_to_server"
        if segment is None:
            frames += tcp.data(from_client, data)
        else:
            pieces = [
                f
                for i in range(0, len(data), segment)
                for f in tcp.data(from_client, data[i : i + segment])
            ]
            if shuffle and len(pieces) > 2:
                # Out of order, and the first segment sent twice (a retransmission).
                pieces = [pieces[1], pieces[0], *pieces[2:], pieces[0]]
            frames += pieces
    frames += tcp.close(True) + tcp.close(False)
    out = io.BytesIO()
    writer = dpkt.pcap.Writer(out, snaplen=SNAPLEN)
    for number, frame in enumerate(frames):
        writer.writepkt(frame, ts=1_700_000_000 + number / 1000)
    return out.getvalue() + extra


def _opened_data(data: bytes, **keys: object) -> set[bytes]:
    (conversation,) = decode_capture(data, **keys)  # type: ignore[arg-type]
    return {r.data for r in conversation.records if r.data is not None}


def test_without_a_key_every_message_is_read_but_nothing_protected_opens() -> None:
    (conversation,) = decode_capture(capture())
    messages = [r.message for r in conversation.records if r.message is not None]
    assert [type(m).__name__ for m in messages] == [
        "ClientHello",
        "ServerHello",
        "Certificate",
        "ClientKeyExchange",
    ]
    hello = messages[0]
    assert isinstance(hello, ClientHello)
    assert hello.server_name == CASE["server_name"]
    assert len(conversation.records) == 12
    assert not any(r.opened for r in conversation.records)
    assert conversation.key_problem == "no_key"
    assert conversation.client == ("127.0.0.1", 50000)


def test_the_key_log_opens_every_protected_record() -> None:
    keylog = parse_keylog(keylog_line(CLIENT_RANDOM, SECRET) + "\n")
    (conversation,) = decode_capture(capture(), keylog=keylog)
    assert conversation.key_source == "keylog"
    protected = [r for r in conversation.records if r.protected]
    assert len(protected) == 8
    assert all(r.opened for r in protected)
    assert sum(isinstance(r.message, Finished) for r in protected) == 2
    assert _opened_data(capture(), keylog=keylog) == PLAINTEXTS


def test_the_servers_private_key_opens_x_and_so_everything() -> None:
    (conversation,) = decode_capture(capture(), private_key=_server_key())
    assert conversation.key_source == "key"
    assert conversation.secret == SECRET
    assert _opened_data(capture(), private_key=_server_key()) == PLAINTEXTS


def test_a_key_that_does_not_match_opens_nothing(pki: PKI) -> None:
    (conversation,) = decode_capture(capture(), private_key=pki.attacker_key)
    assert conversation.key_problem == "key_mismatch"
    assert conversation.secret is None
    assert not any(r.opened for r in conversation.records)
    text = "\n".join(line for line, _ in conversation_lines(1, conversation, "en"))
    assert "does not open" in text


def test_a_wrong_x_in_the_key_log_fails_each_record_with_bad_record_mac() -> None:
    keylog = {CLIENT_RANDOM: bytes(32)}
    (conversation,) = decode_capture(capture(), keylog=keylog)
    protected = [r for r in conversation.records if r.protected]
    assert not any(r.opened for r in protected)
    assert all(r.error for r in protected)


def test_a_key_log_for_other_connections_says_so() -> None:
    (conversation,) = decode_capture(capture(), keylog={bytes(32): SECRET})
    assert conversation.key_problem == "not_in_keylog"


@pytest.mark.parametrize("segment", [1, 7, 1000])
def test_records_split_reordered_and_retransmitted_are_put_back(segment: int) -> None:
    data = capture(segment=segment, shuffle=True)
    assert _opened_data(data, private_key=_server_key()) == PLAINTEXTS


def test_port_filter() -> None:
    assert decode_capture(capture(), port=4433)
    with pytest.raises(CaptureError, match="on port 9"):
        decode_capture(capture(), port=9)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "not a pcap"),
        (b"GET / HTTP/1.1\r\n\r\n" * 4, "not a pcap"),
        (capture()[:23], "truncated"),
        (capture()[:-3], "truncated"),
        (capture()[:100], "truncated"),
    ],
)
def test_bad_captures_are_one_capture_error(data: bytes, why: str) -> None:
    with pytest.raises(CaptureError, match=why) as info:
        decode_capture(data)
    assert describe_reason(info.value, "en") == str(info.value)
    chinese = describe_reason(info.value, "zh")
    assert english_sentences(chinese) == [] and "抓包" in chinese, chinese


def test_other_traffic_is_not_toytls() -> None:
    tcp = TcpConversation(("127.0.0.1", 50001), ("127.0.0.1", 80))
    frames = tcp.open() + tcp.data(True, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    out = io.BytesIO()
    writer = dpkt.pcap.Writer(out, snaplen=SNAPLEN)
    for frame in frames:
        writer.writepkt(frame, ts=1.0)
    with pytest.raises(CaptureError, match="no toytls/1 conversation"):
        decode_capture(out.getvalue())


def test_a_capture_cut_mid_record_says_where_it_stopped() -> None:
    tcp = TcpConversation(("127.0.0.1", 50002), ("127.0.0.1", 4433))
    first = bytes.fromhex(CASE["records"][0]["record"])
    frames = tcp.open() + tcp.data(True, first + first[:3])
    out = io.BytesIO()
    writer = dpkt.pcap.Writer(out, snaplen=SNAPLEN)
    for frame in frames:
        writer.writepkt(frame, ts=1.0)
    (conversation,) = decode_capture(out.getvalue())
    assert len(conversation.records) == 1
    assert conversation.stopped == (Stop(from_client=True, kind="incomplete", at=3),)
    assert conversation.stopped[0].reason == "the last 3 bytes are an incomplete record"
    english = [line for line, _ in conversation_lines(1, conversation, "en")]
    assert english[-1] == "  client → server stopped: the last 3 bytes are an incomplete record"
    chinese = [line for line, _ in conversation_lines(1, conversation, "zh")]
    assert chinese[-1] == "  客户端 → 服务器 中断：最后 3 字节是一条不完整的记录"


def test_ipv6_conversations_decode_too() -> None:
    tcp = TcpConversation(("::1", 50003), ("::1", 4433))
    frames = tcp.open()
    for record in CASE["records"][:4]:
        frames += tcp.data(
            record["direction"] == "client_to_server", bytes.fromhex(record["record"])
        )
    out = io.BytesIO()
    writer = dpkt.pcap.Writer(out, snaplen=SNAPLEN)
    for frame in frames:
        writer.writepkt(frame, ts=1.0)
    (conversation,) = decode_capture(out.getvalue())
    assert conversation.client == ("::1", 50003)
    assert isinstance(conversation.records[-1].message, ClientKeyExchange)


def test_the_key_log_format() -> None:
    line = keylog_line(CLIENT_RANDOM, SECRET)
    assert line == f"CLIENT_RANDOM {CLIENT_RANDOM.hex()} {SECRET.hex()}"
    text = f"# comment\nCLIENT_HANDSHAKE_TRAFFIC_SECRET aa bb\n\nCLIENT_RANDOM zz {SECRET.hex()}\n{line}\n"
    assert parse_keylog(text) == {CLIENT_RANDOM: SECRET}
    with pytest.raises(KeyLogError):
        parse_keylog("not a key log\n")


def test_an_opened_record_that_does_not_parse_says_why() -> None:
    """Opened with the right keys, but what it held is no alert: the reason is shown."""
    wrong = DecodeError(
        "an alert of 3 bytes (2 expected)", key="decode.alert_length", params={"n": 3}
    )
    record = DecodedRecord(
        from_client=True, packet=7, content_type=21, length=19, protected=True, opened=True,
        seq=2, fragment=bytes(19), problem=wrong,
    )  # fmt: skip
    english = [text for text, _ in record_lines(record, _Say("en"))]
    assert (
        english[1]
        == "        → opened (seq 2): alert, unreadable: an alert of 3 bytes (2 expected)"
    )
    assert record.error == "an alert of 3 bytes (2 expected)"
    chinese = [text for text, _ in record_lines(record, _Say("zh"))]
    assert (
        chinese[1] == "        → 已解密（seq 2）：alert，无法解析：警报应为 2 字节，这条却有 3 字节"
    )
