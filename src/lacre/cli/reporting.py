"""How every ``lacre`` command reports a refusal: the diagnostic on stderr, exit status 1."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import click

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
