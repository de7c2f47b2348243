"""What every benchmark shares: judging figures against targets, finding PostgreSQL."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from lacre.testing.postgres import DSN_ENV_VAR, ExistingPostgres, PostgresServer, ThrowawayPostgres


def judge(
    figures: Mapping[str, Any], targets: Mapping[str, float], at_most: frozenset[str]
) -> dict[str, bool | None]:
    """Whether each target is met: at least the target, or at most it for ``at_most`` keys.

    None where the figure was not measured.
    """
    verdicts: dict[str, bool | None] = {}
    for key, target in targets.items():
        value = figures.get(key)
        if not isinstance(value, int | float):
            verdicts[key] = None
        elif key in at_most:
            verdicts[key] = value <= target
        else:
            verdicts[key] = value >= target
    return verdicts


@contextlib.contextmanager
def postgres_server(say: Callable[[str], None]) -> Iterator[tuple[PostgresServer, str]]:
    """The server named by ``LACRE_TEST_POSTGRES_DSN``, or a throwaway one; with its origin."""
    dsn = os.environ.get(DSN_ENV_VAR)
    if dsn:
        yield ExistingPostgres(dsn), DSN_ENV_VAR
        return
    say("starting a throwaway PostgreSQL cluster")
    with ThrowawayPostgres() as server:
        yield server, "throwaway"
