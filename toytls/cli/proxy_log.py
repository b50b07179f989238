"""How ``toytls proxy`` shows its outcomes: log lines, and the JSON derived from them.

Each :mod:`toytls.attacker.outcomes` event becomes one or more timestamped
lines (mitmproxy style) and, for most, one JSON object whose ``event`` name
and keys are the proxy's documented output. Both are derived here from the
outcome object alone (and the console's language), so the text, the JSON and
the demo, which reads the objects, cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..attacker import outcomes as out
from ..attacker.modes import DESCRIPTIONS, Mode
from ..attacker.policy import readable_alert, readable_message
from ..core.constants import ContentType, alert_name
from ..core.messages import ClientHello
from ..core.records import RawRecord
from ..story.narration import alert_meaning, short_hex
from .common import host_port
from .console import Console
from .proxy_log_texts import (
    ACCEPTED,
    ALERTS_AFTER,
    ALTERED,
    CHANGE,
    DIRECTION_ZH,
    ENCRYPTED_ALERT,
    ENDED,
    FORGED_ZH,
    HTTP_KIND_ZH,
    LINES,
    NOTHING_ALTERED,
    OS_REASONS_ZH,
    PASSED_ON,
    REFUSED,
    SUCCEEDED,
    WHO,
    say,
)


@dataclass
class _Shown:
    """An outcome as the console shows it."""

    #: (text, style) lines; the first is the outcome's line
    lines: Sequence[tuple[str, str | None]]
    #: the JSON event name, or None for a text-only outcome
    kind: str | None = None
    #: the JSON keys after ``connection``
    fields: dict[str, object] = field(default_factory=dict)


def show(outcome: out.Outcome, console: Console) -> None:
    """Print ``outcome`` on ``console``: its lines, and its JSON object in JSON mode."""
    shown = _SHOWERS[type(outcome)](outcome, console.lang)
    prefix = f"#{outcome.connection} "
    for text, style in shown.lines:
        console.line(text, style=style, prefix=prefix)
    if shown.kind is not None:
        console.record(shown.kind, connection=outcome.connection, **shown.fields)


def json_of(outcome: out.Outcome, lang: str = "en") -> dict[str, object] | None:
    """The JSON object ``outcome`` is shown as (without ``time``), or None."""
    shown = _SHOWERS[type(outcome)](outcome, lang)
    if shown.kind is None:
        return None
    return {"event": shown.kind, "connection": outcome.connection, **shown.fields}


def describe_record(record: RawRecord, lang: str = "en") -> str:
    """What a relayed record is, as far as the attacker can tell, in ``lang``."""
    kind = record.content_type.name.lower()
    size = len(record.fragment)
    message = readable_message(record)
    if isinstance(message, ClientHello):
        return say("record_hello", lang, kind=kind, name=message.server_name, size=size)
    if message is not None:
        return say("record_message", lang, kind=kind, name=type(message).__name__, size=size)
    if record.content_type is ContentType.HANDSHAKE:
        return say("record_encrypted", lang, kind=kind, size=size)
    code = readable_alert(record)
    if code is not None:
        return say("record_alert", lang, name=alert_name(code))
    return say("record_ciphertext", lang, kind=kind, size=size, hex=short_hex(record.fragment, 12))


def direction_text(direction: out.Direction, lang: str) -> str:
    """``client→server`` or ``server→client``, in ``lang``."""
    return DIRECTION_ZH[direction] if lang == "zh" else direction.value


def os_reason(code: int | None, text: str, lang: str) -> str:
    """Why a system call failed: the system's words, or in Chinese for known errnos."""
    if lang != "zh":
        return text
    known = OS_REASONS_ZH.get(code) if code is not None else None
    return known if known is not None else repr(text)


def _altered(o: out.DataAltered, lang: str) -> _Shown:
    if o.what is out.Alteration.REWRITE:
        text = say("rewrite", lang, direction=direction_text(o.direction, lang), text=o.text)
    else:
        text = ALTERED[o.what][lang == "zh"]
    return _Shown([(text, "bold magenta")], "tampered", {"direction": o.direction.value})


def _seen(o: out.PlaintextSeen, lang: str) -> _Shown:
    fields: dict[str, object] = {"direction": o.direction.value, "text": o.text}
    if o.hex:
        fields["hex"] = o.hex
    raw = say("not_utf8", lang, hex=o.hex) if o.hex else ""
    if o.stolen:
        who = WHO[o.direction][lang == "zh"]
        return _Shown(
            [(say("stolen", lang, who=who, text=o.text) + raw, "bold red")], "stolen", fields
        )
    where = direction_text(o.direction, lang)
    line = (say("plaintext", lang, direction=where, text=o.text) + raw, "cyan")
    return _Shown([line], "plaintext", fields)


def _http(o: out.HttpSeen, lang: str) -> _Shown:
    style = "bold red" if o.stolen else "cyan"
    # After an attack the two ends are people the attacker listens to.
    who = WHO[o.direction][lang == "zh"] if o.stolen else direction_text(o.direction, lang)
    first, *rest = o.lines
    if o.kind == "body":
        line = _http_body(who, first, o, lang)
    else:
        kind = HTTP_KIND_ZH.get(o.kind, o.kind) if lang == "zh" else o.kind
        line = say("http_stolen" if o.stolen else "http", lang, who=who, kind=kind, first=first)
    fields: dict[str, object] = {
        "direction": o.direction.value,
        "http": o.kind,
        "first_line": o.first_line,
        "headers": [list(pair) for pair in o.headers],
        "stolen": o.stolen,
    }
    lines = [(line, style), *((f"    {line}", style) for line in rest)]
    return _Shown(lines, "http", fields)


def _http_body(who: str, first: str, o: out.HttpSeen, lang: str) -> str:
    """A body's summary line: "HTTP body of GET /: 12 bytes …", or in Chinese."""
    if lang != "zh":
        return say("http_body", "en", who=who, first=first)
    label = o.body_of
    if o.body_reply:
        label = say("http_reply_to", lang, request=o.body_of, reply=o.body_reply)
    preview = first[len(o.first_line) :]
    return say("http_body", lang, who=who, label=label, size=o.body_size, preview=preview)


def _refusal(mode: Mode | None, alert: int, lang: str) -> str:
    """Why the client refused, as specific as the mode and alert allow."""
    specific = REFUSED.get((mode, alert)) if mode is not None else None
    if specific is not None:
        return specific[lang == "zh"]
    return alert_meaning(alert, lang, fatal=True)  # a refusal, never a clean end


def _refused(o: out.AttackRefused, lang: str) -> _Shown:
    why = _refusal(o.mode, o.alert, lang)
    text = say("refused", lang, alert=alert_name(o.alert), why=why)
    return _Shown([(text, "bold green")], "attack_failed", {"alert": alert_name(o.alert)})


def _succeeded(o: out.AttackSucceeded, lang: str) -> _Shown:
    zh = lang == "zh"
    secret, client, server = o.secret.hex(), o.client_write_key.hex(), o.server_write_key.hex()
    what = ACCEPTED.get(o.mode, ("the attacker's certificate", "攻击者的证书"))[zh]
    head, keys = SUCCEEDED
    lines = [
        (head[zh].format(what=what, secret=secret), "bold red"),
        (keys[zh].format(client=client, server=server), "red"),
    ]
    fields: dict[str, object] = {
        "secret": secret,
        "client_write_key": client,
        "server_write_key": server,
    }
    return _Shown(lines, "attack_succeeded", fields)


def _passed_on(o: out.KeyXPassedOn, lang: str) -> _Shown:
    zh = lang == "zh"
    client, server = o.client_leg_key.hex(), o.server_leg_key.hex()
    head, legs = PASSED_ON
    lines = [
        (head[zh].format(fingerprint=o.key_x_fingerprint), "bold red"),
        (legs[zh].format(client=client, server=server), "red"),
    ]
    fields: dict[str, object] = {
        "key_x_fingerprint": o.key_x_fingerprint,
        "client_leg_key": client,
        "server_leg_key": server,
    }
    return _Shown(lines, "key_x_passed_on", fields)


def failure_reason(o: out.AttackFailed, lang: str) -> str:
    """Why a man-in-the-middle attack failed, in one phrase."""
    if o.alert is not None:
        why = _refusal(o.mode, int(o.alert), lang)
        return say("failure_refused", lang, alert=alert_name(o.alert), why=why)
    if o.sent_alert is not None:
        why = alert_meaning(int(o.sent_alert), lang, fatal=True)
        return say("failure_local", lang, detail=o.detail, alert=alert_name(o.sent_alert), why=why)
    return say("failure_silent", lang, detail=o.detail)


def _failed(o: out.AttackFailed, lang: str) -> _Shown:
    reason = failure_reason(o, lang)
    note = "" if o.client_key_exchange_seen else LINES["failed_no_key"][lang == "zh"]
    line = say("failed", lang, reason=reason, note=note)
    fields: dict[str, object] = {
        "alert": alert_name(o.alert) if o.alert is not None else None,
        "reason": reason,
        "client_key_exchange_seen": o.client_key_exchange_seen,
    }
    return _Shown([(line, "bold green")], "attack_failed", fields)


def _server_failed(o: out.ServerLegFailed, lang: str) -> _Shown:
    if o.alert is None:
        why = say("server_failed_silent", lang, detail=o.detail)
    else:
        key = "server_failed_alert" if o.from_peer else "server_failed_sent"
        meaning = alert_meaning(int(o.alert), lang, fatal=True)
        why = say(key, lang, alert=alert_name(o.alert), meaning=meaning)
    fields: dict[str, object] = {
        "alert": alert_name(o.alert) if o.alert is not None else None,
        "from_peer": o.from_peer,
        "reason": why,
    }
    return _Shown([(say("server_failed", lang, why=why), "yellow")], "server_failed", fields)


def _no_hello(o: out.NoClientHello, lang: str) -> _Shown:
    why = say("no_hello_why", lang, error=o.error) if o.error is not None else ""
    return _Shown([(say("no_hello", lang, why=why), "yellow")])


def _record(o: out.RecordRelayed, lang: str) -> _Shown:
    fields: dict[str, object] = {
        "direction": o.direction.value,
        "content_type": o.record.content_type.name.lower(),
        "length": len(o.record.fragment),
    }
    where, what = direction_text(o.direction, lang), describe_record(o.record, lang)
    return _Shown([(say("record", lang, direction=where, what=what), None)], "record", fields)


def _upstream(o: out.UpstreamUnreachable, lang: str) -> _Shown:
    reason = os_reason(o.errno, o.reason, lang)
    text = say("upstream", lang, address=host_port(*o.upstream), reason=reason)
    return _Shown([(text, "yellow")], "upstream_failed")


def _forged(o: out.ChainForged, lang: str) -> _Shown:
    description = FORGED_ZH[o.mode] if lang == "zh" else DESCRIPTIONS[o.mode]
    text = say("forged", lang, description=description)
    return _Shown([(text, "bold magenta")], "forged", {"certificates": o.certificates})


def _connected(o: out.ClientConnected, lang: str) -> _Shown:
    return _Shown([(say("connected", lang, mode=o.mode.value), None)], "connect")


def _plaintext_stream(o: out.PlaintextStream, lang: str) -> _Shown:
    text = say("plaintext_stream", lang, direction=direction_text(o.direction, lang))
    return _Shown([(text, "yellow")])


def _unparseable(o: out.UnparseableRecords, lang: str) -> _Shown:
    error = o.error
    if lang == "zh" and o.alert is not None:
        error = f"{alert_name(o.alert)}：{alert_meaning(o.alert, lang)}"
    elif lang == "zh":
        error = repr(o.error)
    where = direction_text(o.direction, lang)
    return _Shown([(say("unparseable", lang, direction=where, error=error), "yellow")])


def _encrypted_alert(o: out.EncryptedAlertSeen, lang: str) -> _Shown:
    zh = lang == "zh"
    if o.after is None:
        text, style = ENCRYPTED_ALERT["plain"][zh], None
    else:
        text = ENCRYPTED_ALERT["after"][zh].format(change=CHANGE[o.after][zh])
        style = "green"
    fields: dict[str, object] = {} if o.after is None else {"after": o.after.value}
    return _Shown([(text, style)], "client_alert_encrypted", fields)


def _alerts(o: out.AlterationEnded, lang: str) -> str:
    """What the attacker saw after his change: who sent encrypted alerts."""
    client, server = o.client_alerts_after > 0, o.server_alerts_after > 0
    key = "both" if client and server else "client" if client else "server" if server else "none"
    return ALERTS_AFTER[key][lang == "zh"]


def _ended(o: out.AlterationEnded, lang: str) -> _Shown:
    key: str | None = {
        out.Alteration.FLIP: "flip",
        out.Alteration.REPLAY: "replay",
        out.Alteration.TRUNCATE: "truncate",
    }.get(o.what)
    if o.what is out.Alteration.TAMPER_CERTIFICATE:
        key = "tamper_unchecked" if o.key_exchange_after else "tamper_no_key"
    if key is None:
        return _Shown([])
    text = ENDED[key][lang == "zh"].format(seen=_alerts(o, lang))
    fields: dict[str, object] = {
        "what": o.what.value,
        "key_exchange_after": o.key_exchange_after,
        "client_alerts_after": o.client_alerts_after,
        "server_alerts_after": o.server_alerts_after,
    }
    return _Shown([(text, "bold green")], "alteration_ended", fields)


def _nothing(o: out.NothingAltered, lang: str) -> _Shown:
    text = NOTHING_ALTERED[o.mode][lang == "zh"]
    return _Shown([(text, "green")], "nothing_altered", {"mode": o.mode.value})


def _hello(o: out.ClientHelloSeen, lang: str) -> _Shown:
    return _Shown([(say("hello", lang, name=o.server_name), None)])


def _broke(o: out.ConnectionBroke, lang: str) -> _Shown:
    reason = os_reason(o.errno, o.reason, lang)
    return _Shown([(say("broke", lang, reason=reason), "yellow")], "broken")


def _internal(o: out.InternalError, lang: str) -> _Shown:
    return _Shown([(say("internal", lang, error=o.error), "yellow")], "internal_error")


def _closed(o: out.ConnectionClosed, lang: str) -> _Shown:
    return _Shown([(say("closed", lang), None)], "disconnect")


#: outcome type -> how it is shown (each function takes that type and the language)
_SHOWERS: dict[type[Any], Callable[[Any, str], _Shown]] = {
    out.ClientConnected: _connected,
    out.UpstreamUnreachable: _upstream,
    out.PlaintextStream: _plaintext_stream,
    out.UnparseableRecords: _unparseable,
    out.RecordRelayed: _record,
    out.DataAltered: _altered,
    out.AttackRefused: _refused,
    out.EncryptedAlertSeen: _encrypted_alert,
    out.AlterationEnded: _ended,
    out.NothingAltered: _nothing,
    out.PlaintextSeen: _seen,
    out.HttpSeen: _http,
    out.NoClientHello: _no_hello,
    out.ClientHelloSeen: _hello,
    out.ChainForged: _forged,
    out.AttackSucceeded: _succeeded,
    out.KeyXPassedOn: _passed_on,
    out.AttackFailed: _failed,
    out.ServerLegFailed: _server_failed,
    out.ConnectionBroke: _broke,
    out.InternalError: _internal,
    out.ConnectionClosed: _closed,
}
