"""The ``toytls`` command line: flags, help, and dispatch to a command.

Only the command-line layer prints or exits. Heavy modules (trio,
cryptography) are imported inside each command, so ``toytls --help``
starts fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from .console import Console

_DESCRIPTION = """\
toytls makes HTTPS visible: a small, real, secure protocol (toytls/1) with
certificates, signatures, a chain of trust and an attacker who tries to get
in the middle.

Start with:  toytls demo
Or open three terminals:
  1$ toytls certs && toytls server
  2$ toytls proxy --mode swap-key
  3$ toytls client --connect 127.0.0.1:8443 --message "hello"
Run real programs over it (HTTP in a browser, any TCP service):
  toytls server --app http & toytls tunnel, then open http://127.0.0.1:8080/
"""

_EXIT_STATUSES = """\
exit status:
  0  success
  1  failure (a server or proxy could not run)
  2  usage: bad flags, missing files
  3  certificate rejected (client)
  4  connection or protocol failure (client)
"""

_CERTS_HELP = """\
Make the demo PKI: a root CA, an intermediate CA ("R3"-like), a certificate
for the server, and the attacker's material (his own root, a certificate
for the server's name from that root, a self-signed one, and a genuine one
for attacker.test). Private keys are written with mode 0600.

example:
  toytls certs --dir certs --name localhost
"""

_DEMO_HELP = """\
Run the story of HTTPS for real over loopback sockets, in one terminal:
an honest connection with its chain of trust checked link by link, then
the man in the middle who swaps the server's public key (偷梁换柱) —
rejected by a client that checks certificates, successful against one
that does not.

exit status: 0 if every scenario behaved as the article predicts, 1 if not.

example:
  toytls demo
"""

_SERVER_HELP = """\
Serve toytls/1 to many clients at once. One log line per connection event
(connect, handshake done with the session key's fingerprint, alerts with
their meaning, disconnect), and each connection narrated at the -v level.

  --app echo   return every byte received (default)
  --app chat   show what each client says; type a line to answer all,
               or "@N text" to answer client N
  --app http   an HTTP/1.1 server whose page shows each visitor their own
               connection: chain, key X's fingerprint, and their request as
               an eavesdropper saw it (JSON at /api/session)
  --forward HOST:PORT
               the server end of a tunnel: decrypt and pass the data to a
               plain TCP service (see `toytls tunnel`)

examples:
  toytls server
  toytls server --accept 127.0.0.1:4433 --app chat -v
  toytls server --plaintext        # no TLS at all, to watch with the proxy
  toytls server --app http         # then: toytls tunnel, and a browser
  toytls server --forward 127.0.0.1:8000   # in front of python -m http.server
"""

_CLIENT_HELP = """\
Connect to a toytls server, check its certificate chain (the article's
digests S and T for each link), send key X encrypted with the server's
public key B+, then talk. With --message, send one text, print the reply
and close; without, send each line you type.

examples:
  toytls client --message "hello"
  toytls client --connect 127.0.0.1:8443 --message "hi"   # through the proxy
  toytls client --insecure --message "hi"                 # no checks at all
  toytls client --trust certs/attacker-root.pem           # a rogue root installed
  toytls client --http GET /api/session                   # to `toytls server --app http`

With --http, the response's head is printed as "< " lines and its body as
it is; an answer of 400 or more ends with exit status 1.
"""

_TUNNEL_HELP = """\
Run any TCP program over toytls, unchanged: listen for plain TCP on
--accept and carry each connection over its own toytls/1 connection to
--connect, checking the server's certificate exactly as `toytls client`
does (verification is on unless you say --insecure). Pair it with
`toytls server --forward HOST:PORT` on the other side, or point it at
`toytls server --app http` and open the page in a browser.

A connection whose server cannot be reached or whose certificate is
rejected is reset at once (a failure, not an empty answer) and logged with
the reason; the tunnel keeps serving the next one.

examples:
  python3 -m http.server 8000 --bind 127.0.0.1 &
  toytls server --forward 127.0.0.1:8000 &
  toytls tunnel --accept 127.0.0.1:8080 --connect 127.0.0.1:4433 &
  curl http://127.0.0.1:8080/

  toytls server --app http &
  toytls tunnel            # then open http://127.0.0.1:8080/ in a browser
"""

_PROXY_HELP = """\
The attacker in the middle: listen for the client, forward to the real
server, and try one of the article's attacks.

modes:
  watch        relay and decode every record: the data is ciphertext (in
               front of a --plaintext server it reads everything; --rewrite
               OLD=NEW changes it on the way)
  swap-key     偷梁换柱: the real certificate with the attacker's public key
               B+ in place of the server's; the CA's signature kept
  tamper-cert  change the subject's name inside the signed part
  swap-cert    证书调包: the attacker's own genuine certificate, issued by the
               same CA for attacker.test
  self-signed  a certificate for the server's name signed by the attacker
  own-ca       like mitmproxy: a certificate for the name from the
               attacker's own root CA (works only if the client trusts it)
  flip         after the handshake, flip one bit of a data record
  replay       send a data record a second time
  truncate     cut the connection after some data, without close_notify

Whatever the proxy can read (plaintext, or everything after an attack that
worked) is shown as it passes; HTTP is shown as request and status lines
with their headers.

example:
  toytls proxy --listen 127.0.0.1:8443 --upstream 127.0.0.1:4433 --mode swap-key
"""


def _add_output_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("output")
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more detail: -v every message's fields and the keys, -vv every record",
    )
    group.add_argument("-q", "--quiet", action="store_true", help="only outcomes, not the steps")
    group.add_argument(
        "--lang", choices=("en", "zh"), default="en", help="narration language (default: en)"
    )
    group.add_argument("--hexdump", action="store_true", help="annotate every record byte by byte")
    group.add_argument(
        "--json", action="store_true", help="one JSON object per event on stdout, for tools"
    )
    group.add_argument("--no-color", action="store_true", help="no colours")


def _add_trust_flags(parser: argparse.ArgumentParser) -> None:
    """The flags that say whom a client end trusts (client, tunnel)."""
    parser.add_argument(
        "--server-name",
        default="localhost",
        help="the name to ask for and check the certificate against (default: localhost)",
    )
    parser.add_argument(
        "--cafile",
        type=Path,
        default=Path("certs/root.pem"),
        help="the trusted root, holding A+ (default: %(default)s)",
    )
    parser.add_argument(
        "--trust",
        type=Path,
        action="append",
        default=[],
        metavar="ROOT.pem",
        help="trust one more root (as if someone installed it on your computer)",
    )
    parser.add_argument(
        "--insecure",
        action="store_true",
        help="skip ALL certificate checks (shows what an attacker gains)",
    )


def _sub(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    summary: str,
    text: str,
) -> argparse.ArgumentParser:
    return commands.add_parser(
        name,
        help=summary,
        description=text,
        epilog=_EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="toytls",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_EXIT_STATUSES,
    )
    parser.add_argument("--version", action="version", version=f"toytls {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    certs = _sub(commands, "certs", "make the demo certificates and keys", _CERTS_HELP)
    certs.add_argument("--dir", type=Path, default=Path("certs"), help="where (default: certs)")
    certs.add_argument("--name", default="localhost", help="the server's name (default: localhost)")
    certs.add_argument("--force", action="store_true", help="replace existing files")

    demo = _sub(
        commands, "demo", "watch HTTPS being built and attacked, in one terminal", _DEMO_HELP
    )
    demo.add_argument("--certs", type=Path, default=None, help="use (or create) the PKI here")
    demo.add_argument("--lang", choices=("en", "zh"), default="en", help="language (default: en)")
    demo.add_argument("--only", metavar="N[,M]", help="run only these scenarios, e.g. --only 6,12")
    demo.add_argument("--step", action="store_true", help="wait for Enter before each scenario")
    demo.add_argument("--json", action="store_true", help="one JSON object per scenario result")
    demo.add_argument("--no-color", action="store_true", help="no colours")

    server = _sub(
        commands,
        "server",
        "serve toytls/1 (echo, chat, an HTTP page, or forward to a service)",
        _SERVER_HELP,
    )
    server.add_argument(
        "--accept", default="127.0.0.1:4433", help="HOST:PORT to listen on (default: %(default)s)"
    )
    server.add_argument(
        "--cert-chain",
        type=Path,
        default=Path("certs/chain.pem"),
        help="the chain to present, leaf first (default: %(default)s)",
    )
    server.add_argument(
        "--key",
        type=Path,
        default=Path("certs/server.key"),
        help="the leaf's private key B− (default: %(default)s)",
    )
    serves = server.add_mutually_exclusive_group()
    serves.add_argument(
        "--app",
        choices=("echo", "chat", "http"),
        default=None,  # echo; None tells "not given" apart for --forward
        help="what to do with data (default: echo)",
    )
    serves.add_argument(
        "--forward",
        metavar="HOST:PORT",
        help="pass each connection's data to this TCP service, like stunnel",
    )
    server.add_argument("--plaintext", action="store_true", help="no TLS at all: plain TCP")
    server.add_argument(
        "--handshake-timeout",
        type=float,
        default=10.0,
        help="seconds a client has to finish the handshake (default: 10)",
    )
    _add_output_flags(server)

    client = _sub(commands, "client", "connect to a server, check it, talk", _CLIENT_HELP)
    client.add_argument(
        "--connect", default="127.0.0.1:4433", help="HOST:PORT (default: %(default)s)"
    )
    _add_trust_flags(client)
    says = client.add_mutually_exclusive_group()
    says.add_argument("--message", help="send this text, print the reply, close")
    says.add_argument(
        "--http",
        nargs=2,
        metavar=("METHOD", "PATH"),
        help="send one HTTP/1.1 request (e.g. GET /) and print the answer",
    )
    client.add_argument("--plaintext", action="store_true", help="no TLS at all: plain TCP")
    _add_output_flags(client)

    tunnel = _sub(commands, "tunnel", "plain TCP in, toytls out (like stunnel)", _TUNNEL_HELP)
    tunnel.add_argument(
        "--accept",
        default="127.0.0.1:8080",
        help="HOST:PORT where local programs connect, in plain TCP (default: %(default)s)",
    )
    tunnel.add_argument(
        "--connect",
        default="127.0.0.1:4433",
        help="the toytls server, HOST:PORT (default: %(default)s)",
    )
    _add_trust_flags(tunnel)
    _add_output_flags(tunnel)

    proxy = _sub(commands, "proxy", "the attacker in the middle", _PROXY_HELP)
    proxy.add_argument(
        "--listen", default="127.0.0.1:8443", help="HOST:PORT for clients (default: %(default)s)"
    )
    proxy.add_argument(
        "--upstream", default="127.0.0.1:4433", help="the real server (default: %(default)s)"
    )
    proxy.add_argument(
        "--mode",
        required=True,
        metavar="MODE",
        choices=(
            "watch",
            "swap-key",
            "tamper-cert",
            "swap-cert",
            "self-signed",
            "own-ca",
            "flip",
            "replay",
            "truncate",
        ),
        help="the attack (see above)",
    )
    proxy.add_argument(
        "--certs",
        type=Path,
        default=Path("certs"),
        help="where the attacker's key and certificates are (default: certs)",
    )
    proxy.add_argument(
        "--rewrite",
        action="append",
        default=[],
        metavar="OLD=NEW",
        help="in plaintext, replace OLD with NEW on the way (watch mode)",
    )
    _add_output_flags(proxy)
    return parser


def _version() -> str:
    from .. import __version__

    return __version__


def _fail(message: str, status: int = EXIT_FAILED) -> int:
    print(f"toytls: {message}", file=sys.stderr)
    return status


def _cmd_certs(args: argparse.Namespace) -> int:
    from ..core.certificates import describe_certificate
    from ..pki.files import write_pki
    from ..pki.generate import generate_pki

    directory: Path = args.dir
    print(f"Generating RSA-2048 keys and certificates for {args.name!r} …")
    try:
        pki = generate_pki(args.name)
        written = write_pki(pki, directory, force=args.force)
    except FileExistsError as exc:
        return _fail(f"{exc} (use --force to replace them)", EXIT_USAGE)
    except (OSError, ValueError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    for label, certificate in (
        ("root CA (A+ lives here)", pki.root.certificate),
        ("intermediate CA", pki.intermediate.certificate),
        ("server (B+ lives here)", pki.server.certificate),
    ):
        info = describe_certificate(certificate)
        print(f"\n{label}")
        for key in ("subject", "issuer", "not_before", "not_after", "fingerprint"):
            print(f"  {key:<12} {info[key]}")
    print(f"\nwrote {len(written)} files to {directory}/")
    print("check the chain with openssl:")
    print(
        f"  openssl verify -CAfile {directory}/root.pem "
        f"-untrusted {directory}/intermediate.pem {directory}/server.pem"
    )
    return EXIT_OK


def _parse_only(text: str | None) -> set[int] | None:
    if text is None:
        return None
    try:
        numbers = {int(part) for part in text.split(",") if part.strip()}
    except ValueError:
        raise ValueError(f"--only takes scenario numbers like 6,12, not {text!r}") from None
    if not numbers or not numbers <= set(range(1, 14)):
        raise ValueError(f"--only takes numbers from 1 to 13, not {text!r}")
    return numbers


def _cmd_demo(args: argparse.Namespace) -> int:
    import dataclasses
    import json
    import shutil
    import textwrap

    import trio

    from ..story.demo_texts import LINES
    from .common import until_interrupted
    from .demorun import ScenarioResult, run_demo

    try:
        only = _parse_only(args.only)
    except ValueError as exc:
        return _fail(str(exc), EXIT_USAGE)
    color = sys.stdout.isatty() and not args.no_color and not args.json

    width = max(60, min(shutil.get_terminal_size((100, 24)).columns, 100))

    def write(line: str, highlight: bool) -> None:
        if args.json:
            return
        # Short lines for a projector: wrap, keeping the line's indent.
        indent = " " * (len(line) - len(line.lstrip()))
        line = textwrap.fill(line, width, subsequent_indent=indent + "  ") if line else line
        if color and line.startswith("=="):
            line = f"\033[1;36m{line}\033[0m"
        elif color and highlight:
            line = f"\033[1;33m{line}\033[0m"
        print(line, flush=True)

    def on_result(result: ScenarioResult) -> None:
        if args.json:
            row = {"event": "scenario", **dataclasses.asdict(result)}
            print(json.dumps(row, ensure_ascii=False), flush=True)

    async def pause() -> None:
        print(LINES[args.lang]["pause"], flush=True)
        await trio.to_thread.run_sync(sys.stdin.readline, abandon_on_cancel=True)

    results: list[ScenarioResult] = []

    async def main() -> None:
        results.extend(
            await run_demo(
                write,
                lang=args.lang,
                certs_dir=args.certs,
                only=only,
                pause=pause if args.step else None,
                on_result=on_result,
            )
        )

    try:
        interrupted = trio.run(until_interrupted, main)
    except (OSError, ValueError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    if interrupted:
        return _fail("interrupted; everything the demo started is stopped", EXIT_INTERRUPTED)
    ok = all(r.as_predicted for r in results)
    if not args.json:
        print(f"\n{LINES[args.lang]['table']}")
        for r in results:
            mark = "✓" if r.as_predicted else "✗"
            if color:
                mark = f"\033[1;{32 if r.as_predicted else 31}m{mark}\033[0m"
            print(f" {mark} {r.number:>2}. {r.title}")
            for text in (r.predicted, f"→ {r.happened}"):
                print(textwrap.fill(text, width, initial_indent=" " * 7, subsequent_indent=" " * 9))
        print("\n" + LINES[args.lang]["all_ok" if ok else "some_bad"])
    return EXIT_OK if ok else EXIT_FAILED


def _console(args: argparse.Namespace, *, timestamps: bool) -> Console:
    from .console import Console

    level = 0 if args.quiet else 1 + args.verbose
    return Console(
        json_mode=args.json,
        color=sys.stdout.isatty() and not args.no_color and not args.json,
        lang=args.lang,
        level=level,
        hexdump=args.hexdump,
        timestamps=timestamps,
    )


def _cmd_server(args: argparse.Namespace) -> int:
    from . import server

    return server.run(args, _console(args, timestamps=True))


def _cmd_client(args: argparse.Namespace) -> int:
    from . import client

    return client.run(args, _console(args, timestamps=False))


def _cmd_tunnel(args: argparse.Namespace) -> int:
    from . import tunnel

    return tunnel.run(args, _console(args, timestamps=True))


def _cmd_proxy(args: argparse.Namespace) -> int:
    from . import proxy

    return proxy.run(args, _console(args, timestamps=True))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``toytls`` command; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    handlers = {
        "certs": _cmd_certs,
        "demo": _cmd_demo,
        "server": _cmd_server,
        "client": _cmd_client,
        "proxy": _cmd_proxy,
        "tunnel": _cmd_tunnel,
    }
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:
        # stdout went away (``toytls demo | head``): stop quietly, and keep
        # Python from complaining again when it flushes at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
