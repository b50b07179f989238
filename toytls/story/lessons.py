"""The article's first lessons, with real keys: the locks each one uses, and a timing.

Lesson 2 locks with one shared AES key X (:func:`seal_with_x`); lesson 3
with one RSA key pair, both ways (:func:`lock_with_public_key`, and
:func:`lock_with_private_key` — "encrypting with B−" as the article tells
it); lesson 4 times RSA against AES (:func:`rsa_versus_aes`). The toy
protocols that carry these locks over a socket are in
:mod:`.lesson_protocols`.

Like the key schedule and record protection, this module touches
``cryptography.hazmat``; it does no I/O.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..core.constants import ContentType
from ..core.keyschedule import OAEP_PADDING
from ..core.links import SHA256_DIGEST_INFO
from ..core.protection import RecordOpener, RecordSealer

#: Bytes of data per RSA "signature that carries the data" (a SHA-256-sized slot).
_CHUNK = 32
#: AES-GCM nonce, sent in front of the ciphertext.
_NONCE = 12


class LockError(ValueError):
    """A locked message does not open with the key given."""


def new_key_x() -> bytes:
    """A fresh 128-bit AES key X."""
    return os.urandom(16)


def seal_with_x(key: bytes, data: bytes) -> bytes:
    """``data`` locked with key X: a fresh nonce, then the AES-GCM ciphertext and tag."""
    nonce = os.urandom(_NONCE)
    return nonce + AESGCM(key).encrypt(nonce, data, None)


def open_with_x(key: bytes, sealed: bytes) -> bytes:
    """Open what :func:`seal_with_x` locked.

    Raises:
        LockError: Another key, or the bytes were changed.
    """
    try:
        return AESGCM(key).decrypt(sealed[:_NONCE], sealed[_NONCE:], None)
    except (InvalidTag, ValueError) as exc:
        raise LockError("does not open with this key X") from exc


def lock_with_public_key(public_key: rsa.RSAPublicKey, data: bytes) -> bytes:
    """``data`` (at most 190 bytes) locked with B+ (RSA-OAEP): only B− opens it."""
    return public_key.encrypt(data, OAEP_PADDING)


def open_with_private_key(private_key: rsa.RSAPrivateKey, locked: bytes) -> bytes:
    """Open what :func:`lock_with_public_key` locked.

    Raises:
        LockError: Not locked with this key pair's B+.
    """
    try:
        return private_key.decrypt(locked, OAEP_PADDING)
    except ValueError as exc:
        raise LockError("does not open with this private key") from exc


def lock_with_private_key(private_key: rsa.RSAPrivateKey, data: bytes) -> bytes:
    """``data`` "encrypted with B−": RSA signatures that carry the data, 32 bytes each.

    Anyone holding the public key B+ recovers it (:func:`open_with_public_key`):
    that is the point of lesson 3. The last piece is padded with zero bytes.
    """
    locked = b""
    for start in range(0, len(data), _CHUNK):
        piece = data[start : start + _CHUNK].ljust(_CHUNK, b"\x00")
        locked += private_key.sign(piece, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    return locked


def open_with_public_key(public_key: rsa.RSAPublicKey, locked: bytes, size: int) -> bytes:
    """Recover the first ``size`` bytes that :func:`lock_with_private_key` locked.

    Raises:
        LockError: Not signed with this key pair's B−, or cut.
    """
    width = public_key.key_size // 8
    if not locked or len(locked) % width:
        raise LockError("not a whole number of RSA blocks")
    opened = b""
    for start in range(0, len(locked), width):
        try:
            piece = public_key.recover_data_from_signature(
                locked[start : start + width], padding.PKCS1v15(), None
            )
        except InvalidSignature as exc:
            raise LockError("does not open with this public key") from exc
        opened += piece.removeprefix(SHA256_DIGEST_INFO)
    return opened[:size]


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
    """Measure both on this machine, in memory, ``rounds`` times each.

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
