"""The development OIDC issuer over HTTP: discovery, JWKS and a token endpoint.

``POST {prefix}/token`` takes JSON ``{"email": ..., "audience"?: ...}`` or form fields
(``grant_type=client_credentials``, ``client_id=<email>``, ``audience``?) and answers
with a freshly minted token. Refusals are lacre errors, answered as JSON ``{code, message}``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request

from lacre.apps.http import read_body, read_json
from lacre.errors import InvalidInput
from lacre.jsontypes import type_name
from lacre.oidc.devissuer import DevIssuer

TOKEN_LIFETIME_S = 600
"""Lifetime of the tokens the endpoint mints."""

_MAX_TOKEN_REQUEST = 16 * 1024

_TOKEN_REQUEST = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["email"],
                    "properties": {
                        "email": {"type": "string"},
                        "audience": {"type": "string"},
                    },
                }
            },
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["client_id"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["client_credentials"]},
                        "client_id": {"type": "string"},
                        "audience": {"type": "string"},
                    },
                }
            },
        },
    }
}


def oidc_router(issuer: DevIssuer, prefix: str = "/oidc") -> APIRouter:
    """The endpoints of ``issuer`` under ``prefix`` (``issuer.issuer_url`` should end with it)."""
    router = APIRouter(prefix=prefix, tags=["Development OIDC issuer"])

    @router.get("/.well-known/openid-configuration", summary="OpenID Connect discovery document")
    def discovery() -> dict[str, object]:
        return issuer.discovery()

    @router.get("/jwks", summary="The issuer's verification keys")
    def jwks() -> dict[str, object]:
        return issuer.jwks()

    @router.post(
        "/token",
        summary="Development only: a token for any email address, without authentication",
        openapi_extra=_TOKEN_REQUEST,
    )
    async def token(request: Request) -> dict[str, Any]:
        email, audience = await _token_request(request)
        jwt = issuer.mint(email, audience=audience, lifetime_s=TOKEN_LIFETIME_S)
        return {
            "access_token": jwt,
            "id_token": jwt,
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME_S,
        }

    return router


async def _token_request(request: Request) -> tuple[str, str]:
    """The email and audience asked for, from a JSON or form body."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        return _form_request(await read_body(request, _MAX_TOKEN_REQUEST))
    body = await read_json(request, _MAX_TOKEN_REQUEST)
    if not isinstance(body, dict):
        raise InvalidInput("token request is not a JSON object", found=type_name(body))
    return _string(body, "email"), _string(body, "audience", default="sigstore")


def _form_request(body: bytes) -> tuple[str, str]:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"token request is not a valid form: {exc}") from None
    fields: dict[str, object] = {}
    for name, value in pairs:
        if name in fields:
            raise InvalidInput(f"token request repeats the field {name}")
        fields[name] = value
    grant_type = fields.get("grant_type", "client_credentials")
    if grant_type != "client_credentials":
        raise InvalidInput(
            "unsupported grant_type", expected="client_credentials", found=grant_type
        )
    name = "client_id" if "client_id" in fields else "email"
    return _string(fields, name), _string(fields, "audience", default="sigstore")


def _string(fields: dict[str, object], name: str, default: str | None = None) -> str:
    value = fields.get(name, default)
    if not isinstance(value, str):
        raise InvalidInput(f"token request field {name} must be a string", found=type_name(value))
    return value
