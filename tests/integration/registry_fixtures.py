"""The ``registry`` session fixture: an OCI registry on loopback for the whole test run.

Uses the registry named by ``LACRE_TEST_REGISTRY`` (set by ``python -m
lacre.testing.services``) or else starts a throwaway ``docker-registry`` for
this session. If neither works the tests that need it fail with the reason;
they are never skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from lacre.errors import Error
from lacre.testing.registry import (
    REGISTRY_ENV_VAR,
    ExistingRegistry,
    RegistryServer,
    ThrowawayRegistry,
    wait_until_ready,
)


@pytest.fixture(scope="session")
def registry() -> Iterator[RegistryServer]:
    """The OCI registry for this test session (``.address`` is ``host:port``, plain HTTP)."""
    address = os.environ.get(REGISTRY_ENV_VAR)
    if address:
        try:
            wait_until_ready(address, timeout_s=10.0)
        except Error as exc:
            pytest.fail(f"cannot reach {REGISTRY_ENV_VAR}={address}: {exc}", pytrace=False)
        yield ExistingRegistry(address)
        return
    server = ThrowawayRegistry()
    try:
        server.start()
    except Error as exc:
        pytest.fail(f"cannot start the test registry: {exc.diagnostics()}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()
