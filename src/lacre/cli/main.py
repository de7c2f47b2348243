"""Entry point of the ``lacre`` command."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import click

import lacre
from lacre.errors import Error

P = ParamSpec("P")
R = TypeVar("R")


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn lacre errors into a diagnostic on stderr and exit status 1."""

    @wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except Error as exc:
            click.echo(f"error: {exc.diagnostics()}", err=True)
            sys.exit(1)

    return run


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
