"""The article's first lessons, with real keys: why neither kind of key is
enough alone, and why HTTPS mixes them.

Like the key schedule and record protection, this module touches
``cryptography.hazmat``; it does no I/O. The demo narrates its results.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

from ..core.constants import ContentType
from ..core.keyschedule import OAEP_PADDING
from ..core.links import SHA256_DIGEST_INFO
from ..core.protection import RecordOpener, RecordSealer

_CHUNK = 32


@dataclass(frozen=True, kw_only=True, slots=True)
class SymmetricLesson:
    """One shared key: whoever saw it cross the wire reads everything."""

    key: bytes
    ciphertext: bytes
    read_by_eavesdropper: bytes


def symmetric_only(message: bytes) -> SymmetricLesson:
    """Seal ``message`` under a fresh AES key, then open it as an eavesdropper
    who copied that key on its way to the peer (it had to travel in clear)."""
    key, iv = os.urandom(16), os.urandom(12)
    record, _, _ = RecordSealer(key, iv).seal(ContentType.APPLICATION_DATA, message)
    # The eavesdropper saw key and iv go by, so his opener is as good as the peer's.
    stolen, _, _ = RecordOpener(key, iv).open(record[:5], record[5:])
    return SymmetricLesson(key=key, ciphertext=record[5:], read_by_eavesdropper=stolen)


@dataclass(frozen=True, kw_only=True, slots=True)
class AsymmetricLesson:
    """One key pair: what the server locks with B− anyone can open with B+."""

    locked: bytes
    read_with_public_key: bytes


def asymmetric_only(reply: bytes, server_key: rsa.RSAPrivateKey) -> AsymmetricLesson:
    """The server 'encrypts' its reply with its private key B− (an RSA
    signature that carries the data), and anyone holding the public key B+ —
    which was sent to everyone — recovers it.

    The reply is cut into 32-byte pieces, each signed raw.
    """
    public_key = server_key.public_key()
    locked = b""
    recovered = b""
    for start in range(0, len(reply), _CHUNK):
        piece = reply[start : start + _CHUNK].ljust(_CHUNK, b"\x00")
        signature = server_key.sign(piece, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
        locked += signature
        try:
            opened = public_key.recover_data_from_signature(signature, padding.PKCS1v15(), None)
        except InvalidSignature:  # pragma: no cover - a fresh signature opens
            opened = b""
        recovered += opened.removeprefix(SHA256_DIGEST_INFO)
    return AsymmetricLesson(locked=locked, read_with_public_key=recovered[: len(reply)])


@dataclass(frozen=True, kw_only=True, slots=True)
class SpeedLesson:
    """Time per message: RSA (OAEP, encrypt + decrypt) against AES-GCM."""

    rsa_microseconds: float
    aes_microseconds: float
    message_bytes: int

    @property
    def ratio(self) -> float:
        """How many times slower RSA is."""
        return self.rsa_microseconds / max(self.aes_microseconds, 1e-9)


def rsa_versus_aes(message: bytes, key: rsa.RSAPrivateKey, *, rounds: int = 200) -> SpeedLesson:
    """Measure both on this machine, ``rounds`` times each.

    RSA-OAEP with a 2048-bit key carries at most 190 bytes, so ``message``
    is cut to that; AES-GCM seals the same bytes as one record.
    """
    data = message[:190]
    public_key = key.public_key()
    oaep = OAEP_PADDING
    start = time.perf_counter()
    for _ in range(rounds):
        key.decrypt(public_key.encrypt(data, oaep), oaep)
    rsa_time = (time.perf_counter() - start) / rounds
    key_bytes, iv = os.urandom(16), os.urandom(12)
    sealer, opener = RecordSealer(key_bytes, iv), RecordOpener(key_bytes, iv)
    start = time.perf_counter()
    for _ in range(rounds):
        record, _, _ = sealer.seal(ContentType.APPLICATION_DATA, data)
        opener.open(record[:5], record[5:])
    aes_time = (time.perf_counter() - start) / rounds
    return SpeedLesson(
        rsa_microseconds=rsa_time * 1e6, aes_microseconds=aes_time * 1e6, message_bytes=len(data)
    )
