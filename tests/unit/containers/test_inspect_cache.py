"""``download``, ``sbom``, ``tree`` and the digest cache, against an in-memory registry."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from lacre.containers import (
    CachingRegistryClient,
    DigestCache,
    ImageSigner,
    ImageVerifier,
    download,
    sbom,
    tree,
)
from lacre.errors import NotFound, VerificationError
from lacre.oci import mediatypes as mt
from lacre.oci.bundles import attach_bundle
from lacre.oci.digest import Digest
from tests.unit.containers.world import POLICY, ImageWorld, image_world

SBOM = {"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [{"name": "zlib"}]}


@pytest.fixture
def w() -> ImageWorld:
    return image_world()


def test_download_sbom_prints_only_the_sbom(w: ImageWorld) -> None:
    image = w.push()
    ImageSigner(w.client, w.keyless, storage="referrers").attest(
        image, "https://cyclonedx.org/bom", SBOM
    )
    assert json.loads(sbom(w.client, image)) == SBOM


def test_download_sbom_from_a_legacy_attestation_and_several(w: ImageWorld) -> None:
    image = w.push()
    notices: list[str] = []
    signer = ImageSigner(w.client, w.keyless, storage="legacy")
    signer.attest(image, "https://spdx.dev/Document", {"spdxVersion": "SPDX-2.3"})
    signer.attest(image, "https://cyclonedx.org/bom", SBOM)
    assert json.loads(sbom(w.client, image, notify=notices.append)) == SBOM
    assert notices == [f"2 SBOMs are attached to {image}; printing the last one"]


def test_no_sbom_is_not_found(w: ImageWorld) -> None:
    image = w.push()
    ImageSigner(w.client, w.keyless).attest(image, "https://slsa.dev/provenance/v1", {})
    with pytest.raises(NotFound, match="no SBOM attached"):
        sbom(w.client, image)


def test_download_signatures_in_both_shapes(w: ImageWorld) -> None:
    image = w.push()
    ImageSigner(w.client, w.keyless).sign(image)
    ImageSigner(w.client, w.keyless).attest(image, "https://slsa.dev/provenance/v1", {})
    legacy_doc, bundle_doc = (json.loads(item) for item in download(w.client, image, "signature"))
    payload = json.loads(base64.b64decode(legacy_doc["Payload"]))
    assert payload["critical"]["image"]["docker-manifest-digest"] == str(image.digest)
    assert legacy_doc["Cert"].startswith("-----BEGIN CERTIFICATE-----")
    assert set(legacy_doc["Bundle"]) == {"SignedEntryTimestamp", "Payload"}
    assert bundle_doc["mediaType"] == mt.SIGSTORE_BUNDLE_V03
    attestations = download(w.client, image, "attestation")
    assert len(attestations) == 2  # the .att envelope and the referrer bundle
    assert "payloadType" in json.loads(attestations[0])


def test_download_fetches_only_the_referrers_of_the_asked_kind(w: ImageWorld) -> None:
    image = w.push()
    signer = ImageSigner(w.client, w.keyless, storage="referrers")
    signer.sign(image)
    for number in range(3):
        signer.attest(image, f"https://example.com/predicate/{number}", {})
    client = w.fresh_client()
    assert len(download(client, image, "signature")) == 1
    assert client.round_trips == 5  # .sig, referrers API, fallback tag, referrer, bundle


def test_a_listing_without_predicate_types_falls_back_on_the_manifests(w: ImageWorld) -> None:
    # Another tool may write the fallback index without copying the referrers' annotations.
    image = w.push()
    signer = ImageSigner(w.client, w.keyless, storage="referrers")
    signer.sign(image)
    signer.attest(image, "https://cyclonedx.org/bom", SBOM)
    tag = str(image.digest).replace(":", "-")
    index = json.loads(w.fake.manifests["ns/app"][w.fake.tags["ns/app"][tag]][1])
    for descriptor in index["manifests"]:
        descriptor.pop("annotations")
    w.fake.put_manifest("ns/app", tag, mt.OCI_INDEX, json.dumps(index).encode())
    client = w.fresh_client()
    (signature,) = download(client, image, "signature")
    assert _predicate_type(signature) == "https://sigstore.dev/cosign/sign/v1"
    (attestation,) = download(client, image, "attestation")
    assert _predicate_type(attestation) == "https://cyclonedx.org/bom"
    assert json.loads(sbom(client, image)) == SBOM


def _predicate_type(bundle: bytes) -> str:
    payload = json.loads(bundle)["dsseEnvelope"]["payload"]
    predicate_type: str = json.loads(base64.b64decode(payload))["predicateType"]
    return predicate_type


def test_tree_lists_everything(w: ImageWorld) -> None:
    image = w.push()
    pinned, items = tree(w.client, image)
    assert pinned == image and items == []
    ImageSigner(w.client, w.keyless).sign(image)
    ImageSigner(w.client, w.keyless).attest(image, "https://spdx.dev/Document", {})
    _, items = tree(w.client, image)
    kinds = sorted((item.storage.split(" ")[0], item.media_type) for item in items)
    sig, att = image.digest.tag("sig"), image.digest.tag("att")  # type: ignore[union-attr]
    assert kinds == sorted(
        [
            ("referrer", mt.SIGSTORE_BUNDLE_V03),
            ("referrer", mt.SIGSTORE_BUNDLE_V03),
            (sig, mt.SIMPLE_SIGNING),
            (att, mt.DSSE_ENVELOPE),
        ]
    )


def test_a_corrupt_bundle_with_a_valid_digest_is_refused(w: ImageWorld) -> None:
    image = w.push()
    attach_bundle(w.client, image, b'{"mediaType": "x", "dsseEnvelope": {}}')
    with pytest.raises(VerificationError) as caught:
        ImageVerifier(w.fresh_client(), w.verifier()).verify(image, POLICY)
    assert str(image) in str(caught.value)
    assert "mediaType is not a supported bundle version" in str(caught.value)


def test_warm_cache_saves_round_trips(w: ImageWorld, tmp_path: Path) -> None:
    image = w.push()
    ImageSigner(w.client, w.keyless, storage="referrers").sign(image)
    cache = DigestCache(tmp_path)
    cold = CachingRegistryClient(cache=cache, transport=w.fake.transport())
    ImageVerifier(cold, w.verifier()).verify(image, POLICY)
    warm = CachingRegistryClient(cache=cache, transport=w.fake.transport())
    ImageVerifier(warm, w.verifier()).verify(image, POLICY)
    assert cold.round_trips == 5  # .sig, referrers API, fallback tag, referrer, bundle
    assert warm.round_trips == 2  # .sig and the fallback tag: mutable, always fetched


def test_disk_cache_survives_and_rejects_tampering(tmp_path: Path) -> None:
    data = b"content"
    digest = Digest.of(data)
    DigestCache(tmp_path).put(digest, data)
    assert DigestCache(tmp_path).get(digest) == data
    (tmp_path / "sha256" / digest.hex).write_bytes(b"tampered")
    assert DigestCache(tmp_path).get(digest) is None
    with pytest.raises(VerificationError, match="digest mismatch"):
        DigestCache().put(digest, b"other")


def test_memory_cache_is_bounded() -> None:
    cache = DigestCache(max_bytes=10)
    first, second, huge = b"12345678", b"abcdefgh", b"x" * 11
    for item in (first, second, huge):
        cache.put(Digest.of(item), item)
    assert cache.get(Digest.of(first)) is None
    assert cache.get(Digest.of(second)) == second
    assert cache.get(Digest.of(huge)) is None
