"""``lacre server`` and ``lacre serve SERVICE``: run the services over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from lacre.cli.reporting import reports_errors
from lacre.cli.stacking import with_options

F = TypeVar("F", bound=Callable[..., Any])

_OPTIONS = [
    click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False, exists=True, path_type=Path),
        default=None,
        help="YAML configuration file (see docs/configuration.md); "
        "options given on the command line win over it.",
    ),
    click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path(".lacre"),
        show_default=True,
        help="Directory for the database, keys and the client trust files.",
    ),
    click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on."),
    click.option(
        "--port", type=int, default=3000, show_default=True, help="Port to listen on (0: any free)."
    ),
    click.option(
        "--log-level",
        type=click.Choice(["debug", "info", "warning", "error"]),
        default="warning",
        show_default=True,
        help="JSON log lines on stderr at this level and above; info adds one line per "
        "request (an access log, which costs throughput).",
    ),
    click.option(
        "--dev",
        is_flag=True,
        help="Development mode: make missing keys, the CA and TSA chains and the TUF "
        "repository on first start; the built-in OIDC issuer gives anyone a token.",
    ),
    click.option(
        "--workers",
        type=int,
        default=1,
        show_default=True,
        help="Server processes sharing the port and the database (one Python process uses "
        "at most one core).",
    ),
    click.option(
        "--public-url",
        default=None,
        help="URL clients use to reach this server (default http://HOST:PORT); "
        "its host name is the logs' checkpoint origin.",
    ),
    click.option(
        "--postgres",
        "postgres_dsn",
        default=None,
        metavar="DSN",
        help="Store logs in PostgreSQL instead of SQLite (also $LACRE_POSTGRES_DSN).",
    ),
    click.option(
        "--tls-certificate",
        type=click.Path(dir_okay=False, exists=True, path_type=Path),
        default=None,
        help="Serve HTTPS with this PEM certificate chain (with --tls-key).",
    ),
    click.option(
        "--tls-key",
        type=click.Path(dir_okay=False, exists=True, path_type=Path),
        default=None,
        help="The TLS certificate's private key (PEM).",
    ),
    click.option(
        "--log-key",
        default=None,
        metavar="URI",
        help="Checkpoint key of the main (Rekor v2) log (default file:DATA_DIR/keys/log.pem); "
        "an encrypted PEM's passphrase is read from $LACRE_KEY_PASSPHRASE.",
    ),
    click.option(
        "--rekor-v1-key",
        default=None,
        metavar="URI",
        help="Checkpoint and SET key of the Rekor v1 tree "
        "(default file:DATA_DIR/keys/rekor-v1.pem).",
    ),
]


def server_options(command: F) -> F:
    """Attach the options every server command shares."""
    return with_options(command, _OPTIONS)


def _run(services: frozenset[str] | None, config_file: Path | None, **options: Any) -> None:
    from lacre.apps.server.config import ServerConfig
    from lacre.apps.server.metricsdir import prepare_metrics

    context = click.get_current_context()
    explicit = {
        name
        for name in options
        if context.get_parameter_source(name) is not ParameterSource.DEFAULT
    }
    config = ServerConfig.from_options(
        config_file=config_file, explicit=explicit, services=services, **options
    )
    prepare_metrics(config.data_dir / "metrics")
    from lacre.apps.server.app import serve  # after prepare_metrics: see its module

    serve(config)


@click.command()
@server_options
@reports_errors
def server(**options: Any) -> None:
    """Run every lacre service in one process on one port.

    The transparency logs (Rekor v1 and v2 APIs, C2SP tiles), the certificate
    authority with its CT log (once `lacre ca init` has made its chain, or in
    --dev mode), the RFC 3161 timestamp authority (with keys.tsa and tsa.chain
    configured, or in --dev mode), the TUF repository in DATA_DIR/tuf (made by
    `lacre trust init`, or in --dev mode) and the built-in OIDC issuer (in --dev
    mode, or when the configuration file enables it). Prints the server's base
    URL once it accepts connections, and keeps DATA_DIR/client/ (trusted root,
    signing config, trust config, TUF root) current. The configuration file's
    `services` list may narrow what runs.
    """
    _run(None, **options)


@click.group()
def serve() -> None:
    """Run one lacre service alone."""


@serve.command("log")
@server_options
@reports_errors
def serve_log(**options: Any) -> None:
    """Run the transparency log service alone: Rekor v1 and v2 APIs and C2SP tiles."""
    _run(frozenset({"log"}), **options)


@serve.command("ca")
@server_options
@reports_errors
def serve_ca(**options: Any) -> None:
    """Run the certificate authority alone: Fulcio API, CT log, built-in issuer if enabled.

    Needs the CA chain made by `lacre ca init` (or --dev, which makes one).
    """
    _run(frozenset({"ca", "oidc"}), **options)


@serve.command("tsa")
@server_options
@reports_errors
def serve_tsa(**options: Any) -> None:
    """Run the RFC 3161 timestamp authority alone.

    Outside --dev it needs keys.tsa and tsa.chain in the configuration file.
    """
    _run(frozenset({"tsa"}), **options)


@serve.command("tuf")
@server_options
@reports_errors
def serve_tuf(**options: Any) -> None:
    """Serve the TUF repository in DATA_DIR/tuf alone, re-signing it before it expires."""
    _run(frozenset({"tuf"}), **options)


@serve.command("oidc")
@server_options
@reports_errors
def serve_oidc(**options: Any) -> None:
    """Run the built-in OIDC issuer alone (--dev, or enabled in the configuration file)."""
    _run(frozenset({"oidc"}), **options)
