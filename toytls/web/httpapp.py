"""``toytls server --app http``: HTTP/1.1 over toytls, with h11 (trio layer).

h11 does all the HTTP parsing; this module moves bytes between it and a
trio stream and decides the answers:

* ``GET /`` — an HTML page describing the visitor's own connection
  (:func:`toytls.web.sessionpage.render_page`);
* ``GET /api/session`` — the same as JSON;
* ``HEAD`` of either — the headers only;
* anything else — 404, or 405 for other methods.

Keep-alive works (a browser reuses the connection); a connection idle for
:data:`IDLE_TIMEOUT` seconds between requests is closed. Malformed HTTP
gets a 400 when h11 still allows an answer, then the connection closes.

Two bounds keep one client from costing the server more than it pays:

* a request must arrive whole within :data:`REQUEST_TIMEOUT` seconds of its
  first byte, however steadily it dribbles (one byte every few seconds
  would otherwise reset the idle clock forever);
* at most :data:`MAX_PIPELINED` requests are answered from bytes already
  received; then the connection closes (``Connection: close`` on the last
  answer). Browsers do not pipeline, and without the bound a few kilobytes
  of pipelined ``GET /`` would make the server write megabytes of pages.
"""

from __future__ import annotations

import http
from collections.abc import Callable
from dataclasses import dataclass

import h11
import trio

from .sessionpage import Visit, render_page, report_json

#: seconds a kept-alive connection may wait for its next request
IDLE_TIMEOUT = 60.0
#: seconds from a request's first byte to its end
REQUEST_TIMEOUT = 30.0
#: requests answered in a row from bytes already received (pipelined)
MAX_PIPELINED = 8

_SERVER_HEADER = "toytls"


@dataclass(frozen=True)
class Request:
    """What the visit builder needs to know about a request."""

    method: str
    target: str
    #: the request line and the headers, as lines
    head: tuple[str, ...]


#: Builds the description of the connection for one request.
VisitBuilder = Callable[[Request, int], Visit]


@dataclass
class HttpCounts:
    """What an HTTP connection did, for the server's log line."""

    requests: int = 0
    last_status: int | None = None
    #: application bytes read and written (HTTP, before protection)
    bytes_in: int = 0
    bytes_out: int = 0


async def serve_http(
    stream: trio.abc.Stream,
    describe: VisitBuilder,
    counts: HttpCounts | None = None,
    *,
    idle_timeout: float = IDLE_TIMEOUT,
    request_timeout: float = REQUEST_TIMEOUT,
) -> HttpCounts:
    """Answer HTTP/1.1 requests on ``stream`` until the client is done.

    Returns when the client closes, asks to close, sends no byte for
    ``idle_timeout`` seconds (between requests or inside one), takes more
    than ``request_timeout`` seconds over one request, pipelines more than
    :data:`MAX_PIPELINED` requests, or sends something that is not HTTP.
    Transport errors propagate as the stream raises them
    (``trio.BrokenResourceError``).
    """
    counts = counts if counts is not None else HttpCounts()
    conn = h11.Connection(h11.SERVER)
    reading = _Reading(idle_timeout=idle_timeout, request_timeout=request_timeout)
    while True:
        try:
            request = await _read_request(conn, stream, reading, counts)
        except _Idle:
            return counts
        except h11.RemoteProtocolError as exc:
            await _answer_bad_request(conn, stream, exc, counts)
            return counts
        if request is None:  # ConnectionClosed: the client is done
            return counts
        last = reading.pipelined >= MAX_PIPELINED
        status, content_type, body = _route(request, describe(request, counts.requests))
        counts.bytes_out += await _respond(
            conn,
            stream,
            method=request.method,
            status=status,
            content_type=content_type,
            body=body,
            close=last,
        )
        counts.requests += 1
        counts.last_status = status
        if last or conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
            return counts  # "Connection: close", HTTP/1.0, a half-read body, the bound
        conn.start_next_cycle()


@dataclass
class _Reading:
    """The clocks and counts of one connection's reads."""

    idle_timeout: float
    request_timeout: float
    #: when the request being read must be complete (None: none started)
    deadline: float | None = None
    #: requests answered in a row without a new read
    pipelined: int = 0
    #: a read happened since the last request was taken
    read_since: bool = True


async def _read_request(
    conn: h11.Connection, stream: trio.abc.Stream, reading: _Reading, counts: HttpCounts
) -> Request | None:
    """The next whole request (its body read and dropped), or None at the end."""
    reading.deadline = None
    if conn.trailing_data[0]:
        # Bytes of the next request are already here: its clock starts now.
        reading.deadline = trio.current_time() + reading.request_timeout
    event = await _next_event(conn, stream, reading, counts)
    if not isinstance(event, h11.Request):
        return None
    reading.pipelined = 1 if reading.read_since else reading.pipelined + 1
    reading.read_since = False
    request = _summary(event)
    # Read (and drop) any body, so the next request parses.
    while not isinstance(await _next_event(conn, stream, reading, counts), h11.EndOfMessage):
        pass
    return request


class _Idle(Exception):
    """The client sent nothing for the idle timeout."""


async def _next_event(
    conn: h11.Connection, stream: trio.abc.Stream, reading: _Reading, counts: HttpCounts
) -> object:
    """The next h11 event, reading as needed.

    Raises:
        _Idle: No byte came for the idle timeout — between requests, or in
            the middle of one — or the request took past its deadline.
        h11.RemoteProtocolError: The bytes are not valid HTTP/1.1.
    """
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event
        if conn.they_are_waiting_for_100_continue:
            # curl waits a second for this before sending a large body.
            go_on = conn.send(h11.InformationalResponse(status_code=100, headers=[])) or b""
            await stream.send_all(go_on)
            counts.bytes_out += len(go_on)
        until = trio.current_time() + reading.idle_timeout
        if reading.deadline is not None:
            until = min(until, reading.deadline)
        with trio.move_on_at(until):
            data = bytes(await stream.receive_some())
            counts.bytes_in += len(data)
            reading.read_since = True
            if data and reading.deadline is None:
                reading.deadline = trio.current_time() + reading.request_timeout
            conn.receive_data(data)
            continue
        raise _Idle


def _summary(event: h11.Request) -> Request:
    method = event.method.decode("ascii", "replace")
    target = event.target.decode("ascii", "replace")
    version = event.http_version.decode("ascii", "replace")
    head = [f"{method} {target} HTTP/{version}"]
    head += [
        f"{name.decode('latin-1')}: {value.decode('latin-1')}" for name, value in event.headers
    ]
    return Request(method=method, target=target, head=tuple(head))


def _route(request: Request, visit: Visit) -> tuple[int, str, bytes]:
    path = request.target.partition("?")[0]
    if request.method not in ("GET", "HEAD"):
        return 405, "text/plain; charset=utf-8", b"only GET and HEAD are served here\n"
    if path == "/":
        return 200, "text/html; charset=utf-8", render_page(visit)
    if path == "/api/session":
        return 200, "application/json", report_json(visit)
    return 404, "text/plain; charset=utf-8", b"not found: try / or /api/session\n"


async def _respond(
    conn: h11.Connection,
    stream: trio.abc.Stream,
    *,
    method: str,
    status: int,
    content_type: str,
    body: bytes,
    close: bool = False,
) -> int:
    headers: list[tuple[str, str]] = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        ("Server", _SERVER_HEADER),
        # The page describes this very connection: never reuse an old copy.
        ("Cache-Control", "no-store"),
    ]
    if status == 405:
        headers.append(("Allow", "GET, HEAD"))
    if close:
        headers.append(("Connection", "close"))
    data = conn.send(h11.Response(status_code=status, headers=headers, reason=_phrase(status)))
    if method != "HEAD":
        data += conn.send(h11.Data(data=body)) or b""
    data += conn.send(h11.EndOfMessage()) or b""
    await stream.send_all(data)
    return len(data)


def _phrase(status: int) -> str:
    return http.HTTPStatus(status).phrase


async def _answer_bad_request(
    conn: h11.Connection, stream: trio.abc.Stream, exc: h11.RemoteProtocolError, counts: HttpCounts
) -> None:
    counts.last_status = exc.error_status_hint
    if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
        return  # too late to answer: just close
    body = f"bad request: {exc}\n".encode()
    try:
        data = conn.send(
            h11.Response(
                status_code=exc.error_status_hint,
                reason=_phrase(exc.error_status_hint),
                headers=[
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(body))),
                    ("Connection", "close"),
                ],
            )
        )
        data = (data or b"") + (conn.send(h11.Data(data=body)) or b"")
        data += conn.send(h11.EndOfMessage()) or b""
    except h11.LocalProtocolError:
        return
    await stream.send_all(data)
    counts.bytes_out += len(data)
