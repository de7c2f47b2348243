"""The timestamp authority API: ``POST /api/v1/timestamp`` and the certificate chain.

A DER ``TimeStampReq`` (``application/timestamp-query``, or any other
``application/*`` type) is answered with a DER ``TimeStampResp``
(``application/timestamp-reply``): 200 when it grants a token, 400 when it
rejects the request (the reply's status string says why). The JSON request form
that sigstore-js sends (``application/json``) gets the same DER token, or a 400
``{code, message}`` error, which is what that client reports. A failing key
answers 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from lacre.apps.errors import error_response
from lacre.apps.http import read_body, read_json
from lacre.apps.openapi import ERROR_SCHEMA, PemChainResponse
from lacre.keys import SoftwareSigner
from lacre.models.timestamp_authority import TIMESTAMP_PATH
from lacre.tsa import MAX_REQUEST_BYTES, FailureInfo, Reply, TimestampAuthority

TIMESTAMP_QUERY = "application/timestamp-query"
TIMESTAMP_REPLY = "application/timestamp-reply"
_BINARY = {"schema": {"type": "string", "format": "binary"}}
_JSON_REQUEST = {
    "type": "object",
    "required": ["artifactHash", "hashAlgorithm"],
    "properties": {
        "artifactHash": {"type": "string", "description": "base64 digest of the artifact"},
        "hashAlgorithm": {"type": "string", "enum": ["sha256", "sha384", "sha512"]},
        "certificates": {"type": "boolean", "description": "embed the TSA chain (certReq)"},
        "nonce": {"type": "integer", "minimum": 0},
        "tsaPolicyOID": {"type": "string", "description": "requested policy OID"},
    },
}
_TIMESTAMP_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": f"An RFC 3161 TimeStampReq (DER, at most {MAX_REQUEST_BYTES} bytes), "
        "or its JSON form",
        "content": {TIMESTAMP_QUERY: _BINARY, "application/json": {"schema": _JSON_REQUEST}},
    },
    "responses": {
        "200": {
            "description": "A TimeStampResp granting a token",
            "content": {TIMESTAMP_REPLY: _BINARY},
        },
        "400": {
            "description": "Request rejected: a TimeStampResp with status rejection and the "
            "reason (DER requests), or {code, message} (JSON requests)",
            "content": {TIMESTAMP_REPLY: _BINARY, "application/json": {"schema": ERROR_SCHEMA}},
        },
        "415": {
            "description": "Content-Type is not application/*",
            "content": {"application/json": {"schema": ERROR_SCHEMA}},
        },
        "500": {
            "description": "The TSA key failed to sign (a TimeStampResp with systemFailure)",
            "content": {TIMESTAMP_REPLY: _BINARY, "application/json": {"schema": ERROR_SCHEMA}},
        },
    },
}


class TimestampReplyResponse(Response):
    """A DER ``TimeStampResp``."""

    media_type = TIMESTAMP_REPLY


def tsa_router(authority: TimestampAuthority) -> APIRouter:
    """The timestamp API over ``authority``, served at the root of its host."""
    router = APIRouter(tags=["Timestamp authority"])
    chain_pem = authority.chain.pem()

    @router.post(
        TIMESTAMP_PATH,
        summary="Timestamp a digest (RFC 3161 TimeStampReq, or its JSON form)",
        response_class=TimestampReplyResponse,
        openapi_extra=_TIMESTAMP_OPENAPI,
    )
    async def timestamp(request: Request) -> Response:
        return await create_timestamp(authority, request)

    @router.get(
        f"{TIMESTAMP_PATH}/certchain",
        summary="The TSA certificate chain as PEM: leaf, intermediates, root",
        response_class=PemChainResponse,
    )
    def certchain() -> Response:
        return PemChainResponse(chain_pem)

    return router


async def create_timestamp(authority: TimestampAuthority, request: Request) -> Response:
    """Answer one ``POST /api/v1/timestamp`` (the route and the fast path share this)."""
    media = _media_type(request.headers.get("content-type", ""))
    if not media.startswith("application/"):
        return error_response(
            415,
            f"unsupported Content-Type: expected {TIMESTAMP_QUERY} or application/json, "
            f"found {media[:80] or 'none'}",
        )
    if media == "application/json":
        body = await read_json(request, MAX_REQUEST_BYTES)
        reply = await _answer(authority, authority.respond_json, body)
        if reply.reason is not None:
            return error_response(_status(reply), reply.reason)
    else:
        der = await read_body(request, MAX_REQUEST_BYTES)
        reply = await _answer(authority, authority.respond, der)
    return TimestampReplyResponse(reply.der, status_code=_status(reply))


async def _answer(
    authority: TimestampAuthority, respond: Callable[[Any], Reply], argument: object
) -> Reply:
    if isinstance(authority.signer, SoftwareSigner):  # ~0.2 ms: cheaper than a thread hop
        return respond(argument)
    return await run_in_threadpool(respond, argument)  # a token may block for a while


def _media_type(header: str) -> str:
    return header.split(";", 1)[0].strip().lower()


def _status(reply: Reply) -> int:
    if reply.failure is None:
        return 200
    return 500 if reply.failure is FailureInfo.SYSTEM_FAILURE else 400
