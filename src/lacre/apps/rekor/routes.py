"""Rekor v1 (``/api/v1``) and v2 (``/api/v2/log/entries``) routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from lacre.apps.errors import error_response
from lacre.apps.http import read_json
from lacre.apps.openapi import ERROR_SCHEMA, PemResponse, json_body
from lacre.apps.rekor.schemas import (
    CREATE_ENTRY_V2,
    PROPOSED_ENTRY,
    RETRIEVE,
    SEARCH_INDEX,
)
from lacre.errors import NotFound
from lacre.rekor.v1 import RekorV1
from lacre.rekor.v2 import RekorV2

_ENTRIES = "/api/v1/log/entries"
_CONFLICT: dict[str, Any] = {
    "description": "An equivalent entry is already logged",
    "content": {"application/json": {"schema": ERROR_SCHEMA}},
}


V1_ENTRIES = _ENTRIES
V2_ENTRIES = "/api/v2/log/entries"


async def create_v1_entry(rekor: RekorV1, request: Request) -> Response:
    """Answer a Rekor v1 create: 201 with the entry, or 409 naming the logged one."""
    entry, new = await rekor.create(await read_json(request))
    location = f"{_ENTRIES}/{entry.entry_id}"
    if not new:
        response = error_response(
            409,
            "an equivalent entry already exists in the transparency log "
            f"with UUID {entry.entry_id}",
        )
        response.headers["Location"] = location
        return response
    headers = {"ETag": entry.entry_id, "Location": location}
    return JSONResponse(entry.to_json(), status_code=201, headers=headers)


async def create_v2_entry(rekor: RekorV2, request: Request) -> Response:
    """Answer a Rekor v2 create: 201 with the TransparencyLogEntry, or 409 with its index."""
    entry, new = await rekor.create(await read_json(request))
    if not new:
        response = error_response(
            409, f"an equivalent entry already exists at log index {entry.proof.index}"
        )
        response.headers["x-log-index"] = str(entry.proof.index)
        return response
    return JSONResponse(entry.to_json(), status_code=201)


def v1_router(rekor: RekorV1) -> APIRouter:
    """The Rekor v1 REST API over ``rekor``."""
    router = APIRouter(tags=["Rekor v1"])

    @router.post(
        _ENTRIES,
        status_code=201,
        summary="Log a proposed entry (hashedrekord 0.0.1, dsse 0.0.1, intoto 0.0.2)",
        openapi_extra=json_body(PROPOSED_ENTRY, "A ProposedEntry"),
        responses={409: _CONFLICT},
    )
    async def create_entry(request: Request) -> Response:
        return await create_v1_entry(rekor, request)

    @router.get(_ENTRIES + "/{uuid}", summary="An entry by UUID or entry ID")
    def get_entry(uuid: str) -> dict[str, Any]:
        return rekor.get(uuid).to_json()

    @router.get(_ENTRIES, summary="An entry by log index")
    def get_entry_by_index(logIndex: Annotated[int, Query(ge=0)]) -> dict[str, Any]:  # noqa: N803
        return rekor.get_by_index(logIndex).to_json()

    @router.post(
        _ENTRIES + "/retrieve",
        summary="Several entries by UUID, index or content",
        openapi_extra=json_body(RETRIEVE, "entryUUIDs, logIndexes or entries"),
    )
    async def retrieve(request: Request) -> list[dict[str, Any]]:
        return [entry.to_json() for entry in rekor.retrieve(await read_json(request))]

    router.add_api_route(
        _ENTRIES + "/retrieve/", retrieve, methods=["POST"], include_in_schema=False
    )

    @router.get("/api/v1/log", summary="The log's size, root and signed checkpoint")
    def log_info() -> dict[str, Any]:
        return rekor.log_info()

    @router.get("/api/v1/log/proof", summary="A consistency proof between two tree sizes")
    def consistency(
        lastSize: Annotated[int, Query(ge=1)],  # noqa: N803
        firstSize: Annotated[int, Query(ge=1)] = 1,  # noqa: N803
        treeID: str | None = None,  # noqa: N803
    ) -> dict[str, Any]:
        _check_tree(rekor, treeID)
        return rekor.consistency(firstSize, lastSize)

    @router.get(
        "/api/v1/log/publicKey", summary="The log's public key (PEM)", response_class=PemResponse
    )
    def public_key(treeID: str | None = None) -> Response:  # noqa: N803
        _check_tree(rekor, treeID)
        return PemResponse(rekor.log.note_signer.signer.public_key.pem)

    @router.post(
        "/api/v1/index/retrieve",
        summary="Entry IDs by artifact hash, public key, email or subject",
        openapi_extra=json_body(SEARCH_INDEX, "A SearchIndex query"),
    )
    async def search(request: Request) -> list[str]:
        return rekor.search(await read_json(request))

    return router


def _check_tree(rekor: RekorV1, tree_id: str | None) -> None:
    if tree_id is not None and tree_id != str(rekor.tree_id):
        raise NotFound(f"no tree {tree_id[:32]!r} here: this log's tree ID is {rekor.tree_id}")


def v2_router(rekor: RekorV2) -> APIRouter:
    """The Rekor v2 write API over ``rekor``."""
    router = APIRouter(tags=["Rekor v2"])

    @router.post(
        V2_ENTRIES,
        status_code=201,
        summary="Log a hashedrekord 0.0.2 (or dsse 0.0.2) entry; answers once it is integrated",
        openapi_extra=json_body(CREATE_ENTRY_V2, "A CreateEntryRequest"),
        responses={409: _CONFLICT},
    )
    async def create_entry(request: Request) -> Response:
        return await create_v2_entry(rekor, request)

    return router
