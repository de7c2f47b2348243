"""Rekor v2 ``dsse`` 0.0.2 (the legacy ``dsseRequestV002``, still sent by sigstore-js).

Checks: 1 to 10 envelope signatures and 1 to 10 verifiers, no verifier twice;
each verifier's ``keyDetails`` is allowed and the key's default for DSSE (pure
``PKIX_ED25519`` for Ed25519 keys); every signature verifies over PAE with one
of the verifiers, using the algorithm its ``keyDetails`` names.
Body: ``{"apiVersion":"0.0.2","kind":"dsse","spec":{"dsseV002":{"payloadHash":
{"algorithm":"SHA2_256","digest":b64(SHA256(payload))},"signatures":[{"content":
b64(sig),"verifier":<the request verifier>}]}}}``, signatures sorted by their raw
bytes. The payload is not kept, so in-toto subjects are ``subject_keys`` only.
"""

from __future__ import annotations

import hashlib

from lacre import dsse
from lacre.errors import InvalidInput, VerificationError
from lacre.rekor.kinds.common import (
    MAX_DOCUMENT_TEXT,
    MAX_SIGNATURE_TEXT,
    MAX_SIGNATURES,
    MAX_VERIFIERS,
    CanonicalEntry,
    Json,
    b64encode,
    digest_key,
    entry,
    statement_keys,
)
from lacre.rekor.kinds.v2 import (
    ALLOWED_DSSE,
    API_VERSION,
    Verifier,
    parse_verifier,
    stored_material,
)

KIND = "dsse"


def canonicalize(request: Json) -> CanonicalEntry:
    """Check a ``DSSERequestV002`` and build its dsse 0.0.2 entry."""
    envelope = request.field("envelope")
    payload = envelope.field("payload").b64(max_length=MAX_DOCUMENT_TEXT, lenient=True, empty=True)
    payload_type = envelope.field("payloadType", "payload_type").text()
    message = dsse.pae(payload_type, payload)
    verifiers = _verifiers(request.field("verifiers"))
    signed: list[tuple[bytes, dict[str, object]]] = []
    for node in envelope.field("signatures").items(max_items=MAX_SIGNATURES):
        signature = _signature(node)
        verifier = _verifier_of(signature, message, verifiers, node)
        signed.append((signature, {"content": b64encode(signature), "verifier": verifier.stored}))
    canonical = {
        "dsseV002": {
            "payloadHash": {
                "algorithm": "SHA2_256",
                "digest": b64encode(hashlib.sha256(payload).digest()),
            },
            "signatures": [item for _, item in sorted(signed, key=lambda pair: pair[0])],
        }
    }
    body = entry(KIND, API_VERSION, canonical)
    subjects = statement_keys(payload_type, payload)
    return CanonicalEntry(KIND, API_VERSION, body, index_keys(Json(canonical, "spec")), subjects)


def index_keys(spec: Json) -> frozenset[str]:
    """Search keys of a canonical dsse 0.0.2 ``spec``: payload hash and every verifier."""
    entry_node = spec.field("dsseV002")
    payload_hash = entry_node.field("payloadHash")
    algorithm = payload_hash.field("algorithm")
    if algorithm.text() != "SHA2_256":
        raise InvalidInput(f"{algorithm.path}: expected SHA2_256, found {algorithm.text()[:40]!r}")
    digest_node = payload_hash.field("digest")
    digest = digest_node.b64(max_length=MAX_SIGNATURE_TEXT, lenient=True)
    if len(digest) != hashlib.sha256().digest_size:
        raise InvalidInput(f"{digest_node.path}: expected 32 bytes, found {len(digest)}")
    keys = {digest_key("sha256", digest)}
    for item in entry_node.field("signatures").items(max_items=MAX_SIGNATURES):
        keys |= stored_material(item.field("verifier")).index_keys
    return frozenset(keys)


def _verifiers(node: Json) -> list[Verifier]:
    verifiers: list[Verifier] = []
    for item in node.items(max_items=MAX_VERIFIERS):
        verifier = parse_verifier(item, allowed=ALLOWED_DSSE, prehashed=False)
        if any(verifier.stored == seen.stored for seen in verifiers):
            raise InvalidInput(f"{item.path}: duplicate verifier")
        verifiers.append(verifier)
    return verifiers


def _signature(node: Json) -> bytes:
    keyid = node.optional("keyid")
    if keyid is not None:
        keyid.text()
    return node.field("sig").b64(max_length=MAX_SIGNATURE_TEXT, lenient=True)


def _verifier_of(
    signature: bytes, message: bytes, verifiers: list[Verifier], node: Json
) -> Verifier:
    for verifier in verifiers:
        if verifier.material.verifies(signature, message, verifier.details):
            return verifier
    raise VerificationError(
        f"{node.child('sig')}: the signature verifies over the envelope with none of the "
        f"{len(verifiers)} verifier(s)"
    )
