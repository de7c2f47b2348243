"""The ``lacre server`` ASGI application and its runner."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

import lacre
from lacre.apps.ca.ctroutes import ct_router
from lacre.apps.ca.fast import signing_cert_posts
from lacre.apps.ca.routes import SIGNING_CERT_V1, SIGNING_CERT_V2, ca_router
from lacre.apps.direct import DirectPosts, Handler
from lacre.apps.errors import error_response, install_error_handlers
from lacre.apps.oidc.routes import oidc_router
from lacre.apps.openapi import install_openapi
from lacre.apps.rekor.fast import entry_posts
from lacre.apps.rekor.routes import v1_router, v2_router
from lacre.apps.server import runtime
from lacre.apps.server.ca_setup import CaParts, open_ca
from lacre.apps.server.config import ServerConfig
from lacre.apps.server.identity import Identity, open_identity
from lacre.apps.server.observability import Observed, configure_logging, metrics_text
from lacre.apps.server.trust_setup import services_of, start_refreshing, write_client_trust
from lacre.apps.server.tsa_setup import TsaParts, open_tsa
from lacre.apps.tlog.routes import tiles_router
from lacre.apps.tsa.fast import timestamp_posts
from lacre.apps.tsa.routes import tsa_router
from lacre.apps.tuf.routes import tuf_router
from lacre.errors import ConfigError, Error
from lacre.models.timestamp_authority import TIMESTAMP_PATH
from lacre.rekor.v1 import RekorV1
from lacre.rekor.v2 import RekorV2
from lacre.tlog import TransparencyLog
from lacre.tlog.storage.base import LogStore
from lacre.trust.workspace import Workspace

_LOG = logging.getLogger("lacre.server")
_ISSUING = {
    SIGNING_CERT_V1: "certificate",
    SIGNING_CERT_V2: "certificate",
    TIMESTAMP_PATH: "timestamp",
}
"""Routes whose successful POST issues something, counted by kind in ``lacre_issued``."""


def create_app(
    store: LogStore,
    logs: runtime.Logs | None,
    services: frozenset[str],
    ca: CaParts | None = None,
    identity: Identity | None = None,
    tuf: Workspace | None = None,
    tsa: TsaParts | None = None,
) -> FastAPI:
    """The server application: health, and each service asked for.

    The logs: Rekor v1 and v2; the main log (Rekor v2) publishes its tiles at
    the root and under /api/v2, the Rekor v1 tree under /logs/rekor-v1. The
    CA: the Fulcio API and the CT log. The built-in OIDC issuer under /oidc.
    The TUF repository under /tuf. The timestamp authority under /api/v1/timestamp.
    """

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if logs is not None:
            logs.close()
        if ca is not None:
            ca.close()
        if tsa is not None:
            tsa.close()
        store.close()

    app = FastAPI(title="lacre", version=lacre.__version__, lifespan=lifespan)
    install_error_handlers(app)
    install_openapi(app)

    @app.get("/healthz", summary="Liveness")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    served = _logs_of(logs, ca)

    @app.get("/readyz", summary="Readiness: the storage answers", responses={503: {}})
    def readyz() -> Response:
        try:
            for log in served.values():
                log.reader.state()
        except Error as exc:
            return error_response(503, f"not ready: {exc}")
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
    def metrics() -> Response:
        return Response(metrics_text(lambda: _gauges(served)), media_type=CONTENT_TYPE_LATEST)

    direct: dict[str, Handler] = {}
    if logs is not None:
        direct |= _mount_logs(app, logs)
    if ca is not None:
        app.include_router(ca_router(ca.service))
        app.include_router(ct_router(ca.ctlog))
        direct |= signing_cert_posts(ca.service)
    if identity is not None and identity.issuer is not None and "oidc" in services:
        app.include_router(oidc_router(identity.issuer, identity.accounts))
    if tuf is not None and "tuf" in services:
        app.include_router(tuf_router(tuf.published_dir))
    if tsa is not None:
        app.include_router(tsa_router(tsa.authority))
        direct |= timestamp_posts(tsa.authority)
    app.add_middleware(DirectPosts, handlers=direct)
    app.add_middleware(Observed, direct_paths=frozenset(direct), issuing=_ISSUING)
    return app


def _logs_of(logs: runtime.Logs | None, ca: CaParts | None) -> dict[str, TransparencyLog]:
    served = {"main": logs.main, "rekor-v1": logs.v1} if logs is not None else {}
    return served | ({"ct": ca.ctlog.log} if ca is not None else {})


def _gauges(logs: dict[str, TransparencyLog]) -> dict[str, list[tuple[str, float]]]:
    return {
        "lacre_log_size": [(name, log.reader.state().size) for name, log in logs.items()],
        "lacre_log_backlog": [(name, log.backlog) for name, log in logs.items()],
    }


def _mount_logs(app: FastAPI, logs: runtime.Logs) -> dict[str, Handler]:
    """Mount the logs' routes; return their direct POST handlers."""
    v1, v2 = RekorV1(logs.v1, logs.v1_tree_id), RekorV2(logs.main)
    app.include_router(v1_router(v1))
    app.include_router(v2_router(v2))
    app.include_router(tiles_router(logs.main.reader))
    app.include_router(tiles_router(logs.main.reader, "/api/v2"))
    app.include_router(tiles_router(logs.v1.reader, "/logs/rekor-v1"))
    return entry_posts(v1, v2)


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
    """Set up the data directory, then serve until interrupted.

    With ``config.workers`` above one, the set-up runs once here and each
    worker process opens the storage itself and serves the same socket.
    """
    configure_logging(config.log_level)
    sock = bind(config.host, config.port)
    base_url = config.base_url(sock.getsockname()[1])
    config.data_dir.mkdir(parents=True, exist_ok=True)
    _check_builtin_issuer(config)
    store = runtime.open_store(config)
    logs = runtime.open_logs(config, store, base_url) if "log" in config.services else None
    identity = open_identity(config, base_url)
    ca = open_ca(config, store, base_url, identity.verifier)
    tsa = _open_tsa(config)
    trust = runtime.write_trusted_root(config.data_dir, base_url, logs, ca, tsa)
    services = services_of(
        config, base_url, builtin_issuer=identity.issuer is not None, tsa=tsa is not None
    )
    tuf = write_client_trust(config, services, trust)
    if config.workers > 1:
        if tsa is not None:
            tsa.close()
        if logs is not None:
            logs.close()
        if ca is not None:
            ca.close()
        store.close()
        workers = [_fork_worker(config, sock, base_url, tuf) for _ in range(config.workers)]
        _refresh(tuf)
        _announce(config, base_url, trust)
        sys.exit(supervise(workers))
    _refresh(tuf)
    _announce(config, base_url, trust)
    _run(create_app(store, logs, config.services, ca, identity, tuf, tsa), sock, config)


def _open_tsa(config: ServerConfig) -> TsaParts | None:
    if "tsa" not in config.services:
        return None
    return open_tsa(
        data_dir=config.data_dir,
        key_uri=config.tsa_key,
        dev=config.dev,
        passphrase=config.key_passphrase,
        chain_path=config.tsa_chain,
    )


def _refresh(tuf: Workspace | None) -> None:
    if tuf is not None:
        start_refreshing(tuf)


def _check_builtin_issuer(config: ServerConfig) -> None:
    if config.services == {"oidc"} and not config.builtin_issuer:
        raise ConfigError(
            "the built-in OIDC issuer is off",
            expected="--dev, or oidc.builtin.enabled (or accounts) in the configuration file",
        )


def _announce(config: ServerConfig, base_url: str, trust: Path) -> None:
    print(f"lacre server ready at {base_url}", flush=True)
    _LOG.info("ready", extra={"fields": {"url": base_url, "trusted_root": str(trust)}})
    if config.dev:
        print(banner(base_url, config.data_dir, config.services), flush=True)


def banner(base_url: str, data_dir: Path, services: frozenset[str]) -> str:
    """What a development server runs, and how to sign and verify a file against it."""
    client = data_dir / "client"
    lines = [
        f"  CA (Fulcio API)  {base_url}" if "ca" in services else "",
        f"  Rekor v1, v2     {base_url}/api/v1, {base_url}/api/v2" if "log" in services else "",
        f"  TUF repository   {base_url}/tuf (root: {client / 'root.json'})",
        f"  OIDC issuer      {base_url}/oidc (development: a token for anyone)",
        f"  trust config     {client / 'trust_config.json'}",
        "Sign and verify a file:",
        f"  TOKEN=$(lacre dev token --server {base_url} --email you@example.com)",
        f"  lacre sign-blob --trust-config {client / 'trust_config.json'} "
        '--identity-token "$TOKEN" FILE',
        f"  lacre verify-blob --trust-config {client / 'trust_config.json'} "
        f"--certificate-identity you@example.com --certificate-oidc-issuer {base_url}/oidc FILE",
    ]
    return "\n".join(line for line in lines if line)


def _run(app: FastAPI, sock: socket.socket, config: ServerConfig) -> None:
    tls = config.tls_certificate, config.tls_key
    settings = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        ssl_certfile=str(tls[0]) if tls[0] else None,
        ssl_keyfile=str(tls[1]) if tls[1] else None,
    )
    server = uvicorn.Server(settings)
    server.run(sockets=[sock])


def _fork_worker(
    config: ServerConfig, sock: socket.socket, base_url: str, tuf: Workspace | None
) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        store = runtime.open_store(config)
        logs = runtime.open_logs(config, store, base_url) if "log" in config.services else None
        identity = open_identity(config, base_url)
        ca = open_ca(config, store, base_url, identity.verifier)
        tsa = _open_tsa(config)
        _run(create_app(store, logs, config.services, ca, identity, tuf, tsa), sock, config)
    except BaseException:  # a worker must never return into the parent's code
        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)


def supervise(workers: list[int]) -> int:
    """Forward SIGTERM/SIGINT to ``workers``; when one ends, stop all; return its status."""

    def forward(signum: int, _: object) -> None:
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    _, status = os.wait()
    forward(signal.SIGTERM, None)
    for _ in workers[1:]:
        with contextlib.suppress(ChildProcessError):
            os.wait()
    return os.waitstatus_to_exitcode(status)
