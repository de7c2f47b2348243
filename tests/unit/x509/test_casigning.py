"""CA signing through any Signer: TBS built by cryptography, signed outside, checked, assembled."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import SignatureAlgorithmOID
from sigstore._internal.sct import verify_sct

from lacre.errors import ConfigError
from lacre.keys import KeyAlgorithm, PublicKey, Signer, SoftwareSigner, generate_signer
from lacre.x509.casigning import (
    MAX_SIGNATURE,
    ca_hash,
    check_issuer,
    issuer_key,
    sign_certificate,
    unsigned_tbs,
)
from lacre.x509.identity_cache import IdentityCache
from lacre.x509.profile import CaChain, ca_chain, encode_sct_list, random_serial
from tests.unit.x509.test_profile import (
    CT_KEY,
    NOW,
    ct_keyring,
    leaf_profile,
    make_sct,
    verify_chain,
)

P256, P384 = KeyAlgorithm.ECDSA_P256_SHA256, KeyAlgorithm.ECDSA_P384_SHA384
OIDS = {
    P256: SignatureAlgorithmOID.ECDSA_WITH_SHA256,
    P384: SignatureAlgorithmOID.ECDSA_WITH_SHA384,
}


class ExternalSigner:
    """A Signer holding no cryptography key object, like a PKCS#11 token; records its inputs.

    ``tamper`` rewrites each signature before it is returned.
    """

    def __init__(
        self,
        algorithm: KeyAlgorithm = P384,
        tamper: Callable[[bytes, bytes], object] | None = None,
    ) -> None:
        self._inner = generate_signer(algorithm)
        self._tamper = tamper
        self.signed: list[bytes] = []

    @property
    def public_key(self) -> PublicKey:
        return self._inner.public_key

    def sign(self, data: bytes) -> bytes:
        self.signed.append(data)
        signature = self._inner.sign(data)
        return signature if self._tamper is None else self._tamper(signature, data)  # type: ignore[return-value]


def external_chain(algorithm: KeyAlgorithm) -> tuple[CaChain, ExternalSigner, ExternalSigner]:
    root, inter = ExternalSigner(algorithm), ExternalSigner(algorithm)
    chain = ca_chain(
        root_signer=root,
        intermediate_signer=inter,
        organization="lacre",
        not_before=NOW - dt.timedelta(days=1),
    )
    return chain, root, inter


def builder(key: CertificatePublicKeyTypes | None = None) -> x509.CertificateBuilder:
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "x")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key or generate_signer().public_key.key)
        .serial_number(random_serial())
        .not_valid_before(NOW)
        .not_valid_after(NOW + dt.timedelta(days=1))
    )


@pytest.mark.parametrize("algorithm", [P256, P384])
def test_external_signer_issues_a_chain_that_verifies(algorithm: KeyAlgorithm) -> None:
    chain, root, inter = external_chain(algorithm)
    chain.root.verify_directly_issued_by(chain.root)
    chain.intermediate.verify_directly_issued_by(chain.root)
    assert len(root.signed) == 2 and not inter.signed
    assert root.signed == [
        chain.root.tbs_certificate_bytes,
        chain.intermediate.tbs_certificate_bytes,
    ]
    profile = leaf_profile()
    precert = profile.precertificate(chain.intermediate, inter)
    sct_list = encode_sct_list([make_sct(profile, chain.intermediate)])
    leaf = profile.certificate(chain.intermediate, inter, sct_list)
    assert inter.signed == [precert.tbs_certificate_bytes, leaf.tbs_certificate_bytes]
    for cert in (chain.root, chain.intermediate, precert, leaf):
        assert cert.signature_algorithm_oid == OIDS[algorithm]
    precert.verify_directly_issued_by(chain.intermediate)
    leaf.verify_directly_issued_by(chain.intermediate)
    assert leaf.tbs_precertificate_bytes == profile.tbs_for_sct(chain.intermediate)
    assert verify_chain(leaf, NOW + dt.timedelta(minutes=5), chain) == 3
    verify_sct(leaf, chain.certificates, ct_keyring(CT_KEY))


def test_both_paths_sign_the_same_tbs() -> None:
    software = generate_signer(P384)

    class Wrapped:
        public_key = software.public_key
        sign = staticmethod(software.sign)

    same = builder(software.public_key.key)
    fast, generic = sign_certificate(same, software), sign_certificate(same, Wrapped())
    assert fast.tbs_certificate_bytes == generic.tbs_certificate_bytes
    assert fast.signature_algorithm_oid == generic.signature_algorithm_oid
    assert fast.signature != generic.signature  # ECDSA is randomized; both verify
    generic.verify_directly_issued_by(fast)
    assert unsigned_tbs(same, hashes.SHA384()) == fast.tbs_certificate_bytes


def test_assembled_certificate_is_tbs_algorithm_and_bit_string() -> None:
    signer = ExternalSigner(P256)
    cert = sign_certificate(builder(), signer)
    parsed = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    assert parsed["tbs_certificate"].dump() == signer.signed[0]
    assert parsed["signature_algorithm"]["algorithm"].dotted == OIDS[P256].dotted_string
    assert parsed["signature_algorithm"]["parameters"].native is None
    assert parsed["tbs_certificate"]["signature"].dump() == parsed["signature_algorithm"].dump()
    assert parsed["signature_value"].native == cert.signature
    signer.public_key.verify(cert.signature, signer.signed[0])


def flip_last_bit(signature: bytes, _: bytes) -> bytes:
    return signature[:-1] + bytes([signature[-1] ^ 1])


OTHER_KEY = generate_signer(P384)


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (flip_last_bit, "does not verify"),
        (lambda sig, data: sig[:-3], "does not verify"),
        (lambda sig, data: OTHER_KEY.sign(data), "does not verify"),
        (lambda sig, data: OTHER_KEY.sign(data + b"x"), "does not verify"),
        (lambda sig, data: b"\x30\x00", "does not verify"),
        (lambda sig, data: b"\xff" * 64, "does not verify"),
        (lambda sig, data: b"", "malformed signature.*found 0 bytes"),
        (lambda sig, data: sig * 8, "malformed signature: expected 1 to 512 bytes"),
        (lambda sig, data: b"\x00" * (MAX_SIGNATURE + 1), "malformed signature.*found 513"),
        (lambda sig, data: b"\x00" * 10_000_000, "malformed signature"),
        (lambda sig, data: sig.hex(), "malformed signature.*str"),
        (lambda sig, data: None, "malformed signature.*NoneType"),
    ],
)
def test_a_wrong_signature_is_refused(
    tamper: Callable[[bytes, bytes], object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        sign_certificate(builder(), ExternalSigner(P384, tamper))


def test_a_wrong_signature_from_the_intermediate_is_refused_for_precert_and_final() -> None:
    chain, _, inter = external_chain(P256)
    bad = ExternalSigner(P256, flip_last_bit)
    bad._inner = inter._inner
    profile = leaf_profile()
    with pytest.raises(ConfigError, match="signature over the certificate does not verify"):
        profile.precertificate(chain.intermediate, bad)
    sct_list = encode_sct_list([make_sct(profile, chain.intermediate)])
    with pytest.raises(ConfigError, match="signature over the certificate does not verify"):
        profile.certificate(chain.intermediate, bad, sct_list)


def test_signer_errors_pass_through() -> None:
    def fail(signature: bytes, data: bytes) -> bytes:
        raise ConfigError("PKCS#11 key token='t' failed to sign: DeviceRemoved")

    with pytest.raises(ConfigError, match="DeviceRemoved"):
        sign_certificate(builder(), ExternalSigner(P256, fail))


@pytest.mark.parametrize(
    "algorithm", [KeyAlgorithm.ED25519, KeyAlgorithm.ECDSA_P521_SHA512], ids=lambda a: a.name
)
def test_other_ca_keys_are_refused_by_name(algorithm: KeyAlgorithm) -> None:
    signer = generate_signer(algorithm)
    pattern = f"unsupported CA key: expected ECDSA P-256 or P-384, found {algorithm.value}"
    with pytest.raises(ConfigError, match=pattern):
        sign_certificate(builder(), signer)
    with pytest.raises(ConfigError, match=pattern):
        ca_hash(signer.public_key)
    if algorithm is KeyAlgorithm.ED25519:
        with pytest.raises(ConfigError, match=pattern):
            sign_certificate(builder(), ExternalSigner(algorithm))


def test_issuer_certificates_with_keys_lacre_cannot_use_are_refused() -> None:
    key = ed448.Ed448PrivateKey.generate()
    cert = builder(key.public_key()).sign(key, None)
    with pytest.raises(ConfigError, match=r"unsupported CA key.*Ed448"):
        issuer_key(cert)
    with pytest.raises(ConfigError, match=r"unsupported CA key.*Ed448"):
        check_issuer(cert, generate_signer())


def test_check_issuer_names_both_keys() -> None:
    chain, root, inter = external_chain(P256)
    check_issuer(chain.intermediate, inter)
    check_issuer(chain.root, root)
    with pytest.raises(ConfigError, match=r"does not match.*CN=lacre intermediate"):
        check_issuer(chain.intermediate, root)
    assert issuer_key(chain.root) == root.public_key
    assert isinstance(ca_hash(inter.public_key), hashes.SHA256)


def test_software_signer_takes_one_signature_and_no_wrapper() -> None:
    calls: list[bytes] = []

    class Counting(SoftwareSigner):
        def sign(self, data: bytes) -> bytes:
            calls.append(data)
            return super().sign(data)

    key = ec.generate_private_key(ec.SECP384R1())
    cert = sign_certificate(builder(), Counting(key))
    assert not calls  # the builder signs with the key object itself
    PublicKey(key.public_key()).verify(cert.signature, cert.tbs_certificate_bytes)


def test_external_signer_satisfies_the_protocol() -> None:
    signer: Signer = ExternalSigner()
    assert signer.public_key.algorithm is P384


def test_a_remembered_issuer_check_still_refuses_other_signers() -> None:
    chain, root, inter = external_chain(P256)
    for _ in range(3):
        check_issuer(chain.intermediate, inter)  # accepted, then remembered
        with pytest.raises(ConfigError, match="does not match"):
            check_issuer(chain.intermediate, root)
    twin = ExternalSigner(P256)  # another signer object, another key
    with pytest.raises(ConfigError, match="does not match"):
        check_issuer(chain.intermediate, twin)


def test_a_remembered_issuer_check_is_per_certificate_object() -> None:
    chain, _, inter = external_chain(P256)
    other, _, _ = external_chain(P256)
    check_issuer(chain.intermediate, inter)
    with pytest.raises(ConfigError, match="does not match"):
        check_issuer(other.intermediate, inter)


CHAIN_P256 = external_chain(P256)[0]


def test_identity_cache_matches_the_very_objects_only() -> None:
    cache: IdentityCache[str] = IdentityCache(size=2)
    der = CHAIN_P256.intermediate.public_bytes(serialization.Encoding.DER)
    first, equal = x509.load_der_x509_certificate(der), x509.load_der_x509_certificate(der)
    assert first == equal and first is not equal
    cache.put("one", first)
    assert cache.get(first) == "one"
    assert cache.get(equal) is None  # equal contents, another object
    pair = (object(), object())
    cache.put("pair", *pair)
    assert cache.get(*pair) == "pair"
    assert cache.get(pair[1], pair[0]) is None  # order matters
    cache.put("three", object())  # full: starts afresh
    assert cache.get(first) is None and cache.get(*pair) is None
