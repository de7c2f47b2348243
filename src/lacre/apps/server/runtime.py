"""Start-up of the server's parts: storage, keys, logs and the client trust files."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from lacre.apps.server.config import ServerConfig, origin_of
from lacre.errors import ConfigError
from lacre.keys import Signer, generate_signer, load_signer, save_signer
from lacre.keys.uri import key_path
from lacre.models.trusted_root import TransparencyLogKey, trusted_root
from lacre.tlog import TransparencyLog
from lacre.tlog.storage.base import LogStore

MAIN_LOG = "main"


def open_store(config: ServerConfig) -> LogStore:
    """The configured storage: PostgreSQL when a DSN is given, else SQLite in the data dir."""
    if config.postgres_dsn:
        from lacre.tlog.storage.postgres import PostgresStore

        return PostgresStore(config.postgres_dsn)
    from lacre.tlog.storage.sqlite import SqliteStore

    return SqliteStore(config.data_dir / "lacre.db")


def log_signer(config: ServerConfig) -> Signer:
    """The main log's checkpoint signer; generated on first start in development mode."""
    uri = config.log_key_uri
    path = key_path(uri)
    if not path.exists():
        if not config.dev:
            raise ConfigError(
                f"no log key at {path}: pass --log-key file:PATH, "
                "or start with --dev to generate one"
            )
        save_signer(generate_signer(), path)
    return load_signer(uri, lambda: config.key_passphrase)


def open_main_log(config: ServerConfig, store: LogStore, base_url: str) -> TransparencyLog:
    """Open (creating if new) the server's main log, named after the public host."""
    return TransparencyLog.open(
        store, name=MAIN_LOG, origin=origin_of(base_url), signer=log_signer(config)
    )


def write_trusted_root(data_dir: Path, base_url: str, log: TransparencyLog) -> Path:
    """Write ``DATA_DIR/client/trusted_root.json`` naming every key the server serves."""
    path = data_dir / "client" / "trusted_root.json"
    previous = _read_json(path)
    tlog = TransparencyLogKey(
        base_url=base_url,
        key=log.note_signer.signer.public_key,
        log_id=log.note_signer.key_id,
        valid_from=dt.datetime.now(dt.UTC),
    )
    _write_json_atomically(path, trusted_root([tlog], previous))
    return path


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def _write_json_atomically(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n")
    with tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    tmp.replace(path)
