"""C2SP tlog-tiles read paths of one log: checkpoint, hash tiles and entry bundles."""

from __future__ import annotations

from fastapi import APIRouter, Response

from lacre.apps.openapi import CheckpointResponse, OctetStreamResponse
from lacre.tlog import LogReader
from lacre.transparency.tiles import TILE_WIDTH, TileRef

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT_LIVED = "public, max-age=1"


def tiles_router(reader: LogReader, prefix: str = "") -> APIRouter:
    """A router serving ``reader``'s log under ``prefix`` (``""`` for the root)."""
    router = APIRouter(prefix=prefix, tags=[f"log {reader.log.name}"])

    @router.get(
        "/checkpoint", summary="The latest signed checkpoint", response_class=CheckpointResponse
    )
    async def checkpoint() -> Response:
        return CheckpointResponse(reader.checkpoint(), headers={"Cache-Control": "no-cache"})

    @router.get(
        "/tile/{path:path}",
        summary="A hash tile or an entry bundle",
        response_class=OctetStreamResponse,
    )
    async def tile(path: str) -> Response:
        return tile_response(reader, TileRef.parse(f"tile/{path}"))

    return router


def tile_response(reader: LogReader, ref: TileRef) -> Response:
    """The bytes of the tile ``ref`` names, with cache headers fitting its fullness."""
    if ref.kind == "entries":
        data = reader.entry_bundle(ref.index, ref.width)
    else:
        data = reader.tile(ref.level, ref.index, ref.width)
    cache = IMMUTABLE if ref.width == TILE_WIDTH else SHORT_LIVED
    return OctetStreamResponse(data, headers={"Cache-Control": cache})
