"""``lacre ca``: set up the certificate authority."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource
from cryptography.hazmat.primitives import hashes

from lacre.ca.key_types import CA_KEY_TYPES
from lacre.cli.reporting import reports_errors


@click.group()
def ca() -> None:
    """Set up the certificate authority of a lacre server."""


@ca.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".lacre"),
    show_default=True,
    help="The server's data directory; the chain goes to DATA_DIR/ca/chain.pem.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="The server's configuration file: its keys.ca, keys.ct, ca.chain and "
    "ca.organization are used.",
)
@click.option(
    "--key",
    "ca_key",
    default=None,
    metavar="URI",
    help="The issuing (intermediate) key: file: or pkcs11: (default "
    "file:DATA_DIR/keys/ca-intermediate.pem, made if missing).",
)
@click.option(
    "--ct-key",
    default=None,
    metavar="URI",
    help="The CT log's key (default file:DATA_DIR/keys/ct.pem, made if missing).",
)
@click.option(
    "--key-type",
    "ca_key_type",
    type=click.Choice(sorted(CA_KEY_TYPES)),
    default="ecdsa-p256",
    show_default=True,
    help="Type of the keys made (root and issuing).",
)
@click.option(
    "--organization",
    default="lacre",
    show_default=True,
    help="Organization (O) of the new certificates; their common names are "
    "'ORGANIZATION root' and 'ORGANIZATION intermediate'.",
)
@click.option(
    "--root-key",
    default=None,
    metavar="URI",
    help="Sign the intermediate with this existing root key (file: or pkcs11:).",
)
@click.option(
    "--root-key-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Without --root-key: where the new root key is written "
    "(default DATA_DIR/keys/ca-root.pem). Move it offline afterwards.",
)
@click.option(
    "--import-chain",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Use this PEM chain (the issuing intermediate, then its root) instead of "
    "making one; --key must hold the intermediate's key.",
)
@click.option("--force", is_flag=True, help="Replace an existing chain.")
@reports_errors
def init(
    root_key: str | None,
    root_key_out: Path | None,
    import_chain: Path | None,
    force: bool,
    config_file: Path | None,
    **options: Any,
) -> None:
    """Make (or import) the CA chain and the CT log key of a server.

    Makes a self-signed root and an intermediate with the codeSigning purpose,
    both ECDSA (P-256 unless --key-type), valid ten years; the server issues under the
    intermediate. Key passphrases come from $LACRE_KEY_PASSPHRASE; new key
    files are encrypted with it when it is set.
    """
    from lacre.apps.server.ca_init import CaInit, init_ca
    from lacre.apps.server.config import ServerConfig

    if root_key is not None and (root_key_out is not None or import_chain is not None):
        raise click.UsageError("--root-key goes with neither --root-key-out nor --import-chain")
    context = click.get_current_context()
    explicit = {
        name
        for name in options
        if context.get_parameter_source(name) is not ParameterSource.DEFAULT
    }
    config = ServerConfig.from_options(config_file=config_file, explicit=explicit, **options)
    request = CaInit(
        root_key=root_key, root_key_out=root_key_out, import_chain=import_chain, force=force
    )
    result = init_ca(config, request)
    for path in result.new_keys:
        click.echo(f"new key: {path}")
    if result.new_root_key is not None:
        click.echo(f"new root key: {result.new_root_key} (keep it offline)")
    for certificate in result.chain.certificates:
        fingerprint = certificate.fingerprint(hashes.SHA256()).hex()
        click.echo(f"{certificate.subject.rfc4514_string()}  sha256:{fingerprint}")
    click.echo(f"CA chain written to {result.chain_file}")
