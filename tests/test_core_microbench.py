"""Micro-benchmarks of the hot paths: sealing, opening, reading records.

In CI they run once each as smoke tests (``--benchmark-disable`` is in the
pytest options): they check results, never time. To measure:

    python -m pytest tests/test_core_microbench.py --benchmark-enable
"""

from __future__ import annotations

from typing import Any

import pytest
from helpers import ConnectionPair

from toytls import events as ev
from toytls.core.constants import MAX_CIPHERTEXT, ContentType
from toytls.core.protection import RecordOpener, RecordSealer
from toytls.core.records import RecordReader
from toytls.pki.generate import PKI

KEY, IV = bytes(range(16)), bytes(range(12))
SIZES = [1, 1024, 16384]


@pytest.mark.parametrize("size", SIZES)
def test_seal(benchmark: Any, size: int) -> None:
    sealer = RecordSealer(KEY, IV)
    plaintext = b"x" * size
    record, _, _ = benchmark(sealer.seal, ContentType.APPLICATION_DATA, plaintext)
    assert len(record) == 5 + size + 16


@pytest.mark.parametrize("size", SIZES)
def test_open(benchmark: Any, size: int) -> None:
    record, _, _ = RecordSealer(KEY, IV).seal(ContentType.APPLICATION_DATA, b"x" * size)

    def open_first() -> bytes:
        opener = RecordOpener(KEY, IV)  # seq 0 every time
        return opener.open(record[:5], record[5:])[0]

    assert benchmark(open_first) == b"x" * size


def test_record_reader_many_records_per_read(benchmark: Any) -> None:
    sealer = RecordSealer(KEY, IV)
    stream = b"".join(sealer.seal(ContentType.APPLICATION_DATA, b"y" * 1000)[0] for _ in range(64))

    def read_all() -> int:
        reader = RecordReader()
        reader.feed(stream)
        count = 0
        while reader.next_record(MAX_CIPHERTEXT) is not None:
            count += 1
        return count

    assert benchmark(read_all) == 64


@pytest.mark.parametrize("size", [1, 16384, 100_000])
def test_connection_round_trip(benchmark: Any, pki: PKI, size: int) -> None:
    pair = ConnectionPair.make(pki)
    pair.handshake()
    payload = b"z" * size

    def round_trip() -> int:
        pair.client.send_application_data(payload)
        events = pair.server.receive_data(pair.client.data_to_send())
        return sum(len(e.data) for e in events if isinstance(e, ev.ApplicationData))

    assert benchmark(round_trip) == size
