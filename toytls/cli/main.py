"""The ``toytls`` command line: parse the flags, build the command's options, run it.

The flags are in :mod:`.parser`, their meaning in :mod:`.options`, and each
command in its own module. Only the command-line layer prints or exits.
Heavy modules (trio, cryptography) are imported inside each command, so
``toytls --help`` starts fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from .. import __version__
from .common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, fail
from .options import (
    CertsOptions,
    ClientOptions,
    DecodeOptions,
    DemoOptions,
    InspectOptions,
    ProxyOptions,
    ServerOptions,
    TunnelOptions,
    WiresharkOptions,
)
from .parser import build_parser
from .parser_lang import choose_lang


def _certs(args: argparse.Namespace) -> int:
    from . import certs
    from .console import Console

    options = CertsOptions.from_args(args)
    return certs.run(options, Console(lang=options.lang))


def _demo(args: argparse.Namespace) -> int:
    from . import demo

    try:
        options = DemoOptions.from_args(args)
    except ValueError as exc:  # --only: the one flag the parser cannot check
        return fail(str(exc), EXIT_USAGE, args.lang)
    return demo.list_scenarios(options) if options.list else demo.run(options)


def _server(args: argparse.Namespace) -> int:
    from . import server
    from .console import Console

    options = ServerOptions.from_args(args)
    return server.run(options, Console.for_output(options.output, timestamps=True))


def _client(args: argparse.Namespace) -> int:
    from . import client
    from .console import Console

    options = ClientOptions.from_args(args)
    return client.run(options, Console.for_output(options.output, timestamps=False))


def _tunnel(args: argparse.Namespace) -> int:
    from . import tunnel
    from .console import Console

    options = TunnelOptions.from_args(args)
    return tunnel.run(options, Console.for_output(options.output, timestamps=True))


def _proxy(args: argparse.Namespace) -> int:
    from . import proxy
    from .console import Console

    options = ProxyOptions.from_args(args)
    return proxy.run(options, Console.for_output(options.output, timestamps=True))


def _inspect(args: argparse.Namespace) -> int:
    from . import inspect

    return inspect.run(InspectOptions.from_args(args))


def _decode(args: argparse.Namespace) -> int:
    from . import decode

    return decode.run(DecodeOptions.from_args(args))


def _wireshark(args: argparse.Namespace) -> int:
    from . import wireshark

    return wireshark.run(WiresharkOptions.from_args(args))


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "certs": _certs,
    "demo": _demo,
    "server": _server,
    "client": _client,
    "proxy": _proxy,
    "tunnel": _tunnel,
    "inspect": _inspect,
    "decode": _decode,
    "wireshark": _wireshark,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``toytls`` command; returns the exit status.

    The language of the help and of argparse's errors is chosen from the
    whole command line and the environment before parsing
    (:func:`~.parser_lang.choose_lang`), so ``--lang zh`` may come before
    or after ``--help``.
    """
    arguments = sys.argv[1:] if argv is None else list(argv)
    lang = choose_lang(arguments, os.environ)
    parser = build_parser(__version__, lang=lang)
    args = parser.parse_args(arguments)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return _COMMANDS[args.command](args)
    except KeyboardInterrupt:
        return fail("已中断" if lang == "zh" else "interrupted", EXIT_INTERRUPTED, lang)
    except BrokenPipeError:
        # stdout went away (``toytls demo | head``): stop quietly, and keep
        # Python from complaining again when it flushes at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
