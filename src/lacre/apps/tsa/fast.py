"""The timestamp authority's direct POST: ``/api/v1/timestamp``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from lacre.apps.direct import Handler
from lacre.apps.tsa.routes import create_timestamp
from lacre.models.timestamp_authority import TIMESTAMP_PATH
from lacre.tsa import TimestampAuthority


def timestamp_posts(authority: TimestampAuthority) -> dict[str, Handler]:
    """The timestamp handler of ``authority``, by path, for :class:`DirectPosts`."""

    async def timestamp(request: Request) -> Response:
        return await create_timestamp(authority, request)

    return {TIMESTAMP_PATH: timestamp}
