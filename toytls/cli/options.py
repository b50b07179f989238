"""What each command was asked to do: one frozen options object per command.

The parser (:mod:`.parser`) reads the flags; the ``from_args`` function of
each class here is the one place that turns its ``argparse.Namespace`` into
a typed object. Everything after that — the commands and the demo, which
builds these objects directly — sees only the objects.

Values are kept as they were typed (addresses as ``HOST:PORT`` text, paths
as given): each command checks them when it starts, so that a bad value is
reported in its own words with exit status 2. Only the standard library is
imported here, so ``toytls --help`` stays fast.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .status_texts import status_text

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    _Options = TypeVar("_Options", bound=DataclassInstance)

#: The apps ``toytls server`` can run; "forward" is chosen by ``--forward``.
SERVER_APPS = ("echo", "chat", "http", "forward")

#: The environment variable that turns the key log on, like SSLKEYLOGFILE.
KEYLOG_ENV = "TOYTLS_KEYLOGFILE"


def copied(cls: type[_Options], args: argparse.Namespace, **converted: Any) -> _Options:
    """``cls`` with each field copied from the flag of the same name, but those in ``converted``.

    Raises:
        AttributeError: A field has no flag of its name and was not given.
    """
    names = [f.name for f in dataclasses.fields(cls) if f.name not in converted]
    return cls(**{name: getattr(args, name) for name in names}, **converted)


def keylog_of(args: argparse.Namespace) -> Path | None:
    """``--keylog``, else ``$TOYTLS_KEYLOGFILE`` if set and not empty, else None."""
    if args.keylog is not None:
        return Path(args.keylog)
    value = os.environ.get(KEYLOG_ENV)
    return Path(value) if value else None


@dataclass(frozen=True, kw_only=True, slots=True)
class OutputOptions:
    """How a command shows what happens (the "output" flags)."""

    #: -v count: 1 every message's fields and the keys, 2 every record
    verbose: int = 0
    #: only outcomes, not the steps
    quiet: bool = False
    #: narration language, "en" or "zh"
    lang: str = "en"
    #: annotate every record byte by byte
    hexdump: bool = False
    #: one JSON object per event on stdout
    json: bool = False
    no_color: bool = False

    @property
    def level(self) -> int:
        """The narration level: 0 outcomes only, 1 the steps, 2 fields, 3 records."""
        return 0 if self.quiet else 1 + self.verbose

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> OutputOptions:
        """The output flags of a parsed command line."""
        return copied(cls, args)


@dataclass(frozen=True, kw_only=True, slots=True)
class TrustOptions:
    """Whom a client end trusts (client, tunnel)."""

    #: the name to ask for and check the certificate against
    server_name: str = "localhost"
    #: the trusted root
    cafile: Path = Path("certs/root.pem")
    #: more roots to trust (--trust, in order)
    trust: tuple[Path, ...] = ()
    #: skip every certificate check
    insecure: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> TrustOptions:
        """The trust flags of a parsed command line."""
        return copied(cls, args, trust=tuple(args.trust))


@dataclass(frozen=True, kw_only=True, slots=True)
class ServerOptions:
    """``toytls server``."""

    #: HOST:PORT to listen on
    accept: str = "127.0.0.1:4433"
    cert_chain: Path = Path("certs/chain.pem")
    key: Path = Path("certs/server.key")
    #: one of :data:`SERVER_APPS`
    app: str = "echo"
    #: with app "forward": the TCP service, HOST:PORT
    forward: str | None = None
    #: no TLS at all
    plaintext: bool = False
    #: seconds a client has for the handshake; None: the context's default
    handshake_timeout: float | None = None
    #: append each connection's client random and key X here (docs/keylog.md)
    keylog: Path | None = None
    #: processes serving the port together (SO_REUSEPORT), one trio loop each
    workers: int = 1
    output: OutputOptions = field(default_factory=OutputOptions)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ServerOptions:
        """``--forward`` chooses the "forward" app; without ``--app``, echo."""
        return copied(
            cls,
            args,
            app="forward" if args.forward else (args.app or "echo"),
            keylog=keylog_of(args),
            output=OutputOptions.from_args(args),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class ClientOptions:
    """``toytls client``."""

    #: the server, HOST:PORT
    connect: str = "127.0.0.1:4433"
    trust: TrustOptions = field(default_factory=TrustOptions)
    #: send this text, print the reply, close
    message: str | None = None
    #: one HTTP request instead: (METHOD, PATH)
    http: tuple[str, str] | None = None
    #: no TLS at all
    plaintext: bool = False
    #: append the connection's client random and key X here (docs/keylog.md)
    keylog: Path | None = None
    output: OutputOptions = field(default_factory=OutputOptions)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ClientOptions:
        """The client's flags of a parsed command line."""
        return copied(
            cls,
            args,
            trust=TrustOptions.from_args(args),
            http=(args.http[0], args.http[1]) if args.http is not None else None,
            keylog=keylog_of(args),
            output=OutputOptions.from_args(args),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class TunnelOptions:
    """``toytls tunnel``."""

    #: where local programs connect in plain TCP, HOST:PORT
    accept: str = "127.0.0.1:8080"
    #: the toytls server, HOST:PORT
    connect: str = "127.0.0.1:4433"
    trust: TrustOptions = field(default_factory=TrustOptions)
    output: OutputOptions = field(default_factory=OutputOptions)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> TunnelOptions:
        """The tunnel's flags of a parsed command line."""
        return copied(
            cls, args, trust=TrustOptions.from_args(args), output=OutputOptions.from_args(args)
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class ProxyOptions:
    """``toytls proxy``."""

    #: the attack, by its command-line name (see :class:`toytls.attacker.modes.Mode`)
    mode: str
    #: HOST:PORT for clients
    listen: str = "127.0.0.1:8443"
    #: the real server, HOST:PORT
    upstream: str = "127.0.0.1:4433"
    #: where the attacker's key and certificates are
    certs: Path = Path("certs")
    #: OLD=NEW rules for plaintext, in order
    rewrite: tuple[str, ...] = ()
    #: write what crosses the client-facing side to this pcap file
    pcap: Path | None = None
    output: OutputOptions = field(default_factory=OutputOptions)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ProxyOptions:
        """The proxy's flags of a parsed command line."""
        return copied(cls, args, rewrite=tuple(args.rewrite), output=OutputOptions.from_args(args))


@dataclass(frozen=True, kw_only=True, slots=True)
class InspectOptions:
    """``toytls inspect``."""

    certificate: Path
    #: the issuer's certificate, to open the signature with
    issuer: Path | None = None
    lang: str = "en"
    json: bool = False
    no_color: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> InspectOptions:
        """The inspect flags of a parsed command line."""
        return copied(cls, args)


@dataclass(frozen=True, kw_only=True, slots=True)
class DecodeOptions:
    """``toytls decode``."""

    capture: Path
    #: a key log (CLIENT_RANDOM lines)
    keylog: Path | None = None
    #: the server's private key B−
    key: Path | None = None
    #: only TCP conversations with this port; None: every one
    port: int | None = None
    lang: str = "en"
    json: bool = False
    no_color: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> DecodeOptions:
        """The decode flags of a parsed command line."""
        return copied(cls, args)


@dataclass(frozen=True, kw_only=True, slots=True)
class WiresharkOptions:
    """``toytls wireshark``."""

    #: the language of its advice, "en" or "zh"
    lang: str = "en"

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> WiresharkOptions:
        """The wireshark flags of a parsed command line."""
        return cls(lang=args.lang)


@dataclass(frozen=True, kw_only=True, slots=True)
class CertsOptions:
    """``toytls certs``."""

    directory: Path = Path("certs")
    #: the server's name
    name: str = "localhost"
    #: replace existing files
    force: bool = False
    #: the language of what it says, "en" or "zh"
    lang: str = "en"

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> CertsOptions:
        """The certs flags of a parsed command line."""
        return cls(directory=args.dir, name=args.name, force=args.force, lang=args.lang)


@dataclass(frozen=True, kw_only=True, slots=True)
class DemoOptions:
    """``toytls demo``."""

    #: use (or create) the PKI here; None: a temporary directory
    certs: Path | None = None
    lang: str = "en"
    #: run only these scenarios (1 to 13); None: all
    only: frozenset[int] | None = None
    #: wait for Enter before each scenario
    step: bool = False
    #: print the scenarios (number and title) and exit
    list: bool = False
    json: bool = False
    no_color: bool = False
    #: also write the one-file HTML report, with a diagram of every connection, here
    html: Path | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> DemoOptions:
        """The demo's flags of a parsed command line.

        Raises:
            ValueError: ``--only`` is not a list of scenario numbers 1 to 13.
        """
        return copied(cls, args, only=parse_only(args.only, args.lang))


#: The demo's scenarios are numbered 1 to this.
DEMO_SCENARIOS = 14


def parse_only(text: str | None, lang: str = "en") -> frozenset[int] | None:
    """Read ``--only`` ("6,12"); None stays None (every scenario).

    Raises:
        ValueError: Not comma-separated numbers, none given, or one outside
            1 to 14; the message, in ``lang``, quotes the text.
    """
    if text is None:
        return None
    try:
        numbers = frozenset(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError(status_text("only_not_numbers", lang, text=text)) from None
    if not numbers or not numbers <= set(range(1, DEMO_SCENARIOS + 1)):
        raise ValueError(status_text("only_out_of_range", lang, n=DEMO_SCENARIOS, text=text))
    return numbers
