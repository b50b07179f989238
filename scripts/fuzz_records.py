"""Fuzz the record reader and a server Connection with atheris (optional).

Every input is cut into pieces and fed two ways:

1. to a :class:`~toytls.core.records.RecordReader`, whole and piece by piece.
   Both must give the same records and the same error; a record never
   exceeds the limit; a header that fails its checks fails as soon as its
   5 bytes are in, so no body byte is buffered behind a bad header; and
   with no complete record left, fewer than 5 + limit bytes are buffered.
2. to a server :class:`~toytls.core.connection.Connection` (a real key, made
   at start-up), optionally after a genuine ClientHello, or a ClientHello
   and a recorded ClientKeyExchange + {Finished}, so the fuzzed bytes also
   reach the later states. ``receive_data`` may only raise the connection's
   own error once it has failed, the events end with at most one
   ConnectionFailed, and the record buffer stays bounded.

Anything else raised is a finding: atheris stops, prints the traceback and
writes the input as ``crash-<sha1>``.

The first input byte chooses the set-up: bits 0-1 the prefix for the
server (0 and 3 none, 1 ClientHello, 2 ClientHello + key exchange), bit 2
the reader's limit (16384 or 16400 once protected). The second is the piece
size (0: the whole input at once). The rest is the fuzzed stream.

atheris is not a dependency of toytls; install it by hand (wheels exist for
CPython on Linux x86-64; elsewhere it builds with clang and libFuzzer)::

    .venv/bin/pip install atheris
    mkdir -p fuzz-corpus
    .venv/bin/python scripts/fuzz_records.py fuzz-corpus -max_total_time=300 -max_len=20000
    .venv/bin/python scripts/fuzz_records.py crash-0123abcd...   # replay one input
    .venv/bin/python scripts/fuzz_records.py -help=1             # libFuzzer's flags

Arguments other than ``--smoke`` go to libFuzzer unchanged. Without atheris
the script says how to install it and exits with status 1; ``--smoke N``
runs the same checks on N random inputs instead (no coverage guidance)::

    .venv/bin/python scripts/fuzz_records.py --smoke 20000
"""

from __future__ import annotations

import argparse
import importlib
import random
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported for real after atheris instruments the imports
    from toytls.core.config import ServerConfig

_HOW_TO = """\
atheris is not installed: it is optional and not a dependency of toytls.

    .venv/bin/pip install atheris
    .venv/bin/python scripts/fuzz_records.py fuzz-corpus -max_total_time=300

Or, without atheris, the same checks on random inputs:

    .venv/bin/python scripts/fuzz_records.py --smoke 20000
"""

HEADER = 5
LIMITS = (16384, 16400)


@dataclass(frozen=True, kw_only=True, slots=True)
class Setup:
    """What an input's first two bytes chose."""

    prefix: int
    limit: int
    piece: int
    stream: bytes

    @classmethod
    def parse(cls, data: bytes) -> Setup:
        """Split an input into its set-up bytes and the fuzzed stream."""
        mode = data[0] if data else 0
        piece = data[1] if len(data) > 1 else 0
        return cls(prefix=mode & 3, limit=LIMITS[mode >> 2 & 1], piece=piece, stream=data[2:])

    def pieces(self, stream: bytes) -> list[bytes]:
        """``stream`` cut as this set-up says (at least one piece)."""
        if not self.piece:
            return [stream]
        return [stream[i : i + self.piece] for i in range(0, len(stream), self.piece)] or [b""]


def read_records(
    stream: bytes, pieces: list[bytes], limit: int
) -> tuple[list[tuple[int, bytes, bytes]], int | None]:
    """Feed ``pieces`` to a RecordReader, checking its invariants on the way.

    Returns:
        The records as (content type, header, fragment) and the alert of
        the header error that stopped the reader, if one did.
    """
    from toytls.core.errors import ToyTLSError
    from toytls.core.records import RecordReader, check_header

    reader = RecordReader()
    failed: ToyTLSError | None = None
    records: list[tuple[int, bytes, bytes]] = []
    consumed = fed = 0
    for piece in pieces:
        reader.feed(piece)
        fed += len(piece)
        while True:
            try:
                record = reader.next_record(limit)
            except ToyTLSError as error:
                failed = error
                break
            if record is None:
                break
            assert len(record.fragment) <= limit
            assert record.header == stream[consumed : consumed + HEADER]
            assert int.from_bytes(record.header[3:5], "big") == len(record.fragment)
            consumed += HEADER + len(record.fragment)
            records.append((int(record.content_type), record.header, record.fragment))
        if failed is not None:  # a header check failed; each one names an alert
            assert failed.alert is not None, failed
            return records, int(failed.alert)
        assert reader.buffered == fed - consumed
        # Need more bytes: the buffer holds less than one maximal record,
        # and a complete header in it has passed the checks (a bad one
        # would have raised above, before any of its body was waited for).
        assert reader.buffered < HEADER + limit
        if reader.buffered >= HEADER:
            try:
                check_header(stream[consumed : consumed + HEADER], limit)
            except ToyTLSError as error:
                raise AssertionError(f"bad header left waiting for its body: {error}") from None
    return records, None


def check_reader(setup: Setup) -> None:
    """Whole and piece by piece, the reader must agree with itself."""
    whole = read_records(setup.stream, [setup.stream], setup.limit)
    split = read_records(setup.stream, setup.pieces(setup.stream), setup.limit)
    assert whole == split, (whole, split)


class ServerTarget:
    """Feeds a fresh server Connection per input."""

    def __init__(self) -> None:
        from toytls.core.connection import Connection
        from toytls.pki.files import write_pki
        from toytls.pki.generate import generate_pki
        from toytls.streams import context as ctx

        with tempfile.TemporaryDirectory() as temp:
            directory = Path(temp)
            write_pki(generate_pki("localhost"), directory)
            server = ctx.create_server_context(
                certfile=directory / "chain.pem", keyfile=directory / "server.key"
            )
            client = ctx.create_default_context(cafile=directory / "root.pem")
        self.config: ServerConfig = server.server_config()
        # Recorded once: a genuine ClientHello, and the client's answer to
        # one server flight (it decrypts under this key; its Finished will
        # not match another server random).
        recorder = Connection(client.client_config("localhost"))
        recorder.initiate()
        hello = recorder.data_to_send()
        peer = Connection(self.config)
        peer.receive_data(hello)
        recorder.receive_data(peer.data_to_send())
        self.prefixes = (b"", hello, hello + recorder.data_to_send(), b"")

    def check(self, setup: Setup) -> None:
        """Feed one input; only the documented outcomes are allowed."""
        from toytls import events as ev
        from toytls.core.connection import Connection
        from toytls.core.errors import ToyTLSError

        conn = Connection(self.config, trace=True)
        stream = self.prefixes[setup.prefix] + setup.stream
        for piece in [*setup.pieces(stream), b""]:  # b"": the transport ends
            failed = conn.error
            before = conn._reader.buffered
            raised: ToyTLSError | None = None
            try:
                events = conn.receive_data(piece)
            except ToyTLSError as error:
                raised = error
            if failed is not None:
                assert raised is failed, "a failed connection must raise its own error"
                return
            assert raised is None, raised
            ends = [i for i, e in enumerate(events) if isinstance(e, ev.ConnectionFailed)]
            assert ends in ([], [len(events) - 1]), events
            assert isinstance(conn.data_to_send(), bytes)
            buffered = conn._reader.buffered
            if conn.closed or conn.peer_closed:
                # It stopped reading: what was fed stays, and nothing more is taken.
                assert buffered <= before + len(piece)
            else:
                # Waiting for more: less than one maximal protected record.
                assert buffered < HEADER + LIMITS[1]


def make_target() -> Callable[[bytes], None]:
    """Build the function atheris (or --smoke) calls with each input."""
    server = ServerTarget()

    def test_one_input(data: bytes) -> None:
        setup = Setup.parse(data)
        check_reader(setup)
        server.check(setup)

    return test_one_input


def smoke(count: int, seed: int) -> None:
    """Run the checks on ``count`` random inputs, some built from real records."""
    target = make_target()
    rng = random.Random(seed)
    for _ in range(count):
        size = rng.choice((0, 3, 7, 40, 300, 20000))
        data = bytearray(rng.randbytes(2 + size))
        if size >= 5 and rng.random() < 0.5:
            # A plausible header now and then: a known type and version 1.0.
            data[2:7] = bytes((rng.choice((20, 21, 22, 23)), 1, 0)) + rng.randbytes(2)
        target(bytes(data))
    print(f"{count} random inputs: every check held")


def main() -> int:
    """Fuzz with atheris, or ``--smoke N`` without it."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, add_help=False
    )
    parser.add_argument("--smoke", type=int, metavar="N")
    parser.add_argument("--seed", type=int, default=0)
    args, libfuzzer_args = parser.parse_known_args()
    if args.smoke is not None:
        smoke(args.smoke, args.seed)
        return 0
    try:
        import atheris
    except ImportError:
        print(_HOW_TO, file=sys.stderr, end="")
        return 1
    with atheris.instrument_imports(include=["toytls"]):
        for name in ("toytls.core.records", "toytls.core.connection"):
            importlib.import_module(name)
    atheris.Setup([sys.argv[0], *libfuzzer_args], make_target())
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
