"""``lacre server``: run the services over HTTP."""

from __future__ import annotations

from pathlib import Path

import click

from lacre.cli.main import reports_errors


@click.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".lacre"),
    show_default=True,
    help="Directory for the database, keys and the client trust files.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=int, default=3000, show_default=True, help="Port to listen on (0: any free)."
)
@click.option("--dev", is_flag=True, help="Development mode: generate missing keys on start.")
@click.option(
    "--public-url",
    default=None,
    help="URL clients use to reach this server (default http://HOST:PORT); "
    "its host name is the log's checkpoint origin.",
)
@click.option(
    "--postgres",
    "postgres_dsn",
    default=None,
    metavar="DSN",
    help="Store logs in PostgreSQL instead of SQLite (also $LACRE_POSTGRES_DSN).",
)
@click.option(
    "--log-key",
    default=None,
    metavar="URI",
    help="Checkpoint signing key of the main log (default file:DATA_DIR/keys/log.pem); "
    "an encrypted PEM's passphrase is read from $LACRE_KEY_PASSPHRASE.",
)
@click.option(
    "--rekor-v1-key",
    default=None,
    metavar="URI",
    help="Checkpoint and SET key of the Rekor v1 tree (default file:DATA_DIR/keys/rekor-v1.pem).",
)
@reports_errors
def server(
    data_dir: Path,
    host: str,
    port: int,
    dev: bool,
    public_url: str | None,
    postgres_dsn: str | None,
    log_key: str | None,
    rekor_v1_key: str | None,
) -> None:
    """Run the lacre server: Rekor v1 and v2 APIs and the logs' tile APIs.

    Prints the server's base URL once it accepts connections, and keeps
    DATA_DIR/client/trusted_root.json naming the keys it serves.
    """
    from lacre.apps.server.app import serve
    from lacre.apps.server.config import ServerConfig

    serve(
        ServerConfig.from_options(
            data_dir=data_dir,
            host=host,
            port=port,
            dev=dev,
            public_url=public_url,
            postgres_dsn=postgres_dsn,
            log_key=log_key,
            rekor_v1_key=rekor_v1_key,
        )
    )
