"""A scripted hostile server against real ``toytls client`` processes.

Each case starts :class:`hostile.HostileServer` in this process (trio, on
127.0.0.1 at a free port) and one ``toytls client --message … --json``
process against it, then checks both ends:

* the client: its exit status (3 for a certificate refused under §4, 4 for
  any other protocol failure), the alert it names, whether that alert came
  from the peer, and no traceback;
* the hostile server: exactly what the client sent — the alert record, in
  the clear or protected under the session keys the hostile server derived
  itself, then the close — and, for every bad chain, that no
  ClientKeyExchange ever arrived: the client encrypted nothing to a key it
  had not verified (§4).

Two honest cases (the hostile server playing fair) show that the hostile
server speaks toytls/1 correctly, so each failure below is the probe's.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pytest
import trio
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from helpers import der
from hostile import (
    TIMEOUT,
    HostileServer,
    Record,
    Split,
    hostile_listener,
    open_tcp,
)
from processes import Result, run
from wire import (
    ALERT,
    ALERT_NAMES,
    APPLICATION_DATA,
    BAD_CERTIFICATE,
    BAD_RECORD_MAC,
    CERTIFICATE,
    CERTIFICATE_EXPIRED,
    CLIENT_HELLO,
    CLIENT_KEY_EXCHANGE,
    CLOSE_NOTIFY,
    DECODE_ERROR,
    DECRYPT_ERROR,
    FATAL,
    FINISHED,
    HANDSHAKE,
    PROTOCOL_VERSION,
    RECORD_OVERFLOW,
    SERVER_HELLO,
    UNEXPECTED_MESSAGE,
    UNKNOWN_CA,
    WARNING,
    Direction,
    certificate_body,
    flip,
    header,
    message,
    record,
    vector,
)

import toytls
from toytls.attacker.tamper import swap_public_key, tamper_subject
from toytls.pki.files import certificate_pem
from toytls.pki.generate import (
    PKI,
    Issued,
    generate_key,
    make_intermediate_ca,
    make_leaf,
    make_root_ca,
)

MESSAGE = "hostile servers everywhere"
CERT_REJECTED, PROTOCOL_FAILED = 3, 4


# ------------------------------------------------------------------ chains


@dataclass
class Kit:
    """The PKI, the honest chain, and a directory for extra trust anchors."""

    pki: PKI
    pki_dir: Path
    tmp: Path

    @property
    def chain(self) -> list[bytes]:
        return [der(self.pki.server.certificate), der(self.pki.intermediate.certificate)]

    @property
    def leaf(self) -> bytes:
        return der(self.pki.server.certificate)

    def leaf_from(
        self,
        issuer: Issued,
        *,
        not_before: datetime.datetime | None = None,
        not_after: datetime.datetime | None = None,
        ca: bool = False,
        eku_server_auth: bool = True,
    ) -> bytes:
        """A leaf for the server's name and key, issued by ``issuer``."""
        leaf = make_leaf(
            issuer,
            [self.pki.server_name],
            key=self.pki.server.key,
            not_before=not_before,
            not_after=not_after,
            ca=ca,
            eku_server_auth=eku_server_auth,
        )
        return der(leaf.certificate)


_HOUR = datetime.timedelta(hours=1)
_DAY = datetime.timedelta(days=1)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _expired_intermediate(kit: Kit) -> list[bytes]:
    pki = kit.pki
    old = make_intermediate_ca(
        pki.root,
        "toytls Expired R3",
        key=pki.intermediate.key,
        not_before=_now() - 30 * _DAY,
        not_after=_now() - _DAY,
    )
    return [kit.leaf_from(old), der(old.certificate)]


def _not_a_ca(kit: Kit) -> list[bytes]:
    pki = kit.pki
    fake = make_intermediate_ca(pki.root, "toytls Not A CA", key=pki.intermediate.key, ca=False)
    return [kit.leaf_from(fake), der(fake.certificate)]


def _path_too_long(kit: Kit) -> list[bytes]:
    pki = kit.pki
    sub = make_intermediate_ca(pki.intermediate, "toytls Sub CA", key=pki.server.key)
    return [kit.leaf_from(sub), der(sub.certificate), der(pki.intermediate.certificate)]


def _leaf_key(kit: Kit, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> list[bytes]:
    # make_leaf is typed for the RSA keys a toytls server uses; it certifies
    # any key, and a leaf with another kind of key is what these cases need.
    leaf = make_leaf(kit.pki.intermediate, [kit.pki.server_name], key=cast(rsa.RSAPrivateKey, key))
    return [der(leaf.certificate), der(kit.pki.intermediate.certificate)]


def _with_leaf(make: Callable[[Kit], bytes]) -> Callable[[Kit], list[bytes]]:
    return lambda kit: [make(kit), der(kit.pki.intermediate.certificate)]


#: Every row of §4, and DER that is not well formed: (chain, exit, alert).
BAD_CHAINS: dict[str, tuple[Callable[[Kit], list[bytes]], int]] = {
    # row 1: DER well formed → decode_error
    "der-garbage": (lambda kit: [b"this is not a certificate"], DECODE_ERROR),
    "der-leaf-cut-in-half": (
        lambda kit: [kit.leaf[: len(kit.leaf) // 2], kit.chain[1]],
        DECODE_ERROR,
    ),
    "der-leaf-trailing-byte": (lambda kit: [kit.leaf + b"\x00", kit.chain[1]], DECODE_ERROR),
    "der-intermediate-garbage": (lambda kit: [kit.leaf, b"\x30\x03\x02\x01\x00"], DECODE_ERROR),
    # row 2: a path to a trusted root → unknown_ca
    "self-signed": (lambda kit: [der(kit.pki.attacker_self_signed)], UNKNOWN_CA),
    "attacker-root": (lambda kit: [der(kit.pki.attacker_own_ca)], UNKNOWN_CA),
    "missing-intermediate": (lambda kit: [kit.leaf], UNKNOWN_CA),
    # row 3: signatures → bad_certificate
    "leaf-subject-tampered": (_with_leaf(lambda kit: tamper_subject(kit.leaf)), BAD_CERTIFICATE),
    "leaf-key-swapped": (
        _with_leaf(lambda kit: swap_public_key(kit.leaf, kit.pki.attacker_key.public_key())),
        BAD_CERTIFICATE,
    ),
    # row 4: validity → certificate_expired
    "leaf-expired": (
        _with_leaf(
            lambda kit: kit.leaf_from(
                kit.pki.intermediate, not_before=_now() - 30 * _DAY, not_after=_now() - _HOUR
            )
        ),
        CERTIFICATE_EXPIRED,
    ),
    "leaf-not-yet-valid": (
        _with_leaf(
            lambda kit: kit.leaf_from(
                kit.pki.intermediate, not_before=_now() + _DAY, not_after=_now() + 30 * _DAY
            )
        ),
        CERTIFICATE_EXPIRED,
    ),
    "intermediate-expired": (_expired_intermediate, CERTIFICATE_EXPIRED),
    # row 5: issuers are CAs within their pathLenConstraint → bad_certificate
    "intermediate-not-a-ca": (_not_a_ca, BAD_CERTIFICATE),
    "path-length-exceeded": (_path_too_long, BAD_CERTIFICATE),
    # row 6: the name → bad_certificate
    "wrong-name": (
        lambda kit: [der(kit.pki.attacker_other_name), der(kit.pki.intermediate.certificate)],
        BAD_CERTIFICATE,
    ),
    "wildcard-does-not-cover-bare-name": (
        _with_leaf(
            lambda kit: der(
                make_leaf(kit.pki.intermediate, ["*.localhost"], key=kit.pki.server.key).certificate
            )
        ),
        BAD_CERTIFICATE,
    ),
    # row 7: the leaf is no CA, EKU serverAuth → bad_certificate
    "leaf-is-a-ca": (
        _with_leaf(lambda kit: kit.leaf_from(kit.pki.intermediate, ca=True)),
        BAD_CERTIFICATE,
    ),
    "leaf-eku-client-auth": (
        _with_leaf(lambda kit: kit.leaf_from(kit.pki.intermediate, eku_server_auth=False)),
        BAD_CERTIFICATE,
    ),
    # row 8: RSA of 2048 bits or more → bad_certificate
    "leaf-rsa-1024": (lambda kit: _leaf_key(kit, generate_key(1024)), BAD_CERTIFICATE),
    "leaf-ec-p256": (
        lambda kit: _leaf_key(kit, ec.generate_private_key(ec.SECP256R1())),
        BAD_CERTIFICATE,
    ),
}


def _expired_root(kit: Kit) -> tuple[list[bytes], Path]:
    """A chain under a root that expired, with that root as the client's CA file."""
    pki = kit.pki
    root = make_root_ca(
        "toytls Expired Root",
        key=pki.root.key,
        not_before=_now() - 60 * _DAY,
        not_after=_now() - _DAY,
    )
    intermediate = make_intermediate_ca(
        root, "toytls R3 Under Expired Root", key=pki.intermediate.key
    )
    cafile = kit.tmp / "expired-root.pem"
    cafile.write_bytes(certificate_pem(root.certificate))
    return [kit.leaf_from(intermediate), der(intermediate.certificate)], cafile


# --------------------------------------------------------- running a case


@dataclass
class Outcome:
    """What the client process did."""

    result: Result

    @property
    def final(self) -> dict[str, object]:
        (last,) = self.result.named("result")
        return last

    @property
    def failure(self) -> dict[str, object] | None:
        failed = self.result.named("connection_failed")
        assert len(failed) <= 1, failed
        return failed[0] if failed else None


Script = Callable[[HostileServer, Kit], Awaitable[None]]


async def run_case(
    kit: Kit, script: Script, *, cafile: Path | None = None, server_name: str = "localhost"
) -> Outcome:
    """Serve one connection with ``script`` against a real client process."""
    errors: list[BaseException] = []
    async with hostile_listener() as (listener, port):

        async def serve(*, task_status: trio.TaskStatus[trio.CancelScope]) -> None:
            with trio.CancelScope() as scope:
                task_status.started(scope)
                stream = await listener.accept()
                server = HostileServer(stream=stream, private_key=kit.pki.server.key)
                try:
                    with trio.fail_after(3 * TIMEOUT):
                        await script(server, kit)
                except Exception as exc:  # reported after the client has ended
                    errors.append(exc)
                finally:
                    await server.aclose()

        async with trio.open_nursery() as nursery:
            scope = await nursery.start(serve)
            command = functools.partial(
                run,
                "client",
                "--connect",
                f"127.0.0.1:{port}",
                "--cafile",
                str(cafile or kit.pki_dir / "root.pem"),
                "--server-name",
                server_name,
                "--message",
                MESSAGE,
                "--json",
                timeout=30,
            )
            result = await trio.to_thread.run_sync(command)
            # The script ends at the client's close; if the client never
            # connected, it would wait for ever: give it a bounded moment.
            scope.deadline = trio.current_time() + TIMEOUT
        if scope.cancelled_caught:
            errors.append(AssertionError(f"the hostile server's script did not end: {result}"))
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout
    if errors:
        raise errors[0]
    return Outcome(result)


def assert_failed(
    outcome: Outcome, *, status: int, alert: int | None, from_peer: bool = False
) -> None:
    """The client exited with ``status``, naming ``alert`` (sent or received)."""
    result = outcome.result
    assert result.returncode == status, (result.returncode, result.stdout[-2000:], result.stderr)
    final = outcome.final
    assert final["exit"] == status
    name = None if alert is None else ALERT_NAMES[alert]
    assert final["alert"] == name, final
    failure = outcome.failure
    assert failure is not None
    assert failure["alert"] == name
    if alert is not None:
        assert failure["from_peer"] is from_peer, failure


async def read_all(server: HostileServer) -> list[Record]:
    """Everything the client sends until it closes the connection."""
    mark = len(server.received)
    while await server.read_record() is not None:
        pass
    return server.received[mark:]


def plain_alert(code: int) -> bytes:
    return record(ALERT, bytes((FATAL, code)))


async def refuses_chain(server: HostileServer, chain: list[bytes], alert: int) -> None:
    """Send the chain; the client answers with one plain fatal alert and
    closes. Above all, no ClientKeyExchange: nothing was encrypted to a key
    that failed §4."""
    await server.read_client_hello()
    await server.send_records(server.server_hello(), server.certificate(chain))
    got = await read_all(server)
    kinds = [(r.content_type, r.fragment[:1]) for r in got]
    assert (HANDSHAKE, bytes((CLIENT_KEY_EXCHANGE,))) not in kinds, "ClientKeyExchange sent!"
    assert [r.raw for r in got] == [plain_alert(alert)], got


async def honest_after_chain(server: HostileServer, chain: list[bytes]) -> None:
    """The rest of an honest handshake and echo after ``chain``."""
    await server.read_client_hello()
    await server.send_records(server.server_hello(), server.certificate(chain))
    rec = await server.read_key_exchange()
    assert rec is not None and server.keys is not None, rec
    await server.read_client_finished()
    await server.send_records(server.finished())
    assert await server.echo_until_close_notify() == MESSAGE.encode()
    await server.expect_closed()


@pytest.fixture(scope="module")
def kit(pki: PKI, pki_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Kit:
    return Kit(pki=pki, pki_dir=pki_dir, tmp=tmp_path_factory.mktemp("hostile-client"))


# ------------------------------------------------------ §4: bad chains


@pytest.mark.parametrize("name", list(BAD_CHAINS))
async def test_bad_chain_refused_before_key_exchange(kit: Kit, name: str) -> None:
    make, alert = BAD_CHAINS[name]
    chain = make(kit)

    async def script(server: HostileServer, kit: Kit) -> None:
        await refuses_chain(server, chain, alert)

    outcome = await run_case(kit, script)
    assert_failed(outcome, status=CERT_REJECTED, alert=alert)


async def test_bad_chain_refused_before_key_exchange_expired_root(kit: Kit) -> None:
    chain, cafile = _expired_root(kit)

    async def script(server: HostileServer, kit: Kit) -> None:
        await refuses_chain(server, chain, CERTIFICATE_EXPIRED)

    outcome = await run_case(kit, script, cafile=cafile)
    assert_failed(outcome, status=CERT_REJECTED, alert=CERTIFICATE_EXPIRED)


GOOD_CHAINS: dict[str, Callable[[Kit], list[bytes]]] = {
    "honest": lambda kit: kit.chain,
    "root-included": lambda kit: [*kit.chain, der(kit.pki.root.certificate)],
    "unrelated-extra-first": lambda kit: [
        kit.leaf,
        der(kit.pki.attacker_self_signed),
        kit.chain[1],
    ],
    "eight-entries": lambda kit: [kit.leaf] + [kit.chain[1]] * 7,
    "name-in-upper-case": _with_leaf(
        lambda kit: der(
            make_leaf(kit.pki.intermediate, ["LOCALHOST"], key=kit.pki.server.key).certificate
        )
    ),
}


def _wildcard_chain(kit: Kit, pattern: str) -> list[bytes]:
    leaf = make_leaf(kit.pki.intermediate, [pattern], key=kit.pki.server.key)
    return [der(leaf.certificate), kit.chain[1]]


#: (SAN pattern, name asked for, accepted?) — RFC 6125 wildcards, left-most label only.
WILDCARDS = {
    "matches-one-label": ("*.example.test", "www.example.test", True),
    "does-not-span-two-labels": ("*.example.test", "a.www.example.test", False),
    "not-in-the-left-most-label": ("www.*.test", "www.example.test", False),
}


@pytest.mark.parametrize("name", list(WILDCARDS))
async def test_wildcard_name(kit: Kit, name: str) -> None:
    pattern, asked, accepted = WILDCARDS[name]
    chain = _wildcard_chain(kit, pattern)

    async def script(server: HostileServer, kit: Kit) -> None:
        if accepted:
            await honest_after_chain(server, chain)
        else:
            await refuses_chain(server, chain, BAD_CERTIFICATE)

    outcome = await run_case(kit, script, server_name=asked)
    if accepted:
        assert outcome.result.returncode == 0, outcome.result.stdout[-2000:]
    else:
        assert_failed(outcome, status=CERT_REJECTED, alert=BAD_CERTIFICATE)


@pytest.mark.parametrize("name", list(GOOD_CHAINS))
async def test_good_chain_accepted(kit: Kit, name: str) -> None:
    """Controls: the hostile server playing fair, with chains §4 allows."""
    chain = GOOD_CHAINS[name](kit)

    async def script(server: HostileServer, kit: Kit) -> None:
        await honest_after_chain(server, chain)

    outcome = await run_case(kit, script)
    assert outcome.result.returncode == 0, outcome.result.stdout[-2000:]
    assert [e["text"] for e in outcome.result.named("reply")] == [MESSAGE]


# ------------------------------------------- §2: garbage certificate lists


CERTIFICATE_BODIES: dict[str, Callable[[Kit], bytes]] = {
    "empty-list": lambda kit: vector(b"", 3),
    "empty-entry": lambda kit: vector(vector(b"", 3), 3),
    "nine-entries": lambda kit: certificate_body([kit.leaf] * 9),
    "garbage": lambda kit: b"\x00\x00\x07garbage and more",
    "trailing-byte": lambda kit: certificate_body(kit.chain) + b"\x00",
    "entry-past-the-end": lambda kit: vector((len(kit.leaf) + 1).to_bytes(3, "big") + kit.leaf, 3),
    "list-length-one-short": lambda kit: (
        (len(certificate_body(kit.chain)) - 4).to_bytes(3, "big") + certificate_body(kit.chain)[3:]
    ),
    "no-body": lambda kit: b"",
}


@pytest.mark.parametrize("name", list(CERTIFICATE_BODIES))
async def test_malformed_certificate_message(kit: Kit, name: str) -> None:
    body = CERTIFICATE_BODIES[name](kit)

    async def script(server: HostileServer, kit: Kit) -> None:
        await server.read_client_hello()
        await server.send_records(
            server.server_hello(), record(HANDSHAKE, message(CERTIFICATE, body))
        )
        got = await read_all(server)
        assert [r.raw for r in got] == [plain_alert(DECODE_ERROR)], got

    outcome = await run_case(kit, script)
    assert_failed(outcome, status=PROTOCOL_FAILED, alert=DECODE_ERROR)


# ------------------------------------------- the rest of the server's flow


async def up_to_server_finished(server: HostileServer, kit: Kit) -> None:
    """The honest handshake up to (not including) the server's {Finished}."""
    await server.read_client_hello()
    await server.send_records(server.server_hello(), server.certificate(kit.chain))
    rec = await server.read_key_exchange()
    assert rec is not None and server.keys is not None, rec
    await server.read_client_finished()


def _reflected_finished(server: HostileServer) -> bytes:
    """The client's own {Finished} record, sent back."""
    return next(r.raw for r in reversed(server.received) if r.protected)


def _sealed_with_client_keys(server: HostileServer) -> bytes:
    """The right {Finished}, sealed under the client's write keys."""
    assert server.keys is not None
    return Direction(server.keys.client_key, server.keys.client_iv).seal(
        HANDSHAKE, message(FINISHED, server.server_verify_data())
    )


#: (what the hostile server sends instead of its {Finished}, the client's alert)
INSTEAD_OF_FINISHED: dict[str, tuple[Callable[[HostileServer], bytes], int]] = {
    "finished-bit-flipped": (lambda s: s.finished(flip(s.server_verify_data(), 0)), DECRYPT_ERROR),
    "finished-all-zero": (lambda s: s.finished(bytes(32)), DECRYPT_ERROR),
    "finished-empty": (lambda s: s.seal(HANDSHAKE, message(FINISHED, b"")), DECODE_ERROR),
    "finished-short": (
        lambda s: s.seal(HANDSHAKE, message(FINISHED, s.server_verify_data()[:31])),
        DECODE_ERROR,
    ),
    "finished-long": (
        lambda s: s.seal(HANDSHAKE, message(FINISHED, s.server_verify_data() + b"\x00")),
        DECODE_ERROR,
    ),
    "finished-ciphertext-flipped": (lambda s: flip(s.finished(), 7), BAD_RECORD_MAC),
    "finished-sealed-with-client-keys": (_sealed_with_client_keys, BAD_RECORD_MAC),
    "finished-in-clear": (
        lambda s: record(HANDSHAKE, message(FINISHED, s.server_verify_data())),
        BAD_RECORD_MAC,
    ),
    "finished-reflected": (_reflected_finished, BAD_RECORD_MAC),
    "application-data-before-finished": (lambda s: s.app_data(b"too early"), UNEXPECTED_MESSAGE),
    "application-data-in-clear-before-finished": (
        lambda s: record(APPLICATION_DATA, b"too early"),
        BAD_RECORD_MAC,
    ),
    "three-byte-plain-alert": (lambda s: record(ALERT, b"\x02\x32\x00"), BAD_RECORD_MAC),
    "server-hello-again": (
        lambda s: s.seal(HANDSHAKE, message(SERVER_HELLO, bytes(32))),
        UNEXPECTED_MESSAGE,
    ),
    "oversized-header": (lambda s: header(HANDSHAKE, 16401), RECORD_OVERFLOW),
}


@pytest.mark.parametrize("name", list(INSTEAD_OF_FINISHED))
async def test_bad_server_finished(kit: Kit, name: str) -> None:
    """A bad {Finished} (or something else in its place): the client answers
    with a protected alert we can read, and never sent application data."""
    make, alert = INSTEAD_OF_FINISHED[name]

    async def script(server: HostileServer, kit: Kit) -> None:
        await up_to_server_finished(server, kit)
        await server.send_records(make(server))
        got = await read_all(server)
        assert [r.shape for r in got] == [(ALERT, 18)], got
        assert got[0].plaintext == bytes((FATAL, alert)), got[0]

    outcome = await run_case(kit, script)
    assert_failed(outcome, status=PROTOCOL_FAILED, alert=alert)


async def test_plain_alert_before_server_finished(kit: Kit) -> None:
    """§3.4's exception: a 2-byte alert in the clear after ClientKeyExchange
    is reported with its code; a fatal alert is never answered."""

    async def script(server: HostileServer, kit: Kit) -> None:
        await up_to_server_finished(server, kit)
        await server.send_records(plain_alert(DECODE_ERROR))
        assert await read_all(server) == []

    outcome = await run_case(kit, script)
    assert_failed(outcome, status=PROTOCOL_FAILED, alert=DECODE_ERROR, from_peer=True)


async def test_plain_close_notify_before_server_finished(kit: Kit) -> None:
    """A 2-byte close_notify in the clear after ClientKeyExchange: the
    handshake is aborted, and the client answers with its own close_notify —
    protected, because its write keys are active (README)."""

    async def script(server: HostileServer, kit: Kit) -> None:
        await up_to_server_finished(server, kit)
        await server.send_records(record(ALERT, bytes((WARNING, CLOSE_NOTIFY))))
        got = await read_all(server)
        assert [(r.shape, r.plaintext) for r in got] == [
            ((ALERT, 18), bytes((WARNING, CLOSE_NOTIFY)))
        ]

    outcome = await run_case(kit, script)
    assert_failed(outcome, status=PROTOCOL_FAILED, alert=CLOSE_NOTIFY, from_peer=True)


async def test_finished_in_clear_with_the_flight(kit: Kit) -> None:
    """ServerHello, Certificate and an unprotected Finished in one write:
    the client sends its key exchange (the chain is good), and then the
    Finished must decrypt under its new read keys — bad_record_mac."""

    async def script(server: HostileServer, kit: Kit) -> None:
        await server.read_client_hello()
        hello, cert = server.server_hello(), server.certificate(kit.chain)
        await server.send_records(hello, cert, record(HANDSHAKE, message(FINISHED, bytes(32))))
        assert await server.read_key_exchange() is not None and server.keys is not None
        await server.read_client_finished()
        got = await read_all(server)
        assert [(r.shape, r.plaintext) for r in got] == [
            ((ALERT, 18), bytes((FATAL, BAD_RECORD_MAC)))
        ]

    outcome = await run_case(kit, script)
    assert_failed(outcome, status=PROTOCOL_FAILED, alert=BAD_RECORD_MAC)


#: What the hostile server sends in place of its first flight, in the clear.
INSTEAD_OF_FLIGHT: dict[str, tuple[Callable[[HostileServer, Kit], bytes], int]] = {
    "server-hello-twice": (
        lambda s, kit: s.server_hello() + record(HANDSHAKE, message(SERVER_HELLO, bytes(32))),
        UNEXPECTED_MESSAGE,
    ),
    "certificate-before-server-hello": (
        lambda s, kit: s.certificate(kit.chain),
        UNEXPECTED_MESSAGE,
    ),
    "client-hello-to-client": (
        lambda s, kit: record(
            HANDSHAKE, message(CLIENT_HELLO, bytes(32) + vector(b"localhost", 1))
        ),
        UNEXPECTED_MESSAGE,
    ),
    "finished-instead-of-certificate": (
        lambda s, kit: s.server_hello() + record(HANDSHAKE, message(FINISHED, bytes(32))),
        UNEXPECTED_MESSAGE,
    ),
    "application-data-first": (
        lambda s, kit: record(APPLICATION_DATA, b"hello?"),
        UNEXPECTED_MESSAGE,
    ),
    "server-hello-truncated": (
        lambda s, kit: record(HANDSHAKE, message(SERVER_HELLO, bytes(31))),
        DECODE_ERROR,
    ),
    "server-hello-trailing-byte": (
        lambda s, kit: record(HANDSHAKE, message(SERVER_HELLO, bytes(33))),
        DECODE_ERROR,
    ),
    "bad-record-version": (
        lambda s, kit: record(HANDSHAKE, message(SERVER_HELLO, bytes(32)), version=0x0303),
        PROTOCOL_VERSION,
    ),
    "unknown-content-type": (lambda s, kit: record(24, b"\x00\x01"), UNEXPECTED_MESSAGE),
    "oversized-header": (lambda s, kit: header(HANDSHAKE, 16385), RECORD_OVERFLOW),
    "certificate-split-across-records": (
        lambda s, kit: (
            s.server_hello()
            + record(HANDSHAKE, message(CERTIFICATE, certificate_body(kit.chain))[:1000])
            + record(HANDSHAKE, message(CERTIFICATE, certificate_body(kit.chain))[1000:])
        ),
        DECODE_ERROR,
    ),
    "empty-handshake-record": (lambda s, kit: record(HANDSHAKE, b""), DECODE_ERROR),
    "unknown-handshake-type": (
        lambda s, kit: record(HANDSHAKE, message(99, b"?")),
        UNEXPECTED_MESSAGE,
    ),
    "empty-application-data-first": (
        lambda s, kit: record(APPLICATION_DATA, b""),
        UNEXPECTED_MESSAGE,
    ),
    "certificate-over-record-limit": (
        lambda s, kit: s.server_hello() + header(HANDSHAKE, 16385) + bytes(16385),
        RECORD_OVERFLOW,
    ),
}


@pytest.mark.parametrize("name", list(INSTEAD_OF_FLIGHT))
async def test_bad_server_flight(kit: Kit, name: str) -> None:
    make, alert = INSTEAD_OF_FLIGHT[name]

    async def script(server: HostileServer, kit: Kit) -> None:
        await server.read_client_hello()
        await server.send_records(make(server, kit))
        got = await read_all(server)
        kinds = [r.content_type for r in got]
        assert HANDSHAKE not in kinds, "the client went on with the handshake"
        assert [r.raw for r in got] == [plain_alert(alert)], got

    outcome = await run_case(kit, script)
    assert_failed(outcome, status=PROTOCOL_FAILED, alert=alert)


async def test_server_close_notify_during_handshake(kit: Kit) -> None:
    """close_notify during the handshake: the client answers and fails."""

    async def script(server: HostileServer, kit: Kit) -> None:
        await server.read_client_hello()
        await server.send_records(server.server_hello(), server.close_notify())
        assert [r.raw for r in await read_all(server)] == [
            record(ALERT, bytes((WARNING, CLOSE_NOTIFY)))
        ]

    outcome = await run_case(kit, script)
    assert_failed(outcome, status=PROTOCOL_FAILED, alert=CLOSE_NOTIFY, from_peer=True)


async def test_server_closes_during_handshake(kit: Kit) -> None:
    """TCP end during the handshake: an error, no alert (the transport is gone)."""

    async def script(server: HostileServer, kit: Kit) -> None:
        await server.read_client_hello()
        await server.send_records(server.server_hello())
        await server.half_close()
        assert await read_all(server) == []

    outcome = await run_case(kit, script)
    assert_failed(outcome, status=PROTOCOL_FAILED, alert=None)


async def test_server_truncates_after_echo(kit: Kit) -> None:
    """The reply, then a TCP end without close_notify: a truncation (§5)."""

    async def script(server: HostileServer, kit: Kit) -> None:
        await up_to_server_finished(server, kit)
        await server.send_records(server.finished())
        rec = await server.read_record()
        assert rec is not None and rec.plaintext == MESSAGE.encode(), rec
        await server.send_records(server.app_data(rec.plaintext))
        await server.half_close()
        got = await read_all(server)
        assert all(r.content_type != ALERT or r.plaintext == b"\x01\x00" for r in got), got

    outcome = await run_case(kit, script)
    assert_failed(outcome, status=PROTOCOL_FAILED, alert=None)
    assert "truncation" in str(outcome.failure), outcome.failure


async def after_client_close_notify(server: HostileServer, kit: Kit) -> None:
    """The handshake, the client's message and its close_notify: from here
    on the client has finished sending (§5)."""
    await up_to_server_finished(server, kit)
    await server.send_records(server.finished())
    data = await server.read_record()
    assert data is not None and data.plaintext == MESSAGE.encode(), data
    closing = await server.read_record()
    assert closing is not None and closing.plaintext == bytes((WARNING, CLOSE_NOTIFY)), closing


#: What the hostile server answers instead of the echo, once the client has
#: sent close_notify: the client detects it, but sends no alert — after its
#: own close_notify a side sends nothing at all (README, §5).
INSTEAD_OF_REPLY: dict[str, tuple[Callable[[HostileServer], list[bytes]], int]] = {
    "reply-bit-flipped": (lambda s: [flip(s.app_data(MESSAGE.encode()), -3)], BAD_RECORD_MAC),
    "reply-replayed": (lambda s: [s.app_data(b"once")] * 2, BAD_RECORD_MAC),
    "reply-33-empty-records": (lambda s: [s.app_data(b"") for _ in range(33)], UNEXPECTED_MESSAGE),
    "reply-as-handshake-message": (
        lambda s: [s.seal(HANDSHAKE, message(FINISHED, bytes(32)))],
        UNEXPECTED_MESSAGE,
    ),
    "reply-in-clear": (lambda s: [record(APPLICATION_DATA, MESSAGE.encode())], BAD_RECORD_MAC),
}


@pytest.mark.parametrize("name", list(INSTEAD_OF_REPLY))
async def test_bad_reply_after_close_notify(kit: Kit, name: str) -> None:
    make, alert = INSTEAD_OF_REPLY[name]

    async def script(server: HostileServer, kit: Kit) -> None:
        await after_client_close_notify(server, kit)
        await server.send_records(*make(server))
        assert await read_all(server) == []

    outcome = await run_case(kit, script)
    assert_failed(outcome, status=PROTOCOL_FAILED, alert=alert)


@pytest.mark.parametrize("split", [1, "records"])
async def test_server_fragments_everything(kit: Kit, split: Split) -> None:
    """Every record the server sends split one byte per TCP write, or one
    record per write: the client copes (§1)."""

    async def script(server: HostileServer, kit: Kit) -> None:
        await server.read_client_hello()
        await server.send_records(server.server_hello(), server.certificate(kit.chain), split=split)
        rec = await server.read_key_exchange()
        assert rec is not None and server.keys is not None, rec
        await server.read_client_finished()
        await server.send_records(server.finished(), split=split)
        data = await server.read_record()
        assert data is not None and data.plaintext == MESSAGE.encode(), data
        reply = [server.app_data(data.plaintext[i : i + 1]) for i in range(len(data.plaintext))]
        await server.send_records(*reply, server.close_notify(), split=split)
        got = await read_all(server)
        assert [r.plaintext for r in got] == [bytes((WARNING, CLOSE_NOTIFY))], got

    outcome = await run_case(kit, script)
    assert outcome.result.returncode == 0, outcome.result.stdout[-2000:]
    assert [e["text"] for e in outcome.result.named("reply")] == [MESSAGE]


async def test_server_closes_its_direction_first(kit: Kit) -> None:
    """close_notify closes one direction (§5): the server says it is done
    right after its Finished and then sends junk, which the client must
    ignore; the client still sends its message and its own close_notify,
    and reports a clean, empty reply."""

    async def script(server: HostileServer, kit: Kit) -> None:
        await up_to_server_finished(server, kit)
        finished, closing = server.finished(), server.close_notify()
        junk = server.app_data(b"after close_notify") + b"\x00not even a record"
        await server.send_records(finished, closing, junk)
        data = await server.read_record()
        assert data is not None and data.plaintext == MESSAGE.encode(), data
        got = await read_all(server)
        assert [r.plaintext for r in got] == [bytes((WARNING, CLOSE_NOTIFY))], got

    outcome = await run_case(kit, script)
    assert outcome.result.returncode == 0, outcome.result.stdout[-2000:]
    assert [e["text"] for e in outcome.result.named("reply")] == [""]


async def test_client_sends_nothing_before_server_finished(kit: Kit) -> None:
    """The client holds its application data until the server's {Finished}
    checks out (§2): nothing but ClientKeyExchange and {Finished} arrives
    while the hostile server waits."""

    async def script(server: HostileServer, kit: Kit) -> None:
        await up_to_server_finished(server, kit)
        await server.nothing_within(0.3)
        await server.send_records(server.finished())
        assert await server.echo_until_close_notify() == MESSAGE.encode()

    outcome = await run_case(kit, script)
    assert outcome.result.returncode == 0, outcome.result.stdout[-2000:]


# ------------------------- every length, with library clients over TCP
#
# One client process per truncation length would take minutes; these sweeps
# drive the same client code (the toytls library) in this process, still
# over real TCP against the hostile server.


async def _library_client(port: int, kit: Kit) -> toytls.ToyTLSError:
    context = toytls.create_default_context(cafile=kit.pki_dir / "root.pem")
    stream = toytls.ToyTLSStream(await open_tcp(port), context, server_hostname="localhost")
    try:
        with pytest.raises(trio.BrokenResourceError) as info, trio.fail_after(TIMEOUT):
            await stream.do_handshake()
    finally:
        await stream.aclose()
    cause = info.value.__cause__
    assert isinstance(cause, toytls.ToyTLSError), cause
    return cause


def _cuts(msg_type: int, body: bytes, lengths: range | list[int]) -> list[bytes]:
    """The message cut to each body length (uint24 consistent), and cut
    inside its 4-byte header."""
    full = message(msg_type, body)
    return [message(msg_type, body[:k]) for k in lengths] + [full[:k] for k in range(1, 4)]


async def _sweep_server_hello(server: HostileServer, kit: Kit, cut: bytes) -> None:
    await server.read_client_hello()
    await server.send_records(record(HANDSHAKE, cut))
    assert [r.raw for r in await read_all(server)] == [plain_alert(DECODE_ERROR)]


async def _sweep_certificate(server: HostileServer, kit: Kit, cut: bytes) -> None:
    await server.read_client_hello()
    await server.send_records(server.server_hello(), record(HANDSHAKE, cut))
    got = await read_all(server)
    assert [r.raw for r in got] == [plain_alert(DECODE_ERROR)], "ClientKeyExchange sent?"


async def _sweep_finished(server: HostileServer, kit: Kit, cut: bytes) -> None:
    await up_to_server_finished(server, kit)
    await server.send_records(server.seal(HANDSHAKE, cut))
    got = await read_all(server)
    assert [(r.shape, r.plaintext) for r in got] == [((ALERT, 18), bytes((FATAL, DECODE_ERROR)))]


def _certificate_lengths(kit: Kit) -> list[bytes]:
    body = certificate_body(kit.chain)
    return _cuts(CERTIFICATE, body, [*range(16), *range(16, len(body), 53)])


SWEEPS: dict[
    str, tuple[Callable[[Kit], list[bytes]], Callable[[HostileServer, Kit, bytes], Awaitable[None]]]
] = {
    "server-hello": (lambda kit: _cuts(SERVER_HELLO, bytes(32), range(32)), _sweep_server_hello),
    "certificate": (_certificate_lengths, _sweep_certificate),
    "server-finished": (lambda kit: _cuts(FINISHED, bytes(32), range(32)), _sweep_finished),
}


@pytest.mark.parametrize("name", list(SWEEPS))
async def test_truncated_server_message_every_length(kit: Kit, name: str) -> None:
    """Every truncation of the server's messages: decode_error, from the client."""
    variants, script = SWEEPS[name]
    cuts = variants(kit)
    async with hostile_listener() as (listener, port):
        for cut in cuts:
            async with trio.open_nursery() as nursery:

                async def serve(cut: bytes = cut) -> None:
                    stream = await listener.accept()
                    server = HostileServer(stream=stream, private_key=kit.pki.server.key)
                    try:
                        with trio.fail_after(TIMEOUT):
                            await script(server, kit, cut)
                    finally:
                        await server.aclose()

                nursery.start_soon(serve)
                error = await _library_client(port, kit)
            assert error.alert == DECODE_ERROR and not error.from_peer, (cut.hex(), error)
