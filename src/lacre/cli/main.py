"""Entry point of the ``lacre`` command."""

from __future__ import annotations

import click

import lacre
from lacre.cli.reporting import reports_errors

__all__ = ["cli", "main", "reports_errors"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(lacre.__version__, prog_name="lacre")
def cli() -> None:
    """lacre: a complete, self-hostable Sigstore.

    Run your own certificate authority, transparency log, timestamp authority
    and trust repository, and sign and verify software against them.
    """


def _register() -> None:
    from lacre.cli.ca import ca
    from lacre.cli.dev import dev
    from lacre.cli.log import log
    from lacre.cli.server import serve, server
    from lacre.cli.sign import attest, generate_key_pair, sign_blob
    from lacre.cli.trust import trust

    cli.add_command(server)
    cli.add_command(serve)
    cli.add_command(log)
    cli.add_command(ca)
    cli.add_command(trust)
    cli.add_command(sign_blob)
    cli.add_command(attest)
    cli.add_command(generate_key_pair)
    cli.add_command(dev)


_register()


def main() -> None:
    """Run the ``lacre`` command."""
    cli()
