"""What the attacker in the middle sends: the forged chains and changed records.

Pure functions over bytes and certificates, no I/O: the ``toytls proxy``
command and the demo use them, and tests check them directly. Each mode is
one of the article's attacks.
"""

from __future__ import annotations

import enum

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..core.constants import ContentType, HandshakeType
from ..core.errors import ToyTLSError
from ..core.messages import Certificate, encode_message, parse_message
from ..core.records import RawRecord, encode_record
from ..pki.generate import AttackerKit, make_leaf
from .tamper import swap_public_key, tamper_subject


class Mode(enum.Enum):
    """The proxy's modes; the value is the command-line name."""

    #: relay and decode every record (and read plaintext when there is no TLS)
    WATCH = "watch"
    #: 偷梁换柱: the real certificate with the attacker's public key inside
    SWAP_KEY = "swap-key"
    #: change the subject's name inside the signed part and forward it
    TAMPER_CERT = "tamper-cert"
    #: 证书调包: the attacker's own genuine certificate, for attacker.test
    SWAP_CERT = "swap-cert"
    #: a certificate for the server's name, signed by the attacker himself
    SELF_SIGNED = "self-signed"
    #: mitmproxy's way: a certificate for the name, from the attacker's own root
    OWN_CA = "own-ca"
    #: flip one bit of an application-data record
    FLIP = "flip"
    #: send an application-data record a second time
    REPLAY = "replay"
    #: cut the connection after some data, without close_notify
    TRUNCATE = "truncate"

    @property
    def is_man_in_the_middle(self) -> bool:
        """True for the modes that terminate toytls with the attacker's key."""
        return self in _MITM


_MITM = frozenset({Mode.SWAP_KEY, Mode.SWAP_CERT, Mode.SELF_SIGNED, Mode.OWN_CA})

#: One line per mode for --help and the narration, in the article's terms.
DESCRIPTIONS: dict[Mode, str] = {
    Mode.WATCH: "only watch: relay and decode every record",
    Mode.SWAP_KEY: "偷梁换柱: keep the real certificate, put the attacker's public key M+ in it",
    Mode.TAMPER_CERT: "change the subject's name in the signed part of the certificate",
    Mode.SWAP_CERT: "证书调包: present the attacker's own genuine certificate (attacker.test)",
    Mode.SELF_SIGNED: "present a certificate for the server's name, signed by the attacker",
    Mode.OWN_CA: "issue a certificate for the name from the attacker's own root CA",
    Mode.FLIP: "flip one bit of an application-data record",
    Mode.REPLAY: "send an application-data record a second time",
    Mode.TRUNCATE: "cut the connection after some data, without close_notify",
}


def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def forged_chain(
    mode: Mode, kit: AttackerKit, real_chain: tuple[bytes, ...], server_name: str
) -> tuple[bytes, ...]:
    """The chain the attacker presents to the client in a man-in-the-middle mode.

    Every chain carries the attacker's public key, so that if the client
    accepts it, the attacker can decrypt key X with his own private key.

    Args:
        mode: One of the man-in-the-middle modes.
        kit: The attacker's material.
        real_chain: What the real server sent (leaf first).
        server_name: The name the client asked for.

    Raises:
        ValueError: Not a man-in-the-middle mode, or the real leaf cannot be
            rewritten.
    """
    intermediates = real_chain[1:]
    if mode is Mode.SWAP_KEY:
        return (swap_public_key(real_chain[0], kit.key.public_key()), *intermediates)
    if mode is Mode.SWAP_CERT:
        return (_der(kit.other_name), *intermediates)
    if mode is Mode.SELF_SIGNED:
        return (_der(make_leaf(None, [server_name], key=kit.key).certificate),)
    if mode is Mode.OWN_CA:
        return (_der(make_leaf(kit.root, [server_name], key=kit.key).certificate),)
    raise ValueError(f"{mode.value} is not a man-in-the-middle mode")


def tamper_certificate_record(record: RawRecord) -> bytes | None:
    """If ``record`` is an unprotected Certificate message, change its leaf.

    The subject's name in the leaf's signed part is altered (one letter),
    the signature is left alone, and the record is re-framed.

    Returns:
        The changed record, or None if this record is something else.
    """
    if record.content_type is not ContentType.HANDSHAKE or not record.fragment:
        return None
    if record.fragment[0] != HandshakeType.CERTIFICATE:
        return None
    try:
        message = parse_message(record.fragment)
    except ToyTLSError:
        return None
    if not isinstance(message, Certificate) or not message.certificates:
        return None
    try:
        leaf = tamper_subject(message.certificates[0])
    except ValueError:
        return None
    changed = Certificate(certificates=(leaf, *message.certificates[1:]))
    return encode_record(ContentType.HANDSHAKE, encode_message(changed))


def flip_bit(record: RawRecord) -> bytes:
    """The record with one bit of its ciphertext flipped (the middle byte)."""
    fragment = bytearray(record.fragment)
    if fragment:
        fragment[len(fragment) // 2] ^= 0x01
    return record.header + bytes(fragment)
