"""The password of an encrypted key file: from ``LACRE_PASSWORD``, else asked for."""

from __future__ import annotations

import os
import sys

import click

from lacre.errors import ConfigError

PASSWORD_ENV = "LACRE_PASSWORD"  # noqa: S105 - the variable name, not a secret


def key_passphrase() -> bytes:
    """The password in ``LACRE_PASSWORD`` if set, else typed at a hidden prompt."""
    return ask_password("Key password").encode()


def ask_password(prompt: str, *, confirm: bool = False) -> str:
    """``LACRE_PASSWORD`` if set, else typed at a hidden ``prompt`` (asked twice if ``confirm``).

    With no terminal to ask on, a :class:`ConfigError` says to set the variable.
    """
    if PASSWORD_ENV in os.environ:
        return os.environ[PASSWORD_ENV]
    if not sys.stdin.isatty():
        raise ConfigError(
            "no password for the key",
            expected=f"{PASSWORD_ENV} set, or a terminal to ask on",
            found="standard input is not a terminal",
        )
    typed = click.prompt(
        prompt, hide_input=True, confirmation_prompt=confirm, default="", show_default=False
    )
    return str(typed)
