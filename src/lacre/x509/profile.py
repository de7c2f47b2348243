"""Certificate profiles of the certificate authority: its CA chain and the code-signing leaf.

Builders are immutable and keyword-only. The leaf follows the Fulcio profile and
its precertificate flow for Certificate Transparency: :meth:`LeafProfile.precertificate`
goes to the CT log, :meth:`LeafProfile.tbs_for_sct` is what the log signs, and
:meth:`LeafProfile.certificate` embeds the returned SCT list; all three share one
serial, validity and extension order.

CA keys are any :class:`~lacre.keys.Signer` holding ECDSA P-256 or P-384, in memory
or in a PKCS#11 token; :mod:`lacre.x509.casigning` does the signing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat import asn1
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from lacre.errors import InvalidInput
from lacre.keys import PublicKey, Signer
from lacre.x509.builders import MAX_SERIAL, certificate_builder, key_usage
from lacre.x509.builders import random_serial as random_serial
from lacre.x509.casigning import (
    CaHash,
    ca_hash,
    check_issuer,
    issuer_key,
    sign_certificate,
    unsigned_tbs,
)
from lacre.x509.fulcio import USERNAME_OID, FulcioClaims
from lacre.x509.identity_cache import IdentityCache

LEAF_VALIDITY = dt.timedelta(minutes=10)
"""Default lifetime of a code-signing leaf."""
SCT_LIST_OID = ExtensionOID.PRECERT_SIGNED_CERTIFICATE_TIMESTAMPS
"""``1.3.6.1.4.1.11129.2.4.2``: the embedded SCT list (non-critical, last)."""
POISON_OID = ExtensionOID.PRECERT_POISON
"""``1.3.6.1.4.1.11129.2.4.3``: the precertificate poison (critical, value ``05 00``)."""

_CODE_SIGNING = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING])
_CA_USAGE = {"key_cert_sign": True, "crl_sign": True}


@dataclass(frozen=True)
class CaChain:
    """A root and the intermediate it issued."""

    root: x509.Certificate
    intermediate: x509.Certificate

    @property
    def certificates(self) -> list[x509.Certificate]:
        """Intermediate then root: the order of a trusted root's Fulcio chain."""
        return [self.intermediate, self.root]


def ca_chain(
    *,
    root_signer: Signer,
    intermediate_signer: Signer,
    organization: str,
    not_before: dt.datetime,
    root_common_name: str = "lacre root",
    intermediate_common_name: str = "lacre intermediate",
    root_validity: dt.timedelta = dt.timedelta(days=3650),
    intermediate_validity: dt.timedelta = dt.timedelta(days=3650),
) -> CaChain:
    """Issue a self-signed root and an intermediate (pathlen 0, EKU codeSigning) under it.

    Each signer may be any :class:`~lacre.keys.Signer` holding an ECDSA P-256 or P-384
    key; other keys are refused with :class:`~lacre.errors.ConfigError`.
    """
    _check_time(not_before)
    if intermediate_validity > root_validity:
        raise InvalidInput(
            "the intermediate must not outlive the root",
            expected=f"at most {root_validity}",
            found=intermediate_validity,
        )
    ca_hash(root_signer.public_key)
    ca_hash(intermediate_signer.public_key)
    root_key, inter_key = root_signer.public_key.key, intermediate_signer.public_key.key
    root_name = _name(root_common_name, organization)
    root_ski = x509.SubjectKeyIdentifier.from_public_key(root_key)
    root_builder = _ca_builder(root_name, root_name, root_key, not_before, root_validity, 1)
    root = sign_certificate(root_builder.add_extension(root_ski, critical=False), root_signer)
    inter_builder = (
        _ca_builder(
            _name(intermediate_common_name, organization),
            root_name,
            inter_key,
            not_before,
            intermediate_validity,
            0,
        )
        .add_extension(_CODE_SIGNING, critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(inter_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski),
            critical=False,
        )
    )
    intermediate = sign_certificate(inter_builder, root_signer)
    return CaChain(root=root, intermediate=intermediate)


@dataclass(frozen=True, kw_only=True)
class LeafProfile:
    """The code-signing leaf for one identity and key, per the Fulcio profile.

    ``subject_alt_name`` is an e-mail (``RFC822Name``), a ``UniformResourceIdentifier``
    or a Fulcio username ``OtherName`` (see :func:`lacre.x509.fulcio.username_san`).
    The serial is drawn once, so every certificate built from one profile shares it.
    """

    subject_alt_name: x509.GeneralName
    public_key: PublicKey
    fulcio_extensions: FulcioClaims
    not_before: dt.datetime
    validity: dt.timedelta = LEAF_VALIDITY
    serial_number: int = field(default_factory=random_serial)
    _templates: IdentityCache[x509.CertificateBuilder] = field(
        default_factory=lambda: IdentityCache(2), init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        """Refuse SAN kinds, times and serials outside the profile."""
        san = self.subject_alt_name
        if not isinstance(san, x509.RFC822Name | x509.UniformResourceIdentifier) and not (
            isinstance(san, x509.OtherName) and san.type_id == USERNAME_OID
        ):
            raise InvalidInput(
                "unsupported subject alternative name",
                expected="RFC822Name, UniformResourceIdentifier or Fulcio username OtherName",
                found=repr(san),
            )
        _check_time(self.not_before)
        if self.validity <= dt.timedelta(0):
            raise InvalidInput("leaf validity must be positive", found=self.validity)
        if not 0 < self.serial_number < MAX_SERIAL:
            raise InvalidInput(
                "serial number out of range", expected="1 to 2**159 - 1", found=self.serial_number
            )

    def precertificate(self, issuer_cert: x509.Certificate, ca_signer: Signer) -> x509.Certificate:
        """The precertificate for the CT log: the template plus the critical poison, last."""
        check_issuer(issuer_cert, ca_signer)
        builder = self._template(issuer_cert).add_extension(x509.PrecertPoison(), critical=True)
        return sign_certificate(builder, ca_signer)

    def tbs_for_sct(self, issuer_cert: x509.Certificate) -> bytes:
        """The DER TBSCertificate a CT log signs: the certificate without poison or SCT list.

        It names the signature algorithm of the issuer's key but does not depend on that key.
        """
        return unsigned_tbs(self._template(issuer_cert), _issuer_hash(issuer_cert))

    def certificate(
        self, issuer_cert: x509.Certificate, ca_signer: Signer, sct_list: bytes
    ) -> x509.Certificate:
        """The final certificate, embedding ``sct_list`` (a TLS SignedCertificateTimestampList).

        The SCT-list extension is appended last; everything else matches the precertificate.
        """
        _check_sct_list(sct_list)
        check_issuer(issuer_cert, ca_signer)
        extension = x509.UnrecognizedExtension(SCT_LIST_OID, asn1.encode_der(sct_list))
        builder = self._template(issuer_cert).add_extension(extension, critical=False)
        return sign_certificate(builder, ca_signer)

    def _template(self, issuer_cert: x509.Certificate) -> x509.CertificateBuilder:
        """The certificate every output shares, built once per issuer (builders are immutable)."""
        builder = self._templates.get(issuer_cert)
        if builder is None:
            builder = self._build_template(issuer_cert)
            self._templates.put(builder, issuer_cert)
        return builder

    def _build_template(self, issuer_cert: x509.Certificate) -> x509.CertificateBuilder:
        leaf_key = self.public_key.key
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(issuer_cert.subject)
            .public_key(leaf_key)
            .serial_number(self.serial_number)
            .not_valid_before(self.not_before)
            .not_valid_after(self.not_before + self.validity)
            .add_extension(key_usage(digital_signature=True), critical=True)
            .add_extension(_CODE_SIGNING, critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key), critical=False)
            .add_extension(_authority_key_id(issuer_cert), critical=False)
            .add_extension(x509.SubjectAlternativeName([self.subject_alt_name]), critical=True)
        )
        for extension in self.fulcio_extensions.extensions():
            builder = builder.add_extension(extension.value, critical=extension.critical)
        return builder


def encode_sct_list(scts: list[bytes]) -> bytes:
    """Encode serialized SCTs as a TLS ``SignedCertificateTimestampList``."""
    body = b"".join(len(sct).to_bytes(2, "big") + sct for sct in scts if 0 < len(sct) < 2**16)
    if not scts or len(body) != sum(len(sct) + 2 for sct in scts) or len(body) >= 2**16:
        raise InvalidInput("cannot encode SCT list", expected="1 or more SCTs, under 64 KiB")
    return len(body).to_bytes(2, "big") + body


def _check_sct_list(data: bytes) -> None:
    if len(data) < 2 or int.from_bytes(data[:2], "big") != len(data) - 2:
        raise InvalidInput("SCT list length prefix does not match", found=len(data))
    offset, count = 2, 0
    while offset < len(data):
        size = int.from_bytes(data[offset : offset + 2], "big")
        if size == 0 or offset + 2 + size > len(data):
            raise InvalidInput("SCT list entry is empty or truncated", found=f"offset {offset}")
        offset, count = offset + 2 + size, count + 1
    if count == 0:
        raise InvalidInput("SCT list is empty", expected="at least one SCT")


_authority_key_ids: IdentityCache[x509.AuthorityKeyIdentifier] = IdentityCache()
_issuer_hashes: IdentityCache[CaHash] = IdentityCache()


def _issuer_hash(issuer_cert: x509.Certificate) -> CaHash:
    """The hash ``issuer_cert``'s key signs certificates with, read once per issuer."""
    found = _issuer_hashes.get(issuer_cert)
    if found is None:
        found = ca_hash(issuer_key(issuer_cert))
        _issuer_hashes.put(found, issuer_cert)
    return found


def _authority_key_id(issuer_cert: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    """The AuthorityKeyIdentifier naming ``issuer_cert``'s key, read once per issuer."""
    found = _authority_key_ids.get(issuer_cert)
    if found is None:
        found = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(_ski(issuer_cert))
        _authority_key_ids.put(found, issuer_cert)
    return found


def _ski(cert: x509.Certificate) -> x509.SubjectKeyIdentifier:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        raise InvalidInput("the issuer certificate has no SubjectKeyIdentifier") from None


def _ca_builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: CertificatePublicKeyTypes,
    not_before: dt.datetime,
    validity: dt.timedelta,
    path_length: int,
) -> x509.CertificateBuilder:
    return (
        certificate_builder(subject, issuer, public_key, not_before, validity)
        .add_extension(key_usage(**_CA_USAGE), critical=True)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
    )


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        ]
    )


def _check_time(value: dt.datetime) -> None:
    if value.tzinfo is None:
        raise InvalidInput("certificate times must be timezone-aware", found=value.isoformat())
