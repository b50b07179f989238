"""``toytls tunnel`` and ``toytls server --forward``, end to end, as real processes.

The stunnel picture: an unchanged program (curl, or a plain socket) speaks
plain TCP to ``toytls tunnel``, which carries each connection over its own
toytls/1 connection to ``toytls server --forward`` (or ``--app http``),
which hands the bytes to a plain TCP service on loopback. Everything binds
127.0.0.1, every wait is bounded, and the data is checked byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from processes import ENV, Background, server_args, start_server, wait_until

MIB = 1024 * 1024
#: curl and socket operations give up after this long (a hang is a failure)
IO_TIMEOUT = 30.0
#: the tunnel must make a writer wait long before this much is accepted
BUFFER_LIMIT = 64 * MIB
#: no progress for this long means the sender is blocked
STALL = 1.0


# ---------------------------------------------------------------- helpers


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def accepts(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def named(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in events if e.get("event") == name]


def tunnel(pki_dir: Path, connect: str, *extra: str, cafile: str = "root.pem") -> Background:
    """A ``toytls tunnel`` on a free loopback port to ``connect``."""
    return Background(
        "tunnel",
        "--accept",
        "127.0.0.1:0",
        "--connect",
        connect,
        "--cafile",
        str(pki_dir / cafile),
        *extra,
    )


def http_app_on(pki_dir: Path, port: int) -> Background:
    """``toytls server --app http`` on a given port, retried while it is still taken."""
    last: AssertionError | None = None
    for _ in range(50):
        try:
            return Background(*server_args(pki_dir, "--app", "http", accept=f"127.0.0.1:{port}"))
        except AssertionError as exc:  # "address in use": the old one is going
            last = exc
    raise AssertionError(f"no server on port {port}: {last}")


def clean_stop(process: Background) -> list[dict[str, Any]]:
    """Ctrl-C ``process``; it must stop with status 130 and no traceback."""
    result = process.stop()
    assert result.returncode == 130, result.stderr  # Ctrl-C
    assert "Traceback" not in result.stderr, result.stderr
    return result.events


def leaf_sha256(pki_dir: Path) -> str:
    leaf = x509.load_pem_x509_certificate((pki_dir / "server.pem").read_bytes())
    return hashlib.sha256(leaf.public_bytes(serialization.Encoding.DER)).hexdigest()


def colon_hex(hex_text: str) -> str:
    """``ab12…`` as ``AB:12:…``, the form ``openssl x509 -fingerprint`` prints."""
    return ":".join(hex_text[i : i + 2] for i in range(0, len(hex_text), 2)).upper()


# ------------------------------------------------------------------- curl

CURL = shutil.which("curl")


def curl_args(url: str, *extra: str) -> list[str]:
    assert CURL is not None
    return [
        CURL,
        "--silent",
        "--show-error",
        "--noproxy",
        "*",
        "--max-time",
        str(int(IO_TIMEOUT)),
        *extra,
        url,
    ]


def curl(url: str, *extra: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        curl_args(url, *extra), capture_output=True, timeout=IO_TIMEOUT + 10, check=False
    )


def curl_ok(url: str) -> bytes:
    done = curl(url, "--fail")
    assert done.returncode == 0, (done.returncode, done.stderr)
    return done.stdout


def assert_closed_without_answer(done: subprocess.CompletedProcess[bytes]) -> None:
    """curl saw its connection fail with no HTTP answer at all.

    56 is "connection reset": the tunnel resets a connection it cannot
    carry, so that no program takes the failure for an empty answer (a
    clean close would be 52, "empty reply"). When the reset comes before
    curl has looked at its own connect — a refusal can be that quick, and
    a loaded machine can make curl that slow — curl reports the same reset
    as 7, "couldn't connect". The callers check in the tunnel's log that
    it did accept each of these connections, so 7 is that reset, not a
    closed port.
    """
    reset = done.returncode == 56 or (done.returncode == 7 and b"Couldn't connect" in done.stderr)
    assert reset, (done.returncode, done.stdout, done.stderr)
    assert done.stdout == b""


needs_curl = pytest.mark.skipif(CURL is None, reason="needs curl (apt-get install curl)")


# --------------------------------------------------------------- fixtures


@dataclass(frozen=True)
class Files:
    """Random files served by ``python -m http.server``."""

    directory: Path
    sha256: dict[str, str]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    directory = tmp_path_factory.mktemp("www")
    digests = {}
    for name, size in (("big.bin", 5 * MIB), ("one.bin", MIB)):
        data = os.urandom(size)
        (directory / name).write_bytes(data)
        digests[name] = hashlib.sha256(data).hexdigest()
    return Files(directory, digests)


def start_web(directory: Path, log: Path) -> tuple[subprocess.Popen[bytes], int] | None:
    """``python -m http.server`` on a free port; None if the port was taken meanwhile."""
    port = free_port()
    with log.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=ENV,
        )
    wait_until(lambda: process.poll() is not None or accepts(port), timeout=20)
    return (process, port) if process.poll() is None else None


@pytest.fixture(scope="module")
def web(files: Files, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m http.server`` serving :func:`files` on loopback; its ``HOST:PORT``."""
    log = tmp_path_factory.mktemp("web") / "http.log"
    for _ in range(5):
        if started := start_web(files.directory, log):
            break
    else:
        raise AssertionError(f"http.server did not start: {log.read_text()}")
    process, port = started
    try:
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def http_app(pki_dir: Path) -> Iterator[Background]:
    """A genuine ``toytls server --app http``."""
    with start_server(pki_dir, "--app", "http") as process:
        yield process


# ------------------------------------------------------- curl downloads


def check_one_disconnect_each(
    tunnel_events: list[dict[str, Any]], server_events: list[dict[str, Any]], count: int
) -> None:
    """Every connection was tunnelled, ended cleanly and was logged once."""
    connects = sorted(e["connection"] for e in named(tunnel_events, "connect"))
    assert connects == list(range(1, count + 1))
    ups = named(tunnel_events, "tunnel_up")
    assert sorted(e["connection"] for e in ups) == connects
    assert all(e["verified"] is True for e in ups)
    assert len({e["session_key_fingerprint"] for e in ups}) == count  # a key X each
    ends = named(tunnel_events, "disconnect")
    assert sorted(e["connection"] for e in ends) == connects
    assert {e["how"] for e in ends} == {"closed"}, ends
    assert not named(tunnel_events, "refused") and not named(tunnel_events, "unreachable")
    served = named(server_events, "disconnect")
    assert sorted(e["connection"] for e in served) == list(range(1, count + 1))
    assert {e["how"] for e in served} == {"disconnected"}, served
    # Both ends counted the same plaintext, each way.
    assert sorted(e["bytes_down"] for e in ends) == sorted(e["bytes_out"] for e in served)
    assert sorted(e["bytes_up"] for e in ends) == sorted(e["bytes_in"] for e in served)


@needs_curl
def test_curl_downloads_5_mib_intact(pki_dir: Path, web: str, files: Files, tmp_path: Path) -> None:
    with (
        start_server(pki_dir, "--forward", web) as server,
        tunnel(pki_dir, server.address) as tun,
    ):
        out = tmp_path / "big.bin"
        done = curl(f"http://{tun.address}/big.bin", "--fail", "--output", str(out))
        assert done.returncode == 0, done.stderr
        assert sha256_file(out) == files.sha256["big.bin"]
        wait_until(lambda: named(tun.events(), "disconnect"), timeout=IO_TIMEOUT)
        wait_until(lambda: named(server.events(), "disconnect"), timeout=IO_TIMEOUT)
    tunnel_events, server_events = clean_stop(tun), clean_stop(server)
    check_one_disconnect_each(tunnel_events, server_events, 1)
    (end,) = named(tunnel_events, "disconnect")
    assert end["bytes_down"] > 5 * MIB  # the file and the response head


@needs_curl
def test_twenty_parallel_curl_downloads_intact(
    pki_dir: Path, web: str, files: Files, tmp_path: Path
) -> None:
    count = 20
    with (
        start_server(pki_dir, "--forward", web) as server,
        tunnel(pki_dir, server.address) as tun,
    ):
        url = f"http://{tun.address}/one.bin"
        outputs = [tmp_path / f"one-{n}.bin" for n in range(count)]
        downloads = [
            subprocess.Popen(
                curl_args(url, "--fail", "--output", str(out)),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for out in outputs
        ]
        errors = [d.communicate(timeout=IO_TIMEOUT + 10)[1] for d in downloads]
        assert [d.returncode for d in downloads] == [0] * count, errors
        assert {sha256_file(out) for out in outputs} == {files.sha256["one.bin"]}
        wait_until(lambda: len(named(tun.events(), "disconnect")) >= count, timeout=IO_TIMEOUT)
        wait_until(lambda: len(named(server.events(), "disconnect")) >= count, timeout=IO_TIMEOUT)
    check_one_disconnect_each(clean_stop(tun), clean_stop(server), count)


@needs_curl
def test_tunnel_log_does_not_copy_the_tunnelled_data(pki_dir: Path, web: str, files: Files) -> None:
    """At the default level the tunnel logs connections, not every record.

    ``toytls server --forward`` tells a forwarded connection's records only
    at ``-vv`` ("like the tunnel's", says its comment); the tunnel's JSON log
    must not carry each record either — that would copy every tunnelled
    byte, in plaintext, into the log (six times its size in hex and JSON).
    """
    data = (files.directory / "one.bin").read_bytes()
    with (
        start_server(pki_dir, "--forward", web) as server,
        tunnel(pki_dir, server.address) as tun,
    ):
        body = curl_ok(f"http://{tun.address}/one.bin")
        assert hashlib.sha256(body).hexdigest() == files.sha256["one.bin"]
        wait_until(lambda: named(tun.events(), "disconnect"), timeout=IO_TIMEOUT)
    clean_stop(server)
    events = clean_stop(tun)
    log = tun.stop().stdout
    per_record = {e["event"] for e in events} & {
        "record_sent",
        "record_received",
        "application_data",
    }
    assert not per_record, f"the tunnel logged {sorted(per_record)} for every record"
    assert data[4096 : 4096 + 64].hex() not in log, "the tunnelled plaintext is in the log"
    assert len(log) < len(data), f"{len(log)} bytes of log for {len(data)} bytes tunnelled"


# ------------------------------------------------------- the session page


@needs_curl
def test_session_page_and_json_through_the_tunnel(http_app: Background, pki_dir: Path) -> None:
    sha256 = leaf_sha256(pki_dir)
    with tunnel(pki_dir, http_app.address) as tun:

        def key_fingerprint(number: int) -> str:
            wait_until(lambda: len(named(tun.events(), "tunnel_up")) >= number, timeout=10)
            up = named(tun.events(), "tunnel_up")[number - 1]
            assert up["connection"] == number and up["verified"] is True
            fingerprint: str = up["session_key_fingerprint"]
            return fingerprint

        page = curl_ok(f"http://{tun.address}/").decode()
        first_key = key_fingerprint(1)
        report = json.loads(curl_ok(f"http://{tun.address}/api/session"))
        second_key = key_fingerprint(2)
    clean_stop(tun)

    assert "Your connection" in page
    assert "<code>localhost</code>" in page  # the name the tunnel asked for
    assert colon_hex(sha256) in page  # the leaf's SHA-256, as a person reads it
    assert re.fullmatch(r"[0-9a-f]{16}", first_key)
    assert first_key in page  # this connection's key X, as the tunnel logged it
    assert second_key != first_key and second_key not in page

    assert report["protected"] is True
    assert report["server_name"] == "localhost"
    assert report["session_key_fingerprint"] == second_key
    assert report["certificates"][0]["sha256"] == sha256
    assert report["certificates"][0]["subject"] == "CN=localhost,O=toytls"
    assert report["request"][0] == "GET /api/session HTTP/1.1"
    records = report["records_protected"]
    assert records["client_to_server"] > 0 and records["server_to_client"] > 0
    seen = report["what_an_attacker_saw"]["first_application_data_record_hex"]
    assert seen.startswith("17")  # application_data
    assert len(seen) // 2 > len("GET /api/session HTTP/1.1\r\n")
    # What crossed the wire is ciphertext, not the request curl wrote.
    assert b"GET /api/session".hex() not in seen
    assert b"api/session".hex() not in seen


# ------------------------------------------------------ refused, unreachable


@needs_curl
@dataclass(frozen=True)
class Mistrust:
    """A tunnel set up so that the genuine server's certificate fails its check."""

    cafile: str
    extra: tuple[str, ...]
    #: the refused event's reason names this
    says: str
    alert: str


@needs_curl
@pytest.mark.parametrize(
    "case",
    [
        Mistrust("attacker-root.pem", (), "toytls Root X1", "unknown_ca"),
        Mistrust("root.pem", ("--server-name", "example.test"), "example.test", "bad_certificate"),
    ],
    ids=["untrusted-root", "wrong-name"],
)
def test_tunnel_refuses_a_certificate_it_cannot_check(
    http_app: Background, pki_dir: Path, case: Mistrust
) -> None:
    with tunnel(pki_dir, http_app.address, *case.extra, cafile=case.cafile) as tun:
        for _ in range(2):  # refused, and still there for the next one
            assert_closed_without_answer(curl(f"http://{tun.address}/"))
        wait_until(lambda: len(named(tun.events(), "refused")) == 2, timeout=10)
        assert tun.process.poll() is None
    events = clean_stop(tun)
    refusals = named(events, "refused")
    assert [e["connection"] for e in refusals] == [1, 2]
    for refused in refusals:
        assert refused["alert"] == case.alert, refused
        assert case.says in refused["reason"], refused
    assert not named(events, "tunnel_up") and not named(events, "disconnect")


@needs_curl
def test_a_rejected_attacker_then_the_real_server_on_one_tunnel(
    http_app: Background, pki_dir: Path
) -> None:
    """A self-signed impostor is refused; the same tunnel then serves the real server."""
    for _ in range(5):
        port = free_port()
        try:
            attacker = Background(
                "proxy",
                "--listen",
                f"127.0.0.1:{port}",
                "--upstream",
                http_app.address,
                "--mode",
                "self-signed",
                "--certs",
                str(pki_dir),
            )
            break
        except AssertionError:  # the port was taken meanwhile: another
            continue
    else:
        raise AssertionError("no free port for the attacker")
    with attacker, tunnel(pki_dir, f"127.0.0.1:{port}") as tun:
        assert_closed_without_answer(curl(f"http://{tun.address}/"))
        wait_until(lambda: named(tun.events(), "refused"), timeout=10)
        attacked = clean_stop(attacker)
        assert not named(attacked, "attack_succeeded") and not named(attacked, "stolen")
        with http_app_on(pki_dir, port) as genuine:
            page = curl_ok(f"http://{tun.address}/").decode()
            wait_until(lambda: named(tun.events(), "disconnect"), timeout=10)
            clean_stop(genuine)
        assert tun.process.poll() is None
    events = clean_stop(tun)
    (refused,) = named(events, "refused")
    assert refused["connection"] == 1
    assert refused["alert"] == "unknown_ca"
    assert "self-signed" in refused["reason"]
    (up,) = named(events, "tunnel_up")
    assert up["connection"] == 2 and up["verified"] is True
    assert up["session_key_fingerprint"] in page
    (end,) = named(events, "disconnect")
    assert end["connection"] == 2 and end["how"] == "closed"


@needs_curl
def test_an_unreachable_server_then_a_good_connection(pki_dir: Path) -> None:
    port = free_port()  # nothing listens there yet
    with tunnel(pki_dir, f"127.0.0.1:{port}") as tun:
        assert_closed_without_answer(curl(f"http://{tun.address}/"))
        wait_until(lambda: named(tun.events(), "unreachable"), timeout=10)
        assert tun.process.poll() is None
        with http_app_on(pki_dir, port) as genuine:
            page = curl_ok(f"http://{tun.address}/").decode()
            wait_until(lambda: named(tun.events(), "disconnect"), timeout=10)
            clean_stop(genuine)
    events = clean_stop(tun)
    (unreachable,) = named(events, "unreachable")
    assert unreachable["connection"] == 1
    assert f"127.0.0.1:{port}" in unreachable["reason"]
    assert unreachable["alert"] is None
    (up,) = named(events, "tunnel_up")
    assert up["connection"] == 2
    assert "Your connection" in page and up["session_key_fingerprint"] in page
    (end,) = named(events, "disconnect")
    assert end["connection"] == 2 and end["how"] == "closed"


# ------------------------------------------------- half-close, backpressure


class Service:
    """A one-connection plain TCP service on loopback, run in a thread.

    ``talk(conn)`` runs on the accepted socket (blocking, with a timeout);
    whatever it raises is re-raised by :meth:`join`.
    """

    def __init__(self, talk: Callable[[socket.socket], None]) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(IO_TIMEOUT)
        self.port: int = self.listener.getsockname()[1]
        self.talk = talk
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _run(self) -> None:
        try:
            conn, _ = self.listener.accept()
            with conn:
                conn.settimeout(IO_TIMEOUT)
                self.talk(conn)
        except BaseException as exc:  # reported by join()
            self.error = exc
        finally:
            self.listener.close()

    def join(self) -> None:
        self.thread.join(timeout=IO_TIMEOUT + 10)
        assert not self.thread.is_alive(), "the service never finished"
        if self.error is not None:
            raise self.error


def read_to_eof(sock: socket.socket) -> tuple[int, str]:
    """Read until the peer's FIN: (byte count, SHA-256 hex)."""
    digest, count = hashlib.sha256(), 0
    while chunk := sock.recv(65536):
        digest.update(chunk)
        count += len(chunk)
    return count, digest.hexdigest()


@contextmanager
def connect_through(pki_dir: Path, service: Service) -> Iterator[tuple[socket.socket, Background]]:
    """client socket → tunnel → server --forward → ``service``."""
    with (
        start_server(pki_dir, "--forward", service.address) as server,
        tunnel(pki_dir, server.address) as tun,
        socket.create_connection(("127.0.0.1", tun.port), timeout=IO_TIMEOUT) as client,
    ):
        yield client, tun
        service.join()
        wait_until(lambda: named(tun.events(), "disconnect"), timeout=IO_TIMEOUT)
        wait_until(lambda: named(server.events(), "disconnect"), timeout=IO_TIMEOUT)
    check_one_disconnect_each(clean_stop(tun), clean_stop(server), 1)


def test_half_close_from_the_client_reaches_the_service(pki_dir: Path) -> None:
    """Send, shut down writing, read the answer: the FIN crosses as close_notify."""

    def answer_after_eof(conn: socket.socket) -> None:
        _, digest = read_to_eof(conn)  # only a FIN ends this
        conn.sendall(digest.encode())

    data = os.urandom(MIB)
    service = Service(answer_after_eof)
    with connect_through(pki_dir, service) as (client, tun):
        client.sendall(data)
        client.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := client.recv(4096):
            answer += chunk
        assert answer.decode() == hashlib.sha256(data).hexdigest()
    (end,) = named(tun.stop().events, "disconnect")
    assert (end["bytes_up"], end["bytes_down"]) == (MIB, 64)


def test_half_close_from_the_service_reaches_the_client(pki_dir: Path) -> None:
    """The service says its piece and shuts down writing; the client still talks."""
    received: list[tuple[int, str]] = []

    def speak_first(conn: socket.socket) -> None:
        conn.sendall(b"hello, then I only listen\n")
        conn.shutdown(socket.SHUT_WR)
        received.append(read_to_eof(conn))

    data = os.urandom(MIB)
    service = Service(speak_first)
    with connect_through(pki_dir, service) as (client, _):
        greeting = b""
        while chunk := client.recv(4096):  # ends only at the service's FIN
            greeting += chunk
        assert greeting == b"hello, then I only listen\n"
        client.sendall(data)  # the other direction is still open
        client.shutdown(socket.SHUT_WR)
        assert client.recv(1) == b""
    assert received == [(MIB, hashlib.sha256(data).hexdigest())]


def test_a_slow_service_makes_the_writer_wait(pki_dir: Path) -> None:
    """The tunnel and the server pass backpressure on instead of buffering."""
    reading = threading.Event()
    received: list[tuple[int, str]] = []

    def slow_reader(conn: socket.socket) -> None:
        if not reading.wait(timeout=IO_TIMEOUT * 2):
            raise AssertionError("never told to read")
        received.append(read_to_eof(conn))

    sent = hashlib.sha256()
    accepted = 0
    service = Service(slow_reader)
    with connect_through(pki_dir, service) as (client, _):
        client.setblocking(False)
        chunk = os.urandom(65536)
        pending = memoryview(chunk)
        while accepted < BUFFER_LIMIT:
            try:
                n = client.send(pending)
            except BlockingIOError:
                _, writable, _ = select.select([], [client], [], STALL)
                if not writable:
                    break  # nothing moved for STALL seconds: the writer waits
                continue
            sent.update(pending[:n])
            accepted += n
            pending = pending[n:] or memoryview(chunk)
        assert 0 < accepted < BUFFER_LIMIT, f"{accepted} bytes accepted and still no wait"
        assert not received
        reading.set()
        client.setblocking(True)
        client.settimeout(IO_TIMEOUT)
        tail = os.urandom(MIB)  # and the pipe moves again
        client.sendall(pending)
        client.sendall(tail)
        sent.update(pending)
        sent.update(tail)
        accepted += len(pending) + len(tail)
        client.shutdown(socket.SHUT_WR)
        assert client.recv(1) == b""
    assert received == [(accepted, sent.hexdigest())]


# ------------------------------------------------- a break is not an end


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset (SO_LINGER on, zero timeout)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_a_service_that_breaks_is_not_passed_off_as_a_clean_end(pki_dir: Path) -> None:
    """The service resets mid-answer: the local program must see an error,
    not an end of data that would make the truncated answer look whole."""
    sent = os.urandom(256 * 1024)

    def send_part_then_reset(conn: socket.socket) -> None:
        # Wait until the client's first bytes came through: the whole path
        # is up, so the reset breaks a working connection, not its set-up.
        assert conn.recv(2) == b"go"
        conn.sendall(sent)
        _reset(conn.dup())  # the dup carries the reset; `with` closes the rest

    service = Service(send_part_then_reset)
    with (
        start_server(pki_dir, "--forward", service.address) as server,
        tunnel(pki_dir, server.address) as tun,
        socket.create_connection(("127.0.0.1", tun.port), timeout=IO_TIMEOUT) as client,
    ):
        client.sendall(b"go")
        received = bytearray()
        with pytest.raises(ConnectionResetError):
            while chunk := client.recv(65536):
                received += chunk
        service.join()
        wait_until(lambda: named(tun.events(), "disconnect"), timeout=IO_TIMEOUT)
        wait_until(lambda: named(server.events(), "disconnect"), timeout=IO_TIMEOUT)
        tunnel_end = named(clean_stop(tun), "disconnect")
        server_end = named(clean_stop(server), "disconnect")
    assert sent.startswith(bytes(received))  # what came was right, only cut short
    assert "broke" in server_end[0]["how"]  # the service broke
    assert "truncation" in tunnel_end[0]["how"]  # the tunnel saw no close_notify


def test_a_local_program_that_breaks_is_not_passed_off_as_a_clean_end(pki_dir: Path) -> None:
    """The local program resets mid-request: the service must see an error too."""
    outcome: list[str] = []

    def read_until_something_happens(conn: socket.socket) -> None:
        try:
            read_to_eof(conn)
            outcome.append("clean end")
        except ConnectionResetError:
            outcome.append("reset")

    service = Service(read_until_something_happens)
    with (
        start_server(pki_dir, "--forward", service.address) as server,
        tunnel(pki_dir, server.address) as tun,
    ):
        client = socket.create_connection(("127.0.0.1", tun.port), timeout=IO_TIMEOUT)
        client.sendall(os.urandom(64 * 1024))
        wait_until(lambda: named(tun.events(), "tunnel_up"), timeout=IO_TIMEOUT)
        _reset(client)
        service.join()
        wait_until(lambda: named(server.events(), "disconnect"), timeout=IO_TIMEOUT)
        server_end = named(clean_stop(server), "disconnect")
        clean_stop(tun)
    assert outcome == ["reset"]
    assert "truncation" in server_end[0]["how"]


def test_an_unreachable_service_is_a_failure_not_an_empty_answer(pki_dir: Path) -> None:
    """server --forward cannot reach its service: the program at the tunnel
    sees its connection fail, and both logs say why."""
    port = free_port()
    with (
        start_server(pki_dir, "--forward", f"127.0.0.1:{port}") as server,
        tunnel(pki_dir, server.address) as tun,
        socket.create_connection(("127.0.0.1", tun.port), timeout=IO_TIMEOUT) as client,
    ):
        with pytest.raises(ConnectionResetError):
            client.recv(1024)
        wait_until(lambda: named(tun.events(), "disconnect"), timeout=IO_TIMEOUT)
        wait_until(lambda: named(server.events(), "disconnect"), timeout=IO_TIMEOUT)
        tunnel_end = named(clean_stop(tun), "disconnect")
        server_end = named(clean_stop(server), "disconnect")
    assert f"cannot reach 127.0.0.1:{port}" in server_end[0]["how"]
    assert "truncation" in tunnel_end[0]["how"]
