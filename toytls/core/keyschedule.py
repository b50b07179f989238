"""The transcript, the secret's key transport and the key schedule (§3.1–§3.3).

This module and :mod:`toytls.core.protection` are the only parts of the protocol
core that touch ``cryptography.hazmat``. Everything here is a pure function
of its inputs, so the test vectors in ``tests/vectors/`` pin it byte for
byte.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand

from .constants import SECRET_SIZE

#: §3.2 — the OAEP parameters that carry key X: SHA-256 and MGF1-SHA-256, no label.
OAEP_PADDING = padding.OAEP(
    mgf=padding.MGF1(algorithm=hashes.SHA256()),
    algorithm=hashes.SHA256(),
    label=None,
)

#: Signature of the function that encrypts the secret to the leaf's key.
EncryptSecret = Callable[[rsa.RSAPublicKey, bytes], bytes]
#: ``decrypt_secret``'s shape: (private key, encrypted secret, fallback) -> secret.
DecryptSecret = Callable[[rsa.RSAPrivateKey, bytes, bytes], bytes]


class Transcript:
    """SHA-256 over every handshake message so far (§3.1).

    Messages are added whole (``msg_type ‖ length ‖ body``) in the order they
    were sent, never with their record header.
    """

    __slots__ = ("_hash",)

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def add(self, message: bytes) -> None:
        """Append one encoded handshake message."""
        self._hash.update(message)

    def digest(self) -> bytes:
        """Return TH(...) up to and including the last message added."""
        return self._hash.copy().digest()


@dataclass(frozen=True, kw_only=True, slots=True)
class KeySchedule:
    """Every value derived in §3.3, for one connection."""

    master: bytes
    #: TH(ClientKeyExchange), the ``th`` mixed into every Derive()
    th: bytes
    client_write_key: bytes
    server_write_key: bytes
    client_write_iv: bytes
    server_write_iv: bytes
    client_finished: bytes
    server_finished: bytes


def derive_schedule(
    *, secret: bytes, client_random: bytes, server_random: bytes, th: bytes
) -> KeySchedule:
    """Run the §3.3 key schedule.

    Args:
        secret: The 32-byte session secret (the article's key X).
        client_random: ClientHello.random.
        server_random: ServerHello.random.
        th: TH(ClientKeyExchange).

    Returns:
        The master secret and the six derived values.
    """
    # HKDF from cryptography, never written out by hand (the project's rule
    # for every primitive): an HMAC-based rewrite saved about 10 µs per
    # handshake and was not kept.
    master = HKDF.extract(hashes.SHA256(), client_random + server_random, secret)

    def derive(label: bytes, length: int) -> bytes:
        info = label + b"\x00" + th
        return HKDFExpand(algorithm=hashes.SHA256(), length=length, info=info).derive(master)

    return KeySchedule(
        master=master,
        th=th,
        client_write_key=derive(b"client key", 16),
        server_write_key=derive(b"server key", 16),
        client_write_iv=derive(b"client iv", 12),
        server_write_iv=derive(b"server iv", 12),
        client_finished=derive(b"client finished", 32),
        server_finished=derive(b"server finished", 32),
    )


def finished_verify_data(finished_key: bytes, th: bytes) -> bytes:
    """Return ``HMAC-SHA256(finished_key, th)``, a Finished's verify_data."""
    return hmac.new(finished_key, th, hashlib.sha256).digest()


def finished_matches(expected: bytes, received: bytes) -> bool:
    """Compare two verify_data values in constant time (§3.3)."""
    return hmac.compare_digest(expected, received)


def encrypt_secret(public_key: rsa.RSAPublicKey, secret: bytes) -> bytes:
    """Encrypt the secret with RSA-OAEP (SHA-256, MGF1-SHA-256, no label)."""
    return public_key.encrypt(secret, OAEP_PADDING)


def decrypt_secret(
    private_key: rsa.RSAPrivateKey, encrypted_secret: bytes, fallback: bytes
) -> bytes:
    """Decrypt the secret, or return ``fallback`` if that fails (§3.2).

    Implicit rejection: the caller cannot tell a failed decryption from a
    successful one, so nothing it does next can depend on which happened —
    that is what denies an attacker a padding oracle. ``fallback`` must be
    drawn before this call, so the timing of the random source does not
    depend on the outcome either.

    Args:
        private_key: The server's RSA key.
        encrypted_secret: ClientKeyExchange.encrypted_secret.
        fallback: 32 fresh random bytes.

    Returns:
        The decrypted secret if it is exactly 32 bytes, else ``fallback``.
    """
    try:
        secret = private_key.decrypt(encrypted_secret, OAEP_PADDING)
    except ValueError:
        return fallback
    # A well-formed OAEP message around a secret of the wrong length is
    # rejected the same way as a malformed one.
    return secret if len(secret) == SECRET_SIZE else fallback


def session_key_fingerprint(secret: bytes) -> str:
    """A short public name for a session secret: the first 8 bytes of SHA-256.

    Safe to print: it identifies the key without revealing it, so two logs
    can be matched up ("both sides hold the same key X").
    """
    return hashlib.sha256(b"toytls key fingerprint\x00" + secret).hexdigest()[:16]
