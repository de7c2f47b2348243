"""Rekor v2: hashedrekord 0.0.2 and dsse 0.0.2 against sigstore-python's builders and models."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from typing import Any

import pytest
import rfc8785
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils
from sigstore._internal.rekor.client_v2 import RekorV2Client
from sigstore.dsse import DigestSet, StatementBuilder, Subject, _sign
from sigstore.hashes import Hashed
from sigstore_models.common.v1 import HashAlgorithm, HashOutput, PublicKeyDetails, X509Certificate
from sigstore_models.rekor import v2

from lacre import dsse
from lacre.errors import InvalidInput, VerificationError
from lacre.rekor.kinds import canonicalize_v2, index_keys_of, kind_of

DIGEST = hashlib.sha256(b"artifact").digest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def spki(key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_request(signature: bytes, digest: bytes, public: bytes, details: str) -> dict[str, Any]:
    return {
        "hashedRekordRequestV002": {
            "digest": b64(digest),
            "signature": {
                "content": b64(signature),
                "verifier": {"publicKey": {"rawBytes": b64(public)}, "keyDetails": details},
            },
        }
    }


def expected_entry(signature: bytes, digest: bytes, cert: x509.Certificate) -> v2.entry.Entry:
    """The entry sigstore-python (and sigstore-go) rebuild from a bundle to check the leaf."""
    return v2.entry.Entry(
        kind="hashedrekord",
        api_version="0.0.2",
        spec=v2.entry.Spec(
            hashed_rekord_v002=v2.hashedrekord.HashedRekordLogEntryV002(
                data=HashOutput(algorithm=HashAlgorithm.SHA2_256, digest=base64.b64encode(digest)),
                signature=v2.verifier.Signature(
                    content=base64.b64encode(signature),
                    verifier=v2.verifier.Verifier(
                        x509_certificate=X509Certificate(raw_bytes=base64.b64encode(der(cert))),
                        key_details=PublicKeyDetails.PKIX_ECDSA_P256_SHA_256,
                    ),
                ),
            )
        ),
    )


@pytest.fixture
def signature(p256: ec.EllipticCurvePrivateKey) -> bytes:
    return p256.sign(DIGEST, ec.ECDSA(utils.Prehashed(hashes.SHA256())))


def test_sigstore_python_hashedrekord_gives_the_rebuildable_leaf(
    signature: bytes, leaf: x509.Certificate
) -> None:
    hashed = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=DIGEST)
    request = dict(RekorV2Client._build_hashed_rekord_request(hashed, signature, leaf))
    entry = canonicalize_v2(request)
    expected = expected_entry(signature, DIGEST, leaf)
    assert entry.body == rfc8785.dumps(expected.to_dict())
    assert v2.entry.Entry.from_json(entry.body) == expected
    assert entry.body.startswith(
        b'{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{"hashedRekordV002":'
        b'{"data":{"algorithm":"SHA2_256","digest":"'
    )
    assert kind_of(entry.body) == ("hashedrekord", "0.0.2")
    assert entry.index_keys == {
        f"sha256:{DIGEST.hex()}",
        hashlib.sha256(leaf.public_bytes(serialization.Encoding.PEM)).hexdigest(),
        "alice@example.com",
        "https://github.com/org/repo/.github/workflows/r.yml@refs/heads/main",
    }
    assert index_keys_of(entry.body) == entry.index_keys


def test_sigstore_python_dsse_as_hashedrekord(
    p256: ec.EllipticCurvePrivateKey, leaf: x509.Certificate
) -> None:
    statement = (
        StatementBuilder()
        .subjects([Subject(name="a", digest=DigestSet.model_validate({"sha256": DIGEST.hex()}))])
        .predicate_type("https://example.com/p")
        .build()
    )
    envelope = _sign(p256, statement)
    entry = canonicalize_v2(dict(RekorV2Client._build_dsse_request(envelope, leaf)))
    digest = hashlib.sha256(envelope.pae()).digest()
    assert v2.entry.Entry.from_json(entry.body) == expected_entry(envelope.signature, digest, leaf)


def test_snake_case_url_safe_and_enum_numbers_are_read(
    signature: bytes, p256: ec.EllipticCurvePrivateKey
) -> None:
    camel = key_request(signature, DIGEST, spki(p256.public_key()), "PKIX_ECDSA_P256_SHA_256")
    snake = {
        "hashed_rekord_request_v002": {
            "digest": base64.urlsafe_b64encode(DIGEST).decode().rstrip("="),
            "signature": {
                "content": b64(signature),
                "verifier": {
                    "public_key": {"raw_bytes": b64(spki(p256.public_key()))},
                    "key_details": 5,
                },
            },
        }
    }
    assert canonicalize_v2(snake).body == canonicalize_v2(camel).body
    body = json.loads(canonicalize_v2(camel).body)
    assert body["spec"]["hashedRekordV002"]["signature"]["verifier"] == {
        "keyDetails": "PKIX_ECDSA_P256_SHA_256",
        "publicKey": {"rawBytes": b64(spki(p256.public_key()))},
    }


def test_p384_and_rsa_keys(p384: ec.EllipticCurvePrivateKey, rsa2048: rsa.RSAPrivateKey) -> None:
    digest384 = hashlib.sha384(b"artifact").digest()
    sig384 = p384.sign(digest384, ec.ECDSA(utils.Prehashed(hashes.SHA384())))
    entry = canonicalize_v2(
        key_request(sig384, digest384, spki(p384.public_key()), "PKIX_ECDSA_P384_SHA_384")
    )
    assert json.loads(entry.body)["spec"]["hashedRekordV002"]["data"]["algorithm"] == "SHA2_384"
    assert f"sha384:{digest384.hex()}" in index_keys_of(entry.body)
    sig_rsa = rsa2048.sign(DIGEST, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    details = "PKIX_RSA_PKCS1V15_2048_SHA256"
    assert canonicalize_v2(
        key_request(sig_rsa, DIGEST, spki(rsa2048.public_key()), details)
    ).index_keys


REFUSALS: list[tuple[str, str, str]] = [
    (
        "PKIX_ED25519",
        "ed25519",
        r"keyDetails: PKIX_ED25519 is not allowed \(pure Ed25519 cannot sign a prehashed digest\)",
    ),
    ("PKIX_ED25519_PH", "ed25519", "Ed25519ph"),
    (
        "PKIX_ECDSA_P384_SHA_384",
        "p256",
        r"keyDetails: does not match the key .*expected PKIX_ECDSA_P256_SHA_256, "
        r"found PKIX_ECDSA_P384_SHA_384",
    ),
    ("PKIX_RSA_PSS_2048_SHA256", "p256", r"keyDetails: PKIX_RSA_PSS_2048_SHA256 is not allowed"),
    ("PKIX_ECDSA_P384_SHA_256", "p256", r"keyDetails: unsupported PublicKeyDetails"),
]


@pytest.mark.parametrize(("details", "key_name", "message"), REFUSALS)
def test_key_details_must_be_allowed_and_the_default(
    details: str, key_name: str, message: str, p256: ec.EllipticCurvePrivateKey, signature: bytes
) -> None:
    public = spki(
        p256.public_key()
        if key_name == "p256"
        else ed25519.Ed25519PrivateKey.generate().public_key()
    )
    digest = DIGEST if key_name == "p256" else hashlib.sha512(b"artifact").digest()
    with pytest.raises(InvalidInput, match=message):
        canonicalize_v2(key_request(signature, digest, public, details))


def test_digest_length_must_fit_the_algorithm(
    signature: bytes, p256: ec.EllipticCurvePrivateKey
) -> None:
    request = key_request(
        signature, DIGEST[:20], spki(p256.public_key()), "PKIX_ECDSA_P256_SHA_256"
    )
    with pytest.raises(
        InvalidInput,
        match=r"hashedRekordRequestV002\.digest: expected 32 bytes "
        r"for SHA2_256 \(PKIX_ECDSA_P256_SHA_256\), found 20",
    ):
        canonicalize_v2(request)


def test_signature_failures(
    signature: bytes, other_p256: ec.EllipticCurvePrivateKey, p256: ec.EllipticCurvePrivateKey
) -> None:
    wrong_key = key_request(
        signature, DIGEST, spki(other_p256.public_key()), "PKIX_ECDSA_P256_SHA_256"
    )
    with pytest.raises(
        VerificationError,
        match=r"hashedRekordRequestV002\.signature\.content: signature does not verify",
    ):
        canonicalize_v2(wrong_key)
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    with pytest.raises(VerificationError):
        canonicalize_v2(
            key_request(flipped, DIGEST, spki(p256.public_key()), "PKIX_ECDSA_P256_SHA_256")
        )


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda r: r.update(dsseRequestV002={}),
            r"request: expected exactly one of .* found hashedRekordRequestV002 "
            r"and dsseRequestV002",
        ),
        (lambda r: r.clear(), r"found neither"),
        (
            lambda r: r["hashedRekordRequestV002"]["signature"]["verifier"].update(
                x509Certificate={"rawBytes": "AAAA"}
            ),
            r"verifier: expected one of x509Certificate or publicKey, found both",
        ),
        (
            lambda r: r["hashedRekordRequestV002"]["signature"]["verifier"].pop("publicKey"),
            r"found neither",
        ),
        (
            lambda r: r["hashedRekordRequestV002"]["signature"]["verifier"]["publicKey"].update(
                rawBytes=b64(b"junk")
            ),
            r"publicKey\.rawBytes: public key is not valid DER",
        ),
        (
            lambda r: r["hashedRekordRequestV002"]["signature"]["verifier"].update(keyDetails=99),
            r"keyDetails: unsupported PublicKeyDetails number 99",
        ),
        (
            lambda r: r["hashedRekordRequestV002"].update(digest="!!"),
            r"hashedRekordRequestV002\.digest: expected base64",
        ),
        (
            lambda r: r["hashedRekordRequestV002"].update(
                hashed_rekord_request_v002=1, digest=None
            ),
            r"digest: required field is missing",
        ),
    ],
)
def test_malformed_v2_requests(
    mutate: Any, message: str, signature: bytes, p256: ec.EllipticCurvePrivateKey
) -> None:
    request = key_request(signature, DIGEST, spki(p256.public_key()), "PKIX_ECDSA_P256_SHA_256")
    mutate(request)
    with pytest.raises(InvalidInput, match=message):
        canonicalize_v2(request)


def test_certificate_verifier_must_be_der(signature: bytes, leaf: x509.Certificate) -> None:
    hashed = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=DIGEST)
    request = dict(RekorV2Client._build_hashed_rekord_request(hashed, signature, leaf))
    request["hashedRekordRequestV002"]["signature"]["verifier"]["x509Certificate"]["rawBytes"] = (
        b64(leaf.public_bytes(serialization.Encoding.PEM))
    )
    with pytest.raises(
        InvalidInput, match=r"x509Certificate\.rawBytes: not a DER X\.509 certificate"
    ):
        canonicalize_v2(request)


# -- dsse 0.0.2 ---------------------------------------------------------------------------

PAYLOAD = json.dumps(
    {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "a", "digest": {"sha256": DIGEST.hex()}}],
        "predicateType": "https://example.com/p",
    }
).encode()


def dsse_request(signatures: list[bytes], certs: list[x509.Certificate]) -> dict[str, Any]:
    """The legacy dsseRequestV002 as sigstore-js sends it."""
    return {
        "dsseRequestV002": {
            "envelope": {
                "payload": b64(PAYLOAD),
                "payloadType": dsse.IN_TOTO_PAYLOAD_TYPE,
                "signatures": [{"sig": b64(s), "keyid": ""} for s in signatures],
            },
            "verifiers": [
                {
                    "x509Certificate": {"rawBytes": b64(der(c))},
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                }
                for c in certs
            ],
        }
    }


def pae_sign(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.sign(dsse.pae(dsse.IN_TOTO_PAYLOAD_TYPE, PAYLOAD), ec.ECDSA(hashes.SHA256()))


def test_dsse_v2_body(
    p256: ec.EllipticCurvePrivateKey,
    other_p256: ec.EllipticCurvePrivateKey,
    leaf: x509.Certificate,
    issue: Any,
) -> None:
    other = issue(other_p256, [x509.DNSName("Builder.Example.com")])
    signatures = [pae_sign(p256), pae_sign(other_p256)]
    request = dsse_request(signatures, [other, leaf])
    # the request is valid for the peer's models
    v2.dsse.DSSERequestV002.from_json(json.dumps(request["dsseRequestV002"]))
    entry = canonicalize_v2(request)
    assert (entry.kind, entry.api_version) == ("dsse", "0.0.2")
    verifier_of = {b64(der(leaf)): signatures[0], b64(der(other)): signatures[1]}
    expected_signatures = sorted(
        (
            {
                "content": b64(sig),
                "verifier": {
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "x509Certificate": {"rawBytes": raw},
                },
            }
            for raw, sig in verifier_of.items()
        ),
        key=lambda item: base64.b64decode(item["content"]),  # type: ignore[arg-type]
    )
    expected: dict[str, Any] = {
        "apiVersion": "0.0.2",
        "kind": "dsse",
        "spec": {
            "dsseV002": {
                "payloadHash": {
                    "algorithm": "SHA2_256",
                    "digest": b64(hashlib.sha256(PAYLOAD).digest()),
                },
                "signatures": expected_signatures,
            }
        },
    }
    assert entry.body == rfc8785.dumps(expected)
    assert v2.entry.Entry.from_json(entry.body).spec.dsse_v002 is not None
    assert "builder.example.com" in entry.index_keys
    assert f"sha256:{hashlib.sha256(PAYLOAD).hexdigest()}" in entry.index_keys
    assert index_keys_of(entry.body) == entry.index_keys
    assert entry.subject_keys == {f"sha256:{DIGEST.hex()}"}


def test_dsse_v2_refusals(
    p256: ec.EllipticCurvePrivateKey, other_p256: ec.EllipticCurvePrivateKey, leaf: x509.Certificate
) -> None:
    with pytest.raises(InvalidInput, match=r"dsseRequestV002\.verifiers\[1\]: duplicate verifier"):
        canonicalize_v2(dsse_request([pae_sign(p256)], [leaf, leaf]))
    with pytest.raises(
        VerificationError,
        match=r"envelope\.signatures\[1\]\.sig: the signature verifies over the envelope with none",
    ):
        canonicalize_v2(dsse_request([pae_sign(p256), pae_sign(other_p256)], [leaf]))
    with pytest.raises(
        InvalidInput, match=r"envelope\.signatures: expected 1 to 10 elements, found 11"
    ):
        canonicalize_v2(dsse_request([pae_sign(p256)] * 11, [leaf]))
    too_many = dsse_request([pae_sign(p256)], [leaf])
    too_many["dsseRequestV002"]["verifiers"] *= 11
    with pytest.raises(InvalidInput, match=r"verifiers: expected 1 to 10 elements, found 11"):
        canonicalize_v2(too_many)


def test_dsse_v2_pure_ed25519() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    request: dict[str, Any] = {
        "dsse_request_v002": {
            "envelope": {
                "payload": b64(PAYLOAD),
                "payload_type": dsse.IN_TOTO_PAYLOAD_TYPE,
                "signatures": [
                    {"sig": b64(key.sign(dsse.pae(dsse.IN_TOTO_PAYLOAD_TYPE, PAYLOAD)))}
                ],
            },
            "verifiers": [
                {
                    "public_key": {"raw_bytes": b64(spki(key.public_key()))},
                    "key_details": "PKIX_ED25519",
                }
            ],
        }
    }
    entry = canonicalize_v2(request)
    assert index_keys_of(entry.body) == entry.index_keys
    bad = copy.deepcopy(request)
    bad["dsse_request_v002"]["verifiers"][0]["key_details"] = "PKIX_ED25519_PH"
    with pytest.raises(InvalidInput, match="does not match the key"):
        canonicalize_v2(bad)
