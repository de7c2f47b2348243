"""``/tuf/…``: the published TUF repository, read-only, as static files.

Only names of the published layout are served (``N.root.json``,
``timestamp.json``, ``N.snapshot.json``, ``N.targets.json``,
``targets/<sha256>.<name>``); anything else, and any path that would leave the
directory, is a 404 in the JSON error shape.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Response

from lacre.errors import NotFound
from lacre.trust.layout import TIMESTAMP, is_repository_path

IMMUTABLE = "public, max-age=31536000, immutable"
FRESH = "no-cache"


def tuf_router(directory: Path, prefix: str = "/tuf") -> APIRouter:
    """A router serving the published repository in ``directory`` under ``prefix``."""
    base = directory.resolve()
    router = APIRouter(prefix=prefix, tags=["tuf"])

    @router.api_route(
        "/{path:path}",
        methods=["GET", "HEAD"],
        summary="A TUF metadata or target file",
        response_class=Response,
    )
    def tuf_file(path: str) -> Response:
        data = read_published(base, path)
        return Response(data, media_type=_media_type(path), headers=_headers(path))

    return router


def read_published(base: Path, path: str) -> bytes:
    """The bytes of the published file ``path`` under ``base``, or NotFound."""
    if not is_repository_path(path):
        raise NotFound("no such TUF file", found=repr(path[:200]))
    candidate = (base / path).resolve()
    if not candidate.is_relative_to(base) or not candidate.is_file():
        raise NotFound("no such TUF file", found=repr(path[:200]))
    return candidate.read_bytes()


def _media_type(path: str) -> str:
    return "application/json" if path.endswith(".json") else "application/octet-stream"


def _headers(path: str) -> dict[str, str]:
    # root versions may be probed before they exist, but once published never change
    return {"Cache-Control": FRESH if path == TIMESTAMP else IMMUTABLE}
