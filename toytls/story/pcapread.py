"""A capture file's TCP conversations, put back together: pcap bytes in, byte streams out.

:func:`read_conversations` reads a classic pcap (or pcapng) with ``dpkt`` —
Ethernet, Linux cooked (``tcpdump -i any``), BSD loopback or raw IP — keeps
the TCP segments, and rebuilds each connection's two byte streams in
sequence order: retransmitted and overlapping bytes count once, and a
missing stretch ends that direction (marked as a gap). Each stream keeps,
for every segment, where it starts and which packet carried it, so the
records cut from it later can be put back in the order they crossed the
wire. Pure: bytes in, no file opened.
"""

from __future__ import annotations

import io
import ipaddress
import struct
from dataclasses import dataclass, field
from typing import Any

import dpkt

from ..core.errors import ConfigError

_PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": "<",
    b"\xa1\xb2\xc3\xd4": ">",
    b"\x4d\x3c\xb2\xa1": "<",
    b"\xa1\xb2\x3c\x4d": ">",
}
_PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
_ETHERNET, _NULL, _RAW, _RAW_IP, _SLL, _LOOP, _SLL2 = 1, 0, 101, 12, 113, 108, 276


class CaptureError(ConfigError):
    """The bytes are not a capture this reader can use; the message says why.

    A :class:`~toytls.core.errors.ConfigError`: it carries a message id
    (``capture.…``) and its values, so that it can be said in Chinese too.
    """


def _error(key: str, english: str, **params: object) -> CaptureError:
    return CaptureError(english, key=key, params=params)


Endpoint = tuple[str, int]


@dataclass
class Stream:
    """One direction of a TCP connection, as the bytes it carried."""

    data: bytearray = field(default_factory=bytearray)
    #: (offset in ``data``, packet number) for each segment that added bytes
    marks: list[tuple[int, int]] = field(default_factory=list)
    #: bytes were missing: ``data`` stops where the gap began
    gap: bool = False

    def packet_at(self, offset: int) -> int:
        """The number of the packet that carried byte ``offset``."""
        number = 0
        for start, packet in self.marks:
            if start > offset:
                break
            number = packet
        return number


@dataclass
class Conversation:
    """One TCP connection: who opened it, and the two byte streams."""

    client: Endpoint
    server: Endpoint
    to_server: Stream
    to_client: Stream


@dataclass
class _Half:
    segments: list[tuple[int, int, bytes]] = field(default_factory=list)  # seq, packet, data
    isn: int | None = None
    syn_only: bool = False


def _check_pcap(data: bytes) -> None:
    """Walk the record headers of a classic pcap, so a cut-off file is noticed."""
    order = _PCAP_MAGICS[data[:4]]
    if len(data) < 24:
        raise _error("capture.header_cut", "truncated: the pcap file header is incomplete")
    offset, number = 24, 0
    while offset < len(data):
        number += 1
        if offset + 16 > len(data):
            raise _error(
                "capture.packet_header_cut",
                f"truncated: packet {number}'s header is cut off",
                number=number,
            )
        (caplen,) = struct.unpack_from(order + "I", data, offset + 8)
        offset += 16 + caplen
        if offset > len(data):
            raise _error(
                "capture.packet_cut", f"truncated: packet {number} is cut off", number=number
            )


def _packets(data: bytes) -> tuple[int, list[bytes]]:
    if data[:4] in _PCAP_MAGICS:
        _check_pcap(data)
        reader: Any = dpkt.pcap.Reader(io.BytesIO(data))
    elif data[:4] == _PCAPNG_MAGIC:
        reader = dpkt.pcapng.Reader(io.BytesIO(data))
    else:
        raise _error(
            "capture.not_pcap", "not a pcap or pcapng capture (the file does not start like one)"
        )
    packets = [bytes(buf) for _, buf in reader]
    return int(reader.datalink()), packets


def _ip_of(linktype: int, frame: bytes) -> Any:
    """The IP packet inside a frame, or None."""
    if linktype == _ETHERNET:
        inner = dpkt.ethernet.Ethernet(frame).data
    elif linktype == _SLL:
        inner = dpkt.sll.SLL(frame).data
    elif linktype == _SLL2:
        inner = dpkt.sll2.SLL2(frame).data
    elif linktype in (_NULL, _LOOP):
        inner = dpkt.loopback.Loopback(frame).data
    elif linktype in (_RAW, _RAW_IP):
        inner = dpkt.ip6.IP6(frame) if frame[:1] and frame[0] >> 4 == 6 else dpkt.ip.IP(frame)
    else:
        raise _error(
            "capture.link_type",
            f"unsupported link type {linktype} (Ethernet, Linux cooked, loopback)",
            linktype=linktype,
        )
    return inner if isinstance(inner, dpkt.ip.IP | dpkt.ip6.IP6) else None


def _address(raw: bytes) -> str:
    return str(ipaddress.ip_address(raw))


def read_conversations(data: bytes) -> list[Conversation]:
    """Every TCP connection in a capture, in the order each first appeared.

    Raises:
        CaptureError: Not a pcap or pcapng file, cut off, or a link type
            this reader does not know.
    """
    try:
        linktype, frames = _packets(data)
    except (dpkt.dpkt.Error, ValueError, struct.error, EOFError) as exc:
        if isinstance(exc, CaptureError):
            raise
        raise _error(
            "capture.unreadable", f"not a readable capture: {exc}", detail=str(exc)
        ) from None
    halves: dict[tuple[Endpoint, Endpoint], _Half] = {}
    for number, frame in enumerate(frames, start=1):
        try:
            ip = _ip_of(linktype, frame)
        except (dpkt.dpkt.Error, struct.error, ValueError) as exc:
            if isinstance(exc, CaptureError):
                raise
            continue  # a frame dpkt cannot read is not TCP we could use
        tcp = None if ip is None else ip.data
        if not isinstance(tcp, dpkt.tcp.TCP):
            continue
        key = ((_address(ip.src), tcp.sport), (_address(ip.dst), tcp.dport))
        half = halves.setdefault(key, _Half())
        if tcp.flags & dpkt.tcp.TH_SYN:
            half.isn = (tcp.seq + 1) % 2**32
            half.syn_only = not tcp.flags & dpkt.tcp.TH_ACK
        if tcp.data:
            half.segments.append((tcp.seq, number, bytes(tcp.data)))
    return _pair(halves)


def _pair(halves: dict[tuple[Endpoint, Endpoint], _Half]) -> list[Conversation]:
    conversations = []
    seen: set[tuple[Endpoint, Endpoint]] = set()
    for (a, b), half in halves.items():
        if (a, b) in seen:
            continue
        seen |= {(a, b), (b, a)}
        other = halves.get((b, a), _Half())
        # The side that sent the bare SYN opened it; without one, the first seen.
        client_first = not other.syn_only or half.syn_only
        client, server = (a, b) if client_first else (b, a)
        up, down = (half, other) if client_first else (other, half)
        conversations.append(Conversation(client, server, _stream(up), _stream(down)))
    return conversations


def _stream(half: _Half) -> Stream:
    """Put one direction's segments in sequence order, each byte once."""
    stream = Stream()
    if not half.segments:
        return stream
    start = half.isn if half.isn is not None else half.segments[0][0]

    def relative(segment: tuple[int, int, bytes]) -> int:
        return (segment[0] - start) % 2**32

    for segment in sorted(half.segments, key=lambda s: (relative(s), s[1])):
        offset = relative(segment)
        if offset > 2**31:
            continue  # before the start: an old retransmission
        have = len(stream.data)
        if offset > have:
            stream.gap = True
            break
        fresh = segment[2][have - offset :]
        if fresh:
            stream.marks.append((have, segment[1]))
            stream.data += fresh
    return stream
