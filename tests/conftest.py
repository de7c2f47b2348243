"""Shared fixtures and the network policy of the test suite.

* ``postgres_server`` (session): the PostgreSQL server named by
  ``LACRE_TEST_POSTGRES_DSN`` (set by ``python -m lacre.testing.services``),
  or else a throwaway cluster started for this session.
* ``postgres_dsn`` (function): DSN of a fresh, uniquely named, empty database,
  dropped after the test.
* ``LACRE_OFFLINE=1``: commands trusting the public-good instance use the copy shipped
  with lacre instead of asking its TUF repository.
* Hypothesis runs without per-example deadlines (profile ``lacre``; choose
  another with ``HYPOTHESIS_PROFILE``): parallel workers make timings noisy.
* Tests under ``tests/unit`` cannot open network sockets; tests under
  ``tests/integration`` may connect to loopback addresses only and carry the
  ``integration`` marker.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import pytest_socket
from hypothesis import settings

from lacre.errors import Error
from lacre.testing.postgres import (
    DSN_ENV_VAR,
    ExistingPostgres,
    PostgresServer,
    ThrowawayPostgres,
)

TESTS_DIR = Path(__file__).resolve().parent
UNIT_DIR = TESTS_DIR / "unit"
INTEGRATION_DIR = TESTS_DIR / "integration"
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1"]
_RESOLUTION_CACHE: dict[str, set[str]] = {}

settings.register_profile("lacre", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "lacre"))

# The public-good trust is never updated from the Internet during tests (the commands then use
# the copy shipped with lacre); tests of the update path unset this themselves.
os.environ["LACRE_OFFLINE"] = "1"


def _under(item: pytest.Item, directory: Path) -> bool:
    return Path(item.path).resolve().is_relative_to(directory)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _under(item, INTEGRATION_DIR):
            item.add_marker(pytest.mark.integration)


def _explicit_socket_choice(item: pytest.Item) -> bool:
    """Whether the test chose its socket policy itself (pytest-socket markers/fixtures)."""
    fixturenames: list[str] = getattr(item, "fixturenames", [])
    markers = ("enable_socket", "disable_socket", "allow_hosts")
    return any(item.get_closest_marker(name) for name in markers) or bool(
        {"socket_enabled", "socket_disabled"} & set(fixturenames)
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if _explicit_socket_choice(item):
        return
    if _under(item, UNIT_DIR):
        # Unix sockets stay allowed: asyncio's event loop needs a socketpair.
        pytest_socket.disable_socket(allow_unix_socket=True)
    elif _under(item, INTEGRATION_DIR):
        pytest_socket.socket_allow_hosts(
            LOOPBACK_HOSTS, allow_unix_socket=True, resolution_cache=_RESOLUTION_CACHE
        )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The PostgreSQL server for this test session; fails (never skips) if unavailable."""
    dsn = os.environ.get(DSN_ENV_VAR)
    if dsn:
        existing = ExistingPostgres(dsn)
        try:
            with psycopg.connect(dsn, connect_timeout=10):
                pass
        except psycopg.Error as exc:
            pytest.fail(f"cannot connect to {DSN_ENV_VAR}={dsn}: {exc}", pytrace=False)
        yield existing
        return
    server = ThrowawayPostgres()
    try:
        server.start()
    except Error as exc:
        pytest.fail(f"cannot start PostgreSQL for the tests: {exc.diagnostics()}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_dsn(postgres_server: PostgresServer) -> Iterator[str]:
    """DSN of a fresh empty database, unique across xdist workers; dropped afterwards."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"t_{worker}_{uuid.uuid4().hex}".lower()
    dsn = postgres_server.create_database(name)
    yield dsn
    postgres_server.drop_database(name)
