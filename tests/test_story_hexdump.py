"""The annotated record dump: exact lines for real records, no crash on junk.

Records come from a real traced in-memory connection. Besides a few exact
lines, every dumped row is read back (offset and hex) and compared with the
bytes it claims to show, so an annotation can never drift off its bytes.
"""

from __future__ import annotations

import re

import pytest
from english import english_sentences
from helpers import traced_session
from hypothesis import given, settings
from hypothesis import strategies as st

from toytls import events as ev
from toytls.core.constants import ContentType
from toytls.pki.generate import PKI
from toytls.story.hexdump import annotate_record, der_subject

ROW = re.compile(r"^([0-9a-f]{4})  ((?:[0-9a-f]{2} ?)+)")
Traced = ev.RecordSent | ev.RecordReceived


def line(offset: int, hex_text: str, text: str) -> str:
    return f"{offset:04x}  {hex_text:<47}  {text}"


@pytest.fixture(scope="module")
def records(pki: PKI) -> list[Traced]:
    """Every record of an honest connection: handshake, data both ways, close."""
    pair = traced_session(pki)
    assert pair.client.handshake_complete, pair.client_events
    assert pair.server.handshake_complete, pair.server_events
    return [e for e in pair.client_events if isinstance(e, ev.RecordSent | ev.RecordReceived)]


def dump(record: Traced) -> list[str]:
    return annotate_record(
        record.record, plaintext=record.plaintext, seq=record.seq, nonce=record.nonce
    )


def rows_match(lines: list[str], record: bytes, plaintext: bytes) -> int:
    """Check each row's bytes against its source; return how many rows."""
    source, count = record, 0
    for text in lines:
        if "── decrypted" in text:
            source = plaintext
        match = ROW.match(text)
        if match is None:
            continue
        offset = int(match.group(1), 16)
        shown = bytes.fromhex(match.group(2).replace(" ", ""))
        assert source[offset : offset + len(shown)] == shown, text
        count += 1
    return count


def test_every_record_of_an_honest_connection(records: list[Traced]) -> None:
    assert len(records) == 9  # 4 handshake, 2 Finished, data, close both ways
    for record in records:
        lines = dump(record)
        assert not any("(malformed)" in text for text in lines), lines
        name = ContentType(record.record[0]).name.lower()
        assert lines[0] == line(
            0, f"{record.record[0]:02x}", f"content_type = {record.record[0]} ({name})"
        )
        assert lines[1] == line(1, "01 00", "version = 0x0100 (toytls/1)")
        length = len(record.record) - 5
        assert lines[2] == line(
            3, record.record[3:5].hex(" "), f"length = {length} (of the fragment)"
        )
        assert rows_match(lines, record.record, record.plaintext) > 3


def test_client_hello_fields(records: list[Traced]) -> None:
    hello = records[0]
    lines = dump(hello)
    random = hello.record[9:41]
    assert lines == [
        line(0, "16", "content_type = 22 (handshake)"),
        line(1, "01 00", "version = 0x0100 (toytls/1)"),
        line(3, "00 2e", "length = 46 (of the fragment)"),
        line(5, "01", "msg_type = 1 (ClientHello)"),
        line(6, "00 00 2a", "length = 42 (uint24, of the body)"),
        line(9, random[:16].hex(" "), "random (32 bytes)"),
        line(0x19, random[16:].hex(" "), "").rstrip(),
        line(0x29, "09", "server_name length = 9"),
        line(0x2A, b"localhost".hex(" "), 'server_name = "localhost"'),
    ]


def test_certificate_fields(records: list[Traced]) -> None:
    certificate = records[2]
    lines = dump(certificate)
    assert lines[3] == line(5, "0b", "msg_type = 11 (Certificate)")
    body = len(certificate.record) - 9
    assert lines[5].endswith(f"certificate_list length = {body - 3}")
    assert lines[6].startswith("000c  ") and "cert_data[0] length = " in lines[6]
    assert lines[7].startswith("000f  30 82") and lines[7].endswith("DER: CN=localhost,O=toytls")
    assert any(re.fullmatch(r"[0-9a-f]{4}  … \d+ bytes …", text) for text in lines)
    assert any(text.endswith("DER: CN=toytls Intermediate R3,O=toytls") for text in lines)


def test_key_exchange_and_protected_records(records: list[Traced]) -> None:
    key_exchange = dump(records[3])
    assert key_exchange[3] == line(5, "10", "msg_type = 16 (ClientKeyExchange)")
    assert key_exchange[5] == line(9, "01 00", "encrypted_secret length = 256")
    finished = records[4]
    assert finished.seq == 0 and finished.nonce is not None
    lines = dump(finished)
    assert lines[3].endswith("encrypted content (36 bytes, AES-128-GCM)")
    tag = finished.record[-16:]
    assert line(0x29, tag.hex(" "), "authentication tag (16 bytes)") in lines
    notes = [text.strip() for text in lines if not ROW.match(text)]
    assert "seq = 0 (implicit: counted by both sides, never sent)" in notes
    assert f"nonce = {finished.nonce.hex()} (write_iv XOR seq)" in notes
    assert "── decrypted: 36 bytes of handshake ──" in notes
    assert line(0, "14", "msg_type = 20 (Finished)") in lines
    assert line(4, finished.plaintext[4:20].hex(" "), "verify_data (32 bytes)") in lines


def test_application_data_and_alert(records: list[Traced]) -> None:
    data = dump(records[6])
    assert line(0, "68 65 6c 6c 6f", "application data (5 bytes)  |hello|") in data
    close = dump(records[7])
    assert close[-2:] == [
        line(0, "01", "level = 1 (warning)"),
        line(1, "00", "description = 0 (close_notify)"),
    ]


def test_protection_is_inferred_without_trace_data(records: list[Traced]) -> None:
    assert dump(records[0]) == annotate_record(records[0].record)
    sealed = annotate_record(records[4].record)
    assert any("authentication tag" in text for text in sealed)
    assert not any("decrypted" in text for text in sealed)
    plain_alert = annotate_record(bytes.fromhex("15010000020232"))
    assert plain_alert[-1] == line(6, "32", "description = 50 (decode_error)")


def test_malformed_records_are_marked() -> None:
    empty = annotate_record(b"")
    assert [text.strip() for text in empty] == ["(malformed) content_type: needs 1 bytes, 0 left"]
    assert annotate_record(b"\x16\x01")[-1].endswith("(malformed) version: needs 2 bytes, 1 left")
    wrong = annotate_record(bytes.fromhex("63030300010041"))
    assert wrong[0].endswith("content_type = 99 (unknown content type (malformed))")
    assert wrong[1].endswith("version = 0x0303 (not toytls/1 (malformed))")
    assert wrong[-1].endswith("(malformed) 1 bytes after the record")
    # A ClientHello whose random is cut short, and one whose name runs past the end.
    cut = annotate_record(bytes.fromhex("1601000008" + "01000004" + "00" * 4))
    assert cut[-1] == line(9, "00 00 00 00", "(malformed) random: needs 32 bytes, 4 left")
    body = bytes(32) + b"\x09abc"
    fragment = b"\x01" + len(body).to_bytes(3, "big") + body
    record = b"\x16\x01\x00" + len(fragment).to_bytes(2, "big") + fragment
    past = annotate_record(record, protected=False)
    assert past[-2].strip() == "(malformed) server_name length 9: only 3 bytes follow"
    assert past[-1] == line(0x2A, "61 62 63", 'server_name = "abc"')


def test_every_prefix_of_a_real_record_is_annotated(records: list[Traced]) -> None:
    for record in (records[0], records[2], records[3]):
        whole = record.record
        for end in [*range(12), *range(12, len(whole), 37)]:
            lines = annotate_record(whole[:end])
            assert lines and any("(malformed)" in text for text in lines)
            rows_match(lines, whole, b"")


def test_der_subject() -> None:
    assert der_subject(b"\x30\x03\x02\x01\x00") is None
    assert der_subject(b"") is None


@st.composite
def handshake_like(draw: st.DrawFn) -> bytes:
    """A record with a plausible header around a half-plausible message."""
    msg_type = draw(st.sampled_from([1, 2, 11, 16, 20, 99]))
    body = draw(st.binary(max_size=80))
    if draw(st.booleans()):
        body = draw(st.sampled_from([b"\x00", b"\x00\x00", b"\x00\x00\x05"])) + body
    length = draw(st.one_of(st.just(len(body)), st.integers(0, 2**24 - 1)))
    fragment = bytes([msg_type]) + length.to_bytes(3, "big") + body
    content_type = draw(st.sampled_from([21, 22, 23, 0]))
    announced = draw(st.one_of(st.just(len(fragment)), st.integers(0, 2**16 - 1)))
    return bytes([content_type, 1, 0]) + announced.to_bytes(2, "big") + fragment


@settings(max_examples=300, deadline=None)
@given(
    record=st.one_of(st.binary(max_size=200), handshake_like()),
    plaintext=st.one_of(st.none(), st.binary(max_size=60), handshake_like()),
    seq=st.one_of(st.none(), st.integers(0, 2**64 - 1)),
    nonce=st.one_of(st.none(), st.binary(min_size=12, max_size=12)),
)
def test_never_raises_on_any_bytes(
    record: bytes, plaintext: bytes | None, seq: int | None, nonce: bytes | None
) -> None:
    lines = annotate_record(record, plaintext=plaintext, seq=seq, nonce=nonce)
    assert lines and all(isinstance(text, str) for text in lines)
    if plaintext is None:
        rows_match(lines, record, b"")


# --- in Chinese ------------------------------------------------------------------


def note(text: str) -> str:
    """The annotation of a dump line: no offset, no hex, no |ascii| column."""
    if ROW.match(text):
        text = text[4 + 2 + 47 + 2 :]
    return re.sub(r"\s*\|.*\|$", "", text)


def test_chinese_notes_on_the_same_rows(records: list[Traced]) -> None:
    """``lang="zh"`` changes the notes only: every row shows the same bytes."""
    for record in records:
        en = dump(record)
        zh = annotate_record(
            record.record, plaintext=record.plaintext, seq=record.seq, nonce=record.nonce, lang="zh"
        )
        assert len(zh) == len(en)
        for mine, theirs in zip(zh, en, strict=True):
            shown, original = ROW.match(mine), ROW.match(theirs)
            assert (shown and shown.groups()) == (original and original.groups())
            assert english_sentences(note(mine)) == [], mine
        assert zh != en
        assert any(english_sentences(note(text)) for text in en)  # the check can see English


def test_chinese_notes(records: list[Traced]) -> None:
    def zh(record: Traced) -> list[str]:
        return annotate_record(
            record.record, plaintext=record.plaintext, seq=record.seq, nonce=record.nonce, lang="zh"
        )

    hello = zh(records[0])
    assert hello[2] == line(3, "00 2e", "length = 46（fragment 的长度）")
    assert hello[4] == line(6, "00 00 2a", "length = 42（uint24，消息体的长度）")
    assert hello[5].endswith("random（32 字节）")
    assert hello[7] == line(0x29, "09", "server_name 长度 = 9")
    finished = records[4]
    notes = [text.strip() for text in zh(finished) if not ROW.match(text)]
    assert "seq = 0（隐含的序号：双方各自计数，从不在线路上发送）" in notes
    assert "── 解密后：36 字节的 handshake ──" in notes
    assert line(0, "68 65 6c 6c 6f", "应用数据（5 字节）  |hello|") in zh(records[6])
    assert any(re.fullmatch(r"[0-9a-f]{4}  … \d+ 字节 …", text) for text in zh(records[2]))


def test_chinese_notes_on_malformed_records(records: list[Traced]) -> None:
    wrong = annotate_record(bytes.fromhex("63030300010041"), lang="zh")
    assert wrong[0].endswith("content_type = 99（未知的记录类型（格式错误））")
    assert wrong[-1].endswith("（格式错误）记录之后还多出 1 字节")
    for record in (records[0], records[2], records[3]):
        whole = record.record
        for end in [*range(12), *range(12, len(whole), 37)]:
            lines = annotate_record(whole[:end], lang="zh")
            assert any("（格式错误）" in text for text in lines)
            assert all(english_sentences(note(text)) == [] for text in lines), lines
    with pytest.raises(ValueError, match="lang"):
        annotate_record(records[0].record, lang="fr")
