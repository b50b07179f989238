"""``toytls certs``: make the demo PKI and say what was made."""

from __future__ import annotations

from .common import EXIT_OK, EXIT_USAGE
from .console import Console
from .options import CertsOptions
from .parser_lang import display_width
from .status_texts import status_text

#: The fields of each certificate shown, in order (keys of ``describe_certificate``).
_FIELDS = ("subject", "issuer", "not_before", "not_after", "fingerprint")


def _padded(text: str, columns: int) -> str:
    """``text`` followed by spaces up to ``columns`` terminal columns."""
    return text + " " * max(0, columns - display_width(text))


def run(options: CertsOptions, console: Console) -> int:
    """Generate the PKI, write it to ``options.directory``, describe it.

    Returns:
        0, or 2 (with one error line) if files exist without ``force`` or the
        directory cannot be written.
    """
    from ..core.certificates import describe_certificate
    from ..pki.files import PKI_FILES, write_pki
    from ..pki.generate import generate_pki
    from ..story.error_texts import describe_error

    lang = console.lang
    directory = options.directory
    # Refuse before announcing work that will not be done.
    existing = [name for name in PKI_FILES if (directory / name).exists()]
    if existing and not options.force:
        names = ", ".join(existing)
        console.error(status_text("certs_exist", lang, directory=directory, names=names))
        return EXIT_USAGE
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # say so before announcing what cannot be written
        console.error(describe_error(exc, lang))
        return EXIT_USAGE
    console.line(status_text("certs_generating", lang, name=options.name))
    try:
        pki = generate_pki(options.name)
        written = write_pki(pki, directory, force=options.force)
    except FileExistsError as exc:
        console.error(status_text("certs_exist_race", lang, error=exc))
        return EXIT_USAGE
    except (OSError, ValueError) as exc:
        console.error(describe_error(exc, console.lang))
        return EXIT_USAGE
    labels = {key: status_text(f"field_{key}", lang) for key in _FIELDS}
    columns = max(display_width(label) for label in labels.values()) + 1
    # The honest chain, with what the article calls each part.
    for label, certificate in (
        ("certs_root", pki.root.certificate),
        ("certs_intermediate", pki.intermediate.certificate),
        ("certs_server", pki.server.certificate),
    ):
        info = describe_certificate(certificate)
        console.line("")
        console.line(status_text(label, lang))
        for key in _FIELDS:
            console.line(f"  {_padded(labels[key], columns)} {info[key]}")
    console.line("")
    console.line(status_text("certs_wrote", lang, count=len(written), directory=directory))
    console.line(status_text("certs_openssl", lang))
    console.line(
        f"  openssl verify -CAfile {directory}/root.pem "
        f"-untrusted {directory}/intermediate.pem {directory}/server.pem"
    )
    return EXIT_OK
