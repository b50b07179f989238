"""Scenarios 2–4 of ``toytls demo``: the article's first lessons.

Lessons 2 (one symmetric key) and 3 (one key pair) run a real client and
a real server of their toy protocols (:mod:`toytls.story.lesson_protocols`,
not toytls/1) over TCP on 127.0.0.1, through the real watching proxy
(``toytls proxy --mode watch``), which shows every byte it relays. The
eavesdropper then reads those bytes: in lesson 2 he copies key X off the
wire and opens the letter; in lesson 3 he copies B+ and opens the server's
reply, while the client's letter, locked with B+, stays closed to him.

Lesson 4 only times RSA against AES, in memory, on this machine.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import trio

from ..attacker import outcomes as out
from ..story.demo_texts import WHY
from ..story.error_texts import describe_reason
from ..story.lesson_protocols import (
    AsymmetricClient,
    AsymmetricServer,
    FrameReader,
    LessonWireError,
    Party,
    SymmetricClient,
    SymmetricServer,
    eavesdrop_asymmetric,
    eavesdrop_symmetric,
)
from ..story.lessons import LockError, rsa_versus_aes
from ..streams.splice import CHUNK
from ..streams.wiretap import WireTap
from .demo_parties import HOST, Attacker

if TYPE_CHECKING:
    from .demorun import Stage

#: Seconds a lesson conversation may take, from connect to the server's end.
_TALK_WITHIN = 10.0
#: What a party may fail with: bytes that are not frames, or a lock that does not open.
_PARTY_ERRORS = (LessonWireError, LockError, trio.BrokenResourceError)


async def _converse(stream: trio.abc.Stream, party: Party) -> None:
    """Send ``party``'s opening, then answer frame by frame until it is done or the peer ends."""
    reader = FrameReader()
    if opening := party.start():
        await stream.send_all(opening)
    while not party.done:
        data = await stream.receive_some(CHUNK)
        if not data:
            return
        for got in reader.feed(data):
            if answer := party.receive(got):
                await stream.send_all(answer)


async def _serve_one(stream: trio.SocketStream, *, make_party: Callable[[], Party]) -> None:
    """One client of a lesson server: talk until it has finished sending, then close."""
    async with stream:
        try:
            with trio.fail_after(_TALK_WITHIN):
                await _converse(stream, make_party())
        except (*_PARTY_ERRORS, trio.TooSlowError):
            pass  # a lesson server just hangs up on nonsense


async def lesson_server(
    make_party: Callable[[], Party], *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED
) -> None:
    """Serve a lesson protocol on a free port of 127.0.0.1 until cancelled; the port is started."""
    listeners = await trio.open_tcp_listeners(0, host=HOST)
    task_status.started(listeners[0].socket.getsockname()[1])
    await trio.serve_listeners(functools.partial(_serve_one, make_party=make_party), listeners)


@dataclass
class LessonRun:
    """One lesson conversation through the watching proxy, from both ends of the wire."""

    #: the client's side of the protocol: its key X or B+, and the reply it got
    client: Party
    #: the port the client connected to (the proxy's) and the server's
    proxy_port: int = 0
    server_port: int = 0
    #: why the client's conversation failed, if it did
    error: BaseException | None = None
    #: bytes the client sent and received, counted on its own socket
    sent: int = 0
    received: int = 0
    #: every byte the eavesdropper relayed each way, as he reported reading it
    to_server: bytes = b""
    to_client: bytes = b""


async def _client(stage: Stage, run: LessonRun) -> None:
    """The lesson client through the proxy: talk, end its sending, read to the end."""
    tap = WireTap(await stage.connect(run.proxy_port))
    try:
        async with tap:
            with trio.fail_after(_TALK_WITHIN):
                await _converse(tap, run.client)
                await tap.send_eof()
                while await tap.receive_some(CHUNK):
                    pass
    except _PARTY_ERRORS as exc:
        run.error = exc
    run.sent, run.received = tap.sent.bytes, tap.received.bytes


def _relayed(attacker: Attacker, direction: out.Direction) -> bytes:
    """What the watching proxy reported reading one way, put back together."""
    seen = attacker.of(out.PlaintextSeen)
    return "".join(o.text for o in seen if o.direction is direction).encode()


async def through_the_watcher(
    stage: Stage, make_server: Callable[[], Party], client: Party
) -> LessonRun:
    """Start a lesson server and a watching proxy in front of it; ``client`` talks through it."""
    run = LessonRun(client=client)
    async with trio.open_nursery() as nursery:
        run.server_port = await nursery.start(lesson_server, make_server)
        watcher = await stage.proxy(nursery, "watch", run.server_port)
        run.proxy_port = watcher.port
        await _client(stage, run)
        await watcher.wait_finished()
        nursery.cancel_scope.cancel()
    run.to_server = _relayed(watcher, out.Direction.TO_SERVER)
    run.to_client = _relayed(watcher, out.Direction.TO_CLIENT)
    return run


def _why(run: LessonRun, lang: str) -> object:
    """Why a lesson conversation went wrong, for the table, in ``lang``."""
    words = WHY[lang]
    if run.error is not None:
        return describe_reason(run.error, lang)
    if not _wire_matches(run):
        up, down = len(run.to_server), len(run.to_client)
        return words["bytes_differ"].format(sent=run.sent, received=run.received, up=up, down=down)
    return words["no_reply"]


def _wire_matches(run: LessonRun) -> bool:
    """Whether the eavesdropper relayed exactly the bytes the client sent and received."""
    return (len(run.to_server), len(run.to_client)) == (run.sent, run.received) and run.sent > 0


async def symmetric(stage: Stage, client: SymmetricClient | None = None) -> tuple[str, bool]:
    """Lesson 2: key X travels in clear, the eavesdropper copies it and reads the letter.

    ``client`` is the client's side of the protocol (a test keeps it to see its X).
    """
    letter = stage.letter.encode()
    stage.say("sym_setup")
    client = SymmetricClient(letter) if client is None else client
    run = await through_the_watcher(stage, SymmetricServer, client)
    stage.say("sym_wire", up=len(run.to_server), down=len(run.to_client))
    try:
        seen = eavesdrop_symmetric(run.to_server, run.to_client)
    except (LessonWireError, LockError) as exc:
        return stage.happened("lesson_off", why=exc), False
    if seen.key is not None:
        stage.say("sym_key", key=seen.key.hex())
    if seen.opened:
        stage.say("sym_read", text=seen.opened[0].decode(errors="replace"), highlight=True)
    ok = run.error is None and client.reply == letter and _wire_matches(run)
    if not ok:
        return stage.happened("lesson_off", why=_why(run, stage.lang)), False
    if seen.key != client.key or seen.opened != (letter, letter):
        return stage.happened("lesson_off", why=WHY[stage.lang]["unread"]), False
    return stage.happened("sym"), True


async def asymmetric(stage: Stage, client: AsymmetricClient | None = None) -> tuple[str, bool]:
    """Lesson 3: B+ goes to everyone, so the reply locked with B− is open to everyone."""
    letter = stage.letter.encode()
    stage.say("asym_setup")
    client = AsymmetricClient(letter) if client is None else client
    run = await through_the_watcher(
        stage, functools.partial(AsymmetricServer, stage.pki.server.key), client
    )
    stage.say("asym_wire", up=len(run.to_server), down=len(run.to_client))
    try:
        seen = eavesdrop_asymmetric(run.to_server, run.to_client)
    except (LessonWireError, LockError) as exc:
        return stage.happened("lesson_off", why=exc), False
    # The letter went by only locked with B+: neither it nor its hex is in the bytes.
    closed = bool(seen.requests) and all(
        form not in run.to_server for form in (letter, letter.hex().encode())
    )
    if closed:
        stage.say("asym_closed")
    if seen.opened:
        stage.say("asym_read", text=seen.opened[0].decode(errors="replace"), highlight=True)
    if run.error is not None or client.reply != letter or not _wire_matches(run):
        return stage.happened("lesson_off", why=_why(run, stage.lang)), False
    if not closed or seen.opened != (letter,):
        return stage.happened("lesson_off", why="the eavesdropper did not see what B+ opens"), False
    return stage.happened("asym"), True


async def speed(stage: Stage) -> tuple[str, bool]:
    """Lesson 4: RSA against AES, timed in memory on this machine."""
    lesson = await trio.to_thread.run_sync(
        rsa_versus_aes, stage.letter.encode(), stage.pki.server.key
    )
    stage.say(
        "speed", size=lesson.message_bytes, rsa=lesson.rsa_microseconds, aes=lesson.aes_microseconds
    )
    stage.say("speed_ratio", ratio=lesson.ratio, highlight=True)
    return stage.happened("speed", ratio=lesson.ratio), lesson.ratio > 5
