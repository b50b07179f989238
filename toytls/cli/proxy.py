"""``toytls proxy``: the attacker in the middle, one mode per attack.

Two ways of working, chosen by the mode:

* **Relay** (watch, tamper-cert, flip, replay, truncate): bytes pass through
  record by record — split with the same :class:`~toytls.core.records.RecordReader`
  the endpoints use — and the attack changes, repeats or drops some.
* **Man in the middle** (swap-key, swap-cert, self-signed, own-ca): the proxy
  reads the client's ClientHello, opens its own connection to the real
  server (to learn the real chain), then answers the client as a toytls
  server with a forged chain and the attacker's key pair B+/B−. If the client
  accepts, the proxy holds key X and relays — and prints — every message in
  plaintext; if not, it says why the attack failed.

One timestamped line per event, mitmproxy style, or JSON with ``--json``.
"""

from __future__ import annotations

import functools
import itertools
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

import trio

from ..attacker.modes import (
    DESCRIPTIONS,
    Mode,
    flip_bit,
    forged_chain,
    tamper_certificate_record,
)
from ..core import events as ev
from ..core.constants import MAX_CIPHERTEXT, ContentType, alert_name
from ..core.errors import ToyTLSError
from ..core.messages import ClientHello, parse_message
from ..core.records import RawRecord, RecordReader
from ..pki.files import load_attacker_kit
from ..pki.generate import AttackerKit
from ..story.narration import alert_meaning, short_hex
from ..streams.context import Context
from ..streams.prefixed import PrefixedStream
from ..streams.stream import ToyTLSInsecureWarning, ToyTLSStream
from ..web.httpview import HttpConversation
from .common import EXIT_USAGE, announce_listening, serve_until_stopped, usage_error_text
from .console import Console, parse_address
from .options import ProxyOptions

_TO_SERVER = "client→server"
_TO_CLIENT = "server→client"


@dataclass
class _Link:
    """One client's connection through the proxy."""

    number: int
    mode: Mode
    console: Console
    upstream: tuple[str, int]
    kit: AttackerKit | None
    app_records_to_client: int = 0
    handshake_records: list[str] = field(default_factory=list)
    cut: trio.Event = field(default_factory=trio.Event)
    #: HTTP recognised in the plaintext this link reads (watch mode on a
    #: plaintext server, or after a successful attack)
    http: HttpConversation = field(default_factory=HttpConversation)

    @property
    def prefix(self) -> str:
        return f"#{self.number} "

    def log(self, message: str, *, style: str | None = None, **fields: object) -> None:
        """One log line; with a ``kind`` field, also one JSON record."""
        self.console.line(message, style=style, prefix=self.prefix)
        if fields:
            kind = str(fields.pop("kind", "proxy"))
            self.console.record(kind, connection=self.number, **fields)


# ----------------------------------------------------------------- relay


def _describe_record(record: RawRecord) -> str:
    kind = record.content_type.name.lower()
    size = len(record.fragment)
    if record.content_type is ContentType.HANDSHAKE:
        try:
            message = parse_message(record.fragment)
        except ToyTLSError:
            return f"{kind} ({size} bytes, encrypted)"
        name = type(message).__name__
        if isinstance(message, ClientHello):
            name += f" for {message.server_name!r}"
        return f"{kind} {name} ({size} bytes, readable)"
    if record.content_type is ContentType.ALERT and size == 2:
        return f"alert {alert_name(record.fragment[1])} (readable)"
    return f"{kind}, {size} bytes of ciphertext: {short_hex(record.fragment, 12)}"


def _attack_record(link: _Link, direction: str, record: RawRecord) -> list[bytes]:
    """What to forward for one record in a relay mode (maybe changed, maybe twice)."""
    raw = record.header + record.fragment
    if direction != _TO_CLIENT:
        return [raw]
    if link.mode is Mode.TAMPER_CERT:
        changed = tamper_certificate_record(record)
        if changed is not None:
            _tampered(
                link,
                direction,
                "tampered: changed one letter of the subject's name inside the signed part "
                "of the certificate; the CA's signature is unchanged",
            )
            return [changed]
        return [raw]
    if record.content_type is not ContentType.APPLICATION_DATA:
        return [raw]
    link.app_records_to_client += 1
    if link.app_records_to_client != 1:  # each data attack works on the first record
        return [raw]
    if link.mode is Mode.FLIP:
        _tampered(link, direction, "flipped one bit of this record's ciphertext")
        return [flip_bit(record)]
    if link.mode is Mode.REPLAY:
        _tampered(link, direction, "sending this record a second time (replay)")
        return [raw, raw]
    if link.mode is Mode.TRUNCATE:
        _tampered(
            link,
            direction,
            "forwarding this record, then cutting both connections without close_notify",
        )
        link.cut.set()
    return [raw]


def _tampered(link: _Link, direction: str, what: str) -> None:
    link.log(what, style="bold magenta", kind="tampered", direction=direction)


def _client_alert(link: _Link, record: RawRecord) -> None:
    """The client complained: in a relay mode that means it noticed."""
    if len(record.fragment) == 2 and record.fragment != b"\x01\x00":
        code = record.fragment[1]
        meaning = alert_meaning(code, link.console.lang)
        link.log(
            f"attack failed: the client refused with alert {alert_name(code)}: {meaning}",
            style="bold green",
            kind="attack_failed",
            alert=alert_name(code),
        )
    elif len(record.fragment) > 2:
        link.log(
            "the client sent an encrypted alert: it noticed something (or is closing)",
            style="green",
            kind="client_alert_encrypted",
        )


def _show_plaintext(link: _Link, direction: str, data: bytes | bytearray, *, stolen: bool) -> None:
    """Log plaintext the attacker read: as HTTP when it is HTTP, else as text.

    ``stolen`` marks plaintext he could only read because an attack
    succeeded (it was encrypted with key X).
    """
    client_side = direction == _TO_SERVER
    sightings = link.http.client_bytes(data) if client_side else link.http.server_bytes(data)
    how = " (decrypted with key X)" if stolen else ""
    style = "bold red" if stolen else "cyan"
    # After an attack the two ends are people the attacker listens to.
    who = ("client" if client_side else "server") if stolen else direction
    if link.http.is_http:
        for sighting in sightings:
            first, *rest = sighting.lines()
            # "HTTP request: GET / …", "HTTP body of GET /: 12 bytes …"
            label = "HTTP" if sighting.kind == "body" else f"HTTP {sighting.kind}{how}:"
            link.log(
                f"{who} {label} {first}",
                style=style,
                kind="http",
                direction=direction,
                http=sighting.kind,
                first_line=sighting.first_line,
                headers=[list(pair) for pair in sighting.headers],
                stolen=stolen,
            )
            for line in rest:
                link.console.line(f"    {line}", style=style, prefix=link.prefix)
        return
    text = bytes(data).decode("utf-8", errors="replace")
    link.log(
        f"{who} says{how}: {text!r}" if stolen else f"{who} plaintext: {text!r}",
        style=style,
        kind="stolen" if stolen else "plaintext",
        direction=direction,
        text=text,
    )


def _rewrite(data: bytes, rules: list[tuple[bytes, bytes]]) -> bytes:
    for old, new in rules:
        data = data.replace(old, new)
    return data


async def _relay_direction(
    link: _Link,
    direction: str,
    source: trio.abc.Stream,
    sink: trio.abc.HalfCloseableStream,
    rewrite: list[tuple[bytes, bytes]],
) -> None:
    reader = RecordReader()
    plaintext: bool | None = None  # decided on the first bytes
    while data := bytes(await source.receive_some(65536)):
        if plaintext is None:
            plaintext = not (data[0] in (21, 22, 23) and data[1:3] in (b"\x01\x00", b"\x01", b""))
            if plaintext:
                link.log(
                    f"{direction}: not toytls — plaintext, readable and changeable", style="yellow"
                )
        if plaintext:
            _show_plaintext(link, direction, data, stolen=False)
            changed = _rewrite(data, rewrite)
            if changed != data:
                link.log(
                    f"{direction}: changed it to {changed.decode('utf-8', 'replace')!r}",
                    style="bold magenta",
                    kind="tampered",
                    direction=direction,
                )
            await sink.send_all(changed)
            continue
        if link.cut.is_set():
            continue  # the attacker has cut the line: swallow what still comes
        reader.feed(data)
        try:
            while (record := reader.next_record(MAX_CIPHERTEXT)) is not None:
                link.log(
                    f"{direction} {_describe_record(record)}",
                    kind="record",
                    direction=direction,
                    content_type=record.content_type.name.lower(),
                    length=len(record.fragment),
                )
                if direction == _TO_SERVER and record.content_type is ContentType.ALERT:
                    _client_alert(link, record)
                for out in _attack_record(link, direction, record):
                    await sink.send_all(out)
                if link.cut.is_set():
                    # A bare TCP end (FIN) towards the client, no close_notify.
                    # Closing outright could turn into a reset and hide the
                    # truncation behind "connection reset".
                    await sink.send_eof()
                    return
        except ToyTLSError as exc:
            link.log(
                f"{direction}: unparseable bytes ({exc}); passing them on as they are",
                style="yellow",
            )
            plaintext = True
    await sink.send_eof()


async def _relay_guarded(
    link: _Link,
    direction: str,
    source: trio.SocketStream,
    sink: trio.SocketStream,
    rewrite: list[tuple[bytes, bytes]],
) -> None:
    try:
        await _relay_direction(link, direction, source, sink, rewrite)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass  # one side went away; the other direction ends on its own


async def _relay(
    link: _Link,
    client: trio.SocketStream,
    server: trio.SocketStream,
    rewrite: list[tuple[bytes, bytes]],
) -> None:
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_relay_guarded, link, _TO_SERVER, client, server, rewrite)
        nursery.start_soon(_relay_guarded, link, _TO_CLIENT, server, client, rewrite)


# ------------------------------------------------------ man in the middle


async def _read_client_hello(
    link: _Link, client: trio.SocketStream
) -> tuple[bytes, ClientHello] | None:
    reader = RecordReader()
    received = b""
    while True:
        data = await client.receive_some(65536)
        if not data:
            return None
        received += data
        reader.feed(data)
        try:
            record = reader.next_record(MAX_CIPHERTEXT)
            if record is None:
                continue
            message = parse_message(record.fragment)
        except ToyTLSError as exc:
            link.log(
                f"the client did not start with a ClientHello ({exc}); dropping it", style="yellow"
            )
            return None
        if not isinstance(message, ClientHello):
            link.log("the client did not start with a ClientHello; dropping it", style="yellow")
            return None
        return received, message


class _Quiet:
    """Silence the attacker's own no-verification warning: he means it."""

    def __enter__(self) -> None:
        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("ignore", ToyTLSInsecureWarning)

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._catch.__exit__(t, e, tb)


async def _pipe(
    link: _Link,
    direction: str,
    source: trio.abc.HalfCloseableStream,
    sink: trio.abc.HalfCloseableStream,
) -> None:
    try:
        while data := await source.receive_some():
            _show_plaintext(link, direction, data, stolen=True)
            await sink.send_all(data)
        await sink.send_eof()
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass


async def _mitm(link: _Link, client: trio.SocketStream, server: trio.SocketStream) -> None:
    assert link.kit is not None
    hello = await _read_client_hello(link, client)
    if hello is None:
        return
    received, client_hello = hello
    name = client_hello.server_name
    link.log(f"the client asks for {name!r}; connecting to the real server as that name")
    console = link.console

    def narrate(side: str, role: str) -> Callable[[ev.Event], None]:
        def handler(event: ev.Event) -> None:
            if console.json_mode or console.level >= 2 or console.hexdump:
                console.event(event, side=side, prefix=f"{link.prefix}[{side}] ", role=role)

        return handler

    upstream_context = Context()
    upstream_context.verify = False
    upstream = ToyTLSStream(
        server,
        upstream_context,
        server_hostname=name,
        event_handler=narrate("proxy-upstream", "client"),
    )
    with _Quiet():
        await upstream.do_handshake()
    chain = forged_chain(link.mode, link.kit, upstream.session.certificate_chain, name)
    link.log(
        f"{DESCRIPTIONS[link.mode]}; presenting it to the client",
        style="bold magenta",
        kind="forged",
        certificates=len(chain),
    )

    stolen: list[ev.KeysDerived] = []
    saw_key_exchange: list[bool] = []
    client_narration = narrate("proxy-client", "server")

    def client_side_event(event: ev.Event) -> None:
        if isinstance(event, ev.KeysDerived):
            stolen.append(event)
        if isinstance(event, ev.HandshakeMessageReceived) and event.message.msg_type == 16:
            saw_key_exchange.append(True)
        client_narration(event)

    context = Context(server_side=True)
    context.certificate_chain = chain
    context.private_key = link.kit.key
    victim = ToyTLSStream(
        PrefixedStream(client, received), context, server_side=True, event_handler=client_side_event
    )
    try:
        await victim.do_handshake()
    except trio.BrokenResourceError as exc:
        _report_failure(link, exc.__cause__, bool(saw_key_exchange))
        await upstream.aclose()
        return
    secret = stolen[0].secret
    link.log(
        f"ATTACK SUCCEEDED: the client accepted the forged certificate and sent key X "
        f"encrypted to the attacker's B+. Decrypted with B−: X = {secret.hex()}",
        style="bold red",
        kind="attack_succeeded",
        secret=secret.hex(),
        client_write_key=stolen[0].schedule.client_write_key.hex(),
        server_write_key=stolen[0].schedule.server_write_key.hex(),
    )
    schedule = stolen[0].schedule
    link.log(
        f"keys derived from X: client→server {schedule.client_write_key.hex()}, "
        f"server→client {schedule.server_write_key.hex()}; every message below is read "
        "and re-encrypted, and neither side can tell",
        style="red",
    )
    async with victim, upstream, trio.open_nursery() as nursery:
        nursery.start_soon(_pipe, link, _TO_SERVER, victim, upstream)
        nursery.start_soon(_pipe, link, _TO_CLIENT, upstream, victim)


def _report_failure(link: _Link, cause: BaseException | None, saw_key_exchange: bool) -> None:
    alert = None
    if isinstance(cause, ToyTLSError) and cause.from_peer and cause.alert is not None:
        alert = cause.alert_name
        meaning = alert_meaning(int(cause.alert), link.console.lang)
        reason = f"the client refused with alert {alert}: {meaning}"
    else:
        reason = str(cause) if cause else "the connection broke"
    note = "" if saw_key_exchange else " The client never sent key X."
    link.log(
        f"attack failed: {reason}.{note}",
        style="bold green",
        kind="attack_failed",
        alert=alert,
        reason=reason,
        client_key_exchange_seen=saw_key_exchange,
    )


# ---------------------------------------------------------------- runner


async def _handle(
    client: trio.SocketStream,
    *,
    mode: Mode,
    console: Console,
    upstream: tuple[str, int],
    kit: AttackerKit | None,
    counter: itertools.count[int],
    rewrite: list[tuple[bytes, bytes]],
) -> None:
    link = _Link(number=next(counter), mode=mode, console=console, upstream=upstream, kit=kit)
    link.log(f"client connected; mode {mode.value}", kind="connect")
    try:
        server = await trio.open_tcp_stream(*upstream)
    except OSError as exc:
        link.log(
            f"cannot reach the real server at {upstream[0]}:{upstream[1]}: {exc.strerror or exc}",
            style="yellow",
            kind="upstream_failed",
        )
        await client.aclose()
        return
    try:
        async with client, server:
            if mode.is_man_in_the_middle:
                await _mitm(link, client, server)
            else:
                await _relay(link, client, server, rewrite)
    except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
        cause = exc.__cause__
        link.log(f"connection broke: {cause or exc}", style="yellow", kind="broken")
    except Exception as exc:  # one bad connection must not stop the proxy
        link.log(
            f"internal error: {type(exc).__name__}: {exc}", style="yellow", kind="internal_error"
        )
    link.log("closed", kind="disconnect")


async def serve(
    options: ProxyOptions,
    console: Console,
    kit: AttackerKit | None,
    *,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Listen and attack until cancelled."""
    mode = Mode(options.mode)
    host, port = parse_address(options.listen, what="--listen")
    upstream = parse_address(options.upstream, what="--upstream")
    rewrite = [_split_rule(rule) for rule in options.rewrite]
    listeners = await trio.open_tcp_listeners(port, host=host)
    handler = functools.partial(
        _handle,
        mode=mode,
        console=console,
        upstream=upstream,
        kit=kit,
        counter=itertools.count(1),
        rewrite=rewrite,
    )
    announce_listening(
        console,
        listeners,
        task_status,
        f"attacker listening on {{address}}, forwarding to {upstream[0]}:{upstream[1]}; "
        f"mode {mode.value}: {DESCRIPTIONS[mode]}",
        mode=mode.value,
    )
    await trio.serve_listeners(handler, listeners)


def _split_rule(rule: str) -> tuple[bytes, bytes]:
    old, sep, new = rule.partition("=")
    if not sep or not old:
        raise ValueError(f"--rewrite takes OLD=NEW, not {rule!r}")
    return old.encode(), new.encode()


def run(options: ProxyOptions, console: Console) -> int:
    """The ``toytls proxy`` command."""
    try:
        mode = Mode(options.mode)
        parse_address(options.listen, what="--listen")
        parse_address(options.upstream, what="--upstream")
        for rule in options.rewrite:
            _split_rule(rule)
        kit = load_attacker_kit(options.certs) if mode.is_man_in_the_middle else None
    except (OSError, ValueError) as exc:  # missing, a directory, unreadable, garbage
        console.error(usage_error_text(exc))
        return EXIT_USAGE
    return serve_until_stopped(
        serve, options, console, kit, console=console, address=options.listen, what="proxy"
    )
