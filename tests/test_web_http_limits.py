"""The session page server's bounds on one client (issue 12): a whole-request
deadline against dribbling, and a cap on pipelined work against
amplification. Over trio's memory streams with a virtual clock; each bound
has a control that stays inside it.
"""

from __future__ import annotations

import h11
import trio
import trio.testing

from toytls.streams.wiretap import WireLog
from toytls.web.httpapp import MAX_PIPELINED, REQUEST_TIMEOUT, Request, serve_http
from toytls.web.sessionpage import Visit

GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


def plain_visit(request: Request, earlier: int) -> Visit:
    return Visit(
        session=None,
        records_protected=(0, 0),
        wire_received=WireLog().as_dict(),
        wire_sent=WireLog().as_dict(),
        peer="test",
        request_head=request.head,
        earlier_requests=earlier,
    )


async def read_responses(stream: trio.abc.Stream) -> tuple[list[h11.Response], bool]:
    """Every response the server sends, and whether it then closed."""
    client = h11.Connection(h11.CLIENT)
    responses: list[h11.Response] = []

    def track_one_request() -> None:
        # The requests went out up front as raw bytes; h11 still follows
        # each cycle, so tell it about one more.
        client.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
        client.send(h11.EndOfMessage())

    track_one_request()
    while True:
        event = client.next_event()
        if event is h11.NEED_DATA:
            with trio.move_on_after(5) as scope:
                data = await stream.receive_some()
            if scope.cancelled_caught:
                return responses, False
            client.receive_data(bytes(data))
        elif isinstance(event, h11.Response):
            responses.append(event)
        elif isinstance(event, h11.EndOfMessage):
            if client.our_state is h11.MUST_CLOSE or client.their_state is h11.MUST_CLOSE:
                with trio.move_on_after(5):
                    return responses, await stream.receive_some() == b""
                return responses, False
            client.start_next_cycle()
            track_one_request()
        elif isinstance(event, h11.ConnectionClosed):
            return responses, True


async def pipeline(count: int) -> tuple[list[h11.Response], bool]:
    server_end, client_end = trio.testing.memory_stream_pair()

    async def serve() -> None:
        await serve_http(server_end, plain_visit)
        await server_end.aclose()  # as the server command does when it returns

    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve)
        await client_end.send_all(GET * count)
        responses, closed = await read_responses(client_end)
        nursery.cancel_scope.cancel()
    return responses, closed


async def test_pipelined_requests_past_the_cap_close_the_connection(
    autojump_clock: trio.testing.MockClock,
) -> None:
    responses, closed = await pipeline(200)
    assert len(responses) == MAX_PIPELINED
    assert closed
    assert (b"connection", b"close") in responses[-1].headers


async def test_control_a_few_pipelined_requests_are_all_answered(
    autojump_clock: trio.testing.MockClock,
) -> None:
    responses, closed = await pipeline(3)
    assert len(responses) == 3
    assert not closed  # kept alive, waiting for more
    assert all((b"connection", b"close") not in r.headers for r in responses)


async def dribble(request: bytes, every: float) -> tuple[float | None, bytes]:
    """Send ``request`` one byte per ``every`` seconds; when serving ended, and the answer."""
    server_end, client_end = trio.testing.memory_stream_pair()
    ended: list[float] = []
    answer = bytearray()

    async def serve() -> None:
        await serve_http(server_end, plain_visit)
        ended.append(trio.current_time())
        await server_end.aclose()

    async def read() -> None:
        while data := await client_end.receive_some():
            answer.extend(data)

    start = trio.current_time()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve)
        nursery.start_soon(read)
        for byte in request:
            try:
                await client_end.send_all(bytes([byte]))
            except trio.BrokenResourceError:
                break  # the server let go (it may do so in the same tick)
            await trio.sleep(every)
        await trio.sleep(REQUEST_TIMEOUT * 3)
        nursery.cancel_scope.cancel()
    return (ended[0] - start if ended else None), bytes(answer)


async def test_a_dribbling_request_is_cut_at_the_request_deadline(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # one byte every 10 s: never idle for the 60 s idle limit
    took, answer = await dribble(GET, every=10.0)
    assert took is not None
    assert REQUEST_TIMEOUT <= took <= REQUEST_TIMEOUT + 1
    assert answer == b""


async def test_control_a_slow_request_inside_the_deadline_is_answered(
    autojump_clock: trio.testing.MockClock,
) -> None:
    every = (REQUEST_TIMEOUT - 1) / len(GET)
    _, answer = await dribble(GET, every=every)
    assert answer.startswith(b"HTTP/1.1 200 ")
