"""The synthetic bundles are real Sigstore bundles: the official Python client agrees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sigstore.errors import VerificationError as ReferenceError
from sigstore.models import Bundle as ReferenceBundle
from sigstore.models import TrustedRoot as ReferenceRoot
from sigstore.verify import Verifier as ReferenceVerifier
from sigstore.verify.policy import Identity as ReferenceIdentity

from tests.unit.verify.world import (
    ARTIFACT,
    IDENTITY,
    ISSUER,
    Leaf,
    World,
    dsse_bundle,
    encode,
    message_bundle,
)


@pytest.fixture(scope="module")
def reference(world: World, tmp_path_factory: pytest.TempPathFactory) -> ReferenceVerifier:
    """sigstore-python's verifier trusting the synthetic instance."""
    path: Path = tmp_path_factory.mktemp("root") / "trusted_root.json"
    path.write_text(json.dumps(world.trusted_root()))
    return ReferenceVerifier(trusted_root=ReferenceRoot.from_file(str(path)))


def test_reference_client_verifies_the_message_bundle(
    world: World, leaf: Leaf, reference: ReferenceVerifier
) -> None:
    bundle = ReferenceBundle.from_json(encode(message_bundle(world, leaf)))
    reference.verify_artifact(ARTIFACT, bundle, ReferenceIdentity(identity=IDENTITY, issuer=ISSUER))


def test_reference_client_verifies_the_dsse_bundle(
    world: World, leaf: Leaf, reference: ReferenceVerifier
) -> None:
    bundle = ReferenceBundle.from_json(encode(dsse_bundle(world, leaf)))
    payload_type, _ = reference.verify_dsse(
        bundle, ReferenceIdentity(identity=IDENTITY, issuer=ISSUER)
    )
    assert payload_type == "application/vnd.in-toto+json"


def test_reference_client_rejects_another_identity(
    world: World, leaf: Leaf, reference: ReferenceVerifier
) -> None:
    bundle = ReferenceBundle.from_json(encode(message_bundle(world, leaf)))
    with pytest.raises(ReferenceError):
        reference.verify_artifact(
            ARTIFACT, bundle, ReferenceIdentity(identity="bob@example.com", issuer=ISSUER)
        )
