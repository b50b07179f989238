"""A scripted hostile client against one real ``toytls server`` process.

One server runs for the whole module (``--accept 127.0.0.1:0 --json``).
Every case has the same shape:

1. an honest client (the library) connects, handshakes and echoes;
2. an *innocent* honest client connects and keeps echoing, intact, for as
   long as the probe runs (§6: one misbehaving connection never disturbs
   another);
3. the probe: :class:`hostile.HostileClient` sends the broken bytes and
   expects the exact alert of the spec — level, code, protected or not —
   followed by the close, every wait bounded;
4. an honest client handshakes and echoes again;
5. the server's log must hold exactly one ``disconnect`` line for every
   probe connection, naming the alert it sent (or the reason it closed).

The last test runs whatever cases were not run (so the whole hostile suite
has always gone through the server), stops the server and checks that its
output holds no traceback at all.

Alerts are named as §5 names them; the expected alert for each case comes
from ``PROTOCOL.md`` (and, where the text leaves room, from the readings
README.md documents), not from the implementation.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trio
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from hostile import (
    CLOSED,
    TIMEOUT,
    Alert,
    HostileClient,
    Split,
    hostile_client,
    open_tcp,
    peer_name,
    reach,
)
from processes import Background, start_server
from wire import (
    ALERT,
    ALERT_NAMES,
    APPLICATION_DATA,
    BAD_RECORD_MAC,
    CERTIFICATE,
    CLIENT_HELLO,
    CLIENT_KEY_EXCHANGE,
    CLOSE_NOTIFY,
    DECODE_ERROR,
    DECRYPT_ERROR,
    FATAL,
    FINISHED,
    HANDSHAKE,
    ILLEGAL_PARAMETER,
    PROTOCOL_VERSION,
    RECORD_OVERFLOW,
    SERVER_HELLO,
    UNEXPECTED_MESSAGE,
    WARNING,
    Direction,
    client_hello_body,
    derive_keys,
    flip,
    header,
    message,
    modulus_bytes,
    oaep,
    record,
    vector,
)

import toytls

#: A whole case (honest, innocent, probe, honest, log) must end within this.
CASE_TIMEOUT = 30.0
#: A side that sees end of stream during the handshake must close at once,
#: far sooner than the 10 s handshake deadline of §6.
PROMPT = 2.0

Make = Callable[[HostileClient], bytes | list[bytes]]
Probe = Callable[["Env"], Awaitable[None]]


def sent(alert: int) -> str:
    """The server's log line for a connection it rejected with ``alert``."""
    return f"failed: alert sent: {ALERT_NAMES[alert]}"


def received(name: str) -> str:
    return f"failed: alert received: {name}"


DISCONNECTED = "disconnected"
TRUNCATED = "(truncation)"
EOF_IN_HANDSHAKE = "closed the connection during the handshake"


# ------------------------------------------------------------ the server log


class ServerLog:
    """Reads the server's JSON lines as they are drained, once each.

    Only ``connect`` and ``disconnect`` objects are parsed: the trace of
    every record would make re-parsing the whole log per case quadratic.
    """

    def __init__(self, server: Background) -> None:
        self.server = server
        self._seen = 0
        self._seen_err = 0
        #: peer "host:port" -> connection numbers, in order (one, unless the
        #: source port was reused where unique source addresses are missing)
        self.connects: dict[str, list[int]] = {}
        #: connection number -> its disconnect lines' "how"
        self.disconnects: dict[int, list[str]] = {}
        #: connection number -> its disconnect lines as printed
        self.raw_disconnects: dict[int, list[str]] = {}
        self.tracebacks: list[str] = []

    def poll(self) -> None:
        # Background drains stdout and stderr into these lists continuously.
        lines: list[str] = self.server.out
        end = len(lines)
        for line in lines[self._seen : end]:
            if "Traceback" in line:
                self.tracebacks.append(line)
            if '"event": "connect"' in line:
                event = json.loads(line)
                self.connects.setdefault(event["peer"], []).append(event["connection"])
            elif '"event": "disconnect"' in line:
                event = json.loads(line)
                self.disconnects.setdefault(event["connection"], []).append(event["how"])
                self.raw_disconnects.setdefault(event["connection"], []).append(line)
        self._seen = end
        errors: list[str] = self.server.err
        end = len(errors)
        self.tracebacks += [line for line in errors[self._seen_err : end] if "Traceback" in line]
        self._seen_err = end

    def outcome(self, peer: str) -> list[str] | None:
        """The disconnect lines of the connection from ``peer``."""
        self.poll()
        numbers = self.connects.get(peer)
        if not numbers:
            return None
        return self.disconnects.get(numbers[-1])


@dataclass
class Env:
    """What a probe needs: the server's port, its log, a client context."""

    port: int
    log: ServerLog
    context: toytls.Context
    #: (peer as the server logs it, expected part of its disconnect line)
    expected: list[tuple[str, str]] = field(default_factory=list)
    #: every expectation checked so far in the module, for the final test
    everything: list[tuple[str, str]] = field(default_factory=list)

    def expect(self, peer: str, outcome: str) -> None:
        self.expected.append((peer, outcome))

    @asynccontextmanager
    async def client(self, outcome: str) -> AsyncIterator[HostileClient]:
        """A hostile connection whose server log line must contain ``outcome``."""
        async with hostile_client(self.port) as c:
            self.expect(c.name, outcome)
            yield c

    async def check_log(self) -> None:
        """Every connection of this case logged one disconnect line, as expected."""
        for peer, outcome in self.expected:
            with trio.fail_after(TIMEOUT):
                while (lines := self.log.outcome(peer)) is None:
                    await trio.sleep(0.01)
            assert len(lines) == 1, f"connection from {peer}: {lines}"
            assert outcome in lines[0], f"expected {outcome!r} in the server's log: {lines[0]!r}"
            assert "internal error" not in lines[0], lines[0]
        self.everything += self.expected
        self.expected.clear()
        assert not self.log.tracebacks, self.log.tracebacks


@pytest.fixture(scope="module")
def server(pki_dir: Path) -> Iterator[Background]:
    with start_server(pki_dir) as background:
        yield background


@pytest.fixture(scope="module")
def env(server: Background, pki_dir: Path) -> Env:
    context = toytls.create_default_context(cafile=pki_dir / "root.pem")
    return Env(port=server.port, log=ServerLog(server), context=context)


# --------------------------------------------------- honest and innocent


async def _receive_exactly(stream: trio.abc.ReceiveStream, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = await stream.receive_some()
        assert chunk, f"the server closed after {len(data)} of {size} bytes"
        data += chunk
    return data


@asynccontextmanager
async def honest(env: Env) -> AsyncIterator[toytls.ToyTLSStream]:
    tcp = await open_tcp(env.port)
    stream = toytls.ToyTLSStream(tcp, env.context, server_hostname="localhost")
    env.expect(peer_name(tcp), DISCONNECTED)
    with trio.fail_after(TIMEOUT):
        await stream.do_handshake()
    async with stream:
        yield stream
        with trio.fail_after(TIMEOUT):
            await stream.send_eof()
            assert await stream.receive_some() == b""


async def honest_echo(env: Env, text: bytes) -> None:
    """Step 1 and 4: a fresh honest connection echoes ``text`` intact."""
    async with honest(env) as stream:
        with trio.fail_after(TIMEOUT):
            await stream.send_all(text)
            assert await _receive_exactly(stream, len(text)) == text


async def innocent(
    env: Env,
    stop: trio.Event,
    *,
    task_status: trio.TaskStatus[list[int]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Step 2: echo round trips, intact, until the probe is over (and once more)."""
    rounds = [0]
    async with honest(env) as stream:
        task_status.started(rounds)
        while True:
            done = stop.is_set()
            text = b"innocent round %d " % rounds[0] * 8
            with trio.fail_after(TIMEOUT):
                await stream.send_all(text)
                assert await _receive_exactly(stream, len(text)) == text
            rounds[0] += 1
            if done:
                return
            await trio.sleep(0.002)


# ----------------------------------------------------------- probe helpers


STAGES = ("start", "hello", "key_exchange", "connected")


def protected_at(stage: str) -> bool:
    """Whether the server's write keys are active at ``stage`` (§3.4)."""
    return stage in ("key_exchange", "connected")


def describe(got: Alert | str) -> str:
    return got if isinstance(got, str) else repr(got)


async def expect_fatal(
    c: HostileClient, alert: int, *, protected: bool, allow: tuple[int, ...] = ()
) -> None:
    """The server sends exactly the fatal ``alert`` and closes.

    Args:
        allow: Content types that may arrive before the alert (for example
            the server's flight when a probe sends ClientHello first).
    """
    mark = len(c.received)
    got = await c.read_alert()
    assert got == Alert(FATAL, alert, protected), (
        f"expected fatal {ALERT_NAMES[alert]} (protected={protected}), got {describe(got)}"
    )
    await c.expect_closed()
    before = [r for r in c.received[mark:-1] if r.content_type not in allow]
    assert not before, f"records before the alert: {before}"


async def expect_closed_silently(c: HostileClient, timeout: float = PROMPT) -> None:
    """The server closes without sending an alert, promptly."""
    got = await c.read_alert(timeout)
    assert got == CLOSED, f"expected a close without alert, got {describe(got)}"


def rejects(
    stage: str,
    make: Make,
    alert: int,
    *,
    split: Split = None,
    allow: tuple[int, ...] = (),
    protected: bool | None = None,
) -> Probe:
    """A probe: reach ``stage``, send what ``make`` builds, expect ``alert``
    (protected iff the server's keys are active at ``stage``, unless
    ``protected`` says otherwise)."""
    if protected is None:
        protected = protected_at(stage)

    async def probe(env: Env) -> None:
        async with env.client(sent(alert)) as c:
            await reach(c, stage)
            built = make(c)
            records = built if isinstance(built, list) else [built]
            await c.send_records(*records, split=split)
            await expect_fatal(c, alert, protected=protected, allow=allow)

    return probe


async def close_cleanly(c: HostileClient) -> None:
    """close_notify both ways (§5), then the server closes."""
    await c.send_records(c.close_notify())
    assert await c.read_alert() == Alert(WARNING, CLOSE_NOTIFY, True)
    await c.expect_closed()


# --------------------------------------------------------------- the cases

CASES: dict[str, Probe] = {}


def case(name: str, probe: Probe) -> None:
    assert name not in CASES, name
    CASES[name] = probe


def hello_msg(name: bytes = b"localhost", random: bytes = b"\x11" * 32) -> bytes:
    return message(CLIENT_HELLO, client_hello_body(random, name))


HELLO = hello_msg()
HELLO_BODY = HELLO[4:]


def plain(content_type: int, fragment: bytes, **kw: int) -> Make:
    return lambda c: record(content_type, fragment, **kw)


def sealed(content_type: int, fragment: bytes) -> Make:
    return lambda c: c.seal(content_type, fragment)


# --- record layer (§1) -----------------------------------------------------

case(
    "record-garbage-first-bytes",
    rejects("start", lambda c: b"\x00\xff\x13\x37 garbage!", UNEXPECTED_MESSAGE),
)
case(
    "record-http-request-line",
    rejects("start", lambda c: b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", UNEXPECTED_MESSAGE),
)
case(
    "record-tls12-client-hello",
    rejects("start", plain(HANDSHAKE, HELLO, version=0x0303), PROTOCOL_VERSION),
)
for _version in (0x0000, 0x0001, 0x0101, 0x0200):
    case(
        f"record-bad-version-{_version:04x}",
        rejects("start", plain(HANDSHAKE, HELLO, version=_version), PROTOCOL_VERSION),
    )
for _type in (0, 20, 24, 255):
    case(
        f"record-unknown-type-{_type}-first",
        rejects("start", plain(_type, b"\x01\x02\x03\x04"), UNEXPECTED_MESSAGE),
    )
case(
    "record-type-checked-before-version",
    rejects("start", lambda c: header(24, 4, version=0x0303) + b"abcd", UNEXPECTED_MESSAGE),
)
case(
    "record-version-checked-before-length",
    rejects("start", lambda c: header(HANDSHAKE, 0xFFFF, version=0x0303), PROTOCOL_VERSION),
)
case("record-unknown-type-after-hello", rejects("hello", plain(24, b"abcd"), UNEXPECTED_MESSAGE))
case(
    "record-unknown-type-before-finished",
    rejects("key_exchange", plain(24, bytes(32)), UNEXPECTED_MESSAGE),
)
for _type in (0, 24):
    case(
        f"record-unknown-type-{_type}-after-handshake",
        rejects("connected", plain(_type, bytes(32)), UNEXPECTED_MESSAGE),
    )
# Header over the limit: only the 5 header bytes are sent, the alert must
# come without the body (§1: checked "before it waits for the fragment").
case(
    "record-overflow-header-only-first",
    rejects("start", lambda c: header(HANDSHAKE, 16385), RECORD_OVERFLOW),
)
case(
    "record-overflow-header-ffff-first",
    rejects("start", lambda c: header(HANDSHAKE, 0xFFFF), RECORD_OVERFLOW),
)
case(
    "record-overflow-header-only-after-hello",
    rejects("hello", lambda c: header(HANDSHAKE, 16385), RECORD_OVERFLOW),
)
case(
    "record-overflow-protected-header-only-before-finished",
    rejects("key_exchange", lambda c: header(HANDSHAKE, 16401), RECORD_OVERFLOW),
)
case(
    "record-overflow-protected-header-only",
    rejects("connected", lambda c: header(APPLICATION_DATA, 16401), RECORD_OVERFLOW),
)
case(
    "record-overflow-unprotected-with-body",
    rejects("start", plain(HANDSHAKE, b"\x01" * 16385), RECORD_OVERFLOW),
)
case(
    "record-overflow-plaintext-16385-sealed",
    rejects("connected", lambda c: c.app_data(b"x" * 16385), RECORD_OVERFLOW),
)
# The limit is the protected one from the record right after ClientKeyExchange,
# even inside the same TCP read.
case(
    "record-limit-switches-right-after-key-exchange",
    rejects(
        "hello",
        lambda c: c.key_exchange() + header(HANDSHAKE, 16400) + bytes(16400),
        BAD_RECORD_MAC,
        protected=True,
    ),
)
case(
    "record-limit-is-plain-before-key-exchange",
    rejects(
        "start",
        lambda c: c.client_hello() + header(HANDSHAKE, 16385),
        RECORD_OVERFLOW,
        allow=(HANDSHAKE,),
    ),
)
# Lengths at the edges.
case(
    "record-edge-unprotected-16384-reaches-parser",
    rejects(
        "start",
        lambda c: record(
            HANDSHAKE, message(CLIENT_HELLO, HELLO_BODY + bytes(16380 - len(HELLO_BODY)))
        ),
        DECODE_ERROR,
    ),
)
case(
    "record-edge-protected-16400-reaches-decryption",
    rejects("connected", lambda c: header(APPLICATION_DATA, 16400) + bytes(16400), BAD_RECORD_MAC),
)
case("record-edge-empty-handshake", rejects("start", plain(HANDSHAKE, b""), DECODE_ERROR))
case("record-edge-empty-alert", rejects("start", plain(ALERT, b""), DECODE_ERROR))
case(
    "record-edge-empty-application-data-first",
    rejects("start", plain(APPLICATION_DATA, b""), UNEXPECTED_MESSAGE),
)
case("record-edge-one-byte-handshake", rejects("start", plain(HANDSHAKE, b"\x01"), DECODE_ERROR))
case("record-edge-one-byte-alert", rejects("start", plain(ALERT, b"\x02"), DECODE_ERROR))
case("record-edge-three-byte-alert", rejects("start", plain(ALERT, b"\x02\x0a\x00"), DECODE_ERROR))
case(
    "record-edge-two-alerts-in-one-record",
    rejects("start", plain(ALERT, bytes((WARNING, CLOSE_NOTIFY)) * 2), DECODE_ERROR),
)
case(
    "record-edge-two-protected-alerts-in-one-record",
    rejects("connected", sealed(ALERT, bytes((WARNING, CLOSE_NOTIFY)) * 2), DECODE_ERROR),
)
case(
    "record-edge-protected-tag-15-bytes",
    rejects("connected", plain(APPLICATION_DATA, bytes(15)), BAD_RECORD_MAC),
)
case(
    "record-edge-protected-zero-length",
    rejects("connected", plain(APPLICATION_DATA, b""), BAD_RECORD_MAC),
)
case(
    "record-edge-protected-empty-handshake",
    rejects("key_exchange", sealed(HANDSHAKE, b""), DECODE_ERROR),
)
case("record-edge-protected-empty-alert", rejects("connected", sealed(ALERT, b""), DECODE_ERROR))
case(
    "record-edge-protected-three-byte-alert",
    rejects("connected", sealed(ALERT, b"\x01\x00\x00"), DECODE_ERROR),
)


async def _max_protected_record(env: Env) -> None:
    async with env.client(DISCONNECTED) as c:
        await reach(c, "connected")
        await c.echo(os.urandom(16384))
        await close_cleanly(c)


case("record-edge-protected-16384-plaintext-echoed", _max_protected_record)


def _fragmented(split: Split) -> Probe:
    async def probe(env: Env) -> None:
        async with env.client(DISCONNECTED) as c:
            await c.handshake(split=split)
            await c.echo(b"fragmented but whole", split=1 if split == 1 else None)
            await close_cleanly(c)

    return probe


case("record-split-one-byte-per-write", _fragmented(1))
case("record-split-header-and-body-apart", _fragmented("header"))
case("record-split-one-record-per-write", _fragmented("records"))


async def _coalesced_flight(env: Env) -> None:
    """CKE, Finished, 50 data records and close_notify in one TCP write."""
    async with env.client(DISCONNECTED) as c:
        await reach(c, "hello")
        chunks = [b"chunk %02d;" % i for i in range(50)]
        records = [c.key_exchange(), c.finished()] + [c.app_data(x) for x in chunks]
        await c.send_records(*records, c.close_notify())
        await c.read_server_finished()
        assert await c.read_application_data(len(b"".join(chunks))) == b"".join(chunks)
        assert await c.read_alert() == Alert(WARNING, CLOSE_NOTIFY, True)
        await c.expect_closed()


case("record-coalesced-flight-and-50-records", _coalesced_flight)


async def _tiny_records(env: Env) -> None:
    async with env.client(DISCONNECTED) as c:
        await reach(c, "connected")
        data = bytes(range(256)) * 2
        await c.send_records(*(c.app_data(data[i : i + 1]) for i in range(len(data))))
        assert await c.read_application_data(len(data)) == data
        await close_cleanly(c)


case("record-coalesced-512-one-byte-records", _tiny_records)


def _empty_runs(*runs: int, split: Split = None) -> Probe:
    """Runs of empty records, each followed by a non-empty one (echoed)."""

    async def probe(env: Env) -> None:
        async with env.client(DISCONNECTED) as c:
            await reach(c, "connected")
            for n, run in enumerate(runs):
                text = b"after %d empty records (%d)" % (run, n)
                records = [c.app_data(b"") for _ in range(run)] + [c.app_data(text)]
                await c.send_records(*records, split=split)
                assert await c.read_application_data(len(text)) == text
            await close_cleanly(c)

    return probe


case("record-empty-32-in-a-row-allowed", _empty_runs(32))
case("record-empty-count-resets-on-data", _empty_runs(32, 32, 32))
case(
    "record-empty-33-in-a-row-fatal",
    rejects("connected", lambda c: [c.app_data(b"") for _ in range(33)], UNEXPECTED_MESSAGE),
)
case(
    "record-empty-33-one-per-write-fatal",
    rejects(
        "connected",
        lambda c: [c.app_data(b"") for _ in range(33)],
        UNEXPECTED_MESSAGE,
        split="records",
    ),
)


# --- handshake parsing (§2) ------------------------------------------------


def every(stage: str, variants: Callable[[], list[Make]], alert: int) -> Probe:
    """One connection per variant, each rejected with ``alert``."""

    async def probe(env: Env) -> None:
        for make in variants():
            await rejects(stage, make, alert)(env)

    return probe


def _wrapped(wrap: Callable[[HostileClient, bytes], bytes], msg: bytes) -> Make:
    """What ``wrap`` makes of ``msg`` for the client at hand."""
    return lambda c: wrap(c, msg)


def _truncations(
    msg_type: int, body: bytes, wrap: Callable[[HostileClient, bytes], bytes]
) -> list[Make]:
    """Every truncation: the uint24 length consistent with the short body,
    and the fragment cut inside the 4-byte message header."""
    cuts = [_wrapped(wrap, message(msg_type, body[:k])) for k in range(len(body))]
    full = message(msg_type, body)
    heads = [_wrapped(wrap, full[:k]) for k in range(1, 4)]
    return cuts + heads


def _shorter_than_length(
    msg_type: int, body: bytes, wrap: Callable[[HostileClient, bytes], bytes]
) -> list[Make]:
    """The uint24 length says the whole body; the record holds less."""
    full = message(msg_type, body)
    return [_wrapped(wrap, full[: 4 + k]) for k in range(len(body))]


def _in_clear(c: HostileClient, msg: bytes) -> bytes:
    return record(HANDSHAKE, msg)


def _protected(c: HostileClient, msg: bytes) -> bytes:
    return c.seal(HANDSHAKE, msg)


def _cke_body(c: HostileClient | None = None) -> bytes:
    return vector(b"\x42" * 256, 2)


case(
    "parse-client-hello-truncated-every-length",
    every("start", lambda: _truncations(CLIENT_HELLO, HELLO_BODY, _in_clear), DECODE_ERROR),
)
case(
    "parse-client-hello-record-shorter-than-length-field",
    every("start", lambda: _shorter_than_length(CLIENT_HELLO, HELLO_BODY, _in_clear), DECODE_ERROR),
)
case(
    "parse-client-hello-trailing-byte",
    rejects("start", plain(HANDSHAKE, message(CLIENT_HELLO, HELLO_BODY + b"\x00")), DECODE_ERROR),
)
case(
    "parse-client-hello-length-field-fuzzed",
    every(
        "start",
        lambda: [
            plain(HANDSHAKE, message(CLIENT_HELLO, HELLO_BODY, length=n))
            for n in (0, 1, len(HELLO_BODY) - 1, len(HELLO_BODY) + 1, 0x10000, 0xFFFFFF)
        ],
        DECODE_ERROR,
    ),
)
case(
    "parse-server-name-length-fuzzed",
    every(
        "start",
        lambda: [
            plain(HANDSHAKE, message(CLIENT_HELLO, b"\x11" * 32 + body))
            for body in (
                b"\x00",  # server_name<1..253>: empty
                b"\xfe" + b"a" * 254,  # 254 > 253
                b"\xff" + b"a" * 255,
                b"\x0a" + b"localhost",  # points past the end
                b"\x08" + b"localhost",  # leaves a trailing byte
            )
        ],
        DECODE_ERROR,
    ),
)
for _label, _name in {
    "upper-case": b"LOCALHOST",
    "space": b"local host",
    "nul": b"localhost\x00",
    "underscore": b"local_host",
    "high-byte": b"localhost\xff",
    "utf8": "lökalhost".encode(),
    "wildcard": b"*.localhost",
    "port": b"localhost:4433",
}.items():
    case(
        f"parse-server-name-illegal-{_label}",
        rejects("start", plain(HANDSHAKE, hello_msg(_name)), ILLEGAL_PARAMETER),
    )


async def _longest_name(env: Env) -> None:
    """server_name of 253 legal bytes: served (one chain for every name)."""
    async with env.client(DISCONNECTED) as c:
        await c.handshake(name=b"a" * 61 + b"." + b"b" * 191)
        await c.echo(b"a long name is fine")
        await close_cleanly(c)


case("parse-server-name-253-bytes-served", _longest_name)
case(
    "parse-client-key-exchange-truncated-every-length",
    every("hello", lambda: _truncations(CLIENT_KEY_EXCHANGE, _cke_body(), _in_clear), DECODE_ERROR),
)
case(
    "parse-client-key-exchange-record-shorter-than-length-field",
    every(
        "hello",
        lambda: _shorter_than_length(CLIENT_KEY_EXCHANGE, _cke_body(), _in_clear)[::16],
        DECODE_ERROR,
    ),
)
case(
    "parse-client-key-exchange-trailing-byte",
    rejects(
        "hello", plain(HANDSHAKE, message(CLIENT_KEY_EXCHANGE, _cke_body() + b"\x00")), DECODE_ERROR
    ),
)
case(
    "parse-client-key-exchange-vector-length-fuzzed",
    every(
        "hello",
        lambda: [
            plain(HANDSHAKE, message(CLIENT_KEY_EXCHANGE, body))
            for body in (
                b"\x00\x00",  # encrypted_secret<1..2^16-1>: empty
                b"\x00\xff" + b"\x42" * 256,
                b"\x01\x01" + b"\x42" * 256,
                b"\xff\xff" + b"\x42" * 256,
            )
        ],
        DECODE_ERROR,
    ),
)
# §2: the length must equal the modulus size; the server says so in the
# clear, before deriving keys (§3.4's one exception).
for _length in (1, 255, 257, 512):
    case(
        f"parse-client-key-exchange-{_length}-bytes",
        rejects(
            "hello",
            plain(HANDSHAKE, message(CLIENT_KEY_EXCHANGE, vector(b"\x42" * _length, 2))),
            DECODE_ERROR,
        ),
    )
case(
    "parse-finished-truncated-every-length",
    every("key_exchange", lambda: _truncations(FINISHED, bytes(32), _protected), DECODE_ERROR),
)


def _finished_with_length(length: int) -> Make:
    """The right {Finished} whose uint24 length field says ``length``."""
    return lambda c: c.seal(HANDSHAKE, message(FINISHED, c.client_verify_data(), length=length))


case(
    "parse-finished-length-field-fuzzed",
    every(
        "key_exchange",
        lambda: [_finished_with_length(n) for n in (0, 31, 33, 0xFFFFFF)],
        DECODE_ERROR,
    ),
)
case(
    "parse-unknown-message-type",
    rejects("start", plain(HANDSHAKE, message(99, b"hello?")), UNEXPECTED_MESSAGE),
)
case(
    "parse-unknown-message-type-bad-framing",
    rejects("start", plain(HANDSHAKE, message(99, b"hello?", length=7)), DECODE_ERROR),
)
# README: framing is checked first, for known types even when not expected.
case(
    "parse-unexpected-finished-bad-framing",
    rejects("start", plain(HANDSHAKE, message(FINISHED, bytes(31))), DECODE_ERROR),
)
case(
    "parse-two-messages-in-one-record",
    rejects("start", plain(HANDSHAKE, HELLO + HELLO), DECODE_ERROR),
)
case(
    "parse-message-split-across-records",
    rejects(
        "start", lambda c: record(HANDSHAKE, HELLO[:4]) + record(HANDSHAKE, HELLO[4:]), DECODE_ERROR
    ),
)


# --- state machine (§2 flow) -----------------------------------------------

_CKE = message(CLIENT_KEY_EXCHANGE, _cke_body())

case("state-key-exchange-first", rejects("start", plain(HANDSHAKE, _CKE), UNEXPECTED_MESSAGE))
case(
    "state-finished-first",
    rejects("start", plain(HANDSHAKE, message(FINISHED, bytes(32))), UNEXPECTED_MESSAGE),
)
case(
    "state-server-hello-to-server",
    rejects("start", plain(HANDSHAKE, message(SERVER_HELLO, bytes(32))), UNEXPECTED_MESSAGE),
)
case(
    "state-certificate-to-server",
    rejects(
        "start",
        plain(HANDSHAKE, message(CERTIFICATE, vector(vector(b"\x30\x00", 3), 3))),
        UNEXPECTED_MESSAGE,
    ),
)
case(
    "state-application-data-first",
    rejects("start", plain(APPLICATION_DATA, b"hello"), UNEXPECTED_MESSAGE),
)
case(
    "state-client-hello-again",
    rejects("hello", lambda c: record(HANDSHAKE, hello_msg()), UNEXPECTED_MESSAGE),
)
case(
    "state-client-hello-duplicated-in-one-write",
    rejects("start", lambda c: c.client_hello() * 2, UNEXPECTED_MESSAGE, allow=(HANDSHAKE,)),
)
case(
    "state-finished-skipping-key-exchange",
    rejects("hello", plain(HANDSHAKE, message(FINISHED, bytes(32))), UNEXPECTED_MESSAGE),
)
case(
    "state-server-hello-after-hello",
    rejects("hello", plain(HANDSHAKE, message(SERVER_HELLO, bytes(32))), UNEXPECTED_MESSAGE),
)
case(
    "state-application-data-before-key-exchange",
    rejects("hello", plain(APPLICATION_DATA, b"too early"), UNEXPECTED_MESSAGE),
)
# Once the server's read keys are active (§3.4), every record must decrypt:
# a record in the clear is bad_record_mac, whatever it holds.
case(
    "state-key-exchange-repeated-in-clear",
    rejects("key_exchange", plain(HANDSHAKE, _CKE), BAD_RECORD_MAC),
)
case(
    "state-key-exchange-duplicated-in-one-write",
    rejects("hello", lambda c: c.key_exchange() * 2, BAD_RECORD_MAC, protected=True),
)
case(
    "state-client-hello-in-clear-before-finished",
    rejects("key_exchange", plain(HANDSHAKE, HELLO), BAD_RECORD_MAC),
)
case(
    "state-application-data-in-clear-before-finished",
    rejects("key_exchange", plain(APPLICATION_DATA, b"x" * 20), BAD_RECORD_MAC),
)
case(
    "state-plain-alert-before-finished",
    rejects("key_exchange", plain(ALERT, bytes((FATAL, UNEXPECTED_MESSAGE))), BAD_RECORD_MAC),
)
case(
    "state-protected-key-exchange-again",
    rejects("key_exchange", sealed(HANDSHAKE, _CKE), UNEXPECTED_MESSAGE),
)
case(
    "state-protected-client-hello-before-finished",
    rejects("key_exchange", sealed(HANDSHAKE, HELLO), UNEXPECTED_MESSAGE),
)
case(
    "state-protected-server-hello-before-finished",
    rejects(
        "key_exchange", sealed(HANDSHAKE, message(SERVER_HELLO, bytes(32))), UNEXPECTED_MESSAGE
    ),
)
case(
    "state-application-data-before-finished",
    rejects("key_exchange", sealed(APPLICATION_DATA, b"too early"), UNEXPECTED_MESSAGE),
)
case(
    "state-finished-repeated-after-handshake",
    rejects(
        "connected",
        lambda c: c.seal(HANDSHAKE, message(FINISHED, c.client_verify_data())),
        UNEXPECTED_MESSAGE,
    ),
)
case(
    "state-client-hello-after-handshake",
    rejects("connected", sealed(HANDSHAKE, HELLO), UNEXPECTED_MESSAGE),
)
case(
    "state-key-exchange-after-handshake",
    rejects("connected", sealed(HANDSHAKE, _CKE), UNEXPECTED_MESSAGE),
)
case(
    "state-client-hello-in-clear-after-handshake",
    rejects("connected", plain(HANDSHAKE, HELLO), BAD_RECORD_MAC),
)
case(
    "state-application-data-in-clear-after-handshake",
    rejects("connected", plain(APPLICATION_DATA, b"x" * 20), BAD_RECORD_MAC),
)


# --- Finished (§3.3) -------------------------------------------------------


def finished_with(change: Callable[[bytes], bytes]) -> Make:
    return lambda c: c.finished(change(c.client_verify_data()))


for _label, _change in {
    "first-bit": lambda v: flip(v, 0),
    "last-bit": lambda v: flip(v, 31, 0x80),
    "middle-byte": lambda v: flip(v, 16, 0xFF),
    "all-zero": lambda v: bytes(32),
    "all-ones": lambda v: b"\xff" * 32,
}.items():
    case(
        f"finished-wrong-{_label}",
        rejects("key_exchange", finished_with(_change), DECRYPT_ERROR),
    )
case("finished-empty", rejects("key_exchange", finished_with(lambda v: b""), DECODE_ERROR))
case("finished-short", rejects("key_exchange", finished_with(lambda v: v[:31]), DECODE_ERROR))
case("finished-long", rejects("key_exchange", finished_with(lambda v: v + b"\x00"), DECODE_ERROR))


def _server_side_verify_data(c: HostileClient) -> bytes:
    """The server's Finished key over the client's th: a reflection."""
    assert c.keys is not None
    return hmac.new(c.keys.server_finished, c.keys.th, hashlib.sha256).digest()


case(
    "finished-server-key-reflected",
    rejects("key_exchange", lambda c: c.finished(_server_side_verify_data(c)), DECRYPT_ERROR),
)


def _sealed_with_server_keys(c: HostileClient) -> bytes:
    assert c.keys is not None
    return Direction(c.keys.server_key, c.keys.server_iv).seal(
        HANDSHAKE, message(FINISHED, c.client_verify_data())
    )


case(
    "finished-sealed-with-server-keys",
    rejects("key_exchange", _sealed_with_server_keys, BAD_RECORD_MAC),
)
case(
    "finished-in-clear",
    rejects(
        "key_exchange",
        lambda c: record(HANDSHAKE, message(FINISHED, c.client_verify_data())),
        BAD_RECORD_MAC,
    ),
)
case(
    "finished-ciphertext-bit-flip",
    rejects("key_exchange", lambda c: flip(c.finished(), 5), BAD_RECORD_MAC),
)


# --- RSA key transport (§3.2): implicit rejection, no oracle ----------------

#: What the server visibly does after ClientKeyExchange + {Finished} when
#: the keys differ: one alert record of 2 + 16 bytes, then it closes.
ONE_PROTECTED_ALERT = [(ALERT, 18)]

Encrypt = Callable[[HostileClient], bytes]


def _n(c: HostileClient) -> int:
    assert c.server_key is not None
    return c.server_key.public_numbers().n


def _size(c: HostileClient) -> int:
    assert c.server_key is not None
    return modulus_bytes(c.server_key)


def _encrypt(c: HostileClient, secret: bytes, pad: padding.AsymmetricPadding) -> bytes:
    assert c.server_key is not None
    return c.server_key.encrypt(secret, pad)


def _oaep(c: HostileClient, secret: bytes) -> bytes:
    """The honest OAEP of ``secret`` to the server's key."""
    assert c.server_key is not None
    return oaep(c.server_key, secret)


def _oaep_with(
    mgf: hashes.HashAlgorithm, algorithm: hashes.HashAlgorithm, label: bytes | None = None
) -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(mgf), algorithm=algorithm, label=label)


def _textbook(c: HostileClient) -> bytes:
    assert c.server_key is not None
    e = c.server_key.public_numbers().e
    return pow(int.from_bytes(os.urandom(32), "big"), e, _n(c)).to_bytes(_size(c), "big")


MALFORMED_SECRETS: dict[str, Encrypt] = {
    "all-zero": lambda c: bytes(_size(c)),
    "equal-to-modulus": lambda c: _n(c).to_bytes(_size(c), "big"),
    "modulus-plus-one": lambda c: (_n(c) + 1).to_bytes(_size(c), "big"),
    "all-ones-above-modulus": lambda c: b"\xff" * _size(c),
    "random": lambda c: os.urandom(_size(c)),
    "textbook-rsa-no-padding": _textbook,
    "pkcs1-v1_5": lambda c: _encrypt(c, c.secret, padding.PKCS1v15()),
    "oaep-sha1": lambda c: _encrypt(c, c.secret, _oaep_with(hashes.SHA1(), hashes.SHA1())),
    "oaep-sha256-mgf1-sha1": lambda c: _encrypt(
        c, c.secret, _oaep_with(hashes.SHA1(), hashes.SHA256())
    ),
    "oaep-with-label": lambda c: _encrypt(
        c, c.secret, _oaep_with(hashes.SHA256(), hashes.SHA256(), b"toytls")
    ),
    "oaep-last-bit-flipped": lambda c: flip(_oaep(c, c.secret), -1),
    "oaep-secret-empty": lambda c: _oaep(c, b""),
    "oaep-secret-31-bytes": lambda c: _oaep(c, c.secret[:31]),
    "oaep-secret-33-bytes": lambda c: _oaep(c, c.secret + b"\x00"),
    "oaep-secret-190-bytes": lambda c: _oaep(c, os.urandom(190)),
}


async def _key_transport(
    c: HostileClient, encrypted: bytes | None, *, verify_data: bytes | None = None
) -> list[tuple[int, int]]:
    """At "hello": send CKE, check that nothing comes before {Finished},
    send it, and return the shape of everything the server sends until it
    closes."""
    await c.send_records(c.key_exchange(encrypted))
    await c.nothing_within(0.1)  # nothing sent early: no verdict on the CKE
    mark = len(c.received)
    await c.send_records(c.finished(verify_data))
    while await c.read_record() is not None:
        pass
    return [r.shape for r in c.received[mark:]]


def _malformed_secret(encrypt: Encrypt) -> Probe:
    async def probe(env: Env) -> None:
        async with env.client(sent(BAD_RECORD_MAC)) as c:
            await reach(c, "hello")
            encrypted = encrypt(c)
            shape = await _key_transport(c, encrypted)
            assert shape == ONE_PROTECTED_ALERT, shape
            # Under our own keys the alert does not decrypt: the server
            # carried on with random keys of its own.
            (alert,) = c.received[-1:]
            assert alert.protected and alert.plaintext is None

    return probe


async def _reference_other_secret(env: Env) -> None:
    """A well-formed secret X' while the client keys its Finished with X:
    the implicit-rejection path of a valid ciphertext. We know X', so we
    read the server's alert: bad_record_mac (§3.2)."""
    async with env.client(sent(BAD_RECORD_MAC)) as c:
        await reach(c, "hello")
        assert c.server_key is not None
        other = os.urandom(32)
        shape = await _key_transport(c, oaep(c.server_key, other))
        assert shape == ONE_PROTECTED_ALERT, shape
        assert c.keys is not None
        keys = derive_keys(
            secret=other,
            client_random=c.client_random,
            server_random=c.server_random,
            th=c.keys.th,
        )
        alert = c.received[-1]
        opened = Direction(keys.server_key, keys.server_iv).open(alert.header, alert.fragment)
        assert opened == bytes((FATAL, BAD_RECORD_MAC)), opened


async def _reference_wrong_finished(env: Env) -> None:
    """The right secret and a wrong Finished: decrypt_error, same shape."""
    async with env.client(sent(DECRYPT_ERROR)) as c:
        await reach(c, "hello")
        shape = await _key_transport(c, None, verify_data=bytes(32))
        assert shape == ONE_PROTECTED_ALERT, shape
        assert c.received[-1].plaintext == bytes((FATAL, DECRYPT_ERROR))


case("rsa-reference-well-formed-other-secret", _reference_other_secret)
case("rsa-reference-right-secret-wrong-finished", _reference_wrong_finished)
for _label, _encrypt_fn in MALFORMED_SECRETS.items():
    case(f"rsa-malformed-{_label}", _malformed_secret(_encrypt_fn))


# --- record protection (§3.4) ----------------------------------------------

_DATA = b"sixteen bytes!!!"


def tampered(change: Callable[[bytes], bytes]) -> Make:
    return lambda c: change(c.app_data(_DATA))


for _label, _change, _alert in (
    ("header-type-to-handshake", lambda r: b"\x16" + r[1:], BAD_RECORD_MAC),
    ("header-type-to-alert", lambda r: b"\x15" + r[1:], BAD_RECORD_MAC),
    ("header-type-to-unknown", lambda r: b"\x18" + r[1:], UNEXPECTED_MESSAGE),
    ("header-version", lambda r: flip(r, 2), PROTOCOL_VERSION),
    (
        "header-length-shorter",
        lambda r: header(APPLICATION_DATA, len(r) - 6) + r[5:-1],
        BAD_RECORD_MAC,
    ),
    (
        "header-length-longer",
        lambda r: header(APPLICATION_DATA, len(r) - 4) + r[5:] + b"\x00",
        BAD_RECORD_MAC,
    ),
    ("body-first-byte", lambda r: flip(r, 5), BAD_RECORD_MAC),
    ("body-middle-byte", lambda r: flip(r, 5 + 8, 0x80), BAD_RECORD_MAC),
    ("tag-first-byte", lambda r: flip(r, -16), BAD_RECORD_MAC),
    ("tag-last-byte", lambda r: flip(r, -1, 0x80), BAD_RECORD_MAC),
    ("tag-only-15-bytes", lambda r: header(APPLICATION_DATA, 15) + r[-16:-1], BAD_RECORD_MAC),
):
    case(f"protect-bit-flip-{_label}", rejects("connected", tampered(_change), _alert))


async def _replay(env: Env) -> None:
    async with env.client(sent(BAD_RECORD_MAC)) as c:
        await reach(c, "connected")
        once = c.app_data(b"said once")
        await c.send(once)
        assert await c.read_application_data(9) == b"said once"
        await c.send(once)
        await expect_fatal(c, BAD_RECORD_MAC, protected=True)


case("protect-replay", _replay)
case(
    "protect-duplicate-in-one-write",
    rejects(
        "connected", lambda c: c.app_data(_DATA) * 2, BAD_RECORD_MAC, allow=(APPLICATION_DATA,)
    ),
)


def _reorder(c: HostileClient) -> list[bytes]:
    first, second = c.app_data(b"first"), c.app_data(b"second")
    return [second, first]


def _drop(c: HostileClient) -> bytes:
    c.app_data(b"lost on the way")
    return c.app_data(b"arrives")


case("protect-reorder", rejects("connected", _reorder, BAD_RECORD_MAC))
case("protect-drop", rejects("connected", _drop, BAD_RECORD_MAC))


async def _reflect_echo(env: Env) -> None:
    async with env.client(sent(BAD_RECORD_MAC)) as c:
        await reach(c, "connected")
        await c.echo(b"mirror, mirror")
        mirrored = c.received[-1]
        assert mirrored.content_type == APPLICATION_DATA
        await c.send(mirrored.raw)
        await expect_fatal(c, BAD_RECORD_MAC, protected=True)


async def _reflect_finished(env: Env) -> None:
    async with env.client(sent(BAD_RECORD_MAC)) as c:
        await reach(c, "connected")
        (server_finished,) = [r for r in c.received if r.protected]
        await c.send(server_finished.raw)
        await expect_fatal(c, BAD_RECORD_MAC, protected=True)


case("protect-reflect-server-echo-record", _reflect_echo)
case("protect-reflect-server-finished", _reflect_finished)


async def _other_connection(env: Env) -> None:
    """A record sealed for another connection, at the right seq: its keys differ."""
    async with env.client(DISCONNECTED) as first:
        await reach(first, "connected")
        stolen = first.app_data(b"from the other connection")
        await first.send(stolen)
        assert await first.read_application_data(25) == b"from the other connection"
        await close_cleanly(first)
    async with env.client(sent(BAD_RECORD_MAC)) as second:
        await reach(second, "connected")
        await second.send(stolen)
        await expect_fatal(second, BAD_RECORD_MAC, protected=True)


case("protect-record-from-another-connection", _other_connection)


async def _nonces(env: Env) -> None:
    """The same plaintext, 100 times on each of two connections: every
    server record opens under iv XOR seq, and no nonce or ciphertext repeats."""
    nonces: list[bytes] = []
    ciphertexts: list[bytes] = []
    for _ in range(2):
        async with env.client(DISCONNECTED) as c:
            await reach(c, "connected")
            for _ in range(100):
                await c.echo(b"the very same plaintext")
                ciphertexts.append(c.received[-1].fragment)
            await close_cleanly(c)
            assert c.opener is not None
            nonces += c.opener.nonces
    assert len(ciphertexts) == 200
    assert len(set(ciphertexts)) == len(ciphertexts), "a ciphertext repeated: nonce reuse"
    assert len(set(nonces)) == len(nonces), "a server nonce repeated"


async def _fresh_randoms(env: Env) -> None:
    """16 connections with the same ClientHello: 16 different ServerHello randoms."""
    randoms = []
    for _ in range(16):
        async with env.client(received("close_notify")) as c:
            c.client_random = bytes(32)
            await reach(c, "hello")
            randoms.append(c.server_random)
            await c.send_records(c.close_notify())
            assert await c.read_alert() == Alert(WARNING, CLOSE_NOTIFY, False)
            await c.expect_closed()
    assert len(set(randoms)) == len(randoms), "a server random repeated"
    assert all(len(r) == 32 and r != bytes(32) for r in randoms)


case("protect-nonces-unique-over-200-records", _nonces)
case("protect-fresh-server-random-per-connection", _fresh_randoms)


# --- closure (§5) ----------------------------------------------------------


async def _close_notify_answered(env: Env) -> None:
    async with env.client(DISCONNECTED) as c:
        await reach(c, "connected")
        await close_cleanly(c)


async def _data_then_close_notify(env: Env) -> None:
    async with env.client(DISCONNECTED) as c:
        await reach(c, "connected")
        await c.send_records(c.app_data(b"last words"), c.close_notify())
        assert await c.read_application_data(10) == b"last words"
        assert await c.read_alert() == Alert(WARNING, CLOSE_NOTIFY, True)
        await c.expect_closed()


async def _after_close_notify_ignored(env: Env) -> None:
    """Records after close_notify are ignored — even garbage (§5)."""
    async with env.client(DISCONNECTED) as c:
        await reach(c, "connected")
        mark = len(c.received)
        await c.send_records(c.close_notify(), c.app_data(b"ignored"), b"\x00garbage\xff")
        assert await c.read_alert() == Alert(WARNING, CLOSE_NOTIFY, True)
        await c.expect_closed()
        assert [r.content_type for r in c.received[mark:]] == [ALERT], "nothing echoed"


async def _close_notify_twice(env: Env) -> None:
    async with env.client(DISCONNECTED) as c:
        await reach(c, "connected")
        await c.send_records(c.close_notify(), c.close_notify())
        assert await c.read_alert() == Alert(WARNING, CLOSE_NOTIFY, True)
        await c.expect_closed()


async def _close_notify_then_fin(env: Env) -> None:
    """close_notify and at once a TCP FIN: a clean end, not a truncation."""
    async with env.client(DISCONNECTED) as c:
        await reach(c, "connected")
        await c.send_records(c.app_data(b"bye"), c.close_notify())
        await c.half_close()
        assert await c.read_application_data(3) == b"bye"
        assert await c.read_alert() == Alert(WARNING, CLOSE_NOTIFY, True)
        await c.expect_closed()


async def _close_notify_with_finished(env: Env) -> None:
    """Key exchange, Finished and close_notify in one write."""
    async with env.client(DISCONNECTED) as c:
        await reach(c, "hello")
        await c.send_records(c.key_exchange(), c.finished(), c.close_notify())
        await c.read_server_finished()
        assert await c.read_alert() == Alert(WARNING, CLOSE_NOTIFY, True)
        await c.expect_closed()


case("close-notify-answered", _close_notify_answered)
case("close-notify-then-fin-is-clean", _close_notify_then_fin)
case("close-notify-coalesced-with-finished", _close_notify_with_finished)
case("close-data-then-close-notify-in-one-write", _data_then_close_notify)
case("close-records-after-close-notify-ignored", _after_close_notify_ignored)
case("close-notify-repeated", _close_notify_twice)


def _truncated(*, echo_first: bool) -> Probe:
    async def probe(env: Env) -> None:
        async with env.client(TRUNCATED) as c:
            await reach(c, "connected")
            if echo_first:
                await c.echo(b"and then silence")
            await c.half_close()
            await expect_closed_silently(c)

    return probe


case("close-truncation-after-handshake", _truncated(echo_first=False))
case("close-truncation-after-data", _truncated(echo_first=True))


def _abort(
    steps: Callable[[HostileClient], Awaitable[None]], outcome: str = EOF_IN_HANDSHAKE
) -> Probe:
    """Go part of the way, then FIN: the server must close at once, no alert."""

    async def probe(env: Env) -> None:
        async with env.client(outcome) as c:
            await steps(c)
            await c.half_close()
            await expect_closed_silently(c)

    return probe


async def _nothing(c: HostileClient) -> None:
    pass


async def _half_header(c: HostileClient) -> None:
    await c.send(c.client_hello()[:3])


async def _half_hello(c: HostileClient) -> None:
    await c.send(c.client_hello()[:20])


async def _after_hello(c: HostileClient) -> None:
    await reach(c, "hello")


async def _half_key_exchange(c: HostileClient) -> None:
    await reach(c, "hello")
    await c.send(c.key_exchange()[:100])


async def _after_key_exchange(c: HostileClient) -> None:
    await reach(c, "key_exchange")


async def _half_finished(c: HostileClient) -> None:
    await reach(c, "key_exchange")
    await c.send(c.finished()[:30])


async def _after_finished(c: HostileClient) -> None:
    """The server sends its Finished, then sees the end: a truncation."""
    await reach(c, "key_exchange")
    await c.send(c.finished())


for _label, _steps in {
    "before-any-byte": _nothing,
    "inside-first-header": _half_header,
    "inside-client-hello": _half_hello,
    "after-client-hello": _after_hello,
    "inside-key-exchange": _half_key_exchange,
    "after-key-exchange": _after_key_exchange,
    "inside-finished": _half_finished,
}.items():
    case(f"close-abort-{_label}", _abort(_steps))
case("close-abort-after-finished", _abort(_after_finished, TRUNCATED))


def _close_notify_during(stage: str) -> Probe:
    """close_notify during the handshake: answered with close_notify, then closed."""

    async def probe(env: Env) -> None:
        async with env.client(received("close_notify")) as c:
            await reach(c, stage)
            await c.send_records(c.close_notify())
            got = await c.read_alert()
            assert got == Alert(WARNING, CLOSE_NOTIFY, protected_at(stage)), describe(got)
            await c.expect_closed()

    return probe


for _stage in ("start", "hello", "key_exchange"):
    case(f"close-notify-during-handshake-{_stage}", _close_notify_during(_stage))


def _peer_alert(stage: str, level: int, code: int, name: str) -> Probe:
    """A fatal alert from the client: no answer (§5), the server closes."""

    async def probe(env: Env) -> None:
        async with env.client(received(name)) as c:
            await reach(c, stage)
            await c.send_records(c.alert(level, code))
            await expect_closed_silently(c)

    return probe


case("close-fatal-alert-during-handshake", _peer_alert("hello", FATAL, 40, "unknown(40)"))
case(
    "close-fatal-alert-after-handshake",
    _peer_alert("connected", FATAL, UNEXPECTED_MESSAGE, "unexpected_message"),
)
case(
    "close-warning-level-other-alert-is-fatal",
    _peer_alert("connected", WARNING, UNEXPECTED_MESSAGE, "unexpected_message"),
)
case(
    "close-fatal-level-close-notify-is-fatal",
    _peer_alert("connected", FATAL, CLOSE_NOTIFY, "close_notify"),
)
case("close-unknown-alert-code-first", _peer_alert("start", FATAL, 200, "unknown(200)"))


# ------------------------------------------------------------ the test


RAN: set[str] = set()


@pytest.mark.parametrize("name", list(CASES))
async def test_hostile_client(env: Env, name: str) -> None:
    """honest echo → (innocent echoing ‖ probe) → honest echo → the log."""
    RAN.add(name)
    env.expected.clear()  # left over by a case that failed
    with trio.fail_after(CASE_TIMEOUT):
        await honest_echo(env, b"before " + name.encode())
        async with trio.open_nursery() as nursery:
            stop = trio.Event()
            rounds = await nursery.start(innocent, env, stop)
            await CASES[name](env)
            stop.set()
        assert rounds[0] >= 1
        await honest_echo(env, b"after " + name.encode())
        await env.check_log()


async def test_rejections_logged_with_peer_alert_and_reason(env: Env) -> None:
    """The issue: "the server logs one line per rejected connection (peer,
    alert, reason)". The one disconnect line of every rejected connection
    must name its peer as well — not only the connect line before it."""
    env.log.poll()
    missing = []
    for peer, outcome in env.everything:
        if not outcome.startswith("failed:"):
            continue
        (line,) = env.log.raw_disconnects[env.log.connects[peer][-1]]
        how = json.loads(line)["how"]
        assert outcome in how and len(how) > len(outcome) + 3, how  # alert and a reason
        if peer not in line:
            missing.append(line)
    assert not missing, f"{len(missing)} rejection lines without the peer, e.g. {missing[0]}"


async def test_whole_suite_leaves_no_traceback(env: Env, server: Background) -> None:
    """Every case has run against this server; its output holds no traceback,
    and one disconnect line per rejected connection, naming the alert."""
    env.expected.clear()  # left over by a case that failed
    for name, probe in CASES.items():
        if name not in RAN:
            with trio.fail_after(CASE_TIMEOUT):
                await probe(env)
    with trio.fail_after(CASE_TIMEOUT):
        await env.check_log()
    result = server.stop()
    assert "Traceback" not in result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 130, result.stderr  # Ctrl-C
    connects = {e["peer"]: e["connection"] for e in result.named("connect")}
    hows: dict[int, list[str]] = {}
    for event in result.named("disconnect"):
        hows.setdefault(event["connection"], []).append(event["how"])
    numbers = sorted(e["connection"] for e in result.named("connect"))
    assert sorted(hows) == numbers, "a connection without a disconnect line"
    for how in (h for lines in hows.values() for h in lines):
        assert not how.startswith("internal error"), how
    for peer, outcome in env.everything:
        lines = hows[connects[peer]]
        assert len(lines) == 1 and outcome in lines[0], (peer, outcome, lines)
