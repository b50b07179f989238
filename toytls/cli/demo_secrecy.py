"""Scenario 14 of ``toytls demo``: recorded today, opened the day B− leaks.

The honest server and a verifying client talk through a proxy that only
watches and records every client-facing byte (``toytls proxy --pcap``).
The recording is then read as ``toytls decode`` reads it
(:func:`toytls.story.decode.decode_capture`): without a key nothing opens;
with the server's private key B− — "leaked" later — ClientKeyExchange opens,
and with it key X and the letter. toytls/1 carries X by key transport, so
it has no forward secrecy; the closing paragraph says why TLS 1.3 does.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from ..core import events as ev
from ..core.constants import ContentType
from ..pki.files import load_pem_private_key_rsa
from ..story.decode import DecodedConversation, decode_capture
from ..story.demo_texts import WHY
from ..story.error_texts import describe_reason
from ..story.narration import short_hex

if TYPE_CHECKING:
    from .demo_parties import ClientRun
    from .demorun import Stage


async def _record(stage: Stage, capture: Path) -> ClientRun:
    """One honest conversation through a watching proxy that writes ``capture``."""
    async with trio.open_nursery() as nursery:
        server = await stage.server(nursery)
        watcher = await stage.proxy(nursery, "watch", server, pcap=capture)
        run = await stage.client(watcher.port)
        await watcher.wait_finished()
        nursery.cancel_scope.cancel()
    return run


async def _decode(data: bytes, key_file: Path | None) -> DecodedConversation:
    """The recording's one conversation, read as ``toytls decode [--key]`` reads it."""
    key = load_pem_private_key_rsa(key_file.read_bytes()) if key_file is not None else None
    decode = functools.partial(decode_capture, data, private_key=key)
    return (await trio.to_thread.run_sync(decode))[0]


def _letter_in(conversation: DecodedConversation) -> bytes:
    """The application data the client sent, as far as it was opened."""
    return b"".join(
        r.data or b""
        for r in conversation.records
        if r.from_client and r.content_type == ContentType.APPLICATION_DATA
    )


async def forward_secrecy(stage: Stage) -> tuple[str, bool]:
    """Record a conversation, leak B−, open the recording; then the TLS 1.3 lesson."""
    letter = stage.letter.encode()
    stage.say("fs_setup")
    with tempfile.TemporaryDirectory(prefix="toytls-recording-") as temp:
        capture = Path(temp) / "recording.pcap"
        run = await _record(stage, capture)
        data = await trio.to_thread.run_sync(capture.read_bytes)
    sealed = await _decode(data, None)
    closed = [r for r in sealed.records if r.protected and not r.opened]
    stage.say("fs_recorded", size=len(data), records=len(sealed.records), sealed=len(closed))
    first = next((r for r in closed if r.content_type == ContentType.APPLICATION_DATA), None)
    if first is not None:
        stage.say("fs_sealed", cipher=short_hex(first.fragment, 16))
    stage.say("fs_leak")
    opened = await _decode(data, stage.pki_dir / "server.key")
    if opened.secret is not None:
        stage.say("fs_key", key=opened.secret.hex())
    read = _letter_in(opened)
    if read:
        stage.say("fs_read", text=read.decode(errors="replace"), highlight=True)
    stage.say("fs_lesson")
    derived = [e.secret for e in run.events if isinstance(e, ev.KeysDerived)]
    control = letter not in data and sealed.secret is None and not _letter_in(sealed)
    ok = run.reply == letter and control and read == letter and derived == [opened.secret]
    if ok:
        return stage.happened("secrecy"), True
    words = WHY[stage.lang]
    told = words["opened_without_key"] if not control else words["leak_failed"]
    why = describe_reason(run.error, stage.lang) if run.error is not None else told
    return stage.happened("not_opened", why=why), False
