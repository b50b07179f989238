"""The toy protocols of demo lessons 2 and 3, bytes in and bytes out, without sockets.

The framing is fed whole, one byte at a time and with junk; the two sides
of each lesson talk by handing each other their bytes; the eavesdropper
reads what went by. The locks are the real ones from ``cryptography``.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from toytls.core.keyschedule import OAEP_PADDING
from toytls.pki.generate import PKI
from toytls.story.lesson_protocols import (
    MAX_LINE,
    AsymmetricClient,
    AsymmetricServer,
    Frame,
    FrameReader,
    LessonWireError,
    Party,
    SymmetricClient,
    SymmetricServer,
    eavesdrop_asymmetric,
    eavesdrop_symmetric,
    frame,
    frames_in,
    open_reply,
)
from toytls.story.lessons import (
    LockError,
    lock_with_private_key,
    new_key_x,
    open_with_public_key,
    open_with_x,
    seal_with_x,
)

LETTER = b"Happy birthday, darling! See you tonight at eight."
LETTER_ZH = "生日快乐！亲爱的，今晚八点见。".encode()

# ------------------------------------------------------------------ framing


def test_a_frame_is_one_line_of_ascii_and_reads_back() -> None:
    raw = frame("KEY", b"\x00\xffX") + frame("HELLO")
    assert raw == b"KEY 00ff58\nHELLO \n"
    assert FrameReader().feed(raw) == [
        Frame(tag="KEY", payload=b"\x00\xffX"),
        Frame(tag="HELLO", payload=b""),
    ]


def test_frames_arrive_one_byte_at_a_time() -> None:
    raw = frame("DATA", bytes(range(40))) + frame("KEY", b"k" * 16)
    reader = FrameReader()
    got: list[Frame] = []
    for i in range(len(raw)):
        got += reader.feed(raw[i : i + 1])
    assert [f.tag for f in got] == ["DATA", "KEY"]
    assert got[0].payload == bytes(range(40)) and reader.pending == 0


@pytest.mark.parametrize(
    "junk",
    [b"GET / HTTP/1.1\n", b"KEY zz\n", b"KEY abc\n", b"KEY\n", b"\x16\x03\x01\x00\x05hello\n"],
)
def test_anything_else_is_refused(junk: bytes) -> None:
    with pytest.raises(LessonWireError):
        FrameReader().feed(frame("KEY", b"x") + junk)


def test_a_line_without_end_is_refused_at_the_limit() -> None:
    reader = FrameReader()
    assert reader.feed(b"DATA " + b"0" * (MAX_LINE - 6)) == []  # one short of the limit
    with pytest.raises(LessonWireError, match="longer than"):
        reader.feed(b"0")
    with pytest.raises(LessonWireError, match="longer than"):
        FrameReader().feed(b"DATA " + b"00" * MAX_LINE + b"\n")


def test_frames_in_leaves_an_unfinished_last_line_out() -> None:
    assert frames_in(frame("KEY", b"1") + b"DATA 00") == [Frame(tag="KEY", payload=b"1")]
    assert frames_in(b"") == []


# -------------------------------------------------------------------- locks


def test_key_x_opens_what_it_sealed_and_nothing_else() -> None:
    key = new_key_x()
    sealed = seal_with_x(key, LETTER)
    assert LETTER not in sealed and open_with_x(key, sealed) == LETTER
    assert seal_with_x(key, LETTER) != sealed  # a fresh nonce each time
    with pytest.raises(LockError):
        open_with_x(new_key_x(), sealed)
    with pytest.raises(LockError):
        open_with_x(key, sealed[:-1] + bytes([sealed[-1] ^ 1]))


def test_what_b_minus_locks_b_plus_opens_and_only_that_b_plus(pki: PKI) -> None:
    locked = lock_with_private_key(pki.server.key, LETTER)
    assert len(locked) == 2 * 256 and LETTER not in locked
    assert open_with_public_key(pki.server.key.public_key(), locked, len(LETTER)) == LETTER
    with pytest.raises(LockError):
        open_with_public_key(pki.attacker_key.public_key(), locked, len(LETTER))
    with pytest.raises(LockError):
        open_with_public_key(pki.server.key.public_key(), locked[:-1], len(LETTER))


# ------------------------------------------------- the two sides, in memory


def _talk(client: Party, server: Party) -> tuple[bytes, bytes]:
    """Hand bytes back and forth until the client is done: what went each way."""
    up, down = bytearray(), bytearray()
    to_server, to_client = client.start(), server.start()
    client_reader, server_reader = FrameReader(), FrameReader()
    for _ in range(10):
        up += to_server
        down += to_client
        answers = [server.receive(f) for f in server_reader.feed(to_server)]
        replies = [client.receive(f) for f in client_reader.feed(to_client)]
        to_client, to_server = b"".join(answers), b"".join(replies)
        if client.done and not to_server and not to_client:
            break
    return bytes(up), bytes(down)


@pytest.mark.parametrize("letter", [LETTER, LETTER_ZH])
def test_lesson_2_whoever_relays_the_bytes_reads_the_letter(letter: bytes) -> None:
    client = SymmetricClient(letter)
    up, down = _talk(client, SymmetricServer())
    assert client.reply == letter
    assert letter not in up + down  # encrypted on the wire …
    seen = eavesdrop_symmetric(up, down)
    assert seen.key == client.key  # … but X went first, in clear
    assert seen.opened == (letter, letter)
    assert up.startswith(f"KEY {client.key.hex()}\n".encode())


@pytest.mark.parametrize("letter", [LETTER, LETTER_ZH])
def test_lesson_3_b_plus_opens_the_reply_not_the_request(pki: PKI, letter: bytes) -> None:
    client = AsymmetricClient(letter)
    up, down = _talk(client, AsymmetricServer(pki.server.key))
    assert client.reply == letter
    seen = eavesdrop_asymmetric(up, down)
    assert seen.public_key is not None
    assert seen.opened == (letter,)  # the server's reply: open to anyone with B+
    (request,) = seen.requests  # the client's letter: locked with B+, only B− opens it
    assert letter not in up and letter.hex().encode() not in up
    assert pki.server.key.decrypt(request, OAEP_PADDING) == letter


def test_lesson_3_reply_does_not_open_with_another_b_plus(pki: PKI) -> None:
    client = AsymmetricClient(LETTER)
    _, down = _talk(client, AsymmetricServer(pki.server.key))
    reply = next(f for f in frames_in(down) if f.tag == "REPLY")
    other: rsa.RSAPublicKey = pki.attacker_key.public_key()
    with pytest.raises(LockError):
        open_reply(other, reply.payload)


def test_each_side_refuses_a_frame_out_of_turn(pki: PKI) -> None:
    with pytest.raises(LessonWireError, match="expected KEY"):
        SymmetricServer().receive(Frame(tag="DATA", payload=b""))
    with pytest.raises(LessonWireError, match="expected PUBKEY"):
        AsymmetricClient(LETTER).receive(Frame(tag="REPLY", payload=b""))
    with pytest.raises(LessonWireError, match="not a public key"):
        AsymmetricClient(LETTER).receive(Frame(tag="PUBKEY", payload=b"nonsense"))
    with pytest.raises(LockError):
        AsymmetricServer(pki.server.key).receive(Frame(tag="DATA", payload=b"\x00" * 256))
