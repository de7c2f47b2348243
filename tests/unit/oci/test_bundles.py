"""Sigstore bundles as OCI 1.1 referrers: manifest layout, attaching and fetching."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pytest

from lacre.errors import InvalidInput
from lacre.oci import mediatypes as mt
from lacre.oci.bundles import (
    EMPTY_CONFIG,
    attach_bundle,
    bundle_content,
    bundle_manifest,
    fetch_bundles,
)
from lacre.oci.digest import Digest
from lacre.oci.manifest import Descriptor
from lacre.oci.referrers import push_referrer
from tests.unit.oci.fakeregistry import FakeRegistry
from tests.unit.oci.helpers import REPO, pushed_image

DSSE_BUNDLE = json.dumps({"mediaType": mt.SIGSTORE_BUNDLE_V03, "dsseEnvelope": {}}).encode()
MESSAGE_BUNDLE = json.dumps({"mediaType": mt.SIGSTORE_BUNDLE_V03, "messageSignature": {}}).encode()
SIGN_V1 = "https://sigstore.dev/cosign/sign/v1"


def test_bundle_content() -> None:
    assert bundle_content(DSSE_BUNDLE) == "dsse-envelope"
    assert bundle_content(MESSAGE_BUNDLE) == "message-signature"
    for bad in (b"{}", b"[]", b"\xff", b"null"):
        with pytest.raises(InvalidInput, match="not a Sigstore bundle"):
            bundle_content(bad)


def test_manifest_layout_field_by_field() -> None:
    subject = Descriptor.for_blob(mt.OCI_MANIFEST, b"image manifest")
    created = dt.datetime(2025, 3, 4, 5, 6, 7, 890, tzinfo=dt.UTC)
    manifest = bundle_manifest(subject, DSSE_BUNDLE, predicate_type=SIGN_V1, created=created)
    document = json.loads(manifest.encode())
    assert document == {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "artifactType": mt.SIGSTORE_BUNDLE_V03,
        "config": {
            "mediaType": "application/vnd.oci.empty.v1+json",
            "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            "size": 2,
        },
        "layers": [
            {
                "mediaType": mt.SIGSTORE_BUNDLE_V03,
                "digest": str(Digest.of(DSSE_BUNDLE)),
                "size": len(DSSE_BUNDLE),
            }
        ],
        "subject": {"mediaType": mt.OCI_MANIFEST, "digest": str(subject.digest), "size": 14},
        "annotations": {
            "dev.sigstore.bundle.content": "dsse-envelope",
            "org.opencontainers.image.created": "2025-03-04T05:06:07Z",
            "dev.sigstore.bundle.predicateType": SIGN_V1,
        },
    }
    assert EMPTY_CONFIG.digest == Digest.of(b"{}")


def test_created_defaults_to_now_in_utc() -> None:
    subject = Descriptor.for_blob(mt.OCI_MANIFEST, b"m")
    manifest = bundle_manifest(subject, MESSAGE_BUNDLE)
    created = manifest.annotations[mt.ANNOTATION_CREATED]
    assert created.endswith("Z")
    parsed = dt.datetime.fromisoformat(created)
    assert abs(dt.datetime.now(dt.UTC) - parsed) < dt.timedelta(minutes=5)
    assert mt.ANNOTATION_BUNDLE_PREDICATE_TYPE not in manifest.annotations


@pytest.mark.parametrize("referrers_api", [True, False])
def test_attach_and_fetch(referrers_api: bool) -> None:
    fake = FakeRegistry(referrers_api=referrers_api, subject_header=referrers_api)
    client, image = pushed_image(fake)
    attach_bundle(client, image, DSSE_BUNDLE, predicate_type=SIGN_V1)
    attach_bundle(client, REPO, MESSAGE_BUNDLE)
    found = fetch_bundles(client, REPO)
    assert [b.bundle for b in found] == [DSSE_BUNDLE, MESSAGE_BUNDLE]
    assert found[0].predicate_type == SIGN_V1
    assert found[0].content == "dsse-envelope"
    assert found[1].content == "message-signature"
    only = fetch_bundles(client, image, annotations={mt.ANNOTATION_BUNDLE_PREDICATE_TYPE: SIGN_V1})
    assert [b.bundle for b in only] == [DSSE_BUNDLE]
    assert fake.blobs["ns/app"][str(Digest.of(b"{}"))] == b"{}"


def test_tampered_referrer_manifest_detected() -> None:
    fake = FakeRegistry()
    client, image = pushed_image(fake)
    attach_bundle(client, image, DSSE_BUNDLE)
    (referrer,) = [b.referrer for b in fetch_bundles(client, image)]
    _, raw = fake.manifests["ns/app"][str(referrer.digest)]
    document = json.loads(raw)
    document["layers"][0]["mediaType"] = "application/octet-stream"
    fake.manifests["ns/app"][str(referrer.digest)] = (
        mt.OCI_MANIFEST,
        json.dumps(document).encode(),
    )
    with pytest.raises(InvalidInput, match="digest mismatch"):
        fetch_bundles(client, image)


def test_bundle_blob_tampering_detected() -> None:
    fake = FakeRegistry()
    client, image = pushed_image(fake)
    attach_bundle(client, image, DSSE_BUNDLE)
    fake.blobs["ns/app"][str(Digest.of(DSSE_BUNDLE))] = MESSAGE_BUNDLE
    with pytest.raises(InvalidInput, match="digest mismatch"):
        fetch_bundles(client, image)


def test_referrer_without_exactly_one_bundle_layer() -> None:
    fake = FakeRegistry()
    client, image = pushed_image(fake)
    fetched = client.get_manifest(image)
    subject = Descriptor(
        media_type=fetched.media_type, digest=fetched.digest, size=len(fetched.raw)
    )
    manifest = bundle_manifest(subject, DSSE_BUNDLE)
    odd = replace(manifest, layers=(*manifest.layers, *manifest.layers))
    client.put_blob(image, b"{}")
    client.put_blob(image, DSSE_BUNDLE)
    push_referrer(client, image, odd)
    with pytest.raises(InvalidInput, match="exactly one bundle layer"):
        fetch_bundles(client, image)
