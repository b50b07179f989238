"""The wiretapper's recorder: TCP payloads in, Ethernet/IP/TCP frames out, for a pcap.

The proxy sees one client's connection as bytes in each direction. A
:class:`TcpConversation` turns them back into what a capture on the wire
would hold: the three-way handshake, data segments of at most
:data:`MSS` bytes with consistent sequence and acknowledgement numbers,
and a FIN from each side as it closes — real addresses and ports, IPv4 or
IPv6. Frames are built with ``dpkt``; writing them to a file is the
command line's job. Pure: no clock (the caller stamps each frame), no I/O.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import dpkt

#: The largest TCP payload in one frame, as on an Ethernet with a 1500-byte MTU.
MSS = 1460
#: The snap length a capture of these frames declares.
SNAPLEN = 262144

_SYN, _ACK, _FIN, _PSH = dpkt.tcp.TH_SYN, dpkt.tcp.TH_ACK, dpkt.tcp.TH_FIN, dpkt.tcp.TH_PUSH
#: Locally administered MAC addresses for the two ends.
_CLIENT_MAC = bytes.fromhex("020000000001")
_SERVER_MAC = bytes.fromhex("020000000002")


@dataclass
class _End:
    mac: bytes
    ip: bytes
    port: int
    #: the sequence number of this end's next byte
    seq: int
    fin_sent: bool = False


class TcpConversation:
    """One TCP connection, as frames, seen from the wire between client and proxy.

    Args:
        client: The client's (address, port).
        server: The address and port it connected to (the proxy's listening end).
        client_isn, server_isn: Initial sequence numbers (any 32-bit values).

    Raises:
        ValueError: An address is not an IP address, or the two differ in family.
    """

    def __init__(
        self,
        client: tuple[str, int],
        server: tuple[str, int],
        *,
        client_isn: int = 0x1000,
        server_isn: int = 0x2000,
    ) -> None:
        client_ip = ipaddress.ip_address(client[0].split("%")[0])
        server_ip = ipaddress.ip_address(server[0].split("%")[0])
        if client_ip.version != server_ip.version:
            raise ValueError("client and server addresses are of different IP versions")
        self.ipv6 = client_ip.version == 6
        self._client = _End(_CLIENT_MAC, client_ip.packed, client[1], client_isn % 2**32)
        self._server = _End(_SERVER_MAC, server_ip.packed, server[1], server_isn % 2**32)

    def _frame(self, sender: _End, receiver: _End, flags: int, payload: bytes = b"") -> bytes:
        ack = receiver.seq if flags & _ACK else 0
        tcp = dpkt.tcp.TCP(
            sport=sender.port,
            dport=receiver.port,
            seq=sender.seq,
            ack=ack,
            flags=flags,
            win=65535,
            data=payload,
        )
        ip: Any
        if self.ipv6:
            ip = dpkt.ip6.IP6(src=sender.ip, dst=receiver.ip, nxt=dpkt.ip.IP_PROTO_TCP, hlim=64)
            ip.data = tcp
            ip.plen = len(tcp)
            ether_type = dpkt.ethernet.ETH_TYPE_IP6
        else:
            ip = dpkt.ip.IP(src=sender.ip, dst=receiver.ip, p=dpkt.ip.IP_PROTO_TCP, ttl=64)
            ip.data = tcp
            ip.len = len(ip.pack_hdr()) + len(tcp)
            ether_type = dpkt.ethernet.ETH_TYPE_IP
        # dpkt fills in the TCP checksum (with the pseudo-header) and the IPv4 one.
        frame = dpkt.ethernet.Ethernet(src=sender.mac, dst=receiver.mac, type=ether_type, data=ip)
        return bytes(frame)

    def _ends(self, from_client: bool) -> tuple[_End, _End]:
        if from_client:
            return self._client, self._server
        return self._server, self._client

    def open(self) -> list[bytes]:
        """The three-way handshake: SYN, SYN-ACK, ACK."""
        client, server = self._client, self._server
        frames = [self._frame(client, server, _SYN)]
        client.seq = (client.seq + 1) % 2**32
        frames.append(self._frame(server, client, _SYN | _ACK))
        server.seq = (server.seq + 1) % 2**32
        frames.append(self._frame(client, server, _ACK))
        return frames

    def data(self, from_client: bool, payload: bytes) -> list[bytes]:
        """``payload`` sent by one side, cut into segments of at most :data:`MSS` bytes."""
        sender, receiver = self._ends(from_client)
        frames = []
        for chunk in _chunks(payload, MSS):
            frames.append(self._frame(sender, receiver, _PSH | _ACK, chunk))
            sender.seq = (sender.seq + len(chunk)) % 2**32
        return frames

    def close(self, from_client: bool) -> list[bytes]:
        """One side's FIN, and the other side's ACK of it (once per side)."""
        sender, receiver = self._ends(from_client)
        if sender.fin_sent:
            return []
        sender.fin_sent = True
        frames = [self._frame(sender, receiver, _FIN | _ACK)]
        sender.seq = (sender.seq + 1) % 2**32
        frames.append(self._frame(receiver, sender, _ACK))
        return frames


def _chunks(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]
