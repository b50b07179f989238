"""client_key_exchange_in: the adapter's look ahead for the RSA work.

It only finds; the connection decides. Found in a whole flight, never in a
partial one, never in anything else.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.serialization import Encoding

from toytls.core import events as ev
from toytls.core.config import ClientConfig, ServerConfig
from toytls.core.connection import Connection
from toytls.core.messages import ClientKeyExchange, client_key_exchange_in
from toytls.pki.generate import PKI


def _client_flights(pki: PKI) -> tuple[bytes, bytes, bytes]:
    """(ClientHello, ClientKeyExchange + Finished, the encrypted secret)."""
    client = Connection(ClientConfig(server_name="localhost", roots=(pki.root.certificate,)))
    chain = tuple(c.public_bytes(Encoding.DER) for c in pki.chain)
    server = Connection(ServerConfig(certificate_chain=chain, private_key=pki.server.key))
    client.initiate()
    hello = client.data_to_send()
    server.receive_data(hello)
    events = client.receive_data(server.data_to_send())
    sent = [e.message for e in events if isinstance(e, ev.HandshakeMessageSent)]
    exchange = next(m for m in sent if isinstance(m, ClientKeyExchange))
    return hello, client.data_to_send(), exchange.encrypted_secret


def test_found_alone_and_after_a_client_hello(pki: PKI) -> None:
    hello, flight, encrypted = _client_flights(pki)
    assert client_key_exchange_in(flight) == encrypted
    assert client_key_exchange_in(hello + flight) == encrypted


def test_not_found_in_anything_else(pki: PKI) -> None:
    hello, flight, _ = _client_flights(pki)
    assert client_key_exchange_in(hello) is None
    assert client_key_exchange_in(b"") is None
    whole = 5 + int.from_bytes(flight[3:5], "big")  # the ClientKeyExchange record
    for cut in (1, 5, 9, 100, whole - 1):
        assert client_key_exchange_in(flight[:cut]) is None  # not whole yet
    assert client_key_exchange_in(flight[:whole]) is not None  # Finished may follow later
    broken = bytearray(flight)
    broken[9] ^= 0xFF  # the vector length no longer fits the body
    assert client_key_exchange_in(bytes(broken)) is None
