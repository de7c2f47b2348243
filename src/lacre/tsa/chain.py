"""The timestamp authority's certificate chain: its profile, loading and issuance.

The leaf follows the Sigstore TSA profile: keyUsage digitalSignature (critical),
extendedKeyUsage timeStamping only (critical), basicConstraints CA:FALSE, subject
and authority key identifiers. A chain is ordered as trusted roots list it: leaf,
intermediates, root.

Certificates are issued with any ECDSA :class:`~lacre.keys.Signer` (a PKCS#11
key included): the TBSCertificate is built by ``cryptography`` (signed there with
a throwaway key of the same curve, which fixes the signature algorithm but not
the content), then signed by the signer and assembled with ``asn1crypto``.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from lacre.errors import ConfigError, InvalidInput
from lacre.keys import PublicKey, Signer
from lacre.x509.builders import certificate_builder, key_usage
from lacre.x509.certificates import UNREADABLE_CERTIFICATE, extension_map

_HASHES: dict[str, hashes.SHA256 | hashes.SHA384 | hashes.SHA512] = {
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}
ROOT_VALIDITY = dt.timedelta(days=3650)
"""Default lifetime of a development root and leaf."""
_TIME_STAMPING = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING])
_PEM_BEGIN = b"-----BEGIN CERTIFICATE-----"


@dataclass(frozen=True)
class TsaChain:
    """A TSA leaf, the intermediates above it and the root, checked for profile and links."""

    leaf: x509.Certificate
    root: x509.Certificate
    intermediates: tuple[x509.Certificate, ...] = ()

    def __post_init__(self) -> None:
        """Refuse a leaf outside the TSA profile or a chain whose links do not verify."""
        check_leaf(self.leaf)
        certs = self.certificates
        for child, parent in itertools.pairwise(certs):
            _check_issued(child, parent)
        _check_issued(self.root, self.root)

    @property
    def certificates(self) -> list[x509.Certificate]:
        """Leaf, intermediates, root: the order of a trusted root's TSA chain."""
        return [self.leaf, *self.intermediates, self.root]

    def pem(self) -> bytes:
        """The chain as concatenated PEM, leaf first."""
        return b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in self.certificates)

    def der(self) -> tuple[bytes, ...]:
        """The DER of every certificate, leaf first."""
        return tuple(cert.public_bytes(serialization.Encoding.DER) for cert in self.certificates)

    @classmethod
    def from_pem(cls, data: bytes) -> TsaChain:
        """Load a PEM chain, leaf first and root last (at least two certificates)."""
        if data.count(_PEM_BEGIN) < 2:
            raise ConfigError(
                "a TSA chain needs the leaf and its root",
                expected="at least 2 PEM certificates, leaf first",
                found=data.count(_PEM_BEGIN),
            )
        try:
            certs = x509.load_pem_x509_certificates(data)
        except UNREADABLE_CERTIFICATE as exc:
            raise ConfigError(f"TSA chain is not valid PEM: {exc}") from exc
        return chain_from_certificates(certs)


def check_leaf(cert: x509.Certificate) -> None:
    """Raise :class:`ConfigError` unless ``cert`` follows the TSA leaf profile."""
    try:
        extensions = extension_map(cert)
    except InvalidInput as exc:
        raise ConfigError(f"TSA certificate: {exc}") from None
    eku = extensions.get(ExtensionOID.EXTENDED_KEY_USAGE)
    key_usage = extensions.get(ExtensionOID.KEY_USAGE)
    if eku is None or key_usage is None:
        raise ConfigError(
            "TSA certificate lacks a required extension",
            expected="keyUsage and extendedKeyUsage",
            found=f"no {'extendedKeyUsage' if eku is None else 'keyUsage'}",
        )
    usage = key_usage.value
    assert isinstance(eku.value, x509.ExtendedKeyUsage) and isinstance(usage, x509.KeyUsage)
    if not eku.critical or list(eku.value) != [ExtendedKeyUsageOID.TIME_STAMPING]:
        raise ConfigError(
            "TSA certificate has the wrong extended key usage",
            expected="timeStamping only, critical",
            found=f"{[oid.dotted_string for oid in eku.value]}, critical={eku.critical}",
        )
    if not usage.digital_signature:
        raise ConfigError("TSA certificate key usage lacks digitalSignature")


def tsa_chain(
    *,
    root_signer: Signer,
    tsa_key: PublicKey,
    organization: str,
    not_before: dt.datetime,
    root_common_name: str = "lacre tsa root",
    leaf_common_name: str = "lacre tsa",
    validity: dt.timedelta = ROOT_VALIDITY,
) -> TsaChain:
    """Issue a self-signed root (by ``root_signer``) and a TSA leaf for ``tsa_key`` under it."""
    if not_before.tzinfo is None:
        raise InvalidInput("certificate times must be timezone-aware", found=not_before.isoformat())
    if not isinstance(tsa_key.key, ec.EllipticCurvePublicKey):
        raise InvalidInput(
            "TSA keys must be ECDSA", expected="P-256 or P-384", found=tsa_key.algorithm.value
        )
    _ecdsa(root_signer.public_key)
    root_name = _name(root_common_name, organization)
    root_public = root_signer.public_key.key
    assert isinstance(root_public, ec.EllipticCurvePublicKey)  # checked just above
    root_ski = x509.SubjectKeyIdentifier.from_public_key(root_public)
    root_builder = (
        certificate_builder(root_name, root_name, root_public, not_before, validity)
        .add_extension(key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(root_ski, critical=False)
    )
    leaf_builder = (
        certificate_builder(
            _name(leaf_common_name, organization), root_name, tsa_key.key, not_before, validity
        )
        .add_extension(key_usage(digital_signature=True), critical=True)
        .add_extension(_TIME_STAMPING, critical=True)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(tsa_key.key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski),
            critical=False,
        )
    )
    return TsaChain(
        leaf=sign_certificate(leaf_builder, root_signer),
        root=sign_certificate(root_builder, root_signer),
    )


def sign_certificate(builder: x509.CertificateBuilder, signer: Signer) -> x509.Certificate:
    """Sign the certificate ``builder`` describes with any ECDSA ``signer``."""
    curve, hash_name = _ecdsa(signer.public_key)
    template = builder.sign(ec.generate_private_key(curve), _HASHES[hash_name])
    tbs = template.tbs_certificate_bytes
    parsed = asn1_x509.Certificate.load(template.public_bytes(serialization.Encoding.DER))
    certificate = asn1_x509.Certificate(
        {
            "tbs_certificate": parsed["tbs_certificate"],
            "signature_algorithm": parsed["signature_algorithm"],
            "signature_value": signer.sign(tbs),
        }
    )
    return x509.load_der_x509_certificate(certificate.dump())


def _ecdsa(key: PublicKey) -> tuple[ec.EllipticCurve, str]:
    public = key.key
    hash_name = key.algorithm.hash_name
    if not isinstance(public, ec.EllipticCurvePublicKey) or hash_name is None:
        raise InvalidInput(
            "certificates are signed with ECDSA keys only",
            expected="an ECDSA P-256, P-384 or P-521 signer",
            found=key.algorithm.value,
        )
    return public.curve, hash_name


def _check_issued(child: x509.Certificate, parent: x509.Certificate) -> None:
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise ConfigError(
            "TSA chain link does not verify",
            expected=f"{child.subject.rfc4514_string()} issued by "
            f"{parent.subject.rfc4514_string()}",
            found=str(exc) or type(exc).__name__,
        ) from None


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def chain_from_certificates(certs: Sequence[x509.Certificate]) -> TsaChain:
    """A chain from certificates given leaf first and root last."""
    if len(certs) < 2:
        raise ConfigError("a TSA chain needs the leaf and its root", found=len(certs))
    return TsaChain(leaf=certs[0], root=certs[-1], intermediates=tuple(certs[1:-1]))
