"""Discovery of everything attached to an image, and index walking."""

from __future__ import annotations

import json

from lacre.oci import legacy
from lacre.oci import mediatypes as mt
from lacre.oci.bundles import attach_bundle
from lacre.oci.discovery import discover, platform_images
from lacre.oci.manifest import Descriptor
from lacre.testing.ocilayout import push_index, random_index
from tests.unit.oci.fakeregistry import FakeRegistry
from tests.unit.oci.helpers import REPO, client_for, pushed_image

BUNDLE = json.dumps({"mediaType": mt.SIGSTORE_BUNDLE_V03, "messageSignature": {}}).encode()


def test_nothing_attached() -> None:
    client, image = pushed_image(FakeRegistry())
    found = discover(client, REPO)
    assert found.image == image
    assert found.empty


def test_everything_attached() -> None:
    fake = FakeRegistry()
    client, image = pushed_image(fake)
    assert image.digest is not None
    attach_bundle(client, image, BUNDLE)
    layer = legacy.SignatureLayer(
        media_type=mt.SIMPLE_SIGNING, blob=legacy.signature_payload(image, image.digest)
    )
    legacy.attach_signature(client, image, layer)
    sbom = client.get_manifest(legacy.attachment_tag(image, "sig"))
    client.put_manifest(legacy.attachment_tag(image, "sbom"), sbom.raw)
    found = discover(client, REPO)
    assert not found.empty
    assert len(found.referrers.descriptors) == 1
    assert found.signatures is not None and found.signatures.raw == sbom.raw
    assert found.attestations is None
    assert found.sboms is not None


def test_platform_images_of_index() -> None:
    fake = FakeRegistry()
    client = client_for(fake)
    index = random_index((("linux", "amd64"), ("linux", "arm64"), ("windows", "amd64")))
    pinned = push_index(client, REPO, index)
    children = platform_images(client, pinned)
    assert [c.platform for c in children] == [
        {"architecture": "amd64", "os": "linux"},
        {"architecture": "arm64", "os": "linux"},
        {"architecture": "amd64", "os": "windows"},
    ]
    assert [c.image.digest for c in children] == [d.digest for d in index.index.manifests]
    assert all(c.image.repository == "ns/app" for c in children)


def test_platform_images_skips_attestation_manifests_and_single_images() -> None:
    fake = FakeRegistry()
    client, image = pushed_image(fake)
    assert platform_images(client, image) == []
    raw = client.get_manifest(image).raw
    index = random_index((("linux", "amd64"),))
    push_index(client, REPO, index)
    entries = [
        *index.index.manifests,
        Descriptor.for_blob(
            mt.OCI_MANIFEST,
            raw,
            platform={"architecture": "unknown", "os": "unknown"},
            annotations={"vnd.docker.reference.type": "attestation-manifest"},
        ),
    ]
    document = json.loads(index.index.encode())
    document["manifests"] = [entry.to_json() for entry in entries]
    pinned = client.put_manifest(REPO, json.dumps(document).encode()).image
    assert len(platform_images(client, pinned)) == 1
