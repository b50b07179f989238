"""The minimal stream that ``scripts/budget.py`` measures floors with.

It is a measuring device, not a stream, but its figures are only floors if
it does the work toytls does: these runs check that its records open under
the core's keys, that its handshake completes with real certificates, and
that its connections end as bench.py's harness expects.
"""

from __future__ import annotations

from pathlib import Path

import trio
from scripts_import import script

import toytls

minimal = script("minimal")
bench = script("bench")


def test_the_minimal_bulk_run_opens_every_record() -> None:
    # open_data raises on a record that does not decrypt: a positive rate
    # means every one of the 64 records went through AES-GCM both ways.
    assert trio.run(minimal.minimal_bulk, 1, 16384) > 0


def test_the_minimal_handshake_completes_and_closes(pki_dir: Path) -> None:
    server = toytls.create_server_context(
        certfile=pki_dir / "chain.pem", keyfile=pki_dir / "server.key"
    )
    client = toytls.create_default_context(cafile=pki_dir / "root.pem")
    stack = minimal.minimal_stack(server, client)

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            port = await bench._serve(nursery, stack, bench._sink)
            tcp = await trio.open_tcp_stream("127.0.0.1", port)
            stream = await stack.client(tcp)
            assert stream.conn.handshake_complete
            assert stream.conn.session.verified  # the chain was checked
            await stream.aclose()
            assert await bench.handshakes(stack, 4, 2) > 0
            nursery.cancel_scope.cancel()

    trio.run(main)


def test_the_flights_carry_a_real_handshakes_bytes(pki_dir: Path) -> None:
    server = toytls.create_server_context(
        certfile=pki_dir / "chain.pem", keyfile=pki_dir / "server.key"
    )
    client = toytls.create_default_context(cafile=pki_dir / "root.pem")
    sizes = minimal.flight_sizes(server, client)
    chain = sum(len(der) for der in server.certificate_chain)
    # ClientHello; ServerHello and the chain; ClientKeyExchange (a 2048-bit
    # RSA block) and Finished; Finished; a close_notify each way.
    assert len(sizes) == 6
    assert sizes[1] > chain
    assert sizes[2] > 256
    assert sizes[3] == 5 + 4 + 32 + 16  # a sealed Finished: header, message, tag
    assert sizes[4] == sizes[5] == 5 + 2 + 16  # a sealed close_notify alert
    stack = minimal.flights_stack(server, client)

    async def main() -> None:
        assert await bench.handshakes(stack, 4, 2) > 0

    trio.run(main)
