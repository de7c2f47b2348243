"""JSON Schemas of the Rekor request bodies, for the OpenAPI document."""

from __future__ import annotations

from typing import Any

_STRING = {"type": "string"}


def json_body(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """An OpenAPI ``requestBody`` of JSON content with ``schema``."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": schema}},
        }
    }


PROPOSED_ENTRY: dict[str, Any] = {
    "type": "object",
    "required": ["kind", "apiVersion", "spec"],
    "properties": {
        "kind": {"type": "string", "enum": ["hashedrekord", "dsse", "intoto"]},
        "apiVersion": {"type": "string", "enum": ["0.0.1", "0.0.2"]},
        "spec": {"type": "object"},
    },
}

RETRIEVE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "entryUUIDs": {"type": "array", "items": _STRING, "minItems": 1, "maxItems": 10},
        "logIndexes": {
            "type": "array",
            "items": {"type": "integer", "minimum": 0},
            "minItems": 1,
            "maxItems": 10,
        },
        "entries": {"type": "array", "items": PROPOSED_ENTRY, "minItems": 1, "maxItems": 10},
    },
}

SEARCH_INDEX: dict[str, Any] = {
    "type": "object",
    "properties": {
        "hash": {"type": "string", "description": "sha256:<hex> (or sha1/sha384/sha512)"},
        "publicKey": {
            "type": "object",
            "properties": {
                "format": {"type": "string", "enum": ["x509"]},
                "content": {"type": "string", "description": "base64 of a PEM/DER key or cert"},
            },
        },
        "email": _STRING,
        "subject": _STRING,
        "operator": {"type": "string", "enum": ["and", "or"]},
    },
}

CREATE_ENTRY_V2: dict[str, Any] = {
    "type": "object",
    "description": "exactly one of hashedRekordRequestV002 or dsseRequestV002",
    "properties": {
        "hashedRekordRequestV002": {
            "type": "object",
            "properties": {"digest": _STRING, "signature": {"type": "object"}},
        },
        "dsseRequestV002": {
            "type": "object",
            "properties": {"envelope": {"type": "object"}, "verifiers": {"type": "array"}},
        },
    },
}
