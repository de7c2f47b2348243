"""The ``lacre server`` ASGI application and its runner."""

from __future__ import annotations

import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

import lacre
from lacre.apps.errors import install_error_handlers
from lacre.apps.server import runtime
from lacre.apps.server.config import ServerConfig
from lacre.apps.tlog.routes import tiles_router
from lacre.tlog import TransparencyLog
from lacre.tlog.storage.base import LogStore


def create_app(store: LogStore, main_log: TransparencyLog) -> FastAPI:
    """The server application: health, and the main log's tiles at the root and under /api/v2."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        main_log.close()
        store.close()

    app = FastAPI(title="lacre", version=lacre.__version__, lifespan=lifespan)
    install_error_handlers(app)

    @app.get("/healthz", summary="Liveness")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(tiles_router(main_log.reader))
    app.include_router(tiles_router(main_log.reader, "/api/v2"))
    return app


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(config: ServerConfig) -> None:
    """Set up the data directory, then serve until interrupted."""
    sock = bind(config.host, config.port)
    base_url = config.base_url(sock.getsockname()[1])
    config.data_dir.mkdir(parents=True, exist_ok=True)
    store = runtime.open_store(config)
    main_log = runtime.open_main_log(config, store, base_url)
    trust = runtime.write_trusted_root(config.data_dir, base_url, main_log)
    app = create_app(store, main_log)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    print(f"lacre server ready at {base_url}", flush=True)
    print(f"trusted root: {trust}", file=sys.stderr, flush=True)
    server.run(sockets=[sock])
