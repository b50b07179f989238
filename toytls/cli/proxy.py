"""``toytls proxy``: the attacker in the middle, one mode per attack.

Two ways of working, chosen by the mode:

* **Relay** (watch, tamper-cert, flip, replay, truncate; :mod:`.proxy_relay`):
  bytes pass through record by record — split with the same
  :class:`~toytls.core.records.RecordReader` the endpoints use — and the
  attack changes, repeats or drops some.
* **Man in the middle** (swap-key, swap-cert, self-signed, own-ca;
  :mod:`.proxy_mitm`): the proxy reads the client's ClientHello, opens its
  own connection to the real server (to learn the real chain), then answers
  the client as a toytls server with a forged chain and the attacker's key
  pair M+/M−. If the client accepts, the proxy holds key X and relays — and
  prints — every message in plaintext; if not, it says why the attack failed.

What to do with each record is decided by the pure functions of
:mod:`toytls.attacker.policy`; what happened is reported as the typed
outcomes of :mod:`toytls.attacker.outcomes`, which :mod:`.proxy_log` turns
into one timestamped line each, mitmproxy style, or JSON with ``--json``.
"""

from __future__ import annotations

import functools
import itertools
from pathlib import Path

import trio

from ..attacker import outcomes as out
from ..attacker.modes import DESCRIPTIONS, Mode
from ..pki.files import (
    ATTACKER_KEY_FILE,
    ATTACKER_OTHER_NAME_FILE,
    ATTACKER_ROOT_CERT_FILE,
    ATTACKER_ROOT_KEY_FILE,
    load_attacker_kit,
)
from ..pki.generate import AttackerKit
from ..story.command_texts import command_text
from .common import (
    EXIT_USAGE,
    announce_listening,
    cut,
    host_port,
    is_stop,
    serve_until_stopped,
)
from .console import Console, parse_address
from .options import ProxyOptions
from .proxy_capture import PcapFile, capture_client
from .proxy_link import Link, OnOutcome
from .proxy_log import os_reason
from .proxy_log_texts import ERRORS, MODE_ZH
from .proxy_mitm import mitm
from .proxy_relay import relay


async def _handle(
    client: trio.SocketStream,
    *,
    mode: Mode,
    console: Console,
    upstream: tuple[str, int],
    kit: AttackerKit | None,
    counter: itertools.count[int],
    rewrite: list[tuple[bytes, bytes]],
    on_outcome: OnOutcome | None,
    pcap: PcapFile | None = None,
) -> None:
    link = Link(number=next(counter), mode=mode, console=console, kit=kit, on_outcome=on_outcome)
    link.report(out.ClientConnected(connection=link.number, mode=mode))
    try:
        server = await trio.open_tcp_stream(*upstream)
    except OSError as exc:
        reason = str(exc.strerror or exc)
        link.report(
            out.UpstreamUnreachable(
                connection=link.number, upstream=upstream, reason=reason, errno=_errno(exc)
            )
        )
        await client.aclose()
        link.report(out.ConnectionClosed(connection=link.number))  # every connection ends so
        return
    watched = capture_client(client, pcap)  # --pcap: every client-facing byte passes here
    try:
        async with client, server:
            try:
                if mode.is_man_in_the_middle:
                    await mitm(link, watched, server)
                else:
                    await relay(link, watched, server, rewrite)
            except BaseException as exc:
                if is_stop(exc):
                    await _cut(link, client, server)
                raise
    except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
        reason = str(exc.__cause__ or exc)
        link.report(
            out.ConnectionBroke(connection=link.number, reason=reason, errno=_errno(exc.__cause__))
        )
    except Exception as exc:  # one bad connection must not stop the proxy
        error = f"{type(exc).__name__}: {exc}"
        link.report(out.InternalError(connection=link.number, error=error))
    ending = link.policy.ending(link.number)
    if ending is not None:
        link.report(ending)
    link.report(out.ConnectionClosed(connection=link.number))


def _errno(exc: BaseException | None) -> int | None:
    """The error number behind ``exc``: its own, or the first of the attempts trio gathered."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return exc.errno
    cause = exc.__cause__ if exc is not None else None
    if isinstance(cause, BaseExceptionGroup):
        return _errno(cause.exceptions[0])
    return _errno(cause) if cause is not None else None


async def _cut(link: Link, client: trio.SocketStream, server: trio.SocketStream) -> None:
    """The proxy is stopped with this connection open: reset both sides, and say so.

    A relay cannot know whether data was in flight, so it must not pass the
    stop on as a clean end that either side could take for all the data.
    """
    await cut(client, server)
    console = link.console
    console.line(command_text("cut_proxy", console.lang), style="yellow", prefix=link.prefix)
    console.record("cut", connection=link.number)


async def serve(
    options: ProxyOptions,
    console: Console,
    kit: AttackerKit | None,
    *,
    on_outcome: OnOutcome | None = None,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Listen on ``options.listen`` and attack every connection until cancelled.

    Args:
        options: The mode, the addresses and the rewrite rules.
        console: Where the outcomes are shown.
        kit: The attacker's key and certificates (man-in-the-middle modes).
        on_outcome: Also called with every outcome, as an object (the demo).
        task_status: Receives the port actually bound (for port 0).

    Raises:
        OSError: The address cannot be listened on.
        ValueError: An address or rewrite rule in ``options`` is malformed.
    """
    mode = Mode(options.mode)
    host, port = parse_address(options.listen, what="--listen")
    upstream = parse_address(options.upstream, what="--upstream")
    rewrite = [_split_rule(rule) for rule in options.rewrite]
    listeners = await trio.open_tcp_listeners(port, host=host)
    pcap = PcapFile(options.pcap) if options.pcap is not None else None
    handler = functools.partial(
        _handle,
        mode=mode,
        console=console,
        upstream=upstream,
        kit=kit,
        counter=itertools.count(1),
        rewrite=rewrite,
        on_outcome=on_outcome,
        pcap=pcap,
    )
    announce_listening(
        console,
        listeners,
        task_status,
        _start_line(mode, host_port(*upstream), console.lang),
        mode=mode.value,
    )
    try:
        await trio.serve_listeners(handler, listeners)
    finally:
        if pcap is not None:
            pcap.close()


def _start_line(mode: Mode, upstream: str, lang: str) -> str:
    """Where the proxy listens, what it does, and how to stop it, in ``lang``."""
    if lang == "zh":
        return (
            f"攻击者在 {{address}} 监听，转发到 {upstream}；"
            f"模式 {mode.value}：{MODE_ZH[mode.value]}；按 Ctrl-C 停止"
        )
    return (
        f"attacker listening on {{address}}, forwarding to {upstream}; "
        f"mode {mode.value}: {DESCRIPTIONS[mode]}; Ctrl-C stops"
    )


def _split_rule(rule: str) -> tuple[bytes, bytes]:
    old, sep, new = rule.partition("=")
    if not sep or not old:
        raise ValueError(ERRORS["rewrite"][0].format(rule=rule))
    return old.encode(), new.encode()


def _bad_option(options: ProxyOptions, lang: str) -> str | None:
    """What is wrong with an address or a rewrite rule, in ``lang``; None if nothing."""
    zh = lang == "zh"
    for text, what in ((options.listen, "--listen"), (options.upstream, "--upstream")):
        try:
            parse_address(text, what=what)
        except ValueError:
            return ERRORS["address"][zh].format(what=what, text=text)
    for rule in options.rewrite:
        try:
            _split_rule(rule)
        except ValueError:
            return ERRORS["rewrite"][zh].format(rule=rule)
    return None


#: The files :func:`load_attacker_kit` reads, in its order.
_KIT_FILES = (
    ATTACKER_ROOT_CERT_FILE,
    ATTACKER_OTHER_NAME_FILE,
    ATTACKER_KEY_FILE,
    ATTACKER_ROOT_KEY_FILE,
)


def _load_kit(directory: Path, lang: str) -> tuple[AttackerKit | None, str | None]:
    """The attacker's key and certificates from ``directory``, or why they cannot be read."""
    zh = lang == "zh"
    for name in _KIT_FILES:
        if not (directory / name).exists():
            return None, ERRORS["kit_missing"][zh].format(path=directory / name)
    try:
        return load_attacker_kit(directory), None
    except OSError as exc:  # unreadable
        return None, _file_error(exc, directory, lang)
    except ValueError as exc:  # garbage
        return None, ERRORS["kit_bad"][zh].format(directory=directory, error=exc)


def _file_error(exc: OSError, path: Path, lang: str) -> str:
    """Why ``path`` (or a file in it) cannot be used, in ``lang``."""
    where = exc.filename if exc.filename is not None else path
    reason = os_reason(exc.errno, str(exc.strerror or exc), lang)
    return ERRORS["file"][lang == "zh"].format(path=where, reason=reason)


def run(options: ProxyOptions, console: Console) -> int:
    """The ``toytls proxy`` command.

    Returns:
        0 when stopped, 1 if it cannot listen, 2 for a bad address, rule or
        attacker kit (one error line).
    """
    mode = Mode(options.mode)
    problem = _bad_option(options, console.lang)
    kit: AttackerKit | None = None
    if problem is None and mode.is_man_in_the_middle:
        kit, problem = _load_kit(options.certs, console.lang)
    if problem is None and options.pcap is not None:
        try:
            PcapFile(options.pcap).close()  # writable? (serve starts it afresh)
        except OSError as exc:  # missing directory, a directory, no permission
            problem = _file_error(exc, options.pcap, console.lang)
    if problem is not None:
        console.error(problem)
        return EXIT_USAGE
    return serve_until_stopped(
        serve, options, console, kit, console=console, address=options.listen, what="proxy"
    )
