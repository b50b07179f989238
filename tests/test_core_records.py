"""Record framing (§1): check_header, encode_record and the incremental RecordReader.

h11's ``tests/test_io.py`` is the model: every input is fed whole, one byte
at a time, and with trailing bytes, and must come out the same each way.
The header checks must fire as soon as the 5 header bytes are in — before a
single byte of the body has arrived.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest
from wire import header

from toytls.core.constants import (
    MAX_CIPHERTEXT,
    MAX_PLAINTEXT,
    AlertDescription,
    ContentType,
)
from toytls.core.errors import ToyTLSError
from toytls.core.records import RawRecord, RecordReader, check_header, encode_record

HANDSHAKE = ContentType.HANDSHAKE
ALERT = ContentType.ALERT
APPDATA = ContentType.APPLICATION_DATA


def read_all(reader: RecordReader, limit: int = MAX_PLAINTEXT) -> list[RawRecord]:
    """Every complete record the reader holds now."""
    records = []
    while (record := reader.next_record(limit)) is not None:
        records.append(record)
    return records


def feed_in_chunks(
    chunks: Iterable[bytes], limit: int = MAX_PLAINTEXT
) -> tuple[list[RawRecord], RecordReader]:
    """Feed ``chunks`` one after another, collecting records after each."""
    reader = RecordReader()
    records: list[RawRecord] = []
    for chunk in chunks:
        reader.feed(chunk)
        records += read_all(reader, limit)
    return records, reader


def whole(data: bytes) -> list[bytes]:
    return [data]


def bytewise(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def in_threes(data: bytes) -> list[bytes]:
    return [data[i : i + 3] for i in range(0, len(data), 3)]


Splitter = Callable[[bytes], list[bytes]]
SPLITTERS = pytest.mark.parametrize("split", [whole, bytewise, in_threes])


def raw(content_type: ContentType, fragment: bytes) -> RawRecord:
    return RawRecord(
        content_type=content_type,
        header=header(content_type, len(fragment)),
        fragment=fragment,
    )


# ------------------------------------------------------------------ encode_record


@pytest.mark.parametrize("content_type", list(ContentType))
@pytest.mark.parametrize("length", [0, 1, 2, 255, 256, MAX_PLAINTEXT])
def test_encode_record_layout(content_type: ContentType, length: int) -> None:
    fragment = bytes(range(256)) * (length // 256) + bytes(range(length % 256))
    record = encode_record(content_type, fragment)
    assert record[0] == content_type
    assert record[1:3] == b"\x01\x00"
    assert int.from_bytes(record[3:5], "big") == length
    assert record[5:] == fragment
    assert record[:5] == header(content_type, length)


def test_encode_record_known_bytes() -> None:
    assert encode_record(ContentType.ALERT, b"\x02\x0a") == bytes.fromhex("1501000002020a")
    assert encode_record(ContentType.HANDSHAKE, b"") == bytes.fromhex("1601000000")
    assert encode_record(ContentType.APPLICATION_DATA, b"hi") == bytes.fromhex("17010000026869")


@SPLITTERS
@pytest.mark.parametrize("content_type", list(ContentType))
def test_encode_record_round_trip(content_type: ContentType, split: Splitter) -> None:
    fragment = b"toytls fragment \x00\xff"
    records, reader = feed_in_chunks(split(encode_record(content_type, fragment)))
    assert records == [raw(content_type, fragment)]
    assert records[0].header + records[0].fragment == encode_record(content_type, fragment)
    assert reader.buffered == 0
    assert reader.next_record(MAX_PLAINTEXT) is None


# ------------------------------------------------------------------ check_header


@pytest.mark.parametrize("content_type", list(ContentType))
def test_check_header_accepts_good_headers(content_type: ContentType) -> None:
    assert check_header(header(content_type, 0), MAX_PLAINTEXT) == (content_type, 0)
    got_type, length = check_header(header(content_type, 1234), MAX_PLAINTEXT)
    assert got_type is content_type
    assert length == 1234


@pytest.mark.parametrize("content_type", [t for t in range(256) if t not in (21, 22, 23)])
def test_check_header_unknown_content_type(content_type: int) -> None:
    with pytest.raises(ToyTLSError) as caught:
        check_header(header(content_type, 10), MAX_PLAINTEXT)
    assert caught.value.alert == AlertDescription.UNEXPECTED_MESSAGE
    assert caught.value.from_peer is False


@pytest.mark.parametrize("version", [0x0000, 0x0001, 0x0101, 0x0200, 0x0300, 0x0303, 0xFF00])
def test_check_header_wrong_version(version: int) -> None:
    with pytest.raises(ToyTLSError) as caught:
        check_header(header(HANDSHAKE, 10, version=version), MAX_PLAINTEXT)
    assert caught.value.alert == AlertDescription.PROTOCOL_VERSION


@pytest.mark.parametrize(
    ("limit", "length", "ok"),
    [
        (MAX_PLAINTEXT, 0, True),
        (MAX_PLAINTEXT, 1, True),
        (MAX_PLAINTEXT, MAX_PLAINTEXT - 1, True),
        (MAX_PLAINTEXT, MAX_PLAINTEXT, True),
        (MAX_PLAINTEXT, MAX_PLAINTEXT + 1, False),
        (MAX_PLAINTEXT, MAX_CIPHERTEXT, False),
        (MAX_PLAINTEXT, 0xFFFF, False),
        (MAX_CIPHERTEXT, MAX_CIPHERTEXT, True),
        (MAX_CIPHERTEXT, MAX_CIPHERTEXT + 1, False),
        (MAX_CIPHERTEXT, 0xFFFF, False),
    ],
)
def test_check_header_length_limit(limit: int, length: int, ok: bool) -> None:
    if ok:
        assert check_header(header(APPDATA, length), limit) == (APPDATA, length)
    else:
        with pytest.raises(ToyTLSError) as caught:
            check_header(header(APPDATA, length), limit)
        assert caught.value.alert == AlertDescription.RECORD_OVERFLOW


@pytest.mark.parametrize(
    ("content_type", "version", "length", "alert"),
    [
        # §1: content type first, then version, then length.
        (0x42, 0x0303, 10, AlertDescription.UNEXPECTED_MESSAGE),
        (0x42, 0x0100, 0xFFFF, AlertDescription.UNEXPECTED_MESSAGE),
        (0x42, 0x0303, 0xFFFF, AlertDescription.UNEXPECTED_MESSAGE),
        (0x00, 0x0000, 0xFFFF, AlertDescription.UNEXPECTED_MESSAGE),
        (22, 0x0303, 0xFFFF, AlertDescription.PROTOCOL_VERSION),
        (22, 0x0303, MAX_PLAINTEXT + 1, AlertDescription.PROTOCOL_VERSION),
        (23, 0x0100, 0xFFFF, AlertDescription.RECORD_OVERFLOW),
    ],
)
def test_check_header_order(
    content_type: int, version: int, length: int, alert: AlertDescription
) -> None:
    with pytest.raises(ToyTLSError) as caught:
        check_header(header(content_type, length, version=version), MAX_PLAINTEXT)
    assert caught.value.alert == alert
    # The reader applies the same order, with only the header in hand.
    reader = RecordReader()
    reader.feed(header(content_type, length, version=version))
    with pytest.raises(ToyTLSError) as caught:
        reader.next_record(MAX_PLAINTEXT)
    assert caught.value.alert == alert


# --------------------------------------------------------- header checked early


@pytest.mark.parametrize(
    ("length", "limit"),
    [(MAX_CIPHERTEXT + 1, MAX_CIPHERTEXT), (MAX_PLAINTEXT + 1, MAX_PLAINTEXT), (0xFFFF, 1)],
)
def test_oversize_header_refused_before_body(length: int, limit: int) -> None:
    reader = RecordReader()
    reader.feed(header(APPDATA, length))
    with pytest.raises(ToyTLSError) as caught:
        reader.next_record(limit)
    assert caught.value.alert == AlertDescription.RECORD_OVERFLOW


@pytest.mark.parametrize(
    ("length", "limit"), [(MAX_PLAINTEXT, MAX_PLAINTEXT), (MAX_CIPHERTEXT, MAX_CIPHERTEXT)]
)
def test_header_at_limit_waits_for_body(length: int, limit: int) -> None:
    reader = RecordReader()
    reader.feed(header(APPDATA, length))
    assert reader.next_record(limit) is None
    body = bytes(length)
    reader.feed(body[:-1])
    assert reader.next_record(limit) is None
    reader.feed(body[-1:])
    assert reader.next_record(limit) == raw(APPDATA, body)
    assert reader.buffered == 0


@pytest.mark.parametrize(
    "bad_header",
    [
        header(0x42, 3),
        header(HANDSHAKE, 3, version=0x0303),
        header(HANDSHAKE, MAX_PLAINTEXT + 1),
    ],
    ids=["type", "version", "length"],
)
def test_header_checked_at_fifth_byte(bad_header: bytes) -> None:
    reader = RecordReader()
    for byte in bad_header[:4]:
        reader.feed(bytes((byte,)))
        assert reader.next_record(MAX_PLAINTEXT) is None
    reader.feed(bad_header[4:])
    with pytest.raises(ToyTLSError):
        reader.next_record(MAX_PLAINTEXT)


def test_bad_header_after_good_record_in_same_feed() -> None:
    good = encode_record(HANDSHAKE, b"hello")
    reader = RecordReader()
    reader.feed(good + header(HANDSHAKE, 70, version=0x0301))
    assert reader.next_record(MAX_PLAINTEXT) == raw(HANDSHAKE, b"hello")
    with pytest.raises(ToyTLSError) as caught:
        reader.next_record(MAX_PLAINTEXT)
    assert caught.value.alert == AlertDescription.PROTOCOL_VERSION


def test_limit_is_per_call() -> None:
    # The connection raises the limit to 16400 once read keys are active.
    reader = RecordReader()
    reader.feed(encode_record(APPDATA, bytes(MAX_CIPHERTEXT)))
    with pytest.raises(ToyTLSError):
        reader.next_record(MAX_PLAINTEXT)
    reader = RecordReader()
    reader.feed(encode_record(APPDATA, bytes(MAX_CIPHERTEXT)))
    assert reader.next_record(MAX_CIPHERTEXT) == raw(APPDATA, bytes(MAX_CIPHERTEXT))


# ---------------------------------------------------- whole / bytewise / several


@SPLITTERS
@pytest.mark.parametrize(
    ("length", "limit"),
    [
        (0, MAX_PLAINTEXT),
        (1, MAX_PLAINTEXT),
        (MAX_PLAINTEXT, MAX_PLAINTEXT),
        (MAX_CIPHERTEXT, MAX_CIPHERTEXT),
    ],
)
def test_lengths_at_edges_accepted(length: int, limit: int, split: Splitter) -> None:
    fragment = bytes((i * 7) & 0xFF for i in range(length))
    records, reader = feed_in_chunks(split(encode_record(APPDATA, fragment)), limit)
    assert records == [raw(APPDATA, fragment)]
    assert reader.buffered == 0


@SPLITTERS
@pytest.mark.parametrize("limit", [MAX_PLAINTEXT, MAX_CIPHERTEXT])
def test_length_limit_plus_one_refused(limit: int, split: Splitter) -> None:
    data = encode_record(HANDSHAKE, bytes(limit + 1))
    reader = RecordReader()
    fed = 0
    caught = None
    for chunk in split(data):
        reader.feed(chunk)
        fed += len(chunk)
        try:
            assert reader.next_record(limit) is None
        except ToyTLSError as error:
            caught = error
            break
    assert caught is not None
    assert caught.alert == AlertDescription.RECORD_OVERFLOW
    # Refused by the very feed that completed the header, not after the body.
    assert fed - len(chunk) < 5 <= fed


SEVERAL = [
    (HANDSHAKE, b"\x01\x00\x00\x00"),
    (ALERT, b"\x01\x00"),
    (APPDATA, b""),
    (APPDATA, b"x" * 300),
    (HANDSHAKE, bytes(range(256))),
    (ALERT, b"\x02\x28"),
]


@SPLITTERS
def test_several_records(split: Splitter) -> None:
    stream = b"".join(encode_record(t, f) for t, f in SEVERAL)
    records, reader = feed_in_chunks(split(stream))
    assert records == [raw(t, f) for t, f in SEVERAL]
    assert reader.buffered == 0


def test_several_records_in_one_feed_returned_one_by_one() -> None:
    reader = RecordReader()
    reader.feed(b"".join(encode_record(t, f) for t, f in SEVERAL))
    for content_type, fragment in SEVERAL:
        assert reader.next_record(MAX_PLAINTEXT) == raw(content_type, fragment)
    assert reader.next_record(MAX_PLAINTEXT) is None
    assert reader.next_record(MAX_PLAINTEXT) is None


@SPLITTERS
def test_trailing_partial_record_is_kept(split: Splitter) -> None:
    junk = header(HANDSHAKE, 10) + b"abc"
    records, reader = feed_in_chunks(split(encode_record(APPDATA, b"data") + junk))
    assert records == [raw(APPDATA, b"data")]
    assert reader.buffered == len(junk)
    reader.feed(b"defghij")
    assert reader.next_record(MAX_PLAINTEXT) == raw(HANDSHAKE, b"abcdefghij")
    assert reader.buffered == 0


@pytest.mark.parametrize("cut", range(5))
def test_partial_header_is_not_checked(cut: int) -> None:
    reader = RecordReader()
    reader.feed(header(0xEE, 0xFFFF, version=0xFFFF)[:cut])
    assert reader.next_record(MAX_PLAINTEXT) is None
    assert reader.buffered == cut


def test_empty_feed_changes_nothing() -> None:
    reader = RecordReader()
    reader.feed(b"")
    assert reader.next_record(MAX_PLAINTEXT) is None
    reader.feed(encode_record(ALERT, b"\x01\x00")[:3])
    reader.feed(b"")
    assert reader.buffered == 3
    reader.feed(encode_record(ALERT, b"\x01\x00")[3:])
    assert reader.next_record(MAX_PLAINTEXT) == raw(ALERT, b"\x01\x00")


@pytest.mark.parametrize("chunk", [1, 4093, 16389, 65536, 100_000])
def test_many_large_records_across_buffer_compaction(chunk: int) -> None:
    # More than 64 KiB in flight exercises the reader's buffer compaction.
    fragments = [bytes([i]) * (MAX_PLAINTEXT - i) for i in range(10)]
    stream = b"".join(encode_record(APPDATA, f) for f in fragments)
    if chunk == 1:
        # Byte by byte for the first records only: the rest in one go.
        head = stream[: 2 * (MAX_PLAINTEXT + 5) + 3]
        chunks = [*bytewise(head), stream[len(head) :]]
    else:
        chunks = [stream[i : i + chunk] for i in range(0, len(stream), chunk)]
    records, reader = feed_in_chunks(chunks)
    assert [r.fragment for r in records] == fragments
    assert reader.buffered == 0


def test_reader_reuses_buffer_after_everything_is_consumed() -> None:
    reader = RecordReader()
    for i in range(100):
        reader.feed(encode_record(APPDATA, bytes([i]) * 1000))
        assert reader.next_record(MAX_PLAINTEXT) == raw(APPDATA, bytes([i]) * 1000)
        assert reader.buffered == 0


def test_record_header_is_the_bytes_received() -> None:
    reader = RecordReader()
    data = encode_record(HANDSHAKE, b"\x14\x00\x00\x00")
    reader.feed(data)
    record = reader.next_record(MAX_PLAINTEXT)
    assert record is not None
    assert record.header == data[:5]
    assert record.content_type is ContentType.HANDSHAKE
    assert isinstance(record.fragment, bytes)
