"""``chain.check_issued_by``: the issuer's signature on a certificate, for every key type."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from lacre import der
from lacre.errors import VerificationError
from lacre.models.trust_reader import Authority, ValidityPeriod
from lacre.verify.chain import (
    _ECDSA_PARAMETERS,
    ChainValidator,
    PathCertificate,
    check_issued_by,
    check_issuer_path,
)
from lacre.x509.layout import CertificateLayout

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
_RSA = rsa.generate_private_key(65537, 2048)
KEYS: dict[str, Callable[[], CertificateIssuerPrivateKeyTypes]] = {
    "p256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "p384": lambda: ec.generate_private_key(ec.SECP384R1()),
    "rsa": lambda: _RSA,
    "ed25519": ed25519.Ed25519PrivateKey.generate,
    "ed448": ed448.Ed448PrivateKey.generate,
}
PSS = padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def certificate(
    subject: str,
    issuer: str,
    signer: CertificateIssuerPrivateKeyTypes,
    *,
    key: CertificateIssuerPrivateKeyTypes | None = None,
    rsa_padding: padding.PSS | padding.PKCS1v15 | None = None,
    extensions: Sequence[x509.ExtensionType] = (),
) -> x509.Certificate:
    """A certificate named ``subject`` for ``key`` (else ``signer``'s), signed by ``signer``.

    ``extensions`` are added as critical.
    """
    public = (key or signer).public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW)
        .not_valid_after(NOW + dt.timedelta(days=1))
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=True)
    edwards = isinstance(signer, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey)
    digest = None if edwards else hashes.SHA256()
    return builder.sign(signer, digest, rsa_padding=rsa_padding)


def _reference_accepts(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_a_certificate_signed_by_its_issuer_is_accepted(kind: str) -> None:
    issuer_key, leaf_key = KEYS[kind](), ec.generate_private_key(ec.SECP256R1())
    issuer = certificate("ca", "ca", issuer_key)
    leaf = certificate("leaf", "ca", issuer_key, key=leaf_key)
    check_issued_by(leaf, issuer)
    assert _reference_accepts(leaf, issuer)


def test_an_rsa_pss_signature_is_accepted() -> None:
    issuer = certificate("ca", "ca", _RSA, rsa_padding=PSS)
    leaf = certificate("leaf", "ca", _RSA, key=KEYS["p256"](), rsa_padding=PSS)
    check_issued_by(leaf, issuer)


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_a_certificate_signed_by_another_key_of_the_same_name_is_refused(kind: str) -> None:
    issuer = certificate("ca", "ca", KEYS[kind]())
    impostor = KEYS[kind]() if kind != "rsa" else rsa.generate_private_key(65537, 2048)
    leaf = certificate("leaf", "ca", impostor, key=KEYS["p256"]())
    with pytest.raises(VerificationError, match="is not signed by CN=ca"):
        check_issued_by(leaf, issuer)
    assert not _reference_accepts(leaf, issuer)


@pytest.mark.parametrize(
    ("signer", "holder"),
    [("rsa", "p256"), ("p256", "rsa"), ("p256", "ed25519"), ("ed25519", "p384")],
)
def test_a_signature_algorithm_the_issuer_key_cannot_make_is_refused(
    signer: str, holder: str
) -> None:
    signing_key = KEYS[signer]()
    issuer = certificate("ca", "ca", signing_key, key=KEYS[holder]())
    leaf = certificate("leaf", "ca", signing_key, key=KEYS["p256"]())
    with pytest.raises(VerificationError, match=r"is not signed by .* cannot be made by a"):
        check_issued_by(leaf, issuer)
    assert not _reference_accepts(leaf, issuer)


ECDSA_SHA384 = bytes.fromhex("300a06082a8648ce3d040303")
"""The DER AlgorithmIdentifier ecdsa-with-SHA384."""


def test_a_signature_algorithm_differing_from_the_signed_one_is_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    issuer = certificate("ca", "ca", key)
    tbs = certificate("leaf", "ca", key, key=KEYS["p256"]()).tbs_certificate_bytes
    signature = key.sign(tbs, ec.ECDSA(hashes.SHA384()))
    body = tbs + ECDSA_SHA384 + der.encode(der.BIT_STRING, b"\x00" + signature)
    leaf = x509.load_der_x509_certificate(der.encode(der.SEQUENCE, body))
    with pytest.raises(VerificationError, match="inner and outer signature algorithms differ"):
        check_issued_by(leaf, issuer)
    assert not _reference_accepts(leaf, issuer)


def test_a_certificate_naming_another_issuer_is_refused() -> None:
    key = KEYS["p256"]()
    issuer = certificate("ca", "ca", key)
    leaf = certificate("leaf", "other ca", key, key=KEYS["p256"]())
    with pytest.raises(
        VerificationError,
        match=r"the issuer names differ: expected issuer CN=ca, found issuer CN=other ca$",
    ):
        check_issued_by(leaf, issuer)
    assert not _reference_accepts(leaf, issuer)


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_a_changed_signature_is_refused(kind: str) -> None:
    key = KEYS[kind]()
    issuer = certificate("ca", "ca", key)
    der = bytearray(certificate("leaf", "ca", key, key=KEYS["p256"]()).public_bytes(Encoding.DER))
    der[-3] ^= 0x01
    leaf = x509.load_der_x509_certificate(bytes(der))
    with pytest.raises(
        VerificationError, match="is not signed by CN=ca: its signature does not verify"
    ):
        check_issued_by(leaf, issuer)
    assert not _reference_accepts(leaf, issuer)


def _ca(path_length: int | None = None) -> x509.BasicConstraints:
    return x509.BasicConstraints(ca=True, path_length=path_length)


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


CERT_SIGN = _usage(cert_sign=True)


def _path(root_extensions: Sequence[x509.ExtensionType]) -> list[x509.Certificate]:
    """An intermediate (a CA) under a root with ``root_extensions``: the issuers of a path."""
    root_key, intermediate_key = KEYS["p256"](), KEYS["p256"]()
    root = certificate("root", "root", root_key, extensions=root_extensions)
    intermediate = certificate(
        "intermediate", "root", root_key, key=intermediate_key, extensions=[_ca(0), CERT_SIGN]
    )
    return [intermediate, root]


def test_an_issuer_path_of_cas_allowed_to_sign_is_accepted() -> None:
    check_issuer_path(_path([_ca(1), CERT_SIGN]))


@pytest.mark.parametrize(
    ("root_extensions", "reason"),
    [
        ([CERT_SIGN], "issuer CN=root is not a CA"),
        ([x509.BasicConstraints(ca=False, path_length=None)], "issuer CN=root is not a CA"),
        ([_ca(0), CERT_SIGN], "path length constraint of CN=root is exceeded"),
        ([_ca(1), _usage(cert_sign=False)], "CN=root may not sign certificates"),
    ],
    ids=["no basic constraints", "not a CA", "path length", "no keyCertSign"],
)
def test_an_issuer_path_breaking_a_ca_rule_is_refused(
    root_extensions: list[x509.ExtensionType], reason: str
) -> None:
    with pytest.raises(VerificationError, match=reason):
        check_issuer_path(_path(root_extensions))


def _named(
    subject: x509.Name, issuer: x509.Name, signer: ec.EllipticCurvePrivateKey
) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(KEYS["p256"]().public_key())
        .serial_number(1)
        .not_valid_before(NOW)
        .not_valid_after(NOW + dt.timedelta(days=1))
        .sign(signer, hashes.SHA256())
    )


def test_an_issuer_name_encoded_otherwise_is_refused_as_cryptography_refuses_it() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    issuer = certificate("ca", "ca", key)
    printable = x509.NameAttribute(NameOID.COMMON_NAME, "ca", x509.name._ASN1Type.PrintableString)
    leaf = _named(_name("leaf"), x509.Name([printable]), key)
    assert leaf.issuer == issuer.subject  # equal as names, encoded apart
    with pytest.raises(
        VerificationError, match=r"names differ: .*found issuer CN=ca \(encoded otherwise\)"
    ):
        check_issued_by(PathCertificate(leaf, leaf.public_bytes(Encoding.DER)), issuer)
    assert not _reference_accepts(leaf, issuer)


Digest = hashes.SHA256 | hashes.SHA384 | hashes.SHA512


def _signed_with(digest: Digest, signer: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(_name("leaf"))
        .issuer_name(_name("ca"))
        .public_key(KEYS["p256"]().public_key())
        .serial_number(1)
        .not_valid_before(NOW)
        .not_valid_after(NOW + dt.timedelta(days=1))
        .sign(signer, digest)
    )


@pytest.mark.parametrize("digest", [hashes.SHA256(), hashes.SHA384(), hashes.SHA512()])
def test_an_ecdsa_signature_with_each_hash_is_checked_with_that_hash(digest: Digest) -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    issuer = certificate("ca", "ca", key)
    leaf = _signed_with(digest, key)
    check_issued_by(PathCertificate(leaf, leaf.public_bytes(Encoding.DER)), issuer)
    tampered = bytearray(leaf.public_bytes(Encoding.DER))
    tampered[-3] ^= 0x01
    with pytest.raises(VerificationError, match="is not signed by"):
        check_issued_by(x509.load_der_x509_certificate(bytes(tampered)), issuer)


@pytest.mark.parametrize("digest", [hashes.SHA256(), hashes.SHA384(), hashes.SHA512()])
def test_the_known_ecdsa_parameters_are_what_cryptography_reads(digest: Digest) -> None:
    cert = _signed_with(digest, ec.generate_private_key(ec.SECP256R1()))
    outer = CertificateLayout.read(cert.public_bytes(Encoding.DER)).signature_algorithm
    known, expected = _ECDSA_PARAMETERS[outer].algorithm, cert.signature_algorithm_parameters
    assert isinstance(expected, ec.ECDSA)
    assert isinstance(known, hashes.HashAlgorithm)
    assert isinstance(expected.algorithm, hashes.HashAlgorithm)
    assert known.name == expected.algorithm.name == digest.name


def _validator(usage: x509.ExtendedKeyUsage) -> tuple[ChainValidator, x509.Certificate]:
    """A validator for one CA whose intermediate has the extended key ``usage``, and a leaf."""
    root_key, intermediate_key = KEYS["p256"](), KEYS["p256"]()
    root = certificate("root", "root", root_key, extensions=[_ca(1), CERT_SIGN])
    intermediate = certificate(
        "intermediate",
        "root",
        root_key,
        key=intermediate_key,
        extensions=[_ca(0), CERT_SIGN, usage],
    )
    leaf = certificate("leaf", "intermediate", intermediate_key, key=KEYS["p256"]())
    authority = Authority(
        uri="https://ca.example", chain=(intermediate, root), validity=ValidityPeriod(start=NOW)
    )
    return ChainValidator([authority]), leaf


@pytest.mark.parametrize(
    "usages",
    [[ExtendedKeyUsageOID.CODE_SIGNING], [ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE]],
    ids=["codeSigning", "anyExtendedKeyUsage"],
)
def test_a_ca_whose_extended_key_usage_allows_code_signing_validates(
    usages: list[x509.ObjectIdentifier],
) -> None:
    validator, leaf = _validator(x509.ExtendedKeyUsage(usages))
    issuers = validator.verify(PathCertificate(leaf), [NOW + dt.timedelta(hours=1)])
    assert [cert.subject for cert in issuers] == [_name("intermediate"), _name("root")]


def test_a_ca_whose_extended_key_usage_leaves_out_code_signing_is_refused() -> None:
    # A TSA's intermediate may be restricted to timeStamping; a Fulcio CA's may not.
    validator, leaf = _validator(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]))
    with pytest.raises(VerificationError, match="does not allow code signing") as refused:
        validator.verify(PathCertificate(leaf), [NOW + dt.timedelta(hours=1)])
    assert "1.3.6.1.5.5.7.3.8" in str(refused.value)  # the timeStamping it does allow


def test_an_unreadable_issuer_name_is_reported_not_raised() -> None:
    key = KEYS["p256"]()
    issuer = certificate("ca", "ca", key)
    good = certificate("leaf", "ca", key, key=KEYS["p256"]()).public_bytes(Encoding.DER)
    name = CertificateLayout.read(good).issuer
    common_name = bytes.fromhex("0603550403")  # the OID of the issuer's commonName ...
    at = good.index(name) + name.index(common_name) + len(common_name)  # ... then its value
    damaged = good[:at] + b"\x23" + good[at + 1 :]  # tagged as no string type is
    leaf = x509.load_der_x509_certificate(damaged)  # cryptography reads names when asked
    with pytest.raises(ValueError, match="issuer"):
        _ = leaf.issuer
    with pytest.raises(
        VerificationError,
        match=r"names differ: expected issuer CN=ca, found issuer an unreadable name \(an "
        r"unexpected tag in issuer\)",
    ):
        check_issued_by(PathCertificate(leaf, damaged), issuer)
