"""A direct path for the hot POSTs, in front of the framework's routing.

Logging an entry, issuing a certificate and timestamping are each service's hot
path; answering them without the router and dependency machinery saves a good
share of the CPU per request. The handlers are the ones the documented routes
use, so statuses, headers and bodies are the same either way.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from lacre.apps.errors import lacre_error_response, unexpected_error_response
from lacre.errors import Error

Handler = Callable[[Request], Awaitable[Response]]
_LOG = logging.getLogger(__name__)


class DirectPosts:
    """ASGI middleware answering ``POST`` of the paths in ``handlers`` directly."""

    def __init__(self, app: ASGIApp, handlers: Mapping[str, Handler]) -> None:
        """Wrap ``app``; other requests pass through unchanged."""
        self.app = app
        self._handlers = dict(handlers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the direct POSTs here; hand everything else to the wrapped app."""
        handler = self._handlers.get(scope["path"]) if scope["type"] == "http" else None
        if handler is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        response = await _answer(handler, Request(scope, receive))
        await response(scope, receive, send)


async def _answer(handler: Handler, request: Request) -> Response:
    try:
        return await handler(request)
    except Error as exc:
        return lacre_error_response(exc)
    except Exception as exc:  # a bug: answer in the error shape, log the details
        _LOG.exception("unexpected failure answering POST %s", request.url.path)
        return unexpected_error_response(exc)
