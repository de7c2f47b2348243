"""The log's direct POSTs: ``/api/v1/log/entries`` and ``/api/v2/log/entries``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from lacre.apps.direct import Handler
from lacre.apps.rekor.routes import V1_ENTRIES, V2_ENTRIES, create_v1_entry, create_v2_entry
from lacre.rekor.v1 import RekorV1
from lacre.rekor.v2 import RekorV2


def entry_posts(v1: RekorV1, v2: RekorV2) -> dict[str, Handler]:
    """The entry-creating handlers of both logs, by path, for :class:`DirectPosts`."""

    async def post_v1(request: Request) -> Response:
        return await create_v1_entry(v1, request)

    async def post_v2(request: Request) -> Response:
        return await create_v2_entry(v2, request)

    return {V1_ENTRIES: post_v1, V2_ENTRIES: post_v2}
