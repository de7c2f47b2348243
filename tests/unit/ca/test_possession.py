"""Requested keys: parsed, refused with the rule they break, checked only after the token."""

from __future__ import annotations

import base64

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from lacre.ca.possession import check_public_key, key_from_csr, load_public_key
from lacre.ca.requests import KeyRequest, parse_v1, parse_v2
from lacre.errors import InvalidInput, VerificationError
from lacre.keys import PublicKey


def _pem(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _der(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (
            rsa.generate_private_key(65537, 1024).public_key(),
            r"^weak RSA key: expected 2048 to 4096 bits .*, found 1024 bits, e = 65537$",
        ),
        (
            ec.generate_private_key(ec.SECP256K1()).public_key(),
            r"^unsupported curve: expected P-256, P-384 or P-521, found secp256k1$",
        ),
        (
            ec.generate_private_key(ec.SECP224R1()).public_key(),
            r"^unsupported curve: .*found secp224r1$",
        ),
        (
            dsa.generate_private_key(2048).public_key(),
            r"^unsupported key type: expected ECDSA P-256, .* or Ed25519, found DSA$",
        ),
        (ed448.Ed448PrivateKey.generate().public_key(), r"^unsupported key type: .*found Ed448$"),
        (
            x25519.X25519PrivateKey.generate().public_key(),
            r"^unsupported key type: .*found X25519 \(key agreement only\)$",
        ),
    ],
)
def test_unacceptable_keys_are_refused_naming_the_rule(key: PublicKeyTypes, message: str) -> None:
    for encoded in (_pem(key), _der(key)):
        with pytest.raises(InvalidInput, match=message):
            load_public_key(encoded)
    with pytest.raises(InvalidInput, match=message):
        check_public_key(key)


@pytest.mark.parametrize(
    "key",
    [
        ec.generate_private_key(ec.SECP256R1()).public_key(),
        ec.generate_private_key(ec.SECP521R1()).public_key(),
        rsa.generate_private_key(65537, 3072).public_key(),
        ed25519.Ed25519PrivateKey.generate().public_key(),
    ],
)
def test_acceptable_keys_load_from_pem_and_der(key: PublicKeyTypes) -> None:
    assert load_public_key(_pem(key)) == PublicKey.wrap(key)
    assert load_public_key(b"\n " + _pem(key)) == PublicKey.wrap(key)
    assert load_public_key(_der(key)) == PublicKey.wrap(key)


@pytest.mark.parametrize(
    "data",
    [b"", b"junk", b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", b"\x30" * 500],
)
def test_garbage_is_not_a_public_key(data: bytes) -> None:
    with pytest.raises(InvalidInput, match=r"^not a public key: expected PEM PUBLIC KEY or DER"):
        load_public_key(data)


def test_truncated_key_is_not_a_public_key() -> None:
    der = _der(ec.generate_private_key(ec.SECP256R1()).public_key())
    with pytest.raises(InvalidInput, match=r"^not a public key"):
        load_public_key(der[:-5])


def test_a_csr_for_an_unacceptable_key_is_refused_before_its_signature() -> None:
    key = ec.generate_private_key(ec.SECP256K1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .sign(key, hashes.SHA256())
    )
    with pytest.raises(InvalidInput, match="found secp256k1"):
        key_from_csr(csr.public_bytes(serialization.Encoding.DER))


def test_a_csr_with_a_broken_signature_says_so() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .sign(key, hashes.SHA256())
    )
    der = bytearray(csr.public_bytes(serialization.Encoding.DER))
    der[-3] ^= 0x55
    with pytest.raises(VerificationError, match="self-signature does not verify: expected"):
        key_from_csr(bytes(der))


def test_a_csr_of_an_unknown_version_is_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .sign(key, hashes.SHA256())
    )
    der = csr.public_bytes(serialization.Encoding.DER)
    version = der.index(bytes.fromhex("020100"))  # the first field: INTEGER 0 (v1)
    damaged = der[:version] + bytes.fromhex("020105") + der[version + 3 :]
    for data in (
        damaged,
        b"-----BEGIN CERTIFICATE REQUEST-----\n"
        + base64.encodebytes(damaged)
        + b"-----END CERTIFICATE REQUEST-----\n",
    ):
        with pytest.raises(InvalidInput, match="not a usable PKCS#10 request: 5 is not a valid"):
            key_from_csr(data)


def test_parsing_a_request_does_not_parse_its_key_yet() -> None:
    body = {
        "publicKeyRequest": {
            "publicKey": {"content": "not a key at all"},
            "proofOfPossession": base64.b64encode(b"sig").decode(),
        }
    }
    token, request = parse_v2(body)
    assert token is None
    assert request == KeyRequest(b"not a key at all", b"sig", "publicKeyRequest.publicKey.content")
    with pytest.raises(InvalidInput, match=r"^publicKeyRequest\.publicKey\.content: not a public"):
        request.public_key()


def test_a_legacy_key_is_base64_der() -> None:
    key = ec.generate_private_key(ec.SECP256K1()).public_key()
    body = {
        "publicKey": {"content": base64.b64encode(_der(key)).decode()},
        "signedEmailAddress": "c2ln",
    }
    with pytest.raises(InvalidInput, match=r"^publicKey\.content: unsupported curve"):
        parse_v1(body).public_key()


def test_an_overlong_field_says_how_long_it_was() -> None:
    body = {"credentials": {"oidcIdentityToken": "a" * 70_000}, "certificateSigningRequest": "AA=="}
    with pytest.raises(
        InvalidInput,
        match=r"^credentials\.oidcIdentityToken too long: expected at most 65536 .*found 70000$",
    ):
        parse_v2(body)
