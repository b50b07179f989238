"""``toytls demo``: the story of HTTPS, run for real over loopback sockets.

Each scenario starts real servers on 127.0.0.1 (free ports), connects a real
client, and reports what the article predicts against what happened. The
narration comes from the connections' own events. Output goes through a
``write`` callable so that only the CLI prints.
"""

from __future__ import annotations

import functools
import tempfile
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import trio

from . import events as ev
from .context import Context, create_default_context, create_server_context
from .errors import CertificateVerifyError, ToyTLSError
from .narration import describe, short_hex
from .pki import PKI, ensure_pki
from .stream import ToyTLSStream
from .tamper import swap_public_key

Write = Callable[[str], None]

#: The article's love letter, sent in every scenario.
MESSAGE = "Happy birthday! (the letter nobody else should read)"


@dataclass(frozen=True, kw_only=True, slots=True)
class ScenarioResult:
    """One line of the final table."""

    number: int
    title: str
    predicted: str
    happened: str
    as_predicted: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class _Outcome:
    client_reply: bytes | None
    client_error: BaseException | None
    server_heard: bytes | None
    server_secret: bytes | None


async def _run_pair(
    server_context: Context,
    client_context: Context,
    server_name: str,
    write: Write,
    *,
    tag: str,
) -> _Outcome:
    """Serve one connection (echo) and run one client against it."""
    heard: list[bytes] = []
    secrets: list[bytes] = []

    def server_event(event: ev.Event) -> None:
        if isinstance(event, ev.KeysDerived):
            secrets.append(event.secret)

    async def handler(tcp: trio.SocketStream) -> None:
        stream = ToyTLSStream(tcp, server_context, server_side=True, event_handler=server_event)
        try:
            async with stream:
                data = await stream.receive_some()
                heard.append(data)
                await stream.send_all(data)
        except trio.BrokenResourceError:
            pass

    def client_event(event: ev.Event) -> None:
        for line in describe(event):
            write(f"  {tag} {line}")

    reply: bytes | None = None
    error: BaseException | None = None
    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            serve = functools.partial(trio.serve_tcp, host="127.0.0.1")
            listeners = await nursery.start(serve, handler, 0)
            port = listeners[0].socket.getsockname()[1]
            tcp = await trio.open_tcp_stream("127.0.0.1", port)
            client = ToyTLSStream(
                tcp, client_context, server_hostname=server_name, event_handler=client_event
            )
            try:
                async with client:
                    await client.send_all(MESSAGE.encode())
                    reply = await client.receive_some()
            except trio.BrokenResourceError as exc:
                error = exc.__cause__
            await trio.sleep(0.05)  # let the server task finish its side
            nursery.cancel_scope.cancel()
    return _Outcome(
        client_reply=reply,
        client_error=error,
        server_heard=heard[0] if heard else None,
        server_secret=secrets[0] if secrets else None,
    )


async def _honest(pki_dir: Path, pki: PKI, write: Write) -> ScenarioResult:
    server = create_server_context(certfile=pki_dir / "chain.pem", keyfile=pki_dir / "server.key")
    client = create_default_context(cafile=pki_dir / "root.pem")
    write("The client trusts one root CA (its public key A+ is built in).")
    write("The server presents its certificate, signed by an intermediate CA.")
    outcome = await _run_pair(server, client, pki.server_name, write, tag="client")
    ok = outcome.client_reply == MESSAGE.encode() and outcome.client_error is None
    happened = "echoed over AES-GCM" if ok else f"failed: {outcome.client_error}"
    return ScenarioResult(
        number=1,
        title="Chain of trust, honest server",
        predicted="chain checked link by link; message arrives",
        happened=happened,
        as_predicted=ok,
    )


def _swap_key_context(pki: PKI) -> Context:
    """The attacker's server: the real certificate with its own key B+ inside."""
    from cryptography.hazmat.primitives import serialization

    real_leaf = pki.server.certificate.public_bytes(serialization.Encoding.DER)
    intermediate = pki.intermediate.certificate.public_bytes(serialization.Encoding.DER)
    forged = swap_public_key(real_leaf, pki.attacker_key.public_key())
    context = Context(server_side=True)
    context.certificate_chain = (forged, intermediate)
    context.private_key = pki.attacker_key
    context.server_config()  # the forged leaf does hold the attacker's key
    return context


async def _swap_key_verified(pki_dir: Path, pki: PKI, write: Write) -> ScenarioResult:
    write("The attacker keeps the real certificate but swaps in his own public key")
    write("(偷梁换柱). The CA's signature stays as it was. The client checks it:")
    client = create_default_context(cafile=pki_dir / "root.pem")
    outcome = await _run_pair(_swap_key_context(pki), client, pki.server_name, write, tag="client")
    error = outcome.client_error
    ok = (
        isinstance(error, CertificateVerifyError)
        and outcome.server_secret is None
        and outcome.server_heard is None
    )
    happened = (
        f"rejected: {error.reason}"
        if isinstance(error, CertificateVerifyError)
        else (f"NOT rejected ({error})")
    )
    return ScenarioResult(
        number=2,
        title="偷梁换柱 against a verifying client",
        predicted="rejected: digest T ≠ S; key X never sent",
        happened=happened,
        as_predicted=ok,
    )


async def _swap_key_unverified(pki_dir: Path, pki: PKI, write: Write) -> ScenarioResult:
    write("The same attack against a client that does not check certificates:")
    client = create_default_context(cafile=pki_dir / "root.pem")
    client.verify = False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outcome = await _run_pair(
            _swap_key_context(pki), client, pki.server_name, write, tag="client"
        )
    for warning in caught:
        write(f"  warning: {warning.message}")
    stolen = outcome.server_secret
    ok = stolen is not None and outcome.server_heard == MESSAGE.encode()
    if ok and stolen is not None and outcome.server_heard is not None:
        write(f"  attacker decrypted key X with his own B−: {short_hex(stolen, 16)}")
        write(f"  attacker reads the letter: {outcome.server_heard.decode()!r}")
    happened = "attacker read the letter" if ok else f"unexpected: {outcome.client_error}"
    return ScenarioResult(
        number=3,
        title="偷梁换柱 without verification",
        predicted="attack succeeds; nobody notices",
        happened=happened,
        as_predicted=ok,
    )


Scenario = Callable[[Path, PKI, Write], Awaitable[ScenarioResult]]
SCENARIOS: tuple[tuple[str, Scenario], ...] = (
    ("Chain of trust: the honest run", _honest),
    ("偷梁换柱: a swapped public key, checked", _swap_key_verified),
    ("偷梁换柱: a swapped public key, not checked", _swap_key_unverified),
)


async def run_demo(write: Write, *, certs_dir: Path | None = None) -> list[ScenarioResult]:
    """Run every scenario in order and return their results.

    Args:
        write: Receives each line of narration.
        certs_dir: Use (or create) the PKI there; None makes a fresh one in a
            temporary directory that is removed afterwards.

    Raises:
        OSError, ValueError: The PKI directory cannot be used.
    """
    with tempfile.TemporaryDirectory(prefix="toytls-demo-") as temp:
        directory = certs_dir if certs_dir is not None else Path(temp)
        write(f"Making the PKI (root CA, intermediate, server, attacker) in {directory} …")
        pki = await trio.to_thread.run_sync(ensure_pki, directory)
        results = []
        for number, (heading, scenario) in enumerate(SCENARIOS, start=1):
            write("")
            write(f"== {number}. {heading} ==")
            try:
                result = await scenario(directory, pki, write)
            except (ToyTLSError, OSError, trio.TooSlowError) as exc:
                result = ScenarioResult(
                    number=number,
                    title=heading,
                    predicted="?",
                    happened=f"crashed: {exc}",
                    as_predicted=False,
                )
            results.append(result)
        return results
