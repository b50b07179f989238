"""Every error a person can meet is said in Chinese, with the article's terms.

The errors here are real: every failure case of the in-memory alert tables
(``alert_cases.SERVER_ALERTS`` and the rows of ``test_core_connection_alerts``),
the refused chains of §4, a cut connection, a stream that never completes
its handshake, and the files the commands load. For each one:

* ``describe_error(…, "zh")``, ``describe_reason`` and the Chinese
  narration of the events at level 3 hold no English sentence (three
  lowercase English words in a row, once quoted text and identifiers are
  taken out);
* the error carries a message id, and the English template of that id gives
  back the error's own message word for word.

The id table itself is checked against the source: every id the code raises
has both texts, and every text belongs to an id the code raises.
"""

from __future__ import annotations

import ast
import datetime
import errno
import itertools
import re
from pathlib import Path
from typing import Any

import pytest
import test_core_connection_alerts as cases
import trio
import trio.testing
from alert_cases import SERVER_ALERTS
from cryptography.hazmat.primitives.asymmetric import ec
from english import english_sentences
from helpers import client_config, der, failure

import toytls
from toytls import events as ev
from toytls.attacker.tamper import swap_public_key, tamper_subject
from toytls.core.config import normalize_server_name
from toytls.core.connection import Connection
from toytls.core.constants import AlertDescription
from toytls.core.errors import CertificateVerifyError, ConfigError, ToyTLSError
from toytls.pki.files import MissingFileError, load_attacker_kit
from toytls.pki.generate import PKI, generate_key, make_leaf
from toytls.story.error_texts import (
    ERRORS,
    alert_meaning,
    describe_error,
    describe_logged,
    describe_reason,
)
from toytls.story.narration import Narrator
from toytls.streams.engine import transport_error

# --- the English detector ------------------------------------------------------


def test_the_detector_finds_english_and_lets_names_through() -> None:
    assert english_sentences("the certificate is for attacker.test, not localhost")
    assert english_sentences("连接失败：record 1 failed to decrypt: it was changed")
    assert english_sentences(
        "数字证书被拒绝：the signature on CN=localhost,O=toytls does not match"
    )
    assert not english_sentences("这张数字证书是颁发给 attacker.test 的，不是 localhost")
    assert not english_sentences(
        "server_name 'has some odd words in it' 含有 [a-z0-9.-] 以外的字节"
    )
    assert not english_sentences("签发者：CN=toytls Intermediate R3,O=toytls；警报 bad_record_mac")
    assert not english_sentences("nonce = 49201e681fbca62a5f476422（write_iv XOR seq）")


# --- the table against the source ------------------------------------------------

_ID = re.compile(
    r"^(cert|record|connection|alert|handshake|decode|stream|config|pem|inspect|capture|keylog)"
    r"\.[a-z_]+$"
)


def _ids_in_source() -> set[str]:
    """Every string in ``toytls/`` (but the texts) that looks like a message id."""
    found: set[str] = set()
    for path in Path(toytls.__file__).parent.rglob("*.py"):
        if path.name == "error_texts.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            value = node.value if isinstance(node, ast.Constant) else None
            if isinstance(value, str) and _ID.match(value):
                found.add(value)
    return found


def test_every_id_raised_has_both_texts_and_every_text_is_used() -> None:
    raised = _ids_in_source()
    assert len(raised) > 60  # the walk sees the ids
    assert raised - set(ERRORS) == set(), "ids without texts"
    assert set(ERRORS) - raised == set(), "texts no code raises"


_FIELD = re.compile(r"\{[^{}]*\}")


@pytest.mark.parametrize("key", sorted(ERRORS))
def test_every_chinese_text_is_chinese(key: str) -> None:
    """Even the ids no test below reaches (a CA with pathLenConstraint, …)."""
    english_text, chinese = ERRORS[key]
    assert english_sentences(_FIELD.sub(" ", chinese)) == [], chinese
    assert re.search(r"[\u4e00-\u9fff]", chinese), chinese
    assert sorted(_FIELD.findall(english_text)) == sorted(
        f.replace("os_error", "detail") for f in _FIELD.findall(chinese)
    )


# --- real failures, in memory --------------------------------------------------------


def _feed(st: cases.Stage, target: str, data: bytes) -> tuple[list[ev.Event], list[ev.Event]]:
    """Give ``target`` the bytes; give its peer what it answered. Both sides' events."""
    conn, peer = (st.server, st.client) if target == "server" else (st.client, st.server)
    events = conn.receive_data(data)
    answer = conn.data_to_send()
    peer_events = peer.receive_data(answer) if answer and peer.error is None else []
    return events, peer_events


def _bad_chains(pki: PKI) -> dict[str, tuple[bytes, ...]]:
    """What a server (or a man in the middle) sends, for each refusal of §4."""
    now = datetime.datetime.now(datetime.UTC)
    day = datetime.timedelta(days=1)
    inter = der(pki.intermediate.certificate)

    def leaf(
        start: datetime.datetime | None = None,
        end: datetime.datetime | None = None,
        *,
        ca: bool = False,
        server_auth: bool = True,
        weak: bool = False,
    ) -> tuple[bytes, ...]:
        made = make_leaf(
            pki.intermediate,
            [pki.server_name],
            key=generate_key(1024) if weak else pki.server.key,
            not_before=start,
            not_after=end,
            ca=ca,
            eku_server_auth=server_auth,
        )
        return (der(made.certificate), inter)

    swapped = swap_public_key(der(pki.server.certificate), pki.attacker_key.public_key())
    ec_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    return {
        "swap-key": (swapped, inter),
        "tamper-cert": (tamper_subject(der(pki.server.certificate)), inter),
        "swap-cert": (der(pki.attacker_other_name), inter),
        "self-signed": (der(pki.attacker_self_signed),),
        "own-ca": (der(pki.attacker_own_ca),),
        "no-intermediate": (der(pki.server.certificate),),
        "expired": leaf(now - 10 * day, now - day),
        "not-yet-valid": leaf(now + day, now + 10 * day),
        "leaf-is-ca": leaf(ca=True),
        "client-auth": leaf(server_auth=False),
        "rsa-1024": leaf(weak=True),
        "ec-leaf": (cases._resigned_with_key(pki, ec_key), inter),
    }


Failure = tuple[str, str, list[ev.Event]]


def _failures(pki: PKI) -> list[Failure]:
    """(case, role, events) for both ends of every failure case."""
    out: list[Failure] = []
    rows = itertools.chain(
        cases.UNEXPECTED_MESSAGE, cases.BAD_RECORD_MAC, cases.RECORD_OVERFLOW,
        cases.DECODE_ERROR, cases.DECRYPT_ERROR, cases.PROTOCOL_VERSION,
    )  # fmt: skip
    for param in rows:
        c = param.values[0]
        st = cases.stage(pki, c.upto)
        mine, theirs = _feed(st, c.target, c.make(st))
        other = "client" if c.target == "server" else "server"
        out += [(param.id, c.target, mine), (param.id, other, theirs)]
    for name, c in SERVER_ALERTS.items():
        st = cases.stage(pki, c.upto)
        seqs = itertools.count(0 if c.upto == "key_exchange" else 1)

        def sealer(content_type: int, plaintext: bytes) -> bytes:
            return cases.seal(st.schedule, "client", next(seqs), content_type, plaintext)  # noqa: B023

        mine, theirs = _feed(st, "server", c.make(sealer))
        out += [(name, "server", mine), (name, "client", theirs)]
    chains = _bad_chains(pki)
    for name, chain in [*chains.items(), ("insecure-ec-leaf", chains["ec-leaf"])]:
        verify = not name.startswith("insecure")
        st = cases.stage(pki, "hello", client=Connection(client_config(pki, verify=verify)))
        flight = cases._with_chain(*(cases._const(d) for d in chain))(st)
        mine, theirs = _feed(st, "client", flight)
        out += [(name, "client", mine), (name, "server", theirs)]
    views: dict[str, dict[str, Any]] = {
        "no-roots": {"roots": ()},
        "clock-2200": {"now": datetime.datetime(2200, 1, 1, tzinfo=datetime.UTC)},
        "other-name": {"server_name": "www.localhost"},
    }
    for name, overrides in views.items():
        client = Connection(client_config(pki, **overrides))
        st = cases.stage(pki, "hello", client=client)
        mine, theirs = _feed(st, "client", st.server_flight)
        out += [(name, "client", mine), (name, "server", theirs)]
    for upto, target in (("connected", "client"), ("hello", "client"), ("start", "server")):
        st = cases.stage(pki, upto)
        out.append((f"eof-{upto}", target, _feed(st, target, b"")[0]))
    return out


@pytest.fixture(scope="module")
def failures(pki: PKI) -> list[Failure]:
    return _failures(pki)


def _errors(failures: list[Failure]) -> list[tuple[str, ToyTLSError]]:
    found = []
    for name, _, events in failures:
        failed = failure(events)
        if failed is not None:
            found.append((name, failed.error))
    return found


def _detected(failures: list[Failure]) -> dict[str, ToyTLSError]:
    """Each case's error as the side that found the fault has it."""
    return {name: error for name, error in _errors(failures) if not error.from_peer}


def test_every_failure_is_told_in_chinese(failures: list[Failure]) -> None:
    errors = _errors(failures)
    assert len(errors) > 2 * 64  # both ends of every case
    for name, error in errors:
        for text in (describe_error(error, "zh"), describe_reason(error, "zh")):
            assert english_sentences(text) == [], (name, text)
        assert (
            describe_logged(error, "zh") and english_sentences(describe_logged(error, "zh")) == []
        )


def test_every_failure_has_an_id_and_the_english_is_unchanged(failures: list[Failure]) -> None:
    for name, error in _errors(failures):
        assert error.key in ERRORS, (name, error)
        own = error.reason if isinstance(error, CertificateVerifyError) else error.message
        assert describe_reason(error, "en") == own, name


def test_the_chinese_narration_of_every_failure(failures: list[Failure]) -> None:
    for name, role, events in failures:
        narrator = Narrator(lang="zh", level=3, role=role)
        for event in events:
            for line in narrator.describe(event):
                assert english_sentences(line) == [], (name, line)


def test_the_reasons_use_the_articles_terms(failures: list[Failure]) -> None:
    said = {name: describe_error(error, "zh") for name, error in _detected(failures).items()}
    assert "摘要T ≠ 摘要S" in said["swap-key"] and "数字签名" in said["swap-key"]
    assert "数字证书是颁发给 attacker.test 的，不是 localhost" in said["swap-cert"]
    assert "自签名" in said["self-signed"] and "根证书" in said["self-signed"]
    assert "CN=toytls Attacker Root,O=toytls" in said["own-ca"]
    assert "过期" in said["expired"] and "生效" in said["not-yet-valid"]
    assert "RSA-1024" in said["rsa-1024"] and "不是 RSA" in said["ec-leaf"]
    assert "没法用它加密密钥X" in said["insecure-ec-leaf"]
    assert "Finished 校验不通过" in said["client-finished-flipped"]
    assert "连认证标签都放不下" in said["plaintext-app-data"]
    bad_mac = [e for e in _detected(failures).values() if e.key == "record.bad_mac"]
    assert bad_mac and all("的记录解密失败" in describe_error(e, "zh") for e in bad_mac)
    assert "截断" in said["eof-connected"]


# --- outside the core: the stream, the files -----------------------------------


async def test_a_handshake_that_never_comes(pki_dir: Path, autojump_clock: object) -> None:
    context = toytls.create_default_context(cafile=pki_dir / "root.pem")
    context.handshake_timeout = 5
    a, _b = trio.testing.memory_stream_pair()
    stream = toytls.ToyTLSStream(a, context, server_hostname="localhost")
    with pytest.raises(trio.BrokenResourceError) as info:
        await stream.do_handshake()
    cause = info.value.__cause__
    assert isinstance(cause, ToyTLSError) and cause.key == "stream.handshake_timeout"
    assert describe_error(info.value, "en").endswith("no handshake within 5 s")
    assert describe_error(info.value, "zh") == "连接在没有警报的情况下结束：5 秒内没有完成握手"


def test_a_transport_that_breaks() -> None:
    cause = OSError(errno.ECONNRESET, "Connection reset by peer")
    broken = trio.BrokenResourceError(f"socket connection broken: {cause}")
    broken.__cause__ = cause  # as trio raises it: ``from`` the OSError
    reset = transport_error(broken)
    assert reset.message == f"the transport failed: socket connection broken: {cause}"
    assert describe_reason(reset, "zh") == "底层连接出错：对方重置了连接"
    odd = transport_error(trio.BrokenResourceError("something odd happened here"))
    assert describe_reason(odd, "zh") == "底层连接出错：“something odd happened here”"


def test_files_and_settings(tmp_path: Path, pki_dir: Path) -> None:
    notes = tmp_path / "README.md"
    notes.write_text("hello\n")
    errors: list[Exception] = []
    for load in (
        lambda: toytls.create_default_context(cafile=notes),
        lambda: toytls.create_server_context(certfile=pki_dir / "chain.pem", keyfile=notes),
        lambda: toytls.create_server_context(
            certfile=pki_dir / "chain.pem", keyfile=pki_dir / "root.key"
        ),
        lambda: normalize_server_name("bad_name"),
        lambda: normalize_server_name(""),
        lambda: load_attacker_kit(tmp_path),
        lambda: open(tmp_path / "nothing.pem"),  # noqa: SIM115
        lambda: open(tmp_path),  # noqa: SIM115
    ):
        with pytest.raises((ConfigError, OSError)) as info:
            load()
        errors.append(info.value)
    readme, key, mismatch, *_, missing, absent, directory = errors
    assert (
        str(readme)
        == f"{notes}: not a PEM certificate bundle: no certificate could be read from it"
    )
    assert (
        describe_error(readme, "zh")
        == f"{notes}：这不是 PEM 格式的证书文件：从中读不出任何数字证书"
    )
    assert describe_error(key, "zh").startswith(f"{notes}：这不是未加密的 PEM 私钥")
    assert describe_error(mismatch, "zh") == "私钥和证书链里的第一张证书不配对"
    assert isinstance(missing, MissingFileError)
    assert describe_error(absent, "zh").endswith("nothing.pem：文件不存在")
    assert describe_error(directory, "zh") == f"{tmp_path}：这是一个目录，不是文件"
    for error in errors:
        assert english_sentences(describe_error(error, "zh")) == [], error
        assert describe_error(error, "en") == (
            f"{error.filename}: {error.strerror}"
            if isinstance(error, OSError) and error.filename
            else str(error)
        )


# --- errors raised without an id ------------------------------------------------


def test_an_error_without_an_id_is_still_told_honestly() -> None:
    sent = ToyTLSError("the Finished differs", alert=AlertDescription.DECRYPT_ERROR)
    assert describe_error(sent, "en") == (
        f"this side sent alert decrypt_error: {alert_meaning(51)} (the Finished differs)"
    )
    assert describe_error(sent, "zh") == f"本方发出警报 decrypt_error：{alert_meaning(51, 'zh')}"
    cut = ToyTLSError("the wire was cut", alert=None)
    assert describe_error(cut, "zh").endswith("“the wire was cut”")
    assert english_sentences(describe_error(cut, "zh")) == []
    assert describe_error(ValueError("--connect must look like HOST:PORT"), "zh") == (
        "--connect must look like HOST:PORT"
    )  # not ours to translate: the command says it in its own words


def test_the_server_log_keeps_its_english_form(failures: list[Failure]) -> None:
    flipped = _detected(failures)["client-finished-flipped"]
    assert describe_logged(flipped, "en") == f"alert sent: decrypt_error — {flipped.message}"
    peer = next(e for name, e in _errors(failures) if e.from_peer and e.alert == 20)
    assert describe_logged(peer, "en").startswith("alert received: bad_record_mac — ")
    assert describe_logged(peer, "zh").startswith("收到警报 bad_record_mac：")
