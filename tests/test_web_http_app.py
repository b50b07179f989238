"""``toytls server --app http`` and ``toytls client --http``, over real loopback.

The CLI runs as real processes; keep-alive and malformed requests are
driven from the test with h11 over the library's own
:class:`~toytls.ToyTLSStream`, so the test speaks exactly the bytes it
means to. Every wait is bounded.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h11
import pytest
import trio
from processes import Background, Result, run_client, start_server, wait_until

import toytls

#: seconds any one exchange may take before the test fails
IO_TIMEOUT = 20.0
RUN_TIMEOUT = 30.0

CURL = shutil.which("curl")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


# ---------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def server(pki_dir: Path) -> Iterator[Background]:
    """A shared ``toytls server --app http``."""
    with start_server(pki_dir, "--app", "http") as process:
        yield process


@pytest.fixture
def own_server(pki_dir: Path) -> Iterator[Background]:
    """A ``toytls server --app http`` for one test, whose whole log it reads."""
    with start_server(pki_dir, "--app", "http") as process:
        yield process


def client_http(pki_dir: Path, address: str, method: str, path: str, *extra: str) -> Result:
    return run_client(pki_dir, address, "--http", method, path, *extra, timeout=RUN_TIMEOUT)


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.stdout + result.stderr, result.stderr


def json_body(stdout: str) -> dict[str, Any]:
    """The JSON object the client printed as the body, among its other lines."""
    start = stdout.index("\n{\n") + 1
    body, _ = json.JSONDecoder().raw_decode(stdout, start)
    assert isinstance(body, dict)
    return body


def head_lines(stdout: str) -> list[str]:
    return [line[2:] for line in stdout.splitlines() if line.startswith("< ")]


def header(lines: list[str], name: str) -> str:
    (value,) = [v for n, _, v in (line.partition(": ") for line in lines) if n.lower() == name]
    return value


# ------------------------------------------------------ toytls client --http


def test_client_gets_its_own_session_as_json(server: Background, pki_dir: Path) -> None:
    result = client_http(pki_dir, server.address, "GET", "/api/session", "-q")
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    head = head_lines(result.stdout)
    assert head[0] == "HTTP/1.1 200 OK"
    assert header(head, "content-type") == "application/json"
    report = json_body(result.stdout)
    assert report["protected"] is True
    assert report["server_name"] == "localhost"
    assert report["request"][0] == "GET /api/session HTTP/1.1"
    assert report["requests_before_this_one_on_this_connection"] == 0
    # The key X the server reports is the one this client's handshake made:
    # the client's narration, before the body, names its fingerprint.
    narration = result.stdout[: result.stdout.index("\n{\n")]
    fingerprint = report["session_key_fingerprint"]
    assert re.fullmatch(r"[0-9a-f]{16}", fingerprint)
    assert fingerprint in narration, narration


def test_client_json_events_tell_the_response(server: Background, pki_dir: Path) -> None:
    """With --json the body is not printed; the events describe it, and carry it decrypted."""
    result = client_http(pki_dir, server.address, "GET", "/api/session", "--json")
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert all(line.startswith("{") for line in result.stdout.splitlines()), result.stdout
    (response,) = result.named("http_response")
    assert response["status"] == 200
    headers = dict(response["headers"])
    assert int(headers["content-length"]) == response["body_bytes"] > 0
    received = b"".join(
        bytes.fromhex(e["data"]) for e in result.named("application_data") if e["side"] == "client"
    )
    _, _, body = received.partition(b"\r\n\r\n")
    assert len(body) == response["body_bytes"]
    (complete,) = result.named("handshake_complete")
    report = json.loads(body)
    assert report["session_key_fingerprint"] == complete["session"]["session_key_fingerprint"]
    (outcome,) = result.named("result")
    assert outcome["exit"] == 0


def test_client_head_prints_the_head_only(server: Background, pki_dir: Path) -> None:
    result = client_http(pki_dir, server.address, "HEAD", "/", "-q")
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    head = head_lines(result.stdout)
    assert head[0] == "HTTP/1.1 200 OK"
    assert header(head, "content-type").startswith("text/html")
    assert int(header(head, "content-length")) > 0  # what a GET would get
    assert "<html" not in result.stdout and "Your connection" not in result.stdout
    events = client_http(pki_dir, server.address, "HEAD", "/", "--json")
    (response,) = events.named("http_response")
    assert (response["status"], response["body_bytes"]) == (200, 0)


def test_client_missing_page_exits_1(server: Background, pki_dir: Path) -> None:
    result = client_http(pki_dir, server.address, "GET", "/missing", "-q")
    no_traceback(result)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "HTTP/1.1 404 Not Found" in head_lines(result.stdout)
    assert result.stderr.strip().splitlines() == [
        "toytls: the server answered HTTP/1.1 404 Not Found"
    ]


@pytest.mark.parametrize(
    ("method", "path", "says"),
    [("GE T", "/", "GE T"), ("GET", "nopath", "nopath"), ("GET", "/a b", "/a b")],
    ids=["bad-method", "relative-path", "space-in-path"],
)
def test_client_refuses_a_request_it_cannot_send(
    server: Background, pki_dir: Path, method: str, path: str, says: str
) -> None:
    result = client_http(pki_dir, server.address, method, path)
    no_traceback(result)
    assert result.returncode == 2, (result.stdout, result.stderr)
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("toytls: ") and says in line
    assert result.stdout == ""  # refused before connecting


# ------------------------------------------------- h11 over the library


async def exchange(
    stream: trio.abc.Stream, conn: h11.Connection, request: h11.Request, body: bytes = b""
) -> tuple[h11.Response, bytes]:
    """Send one request and read its whole response."""
    data = conn.send(request) or b""
    if body:
        data += conn.send(h11.Data(data=body)) or b""
    data += conn.send(h11.EndOfMessage()) or b""
    response: h11.Response | None = None
    chunks = []
    with trio.fail_after(IO_TIMEOUT):
        await stream.send_all(data)
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(bytes(await stream.receive_some()))
            elif isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                assert response is not None
                return response, b"".join(chunks)
            else:
                raise AssertionError(f"unexpected {event!r}")


def get(target: str, method: str = "GET", **extra: str) -> h11.Request:
    headers = [("Host", "localhost"), *((k.replace("_", "-"), v) for k, v in extra.items())]
    return h11.Request(method=method, target=target, headers=headers)


async def connect(pki_dir: Path, server: Background) -> toytls.ToyTLSStream:
    context = toytls.create_default_context(cafile=pki_dir / "root.pem")
    with trio.fail_after(IO_TIMEOUT):
        stream = await toytls.open_toytls_over_tcp_stream(
            "127.0.0.1", server.port, context=context, server_hostname="localhost"
        )
        await stream.do_handshake()
    return stream


async def test_keep_alive_serves_many_requests_on_one_connection(
    server: Background, pki_dir: Path
) -> None:
    conn = h11.Connection(h11.CLIENT)
    async with await connect(pki_dir, server) as stream:
        reports = []
        for _ in range(2):
            response, body = await exchange(stream, conn, get("/api/session"))
            assert response.status_code == 200
            reports.append(json.loads(body))
            conn.start_next_cycle()
        # Other answers keep the connection too: 405 (after its body), 404, HEAD.
        response, body = await exchange(
            stream, conn, get("/api/session", "POST", Content_Length="5"), b"hello"
        )
        assert response.status_code == 405
        assert (b"allow", b"GET, HEAD") in response.headers
        conn.start_next_cycle()
        response, _ = await exchange(stream, conn, get("/nowhere"))
        assert response.status_code == 404
        conn.start_next_cycle()
        response, body = await exchange(stream, conn, get("/", "HEAD"))
        assert response.status_code == 200 and body == b""
        conn.start_next_cycle()
        response, body = await exchange(stream, conn, get("/"))
        assert response.status_code == 200
        fingerprint = stream.session.session_key_fingerprint
    first, second = reports
    assert first["requests_before_this_one_on_this_connection"] == 0
    assert second["requests_before_this_one_on_this_connection"] == 1
    assert first["session_key_fingerprint"] == second["session_key_fingerprint"] == fingerprint
    assert first["peer"] == second["peer"]
    for direction in ("client_to_server", "server_to_client"):
        assert second["records_protected"][direction] > first["records_protected"][direction]
        assert (
            second["wire"][direction]["bytes"] > first["wire"][direction]["bytes"]
        )  # one wire, seen growing
    seen = first["what_an_attacker_saw"]["first_application_data_record_hex"]
    assert seen == second["what_an_attacker_saw"]["first_application_data_record_hex"]
    assert b"GET /api/session".hex() not in seen
    page = body.decode()
    assert fingerprint in page and "Your connection" in page


async def test_malformed_http_gets_400_and_the_server_goes_on(
    own_server: Background, pki_dir: Path
) -> None:
    async with await connect(pki_dir, own_server) as stream:
        await stream.send_all(b"NOT HTTP\r\n\r\n")
        answer = b""
        with trio.fail_after(IO_TIMEOUT):
            while chunk := await stream.receive_some():  # the server closes after it
                answer += chunk
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n"), answer
    assert b"connection: close" in answer.lower()
    async with await connect(pki_dir, own_server) as stream:
        response, body = await exchange(stream, h11.Connection(h11.CLIENT), get("/api/session"))
    assert response.status_code == 200
    assert json.loads(body)["request"][0] == "GET /api/session HTTP/1.1"
    wait_until(lambda: len([e for e in own_server.events() if e["event"] == "disconnect"]) == 2)
    stopped = own_server.stop()
    assert stopped.returncode == 130  # Ctrl-C
    assert "Traceback" not in stopped.stderr, stopped.stderr
    assert [e["request"] for e in stopped.named("http_request")] == ["GET /api/session HTTP/1.1"]
    assert [e["how"] for e in stopped.named("disconnect")] == ["disconnected"] * 2
    # The log counts HTTP bytes, as they were before protection: the bad
    # request in, the 400 out.
    first = stopped.named("disconnect")[0]
    assert first["bytes_in"] == len(b"NOT HTTP\r\n\r\n")
    assert first["bytes_out"] == len(answer)


# ----------------------------------------------------------- plain TCP, curl


@pytest.mark.skipif(CURL is None, reason="needs curl (apt-get install curl)")
def test_plaintext_server_says_so_to_curl() -> None:
    assert CURL is not None
    with Background("server", "--accept", "127.0.0.1:0", "--plaintext", "--app", "http") as plain:

        def fetch(path: str) -> str:
            done = subprocess.run(
                [
                    CURL,
                    "-sS",
                    "--fail",
                    "--noproxy",
                    "*",
                    "--max-time",
                    "20",
                    f"http://{plain.address}{path}",
                ],
                capture_output=True,
                text=True,
                timeout=RUN_TIMEOUT,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            return done.stdout

        page = fetch("/")
        report = json.loads(fetch("/api/session"))
    stopped = plain.stop()
    assert stopped.returncode == 130 and "Traceback" not in stopped.stderr, stopped.stderr
    assert "plain TCP" in page and "Your connection" in page
    assert "GET / HTTP/1.1" in page  # what anyone on the path read
    assert report["protected"] is False
    assert "certificates" not in report and "session_key_fingerprint" not in report
    assert report["what_an_attacker_saw"]["request"][0] == "GET /api/session HTTP/1.1"
    assert report["wire"]["client_to_server"]["records"] == {}  # not toytls records


# --------------------------------------------------------------- a browser


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="needs chromium to load the page through the tunnel: apt-get install chromium",
)
def test_chromium_renders_the_page_through_the_tunnel(
    server: Background, pki_dir: Path, tmp_path: Path
) -> None:
    assert CHROMIUM is not None
    with Background(
        "tunnel",
        "--accept",
        "127.0.0.1:0",
        "--connect",
        server.address,
        "--cafile",
        str(pki_dir / "root.pem"),
    ) as tun:
        done = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--disable-gpu",
                "--no-sandbox",
                "--no-proxy-server",
                # Without these it keeps trying to reach Google's hosts,
                # which this closed network refuses.
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={tmp_path / 'profile'}",
                "--dump-dom",
                f"http://{tun.address}/",
            ],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert "Your connection" in done.stdout
    assert "localhost" in done.stdout
    ups = [e for e in tun.stop().events if e["event"] == "tunnel_up"]
    assert ups and any(e["session_key_fingerprint"] in done.stdout for e in ups)


# ------------------------------------------------- idle and dribbling clients


def _plain_visit(request: object, earlier: int) -> Any:
    from toytls.streams.wiretap import WireLog
    from toytls.web.sessionpage import Visit

    return Visit(
        session=None,
        records_protected=(0, 0),
        wire_received=WireLog().as_dict(),
        wire_sent=WireLog().as_dict(),
        peer="test",
        request_head=("GET / HTTP/1.1",),
        earlier_requests=earlier,
    )


@pytest.mark.parametrize(
    "sent",
    [
        pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", id="idle-after-a-request"),
        pytest.param(b"GET / HTTP/1.1\r\nHo", id="stops-inside-the-head"),
        pytest.param(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", id="stops-inside-a-body"
        ),
    ],
)
async def test_a_silent_client_is_let_go_after_the_idle_timeout(
    autojump_clock: trio.testing.MockClock, sent: bytes
) -> None:
    """serve_http returns once no byte came for idle_timeout seconds — and
    not before: the control waits just under it and finds it still serving."""
    from toytls.web.httpapp import serve_http

    server_end, client_end = trio.testing.memory_stream_pair()
    finished_at: list[float] = []

    async def serve() -> None:
        await serve_http(server_end, _plain_visit, idle_timeout=30.0)
        finished_at.append(trio.current_time())

    async with trio.open_nursery() as nursery:
        start = trio.current_time()
        nursery.start_soon(serve)
        await client_end.send_all(sent)
        await trio.sleep(29.0)
        assert finished_at == []  # still waiting for the client
        await trio.sleep(5.0)
        assert len(finished_at) == 1
    assert 30.0 <= finished_at[0] - start <= 31.0


# ----------------------------------------------------------- the page's language


def test_the_page_speaks_the_language_asked_for(server: Background, pki_dir: Path) -> None:
    """English by default; ``?lang=zh`` in Chinese, with the article's terms."""
    english = client_http(pki_dir, server.address, "GET", "/", "-q")
    chinese = client_http(pki_dir, server.address, "GET", "/?lang=zh", "-q")
    for result in (english, chinese):
        no_traceback(result)
        assert result.returncode == 0, result.stderr
    assert '<html lang="en">' in english.stdout
    assert "Your connection to this page" in english.stdout
    assert '<html lang="zh">' in chinese.stdout
    assert "你和这个页面之间的连接" in chinese.stdout
    assert "密钥X" in chinese.stdout and "公钥 B+" in chinese.stdout
    assert "Your connection" not in chinese.stdout
    # Either way the page describes the same kind of session.
    assert "SHA-256" in english.stdout and "SHA-256" in chinese.stdout


def test_a_chinese_server_defaults_to_chinese(pki_dir: Path) -> None:
    with start_server(pki_dir, "--app", "http", "--lang", "zh") as zh_server:
        default = client_http(pki_dir, zh_server.address, "GET", "/", "-q")
        english = client_http(pki_dir, zh_server.address, "GET", "/?lang=en", "-q")
    assert "你和这个页面之间的连接" in default.stdout
    assert "Your connection to this page" in english.stdout
