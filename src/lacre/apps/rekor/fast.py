"""A direct path for the two entry-creating POSTs, in front of the framework's routing.

Entry creation is the hot path of a log; answering it without the router and
dependency machinery saves a large share of the per-request CPU. The handlers
are the same ones the documented routes use, so behaviour (statuses, headers,
error bodies) is identical.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from lacre.apps.errors import lacre_error_response, unexpected_error_response
from lacre.apps.rekor.routes import V1_ENTRIES, V2_ENTRIES, create_v1_entry, create_v2_entry
from lacre.errors import Error
from lacre.rekor.v1 import RekorV1
from lacre.rekor.v2 import RekorV2

Handler = Callable[[Request], Awaitable[Response]]
_LOG = logging.getLogger(__name__)


class FastEntryPosts:
    """ASGI middleware answering ``POST`` of Rekor v1 and v2 entries directly."""

    def __init__(self, app: ASGIApp, v1: RekorV1, v2: RekorV2) -> None:
        """Wrap ``app``; other requests pass through unchanged."""
        self.app = app

        async def post_v1(request: Request) -> Response:
            return await create_v1_entry(v1, request)

        async def post_v2(request: Request) -> Response:
            return await create_v2_entry(v2, request)

        self._handlers: dict[str, Handler] = {V1_ENTRIES: post_v1, V2_ENTRIES: post_v2}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer entry POSTs here; hand everything else to the wrapped app."""
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
        _LOG.exception("unexpected failure creating an entry")
        return unexpected_error_response(exc)
