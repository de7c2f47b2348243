"""Helpers for testing lacre against real services.

:mod:`lacre.testing.postgres` starts a throwaway PostgreSQL cluster;
:mod:`lacre.testing.services` wraps a command (usually pytest) so that it runs
with such a cluster available through ``LACRE_TEST_POSTGRES_DSN``.
"""

from lacre.testing.postgres import (
    DSN_ENV_VAR,
    ExistingPostgres,
    PostgresServer,
    ThrowawayPostgres,
)

__all__ = ["DSN_ENV_VAR", "ExistingPostgres", "PostgresServer", "ThrowawayPostgres"]
