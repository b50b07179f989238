"""``toytls demo``: the article's story of HTTPS, run for real on loopback.

Every scenario but one runs over real TCP sockets on 127.0.0.1, at free
ports, all as tasks of this one process. Most start the real server and
the real attacker proxy (the same code as ``toytls server`` and ``toytls
proxy``), connect a real client, and compare what happened with what the
article predicts. Lessons 2 and 3 (:mod:`.demo_lessons`) speak the
article's first, broken protocols instead of toytls/1 — a real client and
server of their own through the same watching proxy; lesson 4 only times
RSA against AES, in memory. Each scenario ends with one line naming the
sockets it used (:class:`~.demo_parties.Wiring`), and its JSON says the
same under ``transport``. Everything a scenario starts lives in its own
nursery, so it is gone when the scenario ends — or when Ctrl-C cancels the
run.

Output goes through the ``write`` callable given to :func:`run_demo`; only
the command line prints.
"""

from __future__ import annotations

import functools
import tempfile
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import trio

from ..attacker import outcomes as out
from ..attacker.modes import Mode
from ..core.errors import CertificateVerifyError, ToyTLSError
from ..pki.files import ensure_pki, load_attacker_kit
from ..pki.generate import PKI
from ..story.demo_texts import (
    DATA_ATTACKS,
    DATA_DETECTED,
    HAPPENED,
    LETTER,
    LINES,
    TITLES,
    WIRE_WORDS,
)
from ..story.error_texts import describe_error, describe_reason
from ..story.narration import Narrator, short_hex
from ..streams.context import Context, create_default_context
from ..streams.stream import ToyTLSInsecureWarning, ToyTLSStream
from . import proxy as proxy_command
from . import server as server_command
from .demo_lessons import asymmetric, speed, symmetric
from .demo_parties import HOST, Attacker, ClientRun, Transport, Wiring
from .demo_secrecy import forward_secrecy
from .demo_witness import Witness
from .options import ProxyOptions, ServerOptions

#: Writes one line; ``highlight`` marks the one sentence that matters.
Write = Callable[[str, bool], None]


VERIFYING, INSECURE, ROGUE_ROOT = "verifying", "insecure", "trusts the attacker's root"


@dataclass(frozen=True, kw_only=True, slots=True)
class ScenarioResult:
    """One row of the final table."""

    number: int
    title: str
    predicted: str
    happened: str
    as_predicted: bool
    #: the sockets and processes it used (TCP on loopback, or memory only)
    transport: Transport


class Stage:
    """What every scenario needs: the PKI, the words, and real components."""

    def __init__(self, pki_dir: Path, pki: PKI, lang: str, write: Write, witness: Witness) -> None:
        self.pki_dir = pki_dir
        self.pki = pki
        self.lang = lang
        self._write = write
        self.witness = witness
        #: the proxies and connections of the scenario running now
        self.wiring = Wiring()

    def say(self, line: str, *, highlight: bool = False, **fields: object) -> None:
        """One narrated line: ``line`` names it in :data:`toytls.story.demo_texts.LINES`."""
        self._write("  " + LINES[self.lang][line].format(**fields), highlight)

    @property
    def letter(self) -> str:
        """The article's love letter, in the demo's language."""
        return LETTER[self.lang][0]

    def happened(self, note: str, **fields: object) -> str:
        """A "what happened" note for the table, in the demo's language."""
        return HAPPENED[self.lang][note].format(**fields)

    def narrate(self, text: str) -> None:
        """A line of the connection's own narration, as it is."""
        self._write("  " + text, False)

    async def server(self, nursery: trio.Nursery, *, plaintext: bool = False) -> int:
        """Start the echo server (``toytls server``) on a free port."""
        options = ServerOptions(
            accept="127.0.0.1:0",
            app="echo",
            cert_chain=self.pki_dir / "chain.pem",
            key=self.pki_dir / "server.key",
            plaintext=plaintext,
        )
        context = None if plaintext else server_command.build_context(options)
        serve = functools.partial(server_command.serve, options, self.witness.console(), context)
        port: int = await nursery.start(serve)
        return port

    async def proxy(
        self,
        nursery: trio.Nursery,
        mode: str,
        upstream: int,
        *,
        rewrite: tuple[str, ...] = (),
        pcap: Path | None = None,
    ) -> Attacker:
        """Start the attacker (``toytls proxy``, recording to ``pcap`` if given); its outcomes."""
        options = ProxyOptions(
            mode=mode,
            listen="127.0.0.1:0",
            upstream=f"127.0.0.1:{upstream}",
            rewrite=rewrite,
            pcap=pcap,
        )
        kit = load_attacker_kit(self.pki_dir) if Mode(mode).is_man_in_the_middle else None
        attacker = Attacker()
        heard = self.witness.hear("proxy", attacker.add)
        serve = functools.partial(
            proxy_command.serve, options, self.witness.console(), kit, on_outcome=heard
        )
        attacker.port = await nursery.start(serve)
        self.wiring.proxies[attacker.port] = upstream
        return attacker

    async def connect(self, port: int) -> trio.SocketStream:
        """A client's TCP connection to ``port`` on 127.0.0.1, noted in :attr:`wiring`."""
        stream = await trio.open_tcp_stream(HOST, port)
        self.wiring.connected.append(port)
        return stream

    def say_transport(self) -> None:
        """The scenario's closing line: which sockets it used, or that it ran in memory."""
        if self.wiring.connected:
            self.say("wire_tcp", paths=self.wiring.describe(WIRE_WORDS[self.lang]))
        else:
            self.say("wire_memory")

    def client_context(self, kind: str) -> Context:
        context = create_default_context(cafile=self.pki_dir / "root.pem")
        if kind == INSECURE:
            context.verify = False
        if kind == ROGUE_ROOT:
            context.load_verify_locations(cafile=self.pki_dir / "attacker-root.pem")
        return context

    async def client(
        self, port: int, *, kind: str = VERIFYING, plaintext: bool = False
    ) -> ClientRun:
        """Send the letter, close_notify, and read the reply to the end."""
        run = ClientRun()
        tcp = await self.connect(port)
        stream: trio.abc.HalfCloseableStream = tcp
        if not plaintext:
            stream = ToyTLSStream(
                tcp,
                self.client_context(kind),
                server_hostname=self.pki.server_name,
                event_handler=self.witness.hear("client", run.events.append),
            )
        try:
            async with stream:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ToyTLSInsecureWarning)  # the demo says it
                    await stream.send_all(self.letter.encode())
                await stream.send_eof()
                reply = b""
                while chunk := await stream.receive_some():
                    reply += chunk
                run.reply = reply
        except trio.BrokenResourceError as exc:
            run.error = exc.__cause__ or exc
        return run


Scenario = Callable[[Stage], Awaitable[tuple[str, bool]]]


async def plain_http(stage: Stage) -> tuple[str, bool]:
    letter, old, new = LETTER[stage.lang]
    stage.say("plain_setup")
    async with trio.open_nursery() as nursery:
        server = await stage.server(nursery, plaintext=True)
        watcher = await stage.proxy(nursery, "watch", server)
        await stage.client(watcher.port, plaintext=True)
        await watcher.wait_finished()
        seen = [o.text for o in watcher.of(out.PlaintextSeen) if not o.stolen]
        if seen:
            stage.say("plain_seen", text=seen[0], highlight=True)
        stage.say("plain_rewrite", old=old, new=new)
        rewriter = await stage.proxy(nursery, "watch", server, rewrite=(f"{old}={new}",))
        changed = await stage.client(rewriter.port, plaintext=True)
        await rewriter.wait_finished()
        reply = (changed.reply or b"").decode()
        stage.say("plain_changed", text=reply, highlight=True)
        nursery.cancel_scope.cancel()
    ok = letter in seen and reply == letter.replace(old, new)
    return stage.happened("plain", old=old, new=new), ok


async def _attack(stage: Stage, mode: str, kind: str) -> tuple[ClientRun, Attacker]:
    async with trio.open_nursery() as nursery:
        server = await stage.server(nursery)
        attacker = await stage.proxy(nursery, mode, server)
        run = await stage.client(attacker.port, kind=kind)
        await attacker.wait_finished()
        nursery.cancel_scope.cancel()
    return run, attacker


def _stolen(stage: Stage, run: ClientRun, attacker: Attacker) -> tuple[str, bool]:
    success = attacker.of(out.AttackSucceeded)
    texts = [o.text for o in attacker.of(out.PlaintextSeen) if o.stolen]
    if success:
        stage.say("stolen_key", key=success[0].secret.hex())
    if texts:
        stage.say("stolen_text", text=texts[0], highlight=True)
    ok = bool(success) and stage.letter in texts and run.reply == stage.letter.encode()
    if ok:
        stage.say("unnoticed")
        return stage.happened("stolen"), True
    return stage.happened("not_stolen", why=_why(run.error, stage.lang)), False


def _why(error: BaseException | None, lang: str) -> str:
    """Why a scenario went otherwise than the article says, in the demo's language."""
    return "—" if error is None else describe_error(error, lang)


def _rejected(
    stage: Stage, run: ClientRun, attacker: Attacker, alert: str, show_digests: bool
) -> tuple[str, bool]:
    error = run.error
    if show_digests:
        for event in run.links:
            if not event.link.signature_valid:
                t = short_hex(event.link.digest_t or b"", 8) if event.link.digest_t else "—"
                stage.say("digests", s=short_hex(event.link.digest_s, 8), t=t)
    if not isinstance(error, CertificateVerifyError):
        return stage.happened("not_rejected", why=_why(error, stage.lang)), False
    reason = describe_reason(error, stage.lang)
    stage.say("rejected", alert=error.alert_name, reason=reason, highlight=True)
    no_key = not any(o.client_key_exchange_seen for o in attacker.of(out.AttackFailed))
    if no_key:
        stage.say("no_key_sent")
    return f"{error.alert_name}: {reason}", error.alert_name == alert and no_key


async def swap_key_unchecked(stage: Stage) -> tuple[str, bool]:
    stage.say("swap_setup")
    stage.say("no_check")
    return _stolen(stage, *await _attack(stage, "swap-key", INSECURE))


async def swap_key_checked(stage: Stage) -> tuple[str, bool]:
    stage.say("swap_setup")
    stage.say("check")
    run, attacker = await _attack(stage, "swap-key", VERIFYING)
    return _rejected(stage, run, attacker, "bad_certificate", show_digests=True)


async def tampered(stage: Stage) -> tuple[str, bool]:
    stage.say("tamper_setup")
    run, attacker = await _attack(stage, "tamper-cert", VERIFYING)
    return _rejected(stage, run, attacker, "bad_certificate", show_digests=True)


async def chain_of_trust(stage: Stage) -> tuple[str, bool]:
    stage.say("chain_setup")
    async with trio.open_nursery() as nursery:
        run = await stage.client(await stage.server(nursery))
        nursery.cancel_scope.cancel()
    for event in reversed(run.links):
        link = event.link
        if link.subject == link.issuer and link is run.links[-1].link:
            # The anchor: its self-signature is not why it is trusted.
            stage.say("chain_root", subject=link.subject)
            continue
        stage.say(
            "chain_link",
            subject=link.subject,
            issuer=link.issuer,
            ok="✓" if link.signature_valid and link.digest_t == link.digest_s else "✗",
        )
    ok = run.reply == stage.letter.encode() and len(run.links) == 3
    ok = ok and all(e.link.signature_valid for e in run.links)
    if ok:
        stage.say("chain_ok", highlight=True)
    return stage.happened("chain"), ok


async def swap_cert(stage: Stage) -> tuple[str, bool]:
    stage.say("swapcert_setup")
    run, attacker = await _attack(stage, "swap-cert", VERIFYING)
    summary, ok = _rejected(stage, run, attacker, "bad_certificate", show_digests=False)
    return summary, ok and "attacker.test" in summary


async def own_ca(stage: Stage) -> tuple[str, bool]:
    stage.say("ownca_setup")
    run, attacker = await _attack(stage, "own-ca", VERIFYING)
    return _rejected(stage, run, attacker, "unknown_ca", show_digests=False)


async def rogue_root(stage: Stage) -> tuple[str, bool]:
    stage.say("rogue_setup")
    return _stolen(stage, *await _attack(stage, "own-ca", ROGUE_ROOT))


async def data_attacks(stage: Stage) -> tuple[str, bool]:
    stage.say("data_setup")
    outcomes = []
    for mode, expected in (
        ("flip", "bad_record_mac"),
        ("replay", "bad_record_mac"),
        ("truncate", None),
    ):
        run, _ = await _attack(stage, mode, VERIFYING)
        error = run.error
        detected = isinstance(error, ToyTLSError) and error.alert_name == expected
        if expected is None:
            detected = detected and getattr(error, "key", None) == "connection.truncated"
        words = DATA_DETECTED[stage.lang]
        told = describe_reason(error, stage.lang) if error is not None else words["missed"]
        outcome = words[mode].format(error=told) if detected else told
        stage.say("data_case", what=DATA_ATTACKS[stage.lang][mode], outcome=outcome, highlight=True)
        outcomes.append(detected)
    return stage.happened("data"), all(outcomes)


async def six_steps(stage: Stage) -> tuple[str, bool]:
    stage.say("flow_setup")
    async with trio.open_nursery() as nursery:
        run = await stage.client(await stage.server(nursery))
        nursery.cancel_scope.cancel()
    narrator = Narrator(lang=stage.lang, level=1, role="client")
    steps: set[str] = set()
    for event in run.events:
        for text in narrator.describe(event):
            stage.narrate(text)
            if text.startswith("[") and "/6]" in text[:6]:
                steps.add(text[1])
    ok = run.reply == stage.letter.encode() and steps == set("123456")
    return stage.happened("flow"), ok


SCENARIOS: dict[int, Scenario] = {
    1: plain_http,
    2: symmetric,
    3: asymmetric,
    4: speed,
    5: swap_key_unchecked,
    6: swap_key_checked,
    7: tampered,
    8: chain_of_trust,
    9: swap_cert,
    10: own_ca,
    11: rogue_root,
    12: data_attacks,
    13: six_steps,
    14: forward_secrecy,
}


async def run_demo(
    write: Write,
    *,
    lang: str = "en",
    certs_dir: Path | None = None,
    only: set[int] | None = None,
    pause: Callable[[int, str], Awaitable[None]] | None = None,
    on_result: Callable[[ScenarioResult], None] | None = None,
    witness: Witness | None = None,
) -> list[ScenarioResult]:
    """Run the scenarios in the article's order.

    Args:
        write: Receives each narrated line.
        lang: "en" or "zh".
        certs_dir: Use (or create) the PKI there; None makes one in a
            temporary directory, removed afterwards.
        only: Run just these scenario numbers.
        pause: Awaited with the number and title of each scenario before it runs
            (teaching mode).
        on_result: Called with each result as soon as it is known.
        witness: Hears every party of every scenario (the HTML report's recorder).

    Raises:
        OSError, ValueError: The PKI directory cannot be used.
    """
    with tempfile.TemporaryDirectory(prefix="toytls-demo-") as temp:
        directory = certs_dir if certs_dir is not None else Path(temp)
        write(LINES[lang]["pki"].format(where=directory), False)
        pki = await trio.to_thread.run_sync(ensure_pki, directory)
        stage = Stage(directory, pki, lang, write, witness or Witness())
        results = []
        for number, scenario in SCENARIOS.items():
            if only is not None and number not in only:
                continue
            title, predicted = TITLES[lang][number]
            if pause is not None:
                await pause(number, title)
            write("", False)
            write(f"== {number}. {title} ==", False)
            stage.wiring = Wiring()
            try:
                happened, ok = await scenario(stage)
            except (ToyTLSError, OSError, trio.TooSlowError, trio.BrokenResourceError) as exc:
                happened, ok = stage.happened("crashed", why=_why(exc, stage.lang)), False
            stage.say_transport()
            result = ScenarioResult(
                number=number,
                title=title,
                predicted=predicted,
                happened=happened,
                as_predicted=ok,
                transport=stage.wiring.transport(),
            )
            if on_result is not None:
                on_result(result)
            results.append(result)
        return results
