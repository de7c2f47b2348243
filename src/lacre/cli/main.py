"""Entry point of the ``lacre`` command."""

from __future__ import annotations

import gc
import importlib
import os
import sys
import threading
import warnings
from typing import NoReturn

import click

import lacre
from lacre.cli.reporting import reports_errors

__all__ = ["cli", "main", "reports_errors"]


_COMMANDS = {
    "server": "lacre.cli.server:server",
    "serve": "lacre.cli.server:serve",
    "ca": "lacre.cli.ca:ca",
    "trust": "lacre.cli.trust:trust",
    "log": "lacre.cli.log:log",
    "dev": "lacre.cli.dev:dev",
    "sign-blob": "lacre.cli.sign:sign_blob",
    "verify-blob": "lacre.cli.verify:verify_blob",
    "attest": "lacre.cli.main:_attest",
    "verify-attestation": "lacre.cli.main:_verify_attestation",
    "generate-key-pair": "lacre.cli.sign:generate_key_pair",
    "sign": "lacre.cli.image:sign_image",
    "verify": "lacre.cli.image:verify_image",
    "download": "lacre.cli.image:download_command",
    "tree": "lacre.cli.image:tree_command",
    "image": "lacre.cli.image:image_group",
}
"""Every command, as ``module:attribute``: a command's module is imported only when it runs."""


class _LazyGroup(click.Group):
    """A group that imports a command's module only when that command is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attribute = target.partition(":")
        found = getattr(importlib.import_module(module), attribute)
        command = found() if not isinstance(found, click.Command) else found
        assert isinstance(command, click.Command)
        return command


def _attest() -> click.Command:
    """``attest FILE...`` (in-toto statement over files) or ``attest IMAGE``."""
    from lacre.cli.image import attest_image, dispatching
    from lacre.cli.sign import attest

    return dispatching(attest, attest_image)


def _verify_attestation() -> click.Command:
    """``verify-attestation FILE`` or ``verify-attestation IMAGE``."""
    from lacre.cli.image import dispatching, verify_attestation_image
    from lacre.cli.verify import verify_attestation

    return dispatching(verify_attestation, verify_attestation_image)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(lacre.__version__, prog_name="lacre")
def cli() -> None:
    """lacre: a complete, self-hostable Sigstore.

    Run your own certificate authority, transparency log, timestamp authority
    and trust repository, and sign and verify software and container images
    against them.
    """


_LONG_RUNNING = frozenset({"server", "serve", "log"})
"""Commands that serve, or walk a whole log, for as long as they run."""

_ENDS_AT_ONCE = frozenset({"verify-blob", "verify-attestation"})
"""Commands with nothing left to finish when they return.

Their writes (a refreshed TUF cache, an image digest cache entry) are complete
files by then, a PKCS#11 session is closed, and they start no thread and
register nothing to run at exit. A command joins this set only if all of
that holds for every path it takes.
"""


def main() -> None:
    """Run the ``lacre`` command.

    Every command but the long-running ones runs without the cyclic garbage
    collector. Loading a command creates tens of thousands of objects that live
    as long as the process (modules, classes, options). The collector would
    scan them again and again and find nothing to free, and that scanning costs
    a short command a noticeable part of its run time. Cyclic garbage a short
    command leaves is freed when it exits.

    The verification commands (:data:`_ENDS_AT_ONCE`) also end without the
    interpreter's teardown, which would otherwise unload every module and free
    every object one by one, for a process about to end: see :func:`_end_now`.

    Python warnings (``cryptography``'s about oddly encoded certificates, for one)
    are not shown: every refusal is one error line, and a certificate that is
    merely odd is no one's mistake the user can mend. ``python -W`` shows them.
    """
    if not sys.warnoptions:
        warnings.simplefilter("ignore")
    command = _command(sys.argv[1:])
    if command not in _LONG_RUNNING:
        gc.disable()
    if command not in _ENDS_AT_ONCE:
        cli()
        return
    try:
        cli()
    except SystemExit as ending:
        _end_now(ending)
    _end_now(SystemExit(0))


def _end_now(ending: SystemExit) -> NoReturn:
    """Flush the output and end the process with the exit status of ``ending``, at once.

    Falls back to a normal exit when anything could still need the teardown:
    an exit message to print, another thread, or output that cannot be flushed.
    """
    status = 0 if ending.code is None else ending.code
    if not isinstance(status, int) or threading.active_count() > 1:
        raise ending
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        raise ending from None
    os._exit(status)


def _command(arguments: list[str]) -> str | None:
    """The command named on the command line: its first argument that is not an option."""
    return next((argument for argument in arguments if not argument.startswith("-")), None)
