"""Issuance: principal and key to a Fulcio-profile certificate with an embedded, valid SCT."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from lacre.ca.ctlog import CtLog
from lacre.ca.issuer import CertificateAuthority
from lacre.ca.possession import check_key_strength, check_signed_name, key_from_csr
from lacre.errors import ConfigError, InvalidInput, VerificationError
from lacre.keys import KeyAlgorithm, PublicKey, SoftwareSigner, generate_signer
from lacre.oidc import IssuerConfig, Principal
from lacre.oidc.principal import principal_for
from lacre.transparency.ct import PrecertEntry, SignedCertificateTimestamp, verify_sct
from lacre.x509.fulcio import FulcioClaims
from lacre.x509.profile import CaChain, LeafProfile
from tests.unit.tsa.support import WrappedSigner

NOW = dt.datetime.now(dt.UTC)
ISSUER = "https://accounts.example.com"


@pytest.fixture
def authority(
    ca: tuple[CaChain, SoftwareSigner], ctlog: CtLog, ct_signer: SoftwareSigner
) -> tuple[CertificateAuthority, SoftwareSigner]:
    return CertificateAuthority(ca[0], ca[1], ctlog), ct_signer


def _principal(email: str = "alice@example.com") -> Principal:
    claims = {"iss": ISSUER, "sub": "1234", "email": email, "email_verified": True}
    return principal_for(IssuerConfig(url=ISSUER, type="email"), claims)  # type: ignore[arg-type]


def test_issued_certificate_names_the_principal_and_carries_a_valid_sct(
    authority: tuple[CertificateAuthority, SoftwareSigner],
) -> None:
    ca, ct_signer = authority
    key = generate_signer().public_key
    issued = asyncio.run(ca.issue(_principal(), key))
    leaf, intermediate, root = issued.certificates
    assert root == ca.chain.root and intermediate == ca.chain.intermediate
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.RFC822Name) == ["alice@example.com"]
    assert FulcioClaims.from_certificate(leaf).issuer == ISSUER
    assert PublicKey.wrap(leaf.public_key()) == key
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc == dt.timedelta(minutes=10)
    (embedded,) = leaf.extensions.get_extension_for_class(
        x509.PrecertificateSignedCertificateTimestamps
    ).value
    sct = SignedCertificateTimestamp.decode(_tls_sct(leaf))
    assert sct.timestamp == int(embedded.timestamp.replace(tzinfo=dt.UTC).timestamp() * 1000)
    issuer_hash = hashlib.sha256(
        intermediate.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    ).digest()
    verify_sct(sct, ct_signer.public_key, PrecertEntry(issuer_hash, leaf.tbs_precertificate_bytes))
    leaf.verify_directly_issued_by(intermediate)
    assert issued.pem()[0].startswith("-----BEGIN CERTIFICATE-----")


def _tls_sct(leaf: x509.Certificate) -> bytes:
    """The single serialized SCT inside the leaf's SCT-list extension."""
    from lacre.transparency.ct_precert import parse_sct_list

    value = leaf.extensions.get_extension_for_oid(
        x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
    ).value
    (sct,) = parse_sct_list(value.public_bytes())
    return sct.encode()


def test_weak_keys_are_refused_before_anything_is_logged(
    authority: tuple[CertificateAuthority, SoftwareSigner],
) -> None:
    ca, _ = authority
    weak = PublicKey.wrap(rsa.generate_private_key(3, 2048).public_key())
    with pytest.raises(InvalidInput, match="weak RSA key"):
        asyncio.run(ca.issue(_principal(), weak))
    assert ca._ctlog.log.reader.state().size == 0


def test_key_strength_rules() -> None:
    check_key_strength(generate_signer(KeyAlgorithm.ED25519).public_key)
    check_key_strength(PublicKey.wrap(rsa.generate_private_key(65537, 2048).public_key()))
    with pytest.raises(InvalidInput, match="e = 3"):
        check_key_strength(PublicKey.wrap(rsa.generate_private_key(3, 2048).public_key()))


@pytest.mark.parametrize(
    "algorithm",
    [KeyAlgorithm.ECDSA_P256_SHA256, KeyAlgorithm.ECDSA_P384_SHA384, KeyAlgorithm.ED25519],
)
def test_signed_name_is_the_proof_of_possession(algorithm: KeyAlgorithm) -> None:
    signer = generate_signer(algorithm)
    check_signed_name(signer.public_key, "alice@example.com", signer.sign(b"alice@example.com"))
    with pytest.raises(VerificationError, match=r"over 'alice@example\.com'"):
        check_signed_name(signer.public_key, "alice@example.com", signer.sign(b"bob@example.com"))
    with pytest.raises(VerificationError):
        check_signed_name(
            generate_signer(algorithm).public_key,
            "alice@example.com",
            signer.sign(b"alice@example.com"),
        )


def _csr(key: ec.EllipticCurvePrivateKey) -> x509.CertificateSigningRequest:
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.EMAIL_ADDRESS, "alice@example.com")]))
        .sign(key, hashes.SHA256())
    )


def test_csr_gives_its_key_when_its_signature_verifies() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = _csr(key)
    expected = PublicKey.wrap(key.public_key())
    assert key_from_csr(csr.public_bytes(serialization.Encoding.PEM)) == expected
    assert key_from_csr(csr.public_bytes(serialization.Encoding.DER)) == expected
    der = bytearray(csr.public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0x01
    with pytest.raises((InvalidInput, VerificationError)):
        key_from_csr(bytes(der))
    with pytest.raises(InvalidInput, match="not a usable PKCS#10 request"):
        key_from_csr(
            b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"
        )


def test_issued_chain_pem_is_every_certificate_leaf_first(
    authority: tuple[CertificateAuthority, SoftwareSigner],
) -> None:
    ca, _ = authority
    issued = asyncio.run(ca.issue(_principal(), generate_signer().public_key))
    encoded = [c.public_bytes(serialization.Encoding.PEM).decode() for c in issued.certificates]
    assert issued.pem() == encoded


def test_one_certificate_takes_one_ca_signature(
    ca: tuple[CaChain, SoftwareSigner], ctlog: CtLog, ct_signer: SoftwareSigner
) -> None:
    chain, inner = ca
    signer = WrappedSigner(inner)
    authority = CertificateAuthority(chain, signer, ctlog)
    issued = asyncio.run(authority.issue(_principal(), generate_signer().public_key))
    assert signer.calls == 1  # the final certificate; no precertificate is signed
    leaf = issued.certificates[0]
    leaf.verify_directly_issued_by(chain.intermediate)
    issuer_hash = hashlib.sha256(
        chain.intermediate.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    ).digest()
    sct = SignedCertificateTimestamp.decode(_tls_sct(leaf))
    verify_sct(sct, ct_signer.public_key, PrecertEntry(issuer_hash, leaf.tbs_precertificate_bytes))


def test_a_certificate_that_does_not_match_its_logged_entry_is_not_returned(
    authority: tuple[CertificateAuthority, SoftwareSigner], monkeypatch: pytest.MonkeyPatch
) -> None:
    ca, _ = authority
    original = LeafProfile.tbs_for_sct

    def drifting(self: LeafProfile, issuer: x509.Certificate) -> bytes:
        return original(dataclasses.replace(self, serial_number=self.serial_number + 1), issuer)

    monkeypatch.setattr(LeafProfile, "tbs_for_sct", drifting)
    with pytest.raises(ConfigError, match="differs from the one its SCT was made for"):
        asyncio.run(ca.issue(_principal(), generate_signer().public_key))
