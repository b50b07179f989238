"""The three terminals as real processes: server, attacker proxy, client.

The full matrix: every proxy mode × {a verifying client, an ``--insecure``
client, a client that trusts the attacker's root}. Each cell's outcome is
asserted from the client's exit status and JSON events and from the proxy's
JSON events — rejected with the right alert, the attack succeeding (the proxy
holds key X and read the message), tampering detected, truncation reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from processes import Background, Result, run, start_proxy, start_server

MESSAGE = "meet me at eight, my love"
VERIFYING = "verifying"
INSECURE = "insecure"
ROGUE_ROOT = "trusts-attacker-root"
KINDS = (VERIFYING, INSECURE, ROGUE_ROOT)


@dataclass(frozen=True)
class Expect:
    """What the article predicts for one cell."""

    exit: int
    #: alert the client names (sent or received), or None
    alert: str | None = None
    #: the attacker reads the message and holds key X
    stolen: bool = False
    #: text the client's error line must contain
    says: str | None = None


OK = Expect(exit=0)
HONEST_RELAY = OK
STOLEN = Expect(exit=0, stolen=True)


def rejected(alert: str, says: str) -> Expect:
    return Expect(exit=3, alert=alert, says=says)


def detected(alert: str | None, says: str) -> Expect:
    return Expect(exit=4, alert=alert, says=says)


MATRIX: dict[str, dict[str, Expect]] = {
    "watch": {VERIFYING: OK, INSECURE: OK, ROGUE_ROOT: OK},
    "swap-key": {
        VERIFYING: rejected("bad_certificate", "T ≠ S"),
        INSECURE: STOLEN,
        ROGUE_ROOT: rejected("bad_certificate", "T ≠ S"),
    },
    "tamper-cert": {
        VERIFYING: rejected("bad_certificate", "T ≠ S"),
        # Accepted unchecked, but both sides hashed different transcripts
        # into their keys: the first encrypted record fails.
        INSECURE: detected("bad_record_mac", "bad_record_mac"),
        ROGUE_ROOT: rejected("bad_certificate", "T ≠ S"),
    },
    "swap-cert": {
        VERIFYING: rejected("bad_certificate", "attacker.test"),
        INSECURE: STOLEN,
        ROGUE_ROOT: rejected("bad_certificate", "attacker.test"),
    },
    "self-signed": {
        VERIFYING: rejected("unknown_ca", "self-signed"),
        INSECURE: STOLEN,
        ROGUE_ROOT: rejected("unknown_ca", "self-signed"),
    },
    "own-ca": {
        VERIFYING: rejected("unknown_ca", "Attacker Root"),
        INSECURE: STOLEN,
        ROGUE_ROOT: STOLEN,  # the article's "no absolute security"
    },
    "flip": {kind: detected("bad_record_mac", "bad_record_mac") for kind in KINDS},
    "replay": {kind: detected("bad_record_mac", "bad_record_mac") for kind in KINDS},
    "truncate": {kind: detected(None, "truncation") for kind in KINDS},
}


@pytest.fixture(scope="module")
def server(pki_dir: Path) -> Iterator[Background]:
    with start_server(pki_dir) as process:
        yield process


def client_args(kind: str, pki_dir: Path, address: str) -> list[str]:
    args = ["client", "--connect", address, "--message", MESSAGE, "--json"]
    args += ["--cafile", str(pki_dir / "root.pem")]
    if kind == INSECURE:
        args.append("--insecure")
    if kind == ROGUE_ROOT:
        args += ["--trust", str(pki_dir / "attacker-root.pem")]
    return args


def client_alert(result: Result) -> str | None:
    (outcome,) = result.named("result")
    alert: str | None = outcome.get("alert")
    return alert


def check_cell(mode: str, kind: str, result: Result, proxy_events: list[dict[str, Any]]) -> None:
    expect = MATRIX[mode][kind]
    where = f"{mode} × {kind}: {result.stderr.strip()}"
    assert result.returncode == expect.exit, where
    assert "Traceback" not in result.stderr, where
    if expect.exit == 0:
        (reply,) = result.named("reply")
        assert reply["text"] == MESSAGE, where
    else:
        assert client_alert(result) == expect.alert, where
        assert expect.says is not None and expect.says in result.stderr, where
    succeeded = [e for e in proxy_events if e["event"] == "attack_succeeded"]
    stolen_texts = [e["text"] for e in proxy_events if e["event"] == "stolen"]
    if expect.stolen:
        (success,) = succeeded
        # The proxy's key X is the client's: same fingerprint as the client saw.
        (complete,) = result.named("handshake_complete")
        assert complete["session"]["session_key_fingerprint"] == _fingerprint(success["secret"])
        assert MESSAGE in stolen_texts, where
    else:
        assert not succeeded and not stolen_texts, where
    if expect.exit == 3 and mode != "tamper-cert":
        # A verifying client never sends ClientKeyExchange to a key it did not
        # verify: seen from the attacker's side.
        (failed,) = [e for e in proxy_events if e["event"] == "attack_failed"]
        assert failed["client_key_exchange_seen"] is False
        assert failed["alert"] == expect.alert


def _fingerprint(secret_hex: str) -> str:
    from toytls.core.keyschedule import session_key_fingerprint

    return session_key_fingerprint(bytes.fromhex(secret_hex))


@pytest.mark.parametrize("mode", list(MATRIX))
def test_matrix(mode: str, server: Background, pki_dir: Path) -> None:
    """One proxy per mode; the three kinds of client go through it in turn."""
    results: dict[str, Result] = {}
    with start_proxy(server.address, mode, "--certs", str(pki_dir)) as proxy:
        for kind in KINDS:
            results[kind] = run(*client_args(kind, pki_dir, proxy.address))
    stopped = proxy.stop()
    assert stopped.returncode == 130, stopped.stderr  # Ctrl-C
    assert "Traceback" not in stopped.stderr
    by_connection: dict[int, list[dict[str, Any]]] = {}
    for event in stopped.events:
        if "connection" in event:
            by_connection.setdefault(event["connection"], []).append(event)
    for number, kind in enumerate(KINDS, start=1):
        check_cell(mode, kind, results[kind], by_connection.get(number, []))


def test_relay_modes_show_only_ciphertext(server: Background, pki_dir: Path) -> None:
    with start_proxy(server.address, "watch") as proxy:
        result = run(*client_args(VERIFYING, pki_dir, proxy.address))
    assert result.returncode == 0, result.stderr
    records = [e for e in proxy.stop().events if e["event"] == "record"]
    kinds = [(e["direction"], e["content_type"]) for e in records]
    assert ("client→server", "application_data") in kinds
    assert ("server→client", "application_data") in kinds
    assert not [e for e in proxy.stop().events if e["event"] == "plaintext"]


def test_watch_reads_and_changes_plaintext(pki_dir: Path) -> None:
    with (
        Background("server", "--accept", "127.0.0.1:0", "--plaintext") as plain,
        start_proxy(plain.address, "watch", "--rewrite", "eight=nine") as proxy,
    ):
        result = run(
            "client", "--connect", proxy.address, "--plaintext", "--message", MESSAGE, "--json"
        )
    assert result.returncode == 0, result.stderr
    (reply,) = result.named("reply")
    # The attacker read the letter and changed it; nobody noticed.
    assert reply["text"] == MESSAGE.replace("eight", "nine")
    texts = [e["text"] for e in proxy.stop().events if e["event"] == "plaintext"]
    assert MESSAGE in texts
