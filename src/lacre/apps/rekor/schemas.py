"""JSON Schemas of the Rekor request bodies, for the OpenAPI document.

They state what the server checks before it verifies anything cryptographic:
every request they refuse is refused by the server too (with 400), so clients
and API fuzzers can rely on them. The server checks more than they can say
(signatures, key/hash pairs, digest lengths, certificate contents).
"""

from __future__ import annotations

from typing import Any

from lacre.keys import KeyAlgorithm
from lacre.rekor.kinds.common import MAX_SIGNATURES, MAX_VERIFIERS
from lacre.rekor.kinds.v2 import ALLOWED_DSSE, ALLOWED_HASHEDREKORD
from lacre.rekor.search import MAX_TERM
from lacre.rekor.v1 import MAX_RETRIEVE

_STRING: dict[str, Any] = {"type": "string"}
_BYTES: dict[str, Any] = {"type": "string", "format": "byte", "description": "standard base64"}
_HEX_SHA256: dict[str, Any] = {"type": "string", "pattern": "^[0-9a-f]{64}$"}


def _object(required: list[str], **properties: dict[str, Any]) -> dict[str, Any]:
    """An object with ``properties``, ``required`` of them mandatory (others are ignored)."""
    return {"type": "object", "required": required, "properties": properties}


def _array(items: dict[str, Any], max_items: int) -> dict[str, Any]:
    return {"type": "array", "items": items, "minItems": 1, "maxItems": max_items}


def _proposed(kind: str, api_version: str, spec: dict[str, Any]) -> dict[str, Any]:
    return _object(
        ["kind", "apiVersion", "spec"],
        kind={"type": "string", "const": kind},
        apiVersion={"type": "string", "const": api_version},
        spec=spec,
    )


_HASHEDREKORD_V001 = _proposed(
    "hashedrekord",
    "0.0.1",
    _object(
        ["data", "signature"],
        data=_object(
            ["hash"],
            hash=_object(
                ["algorithm", "value"],
                algorithm={"type": "string", "enum": ["sha256", "sha384", "sha512"]},
                value={
                    "type": "string",
                    "pattern": "^[0-9a-f]{64}([0-9a-f]{32}){0,2}$",
                    "description": "lowercase hex digest of the algorithm's length",
                },
            ),
        ),
        signature=_object(
            ["content", "publicKey"],
            content=_BYTES,
            publicKey=_object(
                ["content"],
                content={**_BYTES, "description": "base64 of a PEM or DER key or certificate"},
            ),
        ),
    ),
)

_DSSE_V001 = _proposed(
    "dsse",
    "0.0.1",
    _object(
        ["proposedContent"],
        proposedContent=_object(
            ["envelope", "verifiers"],
            envelope={"type": "string", "description": "the DSSE envelope as JSON text"},
            verifiers=_array(
                {**_BYTES, "description": "base64 of a PEM or DER key or certificate"},
                MAX_VERIFIERS,
            ),
        ),
    ),
)

_SHA256_HASH = _object(
    ["algorithm", "value"], algorithm={"type": "string", "const": "sha256"}, value=_HEX_SHA256
)

_INTOTO_V002 = _proposed(
    "intoto",
    "0.0.2",
    _object(
        ["content"],
        content=_object(
            ["envelope", "hash"],
            envelope=_object(
                ["payloadType", "payload", "signatures"],
                payloadType=_STRING,
                payload={**_BYTES, "description": "base64 of the DSSE (base64) payload"},
                signatures=_array(
                    _object(
                        ["sig", "publicKey"],
                        sig={**_BYTES, "description": "base64 of the DSSE (base64) signature"},
                        publicKey=_BYTES,
                        keyid=_STRING,
                    ),
                    MAX_SIGNATURES,
                ),
            ),
            hash=_SHA256_HASH,
            payloadHash=_SHA256_HASH,
        ),
    ),
)

PROPOSED_ENTRY: dict[str, Any] = {
    "description": "hashedrekord 0.0.1, dsse 0.0.1 or intoto 0.0.2 (unknown fields are ignored)",
    "oneOf": [_HASHEDREKORD_V001, _DSSE_V001, _INTOTO_V002],
}


def _nullable_array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": ["array", "null"], "items": items, "maxItems": MAX_RETRIEVE}


_RETRIEVE_FIELDS = ("entryUUIDs", "logIndexes", "entries")

RETRIEVE: dict[str, Any] = {
    "type": "object",
    "description": (
        f"entryUUIDs, logIndexes and/or entries, at most {MAX_RETRIEVE} of each; at least one "
        "non-empty (null or empty lists count as absent)"
    ),
    "additionalProperties": False,
    "properties": {
        "entryUUIDs": _nullable_array(
            {
                "type": "string",
                "pattern": "^([0-9a-fA-F]{64}|[0-9a-fA-F]{80})$",
                "description": "a UUID (64 hex) or entry ID (80 hex)",
            }
        ),
        "logIndexes": _nullable_array({"type": "integer", "minimum": 0}),
        "entries": _nullable_array(PROPOSED_ENTRY),
    },
    "anyOf": [
        {"required": [name], "properties": {name: {"type": "array", "minItems": 1}}}
        for name in _RETRIEVE_FIELDS
    ],
}


def _hash_pattern() -> str:
    def either_case(text: str) -> str:
        return "".join(f"[{c}{c.upper()}]" if c.isalpha() else c for c in text)

    lengths = {"sha1": 40, "sha256": 64, "sha384": 96, "sha512": 128}
    choices = "|".join(
        f"(({either_case(name)})?:)?[0-9a-fA-F]{{{length}}}" for name, length in lengths.items()
    )
    return f"^({choices})$"


_TERM: dict[str, Any] = {"type": ["string", "null"], "minLength": 1, "maxLength": MAX_TERM}
_CRITERIA = ("hash", "publicKey", "email", "subject")

SEARCH_INDEX: dict[str, Any] = {
    "type": "object",
    "description": "at least one of hash, publicKey, email or subject",
    "additionalProperties": False,
    "properties": {
        "hash": {
            "type": ["string", "null"],
            "pattern": _hash_pattern(),
            "description": "<algorithm>:<hex> (sha1, sha256, sha384, sha512) or bare hex",
        },
        "publicKey": {
            "type": ["object", "null"],
            "required": ["format", "content"],
            "properties": {
                "format": {"type": "string", "const": "x509"},
                "content": {**_BYTES, "description": "base64 of a PEM or DER key or certificate"},
            },
        },
        "email": _TERM,
        "subject": _TERM,
        "operator": {"type": ["string", "null"], "enum": ["and", "or", None]},
    },
    "anyOf": [
        {"required": [name], "properties": {name: {"not": {"type": "null"}}}} for name in _CRITERIA
    ],
}


def _verifier(allowed: frozenset[KeyAlgorithm]) -> dict[str, Any]:
    raw = _object(["rawBytes"], rawBytes=_BYTES)
    return {
        **_object(
            ["keyDetails"],
            keyDetails={
                "description": "the key's default PublicKeyDetails, by name or number",
                "anyOf": [
                    {"type": "string", "enum": sorted(a.key_details for a in allowed)},
                    {"type": "integer"},
                ],
            },
            publicKey={**raw, "description": "DER SubjectPublicKeyInfo"},
            x509Certificate={**raw, "description": "DER certificate"},
        ),
        "oneOf": [{"required": ["publicKey"]}, {"required": ["x509Certificate"]}],
    }


_HASHEDREKORD_V002 = _object(
    ["digest", "signature"],
    digest={**_BYTES, "description": "base64 of the artifact digest"},
    signature=_object(
        ["content", "verifier"], content=_BYTES, verifier=_verifier(ALLOWED_HASHEDREKORD)
    ),
)

_DSSE_V002 = _object(
    ["envelope", "verifiers"],
    envelope=_object(
        ["payload", "payloadType", "signatures"],
        payload=_BYTES,
        payloadType=_STRING,
        signatures=_array(_object(["sig"], sig=_BYTES, keyid=_STRING), MAX_SIGNATURES),
    ),
    verifiers=_array(_verifier(ALLOWED_DSSE), MAX_VERIFIERS),
)

CREATE_ENTRY_V2: dict[str, Any] = {
    "type": "object",
    "description": (
        "exactly one of hashedRekordRequestV002 or dsseRequestV002, as protobuf-JSON "
        "(snake_case names and URL-safe or unpadded base64 are also accepted)"
    ),
    "properties": {
        "hashedRekordRequestV002": _HASHEDREKORD_V002,
        "dsseRequestV002": _DSSE_V002,
    },
    "oneOf": [
        {"required": ["hashedRekordRequestV002"]},
        {"required": ["dsseRequestV002"]},
    ],
}
