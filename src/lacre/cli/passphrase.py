"""The passphrase of an encrypted key file: from ``LACRE_PASSWORD``, else asked for."""

from __future__ import annotations

import os

import click

PASSWORD_ENV = "LACRE_PASSWORD"  # noqa: S105 - the variable name, not a secret


def key_passphrase() -> bytes:
    """The passphrase in ``LACRE_PASSWORD`` if set, else typed at a hidden prompt."""
    if PASSWORD_ENV in os.environ:
        return os.environ[PASSWORD_ENV].encode()
    return str(
        click.prompt("Key password", hide_input=True, default="", show_default=False)
    ).encode()
