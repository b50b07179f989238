"""The ``toytls`` flags: one argparse sub-parser per command.

:func:`build_parser` makes the whole parser; each ``_add_*`` function below
adds one command's flags. What the flags mean to a command is read off the
parsed namespace in one place, :mod:`.options`. Only the standard library
is imported, so ``toytls --help`` starts fast.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from . import parser_texts as texts
from .parser_lang import LANGUAGES, ToyParser, localise

#: ``toytls proxy --mode`` choices: the values of :class:`toytls.attacker.modes.Mode`
#: (spelled out so that --help need not import the attacker and cryptography).
PROXY_MODES = (
    "watch",
    "swap-key",
    "tamper-cert",
    "swap-cert",
    "self-signed",
    "own-ca",
    "flip",
    "replay",
    "truncate",
)

#: The help of a plain ``--lang`` (demo, inspect, decode).
_LANGUAGE = "language: en or zh (default: %(default)s)"

if TYPE_CHECKING:
    # Subscriptable for the type checker only, not at run time.
    _Commands = argparse._SubParsersAction[ToyParser]


def build_parser(version: str | None = None, lang: str = "en") -> argparse.ArgumentParser:
    """The ``toytls`` parser with every command and its help.

    Args:
        version: What ``--version`` shows; by default the package's version.
        lang: The language of the help and the usage errors ("en" or "zh"),
            and the default of every ``--lang`` (see :mod:`.parser_lang`).
    """
    parser = ToyParser(
        prog="toytls",
        description=texts.DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=texts.exit_statuses(None),
    )
    parser.add_argument("--version", action="version", version=f"toytls {version or _version()}")
    parser.add_argument(
        "--lang",
        choices=LANGUAGES,
        default="en",
        help="language of the help and of the command's output: en or zh "
        "(default: %(default)s; the environment variable TOYTLS_LANG sets it)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_certs(commands)
    _add_demo(commands)
    _add_server(commands)
    _add_client(commands)
    _add_tunnel(commands)
    _add_proxy(commands)
    _add_see_inside(commands)
    localise(parser, lang)
    return parser


def _version() -> str:
    from .. import __version__

    return __version__


def _count(text: str) -> int:
    """A whole number of at least 1 (``--workers``)."""
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return int(text)


def _sub(commands: _Commands, name: str, summary: str, text: str) -> argparse.ArgumentParser:
    return commands.add_parser(
        name,
        help=summary,
        description=text,
        epilog=texts.exit_statuses(name),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _add_output_flags(parser: argparse.ArgumentParser) -> None:
    """The flags that say how a command shows what happens (read by ``OutputOptions``)."""
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
        "--lang",
        choices=LANGUAGES,
        default="en",
        help="narration language: en or zh (default: %(default)s)",
    )
    group.add_argument("--hexdump", action="store_true", help="annotate every record byte by byte")
    group.add_argument(
        "--json", action="store_true", help="one JSON object per event on stdout, for tools"
    )
    group.add_argument("--no-color", action="store_true", help="no colours")


def _add_trust_flags(parser: argparse.ArgumentParser) -> None:
    """The flags that say whom a client end trusts (read by ``TrustOptions``)."""
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


def _add_certs(commands: _Commands) -> None:
    certs = _sub(commands, "certs", "make the demo certificates and keys", texts.CERTS_HELP)
    certs.add_argument("--dir", type=Path, default=Path("certs"), help="where (default: certs)")
    certs.add_argument("--name", default="localhost", help="the server's name (default: localhost)")
    certs.add_argument("--force", action="store_true", help="replace existing files")
    certs.add_argument("--lang", choices=LANGUAGES, default="en", help=_LANGUAGE)


def _add_demo(commands: _Commands) -> None:
    demo = _sub(
        commands, "demo", "watch HTTPS being built and attacked, in one terminal", texts.DEMO_HELP
    )
    demo.add_argument("--certs", type=Path, default=None, help="use (or create) the PKI here")
    demo.add_argument("--lang", choices=LANGUAGES, default="en", help=_LANGUAGE)
    demo.add_argument("--only", metavar="N[,M]", help="run only these scenarios, e.g. --only 6,12")
    demo.add_argument("--step", action="store_true", help="wait for Enter before each scenario")
    demo.add_argument(
        "--list", action="store_true", help="print the scenarios (number and title) and exit"
    )
    demo.add_argument("--json", action="store_true", help="one JSON object per scenario result")
    demo.add_argument("--no-color", action="store_true", help="no colours")
    demo.add_argument(
        "--html", type=Path, metavar="FILE", help="also write a one-file report with diagrams"
    )


def _add_server(commands: _Commands) -> None:
    server = _sub(
        commands,
        "server",
        "serve toytls/1 (echo, chat, an HTTP page, or forward to a service)",
        texts.SERVER_HELP,
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
        default=None,  # the streams layer's DEFAULT_HANDSHAKE_TIMEOUT
        help="seconds a client has to finish the handshake (default: 10)",
    )
    server.add_argument(
        "--workers",
        type=_count,
        default=1,
        metavar="N",
        help="serve with N processes sharing the port (SO_REUSEPORT), one per core (default: 1)",
    )
    server.add_argument("--keylog", type=Path, metavar="FILE", help=texts.KEYLOG_HELP)
    _add_output_flags(server)


def _add_client(commands: _Commands) -> None:
    client = _sub(commands, "client", "connect to a server, check it, talk", texts.CLIENT_HELP)
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
    client.add_argument("--keylog", type=Path, metavar="FILE", help=texts.KEYLOG_HELP)
    _add_output_flags(client)


def _add_tunnel(commands: _Commands) -> None:
    tunnel = _sub(commands, "tunnel", "plain TCP in, toytls out (like stunnel)", texts.TUNNEL_HELP)
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


def _add_proxy(commands: _Commands) -> None:
    proxy = _sub(commands, "proxy", "the attacker in the middle", texts.PROXY_HELP)
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
        choices=PROXY_MODES,
        help="the attack: one of the modes above",
    )
    proxy.add_argument(
        "--certs",
        type=Path,
        default=Path("certs"),
        help="where the attacker's key M− and certificates are (default: certs)",
    )
    proxy.add_argument(
        "--rewrite",
        action="append",
        default=[],
        metavar="OLD=NEW",
        help="in plaintext from the client to the server, replace OLD with NEW (watch mode)",
    )
    proxy.add_argument(
        "--pcap",
        type=Path,
        metavar="FILE",
        help="write every byte relayed with the clients to FILE, as a pcap for Wireshark",
    )
    _add_output_flags(proxy)


def _add_see_inside(commands: _Commands) -> None:
    """``inspect``, ``decode`` and ``wireshark``: look inside certificates and captures."""
    inspect = _sub(
        commands,
        "inspect",
        "see through a certificate: its key, its signature opened",
        texts.INSPECT_HELP,
    )
    inspect.add_argument("certificate", type=Path, metavar="CERT", help="a PEM or DER file")
    inspect.add_argument(
        "--issuer", type=Path, metavar="ISSUER.pem", help="the certificate of whoever signed it"
    )
    _add_plain_output(inspect, json_help="the x-ray as one JSON object")
    decode = _sub(
        commands, "decode", "tell the toytls/1 conversations in a capture", texts.DECODE_HELP
    )
    decode.add_argument("capture", type=Path, metavar="CAPTURE.pcap", help="a classic pcap file")
    decode.add_argument(
        "--keylog", type=Path, metavar="FILE", help="a key log: CLIENT_RANDOM lines give key X"
    )
    decode.add_argument(
        "--key", type=Path, metavar="SERVER.key", help="the server's private key B−: opens X"
    )
    decode.add_argument(
        "--port", type=int, metavar="N", help="only TCP conversations with this port"
    )
    _add_plain_output(decode, json_help="one JSON object per record")
    wireshark = _sub(
        commands, "wireshark", "where the Wireshark dissector is", texts.WIRESHARK_HELP
    )
    wireshark.add_argument(
        "--lang",
        choices=LANGUAGES,
        default="en",
        help="language of this help: en or zh (default: %(default)s)",
    )


def _add_plain_output(parser: argparse.ArgumentParser, *, json_help: str) -> None:
    group = parser.add_argument_group("output")
    group.add_argument("--lang", choices=LANGUAGES, default="en", help=_LANGUAGE)
    group.add_argument("--json", action="store_true", help=json_help)
    group.add_argument("--no-color", action="store_true", help="no colours")
