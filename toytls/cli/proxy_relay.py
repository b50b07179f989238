"""The proxy's relay modes: bytes pass through record by record, and some are attacked.

Each direction is read with the core's :class:`~toytls.core.records.RecordReader`;
:mod:`toytls.attacker.policy` says whether a direction is toytls at all and
what to forward for each record; this module only moves the bytes and
reports what happened.
"""

from __future__ import annotations

import trio

from ..attacker import outcomes as out
from ..attacker.policy import (
    is_encrypted_alert,
    is_toytls_start,
    refusal_alert,
    rewrite_plaintext,
)
from ..core.constants import MAX_CIPHERTEXT
from ..core.errors import ToyTLSError
from ..core.records import RawRecord, RecordReader
from .proxy_link import Link, show_plaintext

#: Bytes read at a time: a whole record and then some.
_CHUNK = 65536


async def relay(
    link: Link,
    client: trio.abc.HalfCloseableStream,
    server: trio.abc.HalfCloseableStream,
    rewrite: list[tuple[bytes, bytes]],
) -> None:
    """Relay both directions until both end; a broken side ends its direction only.

    ``rewrite`` applies to the client→server direction only: rewriting a
    reply would change an HTTP body under its Content-Length, and the
    client would wait for bytes that never come.
    """
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_guarded, link, out.Direction.TO_SERVER, client, server, rewrite)
        nursery.start_soon(_guarded, link, out.Direction.TO_CLIENT, server, client, [])


async def _guarded(
    link: Link,
    direction: out.Direction,
    source: trio.abc.HalfCloseableStream,
    sink: trio.abc.HalfCloseableStream,
    rewrite: list[tuple[bytes, bytes]],
) -> None:
    try:
        await _relay_direction(link, direction, source, sink, rewrite)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass  # one side went away; the other direction ends on its own


async def _relay_direction(
    link: Link,
    direction: out.Direction,
    source: trio.abc.Stream,
    sink: trio.abc.HalfCloseableStream,
    rewrite: list[tuple[bytes, bytes]],
) -> None:
    reader = RecordReader()
    plaintext: bool | None = None  # decided on the first bytes
    records = 0  # how many went this way, for DataAltered.record_index
    while data := bytes(await source.receive_some(_CHUNK)):
        if plaintext is None:
            plaintext = not is_toytls_start(data)
            if plaintext:
                link.report(out.PlaintextStream(connection=link.number, direction=direction))
        if plaintext:
            await _pass_plaintext(link, direction, data, sink, rewrite)
            continue
        if link.cut.is_set():
            continue  # the attacker has cut the line: swallow what still comes
        reader.feed(data)
        try:
            while (record := reader.next_record(MAX_CIPHERTEXT)) is not None:
                records += 1
                await _pass_record(link, direction, record, records, sink)
                if link.cut.is_set():
                    # A bare TCP end (FIN) towards the client, no close_notify.
                    # Closing outright could turn into a reset and hide the
                    # truncation behind "connection reset".
                    await sink.send_eof()
                    return
        except ToyTLSError as exc:
            link.report(
                out.UnparseableRecords(
                    connection=link.number, direction=direction, error=str(exc), alert=exc.alert
                )
            )
            plaintext = True
    await sink.send_eof()


async def _pass_plaintext(
    link: Link,
    direction: out.Direction,
    data: bytes,
    sink: trio.abc.HalfCloseableStream,
    rewrite: list[tuple[bytes, bytes]],
) -> None:
    """Show plaintext, rewrite it if a rule matches, and send it on."""
    show_plaintext(link, direction, data, stolen=False)
    changed = rewrite_plaintext(data, rewrite)
    if changed != data:
        link.report(
            out.DataAltered(
                connection=link.number,
                direction=direction,
                what=out.Alteration.REWRITE,
                text=changed.decode("utf-8", "replace"),
            )
        )
    await sink.send_all(changed)


async def _pass_record(
    link: Link,
    direction: out.Direction,
    record: RawRecord,
    index: int,
    sink: trio.abc.HalfCloseableStream,
) -> None:
    """Report one record, let the policy judge it, send what it says."""
    number = link.number
    link.report(out.RecordRelayed(connection=number, direction=direction, record=record))
    if direction is out.Direction.TO_SERVER:
        # The client complained: in a relay mode that means it noticed.
        code = refusal_alert(record)
        if code is not None:
            link.report(out.AttackRefused(connection=number, alert=code, mode=link.mode))
        elif is_encrypted_alert(record):
            link.report(out.EncryptedAlertSeen(connection=number, after=link.policy.altered))
    verdict = link.policy.judge(direction, record)
    if verdict.alteration is not None:
        link.report(
            out.DataAltered(
                connection=number, direction=direction, what=verdict.alteration, record_index=index
            )
        )
    if verdict.cut:
        link.cut.set()
    for raw in verdict.send:
        await sink.send_all(raw)
