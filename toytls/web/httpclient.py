"""One HTTP/1.1 request over any trio stream, with h11 (trio layer).

``toytls client --http GET /path`` uses it over a toytls stream; h11 does
the HTTP, this module only moves the bytes.
"""

from __future__ import annotations

import http
from collections.abc import Callable
from dataclasses import dataclass, field

import h11
import trio


class HttpError(Exception):
    """The server's answer was not valid HTTP/1.1, or it ended too early."""


@dataclass
class HttpResponse:
    """The head of a response, and how many body bytes followed."""

    status: int
    reason: str
    http_version: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body_size: int = 0

    @property
    def status_line(self) -> str:
        """``HTTP/1.1 200 OK`` (the standard phrase if the server sent none)."""
        reason = self.reason or _standard_phrase(self.status)
        return f"HTTP/{self.http_version} {self.status} {reason}".rstrip()


def _standard_phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def make_request(method: str, target: str, host: str, user_agent: str = "toytls") -> h11.Request:
    """The request :func:`http_request` sends.

    Raises:
        ValueError: ``method``, ``target`` or ``host`` cannot be sent as HTTP.
    """
    if not target.startswith("/") and target != "*":
        raise ValueError(f"the path must start with '/', not {target!r}")
    try:
        return h11.Request(
            method=method,
            target=target,
            headers=[
                ("Host", host),
                ("User-Agent", user_agent),
                ("Accept", "*/*"),
                ("Connection", "close"),
            ],
        )
    except h11.LocalProtocolError as exc:
        raise ValueError(f"cannot send {method} {target!r} as HTTP: {exc}") from None


async def http_request(
    stream: trio.abc.Stream,
    *,
    method: str,
    target: str,
    host: str,
    on_head: Callable[[HttpResponse], None],
    on_body: Callable[[bytes], None],
    user_agent: str = "toytls",
) -> HttpResponse:
    """Send one request (``Connection: close``) and read the whole response.

    ``on_head`` is called once the status line and headers have arrived;
    the body is then handed to ``on_body`` piece by piece, so a large
    download is never held in memory.

    Raises:
        HttpError: The answer was not HTTP, or the connection ended early.
        ValueError: ``method`` or ``target`` cannot be sent as HTTP.
        trio.BrokenResourceError: The stream failed.
    """
    conn = h11.Connection(h11.CLIENT)
    request = make_request(method, target, host, user_agent)
    await stream.send_all(conn.send(request) or b"")
    await stream.send_all(conn.send(h11.EndOfMessage()) or b"")
    response: HttpResponse | None = None
    try:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(bytes(await stream.receive_some()))
            elif isinstance(event, h11.InformationalResponse):
                continue  # 100 Continue and friends: the real answer follows
            elif isinstance(event, h11.Response):
                response = HttpResponse(
                    status=event.status_code,
                    reason=event.reason.decode("latin-1"),
                    http_version=event.http_version.decode("ascii", "replace"),
                    headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers],
                )
                on_head(response)
            elif isinstance(event, h11.Data):
                assert response is not None
                response.body_size += len(event.data)
                on_body(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                assert response is not None
                return response
            else:  # ConnectionClosed before the response ended
                raise HttpError("the server closed the connection before answering")
    except h11.RemoteProtocolError as exc:
        raise HttpError(f"the answer is not valid HTTP/1.1: {exc}") from None
