"""Certificate profiles: CA chain, leaf, precertificate, SCT embedding, peer verification."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import struct

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID
from cryptography.x509.verification import Criticality, ExtensionPolicy, PolicyBuilder, Store
from sigstore._internal.sct import verify_sct
from sigstore._internal.trust import CTKeyring, Keyring
from sigstore.errors import VerificationError as SigstoreVerificationError
from sigstore.verify import policy
from sigstore_models.common import v1 as common_v1

from lacre.errors import ConfigError, InvalidInput
from lacre.keys import KeyAlgorithm, PublicKey, SoftwareSigner, generate_signer
from lacre.transparency.ct_precert import precert_tbs
from lacre.x509 import fulcio
from lacre.x509.fulcio import FulcioClaims
from lacre.x509.profile import (
    LEAF_VALIDITY,
    CaChain,
    LeafProfile,
    ca_chain,
    encode_sct_list,
)

NOW = dt.datetime(2026, 11, 22, 1, 0, tzinfo=dt.UTC)
ISSUER = "https://issuer.example"
ROOT_SIGNER = generate_signer(KeyAlgorithm.ECDSA_P384_SHA384)
INTER_SIGNER = generate_signer(KeyAlgorithm.ECDSA_P384_SHA384)
CHAIN = ca_chain(
    root_signer=ROOT_SIGNER,
    intermediate_signer=INTER_SIGNER,
    organization="lacre",
    not_before=NOW - dt.timedelta(days=1),
)
CT_KEY = ec.generate_private_key(ec.SECP256R1())
LEAF_KEY = generate_signer()
OTHER_OID = x509.ObjectIdentifier("1.2.3")
USAGE_FLAGS = [
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
]


def leaf_profile(san: x509.GeneralName | None = None) -> LeafProfile:
    return LeafProfile(
        subject_alt_name=san or x509.RFC822Name("alice@example.org"),
        public_key=LEAF_KEY.public_key,
        fulcio_extensions=FulcioClaims(issuer=ISSUER, token_subject="alice"),
        not_before=NOW,
    )


def make_sct(profile: LeafProfile, issuer: x509.Certificate, *, extensions: bytes = b"") -> bytes:
    """A CT log's SCT over the precertificate entry (RFC 6962 section 3.2)."""
    spki = issuer.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    tbs = profile.tbs_for_sct(issuer)
    timestamp = struct.pack(">Q", int(NOW.timestamp() * 1000))
    signed = (
        b"\x00\x00" + timestamp + b"\x00\x01" + hashlib.sha256(spki).digest()
        + len(tbs).to_bytes(3, "big") + tbs
        + len(extensions).to_bytes(2, "big") + extensions
    )  # fmt: skip
    signature = CT_KEY.sign(signed, ec.ECDSA(hashes.SHA256()))
    log_id = PublicKey(CT_KEY.public_key()).key_id
    return (
        b"\x00" + log_id + timestamp + len(extensions).to_bytes(2, "big") + extensions
        + b"\x04\x03" + len(signature).to_bytes(2, "big") + signature
    )  # fmt: skip


def issue(
    profile: LeafProfile, chain: CaChain = CHAIN, signer: SoftwareSigner = INTER_SIGNER
) -> x509.Certificate:
    sct_list = encode_sct_list([make_sct(profile, chain.intermediate)])
    return profile.certificate(chain.intermediate, signer, sct_list)


def verify_chain(leaf: x509.Certificate, at: dt.datetime, chain: CaChain = CHAIN) -> int:
    eku_allowed = (x509.ExtendedKeyUsage, Criticality.NON_CRITICAL, None)
    verifier = (
        PolicyBuilder()
        .store(Store([chain.root]))
        .time(at)
        .extension_policies(
            ca_policy=ExtensionPolicy.webpki_defaults_ca().may_be_present(*eku_allowed),
            ee_policy=ExtensionPolicy.webpki_defaults_ee().may_be_present(*eku_allowed),
        )
        .build_client_verifier()
    )
    return len(verifier.verify(leaf, [chain.intermediate]).chain)


def ext(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> x509.Extension[x509.ExtensionType]:
    return cert.extensions.get_extension_for_oid(oid)


def ski_of(cert: x509.Certificate) -> bytes:
    return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest


def check_ca(cert: x509.Certificate, *, path_length: int) -> None:
    assert cert.version is x509.Version.v3
    assert [a.oid for a in cert.subject] == [NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME]
    ku = ext(cert, ExtensionOID.KEY_USAGE)
    assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign  # type: ignore[attr-defined]
    assert not ku.value.digital_signature  # type: ignore[attr-defined]
    bc = ext(cert, ExtensionOID.BASIC_CONSTRAINTS)
    assert bc.critical and bc.value == x509.BasicConstraints(ca=True, path_length=path_length)
    assert ski_of(cert) == x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest
    assert 0 < cert.serial_number < 2**159


def test_root_profile() -> None:
    root = CHAIN.root
    check_ca(root, path_length=1)
    assert root.issuer == root.subject
    assert isinstance(root.signature_hash_algorithm, hashes.SHA384)
    with pytest.raises(x509.ExtensionNotFound):
        root.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    root.verify_directly_issued_by(root)


def test_intermediate_profile() -> None:
    inter = CHAIN.intermediate
    check_ca(inter, path_length=0)
    assert inter.issuer == CHAIN.root.subject
    eku = ext(inter, ExtensionOID.EXTENDED_KEY_USAGE)
    assert not eku.critical and list(eku.value) == [ExtendedKeyUsageOID.CODE_SIGNING]  # type: ignore[call-overload]
    aki = ext(inter, ExtensionOID.AUTHORITY_KEY_IDENTIFIER).value
    assert aki.key_identifier == ski_of(CHAIN.root)  # type: ignore[attr-defined]
    inter.verify_directly_issued_by(CHAIN.root)
    assert CHAIN.certificates == [inter, CHAIN.root]


def test_leaf_profile_field_by_field() -> None:
    leaf = issue(leaf_profile())
    assert leaf.version is x509.Version.v3
    assert 0 < leaf.serial_number < 2**159
    assert len(leaf.subject) == 0
    assert leaf.issuer == CHAIN.intermediate.subject
    assert leaf.not_valid_before_utc == NOW
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc == dt.timedelta(minutes=10)
    assert isinstance(leaf.signature_hash_algorithm, hashes.SHA384)
    assert leaf.public_key() == LEAF_KEY.public_key.key
    ku = ext(leaf, ExtensionOID.KEY_USAGE)
    assert ku.critical
    flags = dict.fromkeys(USAGE_FLAGS, False)
    assert ku.value == x509.KeyUsage(digital_signature=True, **flags)
    eku = ext(leaf, ExtensionOID.EXTENDED_KEY_USAGE)
    assert not eku.critical and list(eku.value) == [ExtendedKeyUsageOID.CODE_SIGNING]  # type: ignore[call-overload]
    expected_ski = x509.SubjectKeyIdentifier.from_public_key(LEAF_KEY.public_key.key).digest
    assert ski_of(leaf) == expected_ski
    aki = ext(leaf, ExtensionOID.AUTHORITY_KEY_IDENTIFIER).value
    assert aki == x509.AuthorityKeyIdentifier(ski_of(CHAIN.intermediate), None, None)
    san = ext(leaf, ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    assert san.critical and list(san.value) == [x509.RFC822Name("alice@example.org")]  # type: ignore[call-overload]
    with pytest.raises(x509.ExtensionNotFound):
        leaf.extensions.get_extension_for_class(x509.BasicConstraints)
    leaf.verify_directly_issued_by(CHAIN.intermediate)


def test_leaf_extension_order_and_both_issuers() -> None:
    leaf = issue(leaf_profile())
    assert [e.oid for e in leaf.extensions] == [
        ExtensionOID.KEY_USAGE,
        ExtensionOID.EXTENDED_KEY_USAGE,
        ExtensionOID.SUBJECT_KEY_IDENTIFIER,
        ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
        fulcio.ISSUER_OID,
        fulcio.ISSUER_V2_OID,
        fulcio.TOKEN_SUBJECT_OID,
        ExtensionOID.PRECERT_SIGNED_CERTIFICATE_TIMESTAMPS,
    ]
    raw = ext(leaf, fulcio.ISSUER_OID)
    der = ext(leaf, fulcio.ISSUER_V2_OID)
    assert not raw.critical and not der.critical
    assert raw.value.value == ISSUER.encode()  # type: ignore[attr-defined]
    assert fulcio.decode_utf8string(der.value.value) == ISSUER  # type: ignore[attr-defined]
    assert FulcioClaims.from_certificate(leaf) == leaf_profile().fulcio_extensions


def test_precertificate_poison_is_critical_null_and_last() -> None:
    profile = leaf_profile()
    precert = profile.precertificate(CHAIN.intermediate, INTER_SIGNER)
    poison = list(precert.extensions)[-1]
    assert poison.oid == ExtensionOID.PRECERT_POISON
    assert poison.critical
    assert poison.value.public_bytes() == b"\x05\x00"
    leaf = issue(profile)
    assert [e for e in precert.extensions][:-1] == [e for e in leaf.extensions][:-1]
    for attr in ("serial_number", "issuer", "subject", "not_valid_before_utc"):
        assert getattr(precert, attr) == getattr(leaf, attr)
    precert.verify_directly_issued_by(CHAIN.intermediate)


def test_final_certificate_embeds_one_sct_over_tbs_for_sct() -> None:
    profile = leaf_profile()
    tbs = profile.tbs_for_sct(CHAIN.intermediate)
    assert tbs == profile.tbs_for_sct(CHAIN.intermediate)
    leaf = issue(profile)
    sct_ext = list(leaf.extensions)[-1]
    assert sct_ext.oid == ExtensionOID.PRECERT_SIGNED_CERTIFICATE_TIMESTAMPS
    assert not sct_ext.critical
    assert leaf.tbs_precertificate_bytes == tbs
    (sct,) = list(sct_ext.value)
    assert sct.log_id == PublicKey(CT_KEY.public_key()).key_id
    assert sct.entry_type is x509.certificate_transparency.LogEntryType.PRE_CERTIFICATE
    spki = CHAIN.intermediate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signed = (
        b"\x00\x00" + struct.pack(">Q", int(sct.timestamp.timestamp() * 1000)) + b"\x00\x01"
        + hashlib.sha256(spki).digest() + len(leaf.tbs_precertificate_bytes).to_bytes(3, "big")
        + leaf.tbs_precertificate_bytes + b"\x00\x00"
    )  # fmt: skip
    CT_KEY.public_key().verify(sct.signature, signed, ec.ECDSA(hashes.SHA256()))


def test_sct_with_extensions_is_embedded_verbatim() -> None:
    profile = leaf_profile()
    sct = make_sct(profile, CHAIN.intermediate, extensions=b"\x00\x00\x05\x00\x00\x00\x00\x07")
    leaf = profile.certificate(CHAIN.intermediate, INTER_SIGNER, encode_sct_list([sct]))
    (parsed,) = list(list(leaf.extensions)[-1].value)
    assert parsed.extension_bytes == b"\x00\x00\x05\x00\x00\x00\x00\x07"


@pytest.mark.parametrize(
    "san",
    [
        x509.RFC822Name("alice@example.org"),
        x509.UniformResourceIdentifier(
            "https://github.com/o/r/.github/workflows/x.yml@refs/heads/main"
        ),
        fulcio.username_san("alice!example.org"),
    ],
)
def test_chain_verifies_with_the_web_pki_client_verifier(san: x509.GeneralName) -> None:
    leaf = issue(leaf_profile(san))
    assert verify_chain(leaf, NOW + dt.timedelta(minutes=5)) == 3
    with pytest.raises(x509.verification.VerificationError):
        verify_chain(leaf, NOW + dt.timedelta(minutes=11))


def test_p256_chain() -> None:
    root, inter = generate_signer(), generate_signer()
    chain = ca_chain(root_signer=root, intermediate_signer=inter, organization="o", not_before=NOW)
    leaf = issue(leaf_profile(), chain, inter)
    assert isinstance(leaf.signature_hash_algorithm, hashes.SHA256)
    assert verify_chain(leaf, NOW + dt.timedelta(minutes=1), chain) == 3


def test_one_profile_under_two_issuers_names_each_of_them() -> None:
    root, inter = generate_signer(), generate_signer()
    other = ca_chain(root_signer=root, intermediate_signer=inter, organization="o", not_before=NOW)
    profile = leaf_profile()
    at = NOW + dt.timedelta(minutes=1)
    for chain, signer in [(CHAIN, INTER_SIGNER), (other, inter), (CHAIN, INTER_SIGNER)]:
        precert = profile.precertificate(chain.intermediate, signer)
        leaf = issue(profile, chain, signer)
        for cert in (precert, leaf):
            assert cert.issuer == chain.intermediate.subject
            aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
            assert aki.key_identifier == ski_of(chain.intermediate)
        assert verify_chain(leaf, at, chain) == 3
        assert leaf.tbs_precertificate_bytes == precert_tbs(precert)
        assert leaf.serial_number == precert.serial_number == profile.serial_number


def test_copies_of_a_profile_do_not_share_built_certificates() -> None:
    profile = leaf_profile()
    profile.precertificate(CHAIN.intermediate, INTER_SIGNER)
    later = dataclasses.replace(profile, not_before=NOW + dt.timedelta(minutes=5))
    precert = later.precertificate(CHAIN.intermediate, INTER_SIGNER)
    assert precert.not_valid_before_utc == NOW + dt.timedelta(minutes=5)
    assert profile == dataclasses.replace(profile)  # the cache takes no part in equality


def test_sigstore_python_policies_accept_our_leaf() -> None:
    email_leaf = issue(leaf_profile())
    policy.Identity(identity="alice@example.org", issuer=ISSUER).verify(email_leaf)
    policy.OIDCIssuer(ISSUER).verify(email_leaf)
    policy.OIDCIssuerV2(ISSUER).verify(email_leaf)
    uri = "https://github.com/o/r/.github/workflows/x.yml@refs/heads/main"
    uri_leaf = issue(leaf_profile(x509.UniformResourceIdentifier(uri)))
    policy.Identity(identity=uri, issuer=ISSUER).verify(uri_leaf)
    with pytest.raises(SigstoreVerificationError):
        policy.Identity(identity="bob@example.org", issuer=ISSUER).verify(email_leaf)
    with pytest.raises(SigstoreVerificationError):
        policy.Identity(identity="alice@example.org", issuer="https://other").verify(email_leaf)


def test_sigstore_python_username_identity_reads_the_der_value() -> None:
    # sigstore-python decodes the otherName value without unwrapping the UTF8String,
    # so its Identity policy only matches the tag and length prefixed string.
    leaf = issue(leaf_profile(fulcio.username_san("alice!example.org")))
    policy.Identity(identity="\x0c\x11alice!example.org", issuer=ISSUER).verify(leaf)
    with pytest.raises(SigstoreVerificationError):
        policy.Identity(identity="alice!example.org", issuer=ISSUER).verify(leaf)


def ct_keyring(key: ec.EllipticCurvePrivateKey) -> CTKeyring:
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public_key = common_v1.PublicKey(
        raw_bytes=base64.b64encode(spki),
        key_details=common_v1.PublicKeyDetails.PKIX_ECDSA_P256_SHA_256,
    )
    return CTKeyring(Keyring([public_key]))


def test_sigstore_python_verifies_the_embedded_sct() -> None:
    leaf = issue(leaf_profile())
    verify_sct(leaf, CHAIN.certificates, ct_keyring(CT_KEY))
    with pytest.raises(SigstoreVerificationError):
        verify_sct(leaf, CHAIN.certificates, ct_keyring(ec.generate_private_key(ec.SECP256R1())))


def test_each_profile_has_its_own_serial_and_a_ten_minute_validity() -> None:
    assert leaf_profile().serial_number != leaf_profile().serial_number
    assert dt.timedelta(minutes=10) == LEAF_VALIDITY


def test_profile_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        leaf_profile().validity = dt.timedelta(days=1)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"subject_alt_name": x509.DNSName("example.org")}, "unsupported subject alternative"),
        ({"subject_alt_name": x509.OtherName(OTHER_OID, b"\x05\x00")}, "unsupported subject"),
        ({"not_before": dt.datetime(2026, 1, 1)}, "timezone-aware"),
        ({"validity": dt.timedelta(0)}, "validity must be positive"),
        ({"serial_number": 0}, "serial number out of range"),
        ({"serial_number": 2**159}, "serial number out of range"),
    ],
)
def test_leaf_profile_refuses(change: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        dataclasses.replace(leaf_profile(), **change)  # type: ignore[arg-type]


class HsmLikeSigner:
    """Satisfies the Signer protocol but holds no private key object."""

    def __init__(self) -> None:
        self._inner = generate_signer(KeyAlgorithm.ECDSA_P384_SHA384)

    @property
    def public_key(self) -> PublicKey:
        return self._inner.public_key

    def sign(self, data: bytes) -> bytes:
        return self._inner.sign(data)


def test_ca_signing_errors() -> None:
    profile = leaf_profile()
    with pytest.raises(ConfigError, match="does not match the issuer certificate"):
        profile.precertificate(CHAIN.intermediate, HsmLikeSigner())
    with pytest.raises(ConfigError, match="does not match the issuer certificate"):
        profile.precertificate(CHAIN.intermediate, ROOT_SIGNER)
    with pytest.raises(ConfigError, match=r"unsupported CA key.*found PKIX_ED25519"):
        ca_chain(
            root_signer=generate_signer(KeyAlgorithm.ED25519),
            intermediate_signer=INTER_SIGNER,
            organization="o",
            not_before=NOW,
        )
    with pytest.raises(ConfigError, match=r"unsupported CA key.*found PKIX_ECDSA_P521_SHA_512"):
        ca_chain(
            root_signer=INTER_SIGNER,
            intermediate_signer=generate_signer(KeyAlgorithm.ECDSA_P521_SHA512),
            organization="o",
            not_before=NOW,
        )
    with pytest.raises(InvalidInput, match="must not outlive the root"):
        ca_chain(
            root_signer=ROOT_SIGNER,
            intermediate_signer=INTER_SIGNER,
            organization="o",
            not_before=NOW,
            root_validity=dt.timedelta(days=1),
            intermediate_validity=dt.timedelta(days=2),
        )


def test_issuer_without_ski_is_refused() -> None:
    key = ROOT_SIGNER.private_key
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    bare = (
        x509.CertificateBuilder()
        .subject_name(CHAIN.root.subject)
        .issuer_name(CHAIN.root.subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW)
        .not_valid_after(NOW + dt.timedelta(days=1))
        .sign(key, hashes.SHA384())
    )
    with pytest.raises(InvalidInput, match="no SubjectKeyIdentifier"):
        leaf_profile().tbs_for_sct(bare)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "length prefix"),
        (b"\x00\x05\x00\x01\x00", "length prefix"),
        (b"\x00\x00", "SCT list is empty"),
        (b"\x00\x02\x00\x00", "empty or truncated"),
        (b"\x00\x03\x00\x05\x00", "empty or truncated"),
    ],
)
def test_malformed_sct_lists_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        leaf_profile().certificate(CHAIN.intermediate, INTER_SIGNER, data)


def test_encode_sct_list() -> None:
    assert encode_sct_list([b"ab", b"c"]) == b"\x00\x07\x00\x02ab\x00\x01c"
    with pytest.raises(InvalidInput, match="cannot encode SCT list"):
        encode_sct_list([])
    with pytest.raises(InvalidInput, match="cannot encode SCT list"):
        encode_sct_list([b"x" * 2**16])
    with pytest.raises(InvalidInput, match="cannot encode SCT list"):
        encode_sct_list([b"ab", b""])


def test_rsa_issuer_is_refused() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    issuer = (
        x509.CertificateBuilder()
        .subject_name(CHAIN.root.subject)
        .issuer_name(CHAIN.root.subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW)
        .not_valid_after(NOW + dt.timedelta(days=1))
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    with pytest.raises(ConfigError, match=r"unsupported CA key.*PKIX_RSA_PKCS1V15_2048"):
        leaf_profile().tbs_for_sct(issuer)
    with pytest.raises(ConfigError, match="unsupported CA key"):
        leaf_profile().precertificate(issuer, INTER_SIGNER)
