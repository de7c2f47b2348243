"""``lacre log``: maintenance of transparency logs."""

from __future__ import annotations

import base64
from pathlib import Path

import click

from lacre.cli.reporting import reports_errors
from lacre.errors import ConfigError
from lacre.tlog.storage.base import LogStore


@click.group()
def log() -> None:
    """Inspect and check transparency logs."""


@log.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="A server data directory (its SQLite database is checked).",
)
@click.option("--postgres", "postgres_dsn", default=None, metavar="DSN", help="A PostgreSQL DSN.")
@reports_errors
def fsck(data_dir: Path | None, postgres_dsn: str | None) -> None:
    """Re-derive every log's tiles and root from its entries and check its checkpoint.

    Exits non-zero naming the first inconsistency. Safe while the server runs.
    """
    from lacre.tlog.fsck import check_store

    store = _open(data_dir, postgres_dsn)
    try:
        for check in check_store(store):
            root = base64.b64encode(check.root).decode()
            click.echo(f"log {check.name}: {check.size} entries, root {root}: ok")
    finally:
        store.close()


def _open(data_dir: Path | None, postgres_dsn: str | None) -> LogStore:
    if postgres_dsn is not None and data_dir is None:
        from lacre.tlog.storage.postgres import PostgresStore

        return PostgresStore(postgres_dsn)
    if data_dir is None or postgres_dsn is not None:
        raise ConfigError("name exactly one of --data-dir and --postgres")
    from lacre.tlog.storage.sqlite import SqliteStore

    database = data_dir / "lacre.db"
    if not database.exists():
        raise ConfigError(f"no database at {database}: is {data_dir} a lacre data directory?")
    return SqliteStore(database)
