"""The Fulcio-compatible CA API: ``/api/v2/signingCert``, legacy v1, trust bundle."""

from __future__ import annotations

from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from lacre.apps.http import read_json
from lacre.apps.openapi import PemChainResponse, json_body
from lacre.ca.requests import parse_v1, parse_v2
from lacre.ca.service import CaService
from lacre.oidc.issuers import configuration_entry

_JSON_OBJECT = json_body({"type": "object"}, "A signing-certificate request")
SIGNING_CERT_V2 = "/api/v2/signingCert"
SIGNING_CERT_V1 = "/api/v1/signingCert"


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def create_signing_cert(service: CaService, request: Request) -> Response:
    """Answer ``POST /api/v2/signingCert``: the chain, its leaf embedding the SCT."""
    body_token, key_request = parse_v2(await read_json(request))
    issued = await service.sign(body_token or _bearer(request), key_request)
    return JSONResponse({"signedCertificateEmbeddedSct": {"chain": {"certificates": issued.pem()}}})


async def create_signing_cert_v1(service: CaService, request: Request) -> Response:
    """Answer the legacy ``POST /api/v1/signingCert``: 201 with the chain as PEM."""
    key_request = parse_v1(await read_json(request))
    issued = await service.sign(_bearer(request), key_request)
    return PemChainResponse("\n".join(issued.pem()).strip(), status_code=201)


def ca_router(service: CaService) -> APIRouter:
    """The CA API over ``service``, served at the root of its host."""
    router = APIRouter(tags=["Certificate authority"])
    chain = service.authority.chain

    @router.post(
        SIGNING_CERT_V2,
        summary="A certificate for an identity token and a key (CSR or public key + proof)",
        openapi_extra=_JSON_OBJECT,
        response_model=dict[str, Any],
    )
    async def signing_cert(request: Request) -> Response:
        return await create_signing_cert(service, request)

    @router.post(
        SIGNING_CERT_V1,
        status_code=201,
        summary="Legacy: a certificate chain as PEM (token in the Authorization header)",
        openapi_extra=_JSON_OBJECT,
        response_class=PemChainResponse,
    )
    async def signing_cert_v1(request: Request) -> Response:
        return await create_signing_cert_v1(service, request)

    @router.get("/api/v2/configuration", summary="The identity issuers this CA accepts")
    def configuration() -> dict[str, Any]:
        configs = service.verifier.issuers.configs
        return {"issuers": [configuration_entry(config) for config in configs]}

    @router.get("/api/v2/trustBundle", summary="The CA chains (intermediates, then root)")
    def trust_bundle() -> dict[str, Any]:
        return {"chains": [{"certificates": _pems(chain.certificates)}]}

    @router.get(
        "/api/v1/rootCert",
        summary="Legacy: every CA certificate as PEM",
        response_class=PemChainResponse,
    )
    def root_cert() -> Response:
        return PemChainResponse("".join(_pems(chain.certificates)))

    return router


def _pems(certificates: list[x509.Certificate]) -> list[str]:
    return [cert.public_bytes(serialization.Encoding.PEM).decode() for cert in certificates]
