"""What a connection needs to know before it starts: one config per role.

These are plain, immutable values checked once at construction, so that a
:class:`~toytls.core.connection.Connection` never meets a configuration problem
in the middle of a handshake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from .constants import HANDSHAKE_HEADER_SIZE, MAX_CERTIFICATES, MAX_PLAINTEXT
from .errors import ConfigError, DecodeError
from .messages import check_server_name


def normalize_server_name(name: str) -> str:
    """Lower-case ``name`` and check it may go into a ClientHello.

    Raises:
        ValueError: The name is empty, longer than 253 bytes or holds
            characters outside ``[a-z0-9.-]`` (after lower-casing).
    """
    lowered = name.lower()
    if not 1 <= len(lowered) <= 253:
        raise ConfigError(
            f"server name {name!r} must be 1 to 253 characters long",
            key="config.name_length",
            params={"name": name},
        )
    try:
        check_server_name(lowered)
    except DecodeError:
        raise ConfigError(
            f"server name {name!r} may only hold letters, digits, '.' and '-'",
            key="config.name_chars",
            params={"name": name},
        ) from None
    return lowered


@dataclass(frozen=True, kw_only=True, slots=True)
class ClientConfig:
    """A client connection's settings.

    Attributes:
        server_name: The name to ask for and to check the leaf against.
        roots: The trusted root certificates (the trust store).
        verify: False skips every check of §4 — the no-verification mode
            that shows what an attacker gains without them.
        now: Check validity periods at this time instead of the current
            time (tests use it to pin the clock).
    """

    server_name: str
    roots: tuple[x509.Certificate, ...] = ()
    verify: bool = True
    now: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "server_name", normalize_server_name(self.server_name))


@dataclass(frozen=True, kw_only=True, slots=True)
class ServerConfig:
    """A server connection's settings.

    Attributes:
        certificate_chain: DER certificates to send, leaf first.
        private_key: The leaf's RSA private key (the article's B−).
        server_names: If set, refuse any other name with
            ``unrecognized_name`` (§2, optional); None serves every name.

    Raises:
        ValueError: The chain is empty, too long, does not fit in one
            record, or its leaf does not belong to ``private_key``.
    """

    certificate_chain: tuple[bytes, ...]
    private_key: rsa.RSAPrivateKey
    server_names: frozenset[str] | None = None
    modulus_bytes: int = field(init=False)

    def __post_init__(self) -> None:
        chain = self.certificate_chain
        if not 1 <= len(chain) <= MAX_CERTIFICATES:
            raise ConfigError(
                f"a certificate chain holds 1 to {MAX_CERTIFICATES} certificates, not {len(chain)}",
                key="config.chain_length",
                params={"maximum": MAX_CERTIFICATES, "n": len(chain)},
            )
        size = HANDSHAKE_HEADER_SIZE + 3 + sum(3 + len(der) for der in chain)
        if size > MAX_PLAINTEXT:
            raise ConfigError(
                f"the Certificate message would be {size} bytes; "
                f"it must fit in one record ({MAX_PLAINTEXT})",
                key="config.chain_size",
                params={"size": size, "limit": MAX_PLAINTEXT},
            )
        ours = self.private_key.public_key().public_numbers()
        if not _holds_key(chain[0], ours):
            for index, der in enumerate(chain[1:], start=2):
                if _holds_key(der, ours):
                    raise ConfigError(
                        f"the chain is out of order: the private key belongs to certificate "
                        f"{index} of {len(chain)}, but the first certificate must be that "
                        "leaf (the order is leaf, intermediates, root)",
                        key="config.chain_order",
                        params={"index": index, "n": len(chain)},
                    )
            raise ConfigError(
                "the private key does not belong to the first certificate",
                key="config.key_mismatch",
            )
        object.__setattr__(self, "modulus_bytes", (self.private_key.key_size + 7) // 8)


def _holds_key(der: bytes, numbers: rsa.RSAPublicNumbers) -> bool:
    """Whether the certificate ``der`` carries the RSA public key ``numbers``."""
    key = x509.load_der_x509_certificate(der).public_key()
    return isinstance(key, rsa.RSAPublicKey) and key.public_numbers() == numbers
