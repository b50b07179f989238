"""Making certificates for toytls: a small PKI that follows the profile of §4.

A real server gets its certificate from a CA; a teaching protocol has to
make its own. :func:`generate_pki` builds a three-level chain like Let's
Encrypt's (root "X1" → intermediate "R3" → leaf) plus the certificates a
man in the middle would try to pass off as the server's (see :class:`PKI`),
all carrying one attacker key, so that he can read whatever a client that
skips §4 encrypts to them.

Every primitive and every encoding comes from ``cryptography``. The
``make_*`` builders take enough parameters (key, validity, ``ca``, EKU) for
tests to build each bad chain of the §4 table. Nothing here touches a file:
:mod:`toytls.pki.files` reads and writes them.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

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


@dataclass(frozen=True, kw_only=True, slots=True)
class AttackerKit:
    """The attacker's own material: his key pair, his root, his genuine cert."""

    key: rsa.RSAPrivateKey
    root: Issued
    other_name: x509.Certificate


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
