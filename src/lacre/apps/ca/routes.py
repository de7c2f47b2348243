"""The Fulcio-compatible CA API: ``/api/v2/signingCert``, legacy v1, trust bundle."""

from __future__ import annotations

from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, Request, Response

from lacre.apps.http import read_json
from lacre.apps.openapi import json_body
from lacre.ca.requests import parse_v1, parse_v2
from lacre.ca.service import CaService
from lacre.oidc.issuers import configuration_entry

_JSON_OBJECT = json_body({"type": "object"}, "A signing-certificate request")


class PemChainResponse(Response):
    """PEM certificates, leaf first."""

    media_type = "application/pem-certificate-chain"


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def ca_router(service: CaService) -> APIRouter:
    """The CA API over ``service``, served at the root of its host."""
    router = APIRouter(tags=["Certificate authority"])
    chain = service.authority.chain

    @router.post(
        "/api/v2/signingCert",
        summary="A certificate for an identity token and a key (CSR or public key + proof)",
        openapi_extra=_JSON_OBJECT,
    )
    async def signing_cert(request: Request) -> dict[str, Any]:
        body_token, key_request = parse_v2(await read_json(request))
        issued = await service.sign(body_token or _bearer(request), key_request)
        return {"signedCertificateEmbeddedSct": {"chain": {"certificates": issued.pem()}}}

    @router.post(
        "/api/v1/signingCert",
        status_code=201,
        summary="Legacy: a certificate chain as PEM (token in the Authorization header)",
        openapi_extra=_JSON_OBJECT,
        response_class=PemChainResponse,
    )
    async def signing_cert_v1(request: Request) -> Response:
        key_request = parse_v1(await read_json(request))
        issued = await service.sign(_bearer(request), key_request)
        return PemChainResponse("\n".join(issued.pem()).strip(), status_code=201)

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
