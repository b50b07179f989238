"""Certificates for toytls: a small PKI that follows the profile of §4.

A real server gets its certificate from a CA; a teaching protocol has to
make its own. :func:`generate_pki` builds a three-level chain like Let's
Encrypt's (root "X1" → intermediate "R3" → leaf) plus the certificates a
man in the middle would try to pass off as the server's (see :class:`PKI`),
all carrying one attacker key, so that he can read whatever a client that
skips §4 encrypts to them.

Every primitive and every encoding comes from ``cryptography``. The
``make_*`` builders take enough parameters (key, validity, ``ca``, EKU) for
tests to build each bad chain of the §4 table. File I/O happens only in
:func:`write_pki`, :func:`load_pki` and :func:`ensure_pki`.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

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

#: The organization name in every certificate toytls makes.
ORGANIZATION = "toytls"
#: Common names of the generated CAs ("R3"-like, after Let's Encrypt).
ROOT_COMMON_NAME = "toytls Root X1"
INTERMEDIATE_COMMON_NAME = "toytls Intermediate R3"
ATTACKER_ROOT_COMMON_NAME = "toytls Attacker Root"
#: The name on the attacker's otherwise valid certificate.
ATTACKER_OTHER_NAME = "attacker.test"

#: Default key size; §4 rejects leaf keys below it.
DEFAULT_KEY_BITS = 2048
#: Back-dating absorbs clock skew between the machine that makes the
#: certificates and the one that checks them.
BACKDATE = datetime.timedelta(hours=1)
ROOT_LIFETIME = datetime.timedelta(days=3650)
INTERMEDIATE_LIFETIME = datetime.timedelta(days=1825)
#: The CA/Browser Forum's limit for server certificates from 2018 to 2020.
LEAF_LIFETIME = datetime.timedelta(days=825)


class PEMError(ValueError):
    """PEM data that does not hold what the caller asked for.

    Raised for garbage, for PEM without a certificate, for an encrypted key
    and for a key that is not RSA.
    """


@dataclass(frozen=True, kw_only=True, slots=True)
class Issued:
    """A certificate together with the private key of its subject."""

    certificate: x509.Certificate
    key: rsa.RSAPrivateKey


@dataclass(frozen=True, kw_only=True, slots=True)
class PKI:
    """Everything the demo needs: the honest chain and the attacker's kit.

    Attributes:
        root: The trust anchor clients are configured with.
        intermediate: The CA ("R3") that issued ``server``.
        server: The honest server's leaf for ``server_name``.
        attacker_root: A root CA the attacker made; nobody trusts it.
        attacker_key: The key in all three attacker certificates.
        attacker_own_ca: Leaf for ``server_name`` issued by ``attacker_root``
            (a checking client says ``unknown_ca``).
        attacker_self_signed: Self-signed leaf for ``server_name``
            (``unknown_ca``).
        attacker_other_name: Leaf for ``attacker.test`` issued by the
            legitimate ``intermediate`` (``bad_certificate``: wrong name).
        server_name: The DNS name the honest leaf is for.
    """

    root: Issued
    intermediate: Issued
    server: Issued
    attacker_root: Issued
    attacker_key: rsa.RSAPrivateKey
    attacker_own_ca: x509.Certificate
    attacker_self_signed: x509.Certificate
    attacker_other_name: x509.Certificate
    server_name: str

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        """What the honest server sends: its leaf, then the intermediate."""
        return (self.server.certificate, self.intermediate.certificate)


# --- building certificates ---------------------------------------------------


def generate_key(bits: int = DEFAULT_KEY_BITS) -> rsa.RSAPrivateKey:
    """Generate an RSA private key with public exponent 65537.

    Args:
        bits: Modulus size. Anything below 2048 is for tests of the
            weak-key check only.

    Raises:
        ValueError: If ``bits`` is below what ``cryptography`` allows (1024).
    """
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _name(common_name: str) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION)]
    # X.520 caps a common name at 64 characters; a longer DNS name lives in
    # subjectAltName alone, which is the only place §4 looks anyway.
    if len(common_name) <= 64:
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _validity(
    not_before: datetime.datetime | None,
    not_after: datetime.datetime | None,
    lifetime: datetime.timedelta,
) -> tuple[datetime.datetime, datetime.datetime]:
    now = datetime.datetime.now(datetime.UTC)
    start = now - BACKDATE if not_before is None else not_before
    end = now + lifetime if not_after is None else not_after
    return start, end


def _key_usage(*, ca: bool, end_entity: bool) -> x509.KeyUsage:
    """CAs sign certificates and CRLs; an end entity signs and decrypts."""
    return x509.KeyUsage(
        digital_signature=end_entity,
        content_commitment=False,
        key_encipherment=end_entity,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _builder(
    subject: x509.Name,
    issuer_name: x509.Name,
    public_key: rsa.RSAPublicKey,
    issuer_public_key: rsa.RSAPublicKey,
    validity: tuple[datetime.datetime, datetime.datetime],
) -> x509.CertificateBuilder:
    """Start a certificate with the fields and identifiers every one has."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public_key),
            critical=False,
        )
    )


def make_root_ca(
    common_name: str,
    *,
    key: rsa.RSAPrivateKey | None = None,
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
) -> Issued:
    """Make a self-signed root CA (cA=TRUE critical, keyCertSign + cRLSign).

    Args:
        common_name: The CN of subject and issuer (organization "toytls").
        key: The root's key; a fresh 2048-bit key when None.
        not_before: Start of validity; one hour ago when None.
        not_after: End of validity; ten years from now when None.
    """
    key = generate_key() if key is None else key
    name = _name(common_name)
    validity = _validity(not_before, not_after, ROOT_LIFETIME)
    builder = (
        _builder(name, name, key.public_key(), key.public_key(), validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(ca=True, end_entity=False), critical=True)
    )
    return Issued(certificate=builder.sign(key, hashes.SHA256()), key=key)


def make_intermediate_ca(
    issuer: Issued,
    common_name: str,
    *,
    path_length: int | None = 0,
    key: rsa.RSAPrivateKey | None = None,
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
    ca: bool = True,
) -> Issued:
    """Make an intermediate CA certificate issued by ``issuer``.

    Args:
        issuer: The CA that signs it.
        common_name: The CN of its subject.
        path_length: pathLenConstraint; 0 means it may issue leaves only,
            None means no limit. Ignored when ``ca`` is False.
        key: Its key; a fresh 2048-bit key when None.
        not_before: Start of validity; one hour ago when None.
        not_after: End of validity; five years from now when None.
        ca: False makes a certificate that is *not* a CA (cA=FALSE, keyUsage
            without keyCertSign) but is still used as an issuer: a bad
            chain for the tests of §4.
    """
    key = generate_key() if key is None else key
    validity = _validity(not_before, not_after, INTERMEDIATE_LIFETIME)
    builder = _builder(
        _name(common_name),
        issuer.certificate.subject,
        key.public_key(),
        issuer.key.public_key(),
        validity,
    ).add_extension(
        x509.BasicConstraints(ca=ca, path_length=path_length if ca else None),
        critical=True,
    )
    builder = builder.add_extension(_key_usage(ca=ca, end_entity=not ca), critical=True)
    return Issued(certificate=builder.sign(issuer.key, hashes.SHA256()), key=key)


def make_leaf(
    issuer: Issued | None,
    names: Sequence[str],
    *,
    key: rsa.RSAPrivateKey | None = None,
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
    ca: bool = False,
    eku_server_auth: bool = True,
) -> Issued:
    """Make a server (end-entity) certificate for the DNS names ``names``.

    The subject's CN is ``names[0]`` (left out if longer than 64
    characters); every name goes into subjectAltName as a dNSName, which is
    the only place §4 looks.

    Args:
        issuer: The CA that signs it, or None for a self-signed leaf.
        names: DNS names (A-labels; a left-most ``*`` label is allowed).
        key: Its key; a fresh 2048-bit key when None.
        not_before: Start of validity; one hour ago when None.
        not_after: End of validity; 825 days from now when None.
        ca: True makes the leaf claim to be a CA (cA=TRUE, keyCertSign),
            which §4 rejects.
        eku_server_auth: False puts clientAuth instead of serverAuth in
            extendedKeyUsage, which §4 rejects.

    Raises:
        ValueError: If ``names`` is empty or holds a non-ASCII name.
    """
    if not names:
        raise ValueError("a leaf certificate needs at least one DNS name")
    key = generate_key() if key is None else key
    subject = _name(names[0])
    signer = key if issuer is None else issuer.key
    issuer_name = subject if issuer is None else issuer.certificate.subject
    usage = ExtendedKeyUsageOID.SERVER_AUTH
    if not eku_server_auth:
        usage = ExtendedKeyUsageOID.CLIENT_AUTH
    key_usage = _key_usage(ca=ca, end_entity=True)
    builder = (
        _builder(
            subject,
            issuer_name,
            key.public_key(),
            signer.public_key(),
            _validity(not_before, not_after, LEAF_LIFETIME),
        )
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(key_usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
            critical=False,
        )
    )
    return Issued(certificate=builder.sign(signer, hashes.SHA256()), key=key)


def generate_pki(server_name: str = "localhost") -> PKI:
    """Make a fresh root, intermediate, server leaf and the attacker's kit.

    Validity runs from an hour ago to 825 days (leaf), five years
    (intermediate) or ten years (roots) from now.

    Args:
        server_name: The DNS name of the honest server.

    Raises:
        ValueError: If ``server_name`` is not an ASCII name.
    """
    root = make_root_ca(ROOT_COMMON_NAME)
    intermediate = make_intermediate_ca(root, INTERMEDIATE_COMMON_NAME)
    server = make_leaf(intermediate, [server_name])
    attacker_root = make_root_ca(ATTACKER_ROOT_COMMON_NAME)
    attacker_key = generate_key()
    return PKI(
        root=root,
        intermediate=intermediate,
        server=server,
        attacker_root=attacker_root,
        attacker_key=attacker_key,
        attacker_own_ca=make_leaf(attacker_root, [server_name], key=attacker_key).certificate,
        attacker_self_signed=make_leaf(None, [server_name], key=attacker_key).certificate,
        attacker_other_name=make_leaf(
            intermediate, [ATTACKER_OTHER_NAME], key=attacker_key
        ).certificate,
        server_name=server_name,
    )


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
    except ValueError as exc:
        raise PEMError(f"not a PEM certificate bundle: {exc}") from exc


def load_pem_private_key_rsa(data: bytes) -> rsa.RSAPrivateKey:
    """Parse an unencrypted PEM private key that must be RSA.

    Raises:
        PEMError: If ``data`` is not a PEM private key, is encrypted, or
            holds a key of another type.
    """
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        # TypeError is how cryptography reports an encrypted key.
        raise PEMError(f"not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise PEMError(f"expected an RSA private key, got {type(key).__name__}")
    return key


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
        raise PEMError(f"{base / name} holds {len(certs)} certificates, expected 1")
    return certs[0]


def _read_issued(base: Path, cert_name: str, key_name: str) -> Issued:
    cert = _read_one_certificate(base, cert_name)
    key = load_pem_private_key_rsa((base / key_name).read_bytes())
    if cert.public_key() != key.public_key():
        raise PEMError(f"{base / key_name} is not the key of {base / cert_name}")
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
            f"{base / CHAIN_FILE} is not {SERVER_CERT_FILE} followed by {INTERMEDIATE_CERT_FILE}"
        )
    names = dns_names(server.certificate)
    if not names:
        raise PEMError(f"{base / SERVER_CERT_FILE} has no dNSName in subjectAltName")
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
