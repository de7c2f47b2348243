"""A direct path for ``POST /api/v1/timestamp``, in front of the framework's routing.

Timestamping is the TSA's hot path and signing a token costs far less than the
router and dependency machinery around it. The handler is the one the
documented route uses, so statuses, headers and bodies are identical.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from lacre.apps.errors import lacre_error_response, unexpected_error_response
from lacre.apps.tsa.routes import TIMESTAMP_PATH, create_timestamp
from lacre.errors import Error
from lacre.tsa import TimestampAuthority

_LOG = logging.getLogger(__name__)


class FastTimestampPosts:
    """ASGI middleware answering ``POST /api/v1/timestamp`` directly."""

    def __init__(self, app: ASGIApp, authority: TimestampAuthority) -> None:
        """Wrap ``app``; other requests pass through unchanged."""
        self.app = app
        self.authority = authority

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer timestamp POSTs here; hand everything else to the wrapped app."""
        if scope["type"] != "http" or scope["path"] != TIMESTAMP_PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        response = await self._answer(Request(scope, receive))
        await response(scope, receive, send)

    async def _answer(self, request: Request) -> Response:
        try:
            return await create_timestamp(self.authority, request)
        except Error as exc:
            return lacre_error_response(exc)
        except Exception as exc:  # a bug: answer in the error shape, log the details
            _LOG.exception("unexpected failure creating a timestamp")
            return unexpected_error_response(exc)
