"""``toytls client``: connect, check the certificate, talk — narrated.

With ``--message`` it sends one text, prints the reply and closes cleanly;
without, it sends each line typed on stdin and prints what comes back.
Every failure ends with one line that says why, and an exit status that
tells a refused certificate from a broken connection.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path

import trio
from cryptography import x509

from ..core import events as ev
from ..core.errors import CertificateVerifyError, ToyTLSError
from ..story.command_texts import command_text
from ..story.error_texts import describe_error
from ..streams.closing import close_cleanly
from ..streams.context import Context, create_default_context
from ..streams.stream import ToyTLSInsecureWarning, ToyTLSStream
from .common import (
    CLIENT_HANDSHAKE_TIMEOUT,
    EXIT_CERTIFICATE_REJECTED,
    EXIT_CONNECTION_FAILED,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    Unreachable,
    open_onwards,
    stdin_lines,
    stop_status,
    until_interrupted,
    usage_error_text,
)
from .console import Console, parse_address
from .inspect import show_chain_xray
from .keylog import check_writable, with_keylog
from .options import ClientOptions, TrustOptions
from .status_texts import status_text


class Failed(Exception):
    """Ends the session with an exit status and a one-line reason."""

    def __init__(
        self, status: int, reason: str, alert: str | None = None, *, short: str | None = None
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.alert = alert
        #: the last line when the narration has already told ``reason``
        self.short = short


#: The CA file ``--cafile`` names unless told otherwise (``toytls certs`` makes it).
DEFAULT_CAFILE = Path("certs/root.pem")


def _not_found(path: Path, trust: TrustOptions, lang: str) -> str:
    """A missing CA file: "run `toytls certs`" only for the default one, not a typed path."""
    if path == trust.cafile == DEFAULT_CAFILE:
        return status_text("cafile_missing_default", lang, path=path)
    return status_text("cafile_missing", lang, path=path)


def build_context(
    trust: TrustOptions, handshake_timeout: float = CLIENT_HANDSHAKE_TIMEOUT, lang: str = "en"
) -> Context:
    """The client context for ``trust``: its roots, or no checks with ``insecure``.

    The handshake must finish within ``handshake_timeout`` seconds (the
    library's client has no limit by default; a command does not wait
    forever for a silent server).

    The server name is checked now, so that a bad one is a usage error and
    not a failure of every connection.

    Raises:
        FileNotFoundError: The CA file or a --trust file is missing.
        ValueError: A file holds no readable certificate, or the server name
            is not one a client may ask for.
    """
    if trust.insecure:
        context = create_default_context()
        context.verify = False
        context.client_config(trust.server_name)
        context.handshake_timeout = handshake_timeout
        return context
    for path in (trust.cafile, *trust.trust):
        if not path.exists():
            raise FileNotFoundError(_not_found(path, trust, lang))
    context = create_default_context(cafile=trust.cafile)
    for extra in trust.trust:
        context.load_verify_locations(cafile=extra)
    context.client_config(trust.server_name)
    context.handshake_timeout = handshake_timeout
    return context


def hand_added_roots(trust: TrustOptions, context: Context) -> dict[str, str]:
    """The roots ``--trust`` added by hand: SHA-256 of the DER (hex) → subject.

    A root that is also in the CA file counts as built in. The narration
    names the root a chain was anchored at when it is one of these.
    """
    if trust.insecure or not trust.trust:
        return {}
    from cryptography.hazmat.primitives import hashes

    from ..pki.files import load_pem_certificates

    def sha256(certificate: x509.Certificate) -> str:
        return certificate.fingerprint(hashes.SHA256()).hex()

    added = {sha256(c): c.subject.rfc4514_string() for c in context.roots}
    built_in = load_pem_certificates(trust.cafile.read_bytes())
    for certificate in built_in:
        added.pop(sha256(certificate), None)
    return added


def failure_of(exc: BaseException, console: Console) -> Failed:
    """Why a client end's stream broke, with the exit status that says so.

    Args:
        exc: The ``trio.BrokenResourceError`` (its cause is the toytls error).
        console: For the language of the explanation.
    """
    cause = exc.__cause__
    lang = console.lang
    if isinstance(cause, CertificateVerifyError):
        name = cause.alert_name
        return Failed(
            EXIT_CERTIFICATE_REJECTED,
            describe_error(cause, console.lang),
            name,
            short=status_text("certificate_rejected_short", lang, alert=name),
        )
    if isinstance(cause, ToyTLSError):
        name = cause.alert_name
        if name is None:
            short = status_text("connection_failed_short", lang)
        else:
            short = status_text("connection_failed_alert", lang, alert=name)
        return Failed(EXIT_CONNECTION_FAILED, describe_error(cause, lang), name, short=short)
    return Failed(EXIT_CONNECTION_FAILED, status_text("connection_failed", lang, why=cause or exc))


#: How much of a ``--message`` reply the client keeps (and shows): 1 MiB.
REPLY_LIMIT = 1 << 20


async def _one_message(stream: trio.abc.HalfCloseableStream, text: str, console: Console) -> None:
    """Send ``text``, close_notify, and show the reply — its first :data:`REPLY_LIMIT` bytes.

    ``text`` is sent as it was typed: ``os.fsencode`` gives back the bytes
    of a command-line argument that was not UTF-8. The reply is read to its
    end (a clean close_notify, or a failure), whatever its length, but only
    its beginning is kept.
    """
    await stream.send_all(os.fsencode(text))
    # close_notify says "that was all": the echo server answers and closes.
    await stream.send_eof()
    kept = bytearray()
    total = 0
    while chunk := await stream.receive_some():
        total += len(chunk)
        if total - len(chunk) <= REPLY_LIMIT < total:
            # Said once, by the first chunk that does not fit — also when the
            # chunk before it filled the limit exactly.
            console.line(
                command_text("reply_limit", console.lang, limit=REPLY_LIMIT), style="yellow"
            )
            console.record("reply_limit", limit=REPLY_LIMIT)
        kept += chunk[: REPLY_LIMIT - len(kept)]
    reply = kept.decode("utf-8", "surrogateescape")
    console.line(status_text("reply", console.lang, text=reply), style="bold")
    if total > len(kept):
        console.line(
            command_text("reply_dropped", console.lang, total=total, limit=len(kept)),
            style="yellow",
        )
    console.record(
        "reply", text=kept.decode("utf-8", errors="replace"), bytes=total, kept=len(kept)
    )


async def _http(
    stream: trio.abc.HalfCloseableStream,
    request: tuple[str, str],
    host: str,
    console: Console,
) -> None:
    """One HTTP request: the head on the console, the body on stdout."""
    from .. import __version__
    from ..web.httpclient import HttpError, HttpResponse, http_request

    method, target = request
    body_out = sys.stdout.buffer
    last_byte = b"\n"

    def on_body(data: bytes) -> None:
        nonlocal last_byte
        if not console.json_mode and data:
            body_out.write(data)
            last_byte = data[-1:]

    def on_head(response: HttpResponse) -> None:
        console.line(f"< {response.status_line}", style="bold")
        for name, value in response.headers:
            console.line(f"< {name}: {value}")

    console.line(
        status_text("http_request", console.lang, method=method, target=target, host=host),
        style="cyan",
    )
    try:
        response = await http_request(
            stream,
            method=method,
            target=target,
            host=host,
            on_head=on_head,
            on_body=on_body,
            user_agent=f"toytls/{__version__}",
        )
    except HttpError as exc:
        raise Failed(EXIT_CONNECTION_FAILED, str(exc)) from None
    finally:
        body_out.flush()
    if last_byte != b"\n":
        print(file=sys.stdout, flush=True)  # what follows starts on a new line
    console.record(
        "http_response",
        status=response.status,
        reason=response.reason,
        headers=response.headers,
        body_bytes=response.body_size,
    )
    if response.status >= 400:
        answer = status_text("http_error_answer", console.lang, status=response.status_line)
        raise Failed(EXIT_FAILED, answer)


async def _interactive(stream: trio.abc.HalfCloseableStream, console: Console) -> None:
    broken: list[trio.BrokenResourceError] = []

    async def printer() -> None:
        while data := await stream.receive_some():
            # One console line per line received, each marked as the server's.
            for line in data.decode("utf-8", "surrogateescape").rstrip("\n").split("\n"):
                console.line(status_text("from_server", console.lang, line=line), style="bold")
            console.record("received", text=data.decode("utf-8", errors="replace").rstrip("\n"))
        console.line(status_text("server_closed", console.lang))

    async def typist() -> None:
        console.line(status_text("type_lines", console.lang))
        # Bytes, sent as typed: input that is not UTF-8 is not ours to refuse.
        async for line in stdin_lines():
            await stream.send_all(line)
        await stream.send_eof()
        await trio.sleep_forever()  # the printer ends the session

    async def guarded(task: Callable[[], Awaitable[None]], scope: trio.CancelScope) -> None:
        # Either side ending ends the session; a broken stream is reported
        # once, outside the nursery, so it is not wrapped in a group.
        try:
            await task()
        except trio.BrokenResourceError as exc:
            broken.append(exc)
        scope.cancel()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(guarded, printer, nursery.cancel_scope)
        nursery.start_soon(guarded, typist, nursery.cancel_scope)
    if broken:
        raise broken[0]


async def session(options: ClientOptions, console: Console, context: Context | None) -> None:
    """Connect, handshake and talk as ``options`` say.

    Raises:
        Failed: With the exit status and the reason.
    """
    host, port = parse_address(options.connect, what="--connect", lang=console.lang)
    server_name = options.trust.server_name
    try:
        tcp = await open_onwards(host, port, console.lang, toytls_server=True)
    except Unreachable as exc:
        raise Failed(EXIT_CONNECTION_FAILED, str(exc)) from None
    stream: trio.abc.HalfCloseableStream = tcp
    told: list[ev.ConnectionFailed] = []  # failures the narration has told
    if context is not None:

        def on_event(event: ev.Event) -> None:
            if isinstance(event, ev.ConnectionFailed):
                told.append(event)
            console.event(event, side="client")
            show_chain_xray(console, event, context.roots)  # -vv: each certificate seen through

        handler = with_keylog(on_event, options.keylog, console.warn, console.lang)
        stream = ToyTLSStream(tcp, context, server_hostname=server_name, event_handler=handler)
    try:
        try:
            if isinstance(stream, ToyTLSStream):
                with warnings.catch_warnings():
                    # run() has said it once, in the chosen language: the
                    # library's own warning would say it again, in English.
                    warnings.simplefilter("ignore", ToyTLSInsecureWarning)
                    await stream.do_handshake()
            if options.http is not None:
                await _http(stream, options.http, server_name, console)
            elif options.message is not None:
                await _one_message(stream, options.message, console)
            else:
                await _interactive(stream, console)
        finally:
            # Bounded, and shielded so that Ctrl-C still sends close_notify:
            # a client stopped by its user has sent all it meant to.
            await close_cleanly(stream)
    except trio.BrokenResourceError as exc:
        failure = failure_of(exc, console)
        if not told:
            failure.short = None  # no narration line said why: the last line must
        raise failure from None


def run(options: ClientOptions, console: Console) -> int:
    """The ``toytls client`` command.

    Returns:
        0, or the status of :class:`Failed` (1 an HTTP error answer, 3 a
        rejected certificate, 4 a connection or protocol failure — a server
        that does not finish the handshake in time included), 2 for a bad
        flag value or file, 130 for Ctrl-C and 143 for SIGTERM (after
        sending close_notify, within a second, if the connection was up).
    """
    try:
        parse_address(options.connect, what="--connect", lang=console.lang)
        if options.http is not None:
            from ..web.httpclient import make_request

            make_request(*options.http, options.trust.server_name)
        context = None if options.plaintext else build_context(options.trust, lang=console.lang)
        if context is not None:
            console.hand_roots = hand_added_roots(options.trust, context)
        check_writable(options.keylog)
    except (OSError, ValueError) as exc:  # missing, a directory, unreadable, garbage
        console.error(usage_error_text(exc, console.lang))
        return EXIT_USAGE
    if options.trust.insecure:
        console.warn(status_text("client_insecure", console.lang))
    if options.plaintext:
        console.warn(status_text("client_plaintext", console.lang))
    try:
        interrupted = trio.run(until_interrupted, session, options, console, context)
    except Failed as failure:
        # The narration's verdict or "connection failed" line has told the
        # reason already; say it once.
        told = failure.short is not None and not console.json_mode
        console.error(failure.short if told and failure.short else failure.reason)
        console.record(
            "result",
            status="failed",
            exit=failure.status,
            reason=failure.reason,
            alert=failure.alert,
        )
        return failure.status
    if interrupted is not None:
        status = stop_status(interrupted)
        console.error(status_text("interrupted", console.lang))
        console.record("result", status="interrupted", exit=status)
        return status
    console.record("result", status="ok", exit=EXIT_OK)
    return EXIT_OK
