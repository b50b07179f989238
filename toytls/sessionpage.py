"""The visitor's own connection, as JSON and as an HTML page.

``toytls server --app http`` answers every request with a description of
the connection it came over: the name the client asked for, the chain the
server sent (with fingerprints), the fingerprint of key X, how much has
been protected so far, and the first record of the request exactly as an
eavesdropper saw it. This module only builds the report and the page;
:mod:`toytls.httpapp` serves them.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from .events import SessionInfo
from .pki import describe_certificate


@dataclass(frozen=True, kw_only=True)
class Visit:
    """Everything the server knows about one request's connection."""

    #: the established session, or None on a ``--plaintext`` server
    session: SessionInfo | None
    #: ``(sent, received)`` records protected so far, seen from the server
    records_protected: tuple[int, int]
    #: the wire seen from the server: what it received and what it sent
    #: (:meth:`toytls.wiretap.WireLog.as_dict`)
    wire_received: Mapping[str, Any]
    wire_sent: Mapping[str, Any]
    #: "host:port" of the visitor
    peer: str
    #: the request line and headers as the server read them, after decryption
    request_head: Sequence[str]
    #: requests served on this connection before this one
    earlier_requests: int


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
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.45; color: #1d2330; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
code, pre { font-family: ui-monospace, monospace; font-size: 0.85rem; }
pre { background: #f3f4f7; padding: 0.8rem; overflow-x: auto; white-space: pre-wrap;
      word-break: break-all; }
table { border-collapse: collapse; } td, th { padding: 0.2rem 0.8rem 0.2rem 0;
      text-align: left; vertical-align: top; }
.ok { color: #17713a; font-weight: 600; } .bad { color: #a11d1d; font-weight: 600; }
"""


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _hex_lines(hex_text: str, per_line: int = 32) -> str:
    pairs = [hex_text[i : i + 2] for i in range(0, len(hex_text), 2)]
    rows = [" ".join(pairs[i : i + per_line]) for i in range(0, len(pairs), per_line)]
    return "\n".join(rows)


def render_page(visit: Visit) -> bytes:
    """The HTML page for one visit, UTF-8. Everything shown is escaped."""
    report = session_report(visit)
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>toytls: your connection</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Your connection to this page</h1>",
    ]
    if report["protected"]:
        parts += _protected_sections(report)
    else:
        parts.append(
            '<p class="bad">This page came over plain TCP: no encryption, no certificate. '
            "Anyone on the path read your request exactly as you see it below, and could "
            "have changed this page.</p>"
        )
        parts.append("<pre>" + _esc("\n".join(visit.request_head)) + "</pre>")
    parts += _wire_section(report)
    parts.append(
        '<p>The same data as JSON: <a href="/api/session"><code>/api/session</code></a>.</p>'
    )
    parts.append("</body></html>")
    return "\n".join(parts).encode()


def _protected_sections(report: Mapping[str, Any]) -> list[str]:
    parts = [
        f'<p class="ok">Protected by {_esc(report["protocol"])} with '
        f"{_esc(report['cipher'])}. Your client asked for "
        f"<code>{_esc(report['server_name'])}</code>.</p>",
        "<h2>1. The certificate chain the server sent</h2>",
        "<p>Certificate 0 holds the server's public key B+. Each one is signed by the "
        "next; the last is signed by a root whose key A+ your client already trusts. "
        "Your client checked every signature (digest T must equal S) before it sent "
        "anything secret.</p>",
        "<table><tr><th>#</th><th>subject</th><th>issued by</th><th>valid until</th></tr>",
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
        "<h2>2. Key X</h2>",
        "<p>Your client chose a random key X, encrypted it with B+ and sent it; only the "
        "holder of B− could read it. Both sides derived their AES keys from it. Its "
        "fingerprint (never the key itself):</p>",
        f"<pre>{_esc(report['session_key_fingerprint'])}</pre>",
        "<p>Compare it with the fingerprint your own client shows. They must be equal: "
        "if they differ, your client and this server each share a key X with someone "
        "else — a man in the middle who decrypts and re-encrypts everything.</p>",
        "<h2>3. Protected so far</h2>",
        f"<p>{records['client_to_server']} records from you to the server and "
        f"{records['server_to_client']} from the server to you have been encrypted with "
        "keys from X (the Finished messages included; this page is not counted yet).</p>",
    ]
    saw = report["what_an_attacker_saw"]
    first = saw["first_application_data_record_hex"]
    parts += [
        "<h2>4. What an attacker on the wire saw</h2>",
        "<p>The first data record you sent on this connection, byte for byte as it "
        "crossed the network (a 5-byte header, the ciphertext, a 16-byte tag):</p>",
        "<pre>" + _esc(_hex_lines(first) if first else "(none yet)") + "</pre>",
        "<p>What the server read from it, after decrypting with the key from X:</p>",
        "<pre>" + _esc("\n".join(report["request"])) + "</pre>",
    ]
    return parts


def _wire_section(report: Mapping[str, Any]) -> list[str]:
    rows = []
    for label, key in (("you → server", "client_to_server"), ("server → you", "server_to_client")):
        wire = report["wire"][key]
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(wire["records"].items()))
        rows.append(
            f"<tr><td>{label}</td><td>{wire['bytes']} bytes</td>"
            f"<td>{_esc(kinds) or '(not toytls records)'}</td></tr>"
        )
    return [
        "<h2>On the wire so far</h2>",
        "<table><tr><th>direction</th><th>bytes</th><th>records</th></tr>",
        *rows,
        "</table>",
    ]
