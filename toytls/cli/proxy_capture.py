"""``toytls proxy --pcap FILE``: everything relayed with the clients, as a pcap.

:class:`PcapFile` is the open capture; :class:`CapturedStream` wraps a
client's TCP stream — the one place where every client-facing byte passes,
in every mode — and hands each payload, both ways, to a
:class:`~toytls.attacker.capture.TcpConversation` that frames it. Every
packet is flushed as it is written, so the file is a complete capture at
any moment, after Ctrl-C included.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import BinaryIO

import dpkt
import trio

from ..attacker.capture import SNAPLEN, TcpConversation


class PcapFile:
    """A classic pcap file (Ethernet link type), written and flushed packet by packet.

    Args:
        path: Created or emptied.

    Raises:
        OSError: It cannot be written.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO = path.open("wb")
        self._writer = dpkt.pcap.Writer(self._file, snaplen=SNAPLEN)
        self._file.flush()

    def write(self, frames: list[bytes]) -> None:
        """Write ``frames``, stamped now, and flush."""
        if not frames or self._file.closed:
            return
        now = time.time()
        for frame in frames:
            self._writer.writepkt(frame, ts=now)
        self._file.flush()

    def close(self) -> None:
        """Close the file (later writes are dropped)."""
        self._file.close()

    def __enter__(self) -> PcapFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class CapturedStream(trio.abc.HalfCloseableStream):
    """A client's TCP stream, recorded into ``pcap`` both ways; otherwise transparent."""

    def __init__(self, transport: trio.SocketStream, pcap: PcapFile) -> None:
        self.transport = transport
        self._pcap = pcap
        peer = transport.socket.getpeername()
        local = transport.socket.getsockname()
        self._tcp = TcpConversation((peer[0], peer[1]), (local[0], local[1]))
        pcap.write(self._tcp.open())

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        data = await self.transport.receive_some(max_bytes)
        if data:
            self._pcap.write(self._tcp.data(True, bytes(data)))
        else:
            self._pcap.write(self._tcp.close(True))
        return data

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        # Recorded before it leaves: once sent, the client may answer at once, and
        # its answer, recorded by the other direction, must not come first in the
        # file (the transcript, and so the keys, follow the order of the messages).
        if data:
            self._pcap.write(self._tcp.data(False, bytes(data)))
        await self.transport.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self.transport.wait_send_all_might_not_block()

    async def send_eof(self) -> None:
        await self.transport.send_eof()
        self._pcap.write(self._tcp.close(False))

    async def aclose(self) -> None:
        await self.transport.aclose()
        self._pcap.write(self._tcp.close(False))


def capture_client(
    client: trio.SocketStream, pcap: PcapFile | None
) -> trio.abc.HalfCloseableStream:
    """``client``, recorded into ``pcap`` if there is one."""
    if pcap is None:
        return client
    try:
        return CapturedStream(client, pcap)
    except (OSError, ValueError):
        return client  # the socket is already gone, or not IP: nothing to frame
