"""The bystander's HTTP view: h11 plays both parts of a conversation it only watches.

HTTP bytes come from h11 itself acting as client and server (so they are
what a real peer sends) and from literals (so HEAD, 100-continue and
pipelining are spelled out). Every exchange is also fed split at every
offset and one byte at a time (STYLE.md trait 7), and hypothesis feeds
junk to show that nothing the peers send can make the view raise.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import h11
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toytls.web import httpview
from toytls.web.httpview import MAX_FIRST_LINE, MAX_WAITING, HttpConversation, HttpSighting

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def request(
    method: str = "GET",
    target: str = "/",
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
) -> bytes:
    """A request as h11 in the client role writes it."""
    client = h11.Connection(h11.CLIENT)
    sized = [("Content-Length", str(len(body)))] if body else []
    all_headers = [("Host", "example"), *headers, *sized]
    events: list[h11.Event] = [h11.Request(method=method, target=target, headers=all_headers)]
    events += [h11.Data(data=body)] if body else []
    return b"".join(client.send(event) or b"" for event in [*events, h11.EndOfMessage()])


def response(
    status: int = 200,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
    *,
    sized: bool = True,
) -> bytes:
    """A response to a GET as h11 in the server role writes it.

    Without ``sized`` h11 frames the body with chunked transfer coding.
    """
    server = h11.Connection(h11.SERVER)
    server.receive_data(request())
    assert isinstance(server.next_event(), h11.Request)
    assert isinstance(server.next_event(), h11.EndOfMessage)
    length = [("Content-Length", str(len(body)))] if sized else []
    events: list[h11.Event] = [h11.Response(status_code=status, headers=[*headers, *length])]
    events += [h11.Data(data=body)] if body else []
    return b"".join(server.send(event) or b"" for event in [*events, h11.EndOfMessage()])


def watch(client: Sequence[bytes], server: Sequence[bytes]) -> list[HttpSighting]:
    """Feed client chunks, then server chunks; every sighting in order."""
    view = HttpConversation()
    found = [s for chunk in client for s in view.client_bytes(chunk)]
    return found + [s for chunk in server for s in view.server_bytes(chunk)]


def summary(sightings: Sequence[HttpSighting]) -> list[tuple[str, str]]:
    return [(s.kind, s.first_line) for s in sightings]


def heads(sightings: Sequence[HttpSighting], kind: str) -> list[str]:
    return [s.first_line for s in sightings if s.kind == kind]


# --- whole exchanges --------------------------------------------------------------


def test_single_request_and_response() -> None:
    view = HttpConversation()
    assert view.is_http is None
    sent = view.client_bytes(request("GET", "/secret", [("Cookie", "session=42")]))
    assert view.is_http is True
    reply = view.server_bytes(response(200, [("Content-Type", "text/plain")], b"top secret"))
    assert sent == [
        HttpSighting(
            kind="request",
            first_line="GET /secret HTTP/1.1",
            headers=(("Host", "example"), ("Cookie", "session=42")),
        )
    ]
    assert summary(reply) == [
        ("response", "HTTP/1.1 200"),
        ("body", "body of 200 to GET /secret: 10 bytes"),
    ]
    assert ("Content-Type", "text/plain") in reply[0].headers
    assert reply[1].body_size == 10
    assert reply[1].body_preview == "top secret"


def test_literal_exchange_keeps_header_case_and_order() -> None:
    view = HttpConversation()
    sent = view.client_bytes(b"GET /x HTTP/1.1\r\nHOST: a\r\nx-Lower: 1\r\nAccept: */*\r\n\r\n")
    got = view.server_bytes(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    assert sent[0].headers == (("HOST", "a"), ("x-Lower", "1"), ("Accept", "*/*"))
    assert sent[0].lines() == ["GET /x HTTP/1.1", "HOST: a", "x-Lower: 1", "Accept: */*"]
    assert got == [
        HttpSighting(
            kind="response",
            first_line="HTTP/1.1 404 Not Found",
            headers=(("Content-Length", "0"),),
        )
    ]


def test_one_byte_at_a_time_finds_the_same() -> None:
    client = request("POST", "/login", [("Content-Type", "text/plain")], b"hunter2")
    server = response(201, [("Content-Type", "application/json")], b'{"ok": true}')
    whole = watch([client], [server])
    trickled = watch(
        [client[i : i + 1] for i in range(len(client))],
        [server[i : i + 1] for i in range(len(server))],
    )
    assert trickled == whole
    assert summary(whole) == [
        ("request", "POST /login HTTP/1.1"),
        ("body", "body of POST /login: 7 bytes"),
        ("response", "HTTP/1.1 201"),
        ("body", "body of 201 to POST /login: 12 bytes"),
    ]


KEEP_ALIVE_CLIENT = request("GET", "/one") + request("POST", "/two", body=b"a=1")
KEEP_ALIVE_SERVER = (
    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
    b"HTTP/1.1 302 Found\r\nLocation: /\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"2\r\nhi\r\n0\r\n\r\n"
)
KEEP_ALIVE = [
    ("request", "GET /one HTTP/1.1"),
    ("request", "POST /two HTTP/1.1"),
    ("body", "body of POST /two: 3 bytes"),
    ("response", "HTTP/1.1 200 OK"),
    ("body", "body of 200 OK to GET /one: 3 bytes"),
    ("response", "HTTP/1.1 302 Found"),
    ("body", "body of 302 Found to POST /two: 2 bytes"),
]


def test_a_body_names_its_request_and_status_apart() -> None:
    """What a body belongs to comes as fields, so no one parses the English summary."""
    bodies = [s for s in watch([KEEP_ALIVE_CLIENT], [KEEP_ALIVE_SERVER]) if s.kind == "body"]
    assert [(b.body_of, b.body_reply, b.body_size) for b in bodies] == [
        ("POST /two", "", 3),
        ("GET /one", "200 OK", 3),
        ("POST /two", "302 Found", 2),
    ]


@pytest.mark.parametrize("cut", range(len(KEEP_ALIVE_CLIENT) + 1))
def test_keep_alive_split_at_every_client_offset(cut: int) -> None:
    client = KEEP_ALIVE_CLIENT
    assert summary(watch([client[:cut], client[cut:]], [KEEP_ALIVE_SERVER])) == KEEP_ALIVE


@pytest.mark.parametrize("cut", range(len(KEEP_ALIVE_SERVER) + 1))
def test_keep_alive_split_at_every_server_offset(cut: int) -> None:
    server = KEEP_ALIVE_SERVER
    assert summary(watch([KEEP_ALIVE_CLIENT], [server[:cut], server[cut:]])) == KEEP_ALIVE


@pytest.mark.parametrize("cut", range(len(KEEP_ALIVE_CLIENT) + 1))
def test_keep_alive_interleaved_at_every_offset(cut: int) -> None:
    """Client part, server part, client rest, server rest: each side stays in order."""
    client, server = KEEP_ALIVE_CLIENT, KEEP_ALIVE_SERVER
    other = cut * len(server) // len(client)
    view = HttpConversation()
    found = view.client_bytes(client[:cut]) + view.server_bytes(server[:other])
    found += view.client_bytes(client[cut:]) + view.server_bytes(server[other:])
    assert heads(found, "request") == ["GET /one HTTP/1.1", "POST /two HTTP/1.1"]
    assert heads(found, "response") == ["HTTP/1.1 200 OK", "HTTP/1.1 302 Found"]
    assert sorted(summary(found)) == sorted(KEEP_ALIVE)


def test_pipelined_requests_pair_with_their_responses() -> None:
    view = HttpConversation()
    sent = view.client_bytes(request("GET", "/a") + request("GET", "/b") + request("GET", "/c"))
    got = view.server_bytes(response(body=b"A") + response(body=b"BB") + response(body=b"CCC"))
    assert heads(sent, "request") == ["GET /a HTTP/1.1", "GET /b HTTP/1.1", "GET /c HTTP/1.1"]
    assert heads(got, "body") == [
        "body of 200 to GET /a: 1 bytes",
        "body of 200 to GET /b: 2 bytes",
        "body of 200 to GET /c: 3 bytes",
    ]


def test_head_response_has_no_body_and_the_next_response_is_found() -> None:
    view = HttpConversation()
    view.client_bytes(request("HEAD", "/big") + request("GET", "/small"))
    got = view.server_bytes(
        b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
    )
    # Had h11 not known the first request was HEAD, it would have read the
    # second response as 1234 bytes of body and found nothing else.
    assert summary(got) == [
        ("response", "HTTP/1.1 200 OK"),
        ("response", "HTTP/1.1 200 OK"),
        ("body", "body of 200 OK to GET /small: 2 bytes"),
    ]


def test_chunked_response_counts_the_decoded_body() -> None:
    body = b"x" * 1000 + b"y" * 500
    chunked = response(body=body, sized=False)
    assert b"Transfer-Encoding: chunked" in chunked
    pieces = [chunked[i : i + 7] for i in range(0, len(chunked), 7)]
    got = watch([request("GET", "/stream")], pieces)
    assert summary(got)[-1] == ("body", "body of 200 to GET /stream: 1500 bytes")
    assert got[-1].body_size == 1500
    assert got[-1].body_preview == "x" * 80


def test_interim_100_continue_is_a_response() -> None:
    view = HttpConversation()
    sent = view.client_bytes(
        b"PUT /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"
    )
    got = view.server_bytes(b"HTTP/1.1 100 Continue\r\n\r\n")
    sent += view.client_bytes(b"ok")
    got += view.server_bytes(b"HTTP/1.1 204 No Content\r\n\r\n")
    assert summary(sent) == [("request", "PUT /up HTTP/1.1"), ("body", "body of PUT /up: 2 bytes")]
    assert summary(got) == [
        ("response", "HTTP/1.1 100 Continue"),
        ("response", "HTTP/1.1 204 No Content"),
    ]


def test_server_bytes_before_the_request_wait_for_it() -> None:
    view = HttpConversation()
    assert view.server_bytes(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") == []
    found = view.client_bytes(request("GET", "/late"))
    assert summary(found) == [("request", "GET /late HTTP/1.1"), ("response", "HTTP/1.1 200 OK")]


def test_waiting_server_bytes_are_bounded() -> None:
    view = HttpConversation()
    flood = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" * (MAX_WAITING // 30)
    assert view.server_bytes(flood) == []
    assert summary(view.client_bytes(request())) == [("request", "GET / HTTP/1.1")]
    assert view.server_bytes(response()) == []


def test_connect_tunnel_is_not_read_as_http() -> None:
    view = HttpConversation()
    view.client_bytes(b"CONNECT example:443 HTTP/1.1\r\nHost: example:443\r\n\r\n")
    got = view.server_bytes(b"HTTP/1.1 200 Connection established\r\n\r\n")
    assert summary(got) == [("response", "HTTP/1.1 200 Connection established")]
    assert view.client_bytes(request("GET", "/inside")) == []
    assert view.server_bytes(response()) == []
    assert view.is_http is True


def test_websocket_upgrade_is_reported_then_the_tunnel_ignored() -> None:
    view = HttpConversation()
    view.client_bytes(
        request("GET", "/chat", [("Connection", "Upgrade"), ("Upgrade", "websocket")])
    )
    got = view.server_bytes(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
        b"\x81\x05hello"
    )
    # h11 accepts a 101 only after a request that proposed the upgrade.
    assert summary(got) == [("response", "HTTP/1.1 101 Switching Protocols")]
    assert view.client_bytes(b"\x81\x85abcd" + request()) == []
    assert view.server_bytes(response()) == []


def test_an_ignored_upgrade_keeps_the_conversation_http() -> None:
    view = HttpConversation()
    sent = view.client_bytes(request("GET", "/a", [("Connection", "Upgrade"), ("Upgrade", "h2c")]))
    got = view.server_bytes(response(body=b"plain"))
    sent += view.client_bytes(request("GET", "/b"))
    got += view.server_bytes(response())
    assert heads(sent, "request") == ["GET /a HTTP/1.1", "GET /b HTTP/1.1"]
    assert heads(got, "response") == ["HTTP/1.1 200", "HTTP/1.1 200"]


# --- bodies -----------------------------------------------------------------------


def test_post_form_body_preview() -> None:
    form = b"user=alice&password=hunter2"
    kind = ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
    found = watch([request("POST", "/login", [kind], form)], [])
    body = found[-1]
    assert body == HttpSighting(
        kind="body",
        first_line="body of POST /login: 27 bytes",
        headers=(),
        body_size=27,
        body_preview="user=alice&password=hunter2",
        body_of="POST /login",
    )
    assert body.lines() == ['body of POST /login: 27 bytes "user=alice&password=hunter2"']


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ([("Content-Type", "image/png")], b"\x89PNG\r\n\x1a\n" + bytes(100)),
        ([("Content-Type", "image/svg+xml")], b"<svg>looks like text</svg>"),
        ([], bytes(range(256))),
        ([], b"caf\xe9 is latin-1, not utf-8"),
    ],
)
def test_binary_body_has_no_preview(headers: list[tuple[str, str]], body: bytes) -> None:
    found = watch([request("POST", "/up", headers, body)], [])
    assert found[-1].kind == "body"
    assert found[-1].body_size == len(body)
    assert found[-1].body_preview == ""
    assert found[-1].lines() == [f"body of POST /up: {len(body)} bytes"]


@pytest.mark.parametrize(
    ("headers", "body", "preview"),
    [
        ([("Content-Type", "text/html")], b"<p>" + b"a" * 200, "<p>" + "a" * 77),
        ([("Content-Type", "application/json")], b'{"k": "v"}', '{"k": "v"}'),
        ([], "ünïcödé".encode() * 40, ("ünïcödé" * 40)[:80]),
        ([("Content-Type", "TEXT/Plain")], b"caf\xe9", "caf\ufffd"),
    ],
)
def test_text_body_preview(headers: list[tuple[str, str]], body: bytes, preview: str) -> None:
    found = watch([request("POST", "/t", headers, body)], [])
    assert found[-1].body_preview == preview


def test_preview_of_a_long_body_cut_inside_a_character_still_shows() -> None:
    # 4-byte characters: the kept head may end in the middle of one.
    body = "😀".encode() * 500
    found = watch([request("POST", "/e", body=body)], [])
    assert found[-1].body_preview == "😀" * 80


def test_lines_do_not_carry_control_characters() -> None:
    body = b"line one\nline two\x1b[2J\x07"
    found = watch([request("POST", "/c", [("Content-Type", "text/plain")], body)], [])
    assert found[-1].body_preview == "line one\nline two\x1b[2J\x07"
    (line,) = found[-1].lines()
    assert line == 'body of POST /c: 22 bytes "line one line two\ufffd[2J\ufffd"'
    assert all(ch.isprintable() for ch in line)


def test_empty_bodies_give_no_body_sighting() -> None:
    found = watch([request("POST", "/nothing")], [response(204)])
    assert [s.kind for s in found] == ["request", "response"]


# --- not HTTP, and broken HTTP ----------------------------------------------------


def test_plain_text_is_not_http() -> None:
    view = HttpConversation()
    assert view.client_bytes(b"hello world\n") == []
    assert view.is_http is False
    assert view.client_bytes(request()) == []
    assert view.server_bytes(response()) == []
    assert view.is_http is False


@pytest.mark.parametrize(
    "start",
    [b"", b"G", b"GET", b"GET ", b"GET /x", b"GET /x ", b"GET /x HTTP/1.", b"GET /x HTTP/1.1\r"],
)
def test_a_request_line_in_progress_is_undecided(start: bytes) -> None:
    view = HttpConversation()
    assert view.client_bytes(start) == []
    assert view.is_http is None
    view.client_bytes(b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n"[len(start) :])
    assert view.is_http is True


@pytest.mark.parametrize(
    "start",
    [
        b"hello",
        b"get / HTTP/1.1",  # methods are uppercase
        b"GET  /",
        b"GET / HTTX",
        b"GET / HTTP/2.0\r\n",
        b"\r\nGET / HTTP/1.1\r\n",
        b"\x16\x03\x01\x02\x00",  # a TLS ClientHello
        b"GET / HTTP/1.1 extra\r\n",
    ],
)
def test_what_cannot_become_a_request_line_is_not_http(start: bytes) -> None:
    view = HttpConversation()
    assert view.client_bytes(start) == []
    assert view.is_http is False


def test_a_first_line_that_never_ends_is_not_http() -> None:
    view = HttpConversation()
    view.client_bytes(b"GET /" + b"a" * (MAX_FIRST_LINE - 10))
    assert view.is_http is None
    view.client_bytes(b"a" * 10)
    assert view.is_http is False


def test_garbage_after_a_valid_request_stops_following_the_client() -> None:
    view = HttpConversation()
    found = view.client_bytes(request("GET", "/ok") + b"\x00\x01 not a request\r\n\r\n")
    assert summary(found) == [("request", "GET /ok HTTP/1.1")]
    assert view.is_http is True
    assert view.client_bytes(request("GET", "/after")) == []
    # The response to the request seen before is still followed.
    assert summary(view.server_bytes(response())) == [("response", "HTTP/1.1 200")]


def test_garbage_from_the_server_stops_following_the_server() -> None:
    view = HttpConversation()
    view.client_bytes(request("GET", "/a") + request("GET", "/b"))
    got = view.server_bytes(response(body=b"x") + b"SSH-2.0-OpenSSH\r\n\r\n")
    assert heads(got, "response") == ["HTTP/1.1 200"]
    assert view.server_bytes(response()) == []
    assert heads(view.client_bytes(request("GET", "/c")), "request") == ["GET /c HTTP/1.1"]
    # Nobody answers requests any more, so none is queued for an answer.
    view.client_bytes(request("GET", "/d") * 100)
    assert len(view._asked) == 0


def test_fed_bytes_are_copied() -> None:
    client = bytearray(request("POST", "/p", [("Content-Type", "text/plain")], b"secret"))
    server = bytearray(response(body=b"reply"))
    expected = watch([bytes(client)], [bytes(server)])
    view = HttpConversation()
    head = bytearray(client[:10])
    found = view.client_bytes(head)
    head[:] = b"X" * len(head)  # the caller reuses its buffer
    found += view.client_bytes(client[10:])
    client[:] = b"\x00" * len(client)
    found += view.server_bytes(server)
    server[:] = b"\x00" * len(server)
    assert found == expected
    assert summary(found)[1] == ("body", "body of POST /p: 6 bytes")


def test_waiting_server_bytes_are_copied() -> None:
    server = bytearray(response(body=b"early"))
    view = HttpConversation()
    assert view.server_bytes(server) == []
    server[:] = b"\x00" * len(server)
    found = view.client_bytes(request("GET", "/w"))
    assert summary(found)[-1] == ("body", "body of 200 to GET /w: 5 bytes")


# --- nothing raises ---------------------------------------------------------------

FRAGMENTS = [
    b"GET / HTTP/1.1\r\n",
    b"HEAD /h HTTP/1.1\r\n",
    b"CONNECT a:1 HTTP/1.1\r\n",
    b"HTTP/1.1 200 OK\r\n",
    b"HTTP/1.1 101 Switching Protocols\r\n",
    b"HTTP/1.0 100 Continue\r\n",
    b"Host: a\r\n",
    b"Content-Length: 3\r\n",
    b"Content-Length: -1\r\n",
    b"Transfer-Encoding: chunked\r\n",
    b"Upgrade: websocket\r\n",
    b"Connection: close\r\n",
    b"Content-Type: text/plain\r\n",
    b"\r\n",
    b"3\r\nabc\r\n",
    b"0\r\n\r\n",
    b"ffffffffffffffff\r\n",
    b"abc",
]
http_ish = st.lists(st.sampled_from(FRAGMENTS) | st.binary(max_size=8), max_size=30).map(b"".join)
chunks = st.lists(st.binary(max_size=40) | http_ish, max_size=8)


def feed_all(view: HttpConversation, client: list[bytes], server: list[bytes]) -> None:
    for index in range(max(len(client), len(server))):
        for part, method in ((client, view.client_bytes), (server, view.server_bytes)):
            if index < len(part):
                result = method(part[index])
                assert all(isinstance(s, HttpSighting) for s in result)
                assert all(isinstance(line, str) for s in result for line in s.lines())
                if view.is_http is False:
                    assert result == []


@FUZZ
@given(client=chunks, server=chunks)
def test_arbitrary_bytes_never_raise(client: list[bytes], server: list[bytes]) -> None:
    feed_all(HttpConversation(), client, server)


@FUZZ
@given(
    client=st.lists(http_ish, max_size=6),
    server=st.lists(http_ish, max_size=6),
    cuts=st.lists(st.integers(0, 200), max_size=4),
)
def test_http_shaped_bytes_never_raise(
    client: list[bytes], server: list[bytes], cuts: list[int]
) -> None:
    # Start with a real request so the conversation is followed as HTTP.
    view = HttpConversation()
    view.client_bytes(request("HEAD", "/"))
    stream = b"".join(server)
    pieces = [stream[a:b] for a, b in zip([0, *sorted(cuts)], [*sorted(cuts), None], strict=True)]
    feed_all(view, client, pieces)
    assert view.is_http is True


# --- purity -----------------------------------------------------------------------


def test_module_imports_only_h11_and_pure_standard_library() -> None:
    source = Path(httpview.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source)
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 0
    }
    assert imported <= {"__future__", "codecs", "re", "collections", "dataclasses", "typing", "h11"}
    calls = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert "print" not in calls
    check = "import sys, toytls.web.httpview; print('trio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
