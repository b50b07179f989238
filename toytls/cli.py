"""The ``toytls`` command line. The only module that prints or exits.

Heavy modules (trio, cryptography) are imported inside each command, so
``toytls --help`` starts fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

#: Exit statuses, documented in --help.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

_DESCRIPTION = """\
toytls makes HTTPS visible: a small, real, secure protocol (toytls/1) with
certificates, signatures, a chain of trust and an attacker who tries to get
in the middle.

Start with:  toytls demo
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


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="toytls",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit status: 0 success, 1 failure, 2 usage error",
    )
    parser.add_argument("--version", action="version", version=f"toytls {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    certs = commands.add_parser(
        "certs",
        help="make the demo certificates and keys",
        description=_CERTS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    certs.add_argument(
        "--dir", type=Path, default=Path("certs"), help="where to write them (default: certs)"
    )
    certs.add_argument(
        "--name", default="localhost", help="the server's DNS name (default: localhost)"
    )
    certs.add_argument("--force", action="store_true", help="overwrite existing files")

    demo = commands.add_parser(
        "demo",
        help="watch HTTPS being built and attacked, in one terminal",
        description=_DEMO_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument(
        "--certs",
        type=Path,
        default=None,
        help="use (or create) the PKI in this directory instead of a temporary one",
    )
    demo.add_argument("--no-color", action="store_true", help="plain text, no colours")
    return parser


def _version() -> str:
    from . import __version__

    return __version__


def _fail(message: str, status: int = EXIT_FAILED) -> int:
    print(f"toytls: {message}", file=sys.stderr)
    return status


def _cmd_certs(args: argparse.Namespace) -> int:
    from .pki import describe_certificate, generate_pki, write_pki

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


def _cmd_demo(args: argparse.Namespace) -> int:
    import trio

    from .demo import run_demo

    color = sys.stdout.isatty() and not args.no_color

    def write(line: str) -> None:
        if color and line.startswith("=="):
            line = f"\033[1m{line}\033[0m"
        print(line, flush=True)

    try:
        results = trio.run(lambda: run_demo(write, certs_dir=args.certs))
    except (OSError, ValueError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    print("\nscenario                                   predicted / happened")
    for result in results:
        mark = "✓" if result.as_predicted else "✗"
        print(f" {mark} {result.number}. {result.title}")
        print(f"     predicted: {result.predicted}")
        print(f"     happened:  {result.happened}")
    if all(r.as_predicted for r in results):
        print("\nEvery scenario behaved as the article predicts.")
        return EXIT_OK
    return _fail("some scenarios did not behave as predicted")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``toytls`` command; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    handlers = {"certs": _cmd_certs, "demo": _cmd_demo}
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
