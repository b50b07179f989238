"""``toytls decode``'s output: decoded conversations as lines (English or Chinese) or JSON.

Reads :mod:`toytls.story.decode`'s results; returns ``(text, style)`` lines
and plain dicts. Never prints.
"""

from __future__ import annotations

from ..core.constants import ContentType, alert_name
from ..core.messages import (
    AnyMessage,
    Certificate,
    ClientHello,
    ClientKeyExchange,
    Finished,
    ServerHello,
)
from .decode import DecodedConversation, DecodedRecord, Stop
from .decode_texts import TEXT
from .error_texts import describe_reason
from .hexdump import der_subject
from .narration import short_hex

LANGUAGES = ("en", "zh")
Line = tuple[str, str | None]


class _Say:
    def __init__(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}, not {lang!r}")
        self.lang = lang
        self.which = LANGUAGES.index(lang)

    def __call__(self, key: str, **values: object) -> str:
        return TEXT[key][self.which].format(**values)


def say(key: str, lang: str, **values: object) -> str:
    """One sentence of :data:`~.decode_texts.TEXT` in ``lang``, filled with ``values``.

    Raises:
        ValueError: An unknown ``lang``.
    """
    return _Say(lang)(key, **values)


def _endpoint(end: tuple[str, int]) -> str:
    host, port = end
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _kind(code: int, say: _Say | None = None) -> str:
    """The content type's name (``handshake``); an unknown one by its number."""
    try:
        return ContentType(code).name.lower()
    except ValueError:
        return (say or _Say("en"))("type", code=code)


def _cn(der: bytes) -> str:
    subject = der_subject(der) or "?"
    for part in subject.split(","):
        if part.startswith("CN="):
            return part[3:]
    return subject


def describe_message(message: AnyMessage, say: _Say) -> str:
    """One handshake message in the narration's words."""
    if isinstance(message, ClientHello):
        return say("hello", name=message.server_name, random=short_hex(message.random))
    if isinstance(message, ServerHello):
        return say("server_hello", random=short_hex(message.random))
    if isinstance(message, Certificate):
        return say("certificate", names=" ← ".join(_cn(der) for der in message.certificates))
    if isinstance(message, ClientKeyExchange):
        secret = message.encrypted_secret
        return say("cke", n=len(secret), head=short_hex(secret))
    if isinstance(message, Finished):
        return say("finished", head=short_hex(message.verify_data))
    return say("unknown", code=message.msg_type)


def _content(record: DecodedRecord, say: _Say) -> str:
    """What a readable record (plain, or opened) holds."""
    if record.message is not None:
        return describe_message(record.message, say)
    if record.alert is not None:
        known = {1: "warning", 2: "fatal"}.get(record.alert[0])
        level = say(known) if known else str(record.alert[0])
        return say("alert", level=level, name=alert_name(record.alert[1]))
    if record.data is not None:
        return say("data", text=_preview(record.data))
    if record.problem is not None:  # opened, but what it held does not parse
        why = describe_reason(record.problem, say.lang)
        return say("opened_unreadable", kind=_kind(record.content_type, say), why=why)
    return _kind(record.content_type, say)


def _preview(data: bytes, limit: int = 200) -> str:
    text = repr(data[:limit])
    return text + "…" if len(data) > limit else text


def record_lines(record: DecodedRecord, say: _Say) -> list[Line]:
    """One record: who sent it, what it is, and what it held if it was opened."""
    head = f"  #{record.packet:<4} {say('client' if record.from_client else 'server')}  "
    kind = _kind(record.content_type, say)
    if not record.protected:
        if record.problem is not None:
            why = describe_reason(record.problem, say.lang)
            text = say("unreadable", kind=kind, n=record.length, why=why)
            return [(head + text, "red")]
        return [(head + _content(record, say), None)]
    sealed = say("protected", kind=kind, n=record.length, head=short_hex(record.fragment, 8))
    lines: list[Line] = [(head + sealed, "dim")]
    pad = " " * 8
    if record.opened:
        what = _content(record, say)
        lines.append((pad + say("opened", seq=record.seq, what=what), "bold"))
    elif record.problem is not None:
        why = describe_reason(record.problem, say.lang)
        lines.append((pad + say("not_opened", why=why), "red"))
    return lines


def conversation_lines(number: int, conversation: DecodedConversation, lang: str) -> list[Line]:
    """A whole conversation: its ends, where key X came from, every record.

    Raises:
        ValueError: An unknown ``lang``.
    """
    say = _Say(lang)
    client, server = _endpoint(conversation.client), _endpoint(conversation.server)
    lines: list[Line] = [(say("conversation", n=number, client=client, server=server), "bold")]
    if conversation.secret is not None:
        key = "key_keylog" if conversation.key_source == "keylog" else "key_key"
        lines.append(("  " + say(key, x=conversation.secret.hex()), "yellow"))
    elif conversation.key_problem is not None:
        lines.append(("  " + say(conversation.key_problem), "yellow"))
    for record in conversation.records:
        lines += record_lines(record, say)
    for stop in conversation.stopped:
        side = say("client" if stop.from_client else "server")
        lines.append(("  " + say("stopped", side=side, why=stop_reason(stop, say.lang)), "red"))
    return lines


def stop_reason(stop: Stop, lang: str) -> str:
    """Why a direction stopped early, in ``lang`` (English: :attr:`Stop.reason`).

    Raises:
        ValueError: An unknown ``lang``.
    """
    why = "" if stop.error is None else describe_reason(stop.error, lang)
    return say(f"stop_{stop.kind}", lang, at=stop.at, why=why)


def summary_line(conversations: list[DecodedConversation], lang: str) -> str:
    """How many records, and how many were opened."""
    records = [r for c in conversations for r in c.records]
    return _Say(lang)(
        "summary",
        records=len(records),
        conversations=len(conversations),
        opened=sum(r.opened for r in records),
    )


def record_to_dict(number: int, record: DecodedRecord) -> dict[str, object]:
    """One record as plain JSON values (bytes as hex; text as UTF-8 where it is)."""
    message = record.message
    return {
        "conversation": number,
        "packet": record.packet,
        "from": "client" if record.from_client else "server",
        "content_type": _kind(record.content_type),
        "length": record.length,
        "protected": record.protected,
        "opened": record.opened,
        "seq": record.seq,
        "message": None if message is None else type(message).__name__,
        "server_name": message.server_name if isinstance(message, ClientHello) else None,
        "alert": None if record.alert is None else alert_name(record.alert[1]),
        "data": None if record.data is None else record.data.decode("utf-8", "replace"),
        "data_hex": None if record.data is None else record.data.hex(),
        "error": record.error,
    }
