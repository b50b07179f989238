"""AES-128-GCM record protection with implicit sequence numbers (§3.4).

One :class:`RecordSealer` per write direction and one :class:`RecordOpener`
per read direction; each builds its ``AESGCM`` object once. The sequence
number is never sent: it is counted on both sides, so a replayed, dropped,
reordered or reflected record is sealed under another nonce and fails to
open.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .constants import MAX_SEQ, PROTOCOL_VERSION, TAG_SIZE, AlertDescription
from .errors import ToyTLSError

_VERSION = PROTOCOL_VERSION.to_bytes(2, "big")


def record_nonce(iv: bytes, seq: int) -> bytes:
    """Return ``iv XOR (0x00000000 ‖ seq as 8 bytes)``."""
    return (int.from_bytes(iv, "big") ^ seq).to_bytes(12, "big")


def protected_header(content_type: int, plaintext_length: int) -> bytes:
    """The header of a protected record, which is also its AAD."""
    return bytes((content_type,)) + _VERSION + (plaintext_length + TAG_SIZE).to_bytes(2, "big")


class _Direction:
    __slots__ = ("_aead", "_iv_int", "seq")

    def __init__(self, key: bytes, iv: bytes) -> None:
        self._aead = AESGCM(key)
        self._iv_int = int.from_bytes(iv, "big")
        #: the sequence number of the next record in this direction
        self.seq = 0

    def _next_nonce(self) -> tuple[int, bytes]:
        seq = self.seq
        if seq > MAX_SEQ:
            # §3.4: close rather than wrap. No alert: it would need a seq too.
            raise ToyTLSError(
                "sequence numbers exhausted; the connection must close",
                alert=None,
            )
        self.seq = seq + 1
        return seq, (self._iv_int ^ seq).to_bytes(12, "big")


class RecordSealer(_Direction):
    """Protects outgoing records under one write key and IV."""

    __slots__ = ()

    def seal(self, content_type: int, plaintext: bytes) -> tuple[bytes, int, bytes]:
        """Protect one record.

        Args:
            content_type: The record's content type (sent in the clear).
            plaintext: At most 16384 bytes.

        Returns:
            ``(record, seq, nonce)``: the whole record, header included, and
            the sequence number and nonce it was sealed under.

        Raises:
            ToyTLSError: The sequence number would wrap (no alert).
        """
        seq, nonce = self._next_nonce()
        header = protected_header(content_type, len(plaintext))
        return header + self._aead.encrypt(nonce, plaintext, header), seq, nonce


class RecordOpener(_Direction):
    """Checks and decrypts incoming records under one read key and IV."""

    __slots__ = ()

    def open(self, header: bytes, fragment: bytes) -> tuple[bytes, int, bytes]:
        """Decrypt one record whose header already passed the §1 checks.

        Args:
            header: The 5 header bytes as received (the AAD).
            fragment: Ciphertext followed by the 16-byte tag.

        Returns:
            ``(plaintext, seq, nonce)``.

        Raises:
            ToyTLSError: ``bad_record_mac`` if the record does not decrypt
                (changed bytes, a short tag, a wrong sequence number); an
                error without an alert if the sequence numbers ran out.
        """
        seq, nonce = self._next_nonce()
        if len(fragment) < TAG_SIZE:
            raise ToyTLSError(
                f"protected record of {len(fragment)} bytes is shorter than its tag",
                alert=AlertDescription.BAD_RECORD_MAC,
            )
        try:
            plaintext = self._aead.decrypt(nonce, fragment, header)
        except InvalidTag:
            raise ToyTLSError(
                f"record {seq} failed to decrypt: it was changed, replayed, "
                "reordered or sealed under other keys",
                alert=AlertDescription.BAD_RECORD_MAC,
            ) from None
        return plaintext, seq, nonce
