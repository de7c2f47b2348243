"""A direct path for ``POST /api/v2/signingCert`` (and v1), in front of the framework's routing.

Issuing a certificate is the CA's hot path; answering it without the router and
dependency machinery saves a good share of the per-request CPU. The handlers are
the ones the documented routes use, so statuses, headers and bodies are identical.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from lacre.apps.ca.routes import (
    SIGNING_CERT_V1,
    SIGNING_CERT_V2,
    create_signing_cert,
    create_signing_cert_v1,
)
from lacre.apps.errors import lacre_error_response, unexpected_error_response
from lacre.ca.service import CaService
from lacre.errors import Error

Handler = Callable[[CaService, Request], Awaitable[Response]]
_HANDLERS: dict[str, Handler] = {
    SIGNING_CERT_V2: create_signing_cert,
    SIGNING_CERT_V1: create_signing_cert_v1,
}
_LOG = logging.getLogger(__name__)


class FastSigningCertPosts:
    """ASGI middleware answering ``POST`` of signing-certificate requests directly."""

    def __init__(self, app: ASGIApp, service: CaService) -> None:
        """Wrap ``app``; other requests pass through unchanged."""
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer signing-certificate POSTs here; hand everything else to the wrapped app."""
        handler = _HANDLERS.get(scope["path"]) if scope["type"] == "http" else None
        if handler is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        response = await self._answer(handler, Request(scope, receive))
        await response(scope, receive, send)

    async def _answer(self, handler: Handler, request: Request) -> Response:
        try:
            return await handler(self.service, request)
        except Error as exc:
            return lacre_error_response(exc)
        except Exception as exc:  # a bug: answer in the error shape, log the details
            _LOG.exception("unexpected failure issuing a certificate")
            return unexpected_error_response(exc)
