"""Signing, attesting and verifying images against an in-memory registry and log."""

from __future__ import annotations

import json

import pytest

from lacre.containers import SIGN_PREDICATE_TYPE, ImageSigner, ImageVerifier
from lacre.containers.candidates import legacy_candidates
from lacre.errors import ConfigError, InvalidInput, VerificationError
from lacre.oci import legacy
from lacre.oci import mediatypes as mt
from lacre.oci.manifest import ImageManifest
from lacre.oci.referrers import list_referrers
from lacre.verify import AllOf, Identity, Issuer
from tests.unit.containers.world import POLICY, REPO, ImageWorld, image_world

SPDX = "https://spdx.dev/Document"


@pytest.fixture
def w() -> ImageWorld:
    return image_world()


def test_sign_both_then_verify_each_storage_alone(w: ImageWorld) -> None:
    notices: list[str] = []
    image = w.push()
    [signed] = ImageSigner(w.client, w.keyless, notify=notices.append).sign(REPO)
    assert signed.image == image
    assert notices and str(image.digest) in notices[0]
    assert signed.referrer is not None and signed.legacy_tag is not None
    verifier = ImageVerifier(w.fresh_client(), w.verifier())
    [done] = verifier.verify(image, POLICY)
    assert done.source.startswith("legacy tag") and done.result is not None
    # without the legacy tag the referrer (via the fallback tag) still verifies
    del w.fake.tags[REPO.repository][image.digest.tag("sig")]  # type: ignore[union-attr]
    [done] = ImageVerifier(w.fresh_client(), w.verifier()).verify(image, POLICY)
    assert done.source.startswith("referrer")
    assert done.statement is not None and done.statement.predicate_type == SIGN_PREDICATE_TYPE


def test_verification_by_digest_takes_two_round_trips(w: ImageWorld) -> None:
    image = w.push()
    ImageSigner(w.client, w.keyless).sign(image)
    client = w.fresh_client()
    ImageVerifier(client, w.verifier()).verify(image, POLICY)
    assert client.round_trips == 2


def test_wrong_identity_is_refused_naming_the_image_and_each_candidate(w: ImageWorld) -> None:
    image = w.push()
    ImageSigner(w.client, w.keyless).sign(image)
    policy = AllOf(Identity("mallory@example.com"), Issuer("https://issuer.example.test"))
    with pytest.raises(VerificationError) as caught:
        ImageVerifier(w.fresh_client(), w.verifier()).verify(image, policy)
    text = str(caught.value)
    assert str(image) in text
    assert "2 candidate(s) refused" in text
    assert text.count("certificate identity mismatch") == 2


def test_unsigned_image_is_refused(w: ImageWorld) -> None:
    image = w.push()
    with pytest.raises(VerificationError, match=r"no signature found for .*nothing attached"):
        ImageVerifier(w.fresh_client(), w.verifier()).verify(image, POLICY)


def test_key_signed_image_verifies_through_the_legacy_path_alone(w: ImageWorld) -> None:
    image = w.push()
    ImageSigner(w.client, w.keyed, storage="legacy").sign(image)
    assert list_referrers(w.client, image).descriptors == ()
    [done] = ImageVerifier(w.fresh_client(), w.verifier()).verify(image, w.key_policy)
    assert done.source.endswith(".sig layer 0")
    with pytest.raises(VerificationError, match="managed key, not a certificate"):
        ImageVerifier(w.fresh_client(), w.verifier()).verify(image, POLICY)


def test_a_signature_copied_from_another_image_is_refused(w: ImageWorld) -> None:
    signed, other = w.push("a"), w.push("b")
    ImageSigner(w.client, w.keyless, storage="legacy").sign(signed)
    tags = w.fake.tags[REPO.repository]
    tags[other.digest.tag("sig")] = tags[signed.digest.tag("sig")]  # type: ignore[union-attr]
    with pytest.raises(VerificationError) as caught:
        ImageVerifier(w.fresh_client(), w.verifier()).verify(other, POLICY)
    assert str(other) in str(caught.value)
    assert "signature is for another image" in str(caught.value)
    assert str(signed.digest) in str(caught.value)


def test_a_referrer_bundle_for_another_image_is_refused(w: ImageWorld) -> None:
    signed, other = w.push("a"), w.push("b")
    ImageSigner(w.client, w.keyless, storage="referrers").sign(signed)
    tags = w.fake.tags[REPO.repository]
    tags[other.digest.tag()] = tags[signed.digest.tag()]  # type: ignore[union-attr]
    with pytest.raises(VerificationError, match="subject is another image"):
        ImageVerifier(w.fresh_client(), w.verifier()).verify(other, POLICY)


def test_a_corrupt_bundle_is_a_refused_candidate(w: ImageWorld) -> None:
    image = w.push()
    [signed] = ImageSigner(w.client, w.keyless, storage="referrers").sign(image)
    raw = w.fake.manifests[REPO.repository][str(signed.referrer)][1]
    layer = json.loads(raw)["layers"][0]["digest"]
    w.fake.blobs[REPO.repository][layer] = b"{not json"
    with pytest.raises(VerificationError) as caught:
        ImageVerifier(w.fresh_client(), w.verifier()).verify(image, POLICY)
    assert f"referrer {signed.referrer}" in str(caught.value)
    assert "digest mismatch" in str(caught.value)


def test_a_corrupt_legacy_manifest_is_a_refused_candidate(w: ImageWorld) -> None:
    image = w.push()
    tag = image.digest.tag("sig")  # type: ignore[union-attr]
    w.fake.put_manifest(REPO.repository, tag, mt.OCI_MANIFEST, b'{"schemaVersion": 2, "layers": 7}')
    with pytest.raises(VerificationError) as caught:
        ImageVerifier(w.fresh_client(), w.verifier()).verify(image, POLICY)
    assert f"legacy tag {tag}" in str(caught.value)


def test_hostile_annotations_become_failures(w: ImageWorld) -> None:
    image = w.push()
    ImageSigner(w.client, w.keyless, storage="legacy").sign(image)
    target = legacy.attachment_tag(image, "sig")
    fetched = w.client.get_manifest(target)
    assert isinstance(fetched.manifest, ImageManifest)
    document = json.loads(fetched.raw)
    document["layers"][0]["annotations"][mt.ANNOTATION_BUNDLE] = '{"Payload": 1}'
    w.client.put_manifest(target, json.dumps(document).encode(), media_type=mt.OCI_MANIFEST)
    found = list(legacy_candidates(w.fresh_client(), image, "sig", None))
    assert len(found) == 1 and not hasattr(found[0], "bundle")
    with pytest.raises(VerificationError, match="cosign bundle Payload"):
        ImageVerifier(w.fresh_client(), w.verifier()).verify(image, POLICY)


def test_a_malformed_legacy_layer_does_not_hide_a_good_one(w: ImageWorld) -> None:
    image = w.push()
    ImageSigner(w.client, w.keyless, storage="legacy").sign(image)
    target = legacy.attachment_tag(image, "sig")
    document = json.loads(w.client.get_manifest(target).raw)
    broken = json.loads(json.dumps(document["layers"][0]))
    broken["annotations"][mt.ANNOTATION_BUNDLE] = "{broken"
    document["layers"].insert(0, broken)
    w.client.put_manifest(target, json.dumps(document).encode(), media_type=mt.OCI_MANIFEST)
    found = list(legacy_candidates(w.fresh_client(), image, "sig", None))
    assert [hasattr(item, "bundle") for item in found] == [False, True]
    ImageVerifier(w.fresh_client(), w.verifier()).verify(image, POLICY)


def test_recursive_sign_and_verify_walk_the_index(w: ImageWorld) -> None:
    index = w.push_index()
    done = ImageSigner(w.client, w.keyless, storage="legacy").sign(index, recursive=True)
    assert len(done) == 3
    verified = ImageVerifier(w.fresh_client(), w.verifier()).verify(index, POLICY, recursive=True)
    assert [item.image for item in verified] == [item.image for item in done]


def test_recursive_verify_refuses_an_unsigned_platform_image(w: ImageWorld) -> None:
    index = w.push_index()
    ImageSigner(w.client, w.keyless).sign(index)
    ImageVerifier(w.fresh_client(), w.verifier()).verify(index, POLICY)
    with pytest.raises(VerificationError, match="no signature found"):
        ImageVerifier(w.fresh_client(), w.verifier()).verify(index, POLICY, recursive=True)


def test_attestation_in_both_storages_and_type_checked(w: ImageWorld) -> None:
    image = w.push()
    [done] = ImageSigner(w.client, w.keyless).attest(image, SPDX, {"spdxVersion": "SPDX-2.3"})
    assert done.referrer is not None and done.legacy_tag is not None
    verifier = ImageVerifier(w.fresh_client(), w.verifier())
    [ok] = verifier.verify_attestation(image, POLICY, SPDX)
    assert ok.statement is not None and ok.statement.predicate == {"spdxVersion": "SPDX-2.3"}
    with pytest.raises(VerificationError, match="predicate type"):
        verifier.verify_attestation(image, POLICY, "https://slsa.dev/provenance/v1")
    # an attestation is not a signature
    with pytest.raises(VerificationError):
        verifier.verify(image, POLICY)


def test_referrers_api_is_used_when_present() -> None:
    w = image_world(referrers_api=True)
    image = w.push()
    ImageSigner(w.client, w.keyless, storage="referrers").sign(image)
    assert list_referrers(w.client, image).via_api
    [done] = ImageVerifier(w.fresh_client(), w.verifier()).verify(image, POLICY)
    assert done.source.startswith("referrer")


def test_legacy_storage_needs_a_rekor_v1_entry(w: ImageWorld) -> None:
    from lacre.containers.legacybundle import signature_layer
    from lacre.models.bundle import Bundle, VerificationMaterial

    empty = Bundle(media_type="x", material=VerificationMaterial())
    with pytest.raises(ConfigError, match="Rekor v1"):
        signature_layer(empty, b"{}", w.root)


def test_unknown_storage_is_refused(w: ImageWorld) -> None:
    with pytest.raises(InvalidInput, match="storage"):
        ImageSigner(w.client, w.keyless, storage="nowhere")  # type: ignore[arg-type]


def test_remembered_verifications_skip_the_checks(w: ImageWorld) -> None:
    image = w.push()
    ImageSigner(w.client, w.keyless).sign(image)
    verifier = ImageVerifier(w.fresh_client(), w.verifier(), remember=True)
    assert verifier.verify(image, POLICY)[0].result is not None
    assert verifier.verify(image, POLICY)[0].result is None
    other = AllOf(Identity("mallory@example.com"), Issuer("https://issuer.example.test"))
    with pytest.raises(VerificationError):
        verifier.verify(image, other)
