"""Turn connection events into the article's story, one short line each.

Narration reads the same :mod:`toytls.events` the stream produces and
returns text; it never prints (only the CLI does). The names are the
article's: the CA's key pair A+/A−, the server's key pair B+/B−, the session
key X, and for each certificate the digest S (computed over its signed
part) and the digest T (recovered from the signature with the issuer's
public key).
"""

from __future__ import annotations

from . import events as ev
from .constants import AlertLevel, alert_name
from .messages import Certificate, ClientHello, ClientKeyExchange, Finished, ServerHello


def short_hex(data: bytes, length: int = 8) -> str:
    """The first ``length`` bytes of ``data`` in hex, with an ellipsis if cut."""
    text = data[:length].hex()
    return text + "…" if len(data) > length else text


def _message_line(message: object, arrow: str) -> str:
    if isinstance(message, ClientHello):
        return (
            f"{arrow} ClientHello: random {short_hex(message.random)}, "
            f"asks for {message.server_name!r}"
        )
    if isinstance(message, ServerHello):
        return f"{arrow} ServerHello: random {short_hex(message.random)}"
    if isinstance(message, Certificate):
        sizes = ", ".join(f"{len(c)} B" for c in message.certificates)
        return f"{arrow} Certificate: {len(message.certificates)} certificates ({sizes})"
    if isinstance(message, ClientKeyExchange):
        return (
            f"{arrow} ClientKeyExchange: key X encrypted with the server's public "
            f"key B+ ({len(message.encrypted_secret)} B, {short_hex(message.encrypted_secret)})"
        )
    if isinstance(message, Finished):
        return f"{arrow} {{Finished}}: MAC over the transcript {short_hex(message.verify_data)}"
    return f"{arrow} handshake message {getattr(message, 'msg_type', '?')}"


def describe(event: ev.Event) -> list[str]:
    """Lines that tell what ``event`` means, in the article's terms.

    Returns an empty list for events not worth a line (trace records,
    application data — the caller shows those its own way).
    """
    if isinstance(event, ev.HandshakeMessageSent):
        return [_message_line(event.message, "sent    ")]
    if isinstance(event, ev.HandshakeMessageReceived):
        return [_message_line(event.message, "received")]
    if isinstance(event, ev.CertificateChecked):
        link = event.link
        verdict = "T = S, signature valid" if link.signature_valid else "T ≠ S, SIGNATURE INVALID"
        if not link.issuer_found:
            verdict = "issuer unknown: no trusted key to check the signature with"
        t_text = short_hex(link.digest_t) if link.digest_t is not None else "—"
        return [
            f"  check  {link.subject}",
            f"         issued by {link.issuer}",
            f"         S = {short_hex(link.digest_s)}  T = {t_text}  → {verdict}",
        ]
    if isinstance(event, ev.ChainVerified):
        return [f"  trusted: {' → '.join(event.path)}; the name {event.server_name!r} matches"]
    if isinstance(event, ev.VerificationSkipped):
        return ["  !! certificate NOT checked (no-verification mode): the key B+ could be anyone's"]
    if isinstance(event, ev.KeysDerived):
        return [
            f"  key X (session secret) {short_hex(event.secret, 6)} → "
            f"AES-128-GCM keys {short_hex(event.schedule.client_write_key, 4)} (client), "
            f"{short_hex(event.schedule.server_write_key, 4)} (server)"
        ]
    if isinstance(event, ev.HandshakeComplete):
        return [
            "  handshake complete: both sides hold the same key X "
            f"(fingerprint {event.session.session_key_fingerprint})"
        ]
    if isinstance(event, ev.AlertSent):
        return [f"sent     alert {event.description.name.lower()}"]
    if isinstance(event, ev.AlertReceived):
        level = "warning" if event.level == AlertLevel.WARNING else "fatal"
        return [f"received alert {alert_name(event.description)} ({level})"]
    if isinstance(event, ev.CloseNotifyReceived):
        return ["  the peer has finished sending (close_notify)"]
    if isinstance(event, ev.ConnectionFailed):
        return [f"  connection failed: {event.error}"]
    return []
