"""The built-in OIDC issuer over HTTP: discovery, JWKS and a token endpoint.

``POST {prefix}/token`` takes form fields (``grant_type=client_credentials``,
``client_id``, ``client_secret``, ``audience``?; the credentials may come in an HTTP
Basic ``Authorization`` header instead) or the same as a JSON object, and answers with
a freshly minted token for the account's email. In development mode the secret may be
left out and the client id (or a JSON ``email``) is the email itself. Refusals are
lacre errors, answered as JSON ``{code, message}``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from fastapi import APIRouter, Request

from lacre.apps.http import read_body, read_json
from lacre.errors import InvalidInput
from lacre.jsontypes import type_name
from lacre.oidc.accounts import Accounts
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
                    "properties": {
                        "client_id": {"type": "string"},
                        "client_secret": {"type": "string"},
                        "email": {"type": "string", "description": "development mode only"},
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
                        "client_secret": {"type": "string"},
                        "audience": {"type": "string"},
                    },
                }
            },
        },
    }
}


def oidc_router(issuer: DevIssuer, accounts: Accounts, prefix: str = "/oidc") -> APIRouter:
    """The endpoints of ``issuer`` under ``prefix`` (``issuer.issuer_url`` should end with it).

    ``accounts`` decides who gets a token for which email.
    """
    router = APIRouter(prefix=prefix, tags=["Development OIDC issuer"])

    @router.get("/.well-known/openid-configuration", summary="OpenID Connect discovery document")
    def discovery() -> dict[str, object]:
        return issuer.discovery()

    @router.get("/jwks", summary="The issuer's verification keys")
    def jwks() -> dict[str, object]:
        return issuer.jwks()

    @router.post(
        "/token",
        summary="A token for a service account (client credentials); any email in development",
        openapi_extra=_TOKEN_REQUEST,
        responses={401: {"description": "Client credentials missing or refused"}},
    )
    async def token(request: Request) -> dict[str, Any]:
        asked = await _token_request(request)
        email = accounts.authenticate(asked.client_id, asked.secret)
        audience = asked.audience
        jwt = issuer.mint(email, audience=audience, lifetime_s=TOKEN_LIFETIME_S)
        return {
            "access_token": jwt,
            "id_token": jwt,
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME_S,
        }

    return router


@dataclass(frozen=True)
class _TokenRequest:
    client_id: str
    secret: str | None
    audience: str


async def _token_request(request: Request) -> _TokenRequest:
    """The credentials and audience of a form or JSON token request."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        fields = _form(await read_body(request, _MAX_TOKEN_REQUEST))
    else:
        body = await read_json(request, _MAX_TOKEN_REQUEST)
        if not isinstance(body, dict):
            raise InvalidInput("token request is not a JSON object", found=type_name(body))
        fields = body
    grant_type = fields.get("grant_type", "client_credentials")
    if grant_type != "client_credentials":
        raise InvalidInput(
            "unsupported grant_type", expected="client_credentials", found=grant_type
        )
    basic = _basic_credentials(request.headers.get("authorization"))
    secret: str | None
    if basic is not None:
        client_id, secret = basic
    else:
        client_id = _string(fields, "client_id" if "client_id" in fields else "email")
        secret = _optional_string(fields, "client_secret")
    return _TokenRequest(client_id, secret, _string(fields, "audience", default="sigstore"))


def _form(body: bytes) -> dict[str, object]:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"token request is not a valid form: {exc}") from None
    fields: dict[str, object] = {}
    for name, value in pairs:
        if name in fields:
            raise InvalidInput(f"token request repeats the field {name}")
        fields[name] = value
    return fields


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    """``(client_id, secret)`` from an HTTP Basic Authorization header (RFC 6749 §2.3.1)."""
    if header is None:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        raise InvalidInput("unsupported Authorization scheme", expected="Basic", found=scheme[:20])
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidInput("Authorization header is not valid Basic credentials") from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise InvalidInput("Basic credentials have no secret", expected="client_id:client_secret")
    return unquote_plus(client_id), unquote_plus(secret)


def _optional_string(fields: dict[str, object], name: str) -> str | None:
    return _string(fields, name) if name in fields else None


def _string(fields: dict[str, object], name: str, default: str | None = None) -> str:
    value = fields.get(name, default)
    if not isinstance(value, str):
        raise InvalidInput(f"token request field {name} must be a string", found=type_name(value))
    return value
