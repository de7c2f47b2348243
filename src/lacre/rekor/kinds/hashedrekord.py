"""Rekor v1 ``hashedrekord`` 0.0.1: a signature over a prehashed artifact digest.

Checks: ``data.hash.algorithm`` is sha256, sha384 or sha512 and ``value`` has
its length in lowercase hex; the (key, hash) pair is one Sigstore allows (the
key's default ``PublicKeyDetails`` hash: P-256/RSA with sha256, P-384 with
sha384, P-521 with sha512; Ed25519 only as Ed25519ph, which cannot be verified
here and is refused); the signature verifies over the digest.
Body: ``{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":
{"algorithm","value"}},"signature":{"content":b64(sig),"publicKey":{"content":
b64(canonical PEM)}}}}``.
"""

from __future__ import annotations

from typing import Any

from lacre.errors import InvalidInput
from lacre.rekor.kinds import material
from lacre.rekor.kinds.common import (
    HEX_LENGTHS,
    MAX_MATERIAL_TEXT,
    MAX_SIGNATURE_TEXT,
    CanonicalEntry,
    Json,
    b64encode,
    digest_key,
    entry,
    located,
)

KIND = "hashedrekord"
API_VERSION = "0.0.1"


def canonicalize(spec: Json) -> CanonicalEntry:
    """Check a proposed hashedrekord 0.0.1 ``spec`` and build its canonical entry."""
    hash_node = spec.field("data").field("hash")
    algorithm = _algorithm(hash_node.field("algorithm"))
    digest = hash_node.field("value").hex_digest(algorithm)
    signature_node = spec.field("signature")
    signature = signature_node.field("content").b64(max_length=MAX_SIGNATURE_TEXT)
    key_node = signature_node.field("publicKey").field("content")
    verifier = material.from_bytes(key_node.b64(max_length=MAX_MATERIAL_TEXT), key_node.path)
    _check_pair(verifier, algorithm, hash_node.child("algorithm"))
    with located(signature_node.child("content")):
        verifier.key.verify_digest(signature, digest, algorithm)
    canonical: dict[str, Any] = {
        "data": {"hash": {"algorithm": algorithm, "value": digest.hex()}},
        "signature": {
            "content": b64encode(signature),
            "publicKey": {"content": b64encode(verifier.canonical_pem)},
        },
    }
    body = entry(KIND, API_VERSION, canonical)
    return CanonicalEntry(KIND, API_VERSION, body, index_keys(Json(canonical, "spec")))


def index_keys(spec: Json) -> frozenset[str]:
    """Search keys of a canonical hashedrekord 0.0.1 ``spec``: digest, key hash, identities."""
    hash_node = spec.field("data").field("hash")
    algorithm = _algorithm(hash_node.field("algorithm"))
    digest = hash_node.field("value").hex_digest(algorithm)
    key_node = spec.field("signature").field("publicKey").field("content")
    verifier = material.from_bytes(key_node.b64(max_length=MAX_MATERIAL_TEXT), key_node.path)
    return frozenset({digest_key(algorithm, digest), *verifier.index_keys})


def _algorithm(node: Json) -> str:
    algorithm = node.text()
    if algorithm not in HEX_LENGTHS:
        raise InvalidInput(
            f"{node.path}: unsupported hash algorithm",
            expected="sha256, sha384 or sha512",
            found=repr(algorithm[:40]),
        )
    return algorithm


def _check_pair(verifier: material.Material, algorithm: str, path: str) -> None:
    details = verifier.key.default_details(prehashed=True)
    if details.hash_name != algorithm:
        raise InvalidInput(
            f"{path}: a {details.value} key signs {details.hash_name} digests",
            expected=details.hash_name,
            found=algorithm,
        )
