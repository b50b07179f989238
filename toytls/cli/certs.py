"""``toytls certs``: make the demo PKI and say what was made."""

from __future__ import annotations

from .common import EXIT_OK, EXIT_USAGE
from .console import Console
from .options import CertsOptions


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

    directory = options.directory
    # Refuse before announcing work that will not be done.
    existing = [name for name in PKI_FILES if (directory / name).exists()]
    if existing and not options.force:
        names = ", ".join(existing)
        if console.lang == "zh":
            console.error(f"{directory}/ 里已有 {names}：不覆盖（加 --force 才会替换）")
        else:
            console.error(f"{directory}/ already holds {names}: not replacing them (use --force)")
        return EXIT_USAGE
    console.line(f"Generating RSA-2048 keys and certificates for {options.name!r} …")
    try:
        pki = generate_pki(options.name)
        written = write_pki(pki, directory, force=options.force)
    except FileExistsError as exc:
        console.error(f"{exc} (use --force to replace them)")
        return EXIT_USAGE
    except (OSError, ValueError) as exc:
        console.error(describe_error(exc, console.lang))
        return EXIT_USAGE
    # The honest chain, with what the article calls each part.
    for label, certificate in (
        ("root CA (A+ lives here)", pki.root.certificate),
        ("intermediate CA", pki.intermediate.certificate),
        ("server (B+ lives here)", pki.server.certificate),
    ):
        info = describe_certificate(certificate)
        console.line("")
        console.line(label)
        for key in ("subject", "issuer", "not_before", "not_after", "fingerprint"):
            console.line(f"  {key:<12} {info[key]}")
    console.line("")
    console.line(f"wrote {len(written)} files to {directory}/")
    console.line("check the chain with openssl:")
    console.line(
        f"  openssl verify -CAfile {directory}/root.pem "
        f"-untrusted {directory}/intermediate.pem {directory}/server.pem"
    )
    return EXIT_OK
