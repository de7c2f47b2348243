"""The OpenAPI document as the server really answers: errors are ``{code, message}``.

FastAPI documents request validation failures as 422 with its own body; lacre
answers them with 400 in the Sigstore error shape, like every other refusal.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "integer", "description": "the HTTP status"},
        "message": {"type": "string", "description": "what was wrong: expected vs found"},
    },
}

_DESCRIPTIONS = {
    "400": "Malformed request, or a check failed (the message says which)",
    "404": "No such entry, tile or tree",
    "413": "Request body over the size limit",
    "503": "Overloaded; retry after the Retry-After header",
}


def json_body(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """An OpenAPI ``requestBody`` of JSON content with ``schema``."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": schema}},
        }
    }


class OctetStreamResponse(Response):
    """Binary content (tiles, entry bundles)."""

    media_type = "application/octet-stream"


class PemResponse(Response):
    """A PEM document."""

    media_type = "application/x-pem-file"


class PemChainResponse(Response):
    """PEM certificates, leaf first."""

    media_type = "application/pem-certificate-chain"


class CheckpointResponse(Response):
    """A signed note in UTF-8 text."""

    media_type = "text/plain; charset=utf-8"


def _error(status: str) -> dict[str, Any]:
    return {
        "description": _DESCRIPTIONS[status],
        "content": {"application/json": {"schema": ERROR_SCHEMA}},
    }


def _document_errors(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    responses.pop("422", None)
    statuses = ["400", "404"]
    if "requestBody" in operation:
        statuses += ["413", "503"]
    for status in statuses:
        responses.setdefault(status, _error(status))


def install_openapi(app: FastAPI) -> None:
    """Replace ``app``'s OpenAPI generator with one documenting lacre's error answers."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            for path in document.get("paths", {}).values():
                for operation in path.values():
                    _document_errors(operation)
            document.get("components", {}).get("schemas", {}).pop("HTTPValidationError", None)
            document.get("components", {}).get("schemas", {}).pop("ValidationError", None)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
