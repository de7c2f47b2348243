"""Adding a list of click options to a command, in the order they are listed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def with_options(command: F, options: Sequence[Callable[[F], F]]) -> F:
    """``command`` with ``options`` added, the first shown first in ``--help``."""
    for option in reversed(options):
        command = option(command)
    return command
