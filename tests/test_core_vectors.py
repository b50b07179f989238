"""The shared test vectors (tests/vectors/, copied from ../shared/vectors/).

Every value is reproduced from its inputs: the OAEP ciphertext from the
recorded seed, the key schedule, both Finished values, and every record of
the recorded connection, byte for byte, by both a client and a server
connection fed the recorded peer's bytes.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from toytls import events as ev
from toytls.core.config import ClientConfig, ServerConfig
from toytls.core.connection import Connection
from toytls.core.errors import ToyTLSError
from toytls.core.keyschedule import decrypt_secret, derive_schedule, finished_verify_data
from toytls.core.protection import RecordOpener, RecordSealer, record_nonce
from toytls.core.records import RecordReader
from toytls.pki.files import load_pem_certificates

VECTORS = Path(__file__).parent / "vectors"
HANDSHAKE = json.loads((VECTORS / "handshake.json").read_text())
RECORDS = json.loads((VECTORS / "records.json").read_text())
# The vector certificates are valid 2025-01-01 .. 2125-01-01.
VECTOR_TIME = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)

h = bytes.fromhex


def _server_key() -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key((VECTORS / "pki/server.key").read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def _mgf1(seed: bytes, length: int) -> bytes:
    out = b""
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return out[:length]


def oaep_encrypt_with_seed(public_key: rsa.RSAPublicKey, message: bytes, seed: bytes) -> bytes:
    """RFC 8017 §7.1.1 with a given seed — only to reproduce the recorded
    ciphertext independently of the implementation under test."""
    k = (public_key.key_size + 7) // 8
    l_hash = hashlib.sha256(b"").digest()
    ps = b"\x00" * (k - len(message) - 2 * 32 - 2)
    db = l_hash + ps + b"\x01" + message
    masked_db = bytes(a ^ b for a, b in zip(db, _mgf1(seed, k - 33), strict=True))
    masked_seed = bytes(a ^ b for a, b in zip(seed, _mgf1(masked_db, 32), strict=True))
    em = int.from_bytes(b"\x00" + masked_seed + masked_db, "big")
    numbers = public_key.public_numbers()
    return pow(em, numbers.e, numbers.n).to_bytes(k, "big")


def _replay_random(*chunks: bytes) -> Callable[[int], bytes]:
    it: Iterator[bytes] = iter(chunks)

    def random_bytes(n: int) -> bytes:
        chunk = next(it)
        assert len(chunk) == n
        return chunk

    return random_bytes


def _records(direction: str) -> list[dict[str, Any]]:
    return [r for r in HANDSHAKE["records"] if r["direction"] == direction]


def test_oaep_secret_decrypts_and_reencrypts() -> None:
    key = _server_key()
    encrypted = h(HANDSHAKE["oaep"]["encrypted_secret"])
    secret = h(HANDSHAKE["secret"])
    assert decrypt_secret(key, encrypted, b"\xff" * 32) == secret
    assert (
        oaep_encrypt_with_seed(key.public_key(), secret, h(HANDSHAKE["oaep"]["seed"])) == encrypted
    )


def test_transcript_and_schedule() -> None:
    m = HANDSHAKE["messages"]
    th_cke = hashlib.sha256(
        h(m["client_hello"])
        + h(m["server_hello"])
        + h(m["certificate"])
        + h(m["client_key_exchange"])
    ).digest()
    assert th_cke.hex() == HANDSHAKE["transcript"]["th_client_key_exchange"]
    schedule = derive_schedule(
        secret=h(HANDSHAKE["secret"]),
        client_random=h(HANDSHAKE["client_random"]),
        server_random=h(HANDSHAKE["server_random"]),
        th=th_cke,
    )
    expected = HANDSHAKE["schedule"]
    assert schedule.master.hex() == expected["master"]
    for name in (
        "client_write_key",
        "server_write_key",
        "client_write_iv",
        "server_write_iv",
        "client_finished",
        "server_finished",
    ):
        assert getattr(schedule, name).hex() == expected[name], name
    client_vd = finished_verify_data(schedule.client_finished, th_cke)
    assert client_vd.hex() == HANDSHAKE["finished"]["client_verify_data"]
    th_cf = hashlib.sha256(th_cke_input(m) + h(m["client_finished"])).digest()
    assert th_cf.hex() == HANDSHAKE["transcript"]["th_client_finished"]
    server_vd = finished_verify_data(schedule.server_finished, th_cf)
    assert server_vd.hex() == HANDSHAKE["finished"]["server_verify_data"]


def th_cke_input(m: dict[str, str]) -> bytes:
    return (
        h(m["client_hello"])
        + h(m["server_hello"])
        + h(m["certificate"])
        + h(m["client_key_exchange"])
    )


def test_every_protected_record_reseals_and_opens() -> None:
    schedule = HANDSHAKE["schedule"]
    for record in HANDSHAKE["records"]:
        if not record["protected"]:
            continue
        side = "client" if record["direction"] == "client_to_server" else "server"
        key, iv = h(schedule[f"{side}_write_key"]), h(schedule[f"{side}_write_iv"])
        sealer = RecordSealer(key, iv)
        sealer.seq = record["seq"]
        sealed, seq, nonce = sealer.seal(record["content_type"], h(record["plaintext"]))
        assert (sealed.hex(), seq, nonce.hex()) == (
            record["record"],
            record["seq"],
            record["nonce"],
        )
        opener = RecordOpener(key, iv)
        opener.seq = record["seq"]
        raw = h(record["record"])
        assert opener.open(raw[:5], raw[5:])[0].hex() == record["plaintext"]


@pytest.mark.parametrize("example", RECORDS["examples"], ids=lambda e: e["name"])
def test_record_examples(example: dict[str, Any]) -> None:
    key, iv = h(example["key"]), h(example["iv"])
    assert record_nonce(iv, example["seq"]).hex() == example["nonce"]
    sealer = RecordSealer(key, iv)
    sealer.seq = example["seq"]
    record, _, _ = sealer.seal(example["content_type"], h(example["plaintext"]))
    assert record.hex() == example["record"]
    assert record[:5].hex() == example["aad"]
    assert record[5:].hex() == example["ciphertext"] + example["tag"]
    opener = RecordOpener(key, iv)
    opener.seq = example["seq"]
    reader = RecordReader()
    reader.feed(record)
    raw = reader.next_record(16384 + 16)
    assert raw is not None
    assert opener.open(raw.header, raw.fragment)[0].hex() == example["plaintext"]


@pytest.mark.parametrize("case", RECORDS["must_fail"], ids=lambda e: e["name"])
def test_record_must_fail(case: dict[str, Any]) -> None:
    opener = RecordOpener(h(case["key"]), h(case["iv"]))
    opener.seq = case["seq"]
    reader = RecordReader()
    reader.feed(h(case["record"]))
    expected = case["expected"].split()[0]
    with pytest.raises(ToyTLSError) as info:
        raw = reader.next_record(16384 + 16)
        assert raw is not None
        opener.open(raw.header, raw.fragment)
    assert info.value.alert_name == expected


def _chain() -> tuple[bytes, ...]:
    certificates = load_pem_certificates((VECTORS / "pki/chain.pem").read_bytes())
    return tuple(c.public_bytes(serialization.Encoding.DER) for c in certificates)


def _collect(conn: Connection, data: bytes) -> list[ev.Event]:
    events = conn.receive_data(data)
    assert not any(isinstance(e, ev.ConnectionFailed) for e in events), events
    return events


def test_server_reproduces_the_recorded_connection() -> None:
    server = Connection(
        ServerConfig(certificate_chain=_chain(), private_key=_server_key()),
        # server_random, then the fallback secret drawn before decryption
        random_bytes=_replay_random(h(HANDSHAKE["server_random"]), b"\x00" * 32),
    )
    sent = b"".join(h(r["record"]) for r in _records("server_to_client"))
    received = b""
    app_data = b""
    for record in _records("client_to_server"):
        if record["what"] == "alert close_notify":
            for plaintext in HANDSHAKE["application_data"]["server_to_client"]:
                server.send_application_data(h(plaintext["plaintext"]))
            server.send_close_notify()
        events = _collect(server, h(record["record"]))
        app_data += b"".join(e.data for e in events if isinstance(e, ev.ApplicationData))
        received += server.data_to_send()
    assert received == sent
    expected = b"".join(
        h(r["plaintext"]) for r in HANDSHAKE["application_data"]["client_to_server"]
    )
    assert app_data == expected
    assert server.closed and server.error is None


def test_client_reproduces_the_recorded_connection() -> None:
    roots = tuple(load_pem_certificates((VECTORS / "pki/root.pem").read_bytes()))
    seed = h(HANDSHAKE["oaep"]["seed"])
    client = Connection(
        ClientConfig(server_name=HANDSHAKE["server_name"], roots=roots, now=VECTOR_TIME),
        random_bytes=_replay_random(h(HANDSHAKE["client_random"]), h(HANDSHAKE["secret"])),
        encrypt_secret_fn=lambda key, secret: oaep_encrypt_with_seed(key, secret, seed),
    )
    client.initiate()
    sent = client.data_to_send()
    app_data = b""
    for record in _records("server_to_client"):
        if record["what"] == "alert close_notify":
            for plaintext in HANDSHAKE["application_data"]["client_to_server"]:
                client.send_application_data(h(plaintext["plaintext"]))
            client.send_close_notify()
        events = _collect(client, h(record["record"]))
        app_data += b"".join(e.data for e in events if isinstance(e, ev.ApplicationData))
        sent += client.data_to_send()
    assert sent == b"".join(h(r["record"]) for r in _records("client_to_server"))
    expected = b"".join(
        h(r["plaintext"]) for r in HANDSHAKE["application_data"]["server_to_client"]
    )
    assert app_data == expected
    assert client.session is not None and client.session.verified is True


def test_recorded_messages_are_what_the_connection_sends() -> None:
    """The messages block matches the records' plaintexts (a vector self-check)."""
    m = HANDSHAKE["messages"]
    records = HANDSHAKE["records"]
    assert h(records[0]["record"])[5:] == h(m["client_hello"])
    assert h(records[4]["plaintext"]) == h(m["client_finished"])
