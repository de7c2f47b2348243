"""Rekor v1 hashedrekord 0.0.1: golden bodies against sigstore-python, keys, refusals."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
import rekor_types
import rfc8785
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils
from sigstore._internal.rekor import _hashedrekord_from_parts
from sigstore._internal.rekor.client import RekorClient
from sigstore.hashes import Hashed
from sigstore_models.common.v1 import HashAlgorithm

from lacre.errors import InvalidInput, VerificationError
from lacre.rekor.kinds import canonicalize_v1, index_keys_of, kind_of

Issue = Callable[[Any, list[x509.GeneralName]], x509.Certificate]
ARTIFACT = b"hello, transparency\n"
DIGEST = hashlib.sha256(ARTIFACT).digest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def sign_p256(key: ec.EllipticCurvePrivateKey, digest: bytes = DIGEST) -> bytes:
    return key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))


def proposed(
    signature: bytes, material: bytes, value: str, algorithm: str = "sha256"
) -> dict[str, Any]:
    return {
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": algorithm, "value": value}},
            "signature": {"content": b64(signature), "publicKey": {"content": b64(material)}},
        },
    }


@pytest.fixture
def request_v1(p256: ec.EllipticCurvePrivateKey, leaf: x509.Certificate) -> dict[str, Any]:
    """What sigstore-python's Rekor v1 client sends for a signed artifact."""
    hashed = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=DIGEST)
    body = RekorClient._build_hashed_rekord_request(None, hashed, sign_p256(p256), leaf)  # type: ignore[arg-type]
    return dict(body)


def test_sigstore_python_request_gives_the_spec_body(
    request_v1: dict[str, Any], p256: ec.EllipticCurvePrivateKey, leaf: x509.Certificate
) -> None:
    entry = canonicalize_v1(request_v1)
    expected: dict[str, Any] = {
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": DIGEST.hex()}},
            "signature": {
                "content": request_v1["spec"]["signature"]["content"],
                "publicKey": {"content": b64(pem(leaf))},
            },
        },
    }
    assert entry.body == rfc8785.dumps(expected)
    assert entry.body.startswith(
        b'{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash"'
    )
    assert (entry.kind, entry.api_version) == ("hashedrekord", "0.0.1")
    assert kind_of(entry.body) == ("hashedrekord", "0.0.1")
    # what sigstore-python rebuilds when it verifies a bundle against this entry
    signature = base64.b64decode(request_v1["spec"]["signature"]["content"])
    hashed = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=DIGEST)
    rebuilt = _hashedrekord_from_parts(leaf, signature, hashed)
    assert rekor_types.Hashedrekord.model_validate_json(entry.body) == rebuilt


def test_index_keys_of_a_certificate_entry(
    request_v1: dict[str, Any], leaf: x509.Certificate
) -> None:
    entry = canonicalize_v1(request_v1)
    assert entry.index_keys == {
        f"sha256:{DIGEST.hex()}",
        hashlib.sha256(pem(leaf)).hexdigest(),
        "alice@example.com",
        "https://github.com/org/repo/.github/workflows/r.yml@refs/heads/main",
    }
    assert index_keys_of(entry.body) == entry.index_keys
    assert entry.subject_keys == frozenset()


def test_material_is_canonicalized_to_pem(
    p256: ec.EllipticCurvePrivateKey, leaf: x509.Certificate
) -> None:
    crlf_pem = pem(leaf).replace(b"\n", b"\r\n")
    der = leaf.public_bytes(serialization.Encoding.DER)
    signature = sign_p256(p256)
    bodies = {
        canonicalize_v1(proposed(signature, material, DIGEST.hex())).body
        for material in (pem(leaf), crlf_pem, der)
    }
    assert len(bodies) == 1
    body = json.loads(bodies.pop())
    assert base64.b64decode(body["spec"]["signature"]["publicKey"]["content"]) == pem(leaf)


@pytest.mark.parametrize("encoding", ["pem", "der"])
def test_p384_public_key_with_sha384(p384: ec.EllipticCurvePrivateKey, encoding: str) -> None:
    digest = hashlib.sha384(ARTIFACT).digest()
    signature = p384.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA384())))
    public = p384.public_key()
    material = (
        key_pem(public)
        if encoding == "pem"
        else public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    entry = canonicalize_v1(proposed(signature, material, digest.hex(), "sha384"))
    body = json.loads(entry.body)
    assert body["spec"]["data"]["hash"] == {"algorithm": "sha384", "value": digest.hex()}
    assert base64.b64decode(body["spec"]["signature"]["publicKey"]["content"]) == key_pem(public)
    assert entry.index_keys == {
        f"sha384:{digest.hex()}",
        hashlib.sha256(key_pem(public)).hexdigest(),
    }
    assert index_keys_of(entry.body) == entry.index_keys


def test_rsa_2048_pkcs1v15(rsa2048: rsa.RSAPrivateKey) -> None:
    signature = rsa2048.sign(DIGEST, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    entry = canonicalize_v1(proposed(signature, key_pem(rsa2048.public_key()), DIGEST.hex()))
    assert index_keys_of(entry.body) == entry.index_keys
    with pytest.raises(
        VerificationError, match=r"spec\.signature\.content: signature does not verify"
    ):
        canonicalize_v1(
            proposed(signature[:-1] + b"\x00", key_pem(rsa2048.public_key()), DIGEST.hex())
        )


def test_ca_certificate_and_chain_are_accepted(
    p256: ec.EllipticCurvePrivateKey, issue: Issue, leaf: x509.Certificate
) -> None:
    ca = (
        x509.CertificateBuilder(
            issuer_name=leaf.issuer,
            subject_name=leaf.subject,
            public_key=p256.public_key(),
            serial_number=7,
            not_valid_before=leaf.not_valid_before_utc,
            not_valid_after=leaf.not_valid_after_utc,
            extensions=[],
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(p256, hashes.SHA256())
    )
    entry = canonicalize_v1(proposed(sign_p256(p256), pem(ca), DIGEST.hex()))
    assert index_keys_of(entry.body) == entry.index_keys
    chain = pem(leaf) + pem(ca)
    chained = canonicalize_v1(proposed(sign_p256(p256), chain, DIGEST.hex()))
    assert hashlib.sha256(chain).hexdigest() in chained.index_keys
    assert "alice@example.com" in chained.index_keys


def test_wrong_key_and_flipped_signature_fail(
    request_v1: dict[str, Any], other_p256: ec.EllipticCurvePrivateKey
) -> None:
    wrong_key = copy.deepcopy(request_v1)
    wrong_key["spec"]["signature"]["publicKey"]["content"] = b64(key_pem(other_p256.public_key()))
    with pytest.raises(VerificationError, match="does not verify"):
        canonicalize_v1(wrong_key)
    flipped = copy.deepcopy(request_v1)
    signature = bytearray(base64.b64decode(flipped["spec"]["signature"]["content"]))
    signature[10] ^= 0x01
    flipped["spec"]["signature"]["content"] = b64(bytes(signature))
    with pytest.raises(VerificationError, match="does not verify"):
        canonicalize_v1(flipped)
    other_digest = copy.deepcopy(request_v1)
    other_digest["spec"]["data"]["hash"]["value"] = hashlib.sha256(b"other").hexdigest()
    with pytest.raises(VerificationError):
        canonicalize_v1(other_digest)


def test_key_and_hash_must_be_an_allowed_pair(p256: ec.EllipticCurvePrivateKey) -> None:
    digest = hashlib.sha384(ARTIFACT).digest()
    signature = p256.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA384())))
    with pytest.raises(
        InvalidInput,
        match=r"spec\.data\.hash\.algorithm: a PKIX_ECDSA_P256_SHA_256 key signs sha256",
    ):
        canonicalize_v1(proposed(signature, key_pem(p256.public_key()), digest.hex(), "sha384"))


def test_ed25519_needs_ed25519ph_which_is_refused() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    digest = hashlib.sha512(ARTIFACT).digest()
    with pytest.raises(InvalidInput, match="Ed25519ph"):
        canonicalize_v1(
            proposed(key.sign(digest), key_pem(key.public_key()), digest.hex(), "sha512")
        )
    with pytest.raises(InvalidInput, match="PKIX_ED25519_PH key signs sha512"):
        canonicalize_v1(proposed(key.sign(DIGEST), key_pem(key.public_key()), DIGEST.hex()))


REFUSALS: list[tuple[str, object, str]] = [
    (
        "spec.data.hash.algorithm",
        "md5",
        r"spec\.data\.hash\.algorithm: unsupported hash algorithm: "
        r"expected sha256, sha384 or sha512, found 'md5'",
    ),
    (
        "spec.data.hash.value",
        "ab" * 20,
        r"spec\.data\.hash\.value: expected 64 lowercase "
        r"hex digits for sha256, found 40 characters",
    ),
    (
        "spec.data.hash.value",
        DIGEST.hex().upper(),
        r"spec\.data\.hash\.value: expected 64 lowercase hex digits",
    ),
    ("spec.data.hash.value", 42, r"spec\.data\.hash\.value: expected a string, found number"),
    ("spec.data.hash", None, r"spec\.data\.hash: required field is missing"),
    ("spec.data", [], r"spec\.data: expected a JSON object, found array"),
    (
        "spec.signature.content",
        "not base64!",
        r"spec\.signature\.content: expected standard base64",
    ),
    ("spec.signature.content", "", r"spec\.signature\.content: expected non-empty base64"),
    (
        "spec.signature.publicKey.content",
        b64(b"garbage"),
        r"spec\.signature\.publicKey\.content: expected a PEM or DER certificate or public key",
    ),
    (
        "spec.signature.publicKey.content",
        b64(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
        r"spec\.signature\.publicKey\.content: not a valid PEM certificate",
    ),
    (
        "spec.signature.publicKey.content",
        b64(b"-----BEGIN RSA PRIVATE KEY-----\n"),
        r"unsupported PEM block type: expected CERTIFICATE or PUBLIC KEY, found RSA PRIVATE KEY",
    ),
    (
        "spec.signature.publicKey",
        "x",
        r"spec\.signature\.publicKey: expected a JSON object, found string",
    ),
    ("spec", True, r"spec: expected a JSON object, found boolean"),
    (
        "kind",
        "rekord",
        r"kind: unsupported entry kind 'rekord': expected one of "
        r"dsse 0\.0\.1, hashedrekord 0\.0\.1, intoto 0\.0\.2",
    ),
    (
        "apiVersion",
        "0.0.2",
        r"apiVersion: hashedrekord '0\.0\.2' is not supported: expected 0\.0\.1",
    ),
    ("apiVersion", None, r"apiVersion: required field is missing"),
]


@pytest.mark.parametrize(("path", "value", "message"), REFUSALS)
def test_refusals_name_the_field(
    request_v1: dict[str, Any], path: str, value: object, message: str
) -> None:
    mutated = copy.deepcopy(request_v1)
    *parents, last = path.split(".")
    node = mutated
    for name in parents:
        node = node[name]
    if value is None:
        del node[last]
    else:
        node[last] = value
    with pytest.raises(InvalidInput, match=message):
        canonicalize_v1(mutated)


def test_unknown_fields_are_ignored_and_not_logged(request_v1: dict[str, Any]) -> None:
    extended = copy.deepcopy(request_v1)
    extended["spec"]["extra"] = {"x": 1}
    extended["spec"]["signature"]["publicKey"]["format"] = "x509"
    assert canonicalize_v1(extended).body == canonicalize_v1(request_v1).body


def test_not_an_object_at_all() -> None:
    with pytest.raises(InvalidInput, match="request: expected a JSON object, found array"):
        canonicalize_v1([1, 2])
