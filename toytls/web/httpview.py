"""Recognise HTTP/1.1 in plaintext a bystander relays, without taking part.

h11 parses for a participant, so :class:`HttpConversation` plays both parts
on paper. Client bytes feed an h11 connection in the SERVER role; after each
request it would wait for "our" response, so a fresh one takes the unread
bytes (keep-alive, pipelining). Server bytes feed one in the CLIENT role,
which reads a response only after sending a request: for each response a
fresh one "sends" a stand-in with the method (a HEAD response has no body)
and Upgrade proposal (a 101 needs one) of the request it answers. Server
bytes with no request to answer wait, bounded, for one.

Whatever h11 refuses ends that direction quietly; no call raises. Bodies are
counted, not kept. No I/O, no printing.
"""

from __future__ import annotations

import codecs
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import h11

#: The longest body preview, in characters.
PREVIEW_CHARS = 80
#: A first line longer than this is not a request line.
MAX_FIRST_LINE = 8 * 1024
#: Server bytes held while no request is known to answer.
MAX_WAITING = 64 * 1024

# Enough bytes for PREVIEW_CHARS whole characters (UTF-8 uses at most 4 a
# character; +3 covers a character cut at the end).
_PREVIEW_BYTES = 4 * PREVIEW_CHARS + 3
_TEXT_MEDIA = ("application/json", "application/x-www-form-urlencoded")
_REQUEST_LINE = re.compile(rb"[A-Z]+ [!-~]+ HTTP/1\.[0-9]\r?")
_VERSION_STARTS = b"|".join(re.escape(b"HTTP/1."[:n]) for n in range(8))
# Every beginning of a request line that more bytes could still complete.
_REQUEST_LINE_START = re.compile(
    rb"[A-Z]*|[A-Z]+ [!-~]*|[A-Z]+ [!-~]+ (?:%b|HTTP/1\.[0-9]\r?)" % _VERSION_STARTS
)
# Display only: keep a line on one line and away from terminal controls.
_CONTROLS = {c: " " if chr(c) in "\t\n\r" else "\ufffd" for c in [*range(32), *range(127, 160)]}


_Head = h11.Request | h11.Response | h11.InformationalResponse


@dataclass(frozen=True, kw_only=True, slots=True)
class HttpSighting:
    """One HTTP message head seen on the wire, or the summary of its body."""

    #: "body" summarises a finished, non-empty message body.
    kind: Literal["request", "response", "body"]
    #: "GET /secret HTTP/1.1", "HTTP/1.1 200 OK", or "body of GET /x: 12 bytes".
    first_line: str
    #: Names and values decoded as latin-1, as sent and in order; empty for bodies.
    headers: tuple[tuple[str, str], ...]
    body_size: int = 0
    #: The body's first characters if it looks like text, else "".
    body_preview: str = ""
    #: For a body: the request it belongs to ("GET /x"), or that a response answers.
    body_of: str = ""
    #: For a response's body: its status ("200 OK"); "" for a request's body.
    body_reply: str = ""

    def lines(self) -> list[str]:
        """Lines for a person: the first line, then one per header (or the preview).

        Control characters become spaces or U+FFFD: a line cannot break or drive a terminal.
        """
        if self.kind == "body":
            preview = f' "{self.body_preview}"' if self.body_preview else ""
            return [(self.first_line + preview).translate(_CONTROLS)]
        heads = [f"{name}: {value}" for name, value in self.headers]
        return [line.translate(_CONTROLS) for line in [self.first_line, *heads]]


def _first_line_verdict(start: bytes) -> bool | None:
    """Whether ``start`` begins with a request line; None while it still might."""
    line, newline, _ = start.partition(b"\n")
    if newline:
        return _REQUEST_LINE.fullmatch(line) is not None
    if len(start) >= MAX_FIRST_LINE:
        return False
    return None if _REQUEST_LINE_START.fullmatch(line) else False


def _header(event: _Head, name: bytes) -> bytes | None:
    """The first value of header ``name`` (lowercase), or None."""
    return next((value for key, value in event.headers if key == name), None)


def _preview(head: bytes, complete: bool, content_type: bytes | None) -> str:
    """The first characters of a body that looks like text, else ""."""
    if content_type is not None:
        media = content_type.split(b";", 1)[0].strip().lower().decode("latin-1")
        if not (media.startswith("text/") or media in _TEXT_MEDIA):
            return ""
    else:
        try:  # an incomplete head may end inside a character; that is fine
            codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
        except UnicodeDecodeError:
            return ""
    return head.decode("utf-8", errors="replace")[:PREVIEW_CHARS]


class _Body:
    """Counts one message's body and keeps only its first bytes."""

    def __init__(self, label: str, event: _Head, *, request: str, reply: str = "") -> None:
        self.label = label
        self.request = request
        self.reply = reply
        self.content_type = _header(event, b"content-type")
        self.size = 0
        self.head = bytearray()

    def add(self, data: bytes) -> None:
        self.size += len(data)
        self.head += data[: max(0, _PREVIEW_BYTES - len(self.head))]

    def sightings(self) -> list[HttpSighting]:
        """The body's summary, or nothing for an empty body."""
        if not self.size:
            return []
        preview = _preview(bytes(self.head), self.size == len(self.head), self.content_type)
        line = f"body of {self.label}: {self.size} bytes"
        return [
            HttpSighting(
                kind="body",
                first_line=line,
                headers=(),
                body_size=self.size,
                body_preview=preview,
                body_of=self.request,
                body_reply=self.reply,
            )
        ]


@dataclass(frozen=True, slots=True)
class _Asked:
    """What the stand-in request must repeat for h11 to read the response."""

    method: bytes
    upgrade: bytes | None
    label: str  # "GET /x", for the response body's summary


@dataclass
class _Side:
    """One direction: its h11 connection and the body being counted."""

    conn: h11.Connection | None  # None: stopped, or (server) no request to answer yet
    body: _Body | None = None
    followed: bool = True

    def stop(self) -> None:
        self.conn, self.body, self.followed = None, None, False


class HttpConversation:
    """Follows both directions of one HTTP/1.1 connection from the outside.

    Feed every relayed byte in order; each call returns the sightings it
    completed (a response that waited for its request is returned by the
    :meth:`client_bytes` call that brought the request). Neither method
    raises, whatever the bytes; the bytes are copied, not kept by reference.

    Attributes:
        is_http: None until the client's first line decides; True once it
            is a request line (``GET /x HTTP/1.1``); False once the bytes
            cannot be one, after which both methods return [] forever.
    """

    def __init__(self) -> None:
        self.is_http: bool | None = None
        self._start = bytearray()  # client bytes before the verdict
        self._client = _Side(h11.Connection(h11.SERVER))
        self._server = _Side(None)
        self._waiting = bytearray()  # server bytes with no request to answer yet
        self._asked: deque[_Asked] = deque()  # requests whose response has not begun
        self._answering = ""  # the label of the request being answered

    def client_bytes(self, data: bytes | bytearray) -> list[HttpSighting]:
        """Sightings completed by ``data``, bytes the client sent."""
        if self.is_http is None:
            self._start += data
            verdict = _first_line_verdict(bytes(self._start))
            if verdict is None:
                return []
            if not verdict:
                self.is_http, self._start, self._waiting = False, bytearray(), bytearray()
                self._client.stop()
                self._server.stop()
                return []
            self.is_http = True
            data, self._start = bytes(self._start), bytearray()
        if not self.is_http:
            return []
        return self._read(self._client, data, self._next_request) + self.server_bytes(b"")

    def server_bytes(self, data: bytes | bytearray) -> list[HttpSighting]:
        """Sightings completed by ``data``, bytes the server sent."""
        side = self._server
        found = self._read(side, data, self._next_response)
        if not side.followed or len(self._waiting) > MAX_WAITING:
            side.stop()
            self._waiting = bytearray()
        return found

    def _next_request(self, leftover: bytes) -> h11.Connection:
        # The finished connection would wait for "our" response: a fresh
        # one reads the unread bytes.
        conn = h11.Connection(h11.SERVER)
        if leftover:
            conn.receive_data(leftover)
        return conn

    def _next_response(self, leftover: bytes) -> h11.Connection | None:
        """A client-role connection that has "sent" the next request, or None."""
        self._waiting += leftover
        if not self._asked:
            return None
        asked = self._asked.popleft()
        conn = h11.Connection(h11.CLIENT)
        headers = [(b"Host", b"bystander")]
        if asked.upgrade is not None:
            headers.append((b"Upgrade", asked.upgrade))
        conn.send(h11.Request(method=asked.method, target=b"/", headers=headers))
        conn.send(h11.EndOfMessage())
        if self._waiting:
            conn.receive_data(bytes(self._waiting))
            self._waiting = bytearray()
        self._answering = asked.label
        return conn

    def _read(
        self,
        side: _Side,
        data: bytes | bytearray,
        restart: Callable[[bytes], h11.Connection | None],
    ) -> list[HttpSighting]:
        """Sightings from ``data`` and what ``side`` holds; ``restart`` follows a message."""
        found: list[HttpSighting] = []
        if not side.followed:
            return found
        try:
            if side.conn is None:  # only the server side waits for a request
                self._waiting += data
            elif data:  # receive_data(b"") would mean the end of the stream
                side.conn.receive_data(bytes(data))
            while side.followed:
                conn = side.conn = side.conn or restart(b"")
                if conn is None:  # no request to answer yet
                    break
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    break
                if event is h11.PAUSED:  # a switch of protocols: the rest is a tunnel
                    self._client.stop()
                    self._server.stop()
                elif isinstance(event, h11.Request | h11.Response | h11.InformationalResponse):
                    found.append(self._begin(side, event))
                elif isinstance(event, h11.Data) and side.body is not None:
                    side.body.add(event.data)
                elif isinstance(event, h11.EndOfMessage):
                    found += side.body.sightings() if side.body else []
                    side.conn = restart(conn.trailing_data[0])
        except h11.ProtocolError:
            side.stop()
        return found

    def _begin(self, side: _Side, event: _Head) -> HttpSighting:
        """A head's sighting; queue a request's method, start counting the body."""
        version = event.http_version.decode("latin-1")
        # raw_items keeps the names' case; iterating the headers lowercases them.
        raw = event.headers.raw_items()
        headers = tuple((name.decode("latin-1"), value.decode("latin-1")) for name, value in raw)
        if isinstance(event, h11.Request):
            label = f"{event.method.decode()} {event.target.decode('latin-1')}"
            if self._server.followed:  # else nobody will take it off the queue
                self._asked.append(_Asked(event.method, _header(event, b"upgrade"), label))
            side.body = _Body(label, event, request=label)
            line = f"{label} HTTP/{version}"
            return HttpSighting(kind="request", first_line=line, headers=headers)
        reply = f"{event.status_code} {event.reason.decode('latin-1')}".rstrip()
        if isinstance(event, h11.Response):  # an informational one has no body
            label = f"{reply} to {self._answering}"
            side.body = _Body(label, event, request=self._answering, reply=reply)
        return HttpSighting(kind="response", first_line=f"HTTP/{version} {reply}", headers=headers)
