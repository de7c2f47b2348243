"""The CA's direct POSTs: ``/api/v2/signingCert`` and ``/api/v1/signingCert``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from lacre.apps.ca.routes import (
    SIGNING_CERT_V1,
    SIGNING_CERT_V2,
    create_signing_cert,
    create_signing_cert_v1,
)
from lacre.apps.direct import Handler
from lacre.ca.service import CaService


def signing_cert_posts(service: CaService) -> dict[str, Handler]:
    """The signing-certificate handlers of ``service``, by path, for :class:`DirectPosts`."""

    async def v2(request: Request) -> Response:
        return await create_signing_cert(service, request)

    async def v1(request: Request) -> Response:
        return await create_signing_cert_v1(service, request)

    return {SIGNING_CERT_V2: v2, SIGNING_CERT_V1: v1}
