"""The certificate x-ray as lines of text (English or Chinese) and as JSON.

Reads a :class:`~toytls.story.xray.CertificateXray`; returns
``(text, style)`` lines, where ``style`` is a hint for the console
("bold", "green", "red", "dim" or None). Never prints.
"""

from __future__ import annotations

from .xray import CertificateXray, OpenedSignature
from .xray_texts import TEXT

LANGUAGES = ("en", "zh")
#: Bytes of hex per line for the modulus, the signature and the digests.
HEX_BYTES = 16

Line = tuple[str, str | None]


def _words(lang: str) -> int:
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    return LANGUAGES.index(lang)


def hex_lines(data: bytes, indent: str, first: str | None = None) -> list[str]:
    """``data`` as spaced hex, :data:`HEX_BYTES` bytes a line.

    Every line starts with ``indent``; the first with ``first`` instead, when
    given (a label such as ``"S = "``, the others aligned under it).
    """
    rows = [data[i : i + HEX_BYTES].hex(" ") for i in range(0, len(data), HEX_BYTES)] or ["—"]
    head = indent if first is None else first
    pad = " " * len(head) if first is not None else indent
    return [head + rows[0]] + [pad + row for row in rows[1:]]


class _Say:
    def __init__(self, lang: str) -> None:
        self.which = _words(lang)

    def __call__(self, key: str, **values: object) -> str:
        return TEXT[key][self.which].format(**values)

    def field(self, key: str, value: str) -> Line:
        colon = "：" if self.which else ": "
        return (f"  {self(key)}{colon}{value}", None)


def render_xray(x: CertificateXray, lang: str = "en") -> list[Line]:
    """The x-ray of one certificate, as lines.

    Raises:
        ValueError: An unknown ``lang``.
    """
    say = _Say(lang)
    lines: list[Line] = [(say("title", index=x.index, subject=x.subject), "bold")]
    lines += [
        say.field("holder", x.subject),
        say.field("alt_names", ", ".join(x.alt_names) or say("none")),
        say.field("issuer", x.issuer),
        say.field("validity", f"{x.not_before} → {x.not_after}"),
        say.field("is_ca", say("yes") if x.is_ca else say("no")),
        say.field("key_usage", ", ".join(x.key_usage) or say("none")),
        say.field("fingerprint", x.fingerprint),
    ]
    lines += _key_lines(x, say)
    algorithm = f"{x.signature_algorithm} ({x.signature_oid})"
    lines.append(say.field("algorithm", algorithm))
    lines.append((f"  {say('signature', n=len(x.signature))}", None))
    lines += [(text, "dim") for text in hex_lines(x.signature, "      ")]
    lines += _opened_lines(x, say, algorithm)
    if x.verified is not None:
        if x.verified:
            lines.append((f"  {say('verdict_ok')}", "green"))
        else:
            lines.append((f"  {say('verdict_bad', why=x.verify_error)}", "red"))
    return lines


def _key_lines(x: CertificateXray, say: _Say) -> list[Line]:
    key = x.public_key
    lines: list[Line] = [(f"  {say('key_' + key.role)}", None)]
    if key.kind == "RSA" and key.modulus is not None:
        lines.append((f"    {say('key_rsa', size=key.size, e=key.exponent)}", None))
        lines.append((f"    {say('modulus', n=len(key.modulus))}", None))
        lines += [(text, "dim") for text in hex_lines(key.modulus, "      ")]
    else:
        curve = f"{'，' if say.which else ', '}{key.curve}" if key.curve else ""
        lines.append((f"    {say('key_other', kind=key.kind, size=key.size, curve=curve)}", None))
    return lines


def _opened_lines(x: CertificateXray, say: _Say, algorithm: str) -> list[Line]:
    if x.opened is None:
        reason = x.not_opened or "no_issuer"
        return [(f"  {say(reason, issuer=x.issuer, algorithm=algorithm)}", "bold")]
    source = say(f"source_{x.issuer_source}") if x.issuer_source else "?"
    lines: list[Line] = [
        (f"  {say('opened', issuer=x.issuer_used, source=source)}", "bold"),
        (f"    {say('pow')}", None),
    ]
    lines += _block_lines(x.opened, say)
    lines.append((f"  {say('digest_s', hash=x.hash_name or '?')}", None))
    lines += [(text, None) for text in hex_lines(x.digest_s or b"", "", "      S = ")]
    if x.opened.digest_t is not None:
        lines.append((f"  {say('digest_t')}", None))
        lines += [(text, None) for text in hex_lines(x.opened.digest_t, "", "      T = ")]
    verdict = x.t_equals_s
    if verdict is not None:
        lines.append((f"  {say('t_equals_s' if verdict else 't_not_s')}", _good(verdict)))
    return lines


def _block_lines(opened: OpenedSignature, say: _Say) -> list[Line]:
    pad = "      "
    lead, padding, info, t = opened.lead, opened.padding, opened.digest_info, opened.digest_t
    if lead is None or padding is None or info is None or t is None:
        lines: list[Line] = [(text, "dim") for text in hex_lines(opened.block, pad)]
        return [*lines, (f"    {say('malformed')}", "red")]
    ffs = f"{padding[:4].hex(' ')} … ff"
    return [
        (f"{pad}{lead.hex(' '):<48} {say('part_lead')}", None),
        (f"{pad}{ffs:<48} {say('part_padding', n=len(padding))}", None),
        (f"{pad}{(opened.separator or b'').hex(' '):<48} {say('part_separator')}", None),
        *_labelled(info, say("part_info", hash=opened.hash_name), pad),
        *_labelled(t, say("part_t"), pad),
    ]


def _labelled(data: bytes, label: str, pad: str) -> list[Line]:
    rows = hex_lines(data, "")
    out: list[Line] = [(f"{pad}{rows[0]:<48} {label}", None)]
    return out + [(f"{pad}{row}", None) for row in rows[1:]]


def _good(ok: bool) -> str:
    return "bold green" if ok else "bold red"


def xray_to_dict(x: CertificateXray) -> dict[str, object]:
    """The x-ray as plain JSON values (bytes as lower-case hex)."""
    key = x.public_key
    opened = x.opened
    return {
        "index": x.index,
        "subject": x.subject,
        "alt_names": list(x.alt_names),
        "issuer": x.issuer,
        "not_before": x.not_before,
        "not_after": x.not_after,
        "is_ca": x.is_ca,
        "key_usage": list(x.key_usage),
        "fingerprint_sha256": x.fingerprint,
        "public_key": {
            "role": key.role,
            "type": key.kind,
            "bits": key.size,
            "exponent": key.exponent,
            "modulus": None if key.modulus is None else key.modulus.hex(),
            "curve": key.curve,
        },
        "signature_algorithm": x.signature_algorithm,
        "signature_oid": x.signature_oid,
        "signature": x.signature.hex(),
        "issuer_source": x.issuer_source,
        "issuer_used": x.issuer_used,
        "hash": x.hash_name,
        "digest_s": None if x.digest_s is None else x.digest_s.hex(),
        "opened": None if opened is None else _opened_dict(opened),
        "not_opened": x.not_opened,
        "t_equals_s": x.t_equals_s,
        "verified": x.verified,
        "verify_error": x.verify_error,
    }


def _opened_dict(opened: OpenedSignature) -> dict[str, object]:
    def hexed(data: bytes | None) -> str | None:
        return None if data is None else data.hex()

    return {
        "block": opened.block.hex(),
        "well_formed": opened.well_formed,
        "lead": hexed(opened.lead),
        "padding_length": None if opened.padding is None else len(opened.padding),
        "separator": hexed(opened.separator),
        "digest_info": hexed(opened.digest_info),
        "hash": opened.hash_name,
        "digest_t": hexed(opened.digest_t),
    }
