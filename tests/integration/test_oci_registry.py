"""The OCI layer against a real registry (Debian's docker-registry on loopback)."""

from __future__ import annotations

import json

import httpx
import pytest

from lacre.errors import NotFound
from lacre.oci import legacy
from lacre.oci import mediatypes as mt
from lacre.oci.bundles import attach_bundle, fetch_bundles
from lacre.oci.discovery import discover, platform_images
from lacre.oci.manifest import ImageIndex
from lacre.oci.reference import ImageReference
from lacre.oci.referrers import list_referrers
from lacre.oci.registry import RegistryClient
from lacre.testing.ocilayout import push_image, push_index, random_image, random_index
from lacre.testing.registry import RegistryServer

SIGN_V1 = "https://sigstore.dev/cosign/sign/v1"
DSSE_BUNDLE = json.dumps({"mediaType": mt.SIGSTORE_BUNDLE_V03, "dsseEnvelope": {}}).encode()
MESSAGE_BUNDLE = json.dumps({"mediaType": mt.SIGSTORE_BUNDLE_V03, "messageSignature": {}}).encode()


def test_registry_has_no_referrers_api(registry: RegistryServer) -> None:
    answer = httpx.get(f"http://{registry.address}/v2/x/referrers/sha256:{'0' * 64}", timeout=10)
    assert answer.status_code == 404


def test_push_resolve_and_read_image(client: RegistryClient, repo: ImageReference) -> None:
    image = random_image(layers=2)
    pinned = push_image(client, repo, image)
    assert client.resolve(repo) == pinned.digest
    fetched = client.get_manifest(repo)
    assert fetched.raw == image.raw
    assert client.get_blob(repo, image.manifest.layers[1].digest) == image.layers[1]
    assert client.list_tags(repo) == ["v1"]


def test_unknown_image_is_not_found(client: RegistryClient, repo: ImageReference) -> None:
    push_image(client, repo, random_image())
    missing = repo.with_tag("nope")
    with pytest.raises(NotFound) as caught:
        client.get_manifest(missing)
    assert str(missing) in str(caught.value)
    unknown_repo = ImageReference.parse(f"{repo.registry}/lacre-tests/never-pushed:v1")
    with pytest.raises(NotFound, match="never-pushed"):
        client.resolve(unknown_repo)
    with pytest.raises(NotFound, match="never-pushed"):
        discover(client, unknown_repo)


def test_legacy_signature_round_trip(client: RegistryClient, repo: ImageReference) -> None:
    pinned = push_image(client, repo, random_image())
    assert pinned.digest is not None
    payload = legacy.signature_payload(pinned, pinned.digest)
    first = legacy.SignatureLayer(media_type=mt.SIMPLE_SIGNING, blob=payload, signature=b"one")
    second = legacy.SignatureLayer(media_type=mt.SIMPLE_SIGNING, blob=payload, signature=b"two")
    legacy.attach_signature(client, pinned, first)
    legacy.attach_signature(client, pinned, second)
    legacy.attach_signature(client, pinned, second)
    assert legacy.read_signatures(client, pinned) == [first, second]
    assert pinned.digest.tag("sig") in client.list_tags(repo)


def test_bundles_via_fallback_index(client: RegistryClient, repo: ImageReference) -> None:
    pinned = push_image(client, repo, random_image())
    assert pinned.digest is not None
    first = attach_bundle(client, pinned, DSSE_BUNDLE, predicate_type=SIGN_V1)
    assert not first.subject_processed
    index = client.get_manifest(repo.with_tag(pinned.digest.tag())).manifest
    assert isinstance(index, ImageIndex)
    assert [d.digest for d in index.manifests] == [first.digest]
    second = attach_bundle(client, pinned, MESSAGE_BUNDLE)
    index = client.get_manifest(repo.with_tag(pinned.digest.tag())).manifest
    assert isinstance(index, ImageIndex)
    assert [d.digest for d in index.manifests] == [first.digest, second.digest]
    referrers = list_referrers(client, pinned, mt.SIGSTORE_BUNDLE_V03)
    assert not referrers.via_api
    assert len(referrers.descriptors) == 2
    found = fetch_bundles(client, repo)
    assert [b.bundle for b in found] == [DSSE_BUNDLE, MESSAGE_BUNDLE]
    assert found[0].predicate_type == SIGN_V1


def test_discover_everything(client: RegistryClient, repo: ImageReference) -> None:
    pinned = push_image(client, repo, random_image())
    assert pinned.digest is not None
    assert discover(client, repo).empty
    attach_bundle(client, pinned, DSSE_BUNDLE, predicate_type=SIGN_V1)
    payload = legacy.signature_payload(pinned, pinned.digest)
    legacy.attach_signature(
        client, pinned, legacy.SignatureLayer(media_type=mt.SIMPLE_SIGNING, blob=payload)
    )
    envelope = b'{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}'
    legacy.attach_attestation(
        client,
        pinned,
        legacy.SignatureLayer(media_type=mt.DSSE_ENVELOPE, blob=envelope, predicate_type="p"),
    )
    found = discover(client, repo)
    assert len(found.referrers.descriptors) == 1
    assert found.signatures is not None and found.attestations is not None
    assert found.sboms is None
    assert legacy.read_attestations(client, pinned)[0].predicate_type == "p"


def test_walk_multi_platform_index(client: RegistryClient, repo: ImageReference) -> None:
    index = random_index()
    pinned = push_index(client, repo, index)
    children = platform_images(client, repo)
    assert [c.platform for c in children] == [
        {"architecture": "amd64", "os": "linux"},
        {"architecture": "arm64", "os": "linux"},
    ]
    for child, image in zip(children, index.images, strict=True):
        assert client.get_manifest(child.image).raw == image.raw
    attach_bundle(client, children[0].image, DSSE_BUNDLE)
    assert len(fetch_bundles(client, children[0].image)) == 1
    assert fetch_bundles(client, pinned) == []


def test_round_trips_are_counted(client: RegistryClient, repo: ImageReference) -> None:
    pinned = push_image(client, repo, random_image())
    before = client.round_trips
    client.get_manifest(pinned)
    assert client.round_trips == before + 1
