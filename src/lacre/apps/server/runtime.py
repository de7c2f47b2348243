"""Start-up of the server's parts: storage, keys, logs and the client trust files."""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lacre.apps.server.ca_setup import CaParts, trust_entries
from lacre.apps.server.config import ServerConfig, origin_of
from lacre.apps.server.keyfiles import server_signer
from lacre.apps.server.tsa_setup import TsaParts
from lacre.apps.server.tsa_setup import trust_entry as tsa_trust_entry
from lacre.errors import ConfigError
from lacre.keys import KeyAlgorithm, Signer
from lacre.models.timestamp_authority import with_timestamp_authorities
from lacre.models.trusted_root import TransparencyLogKey, trusted_root
from lacre.rekor.ids import new_tree_id
from lacre.tlog import TransparencyLog
from lacre.tlog.storage.base import LogStore

MAIN_LOG = "main"
V1_LOG = "rekor-v1"


def open_store(config: ServerConfig) -> LogStore:
    """The configured storage: PostgreSQL when a DSN is given, else SQLite in the data dir."""
    if config.postgres_dsn:
        from lacre.tlog.storage.postgres import PostgresStore

        return PostgresStore(config.postgres_dsn)
    from lacre.tlog.storage.sqlite import SqliteStore

    return SqliteStore(config.data_dir / "lacre.db")


def log_signer(config: ServerConfig, uri: str) -> Signer:
    """A log's checkpoint signer; a missing key file is generated in development mode."""
    return server_signer(
        config,
        uri,
        KeyAlgorithm.ECDSA_P256_SHA256,
        role="log",
        advice="name an existing key (--log-key, --rekor-v1-key), or start with --dev to "
        "generate one",
    )


@dataclass(frozen=True)
class Logs:
    """The server's logs: the main log (Rekor v2, tiles at the root) and the Rekor v1 tree."""

    main: TransparencyLog
    v1: TransparencyLog
    v1_tree_id: int

    def close(self) -> None:
        """Integrate what is queued in every log and stop."""
        self.main.close()
        self.v1.close()


def open_logs(config: ServerConfig, store: LogStore, base_url: str) -> Logs:
    """Open (creating if new) the server's logs, named after the public host."""
    host = origin_of(base_url)
    main = TransparencyLog.open(
        store, name=MAIN_LOG, origin=host, signer=log_signer(config, config.log_key_uri)
    )
    v1_origin = _v1_origin(store, host)
    v1 = TransparencyLog.open(
        store,
        name=V1_LOG,
        origin=v1_origin,
        signer=log_signer(config, config.rekor_v1_key_uri),
        key_name=host,
    )
    return Logs(main, v1, int(v1_origin.rsplit(" - ", 1)[1]))


def _v1_origin(store: LogStore, host: str) -> str:
    """The v1 tree's origin ``<host> - <tree ID>``, with a tree ID drawn at creation."""
    for log in store.logs():
        if log.name == V1_LOG:
            if not log.origin.startswith(f"{host} - "):
                raise ConfigError(
                    "the Rekor v1 log was created for another host name",
                    expected=log.origin.rsplit(" - ", 1)[0],
                    found=host,
                )
            return log.origin
    return f"{host} - {new_tree_id()}"


def write_trusted_root(
    data_dir: Path,
    base_url: str,
    logs: Logs | None,
    ca: CaParts | None = None,
    tsa: TsaParts | None = None,
) -> Path:
    """Write ``DATA_DIR/client/trusted_root.json`` naming every key the server serves.

    The file is a history: a log key, CT key, CA chain or TSA chain named by
    the previous file but no longer served stays, its window ending now, and
    a new one starts now (see :mod:`lacre.models.trusted_root`).
    """
    path = data_dir / "client" / "trusted_root.json"
    previous = _read_json(path)
    now = dt.datetime.now(dt.UTC)
    tlogs = [
        TransparencyLogKey(
            base_url=base_url,
            key=log.note_signer.signer.public_key,
            log_id=log.note_signer.key_id,
            valid_from=now,
        )
        for log in ((logs.v1, logs.main) if logs is not None else ())
    ]
    ctlogs, authorities = trust_entries(ca, base_url, now) if ca is not None else ([], [])
    document = trusted_root(
        tlogs, previous, ctlogs=ctlogs, authorities=authorities, replaced_at=now
    )
    if tsa is not None:
        document = with_timestamp_authorities(
            document, [tsa_trust_entry(tsa, base_url)], replaced_at=now
        )
    _write_json_atomically(path, document)
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
