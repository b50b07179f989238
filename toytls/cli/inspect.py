"""``toytls inspect``: see through a certificate, its signature opened with A+.

Reads the files, hands the certificates to :mod:`toytls.story.xray` and
shows what comes back: text in English or Chinese, or one JSON object. The
client's ``-vv`` shows the same x-ray for each certificate it checks
(:func:`show_chain_xray`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.errors import ConfigError
from .common import EXIT_OK, EXIT_USAGE
from .console import Console
from .options import InspectOptions

if TYPE_CHECKING:
    from cryptography import x509

    from ..core import events as ev


class NotACertificate(ConfigError):
    """A file holds no certificate that can be read (``inspect.not_a_certificate``)."""


def file_error_text(error: OSError, lang: str) -> str:
    """``PATH: why`` for a file that cannot be read, the why in ``lang`` (decode uses it too)."""
    from ..story.error_texts import os_error_text

    why = os_error_text(error, lang)
    if error.filename is None:
        return why
    return f"{error.filename}{'：' if lang == 'zh' else ': '}{why}"


def load_certificates(path: Path) -> list[x509.Certificate]:
    """Every certificate in a PEM file (in order), or the one in a DER file.

    Raises:
        OSError: The file cannot be read.
        NotACertificate: It holds no readable certificate.
    """
    import warnings

    from cryptography import x509

    data = path.read_bytes()
    with warnings.catch_warnings():
        # A certificate toytls did not make may be old-fashioned; show it anyway.
        warnings.simplefilter("ignore")
        try:
            if b"-----BEGIN" in data:
                return x509.load_pem_x509_certificates(data)
            return [x509.load_der_x509_certificate(data)]
        except ValueError:
            raise NotACertificate(
                "not a certificate (neither PEM with a CERTIFICATE block nor DER)",
                key="inspect.not_a_certificate",
                path=str(path),
            ) from None


def show_xrays(console: Console, xrays: Sequence[object], lang: str, prefix: str = "") -> None:
    """Print x-rays as text lines on ``console``."""
    from ..story.xray import CertificateXray
    from ..story.xray_render import render_xray

    for x in xrays:
        assert isinstance(x, CertificateXray)
        for text, style in render_xray(x, lang):
            console.line(text, style=style, prefix=prefix)


def show_chain_xray(console: Console, event: ev.Event, roots: Sequence[x509.Certificate]) -> None:
    """At ``-vv``, x-ray the chain a client receives, each certificate with its issuer.

    Does nothing for any other event, below ``-vv``, or in JSON mode.
    """
    from ..core import events as ev
    from ..core.messages import Certificate

    if console.json_mode or console.level < 3:
        return
    if not isinstance(event, ev.HandshakeMessageReceived):
        return
    if not isinstance(event.message, Certificate):
        return
    from cryptography import x509

    from ..story.xray import xray_chain

    try:
        chain = [x509.load_der_x509_certificate(der) for der in event.message.certificates]
    except ValueError:
        return  # the verifier will say so, with its alert
    show_xrays(console, xray_chain(chain, roots), console.lang, prefix="  ")


def run(options: InspectOptions) -> int:
    """The ``toytls inspect`` command.

    Returns:
        0, or 2 for a file that is missing or holds no certificate (one line).
    """
    from ..story.error_texts import describe_reason
    from ..story.xray import xray_file
    from ..story.xray_render import xray_to_dict

    console = Console(
        json_mode=options.json,
        color=sys.stdout.isatty() and not options.no_color and not options.json,
        lang=options.lang,
    )
    try:
        certs = load_certificates(options.certificate)
        issuer = None
        if options.issuer is not None:
            issuers = load_certificates(options.issuer)
            issuer = issuers[0]
    except OSError as exc:
        console.error(file_error_text(exc, options.lang))
        return EXIT_USAGE
    except NotACertificate as exc:
        console.error(describe_reason(exc, options.lang))
        return EXIT_USAGE
    xrays = xray_file(certs, issuer)
    if options.json:
        console.emit(
            {
                "file": str(options.certificate),
                "issuer_file": None if options.issuer is None else str(options.issuer),
                "certificates": [xray_to_dict(x) for x in xrays],
            }
        )
        return EXIT_OK
    for number, x in enumerate(xrays):
        if number:
            console.line("")
        show_xrays(console, [x], options.lang)
    return EXIT_OK
