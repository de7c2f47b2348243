"""The TSA certificate chain: profile, links, PEM round trip, issuance with any signer."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, SignatureAlgorithmOID

from lacre.errors import ConfigError, InvalidInput
from lacre.keys import KeyAlgorithm, generate_signer
from lacre.tsa import TsaChain, check_leaf, sign_certificate, tsa_chain
from tests.unit.tsa.support import NOW, WrappedSigner


def chain_for(**changes: object) -> TsaChain:
    arguments: dict[str, object] = {
        "root_signer": generate_signer(KeyAlgorithm.ECDSA_P384_SHA384),
        "tsa_key": generate_signer().public_key,
        "organization": "example",
        "not_before": NOW,
    }
    arguments.update(changes)
    return tsa_chain(**arguments)  # type: ignore[arg-type]


def test_leaf_profile() -> None:
    chain = chain_for()
    leaf = chain.leaf
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    constraints = leaf.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca is False
    ski = leaf.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(leaf.public_key())
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    root_ski = chain.root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == root_ski.digest
    assert leaf.not_valid_before_utc == NOW.replace(microsecond=0)
    assert leaf.issuer == chain.root.subject
    assert leaf.signature_algorithm_oid == SignatureAlgorithmOID.ECDSA_WITH_SHA384


def test_root_profile() -> None:
    root = chain_for().root
    constraints = root.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca
    usage = root.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign and not usage.digital_signature
    assert root.subject == root.issuer
    root.verify_directly_issued_by(root)


def test_order_pem_and_der() -> None:
    chain = chain_for()
    assert chain.certificates == [chain.leaf, chain.root]
    assert TsaChain.from_pem(chain.pem()) == chain
    assert len(chain.der()) == 2


def test_any_signer_issues_the_chain() -> None:
    root = WrappedSigner(generate_signer(KeyAlgorithm.ECDSA_P256_SHA256))
    chain = chain_for(root_signer=root)
    assert root.calls == 2
    assert chain.root.signature_algorithm_oid == SignatureAlgorithmOID.ECDSA_WITH_SHA256


def test_ed25519_root_is_refused() -> None:
    with pytest.raises(InvalidInput, match="ECDSA"):
        chain_for(root_signer=generate_signer(KeyAlgorithm.ED25519))


def test_ed25519_tsa_key_is_refused() -> None:
    with pytest.raises(InvalidInput, match="TSA keys must be ECDSA"):
        chain_for(tsa_key=generate_signer(KeyAlgorithm.ED25519).public_key)


def test_naive_time_is_refused() -> None:
    with pytest.raises(InvalidInput, match="timezone"):
        chain_for(not_before=dt.datetime(2026, 1, 1))


def test_broken_links_are_refused() -> None:
    one, other = chain_for(), chain_for()
    with pytest.raises(ConfigError, match="does not verify"):
        TsaChain(leaf=one.leaf, root=other.root)


@pytest.mark.parametrize(
    ("pem", "words"),
    [
        (b"", "at least 2"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" * 2, "not valid PEM"),
    ],
)
def test_bad_pem_chains(pem: bytes, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        TsaChain.from_pem(pem)


def test_single_certificate_is_not_a_chain() -> None:
    with pytest.raises(ConfigError, match="at least 2"):
        TsaChain.from_pem(
            chain_for().pem().split(b"-----END CERTIFICATE-----")[0]
            + b"-----END CERTIFICATE-----\n"
        )


def leaf_with(
    eku: x509.ExtendedKeyUsage | None, critical: bool, usage: bool = True
) -> x509.Certificate:
    signer = generate_signer()
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(x509.Name([]))
        .public_key(signer.public_key.key)
        .serial_number(1)
        .not_valid_before(NOW)
        .not_valid_after(NOW + dt.timedelta(days=1))
        .add_extension(
            x509.KeyUsage(usage, False, False, False, False, not usage, False, False, False),
            critical=True,
        )
    )
    if eku is not None:
        builder = builder.add_extension(eku, critical=critical)
    return sign_certificate(builder, signer)


@pytest.mark.parametrize(
    ("eku", "critical", "usage", "words"),
    [
        (None, False, True, "lacks a required extension"),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), False, True, "critical=False"),
        (
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]),
            True,
            True,
            "1.3.6.1.5.5.7.3.3",
        ),
        (
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.TIME_STAMPING, ExtendedKeyUsageOID.CODE_SIGNING]
            ),
            True,
            True,
            "timeStamping only",
        ),
        (
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
            True,
            False,
            "digitalSignature",
        ),
    ],
)
def test_leaf_profile_checks(
    eku: x509.ExtendedKeyUsage | None, critical: bool, usage: bool, words: str
) -> None:
    with pytest.raises(ConfigError, match=words):
        check_leaf(leaf_with(eku, critical, usage))
