"""Turn connection events into the article's story, in English or Chinese.

Narration reads the same :mod:`toytls.core.events` the stream produces and
returns text; it never prints (only the CLI does). The names are the
article's: the CA's key pair A+/A−, the server's B+/B−, the session key X,
and for each certificate the digests S (computed over its signed part) and T
(recovered from the signature with the issuer's public key).

:class:`Narrator` tells a connection as the article's six steps: 1 the
client asks (ClientHello); 2 the server sends its digital certificate, which
carries B+ (ServerHello, Certificate); 3 the client checks each certificate
of the chain (T = S?) and whether it leads to a trusted root; 4 the client
makes key X and locks it with B+ (ClientKeyExchange); 5 the server unlocks X
with B−; 6 both use X (Finished, then application data). Each level keeps
every line of the one below, in order. :func:`describe` is the older
one-line-per-event narrator of ``toytls demo``.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping

from ..core import events as ev
from ..core.constants import AlertDescription, AlertLevel, ContentType, alert_name
from ..core.errors import CertificateVerifyError, ToyTLSError
from ..core.links import LinkCheck
from ..core.messages import (
    AnyMessage,
    Certificate,
    ClientHello,
    ClientKeyExchange,
    Finished,
    ServerHello,
)
from . import error_texts
from .error_texts import describe_error, describe_reason, lang_index
from .escape import printable
from .hexdump import der_subject
from .narration_texts import INDENT, TEXT

LANGUAGES = ("en", "zh")
ROLES = ("client", "server", "proxy")
#: 0 outcomes, 1 the six steps, 2 message fields and keys, 3 every record.
LEVELS = (0, 1, 2, 3)
#: Application data at level 2: this many bytes read as text, shown as at
#: most this many characters, and this many bytes in hex.
PREVIEW_BYTES = 192
PREVIEW_CHARS = 48
PREVIEW_HEX = 16

_CN = re.compile(r"(?:^|,)CN=((?:[^,\\]|\\.)*)")


def short_hex(data: bytes, length: int = 8) -> str:
    """The first ``length`` bytes of ``data`` in hex, with an ellipsis if cut."""
    text = data[:length].hex()
    return text + "…" if len(data) > length else text


# --- the words ------------------------------------------------------------------


def _check_lang(lang: str) -> int:
    return lang_index(lang)


def alert_meaning(code: int, lang: str = "en", *, fatal: bool = False) -> str:
    """One plain sentence on what an alert code (§5) means for a person.

    See :func:`toytls.story.error_texts.alert_meaning`.

    Raises:
        ValueError: An unknown ``lang``.
    """
    return error_texts.alert_meaning(code, lang, fatal=fatal)


def explain_error(error: ToyTLSError, lang: str = "en") -> str:
    """Say in one line what a connection error means, naming its alert.

    The same as :func:`~toytls.story.error_texts.describe_error`, kept under
    its older name.

    Raises:
        ValueError: An unknown ``lang``.
    """
    return describe_error(error, lang)


def _common_name(subject: str) -> str:
    """The CN of an RFC 4514 subject, or the whole subject without one."""
    match = _CN.search(subject)
    return match.group(1).replace("\\", "") if match else subject


# --- the narrator -----------------------------------------------------------------


class Narrator:
    """Tell one connection's events as the article's six steps.

    A narrator keeps a little state (which side it plays, whether key X was
    sent or received, how many certificates were sent), so feed it every
    event of a connection in order. The side is read again from each
    handshake message's direction, so one proxy narrator can follow both of
    the proxy's connections as long as each flight's events stay together.

    Args:
        lang: ``"en"`` or ``"zh"`` (the article's Chinese terms).
        level: 0 only outcomes (handshake complete, the verdict on the
            chain, alerts, failures, close); 1 the six steps; 2 also every
            message's fields and the derived keys; 3 also every record. Each
            level keeps every line of the one below, in the same order.
        role: Whose events these are: ``"client"``, ``"server"`` or
            ``"proxy"`` (a man in the middle, playing server to the victim
            and client to the real server).
        hand_roots: The roots a person added by hand (``--trust``), as
            SHA-256 of the DER (hex) → subject. A chain anchored at one of
            them is told as vouched for by that root, not by the built-in
            store.

    The client's story after step 3 depends on how the chain was accepted:
    against the built-in store (B+ is the server's), against a root added by
    hand (B+ is whoever that root vouches for), or not checked at all (B+
    belongs to whoever sent the certificate). The server tells only what it
    sent and received.

    Raises:
        ValueError: An unknown ``lang``, ``level`` or ``role``.
    """

    def __init__(
        self,
        *,
        lang: str = "en",
        level: int = 1,
        role: str = "client",
        hand_roots: Mapping[str, str] | None = None,
    ) -> None:
        self._lang = _check_lang(lang)
        if level not in LEVELS:
            raise ValueError(f"level must be 0, 1, 2 or 3, not {level!r}")
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        self.lang = lang
        self.level = level
        self.role = role
        #: the side this connection plays, "client" or "server", once known
        self._side: str | None = None if role == "proxy" else role
        self._sent_key_exchange = False
        self._chain_length: int | None = None
        self._hand_roots = dict(hand_roots or {})
        #: how the chain was accepted: "store", "hand", "unchecked" (None before)
        self._trust: str | None = None
        #: the root a chain added by hand is anchored at
        self._root = ""

    def describe(self, event: ev.Event) -> list[str]:
        """The lines that tell ``event`` at this narrator's level (maybe none)."""
        return [text for need, text in self._lines(event) if need <= self.level]

    # -------------------------------------------------------------- helpers

    def _say(self, key: str, **values: object) -> str:
        me = TEXT[self.role][self._lang]
        peer_role = "client" if self._side == "server" else "server"
        peer = TEXT[peer_role][self._lang]
        # A proxy playing server shows and unlocks with the attacker's own pair M+/M−.
        pub, priv = ("M+", "M−") if self.role == "proxy" else ("B+", "B−")
        return TEXT[key][self._lang].format(
            me=me, peer=peer, root=self._root, pub=pub, priv=priv, **values
        )

    def _told(self, key: str, **values: object) -> str:
        """``key`` as this side may say it, knowing how the chain was accepted.

        The client that checked nothing, or that trusts the root only because
        it was added by hand, says whose key B+ is as far as it knows; the
        server says what it alone can see.
        """
        if self._side == "server":
            return self._say(f"{key}_server", **values)
        if self.role == "proxy" and f"{key}_relay" in TEXT:
            # The attacker toward the real server passes the client's X on.
            return self._say(f"{key}_relay", **values)
        if self._trust in ("hand", "unchecked"):
            return self._say(f"{key}_{self._trust}", **values)
        return self._say(key, **values)

    def _lines(self, event: ev.Event) -> list[tuple[int, str]]:
        if isinstance(event, ev.HandshakeMessageSent | ev.HandshakeMessageReceived):
            return self._message(event.message, sent=isinstance(event, ev.HandshakeMessageSent))
        if isinstance(event, ev.CertificateChecked):
            return self._link(event.link)
        if isinstance(event, ev.ChainVerified):
            path = " → ".join(_common_name(s) for s in event.path)
            hand = event.root_sha256 is not None and event.root_sha256 in self._hand_roots
            self._trust = "hand" if hand else "store"
            if hand:
                self._root = _common_name(event.path[-1])
                return [(0, self._say("chain_ok_hand", path=path, name=event.server_name))]
            return [(0, self._say("chain_ok", path=path, name=event.server_name))]
        if isinstance(event, ev.VerificationSkipped):
            self._trust = "unchecked"
            return [(0, self._say("skipped_relay" if self.role == "proxy" else "skipped"))]
        if isinstance(event, ev.KeysDerived):
            return self._keys(event)
        if isinstance(event, ev.HandshakeComplete):
            return self._complete(event.session)
        if isinstance(event, ev.ApplicationData):
            return [
                (1, self._say("data_received", n=len(event.data))),
                (2, self._preview(event.data)),
            ]
        if isinstance(event, ev.CloseNotifyReceived):
            return [(0, self._say("close_received"))]
        if isinstance(event, ev.AlertSent | ev.AlertReceived):
            return self._alert(event)
        if isinstance(event, ev.RecordSent | ev.RecordReceived):
            return self._record(event)
        return self._failed(event.error)

    def _message(self, message: AnyMessage, *, sent: bool) -> list[tuple[int, str]]:
        if isinstance(message, ClientHello | ServerHello | Certificate | ClientKeyExchange):
            # Who sends it tells the side (a proxy plays both, one per connection).
            by_client = isinstance(message, ClientHello | ClientKeyExchange)
            self._side = "client" if by_client == sent else "server"
        way = "sent" if sent else "received"
        fields = [(2, f"{INDENT}{name} = {value}") for name, value in self._fields(message)]
        if isinstance(message, ClientHello):
            return [(1, self._say(f"hello_{way}", name=message.server_name)), *fields]
        if isinstance(message, ServerHello):
            return [(1, self._say(f"server_hello_{way}")), *fields]
        if isinstance(message, Certificate):
            self._chain_length = len(message.certificates)
            names = " ← ".join(_der_name(der) for der in message.certificates)
            lines = [(1, self._say(f"certificate_{way}", names=names)), *fields]
            if sent:
                lines.append((1, self._say("peer_may_check")))
            return lines
        if isinstance(message, ClientKeyExchange):
            self._sent_key_exchange = sent
            key = f"cke_{way}"
            return [(1, self._told(key) if sent else self._say(key)), *fields]
        if isinstance(message, Finished):
            if sent:
                return [(1, self._say("finished_sent")), *fields]
            return [(1, self._told("finished_received")), *fields]
        # Never emitted in practice: an unknown message fails before its event.
        return [(1, f"{INDENT}{way}: {message.msg_type}"), *fields]

    def _link(self, link: LinkCheck) -> list[tuple[int, str]]:
        full_t = "—" if link.digest_t is None else link.digest_t.hex()
        details = [(2, f"{INDENT}S = {link.digest_s.hex()}"), (2, f"{INDENT}T = {full_t}")]
        if self._chain_length is not None and link.index >= self._chain_length:
            # The anchor from the client's own store: trusted for being there.
            by_hand = link.subject in self._hand_roots.values()
            kind = self._say("kind_hand_root" if by_hand else "kind_store_root")
            return [
                (1, self._say("link", index=link.index, kind=kind, subject=link.subject)),
                (1, self._say("anchor_hand" if by_hand else "anchor_store")),
                *details,
            ]
        if link.index == 0:
            kind = self._say("kind_leaf")
        elif link.subject == link.issuer:
            kind = self._say("kind_root")
        else:
            kind = self._say("kind_intermediate")
        ca = _common_name(link.issuer)
        if not link.issuer_found:
            digest_t = self._say("digest_t_no_key", ca=ca)
            verdict = "issuer_unknown"
        else:
            t_text = "—" if link.digest_t is None else short_hex(link.digest_t)
            digest_t = self._say("digest_t", t=t_text, ca=ca)
            if link.digest_t is None:
                verdict = "t_unrecoverable"
            elif link.digest_t != link.digest_s:
                verdict = "t_not_s"
            elif not link.signature_valid:
                verdict = "t_but_invalid"
            else:
                verdict = "t_equals_s_self" if link.subject == link.issuer else "t_equals_s"
        return [
            (1, self._say("link", index=link.index, kind=kind, subject=link.subject)),
            (1, self._say("issued_by", issuer=link.issuer)),
            (1, self._say("digest_s", s=short_hex(link.digest_s))),
            (1, digest_t),
            (1, self._say(verdict)),
            *details,
        ]

    def _keys(self, event: ev.KeysDerived) -> list[tuple[int, str]]:
        schedule = event.schedule
        values = [
            (2, f"{INDENT}key X = {short_hex(event.secret, 16)}"),
            (2, f"{INDENT}master = {short_hex(schedule.master)}"),
            (2, f"{INDENT}th = TH(ClientKeyExchange) = {short_hex(schedule.th)}"),
        ]
        for name in ("write_key", "write_iv", "finished"):
            for side in ("client", "server"):
                value: bytes = getattr(schedule, f"{side}_{name}")
                values.append((2, f"{INDENT}{side}_{name} = {short_hex(value)}"))
        if self._sent_key_exchange:
            return [(1, self._say("keys_client")), *values, (1, self._told("peer_unlocks"))]
        return [(1, self._say("keys_server")), *values]

    def _complete(self, session: ev.SessionInfo) -> list[tuple[int, str]]:
        lines = [
            (0, self._told("complete", fp=session.session_key_fingerprint)),
            (
                2,
                self._say(
                    "session_details",
                    protocol=session.protocol,
                    cipher=session.cipher,
                    name=session.server_name,
                    verified=session.verified,
                    checked=TEXT["checked" if session.verified else "unchecked"][self._lang],
                ),
            ),
        ]
        for index, fingerprint in enumerate(session.certificate_fingerprints):
            lines.append((2, self._say("fingerprint", index=index, fp=fingerprint[:16])))
        return lines

    def _alert(self, event: ev.AlertSent | ev.AlertReceived) -> list[tuple[int, str]]:
        sent = isinstance(event, ev.AlertSent)
        text = self._say(
            "alert_sent" if sent else "alert_received",
            alert=alert_name(event.description),
            level=(("warning", "警告") if event.level == AlertLevel.WARNING else ("fatal", "致命"))[
                self._lang
            ],
            meaning=alert_meaning(
                event.description, self.lang, fatal=event.level == AlertLevel.FATAL
            ),
        )
        is_close = (event.level, event.description) == (AlertLevel.WARNING, 0)
        if sent and not is_close:
            # This side is failing: the "connection failed" line that follows
            # says why, once; the alert itself is a detail.
            return [(2, self._say("alert_sent_bare", alert=alert_name(event.description)))]
        if not is_close:
            return [(0, text)]
        # A close_notify is told as a close; the alert itself is a detail.
        return [(0, self._say("close_sent")), (2, text)] if sent else [(2, text)]

    def _record(self, event: ev.RecordSent | ev.RecordReceived) -> list[tuple[int, str]]:
        sent = isinstance(event, ev.RecordSent)
        values: dict[str, object] = {
            "type": event.content_type.name.lower(),
            "code": int(event.content_type),
            "n": len(event.record),
        }
        if event.seq is None or event.nonce is None:
            kind = self._say("record_plain", **values)
        else:
            kind = self._say("record_protected", seq=event.seq, nonce=event.nonce.hex(), **values)
        lines = [(3, self._say("record_sent" if sent else "record_received", kind=kind))]
        if sent and event.content_type is ContentType.APPLICATION_DATA and event.plaintext:
            lines.insert(0, (1, self._say("data_sent", n=len(event.plaintext))))
            lines.insert(1, (2, self._preview(event.plaintext)))
        return lines

    def _failed(self, error: ToyTLSError) -> list[tuple[int, str]]:
        if isinstance(error, CertificateVerifyError):
            reason = describe_reason(error, self.lang)
            return [(0, self._say("chain_rejected", alert=error.alert_name, reason=reason))]
        if error.from_peer and error.alert != AlertDescription.CLOSE_NOTIFY:
            # The AlertReceived line just before has told what the alert means.
            return [(0, self._say("failed_by_peer", alert=error.alert_name))]
        return [(0, self._say("failed", why=describe_error(error, self.lang)))]

    def _preview(self, data: bytes) -> str:
        """``data = “text” (hex)`` for level 2: the text if it is UTF-8, and its bytes."""
        text = _utf8_head(data[:PREVIEW_BYTES])
        head = " ".join(f"{b:02x}" for b in data[:PREVIEW_HEX])
        if len(data) > PREVIEW_HEX:
            head = self._say("hex_cut", hex=head, n=len(data))
        if not text:  # not UTF-8, or not one whole character of it (or empty)
            return f"{INDENT}data = {head}"
        if len(text) > PREVIEW_CHARS or len(data) > PREVIEW_BYTES:
            text = text[:PREVIEW_CHARS] + "…"
        return self._say("data_preview", text=printable(text), hex=head)

    def _fields(self, message: AnyMessage) -> list[tuple[str, str]]:
        """The fields of a handshake message, short, for level 2."""
        if isinstance(message, ClientHello):
            name = repr(message.server_name)
            return [("random", short_hex(message.random)), ("server_name", name)]
        if isinstance(message, ServerHello):
            return [("random", short_hex(message.random))]
        if isinstance(message, Certificate):
            not_one = TEXT["not_a_certificate"][self._lang]
            return [
                (f"cert_data[{i}]", f"{len(der)} B, {der_subject(der) or not_one}")
                for i, der in enumerate(message.certificates)
            ]
        if isinstance(message, ClientKeyExchange):
            secret = message.encrypted_secret
            return [("encrypted_secret", f"{len(secret)} B, {short_hex(secret)}")]
        if isinstance(message, Finished):
            return [("verify_data", short_hex(message.verify_data))]
        return [("body", f"{len(message.body)} B, {short_hex(message.body)}")]


def _der_name(der: bytes) -> str:
    subject = der_subject(der)
    return "?" if subject is None else _common_name(subject)


def _utf8_head(data: bytes) -> str | None:
    """``data`` as text if it is UTF-8 (a character cut at its end allowed), else None."""
    try:
        return codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
    except UnicodeDecodeError:
        return None
