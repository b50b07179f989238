"""The visitor's own connection, as JSON and as an HTML page.

``toytls server --app http`` answers every request with a description of
the connection it came over: the name the client asked for, the chain the
server sent (with fingerprints), the fingerprint of key X, how much has
been protected so far, and the first record of the request exactly as an
eavesdropper saw it. This module only builds the report and the page;
:mod:`toytls.web.httpapp` serves them.
"""

from __future__ import annotations

import html
import json
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from ..core.certificates import describe_certificate
from ..core.events import Event, SessionInfo
from ..story.ladder import LadderBuilder, lane_name
from ..story.ladder_svg import render_svg
from .sessionpage_texts import PAGE_TEXTS


@dataclass(frozen=True, kw_only=True)
class Visit:
    """Everything the server knows about one request's connection."""

    #: the established session, or None on a ``--plaintext`` server
    session: SessionInfo | None
    #: ``(sent, received)`` records protected so far, seen from the server
    records_protected: tuple[int, int]
    #: the wire seen from the server: what it received and what it sent
    #: (:meth:`toytls.streams.wiretap.WireLog.as_dict`)
    wire_received: Mapping[str, Any]
    wire_sent: Mapping[str, Any]
    #: "host:port" of the visitor
    peer: str
    #: the request line and headers as the server read them, after decryption
    request_head: Sequence[str]
    #: requests served on this connection before this one
    earlier_requests: int
    #: the page's language, "en" or "zh" (see :func:`page_language`)
    lang: str = "en"
    #: the server's events of this connection so far, for the diagram
    events: tuple[Event, ...] = ()


def session_report(visit: Visit) -> dict[str, Any]:
    """The JSON-ready description served at ``/api/session``."""
    session = visit.session
    first_request_record = visit.wire_received.get("first_record_hex", {}).get("application_data")
    report: dict[str, Any] = {
        "protected": session is not None,
        "peer": visit.peer,
        "request": list(visit.request_head),
        "requests_before_this_one_on_this_connection": visit.earlier_requests,
        "wire": {
            "client_to_server": dict(visit.wire_received),
            "server_to_client": dict(visit.wire_sent),
        },
    }
    if session is None:
        report["what_an_attacker_saw"] = {
            "explanation": "this connection is plain TCP: the request crossed the wire as written",
            "request": list(visit.request_head),
        }
        return report
    sent, received = visit.records_protected
    report.update(
        protocol=session.protocol,
        cipher=session.cipher,
        server_name=session.server_name,
        session_key_fingerprint=session.session_key_fingerprint,
        certificates=[_certificate_entry(der) for der in session.certificate_chain],
        records_protected={"client_to_server": received, "server_to_client": sent},
        what_an_attacker_saw={
            "explanation": (
                "the first application_data record of this connection, as it crossed "
                "the wire: a 5-byte header, then ciphertext and the 16-byte tag"
            ),
            "first_application_data_record_hex": first_request_record,
        },
    )
    return report


def _certificate_entry(der: bytes) -> dict[str, str]:
    info = describe_certificate(x509.load_der_x509_certificate(der))
    # The plain hex form too: what `openssl x509 -fingerprint -sha256` and
    # hashlib print, easy to compare.
    info["sha256"] = info["fingerprint"].replace(":", "").lower()
    return info


def report_json(visit: Visit) -> bytes:
    """:func:`session_report` encoded, pretty and UTF-8."""
    return json.dumps(session_report(visit), indent=2, ensure_ascii=False).encode() + b"\n"


# ------------------------------------------------------------------- HTML

_STYLE = """
body { font-family: system-ui, "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC",
       "Microsoft YaHei", sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.45; color: #1d2330; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
code, pre { font-family: ui-monospace, monospace; font-size: 0.85rem; }
pre { background: #f3f4f7; padding: 0.8rem; overflow-x: auto; white-space: pre-wrap;
      word-break: break-all; }
table { border-collapse: collapse; } td, th { padding: 0.2rem 0.8rem 0.2rem 0;
      text-align: left; vertical-align: top; }
figure.ladder { margin: 0.5rem 0; } figure.ladder svg { max-width: 100%; height: auto; }
.ok { color: #17713a; font-weight: 600; } .bad { color: #a11d1d; font-weight: 600; }
"""


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _hex_lines(hex_text: str, per_line: int = 32) -> str:
    pairs = [hex_text[i : i + 2] for i in range(0, len(hex_text), 2)]
    rows = [" ".join(pairs[i : i + per_line]) for i in range(0, len(pairs), per_line)]
    return "\n".join(rows)


def page_language(target: str, default: str) -> str:
    """The language asked for in ``?lang=en`` / ``?lang=zh``, else ``default``."""
    query = urllib.parse.urlsplit(target).query
    asked = urllib.parse.parse_qs(query).get("lang", [""])[-1]
    return asked if asked in PAGE_TEXTS else default


def render_page(visit: Visit) -> bytes:
    """The HTML page for one visit, UTF-8, in ``visit.lang``. Everything shown is escaped."""
    report = session_report(visit)
    lang = visit.lang if visit.lang in PAGE_TEXTS else "en"
    text = PAGE_TEXTS[lang]
    other = "zh" if lang == "en" else "en"
    parts = [
        "<!doctype html>",
        f'<html lang="{lang}"><head><meta charset="utf-8">',
        f"<title>{_esc(text['title'])}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f'<p style="float:right"><a href="?lang={other}">{_esc(text["other_language"])}</a></p>',
        f"<h1>{_esc(text['heading'])}</h1>",
    ]
    if report["protected"]:
        parts += _diagram_section(visit, text, lang)
        parts += _protected_sections(report, text)
    else:
        parts.append(f'<p class="bad">{_esc(text["plain"])}</p>')
        parts.append("<pre>" + _esc("\n".join(visit.request_head)) + "</pre>")
    parts += _wire_section(report, text)
    parts += [f"<h2>{_say(text, 'real_tls_heading')}</h2>", f"<p>{_say(text, 'real_tls')}</p>"]
    link = '<a href="/api/session"><code>/api/session</code></a>'
    parts.append("<p>" + _esc(text["json"]).replace("{link}", link) + "</p>")
    parts.append("</body></html>")
    return "\n".join(parts).encode()


def _diagram_section(visit: Visit, text: Mapping[str, str], lang: str) -> list[str]:
    """The visitor's handshake as a ladder diagram, from the server's events only."""
    if not visit.events:
        return []
    builder = LadderBuilder([lane_name("you", lang), lane_name("server", lang)], lang=lang)
    for event in visit.events:
        builder.event(1, 0, event)
    # render_svg escapes every value, the name the visitor asked for included.
    svg = render_svg(builder.ladder(), title=text["diagram_heading"])
    return [
        f"<h2>{_say(text, 'diagram_heading')}</h2>",
        f"<p>{_say(text, 'diagram')}</p>",
        f'<figure class="ladder">{svg}</figure>',
    ]


def _say(text: Mapping[str, str], key: str, **values: object) -> str:
    """``text[key]`` escaped, with each ``{name}`` filled by escaped ``values``."""
    sentence = _esc(text[key])
    for name, value in values.items():
        sentence = sentence.replace("{" + name + "}", _esc(value))
    return sentence


def _protected_sections(report: Mapping[str, Any], text: Mapping[str, str]) -> list[str]:
    protected = _esc(text["protected"])
    for name, value in (
        ("protocol", report["protocol"]),
        ("cipher", report["cipher"]),
        ("name", report["server_name"]),
    ):
        shown = f"<code>{_esc(value)}</code>" if name == "name" else _esc(value)
        protected = protected.replace("{" + name + "}", shown)
    parts = [
        f'<p class="ok">{protected}</p>',
        f"<h2>{_say(text, 'chain_heading')}</h2>",
        f"<p>{_say(text, 'chain')}</p>",
        f"<table><tr><th>#</th><th>{_say(text, 'col_subject')}</th>"
        f"<th>{_say(text, 'col_issuer')}</th><th>{_say(text, 'col_until')}</th></tr>",
    ]
    for number, cert in enumerate(report["certificates"]):
        parts.append(
            f"<tr><td>{number}</td><td>{_esc(cert['subject'])}</td>"
            f"<td>{_esc(cert['issuer'])}</td><td>{_esc(cert['not_after'])}</td></tr>"
            f"<tr><td></td><td colspan=3>SHA-256 <code>{_esc(cert['fingerprint'])}</code>"
            "</td></tr>"
        )
    parts.append("</table>")
    records = report["records_protected"]
    parts += [
        f"<h2>{_say(text, 'key_heading')}</h2>",
        f"<p>{_say(text, 'key')}</p>",
        f"<pre>{_esc(report['session_key_fingerprint'])}</pre>",
        f"<p>{_say(text, 'compare')}</p>",
        f"<h2>{_say(text, 'protected_heading')}</h2>",
        "<p>"
        + _say(
            text,
            "protected_counts",
            c2s=records["client_to_server"],
            s2c=records["server_to_client"],
        )
        + "</p>",
    ]
    first = report["what_an_attacker_saw"]["first_application_data_record_hex"]
    parts += [
        f"<h2>{_say(text, 'saw_heading')}</h2>",
        f"<p>{_say(text, 'saw')}</p>",
        "<pre>" + (_esc(_hex_lines(first)) if first else _say(text, "none_yet")) + "</pre>",
        f"<p>{_say(text, 'read')}</p>",
        "<pre>" + _esc("\n".join(report["request"])) + "</pre>",
    ]
    return parts


def _wire_section(report: Mapping[str, Any], text: Mapping[str, str]) -> list[str]:
    rows = []
    for label, key in (
        ("you_to_server", "client_to_server"),
        ("server_to_you", "server_to_client"),
    ):
        wire = report["wire"][key]
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(wire["records"].items()))
        rows.append(
            f"<tr><td>{_say(text, label)}</td><td>{_say(text, 'bytes', n=wire['bytes'])}</td>"
            f"<td>{_esc(kinds) if kinds else _say(text, 'not_records')}</td></tr>"
        )
    return [
        f"<h2>{_say(text, 'wire_heading')}</h2>",
        f"<table><tr><th>{_say(text, 'col_direction')}</th><th>{_say(text, 'col_bytes')}</th>"
        f"<th>{_say(text, 'col_records')}</th></tr>",
        *rows,
        "</table>",
    ]
