"""The ``registry`` session fixture (an OCI registry on loopback for the whole test run),
and the ``client`` and ``repo`` fixtures of the tests that use it.

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
from lacre.oci.reference import ImageReference
from lacre.oci.registry import RegistryClient
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


@pytest.fixture
def client() -> Iterator[RegistryClient]:
    """A registry client, closed after the test."""
    with RegistryClient() as registry_client:
        yield registry_client


@pytest.fixture
def repo(registry: RegistryServer, request: pytest.FixtureRequest) -> ImageReference:
    """A repository of its own for each test: ``lacre-tests/<module>-<test>:v1``."""
    module = request.module.__name__.rsplit(".", 1)[-1]
    test = request.node.name.lower().replace("[", "-").replace("]", "")
    name = f"{module}-{test}".replace("_", "-")
    return ImageReference.parse(f"{registry.address}/lacre-tests/{name}:v1")
