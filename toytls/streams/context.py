"""Contexts: the long-lived settings shared by many connections.

A :class:`Context` plays the part of :class:`ssl.SSLContext`: it is made
once (usually with :func:`create_default_context` or
:func:`create_server_context`), holds the trust store or the server's chain
and key, and hands each new connection an immutable config.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ..core.config import ClientConfig, ServerConfig
from ..pki.files import PEMError, load_pem_certificates, load_pem_private_key_rsa

#: §6 — default handshake deadline, from accept to the server's Finished.
DEFAULT_HANDSHAKE_TIMEOUT = 10.0

#: How many server handshakes may wait on the RSA helper process at once
#: (measured, 8 concurrent handshakes on 2 cores: 2 gave 1.89x SSLStream's
#: rate, 4 gave 2.10x, 8 gave 2.19x and 16 2.12x).
DEFAULT_HANDSHAKE_WORKERS = 8

if TYPE_CHECKING:
    from .keyexchange import KeyExchangeLoad

StrOrPath = str | Path


class Context:
    """Settings for client or server connections.

    Attributes:
        server_side: True for a server context.
        verify: Client only. True (the default) checks the server's chain
            (§4); False skips every check, and every connection made so warns
            loudly — this mode exists to show what an attacker gains.
        roots: Client only. The trusted root certificates.
        certificate_chain: Server only. DER certificates to send, leaf first.
        private_key: Server only. The leaf's private key.
        server_names: Server only. If set, other names are refused with
            ``unrecognized_name``.
        handshake_timeout: Seconds the handshake may take before the
            connection is dropped: on a server from accept to its Finished
            (§6; 10 s by default), on a client from the first call that needs
            the handshake to the server's Finished (no limit by default, as
            with ``trio.SSLStream``; the command line sets 10 s).
        handshake_workers: Server only. When other work waits on the event
            loop, the RSA decryption of key X goes to a helper process (one
            per trio run, started on first need), so it runs on another core;
            at most this many wait on it at once, and a key exchange that
            finds that many decrypts inline. 0 keeps every decryption inline
            and starts no helper.
        trace: Report every record in the connection's events (narration).
    """

    def __init__(self, *, server_side: bool = False) -> None:
        self.server_side = server_side
        self.verify = True
        self.roots: list[x509.Certificate] = []
        self.certificate_chain: tuple[bytes, ...] = ()
        self.private_key: rsa.RSAPrivateKey | None = None
        self.server_names: frozenset[str] | None = None
        self.handshake_timeout = DEFAULT_HANDSHAKE_TIMEOUT if server_side else math.inf
        self.handshake_workers = DEFAULT_HANDSHAKE_WORKERS
        self.trace = False
        self._key_exchange_load: KeyExchangeLoad | None = None
        #: the last server config made, and the attributes it was made from
        self._server_config: tuple[ServerConfig, tuple[object, ...]] | None = None

    def __repr__(self) -> str:
        side = "server" if self.server_side else "client"
        return f"<toytls.Context {side} verify={self.verify} roots={len(self.roots)}>"

    @property
    def key_exchange_load(self) -> KeyExchangeLoad:
        """Server only: the key exchanges under way on this context's streams.

        Made on first use, and resized if :attr:`handshake_workers` changed.
        """
        load = self._key_exchange_load
        if load is None:
            from .keyexchange import KeyExchangeLoad  # trio, only when serving

            load = self._key_exchange_load = KeyExchangeLoad(self.handshake_workers)
        elif load.workers != self.handshake_workers:
            load.workers = self.handshake_workers
        return load

    def load_verify_locations(
        self, cafile: StrOrPath | None = None, cadata: str | bytes | None = None
    ) -> None:
        """Add trusted roots from a PEM file and/or PEM data.

        Raises:
            OSError: ``cafile`` cannot be read.
            ValueError: The data holds no PEM certificate, or a broken one.
        """
        if cafile is not None:
            self.roots.extend(_load_certificates(Path(cafile).read_bytes(), str(cafile)))
        if cadata is not None:
            data = cadata.encode("ascii") if isinstance(cadata, str) else cadata
            self.roots.extend(_load_certificates(data, "cadata"))

    def load_cert_chain(self, certfile: StrOrPath, keyfile: StrOrPath) -> None:
        """Load the server's chain (PEM, leaf first) and its RSA private key.

        Raises:
            OSError: A file cannot be read.
            ValueError: The files hold no certificate, a key that is not an
                unencrypted RSA key, or a key that does not match the leaf.
        """
        certificates = _load_certificates(Path(certfile).read_bytes(), str(certfile))
        try:
            key = load_pem_private_key_rsa(Path(keyfile).read_bytes())
        except PEMError as exc:
            raise exc.within(str(keyfile)) from None
        chain = tuple(c.public_bytes(serialization.Encoding.DER) for c in certificates)
        ServerConfig(certificate_chain=chain, private_key=key)  # checks the pair
        self.certificate_chain = chain
        self.private_key = key

    def config_for(
        self, *, server_side: bool, server_hostname: str | None
    ) -> ClientConfig | ServerConfig:
        """The config for one connection of a stream on ``server_side``.

        Raises:
            ValueError: The side does not match this context, a client has
                no ``server_hostname`` or an invalid one, or a server context
                has no chain and key.
        """
        if server_side != self.server_side:
            side = "server" if self.server_side else "client"
            raise ValueError(f"a {side} context cannot make a server_side={server_side} stream")
        if server_side:
            return self.server_config()
        if server_hostname is None:
            raise ValueError("a client stream needs server_hostname")
        return self.client_config(server_hostname)

    def client_config(self, server_name: str) -> ClientConfig:
        """The config for one client connection to ``server_name``.

        Raises:
            ValueError: ``server_name`` is not a valid name.
        """
        return ClientConfig(server_name=server_name, roots=tuple(self.roots), verify=self.verify)

    def server_config(self) -> ServerConfig:
        """The config for one server connection.

        Raises:
            ValueError: No chain and key were loaded.
        """
        if self.private_key is None:
            raise ValueError("a server context needs load_cert_chain() first")
        # Every connection gets the same immutable config: checking the key
        # against the leaf again (7 µs) would buy nothing. Made again if an
        # attribute was assigned since (compared by identity: they are
        # replaced, never changed in place).
        made_from = (self.certificate_chain, self.private_key, self.server_names)
        cached = self._server_config
        if cached is not None and all(a is b for a, b in zip(cached[1], made_from, strict=True)):
            return cached[0]
        config = ServerConfig(
            certificate_chain=self.certificate_chain,
            private_key=self.private_key,
            server_names=self.server_names,
        )
        self._server_config = (config, made_from)
        return config


def _load_certificates(data: bytes, source: str) -> list[x509.Certificate]:
    try:
        return load_pem_certificates(data)
    except PEMError as exc:
        raise exc.within(source) from None


def encode_server_name(server_hostname: str) -> str:
    """The name as ``trio.SSLStream`` keeps it: IDNA 2008, as trio connects.

    A name IDNA refuses is returned as it is, for the config's own check to
    explain.
    """
    import trio  # only streams name servers; contexts are made without trio

    try:
        return trio.lowlevel.encode_hostname(server_hostname).decode("ascii")
    except (ValueError, UnicodeError):
        return server_hostname


def create_default_context(
    *, cafile: StrOrPath | None = None, cadata: str | bytes | None = None
) -> Context:
    """A client context that verifies servers against the given roots.

    With neither ``cafile`` nor ``cadata`` the trust store is empty, so every
    server is refused as ``unknown_ca`` until roots are added with
    :meth:`Context.load_verify_locations`. Set ``ctx.verify = False`` to turn
    verification off (and be warned on every connection).

    Raises:
        OSError: ``cafile`` cannot be read.
        ValueError: The roots are not readable PEM certificates.
    """
    context = Context(server_side=False)
    if cafile is not None or cadata is not None:
        context.load_verify_locations(cafile=cafile, cadata=cadata)
    return context


def create_server_context(*, certfile: StrOrPath, keyfile: StrOrPath) -> Context:
    """A server context that presents ``certfile`` (its chain, leaf first).

    Raises:
        OSError: A file cannot be read.
        ValueError: See :meth:`Context.load_cert_chain`.
    """
    context = Context(server_side=True)
    context.load_cert_chain(certfile, keyfile)
    return context
