"""Fixtures: one synthetic Sigstore instance per module, and a leaf certificate in it."""

from __future__ import annotations

import pytest

from lacre.models.trust_reader import TrustedRoot
from lacre.verify import Verifier
from tests.unit.verify.world import Leaf, World


@pytest.fixture(scope="module")
def world() -> World:
    """The CA, CT log and transparency log."""
    return World()


@pytest.fixture(scope="module")
def leaf(world: World) -> Leaf:
    """A certificate for alice@example.com issued by ``world``."""
    return world.leaf()


@pytest.fixture(scope="module")
def verifier(world: World) -> Verifier:
    """A verifier trusting ``world``."""
    return Verifier(TrustedRoot.from_json(world.trusted_root()))
