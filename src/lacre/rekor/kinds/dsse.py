"""Rekor v1 ``dsse`` 0.0.1: a DSSE envelope (sent as a JSON string) and its verifiers.

Checks: the envelope parses; it has 1 to 10 signatures and the request 1 to 10
verifiers (PEM or DER key, certificate or chain); every signature verifies over
PAE with one of the verifiers (Rekor v1's rule: ECDSA and RSA over SHA-256 of
the PAE whatever the key size, Ed25519 pure). Verifiers that verify nothing are
tolerated and left out of the body.
Body: ``envelopeHash`` = SHA-256 of the envelope string exactly as received,
``payloadHash`` = SHA-256 of the decoded payload, and ``signatures`` =
``[{"signature": <sig as written in the envelope>, "verifier": b64(canonical PEM
of the first verifier that verified it)}]`` sorted by the signature string.
The envelope itself is not kept, so in-toto subjects are ``subject_keys`` only.
"""

from __future__ import annotations

import hashlib
from typing import Any

from lacre.dsse import Envelope
from lacre.errors import InvalidInput, VerificationError
from lacre.jsontypes import utf8
from lacre.rekor.kinds import material
from lacre.rekor.kinds.common import (
    MAX_DOCUMENT_TEXT,
    MAX_MATERIAL_TEXT,
    MAX_SIGNATURE_TEXT,
    MAX_SIGNATURES,
    MAX_VERIFIERS,
    CanonicalEntry,
    Json,
    b64encode,
    digest_key,
    entry,
    parse_json,
    statement_keys,
)

KIND = "dsse"
API_VERSION = "0.0.1"


def canonicalize(spec: Json) -> CanonicalEntry:
    """Check a proposed dsse 0.0.1 ``spec`` and build its canonical entry."""
    content = spec.field("proposedContent")
    envelope_node = content.field("envelope")
    text = envelope_node.text(max_length=MAX_DOCUMENT_TEXT)
    document = Json(parse_json(text, envelope_node.path), envelope_node.path)
    envelope = Envelope.from_json(document.object(), path=envelope_node.path)
    signatures = document.field("signatures").items(max_items=MAX_SIGNATURES)
    verifiers = [
        material.from_bytes(node.b64(max_length=MAX_MATERIAL_TEXT), node.path)
        for node in content.field("verifiers").items(max_items=MAX_VERIFIERS)
    ]
    message = envelope.pae()
    items = [
        {
            "signature": node.field("sig").text(max_length=MAX_SIGNATURE_TEXT),
            "verifier": b64encode(
                _verifier_of(signature.sig, message, verifiers, node).canonical_pem
            ),
        }
        for node, signature in zip(signatures, envelope.signatures, strict=True)
    ]
    canonical: dict[str, Any] = {
        "envelopeHash": {"algorithm": "sha256", "value": _sha256(utf8(text, envelope_node.path))},
        "payloadHash": {"algorithm": "sha256", "value": _sha256(envelope.payload)},
        "signatures": sorted(items, key=lambda item: item["signature"]),
    }
    body = entry(KIND, API_VERSION, canonical)
    subjects = statement_keys(envelope.payload_type, envelope.payload)
    return CanonicalEntry(KIND, API_VERSION, body, index_keys(Json(canonical, "spec")), subjects)


def index_keys(spec: Json) -> frozenset[str]:
    """Search keys of a canonical dsse 0.0.1 ``spec``: payload and envelope hashes, verifiers."""
    keys: set[str] = set()
    for name in ("payloadHash", "envelopeHash"):
        node = spec.field(name)
        _sha256_algorithm(node.field("algorithm"))
        keys.add(digest_key("sha256", node.field("value").hex_digest("sha256")))
    for item in spec.field("signatures").items(max_items=MAX_SIGNATURES):
        node = item.field("verifier")
        keys |= material.from_bytes(node.b64(max_length=MAX_MATERIAL_TEXT), node.path).index_keys
    return frozenset(keys)


def _verifier_of(
    signature: bytes, message: bytes, verifiers: list[material.Material], node: Json
) -> material.Material:
    for verifier in verifiers:
        if verifier.verifies_sha256(signature, message):
            return verifier
    raise VerificationError(
        f"{node.child('sig')}: the signature verifies with none of the "
        f"{len(verifiers)} verifier(s) in spec.proposedContent.verifiers"
    )


def _sha256_algorithm(node: Json) -> None:
    if node.text() != "sha256":
        raise InvalidInput(f"{node.path}: expected sha256, found {node.text()[:40]!r}")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
