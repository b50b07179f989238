"""toytls/1 on the wire, built and split from ``PROTOCOL.md`` alone.

Record headers (§1), handshake framing (§2), the key schedule (§3.3) and
AES-128-GCM record protection with ``iv XOR seq`` (§3.4) are written out
here with plain numbers and ``cryptography``'s primitives — never with
toytls's own encoders, parsers or key schedule — so a bug in
:mod:`toytls.core.records` (or anywhere else in the core) cannot hide itself
by building the very bytes it then accepts. Every test that needs bytes of
its own (the hostile peers of :mod:`hostile`, the in-memory alert table, the
record reader's tests) builds them here.

Nothing here checks or raises the way the implementation does: the builders
build anything, including what the spec forbids (any type, version or
length), and the splitters assert only what the tests rely on.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# §1 content types, §2 message types, §5 alert levels, as plain numbers.
ALERT, HANDSHAKE, APPLICATION_DATA = 21, 22, 23
CLIENT_HELLO, SERVER_HELLO, CERTIFICATE, CLIENT_KEY_EXCHANGE, FINISHED = 1, 2, 11, 16, 20
WARNING, FATAL = 1, 2
VERSION = 0x0100
TAG = 16
MAX_PLAIN = 16384
MAX_PROTECTED = MAX_PLAIN + TAG

# §5 alert codes.
CLOSE_NOTIFY = 0
UNEXPECTED_MESSAGE = 10
BAD_RECORD_MAC = 20
RECORD_OVERFLOW = 22
BAD_CERTIFICATE = 42
CERTIFICATE_EXPIRED = 45
ILLEGAL_PARAMETER = 47
UNKNOWN_CA = 48
DECODE_ERROR = 50
DECRYPT_ERROR = 51
PROTOCOL_VERSION = 70

#: §5's names, as the logs and JSON events spell them.
ALERT_NAMES = {
    CLOSE_NOTIFY: "close_notify",
    UNEXPECTED_MESSAGE: "unexpected_message",
    BAD_RECORD_MAC: "bad_record_mac",
    RECORD_OVERFLOW: "record_overflow",
    BAD_CERTIFICATE: "bad_certificate",
    CERTIFICATE_EXPIRED: "certificate_expired",
    ILLEGAL_PARAMETER: "illegal_parameter",
    UNKNOWN_CA: "unknown_ca",
    DECODE_ERROR: "decode_error",
    DECRYPT_ERROR: "decrypt_error",
    PROTOCOL_VERSION: "protocol_version",
}

# ----------------------------------------------------------------- building


def header(content_type: int, length: int, *, version: int = VERSION) -> bytes:
    """A §1 record header with any type, version and length."""
    return bytes((content_type,)) + version.to_bytes(2, "big") + length.to_bytes(2, "big")


def record(content_type: int, fragment: bytes, *, version: int = VERSION) -> bytes:
    """An unprotected record as §1 lays it out, with any content type and version."""
    return header(content_type, len(fragment), version=version) + fragment


def vector(data: bytes, size: int) -> bytes:
    """``data`` behind a ``size``-byte length."""
    return len(data).to_bytes(size, "big") + data


def message(msg_type: int, body: bytes, *, length: int | None = None) -> bytes:
    """``msg_type ‖ uint24 length ‖ body`` (§2); ``length`` overrides the field."""
    return bytes((msg_type,)) + (len(body) if length is None else length).to_bytes(3, "big") + body


def client_hello_body(random: bytes, name: bytes) -> bytes:
    """``random[32] ‖ server_name<1..253>`` (§2)."""
    return random + vector(name, 1)


def certificate_body(ders: Sequence[bytes]) -> bytes:
    """``certificate_list<1..2^24-1>`` of ``ASN.1Cert<1..2^24-1>`` (§2)."""
    return vector(b"".join(vector(der, 3) for der in ders), 3)


def flip(data: bytes, index: int, bit: int = 0x01) -> bytes:
    """``data`` with one bit of byte ``index`` (negative counts from the end) flipped."""
    index %= len(data)
    return data[:index] + bytes((data[index] ^ bit,)) + data[index + 1 :]


# ---------------------------------------------------------------- splitting


def split_records(data: bytes) -> list[tuple[int, bytes]]:
    """Split wire bytes into ``(content_type, fragment)``.

    Every byte must belong to a whole record with version 1.0.
    """
    records = []
    while data:
        assert len(data) >= 5, data
        assert data[1:3] == b"\x01\x00", data[:5]
        length = int.from_bytes(data[3:5], "big")
        assert len(data) >= 5 + length, (len(data), length)
        records.append((data[0], data[5 : 5 + length]))
        data = data[5 + length :]
    return records


def wire_records(data: bytes) -> list[bytes]:
    """Split wire bytes into whole records (header and fragment), as :func:`split_records`."""
    return [record(content_type, fragment) for content_type, fragment in split_records(data)]


def split_wire(data: bytes) -> list[bytes]:
    """Split bytes into records by their length fields alone, whatever the
    type and version (for sending records that break other rules)."""
    out = []
    while data:
        length = int.from_bytes(data[3:5], "big")
        out.append(data[: 5 + length])
        data = data[5 + length :]
    return out


# ------------------------------------------------------------- the keys (§3)


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    """HMAC-SHA256, the one primitive of §3.3's HKDF and Finished."""
    return hmac.new(key, data, hashlib.sha256).digest()


@dataclass(frozen=True)
class Keys:
    """Every value of §3.3, derived here from the spec's formulas."""

    th: bytes
    client_key: bytes
    server_key: bytes
    client_iv: bytes
    server_iv: bytes
    client_finished: bytes
    server_finished: bytes


def derive_keys(*, secret: bytes, client_random: bytes, server_random: bytes, th: bytes) -> Keys:
    """HKDF-SHA256 (RFC 5869) written out: Extract once, one Expand block each."""
    master = hmac_sha256(client_random + server_random, secret)

    def derive(label: str, length: int) -> bytes:
        return hmac_sha256(master, label.encode("ascii") + b"\x00" + th + b"\x01")[:length]

    return Keys(
        th=th,
        client_key=derive("client key", 16),
        server_key=derive("server key", 16),
        client_iv=derive("client iv", 12),
        server_iv=derive("server iv", 12),
        client_finished=derive("client finished", 32),
        server_finished=derive("server finished", 32),
    )


def oaep(public_key: rsa.RSAPublicKey, plaintext: bytes, *, hash_name: str = "sha256") -> bytes:
    """RSA-OAEP with ``hash_name`` for both the hash and MGF1, no label."""
    algorithm: hashes.HashAlgorithm = hashes.SHA256() if hash_name == "sha256" else hashes.SHA1()
    return public_key.encrypt(
        plaintext, padding.OAEP(mgf=padding.MGF1(algorithm), algorithm=algorithm, label=None)
    )


def modulus_bytes(public_key: rsa.RSAPublicKey) -> int:
    """The size of an RSA modulus in bytes: the one valid encrypted_secret length."""
    return (public_key.key_size + 7) // 8


# -------------------------------------------------- record protection (§3.4)


def nonce(iv: bytes, seq: int) -> bytes:
    """The per-record nonce: ``iv XOR seq`` (seq as a 96-bit big-endian number)."""
    return (int.from_bytes(iv, "big") ^ seq).to_bytes(12, "big")


def seal(key: bytes, iv: bytes, seq: int, content_type: int, plaintext: bytes) -> bytes:
    """A whole protected record: the header (length + 16) is the associated data."""
    head = header(content_type, len(plaintext) + TAG)
    return head + AESGCM(key).encrypt(nonce(iv, seq), plaintext, head)


class Direction:
    """One direction's AES-128-GCM key, IV and implicit sequence number."""

    def __init__(self, key: bytes, iv: bytes) -> None:
        self.aead = AESGCM(key)
        self.iv = iv
        self.seq = 0
        #: every nonce used so far, in order
        self.nonces: list[bytes] = []

    def nonce(self, seq: int) -> bytes:
        return nonce(self.iv, seq)

    def seal(self, content_type: int, plaintext: bytes) -> bytes:
        """A whole protected record at the next sequence number."""
        used = self.nonce(self.seq)
        self.seq += 1
        self.nonces.append(used)
        head = header(content_type, len(plaintext) + TAG)
        return head + self.aead.encrypt(used, plaintext, head)

    def open(self, head: bytes, fragment: bytes) -> bytes | None:
        """Decrypt the record at the next sequence number; None if it fails."""
        used = self.nonce(self.seq)
        self.seq += 1
        self.nonces.append(used)
        if len(fragment) < TAG:
            return None
        try:
            return self.aead.decrypt(used, fragment, head)
        except InvalidTag:
            return None
