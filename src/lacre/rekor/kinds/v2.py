"""Rekor v2 verifiers and ``hashedrekord`` 0.0.2.

Requests are protobuf-JSON: camelCase or snake_case member names, bytes in
standard or URL-safe base64 (padded or not), enums by name or number. A
verifier names its key as ``x509Certificate.rawBytes`` (DER leaf) or
``publicKey.rawBytes`` (DER SPKI) plus ``keyDetails``, which must be allowed
and equal the key's default details (Sigstore verifiers rebuild the entry from
a bundle with the default details, so any other value would make the entry
unverifiable). The verifier is stored as received, re-encoded as protobuf-JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lacre.errors import InvalidInput
from lacre.keys import KeyAlgorithm
from lacre.keys.public import HASHES
from lacre.rekor.kinds import material
from lacre.rekor.kinds.common import (
    MAX_MATERIAL_TEXT,
    MAX_SIGNATURE_TEXT,
    MAX_TEXT,
    CanonicalEntry,
    Json,
    b64encode,
    digest_key,
    entry,
    located,
)

HASHEDREKORD = "hashedrekord"
API_VERSION = "0.0.2"

HASH_ENUMS = {"sha256": "SHA2_256", "sha384": "SHA2_384", "sha512": "SHA2_512"}
"""Sigstore ``HashAlgorithm`` enum names of the hashes."""

ALLOWED_HASHEDREKORD = frozenset(
    {
        KeyAlgorithm.RSA_PKCS1V15_2048_SHA256,
        KeyAlgorithm.RSA_PKCS1V15_3072_SHA256,
        KeyAlgorithm.RSA_PKCS1V15_4096_SHA256,
        KeyAlgorithm.ECDSA_P256_SHA256,
        KeyAlgorithm.ECDSA_P384_SHA384,
        KeyAlgorithm.ECDSA_P521_SHA512,
        KeyAlgorithm.ED25519_PH,
    }
)
"""Rekor v2's default ``keyDetails`` allow-list (pure Ed25519 cannot sign a digest)."""

ALLOWED_DSSE = ALLOWED_HASHEDREKORD | {KeyAlgorithm.ED25519}
"""DSSE signs the PAE itself, so pure Ed25519 is the default there."""

_DETAILS_NUMBERS = {
    5: KeyAlgorithm.ECDSA_P256_SHA256,
    7: KeyAlgorithm.ED25519,
    8: KeyAlgorithm.ED25519_PH,
    9: KeyAlgorithm.RSA_PKCS1V15_2048_SHA256,
    10: KeyAlgorithm.RSA_PKCS1V15_3072_SHA256,
    11: KeyAlgorithm.RSA_PKCS1V15_4096_SHA256,
    12: KeyAlgorithm.ECDSA_P384_SHA384,
    13: KeyAlgorithm.ECDSA_P521_SHA512,
    16: KeyAlgorithm.RSA_PSS_2048_SHA256,
    17: KeyAlgorithm.RSA_PSS_3072_SHA256,
    18: KeyAlgorithm.RSA_PSS_4096_SHA256,
}


@dataclass(frozen=True)
class Verifier:
    """A checked request verifier: its details, its key material and its stored form."""

    details: KeyAlgorithm
    material: material.Material
    stored: dict[str, Any]


def parse_verifier(node: Json, *, allowed: frozenset[KeyAlgorithm], prehashed: bool) -> Verifier:
    """Check a request ``Verifier`` against ``allowed`` and the key's default details."""
    details_node = node.field("keyDetails", "key_details")
    details = _details(details_node, allowed)
    stored_name, raw, verifier = _material(node)
    expected = verifier.key.default_details(prehashed=prehashed)
    if details is not expected:
        raise InvalidInput(
            f"{details_node.path}: does not match the key (only the default details are accepted)",
            expected=expected.value,
            found=details.value,
        )
    stored = {"keyDetails": details.value, stored_name: {"rawBytes": b64encode(raw)}}
    return Verifier(details, verifier, stored)


def stored_material(node: Json) -> material.Material:
    """The key material of a verifier stored in a canonical body."""
    return _material(node)[2]


def canonicalize_hashedrekord(request: Json) -> CanonicalEntry:
    """Check a ``HashedRekordRequestV002`` and build its hashedrekord 0.0.2 entry."""
    digest_node = request.field("digest")
    digest = digest_node.b64(max_length=MAX_TEXT, lenient=True)
    signature_node = request.field("signature")
    content_node = signature_node.field("content")
    signature = content_node.b64(max_length=MAX_SIGNATURE_TEXT, lenient=True)
    verifier = parse_verifier(
        signature_node.field("verifier"), allowed=ALLOWED_HASHEDREKORD, prehashed=True
    )
    hash_name = verifier.details.hash_name
    assert hash_name is not None  # every allowed hashedrekord algorithm has a prehash
    size = HASHES[hash_name].digest_size
    if len(digest) != size:
        raise InvalidInput(
            f"{digest_node.path}: expected {size} bytes for {HASH_ENUMS[hash_name]} "
            f"({verifier.details.value}), found {len(digest)}"
        )
    with located(content_node.path):
        verifier.material.key.verify_digest(
            signature, digest, hash_name, algorithm=verifier.details
        )
    canonical = {
        "hashedRekordV002": {
            "data": {"algorithm": HASH_ENUMS[hash_name], "digest": b64encode(digest)},
            "signature": {"content": b64encode(signature), "verifier": verifier.stored},
        }
    }
    body = entry(HASHEDREKORD, API_VERSION, canonical)
    return CanonicalEntry(
        HASHEDREKORD, API_VERSION, body, hashedrekord_index_keys(Json(canonical, "spec"))
    )


def hashedrekord_index_keys(spec: Json) -> frozenset[str]:
    """Search keys of a canonical hashedrekord 0.0.2 ``spec``: digest, key hash, identities."""
    entry_node = spec.field("hashedRekordV002")
    data = entry_node.field("data")
    hash_name = hash_of_enum(data.field("algorithm"))
    digest = data.field("digest").b64(max_length=MAX_TEXT, lenient=True)
    verifier = stored_material(entry_node.field("signature").field("verifier"))
    return frozenset({digest_key(hash_name, digest), *verifier.index_keys})


def hash_of_enum(node: Json) -> str:
    """The hash name (``sha256`` …) of a ``HashAlgorithm`` enum name in a body."""
    name = node.text()
    for hash_name, enum_name in HASH_ENUMS.items():
        if name == enum_name:
            return hash_name
    raise InvalidInput(
        f"{node.path}: unsupported hash algorithm",
        expected=", ".join(HASH_ENUMS.values()),
        found=repr(name[:40]),
    )


def _material(node: Json) -> tuple[str, bytes, material.Material]:
    cert = node.optional("x509Certificate", "x509_certificate")
    key = node.optional("publicKey", "public_key")
    if (cert is None) == (key is None):
        found = "both" if cert is not None else "neither"
        raise InvalidInput(
            f"{node.path}: expected one of x509Certificate or publicKey, found {found}"
        )
    chosen = cert if cert is not None else key
    assert chosen is not None
    raw_node = chosen.field("rawBytes", "raw_bytes")
    raw = raw_node.b64(max_length=MAX_MATERIAL_TEXT, lenient=True)
    if cert is not None:
        return "x509Certificate", raw, material.from_certificate_der(raw, raw_node.path)
    return "publicKey", raw, material.from_key_der(raw, raw_node.path)


def _details(node: Json, allowed: frozenset[KeyAlgorithm]) -> KeyAlgorithm:
    value = node.value
    if isinstance(value, int) and not isinstance(value, bool):
        if value not in _DETAILS_NUMBERS:
            raise InvalidInput(f"{node.path}: unsupported PublicKeyDetails number {value}")
        details = _DETAILS_NUMBERS[value]
    else:
        name = node.text()
        with located(node.path):
            details = KeyAlgorithm.from_details(name)
    if details not in allowed:
        reason = (
            " (pure Ed25519 cannot sign a prehashed digest)"
            if details is KeyAlgorithm.ED25519
            else ""
        )
        raise InvalidInput(
            f"{node.path}: {details.value} is not allowed{reason}",
            expected="one of " + ", ".join(sorted(a.value for a in allowed)),
            found=details.value,
        )
    return details
