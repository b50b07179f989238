"""AES-128-GCM record protection with implicit sequence numbers (§3.4).

One :class:`RecordSealer` per write direction and one :class:`RecordOpener`
per read direction; each builds its ``AESGCM`` object on first use and keeps
it. An ``AESGCM`` holds about 2.4 KB of OpenSSL state, four per connection
pair, so the connection lets go of them when the handshake completes
(:meth:`_Direction.rest`): an idle connection holds only the 16-byte keys,
and one that carries data builds each again once, for about 1 µs. The sequence
number is never sent: it is counted on both sides, so a replayed, dropped,
reordered or reflected record is sealed under another nonce and fails to
open.
"""

from __future__ import annotations

import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .constants import MAX_SEQ, PROTOCOL_VERSION, TAG_SIZE, AlertDescription
from .errors import ToyTLSError


def record_nonce(iv: bytes, seq: int) -> bytes:
    """Return ``iv XOR (0x00000000 ‖ seq as 8 bytes)``."""
    return (int.from_bytes(iv, "big") ^ seq).to_bytes(12, "big")


_HEADER = struct.Struct(">BHH")


def _exhausted() -> ToyTLSError:
    # §3.4: close rather than wrap. No alert: it would need a seq too.
    return ToyTLSError(
        "sequence numbers exhausted; the connection must close",
        alert=None,
        key="record.seq_exhausted",
    )


class _Direction:
    __slots__ = ("_aead", "_iv_int", "_key", "seq")

    def __init__(self, key: bytes, iv: bytes) -> None:
        self._key = key
        #: made on first use, dropped by :meth:`rest`
        self._aead: AESGCM | None = None
        self._iv_int = int.from_bytes(iv, "big")
        #: the sequence number of the next record in this direction
        self.seq = 0

    def rest(self) -> None:
        """Drop the ``AESGCM`` object (about 2.4 KB); the next record builds it again."""
        self._aead = None


class RecordSealer(_Direction):
    """Protects outgoing records under one write key and IV."""

    __slots__ = ()

    def seal(
        self, content_type: int, plaintext: bytes | bytearray | memoryview
    ) -> tuple[bytes, int, bytes]:
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
        out: list[bytes] = []
        seq, nonce = self.seal_into(out, content_type, plaintext)
        return b"".join(out), seq, nonce

    def seal_into(
        self, out: list[bytes], content_type: int, plaintext: bytes | bytearray | memoryview
    ) -> tuple[int, bytes]:
        """Protect one record and append it to ``out`` as header and body.

        The pieces are joined once, when the caller sends them, so the
        ciphertext is never copied just to put a header in front of it.

        Returns:
            ``(seq, nonce)`` the record was sealed under.

        Raises:
            ToyTLSError: The sequence number would wrap (no alert); ``out``
                is then unchanged.
        """
        seq = self.seq
        if seq > MAX_SEQ:
            raise _exhausted()
        self.seq = seq + 1
        nonce = (self._iv_int ^ seq).to_bytes(12, "big")
        header = _HEADER.pack(content_type, PROTOCOL_VERSION, len(plaintext) + TAG_SIZE)
        aead = self._aead
        if aead is None:
            aead = self._aead = AESGCM(self._key)
        out.append(header)
        out.append(aead.encrypt(nonce, plaintext, header))
        return seq, nonce


class RecordOpener(_Direction):
    """Checks and decrypts incoming records under one read key and IV."""

    __slots__ = ()

    def open(self, header: bytes, fragment: bytes | memoryview) -> tuple[bytes, int, bytes]:
        """Decrypt one record whose header already passed the §1 checks.

        Args:
            header: The 5 header bytes as received (the AAD).
            fragment: Ciphertext followed by the 16-byte tag.

        Returns:
            ``(plaintext, seq, nonce)``.

        Raises:
            ToyTLSError: As :meth:`open_data`.
        """
        seq = self.seq
        plaintext = self.open_data(header, fragment)
        return plaintext, seq, (self._iv_int ^ seq).to_bytes(12, "big")

    def open_data(self, header: bytes, fragment: bytes | memoryview) -> bytes:
        """:meth:`open`, returning the plaintext alone (the data path's).

        Raises:
            ToyTLSError: ``bad_record_mac`` if the record does not decrypt
                (changed bytes, a short tag, a wrong sequence number); an
                error without an alert if the sequence numbers ran out.
        """
        seq = self.seq
        if seq > MAX_SEQ:
            raise _exhausted()
        self.seq = seq + 1
        if len(fragment) < TAG_SIZE:
            raise ToyTLSError(
                f"protected record of {len(fragment)} bytes is shorter than its tag",
                alert=AlertDescription.BAD_RECORD_MAC,
                key="record.shorter_than_tag",
                params={"n": len(fragment)},
            )
        aead = self._aead
        if aead is None:
            aead = self._aead = AESGCM(self._key)
        try:
            return aead.decrypt((self._iv_int ^ seq).to_bytes(12, "big"), fragment, header)
        except InvalidTag:
            raise ToyTLSError(
                f"record {seq} failed to decrypt: it was changed, replayed, "
                "reordered or sealed under other keys",
                alert=AlertDescription.BAD_RECORD_MAC,
                key="record.bad_mac",
                params={"seq": seq},
            ) from None
