"""An annotated byte dump of one record, in the style of "The Illustrated TLS".

Each line shows an offset, up to 16 bytes in hex, and what those bytes are:
the record header (§1), the handshake message and its fields (§2), an
alert's level and description (§5), or for a protected record (§3.4) the
ciphertext and the 16-byte tag — and, when the caller has the plaintext, the
decrypted content annotated the same way below it.

:func:`annotate_record` never raises on any bytes: what does not parse is
shown and marked ``(malformed)``, and the dump goes on as far as it can.
It returns lines; it never prints.
"""

from __future__ import annotations

from collections.abc import Callable

from ..core.constants import (
    HANDSHAKE_HEADER_SIZE,
    PROTOCOL_VERSION,
    RANDOM_SIZE,
    TAG_SIZE,
    VERIFY_DATA_SIZE,
    AlertLevel,
    ContentType,
    HandshakeType,
    alert_name,
)
from .error_texts import lang_index
from .hexdump_texts import HEXDUMP_TEXT

#: Bytes per line of hex.
WIDTH = 16
#: Fields longer than this are shown as their head, a "… N bytes …" line and
#: their tail.
ELIDE_OVER = 96
_HEAD = 32
_TAIL = 16
_HEX_COLUMN = WIDTH * 3 - 1
_MESSAGE_NAMES: dict[int, str] = {
    HandshakeType.CLIENT_HELLO: "ClientHello",
    HandshakeType.SERVER_HELLO: "ServerHello",
    HandshakeType.CERTIFICATE: "Certificate",
    HandshakeType.CLIENT_KEY_EXCHANGE: "ClientKeyExchange",
    HandshakeType.FINISHED: "Finished",
}


def der_subject(der: bytes) -> str | None:
    """The subject of a DER certificate (RFC 4514), or None if it does not parse."""
    import warnings

    from cryptography import x509

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return x509.load_der_x509_certificate(der).subject.rfc4514_string()
        except Exception:  # any bytes at all may arrive here: "not a certificate"
            return None


def _printable(data: bytes) -> str:
    return "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in data)


class _Dump:
    """A cursor over ``data`` that writes one annotated line per field row.

    ``base`` is the offset of ``data[0]`` in the bytes being dumped, so that
    nested structures keep the outer offsets; ``which`` is the language of
    the notes (0 English, 1 Chinese).
    """

    def __init__(self, data: bytes, base: int, lines: list[str], which: int = 0) -> None:
        self.data = data
        self.base = base
        self.pos = 0
        self.lines = lines
        self.which = which

    def say(self, key: str, **values: object) -> str:
        """The note ``key`` in this dump's language."""
        return HEXDUMP_TEXT[key][self.which].format(**values)

    def inner(self, data: bytes, base: int) -> _Dump:
        """A cursor over ``data`` (at offset ``base``) that writes to the same lines."""
        return _Dump(data, base, self.lines, self.which)

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos

    def note(self, text: str) -> None:
        """A line with no bytes of its own."""
        self.lines.append(f"{'':4}  {'':<{_HEX_COLUMN}}  {text}".rstrip())

    def _row(self, offset: int, chunk: bytes, text: str) -> None:
        hex_text = " ".join(f"{b:02x}" for b in chunk)
        self.lines.append(f"{self.base + offset:04x}  {hex_text:<{_HEX_COLUMN}}  {text}".rstrip())

    def emit(self, chunk: bytes, text: str, *, ascii_text: bool = False) -> None:
        """Show ``chunk`` (which starts at the cursor) and move past it."""
        start = self.pos
        rows = list(range(0, len(chunk), WIDTH))
        elided: tuple[int, int] | None = None
        if len(chunk) > ELIDE_OVER:
            tail = len(chunk) - _TAIL - (len(chunk) - _TAIL) % WIDTH
            elided = (_HEAD, tail)
            rows = [r for r in rows if r < _HEAD or r >= tail]
        if not chunk:
            self._row(start, b"", text)
        for row in rows:
            if elided is not None and row == elided[1]:
                skipped = elided[1] - elided[0]
                elided_note = self.say("elided", n=skipped)
                self.lines.append(f"{self.base + start + elided[0]:04x}  {elided_note}")
            piece = chunk[row : row + WIDTH]
            label = text if row == 0 else ""
            if ascii_text:
                label = f"{label}  |{_printable(piece)}|".strip()
            self._row(start + row, piece, label)
        self.pos += len(chunk)

    def take(self, size: int, what: str) -> bytes | None:
        """The next ``size`` bytes, or None (the rest marked malformed)."""
        if size > self.remaining:
            self.rest(self.say("needs", what=what, size=size, left=self.remaining))
            return None
        return self.data[self.pos : self.pos + size]

    def uint(self, size: int, name: str, explain: Callable[[int], str] | None = None) -> int | None:
        """Read and show a big-endian integer field."""
        raw = self.take(size, name)
        if raw is None:
            return None
        value = int.from_bytes(raw, "big")
        if explain is None:
            self.emit(raw, self.say("value", name=name, value=value))
        else:
            self.emit(raw, self.say("value_note", name=name, value=value, note=explain(value)))
        return value

    def fixed(self, size: int, name: str, *, ascii_text: bool = False) -> bytes | None:
        """Read and show a fixed-size field."""
        raw = self.take(size, name)
        if raw is not None:
            self.emit(raw, self.say("sized", name=name, size=size), ascii_text=ascii_text)
        return raw

    def vector(
        self, length_size: int, name: str, label: str | None = None, note: str | None = None
    ) -> tuple[int, _Dump] | None:
        """Read a length-prefixed field; return its length and a cursor over it.

        The inner cursor covers only the bytes present; a length that points
        past the end is marked malformed (the bytes that are there are kept).
        ``label`` names the length field (default ``"<name> length"``) and
        ``note`` is shown after its value.
        """
        explain = None if note is None else (lambda _: note)
        length = self.uint(length_size, label or self.say("length_of", name=name), explain)
        if length is None:
            return None
        if length > self.remaining:
            self.note(self.say("past_end", name=name, length=length, left=self.remaining))
        body = self.data[self.pos : self.pos + length]
        inner = self.inner(body, self.base + self.pos)
        self.pos += len(body)
        return length, inner

    def rest(self, problem: str) -> None:
        """Show whatever is left as malformed, with ``problem``."""
        if self.remaining:
            self.emit(self.data[self.pos :], self.say("malformed", problem=problem))
        else:
            self.note(self.say("malformed", problem=problem))

    def finish(self, what: str) -> None:
        """Mark bytes left over after a structure ended (``what``: a note key or a name)."""
        if self.remaining:
            # A note's own words, or a message name (set apart in Chinese).
            name = self.say(what) if what in HEXDUMP_TEXT else what + " " * self.which
            self.emit(self.data[self.pos :], self.say("after", n=self.remaining, what=name))


# --- contents ---------------------------------------------------------------------


def _content_name(value: int, cursor: _Dump) -> str:
    try:
        return ContentType(value).name.lower()
    except ValueError:
        return cursor.say("unknown_content_type")


def _handshake(cursor: _Dump) -> None:
    """A handshake message: type, uint24 length and the body's fields."""
    unknown = cursor.say("unknown")
    msg_type = cursor.uint(1, "msg_type", lambda v: _MESSAGE_NAMES.get(v, unknown))
    if msg_type is None:
        return
    found = cursor.vector(3, cursor.say("message_body"), "length", cursor.say("uint24_of_body"))
    if found is None:
        return
    _, body = found
    reader = _BODY_READERS.get(msg_type)
    if reader is None:
        if body.remaining:
            body.emit(body.data, body.say("body", n=body.remaining))
        return
    reader(body)
    body.finish(_MESSAGE_NAMES.get(msg_type, "the_message"))
    cursor.finish("the_handshake_message")


def _client_hello(body: _Dump) -> None:
    if body.fixed(RANDOM_SIZE, "random") is None:
        return
    found = body.vector(1, "server_name")
    if found is not None and found[1].remaining:
        name = found[1].data
        found[1].emit(name, f'server_name = "{_printable(name)}"')


def _server_hello(body: _Dump) -> None:
    body.fixed(RANDOM_SIZE, "random")


def _certificate(body: _Dump) -> None:
    found = body.vector(3, "certificate_list")
    if found is None:
        return
    entries = found[1]
    index = 0
    while entries.remaining:
        entry = entries.vector(3, f"cert_data[{index}]")
        if entry is None:
            return
        der = entry[1].data
        if der:
            subject = der_subject(der)
            note = entry[1].say("der", subject=subject) if subject else None
            entry[1].emit(der, note or entry[1].say("not_a_certificate"))
        else:
            entries.note(entries.say("empty_entry", index=index))
        index += 1


def _client_key_exchange(body: _Dump) -> None:
    found = body.vector(2, "encrypted_secret")
    if found is not None and found[1].remaining:
        found[1].emit(found[1].data, found[1].say("encrypted_secret"))


def _finished(body: _Dump) -> None:
    body.fixed(VERIFY_DATA_SIZE, "verify_data")


_BODY_READERS: dict[int, Callable[[_Dump], None]] = {
    HandshakeType.CLIENT_HELLO: _client_hello,
    HandshakeType.SERVER_HELLO: _server_hello,
    HandshakeType.CERTIFICATE: _certificate,
    HandshakeType.CLIENT_KEY_EXCHANGE: _client_key_exchange,
    HandshakeType.FINISHED: _finished,
}


def _level_name(value: int, cursor: _Dump) -> str:
    try:
        return AlertLevel(value).name.lower()
    except ValueError:
        return cursor.say("unknown_level")


def _alert(cursor: _Dump) -> None:
    if cursor.uint(1, "level", lambda v: _level_name(v, cursor)) is None:
        return
    if cursor.uint(1, "description", alert_name) is None:
        return
    cursor.finish("the_alert")


def _content(cursor: _Dump, content_type: int) -> None:
    """Annotate a fragment (or plaintext) of the given content type."""
    if not cursor.remaining:
        cursor.note(cursor.say("empty"))
    elif content_type == ContentType.HANDSHAKE:
        _handshake(cursor)
    elif content_type == ContentType.ALERT:
        _alert(cursor)
    elif content_type == ContentType.APPLICATION_DATA:
        note = cursor.say("application_data", n=cursor.remaining)
        cursor.emit(cursor.data, note, ascii_text=True)
    else:
        cursor.emit(cursor.data, cursor.say("fragment", n=cursor.remaining))


# --- records ----------------------------------------------------------------------


def _looks_protected(content_type: int, fragment: bytes) -> bool:
    """Guess protection when the caller did not say: only data is always sealed."""
    if content_type == ContentType.APPLICATION_DATA:
        return True
    if content_type == ContentType.ALERT:
        return len(fragment) > 2
    if content_type == ContentType.HANDSHAKE and len(fragment) >= HANDSHAKE_HEADER_SIZE:
        announced = int.from_bytes(fragment[1:4], "big")
        known = fragment[0] in _MESSAGE_NAMES
        return not (known and announced == len(fragment) - HANDSHAKE_HEADER_SIZE)
    return False


def _header(cursor: _Dump) -> tuple[int, int] | None:
    content_type = cursor.uint(1, "content_type", lambda v: _content_name(v, cursor))
    if content_type is None:
        return None
    version = cursor.take(2, "version")
    if version is None:
        return None
    number = int.from_bytes(version, "big")
    known = cursor.say("toytls1" if number == PROTOCOL_VERSION else "not_toytls1")
    cursor.emit(version, cursor.say("version", number=number, known=known))
    length = cursor.uint(2, "length", lambda _: cursor.say("of_fragment"))
    if length is None:
        return None
    if length != cursor.remaining:
        cursor.note(cursor.say("length_says", length=length, left=cursor.remaining))
    return content_type, length


def annotate_record(
    record: bytes,
    *,
    plaintext: bytes | None = None,
    seq: int | None = None,
    nonce: bytes | None = None,
    protected: bool | None = None,
    lang: str = "en",
) -> list[str]:
    """An annotated hex dump of one record, one string per line.

    Args:
        record: The record's bytes, header included (``RecordSent.record``).
        plaintext: The decrypted content of a protected record
            (``RecordSent.plaintext``); annotated below the ciphertext. For
            an unprotected record it equals the fragment and adds nothing.
        seq: The record's sequence number, if protected.
        nonce: The record's nonce, if protected.
        protected: Whether the fragment is sealed; None infers it from
            ``seq``/``nonce``/``plaintext``, else from the bytes (application
            data always is; a 2-byte alert or a well-framed handshake
            message is not).
        lang: The language of the notes, ``"en"`` or ``"zh"``; field
            names stay the protocol's.

    Returns:
        Lines of ``offset  hex  annotation``; never raises, whatever the
        bytes: what does not parse is marked ``(malformed)``.
    """
    lines: list[str] = []
    cursor = _Dump(record, 0, lines, lang_index(lang))
    header = _header(cursor)
    if header is None:
        return lines
    content_type = header[0]
    fragment = record[cursor.pos : cursor.pos + header[1]]
    if protected is None:
        given = plaintext is not None and plaintext != fragment
        protected = seq is not None or nonce is not None or given
        if plaintext is None and seq is None and nonce is None:
            protected = _looks_protected(content_type, fragment)
    body = cursor.inner(fragment, cursor.pos)
    if not protected:
        _content(body, content_type)
    else:
        _sealed(body, plaintext, seq, nonce, content_type)
    cursor.pos += len(fragment)
    cursor.finish("the_record")
    return lines


def _sealed(
    body: _Dump, plaintext: bytes | None, seq: int | None, nonce: bytes | None, content_type: int
) -> None:
    """A protected fragment: ciphertext, tag, then the plaintext if known."""
    if body.remaining < TAG_SIZE:
        body.rest(body.say("short_tag", tag=TAG_SIZE))
    else:
        size = body.remaining - TAG_SIZE
        if size:
            body.emit(body.data[:size], body.say("ciphertext", n=size))
        body.emit(body.data[size:], body.say("tag", n=TAG_SIZE))
    if seq is not None:
        body.note(body.say("seq", seq=seq))
    if nonce is not None:
        body.note(body.say("nonce", nonce=nonce.hex()))
    if plaintext is not None:
        content = _content_name(content_type, body)
        body.note(body.say("decrypted", n=len(plaintext), content=content))
        _content(body.inner(plaintext, 0), content_type)
