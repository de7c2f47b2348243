"""Legacy layers to bundles and back, and the statements images are signed with."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from lacre.containers.legacybundle import LEGACY_KEY_HINT, bundle_of_layer, signature_layer
from lacre.containers.statements import (
    SIGN_PREDICATE_TYPE,
    image_statement,
    pin,
    signature_statement,
)
from lacre.dsse import Statement
from lacre.errors import InvalidInput
from lacre.oci import legacy
from lacre.oci import mediatypes as mt
from lacre.oci.rekorbundle import RekorBundle
from lacre.verify import Artifact
from tests.unit.containers.world import POLICY, REPO, ImageWorld, image_world

PAYLOAD = b'{"critical":{},"optional":null}'


@pytest.fixture
def w() -> ImageWorld:
    return image_world()


def test_a_layer_becomes_a_bundle_that_verifies(w: ImageWorld) -> None:
    bundle = w.keyless.sign_blob(PAYLOAD)
    layer = signature_layer(bundle, PAYLOAD, w.root)
    assert layer.media_type == mt.SIMPLE_SIGNING and layer.signature == bundle.signature
    assert layer.chain is not None and layer.chain.count("BEGIN CERTIFICATE") == 2
    again = bundle_of_layer(legacy.SignatureLayer.from_layer(layer.descriptor(), PAYLOAD))
    assert again.material.certificates == bundle.material.certificates
    [entry] = again.material.tlog_entries
    assert entry.inclusion_proof is None and entry.inclusion_promise is not None
    w.verifier().verify(again, Artifact.from_bytes(PAYLOAD), POLICY)


def test_a_key_signed_layer_has_a_key_hint(w: ImageWorld) -> None:
    bundle = w.keyed.sign_blob(PAYLOAD)
    layer = signature_layer(bundle, PAYLOAD, w.root)
    assert layer.certificate is None and layer.chain is None
    again = bundle_of_layer(layer)
    assert again.material.public_key_hint == LEGACY_KEY_HINT
    w.verifier().verify(again, Artifact.from_bytes(PAYLOAD), w.key_policy)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rekor_bundle": None}, "no Rekor bundle annotation"),
        ({"signature": b""}, "empty signature annotation"),
        ({"certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n"}, "not a PEM certificate"),
    ],
)
def test_a_layer_missing_its_evidence_is_refused(
    w: ImageWorld, change: dict[str, object], message: str
) -> None:
    layer = signature_layer(w.keyless.sign_blob(PAYLOAD), PAYLOAD, w.root)
    with pytest.raises(InvalidInput, match=message):
        bundle_of_layer(replace(layer, **change))  # type: ignore[arg-type]


def test_a_rekor_body_that_is_not_an_entry_is_refused(w: ImageWorld) -> None:
    layer = signature_layer(w.keyless.sign_blob(PAYLOAD), PAYLOAD, w.root)
    assert layer.rekor_bundle is not None
    for body in (b"not json", b"[]", b'{"kind": "hashedrekord"}'):
        hostile = replace(layer, rekor_bundle=replace(layer.rekor_bundle, body=body))
        with pytest.raises(InvalidInput, match="not a log entry"):
            bundle_of_layer(hostile)


def test_an_attestation_envelope_with_two_signatures_is_refused(w: ImageWorld) -> None:
    envelope = {"payload": "e30=", "payloadType": "x", "signatures": [{"sig": "AA=="}] * 2}
    promise = RekorBundle(
        signed_entry_timestamp=b"s", body=b'{"kind":"dsse","apiVersion":"0.0.1"}',
        integrated_time=1, log_index=0, log_id="00",
    )  # fmt: skip
    layer = legacy.SignatureLayer(
        media_type=mt.DSSE_ENVELOPE,
        blob=json.dumps(envelope).encode(),
        rekor_bundle=promise,
        predicate_type="p",
    )
    with pytest.raises(InvalidInput, match="one signature"):
        bundle_of_layer(layer)


def test_statements_name_the_image_digest(w: ImageWorld) -> None:
    image = w.push()
    assert image.digest is not None
    statement = Statement.from_payload(signature_statement(image))
    assert statement.predicate_type == SIGN_PREDICATE_TYPE and statement.predicate == {}
    [subject] = statement.subjects
    assert subject.digest == {"sha256": image.digest.hex}
    assert subject.name == f"{REPO.registry}/{REPO.repository}"
    with pytest.raises(InvalidInput, match="pinned by digest"):
        image_statement(REPO, "p", {})


def test_pin_resolves_a_tag_with_a_notice(w: ImageWorld) -> None:
    image = w.push()
    notices: list[str] = []
    assert pin(w.client, REPO, notices.append) == image
    assert notices == [f"{REPO} resolved to {image}; the digest is what is used"]
    assert pin(w.client, image, notices.append) == image
    assert len(notices) == 1
