"""The RFC 6962 CT log API (``/ct/v1/...``)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from lacre.apps.http import read_json
from lacre.apps.openapi import json_body
from lacre.ca.ctlog import CtLog
from lacre.errors import InvalidInput
from lacre.jsontypes import type_name

_CHAIN_BODY = json_body(
    {
        "type": "object",
        "required": ["chain"],
        "properties": {
            "chain": {
                "type": "array",
                "items": {"type": "string", "format": "byte"},
                "minItems": 2,
                "maxItems": 10,
            }
        },
    },
    "A certificate chain: the certificate to log first, then its issuers (base64 DER)",
)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _chain(document: object) -> list[bytes]:
    if not isinstance(document, dict) or not isinstance(document.get("chain"), list):
        raise InvalidInput(f"expected an object with a chain array, found {type_name(document)}")
    chain: list[bytes] = []
    for position, item in enumerate(document["chain"]):
        if not isinstance(item, str):
            raise InvalidInput(f"chain[{position}]: expected base64 text, found {type_name(item)}")
        try:
            chain.append(base64.b64decode(item, validate=True))
        except (binascii.Error, ValueError) as exc:
            raise InvalidInput(f"chain[{position}]: not valid base64") from exc
    return chain


def ct_router(ctlog: CtLog, prefix: str = "") -> APIRouter:
    """The CT log API of ``ctlog`` under ``prefix``."""
    router = APIRouter(prefix=f"{prefix}/ct/v1", tags=["CT log"])

    @router.post("/add-pre-chain", summary="Log a precertificate chain", openapi_extra=_CHAIN_BODY)
    async def add_pre_chain(request: Request) -> dict[str, object]:
        return (await ctlog.add_pre_chain(_chain(await read_json(request)))).to_json()

    @router.post("/add-chain", summary="Log a certificate chain", openapi_extra=_CHAIN_BODY)
    async def add_chain(request: Request) -> dict[str, object]:
        return (await ctlog.add_chain(_chain(await read_json(request)))).to_json()

    @router.get("/get-sth", summary="The latest signed tree head")
    def get_sth() -> dict[str, Any]:
        sth = ctlog.signed_tree_head()
        return {
            "tree_size": sth.tree_size,
            "timestamp": sth.timestamp,
            "sha256_root_hash": _b64(sth.root_hash),
            "tree_head_signature": _b64(sth.signature),
        }

    @router.get("/get-sth-consistency", summary="A consistency proof between two tree sizes")
    def get_sth_consistency(
        first: Annotated[int, Query(ge=0)], second: Annotated[int, Query(ge=0)]
    ) -> dict[str, Any]:
        proof = ctlog.log.reader.consistency_proof(first, second)
        return {"consistency": [_b64(node) for node in proof]}

    @router.get("/get-proof-by-hash", summary="An audit path by Merkle leaf hash")
    def get_proof_by_hash(
        hash: Annotated[str, Query(max_length=100)],
        tree_size: Annotated[int, Query(ge=1)],
    ) -> dict[str, Any]:
        try:
            digest = base64.b64decode(hash, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidInput("hash: not valid base64") from exc
        index, path = ctlog.proof_by_hash(digest, tree_size)
        return {"leaf_index": index, "audit_path": [_b64(node) for node in path]}

    @router.get("/get-entries", summary="Merkle tree leaves by index range (at most 256)")
    def get_entries(
        start: Annotated[int, Query(ge=0)], end: Annotated[int, Query(ge=0)]
    ) -> dict[str, Any]:
        leaves = ctlog.entries(start, end)
        return {"entries": [{"leaf_input": _b64(leaf), "extra_data": ""} for leaf in leaves]}

    @router.get("/get-roots", summary="The roots this log accepts")
    def get_roots() -> dict[str, Any]:
        return {"certificates": [_b64(der) for der in ctlog.root_ders()]}

    return router
