"""RSA, P-521, default PublicKeyDetails and prehashed-digest verification."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, padding, rsa, utils

from lacre.errors import InvalidInput, VerificationError
from lacre.keys import KeyAlgorithm, PublicKey
from lacre.keys.public import ecdsa_parameters

MESSAGE = b"the quick brown fox"


@pytest.fixture(scope="module")
def rsa_keys() -> dict[int, rsa.RSAPrivateKey]:
    return {
        size: rsa.generate_private_key(public_exponent=65537, key_size=size)
        for size in (2048, 3072, 4096)
    }


EC_CASES = [
    (ec.SECP256R1(), hashes.SHA256(), "sha256", KeyAlgorithm.ECDSA_P256_SHA256),
    (ec.SECP384R1(), hashes.SHA384(), "sha384", KeyAlgorithm.ECDSA_P384_SHA384),
    (ec.SECP521R1(), hashes.SHA512(), "sha512", KeyAlgorithm.ECDSA_P521_SHA512),
]


@pytest.mark.parametrize(("curve", "hash_algorithm", "hash_name", "expected"), EC_CASES)
def test_ecdsa_curves(
    curve: ec.EllipticCurve,
    hash_algorithm: hashes.HashAlgorithm,
    hash_name: str,
    expected: KeyAlgorithm,
) -> None:
    private = ec.generate_private_key(curve)
    key = PublicKey(private.public_key())
    assert key.algorithm is expected
    assert key.default_details() is expected
    assert key.default_details(prehashed=False) is expected
    assert expected.hash_name == hash_name
    key.verify(private.sign(MESSAGE, ec.ECDSA(hash_algorithm)), MESSAGE)
    digest = hashlib.new(hash_name, MESSAGE).digest()
    signature = private.sign(digest, ec.ECDSA(utils.Prehashed(hash_algorithm)))
    key.verify_digest(signature, digest, hash_name)
    key.verify(signature, MESSAGE)  # the same signature: prehashing is only a calling convention
    with pytest.raises(VerificationError, match=expected.value):
        key.verify_digest(signature, bytes([digest[0] ^ 1]) + digest[1:], hash_name)


@pytest.mark.parametrize("size", [2048, 3072, 4096])
def test_rsa_pkcs1v15_and_pss(rsa_keys: dict[int, rsa.RSAPrivateKey], size: int) -> None:
    private = rsa_keys[size]
    key = PublicKey(private.public_key())
    default = KeyAlgorithm(f"PKIX_RSA_PKCS1V15_{size}_SHA256")
    pss = KeyAlgorithm(f"PKIX_RSA_PSS_{size}_SHA256")
    assert key.algorithm is default
    assert key.default_details() is default
    digest = hashlib.sha256(MESSAGE).digest()
    pkcs1 = private.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    key.verify_digest(pkcs1, digest, "sha256")
    key.verify(pkcs1, MESSAGE)
    pss_padding = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    pss_signature = private.sign(MESSAGE, pss_padding, hashes.SHA256())
    key.verify(pss_signature, MESSAGE, algorithm=pss)
    key.verify_digest(pss_signature, digest, "sha256", algorithm=pss)
    with pytest.raises(VerificationError, match=default.value):
        key.verify(pss_signature, MESSAGE)
    with pytest.raises(VerificationError, match=pss.value):
        key.verify(pkcs1, MESSAGE, algorithm=pss)


def test_rsa_keys_round_trip_pem_and_der(rsa_keys: dict[int, rsa.RSAPrivateKey]) -> None:
    key = PublicKey(rsa_keys[2048].public_key())
    assert PublicKey.from_pem(key.pem).spki_der == key.spki_der
    assert PublicKey.from_der(key.spki_der).key_id == key.key_id


def test_ed25519_defaults_and_ed25519ph_refusal() -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    key = PublicKey(private.public_key())
    assert key.algorithm is KeyAlgorithm.ED25519
    assert key.default_details() is KeyAlgorithm.ED25519_PH
    assert key.default_details(prehashed=False) is KeyAlgorithm.ED25519
    assert KeyAlgorithm.ED25519.hash_name is None
    assert KeyAlgorithm.ED25519_PH.hash_name == "sha512"
    key.verify(private.sign(MESSAGE), MESSAGE)
    digest = hashlib.sha512(MESSAGE).digest()
    with pytest.raises(InvalidInput, match=r"Ed25519ph .* cannot be verified"):
        key.verify_digest(private.sign(digest), digest, "sha512")
    with pytest.raises(InvalidInput, match="Ed25519ph"):
        key.verify(private.sign(MESSAGE), MESSAGE, algorithm=KeyAlgorithm.ED25519_PH)


def test_digest_must_fit_its_hash() -> None:
    key = PublicKey(ec.generate_private_key(ec.SECP256R1()).public_key())
    with pytest.raises(
        InvalidInput, match="sha256 digest has the wrong length: expected 32 bytes, found 20 bytes"
    ):
        key.verify_digest(b"sig", b"\0" * 20, "sha256")
    with pytest.raises(
        InvalidInput,
        match="unsupported digest algorithm: expected sha256, sha384 or sha512, found md5",
    ):
        key.verify_digest(b"sig", b"\0" * 16, "md5")


def test_algorithm_must_fit_the_key() -> None:
    key = PublicKey(ec.generate_private_key(ec.SECP256R1()).public_key())
    with pytest.raises(
        InvalidInput, match="algorithm does not fit the PKIX_ECDSA_P256_SHA_256 key"
    ):
        key.verify(b"sig", MESSAGE, algorithm=KeyAlgorithm.RSA_PSS_2048_SHA256)


def test_garbage_signatures_fail_verification(rsa_keys: dict[int, rsa.RSAPrivateKey]) -> None:
    for public in (
        rsa_keys[2048].public_key(),
        ec.generate_private_key(ec.SECP521R1()).public_key(),
    ):
        with pytest.raises(VerificationError):
            PublicKey(public).verify(b"\x00garbage", MESSAGE)


def test_unsupported_keys_are_refused() -> None:
    small_rsa = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    with pytest.raises(
        InvalidInput, match=r"unsupported public key type: .* found .*RSA.*\(1024 bits\)"
    ):
        PublicKey(small_rsa)
    with pytest.raises(InvalidInput, match="unsupported public key type"):
        PublicKey.wrap(ec.generate_private_key(ec.SECP224R1()).public_key())
    dsa_der = (
        dsa.generate_private_key(key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    for _ in range(2):  # the second refusal comes from what is remembered of the key's class
        with pytest.raises(InvalidInput, match="unsupported public key type"):
            PublicKey.from_der(dsa_der)
    with pytest.raises(InvalidInput, match=r"unsupported public key type: .* found object"):
        PublicKey.wrap(object())


def test_key_details_names() -> None:
    assert (
        KeyAlgorithm.from_details("PKIX_RSA_PKCS1V15_4096_SHA256")
        is KeyAlgorithm.RSA_PKCS1V15_4096_SHA256
    )
    assert KeyAlgorithm.ECDSA_P521_SHA512.key_details == "PKIX_ECDSA_P521_SHA_512"
    with pytest.raises(
        InvalidInput,
        match=r"unsupported PublicKeyDetails: expected one of .* found 'PKIX_ECDSA_P384_SHA_256'",
    ):
        KeyAlgorithm.from_details("PKIX_ECDSA_P384_SHA_256")


@pytest.mark.parametrize(("curve", "digest", "name", "algorithm"), EC_CASES)
def test_ecdsa_parameters_are_made_once_per_hash(
    curve: ec.EllipticCurve, digest: hashes.HashAlgorithm, name: str, algorithm: KeyAlgorithm
) -> None:
    plain, prehashed = ecdsa_parameters(name), ecdsa_parameters(name, True)
    assert ecdsa_parameters(name) is plain
    assert isinstance(plain.algorithm, type(digest))
    assert isinstance(prehashed.algorithm, utils.Prehashed)
    key = ec.generate_private_key(curve)
    signature = key.sign(MESSAGE, plain)
    key.public_key().verify(signature, hashlib.new(name, MESSAGE).digest(), prehashed)
