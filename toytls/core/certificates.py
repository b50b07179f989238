"""What a certificate says, for people: its names, its fingerprint, a short
description. Pure: certificate objects in, strings out.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes


def fingerprint(cert: x509.Certificate) -> str:
    """Return the SHA-256 fingerprint as colon-separated upper-case hex."""
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def dns_names(cert: x509.Certificate) -> list[str]:
    """Return the dNSName entries of subjectAltName (empty without one)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return san.value.get_values_for_type(x509.DNSName)


def describe_certificate(cert: x509.Certificate) -> dict[str, str]:
    """Describe a certificate for people (the CLI's ``show``).

    Returns:
        ``subject`` and ``issuer`` as RFC 4514 strings, ``not_before`` and
        ``not_after`` as ISO 8601 UTC, and the SHA-256 ``fingerprint``.
    """
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "fingerprint": fingerprint(cert),
    }
