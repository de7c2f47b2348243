"""What the server tells clients: trust files in ``DATA_DIR/client`` and the TUF repository.

On every start the server writes ``client/signing_config.json`` (the URLs of the
services it runs) and ``client/trust_config.json`` (a ClientTrustConfig holding
that and the trusted root), and publishes both documents as targets of its TUF
repository in ``DATA_DIR/tuf`` when there is one; ``client/root.json`` is that
repository's current root, the one clients pin. In development mode the
repository is created on first start, its single root key kept in
``DATA_DIR/keys/tuf-root``; otherwise ``lacre trust init --repo DATA_DIR/tuf``
makes it. A background thread re-signs the timestamp and snapshot before they
expire.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lacre.apps.server.config import ServerConfig
from lacre.models.signing_config import (
    ServiceEndpoint,
    ServiceSelection,
    client_trust_config,
    signing_config,
)
from lacre.models.timestamp_authority import TIMESTAMP_PATH
from lacre.trust.targets import SIGNING_CONFIG, TRUSTED_ROOT
from lacre.trust.workspace import Ceremony, Workspace

OPERATOR = "lacre"
REFRESH_INTERVAL_S = 600.0
"""How often the server checks whether TUF metadata needs re-signing."""


@dataclass(frozen=True)
class Services:
    """The URLs of the services this server runs (None: not running)."""

    ca: str | None
    oidc: str | None
    rekor: str | None
    tsa: str | None = None


def services_of(
    config: ServerConfig, base_url: str, *, builtin_issuer: bool, tsa: bool
) -> Services:
    """The services ``config`` runs, at ``base_url``."""
    return Services(
        ca=base_url if "ca" in config.services else None,
        oidc=f"{base_url}/oidc" if builtin_issuer else None,
        rekor=base_url if "log" in config.services else None,
        tsa=f"{base_url}{TIMESTAMP_PATH}" if tsa else None,
    )


def write_client_trust(
    config: ServerConfig, services: Services, trusted_root_path: Path
) -> Workspace | None:
    """Write the client trust files; publish them through TUF; the workspace if there is one."""
    client = config.data_dir / "client"
    trusted_root = json.loads(trusted_root_path.read_text())
    signing = _signing_config(services, _first_start(client / "signing_config.json"))
    if signing is not None:
        _write(client / "signing_config.json", signing)
        _write(client / "trust_config.json", client_trust_config(trusted_root, signing))
    workspace = _workspace(config, trusted_root, signing)
    if workspace is not None:
        roots = sorted(workspace.published_dir.glob("*.root.json"), key=_version)
        (client / "root.json").write_bytes(roots[-1].read_bytes())
    return workspace


def start_refreshing(workspace: Workspace) -> threading.Thread:
    """Re-sign expiring TUF metadata every few minutes, in a daemon thread."""

    def loop() -> None:
        while True:
            try:
                workspace.refresh(dt.datetime.now(dt.UTC))
            except Exception:  # keep serving; the next round tries again
                traceback.print_exc()
            stop.wait(REFRESH_INTERVAL_S)

    stop = threading.Event()
    thread = threading.Thread(target=loop, name="tuf-refresh", daemon=True)
    thread.start()
    return thread


def _signing_config(services: Services, since: dt.datetime) -> dict[str, Any] | None:
    if services.ca is None or services.rekor is None:
        return None

    def endpoint(url: str, version: int = 1) -> ServiceEndpoint:
        return ServiceEndpoint(
            url=url, major_api_version=version, operator=OPERATOR, valid_from=since
        )

    return signing_config(
        ca=[endpoint(services.ca)],
        oidc=[endpoint(services.oidc)] if services.oidc else [],
        rekor=[endpoint(services.rekor, 2), endpoint(services.rekor, 1)],
        rekor_selection=ServiceSelection(),
        tsa=[endpoint(services.tsa)] if services.tsa else [],
    )


def _workspace(
    config: ServerConfig, trusted_root: dict[str, Any], signing: dict[str, Any] | None
) -> Workspace | None:
    workspace = Workspace(config.data_dir / "tuf")
    targets = {TRUSTED_ROOT: _bytes(trusted_root)}
    if signing is not None:
        targets[SIGNING_CONFIG] = _bytes(signing)
    now = dt.datetime.now(dt.UTC)
    if not (workspace.published_dir / "timestamp.json").exists():
        if not config.dev:
            return None
        ceremony = Ceremony(root_keys=1, threshold=1, targets=targets)
        workspace.init(config.data_dir / "keys" / "tuf-root", ceremony, now)
        return workspace
    workspace.publish(targets, now)
    workspace.refresh(now)
    return workspace


def _first_start(previous: Path) -> dt.datetime:
    """When the services were first listed: kept from the previous signing config."""
    try:
        document = json.loads(previous.read_text())
        start = document["caUrls"][0]["validFor"]["start"]
        return dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _version(path: Path) -> int:
    return int(path.name.split(".", 1)[0])


def _bytes(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, indent=2) + "\n").encode()


def _write(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(_bytes(document))
    tmp.replace(path)
