"""The typed options: each command's flags become one frozen object, in one place.

No processes here: the parser is fed argument lists and the objects are
compared whole. What the commands then do with them is tested through
real processes in test_cli_*.py.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from toytls.attacker.modes import Mode
from toytls.cli.options import (
    DEMO_SCENARIOS,
    CertsOptions,
    ClientOptions,
    DemoOptions,
    OutputOptions,
    ProxyOptions,
    ServerOptions,
    TrustOptions,
    TunnelOptions,
    parse_only,
)
from toytls.cli.parser import PROXY_MODES, build_parser


def parse(*argv: str) -> object:
    args = build_parser().parse_args(argv)
    kind: dict[str, Callable[[argparse.Namespace], object]] = {
        "certs": CertsOptions.from_args,
        "demo": DemoOptions.from_args,
        "server": ServerOptions.from_args,
        "client": ClientOptions.from_args,
        "tunnel": TunnelOptions.from_args,
        "proxy": ProxyOptions.from_args,
    }
    return kind[args.command](args)


def test_defaults_of_the_parser_are_the_defaults_of_the_objects() -> None:
    assert parse("server") == ServerOptions()
    assert parse("client") == ClientOptions()
    assert parse("tunnel") == TunnelOptions()
    assert parse("certs") == CertsOptions()
    assert parse("demo") == DemoOptions()
    assert parse("proxy", "--mode", "watch") == ProxyOptions(mode="watch")


def test_server_forward_chooses_the_forward_app() -> None:
    options = parse("server", "--forward", "127.0.0.1:8000")
    assert isinstance(options, ServerOptions)
    assert (options.app, options.forward) == ("forward", "127.0.0.1:8000")
    assert parse("server", "--app", "chat") == ServerOptions(app="chat")


def test_every_flag_lands_in_its_field() -> None:
    assert parse(
        "client",
        "--connect",
        "127.0.0.1:1",
        "--server-name",
        "example.test",
        "--trust",
        "a.pem",
        "--trust",
        "b.pem",
        "--insecure",
        "--http",
        "GET",
        "/",
        "-vv",
        "--lang",
        "zh",
        "--json",
    ) == ClientOptions(
        connect="127.0.0.1:1",
        trust=TrustOptions(
            server_name="example.test", trust=(Path("a.pem"), Path("b.pem")), insecure=True
        ),
        http=("GET", "/"),
        output=OutputOptions(verbose=2, lang="zh", json=True),
    )
    assert parse(
        "proxy", "--mode", "swap-key", "--rewrite", "a=b", "--rewrite", "c=d", "--certs", "k"
    ) == ProxyOptions(mode="swap-key", rewrite=("a=b", "c=d"), certs=Path("k"))
    assert parse("server", "--handshake-timeout", "2.5", "--plaintext") == ServerOptions(
        handshake_timeout=2.5, plaintext=True
    )
    assert parse("certs", "--dir", "d", "--name", "n", "--force") == CertsOptions(
        directory=Path("d"), name="n", force=True
    )


def test_options_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        ServerOptions().app = "chat"  # type: ignore[misc]


def test_the_output_level() -> None:
    assert OutputOptions().level == 1
    assert OutputOptions(verbose=2).level == 3
    assert OutputOptions(quiet=True, verbose=2).level == 0


def test_demo_only() -> None:
    assert parse("demo", "--only", "6,12") == DemoOptions(only=frozenset({6, 12}))
    assert parse_only(None) is None
    assert DEMO_SCENARIOS == 14
    assert parse_only("14") == frozenset({14})
    for bad in ("0", str(DEMO_SCENARIOS + 1), "x", ","):
        with pytest.raises(ValueError, match="--only"):
            parse_only(bad)


def test_the_parser_offers_every_proxy_mode() -> None:
    assert tuple(mode.value for mode in Mode) == PROXY_MODES
