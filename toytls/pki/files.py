"""The PKI on disk: PEM encodings, and the directory of files that
``toytls certs`` writes and every command reads.

File I/O happens only in :func:`write_pki`, :func:`load_pki`,
:func:`ensure_pki` and :func:`load_attacker_kit`; the ``*_pem`` and
``load_pem_*`` functions work on bytes.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ..core.certificates import dns_names
from ..core.errors import ConfigError
from .generate import PKI, AttackerKit, Issued, generate_pki

#: File names that :func:`write_pki` writes and :func:`load_pki` reads.
ROOT_CERT_FILE = "root.pem"
ROOT_KEY_FILE = "root.key"
INTERMEDIATE_CERT_FILE = "intermediate.pem"
INTERMEDIATE_KEY_FILE = "intermediate.key"
SERVER_CERT_FILE = "server.pem"
SERVER_KEY_FILE = "server.key"
#: What the server sends in Certificate (§2): the leaf, then the intermediate.
CHAIN_FILE = "chain.pem"
ATTACKER_ROOT_CERT_FILE = "attacker-root.pem"
ATTACKER_ROOT_KEY_FILE = "attacker-root.key"
ATTACKER_KEY_FILE = "attacker.key"
ATTACKER_OWN_CA_FILE = "attacker-own-ca.pem"
ATTACKER_SELF_SIGNED_FILE = "attacker-self-signed.pem"
ATTACKER_OTHER_NAME_FILE = "attacker-other-name.pem"

#: Every file of a complete PKI directory, in the order they are written.
PKI_FILES: tuple[str, ...] = (
    ROOT_CERT_FILE,
    ROOT_KEY_FILE,
    INTERMEDIATE_CERT_FILE,
    INTERMEDIATE_KEY_FILE,
    SERVER_CERT_FILE,
    SERVER_KEY_FILE,
    CHAIN_FILE,
    ATTACKER_ROOT_CERT_FILE,
    ATTACKER_ROOT_KEY_FILE,
    ATTACKER_KEY_FILE,
    ATTACKER_OWN_CA_FILE,
    ATTACKER_SELF_SIGNED_FILE,
    ATTACKER_OTHER_NAME_FILE,
)


class PEMError(ConfigError):
    """PEM data that does not hold what the caller asked for.

    Raised for garbage, for PEM without a certificate, for an encrypted key
    and for a key that is not RSA. A ``ValueError``; like every
    :class:`~toytls.core.errors.ConfigError` it carries a message id.
    """


class MissingFileError(FileNotFoundError):
    """A file of the PKI directory is missing: ``toytls certs`` makes it.

    Attributes:
        key: The message id, for :mod:`toytls.story.error_texts`.
        params: ``{"path": …}``.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} not found — run `toytls certs` first")
        self.key = "pem.missing"
        self.params = {"path": str(path)}


# --- encodings and descriptions ----------------------------------------------


def certificate_pem(*certificates: x509.Certificate) -> bytes:
    """Return the certificates as concatenated PEM blocks."""
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)


def private_key_pem(key: rsa.RSAPrivateKey) -> bytes:
    """Return ``key`` as unencrypted PKCS#8 PEM."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_pem_certificates(data: bytes) -> list[x509.Certificate]:
    """Parse every certificate in a PEM bundle, in order.

    Raises:
        PEMError: If ``data`` holds no certificate or a malformed one.
    """
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError:
        # cryptography's own message points at its FAQ; ours says what to fix.
        raise PEMError(
            "not a PEM certificate bundle: no certificate could be read from it",
            key="pem.no_certificate",
        ) from None


def load_pem_private_key_rsa(data: bytes) -> rsa.RSAPrivateKey:
    """Parse an unencrypted PEM private key that must be RSA.

    Raises:
        PEMError: If ``data`` is not a PEM private key, is encrypted, or
            holds a key of another type.
    """
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        # TypeError is how cryptography reports an encrypted key.
        raise PEMError(
            "not an unencrypted PEM private key: it is encrypted", key="pem.key_encrypted"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise PEMError(
            "not an unencrypted PEM private key: no readable key in it", key="pem.no_key"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise PEMError(
            f"expected an RSA private key, got {type(key).__name__}",
            key="pem.not_rsa",
            params={"key_type": type(key).__name__},
        )
    return key


# --- files -------------------------------------------------------------------


def _pki_contents(pki: PKI) -> dict[str, bytes]:
    contents = {
        ROOT_CERT_FILE: certificate_pem(pki.root.certificate),
        ROOT_KEY_FILE: private_key_pem(pki.root.key),
        INTERMEDIATE_CERT_FILE: certificate_pem(pki.intermediate.certificate),
        INTERMEDIATE_KEY_FILE: private_key_pem(pki.intermediate.key),
        SERVER_CERT_FILE: certificate_pem(pki.server.certificate),
        SERVER_KEY_FILE: private_key_pem(pki.server.key),
        CHAIN_FILE: certificate_pem(*pki.chain),
        ATTACKER_ROOT_CERT_FILE: certificate_pem(pki.attacker_root.certificate),
        ATTACKER_ROOT_KEY_FILE: private_key_pem(pki.attacker_root.key),
        ATTACKER_KEY_FILE: private_key_pem(pki.attacker_key),
        ATTACKER_OWN_CA_FILE: certificate_pem(pki.attacker_own_ca),
        ATTACKER_SELF_SIGNED_FILE: certificate_pem(pki.attacker_self_signed),
        ATTACKER_OTHER_NAME_FILE: certificate_pem(pki.attacker_other_name),
    }
    assert tuple(contents) == PKI_FILES
    return contents


def _write_file(path: Path, data: bytes, *, secret: bool, force: bool) -> None:
    """Write one file; a secret one is never readable by others.

    The mode is given to ``os.open`` so a key file is 0600 from the moment
    it exists, and set again with ``fchmod`` because ``O_CREAT`` leaves the
    mode of a file that is being overwritten alone (and the umask may have
    narrowed it).
    """
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    # O_EXCL makes the refusal to overwrite atomic, not just a prior check.
    flags |= os.O_TRUNC if force else os.O_EXCL
    fd = os.open(path, flags, 0o600 if secret else 0o644)
    try:
        if secret:
            os.fchmod(fd, 0o600)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def write_pki(pki: PKI, directory: str | os.PathLike[str], *, force: bool = False) -> list[Path]:
    """Write every file of :data:`PKI_FILES` into ``directory`` as PEM.

    Keys are unencrypted PKCS#8 with mode 0600; certificates get 0644 less
    the umask. ``directory`` is created if missing.

    Args:
        pki: What to write.
        directory: Where to write it.
        force: Overwrite files that exist.

    Returns:
        The paths written, in :data:`PKI_FILES` order.

    Raises:
        FileExistsError: If any of the files exists and ``force`` is False;
            nothing is written then.
        OSError: If a file cannot be written; files already written stay.
    """
    base = Path(directory)
    base.mkdir(parents=True, exist_ok=True)
    contents = _pki_contents(pki)
    existing = [name for name in contents if (base / name).exists()]
    if existing and not force:
        raise FileExistsError(
            f"refusing to overwrite {', '.join(existing)} in {base}; "
            "pass force=True to replace them"
        )
    written = []
    for name, data in contents.items():
        path = base / name
        _write_file(path, data, secret=name.endswith(".key"), force=force)
        written.append(path)
    return written


def _read_one_certificate(base: Path, name: str) -> x509.Certificate:
    certs = load_pem_certificates((base / name).read_bytes())
    if len(certs) != 1:
        raise PEMError(
            f"{base / name} holds {len(certs)} certificates, expected 1",
            key="pem.not_one",
            params={"file": str(base / name), "n": len(certs)},
        )
    return certs[0]


def _read_issued(base: Path, cert_name: str, key_name: str) -> Issued:
    cert = _read_one_certificate(base, cert_name)
    key = load_pem_private_key_rsa((base / key_name).read_bytes())
    if cert.public_key() != key.public_key():
        raise PEMError(
            f"{base / key_name} is not the key of {base / cert_name}",
            key="pem.key_mismatch",
            params={"key_file": str(base / key_name), "cert_file": str(base / cert_name)},
        )
    return Issued(certificate=cert, key=key)


def load_pki(directory: str | os.PathLike[str]) -> PKI:
    """Read a PKI that :func:`write_pki` wrote.

    ``server_name`` is the first dNSName of the server certificate.

    Raises:
        FileNotFoundError: If a file is missing.
        PEMError: If a file does not parse, a key does not belong to its
            certificate, or ``chain.pem`` is not the server certificate
            followed by the intermediate.
    """
    base = Path(directory)
    root = _read_issued(base, ROOT_CERT_FILE, ROOT_KEY_FILE)
    intermediate = _read_issued(base, INTERMEDIATE_CERT_FILE, INTERMEDIATE_KEY_FILE)
    server = _read_issued(base, SERVER_CERT_FILE, SERVER_KEY_FILE)
    chain = load_pem_certificates((base / CHAIN_FILE).read_bytes())
    if chain != [server.certificate, intermediate.certificate]:
        raise PEMError(
            f"{base / CHAIN_FILE} is not {SERVER_CERT_FILE} followed by {INTERMEDIATE_CERT_FILE}",
            key="pem.chain_order",
            params={
                "file": str(base / CHAIN_FILE),
                "server": SERVER_CERT_FILE,
                "intermediate": INTERMEDIATE_CERT_FILE,
            },
        )
    names = dns_names(server.certificate)
    if not names:
        raise PEMError(
            f"{base / SERVER_CERT_FILE} has no dNSName in subjectAltName",
            key="pem.no_dns_name",
            params={"file": str(base / SERVER_CERT_FILE)},
        )
    return PKI(
        root=root,
        intermediate=intermediate,
        server=server,
        attacker_root=_read_issued(base, ATTACKER_ROOT_CERT_FILE, ATTACKER_ROOT_KEY_FILE),
        attacker_key=load_pem_private_key_rsa((base / ATTACKER_KEY_FILE).read_bytes()),
        attacker_own_ca=_read_one_certificate(base, ATTACKER_OWN_CA_FILE),
        attacker_self_signed=_read_one_certificate(base, ATTACKER_SELF_SIGNED_FILE),
        attacker_other_name=_read_one_certificate(base, ATTACKER_OTHER_NAME_FILE),
        server_name=names[0],
    )


def ensure_pki(directory: str | os.PathLike[str], server_name: str = "localhost") -> PKI:
    """Load the PKI in ``directory``, or generate and write one if it is empty.

    Args:
        directory: Where the files are, or are to be written.
        server_name: The name for a newly generated server certificate.

    Raises:
        FileExistsError: If only some of the files exist (regenerate the
            whole set with force), or the existing server certificate is
            for another name.
        PEMError: As for :func:`load_pki`.
    """
    base = Path(directory)
    present = [name for name in PKI_FILES if (base / name).exists()]
    if not present:
        pki = generate_pki(server_name)
        write_pki(pki, base)
        return pki
    if len(present) != len(PKI_FILES):
        missing = [name for name in PKI_FILES if name not in present]
        raise FileExistsError(
            f"{base} holds an incomplete PKI (missing {', '.join(missing)}); "
            "regenerate all of it with write_pki(..., force=True)"
        )
    pki = load_pki(base)
    if pki.server_name.lower() != server_name.lower():
        raise FileExistsError(
            f"the server certificate in {base} is for {pki.server_name}, not "
            f"{server_name}; regenerate it with write_pki(..., force=True)"
        )
    return pki


def load_attacker_kit(directory: Path) -> AttackerKit:
    """Read the attacker's files written by ``toytls certs``.

    Raises:
        FileNotFoundError: A file is missing.
        ValueError: A file does not hold what it should.
    """

    def read(name: str) -> bytes:
        path = directory / name
        if not path.exists():
            raise MissingFileError(path)
        return path.read_bytes()

    root_certificate = load_pem_certificates(read(ATTACKER_ROOT_CERT_FILE))[0]
    other_name = load_pem_certificates(read(ATTACKER_OTHER_NAME_FILE))[0]
    return AttackerKit(
        key=load_pem_private_key_rsa(read(ATTACKER_KEY_FILE)),
        root=Issued(
            certificate=root_certificate,
            key=load_pem_private_key_rsa(read(ATTACKER_ROOT_KEY_FILE)),
        ),
        other_name=other_name,
    )
