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
from .console import Console
from .proxy_log_texts import ACCEPTED, ALERTS_AFTER, CHANGE, ENCRYPTED_ALERT, ENDED, REFUSED


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


def describe_record(record: RawRecord) -> str:
    """What a relayed record is, as far as the attacker can tell."""
    kind = record.content_type.name.lower()
    size = len(record.fragment)
    message = readable_message(record)
    if message is not None:
        name = type(message).__name__
        if isinstance(message, ClientHello):
            name += f" for {message.server_name!r}"
        return f"{kind} {name} ({size} bytes, readable)"
    if record.content_type is ContentType.HANDSHAKE:
        return f"{kind} ({size} bytes, encrypted)"
    code = readable_alert(record)
    if code is not None:
        return f"alert {alert_name(code)} (readable)"
    return f"{kind}, {size} bytes of ciphertext: {short_hex(record.fragment, 12)}"


_ALTERED = {
    out.Alteration.TAMPER_CERTIFICATE: (
        "tampered: changed one letter of the subject's name inside the signed part "
        "of the certificate; the CA's signature is unchanged"
    ),
    out.Alteration.FLIP: "flipped one bit of this record's ciphertext",
    out.Alteration.REPLAY: "sending this record a second time (replay)",
    out.Alteration.TRUNCATE: (
        "forwarding this record, then cutting both connections without close_notify"
    ),
}


def _altered(o: out.DataAltered, lang: str) -> _Shown:
    if o.what is out.Alteration.REWRITE:
        text = f"{o.direction.value}: changed it to {o.text!r}"
    else:
        text = _ALTERED[o.what]
    return _Shown([(text, "bold magenta")], "tampered", {"direction": o.direction.value})


def _seen(o: out.PlaintextSeen, lang: str) -> _Shown:
    if o.stolen:
        who = "client" if o.direction is out.Direction.TO_SERVER else "server"
        line = (f"{who} says (decrypted with key X): {o.text!r}", "bold red")
        return _Shown([line], "stolen", {"direction": o.direction.value, "text": o.text})
    line = (f"{o.direction.value} plaintext: {o.text!r}", "cyan")
    return _Shown([line], "plaintext", {"direction": o.direction.value, "text": o.text})


def _http(o: out.HttpSeen, lang: str) -> _Shown:
    style = "bold red" if o.stolen else "cyan"
    # After an attack the two ends are people the attacker listens to.
    who = o.direction.value
    if o.stolen:
        who = "client" if o.direction is out.Direction.TO_SERVER else "server"
    how = " (decrypted with key X)" if o.stolen else ""
    # "HTTP request: GET / …", "HTTP body of GET /: 12 bytes …"
    label = "HTTP" if o.kind == "body" else f"HTTP {o.kind}{how}:"
    first, *rest = o.lines
    fields: dict[str, object] = {
        "direction": o.direction.value,
        "http": o.kind,
        "first_line": o.first_line,
        "headers": [list(pair) for pair in o.headers],
        "stolen": o.stolen,
    }
    lines = [(f"{who} {label} {first}", style), *((f"    {line}", style) for line in rest)]
    return _Shown(lines, "http", fields)


def _refusal(mode: Mode | None, alert: int, lang: str) -> str:
    """Why the client refused, as specific as the mode and alert allow."""
    specific = REFUSED.get((mode, alert)) if mode is not None else None
    if specific is not None:
        return specific[lang == "zh"]
    return alert_meaning(alert, lang, fatal=True)  # a refusal, never a clean end


def _refused(o: out.AttackRefused, lang: str) -> _Shown:
    why = _refusal(o.mode, o.alert, lang)
    if lang == "zh":
        text = f"攻击失败：客户端以警报 {alert_name(o.alert)} 拒绝：{why}"
    else:
        text = f"attack failed: the client refused with alert {alert_name(o.alert)}: {why}"
    return _Shown([(text, "bold green")], "attack_failed", {"alert": alert_name(o.alert)})


def _succeeded(o: out.AttackSucceeded, lang: str) -> _Shown:
    secret, client, server = o.secret.hex(), o.client_write_key.hex(), o.server_write_key.hex()
    what = ACCEPTED.get(o.mode, ("the attacker's certificate", "攻击者的证书"))[lang == "zh"]
    lines: Sequence[tuple[str, str | None]]
    if lang == "zh":
        lines = [
            (
                f"攻击成功：客户端接受了{what}，用其中中间人的公钥 M+ 锁住密钥X 发了出来；"
                f"中间人用自己的私钥 M− 解开：X = {secret}",
                "bold red",
            ),
            (
                f"客户端这一段由 X 派生的密钥：客户端→服务器 {client}，服务器→客户端 {server}；"
                "下面的每条消息都被读出并重新加密，两端都察觉不到",
                "red",
            ),
        ]
    else:
        lines = [
            (
                f"ATTACK SUCCEEDED: the client accepted {what}, and sent key X locked with "
                "the attacker's public key M+ in it; opened with his private key "
                f"M−: X = {secret}",
                "bold red",
            ),
            (
                f"the client leg's keys derived from X: client→server {client}, server→client "
                f"{server}; every message below is read and re-encrypted, and neither side "
                "can tell",
                "red",
            ),
        ]
    fields: dict[str, object] = {
        "secret": secret,
        "client_write_key": client,
        "server_write_key": server,
    }
    return _Shown(lines, "attack_succeeded", fields)


def _passed_on(o: out.KeyXPassedOn, lang: str) -> _Shown:
    client, server = o.client_leg_key.hex(), o.server_leg_key.hex()
    if lang == "zh":
        lines = [
            (
                f"偷梁换柱完成：攻击者把同一个密钥X 用服务器真正的公钥 B+ 加密后转交给了服务器；"
                f"服务器的 X 与客户端的 X 相同（指纹 {o.key_x_fingerprint}）",
                "bold red",
            ),
            (
                f"但两段连接的记录密钥不同（客户端一段 {client}，服务器一段 {server}）："
                "密钥派生时混入了握手记录，而两边看到的证书和 ClientKeyExchange 不一样；"
                "攻击者握有 X，两套密钥都能算出，所以他逐条解密再重新加密",
                "red",
            ),
        ]
    else:
        lines = [
            (
                "偷梁换柱 complete: the attacker locked the same key X with the server's real "
                "B+ and passed it on; the server's X equals the client's X "
                f"(fingerprint {o.key_x_fingerprint})",
                "bold red",
            ),
            (
                f"yet the two legs' record keys differ (client leg {client}, server leg "
                f"{server}): the key schedule mixes in the transcript, and the two "
                "transcripts differ in the Certificate and the ClientKeyExchange; holding X, "
                "the attacker derives both and re-encrypts every record",
                "red",
            ),
        ]
    fields: dict[str, object] = {
        "key_x_fingerprint": o.key_x_fingerprint,
        "client_leg_key": client,
        "server_leg_key": server,
    }
    return _Shown(lines, "key_x_passed_on", fields)


def failure_reason(o: out.AttackFailed, lang: str) -> str:
    """Why a man-in-the-middle attack failed, in one phrase."""
    if o.alert is None:
        return o.detail
    why = _refusal(o.mode, int(o.alert), lang)
    if lang == "zh":
        return f"客户端以警报 {alert_name(o.alert)} 拒绝：{why}"
    return f"the client refused with alert {alert_name(o.alert)}: {why}"


def _failed(o: out.AttackFailed, lang: str) -> _Shown:
    reason = failure_reason(o, lang)
    if lang == "zh":
        note = "" if o.client_key_exchange_seen else "客户端始终没有发出密钥X。"
        line = f"攻击失败：{reason}。{note}"
    else:
        note = "" if o.client_key_exchange_seen else " The client never sent key X."
        line = f"attack failed: {reason}.{note}"
    fields: dict[str, object] = {
        "alert": alert_name(o.alert) if o.alert is not None else None,
        "reason": reason,
        "client_key_exchange_seen": o.client_key_exchange_seen,
    }
    return _Shown([(line, "bold green")], "attack_failed", fields)


def _no_hello(o: out.NoClientHello, lang: str) -> _Shown:
    why = f" ({o.error})" if o.error is not None else ""
    return _Shown([(f"the client did not start with a ClientHello{why}; dropping it", "yellow")])


def _record(o: out.RecordRelayed, lang: str) -> _Shown:
    fields: dict[str, object] = {
        "direction": o.direction.value,
        "content_type": o.record.content_type.name.lower(),
        "length": len(o.record.fragment),
    }
    return _Shown([(f"{o.direction.value} {describe_record(o.record)}", None)], "record", fields)


def _upstream(o: out.UpstreamUnreachable, lang: str) -> _Shown:
    host, port = o.upstream
    text = f"cannot reach the real server at {host}:{port}: {o.reason}"
    return _Shown([(text, "yellow")], "upstream_failed")


def _forged(o: out.ChainForged, lang: str) -> _Shown:
    text = f"{DESCRIPTIONS[o.mode]}; presenting it to the client"
    return _Shown([(text, "bold magenta")], "forged", {"certificates": o.certificates})


def _connected(o: out.ClientConnected, lang: str) -> _Shown:
    return _Shown([(f"client connected; mode {o.mode.value}", None)], "connect")


def _plaintext_stream(o: out.PlaintextStream, lang: str) -> _Shown:
    text = f"{o.direction.value}: not toytls — plaintext, readable and changeable"
    return _Shown([(text, "yellow")])


def _unparseable(o: out.UnparseableRecords, lang: str) -> _Shown:
    text = f"{o.direction.value}: unparseable bytes ({o.error}); passing them on as they are"
    return _Shown([(text, "yellow")])


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


def _hello(o: out.ClientHelloSeen, lang: str) -> _Shown:
    text = f"the client asks for {o.server_name!r}; connecting to the real server as that name"
    return _Shown([(text, None)])


def _broke(o: out.ConnectionBroke, lang: str) -> _Shown:
    return _Shown([(f"connection broke: {o.reason}", "yellow")], "broken")


def _internal(o: out.InternalError, lang: str) -> _Shown:
    return _Shown([(f"internal error: {o.error}", "yellow")], "internal_error")


def _closed(o: out.ConnectionClosed, lang: str) -> _Shown:
    return _Shown([("closed", None)], "disconnect")


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
    out.PlaintextSeen: _seen,
    out.HttpSeen: _http,
    out.NoClientHello: _no_hello,
    out.ClientHelloSeen: _hello,
    out.ChainForged: _forged,
    out.AttackSucceeded: _succeeded,
    out.KeyXPassedOn: _passed_on,
    out.AttackFailed: _failed,
    out.ConnectionBroke: _broke,
    out.InternalError: _internal,
    out.ConnectionClosed: _closed,
}
