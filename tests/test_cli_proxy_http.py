"""The attacker proxy recognises HTTP in the plaintext it gets to read.

Real processes: ``toytls server --app http``, ``toytls proxy``, and
``toytls client --http``. The love letter of the article becomes an HTTP
request with the secret in its query string.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from processes import Background, Result, run_client, start_proxy, start_server

SECRET_PATH = "/letter?to=alice&text=meet+me+at+eight"


def _client(pki_dir: Path, proxy: Background, *extra: str) -> Result:
    return run_client(pki_dir, proxy.address, "--http", "GET", SECRET_PATH, "--json", *extra)


def _http_events(proxy: Background) -> list[dict[str, Any]]:
    return [e for e in proxy.stop().events if e["event"] == "http"]


def test_watch_reads_http_request_from_a_plaintext_server(pki_dir: Path) -> None:
    with (
        start_server(pki_dir, "--plaintext", "--app", "http") as server,
        start_proxy(server.address, "watch") as proxy,
    ):
        result = _client(pki_dir, proxy, "--plaintext")
        # The page is not found (404): the client exits 1, but it got an answer.
        assert result.returncode == 1, result.stderr
        assert result.named("http_response")[0]["status"] == 404
        seen = _http_events(proxy)
    requests = [e for e in seen if e["http"] == "request"]
    responses = [e for e in seen if e["http"] == "response"]
    assert [e["first_line"] for e in requests] == [f"GET {SECRET_PATH} HTTP/1.1"]
    assert ["Host", "localhost"] in requests[0]["headers"]
    assert requests[0]["direction"] == "client→server"
    assert requests[0]["stolen"] is False
    assert [e["first_line"] for e in responses] == ["HTTP/1.1 404 Not Found"]
    assert responses[0]["direction"] == "server→client"


def test_swap_key_against_insecure_client_steals_the_request(pki_dir: Path) -> None:
    with (
        start_server(pki_dir, "--app", "http") as server,
        start_proxy(server.address, "swap-key", "--certs", str(pki_dir)) as proxy,
    ):
        result = _client(pki_dir, proxy, "--insecure")
        assert result.returncode == 1  # 404 from the real server, relayed intact
        seen = _http_events(proxy)
    assert [e["first_line"] for e in seen if e["http"] == "request"] == [
        f"GET {SECRET_PATH} HTTP/1.1"
    ]
    assert all(e["stolen"] for e in seen)
    assert any(e["http"] == "response" for e in seen)


def test_swap_key_against_verifying_client_reads_nothing(pki_dir: Path) -> None:
    with (
        start_server(pki_dir, "--app", "http") as server,
        start_proxy(server.address, "swap-key", "--certs", str(pki_dir)) as proxy,
    ):
        result = _client(pki_dir, proxy)
        assert result.returncode == 3  # certificate rejected
        events = proxy.stop().events
    assert [e for e in events if e["event"] == "http"] == []
    assert [e for e in events if e["event"] == "attack_failed"]


def test_watch_on_toytls_sees_only_ciphertext(pki_dir: Path) -> None:
    with (
        start_server(pki_dir, "--app", "http") as server,
        start_proxy(server.address, "watch") as proxy,
    ):
        result = _client(pki_dir, proxy)
        assert result.returncode == 1  # the 404 came through, protected
        events = proxy.stop().events
    assert [e for e in events if e["event"] in ("http", "plaintext")] == []
    records = [e for e in events if e["event"] == "record"]
    assert any(e["content_type"] == "application_data" for e in records)
    assert "meet+me" not in "".join(str(e) for e in events)
