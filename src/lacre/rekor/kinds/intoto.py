"""Rekor v1 ``intoto`` 0.0.2: a DSSE envelope inlined as an object, double base64.

``envelope.payload`` and each ``signatures[].sig`` are JSON ``bytes`` fields
(standard base64) holding the ordinary DSSE base64 strings, so they are decoded
twice; ``publicKey`` is base64 of a PEM (or DER) key or certificate.
Checks: each signature verifies over PAE with its own ``publicKey`` (Rekor v1's
rule: ECDSA/RSA over SHA-256, Ed25519 pure); ``payloadHash``, when given, equals
SHA-256 of the payload; ``hash`` (the client's envelope hash, which cannot be
recomputed) is required and kept as given.
Body: the proposed content rebuilt from its known fields without
``envelope.payload``, ``publicKey`` values canonicalized to b64(PEM), and
``payloadHash`` computed by the server. ``hash`` is not a search key (as in Rekor:
it is client-defined).
"""

from __future__ import annotations

import hashlib
from typing import Any

from lacre import dsse
from lacre.errors import InvalidInput, VerificationError
from lacre.rekor.kinds import material
from lacre.rekor.kinds.common import (
    MAX_DOCUMENT_TEXT,
    MAX_MATERIAL_TEXT,
    MAX_SIGNATURE_TEXT,
    MAX_SIGNATURES,
    CanonicalEntry,
    Json,
    b64encode,
    digest_key,
    entry,
    statement_keys,
)

KIND = "intoto"
API_VERSION = "0.0.2"


def canonicalize(spec: Json) -> CanonicalEntry:
    """Check a proposed intoto 0.0.2 ``spec`` and build its canonical entry."""
    content = spec.field("content")
    envelope = content.field("envelope")
    payload_type = envelope.field("payloadType").text()
    _, payload = _double_b64(envelope.field("payload"), MAX_DOCUMENT_TEXT, empty=True)
    message = dsse.pae(payload_type, payload)
    signatures = [
        _signature(node, message)
        for node in envelope.field("signatures").items(max_items=MAX_SIGNATURES)
    ]
    payload_hash = hashlib.sha256(payload).hexdigest()
    _check_payload_hash(content.optional("payloadHash"), payload_hash)
    canonical: dict[str, Any] = {
        "content": {
            "envelope": {"payloadType": payload_type, "signatures": signatures},
            "hash": {"algorithm": "sha256", "value": _sha256_hex(content.field("hash")).hex()},
            "payloadHash": {"algorithm": "sha256", "value": payload_hash},
        }
    }
    body = entry(KIND, API_VERSION, canonical)
    subjects = statement_keys(payload_type, payload)
    return CanonicalEntry(KIND, API_VERSION, body, index_keys(Json(canonical, "spec")), subjects)


def index_keys(spec: Json) -> frozenset[str]:
    """Search keys of a canonical intoto 0.0.2 ``spec``: payload hash and every public key."""
    content = spec.field("content")
    keys = {digest_key("sha256", _sha256_hex(content.field("payloadHash")))}
    for node in content.field("envelope").field("signatures").items(max_items=MAX_SIGNATURES):
        key_node = node.field("publicKey")
        key_bytes = key_node.b64(max_length=MAX_MATERIAL_TEXT)
        keys |= material.from_bytes(key_bytes, key_node.path).index_keys
    return frozenset(keys)


def _signature(node: Json, message: bytes) -> dict[str, str]:
    sig_node = node.field("sig")
    inner, signature = _double_b64(sig_node, MAX_SIGNATURE_TEXT, empty=False)
    key_node = node.field("publicKey")
    verifier = material.from_bytes(key_node.b64(max_length=MAX_MATERIAL_TEXT), key_node.path)
    if not verifier.verifies_sha256(signature, message):
        raise VerificationError(
            f"{sig_node.path}: the signature does not verify over the envelope with {key_node.path}"
        )
    item = {
        "sig": b64encode(inner),
        "publicKey": b64encode(verifier.canonical_pem),
    }
    keyid = node.optional("keyid")
    if keyid is not None:
        item["keyid"] = keyid.text()
    return item


def _double_b64(node: Json, max_length: int, *, empty: bool) -> tuple[bytes, bytes]:
    """Decode a JSON ``bytes`` field (standard base64) holding a DSSE base64 string.

    Returns the once-decoded bytes (the DSSE base64 text) and the fully decoded data.
    """
    inner = node.b64(max_length=max_length, empty=empty)
    try:
        text = inner.decode("ascii")
    except UnicodeDecodeError:
        raise InvalidInput(
            f"{node.path}: expected base64 of a base64 string (double base64), "
            "found non-ASCII bytes after the first decoding"
        ) from None
    decoded = dsse.decode_b64(text, f"{node.path} (after the first base64 decoding)")
    if not decoded and not empty:
        raise InvalidInput(f"{node.path}: expected non-empty data, found nothing")
    return inner, decoded


def _sha256_hex(node: Json) -> bytes:
    algorithm = node.field("algorithm")
    if algorithm.text() != "sha256":
        raise InvalidInput(
            f"{algorithm.path}: unsupported hash algorithm",
            expected="sha256",
            found=repr(algorithm.text()[:40]),
        )
    return node.field("value").hex_digest("sha256")


def _check_payload_hash(node: Json | None, computed: str) -> None:
    if node is None:
        return
    given = _sha256_hex(node).hex()
    if given != computed:
        raise InvalidInput(
            f"{node.child('value')}: does not match the payload",
            expected=computed,
            found=given,
        )
