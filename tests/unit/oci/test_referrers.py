"""Referrers: the OCI 1.1 API, the tag-schema fallback, and keeping the fallback index."""

from __future__ import annotations

import json

import httpx
import pytest

from lacre.errors import InvalidInput
from lacre.oci import mediatypes as mt
from lacre.oci.bundles import bundle_manifest
from lacre.oci.manifest import Descriptor, ImageIndex
from lacre.oci.reference import ImageReference
from lacre.oci.referrers import add_to_fallback_index, list_referrers, push_referrer
from lacre.oci.registry import RegistryClient
from tests.unit.oci.fakeregistry import FakeRegistry
from tests.unit.oci.helpers import REPO, pushed_image

BUNDLE = b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "dsseEnvelope": {}}'


def _push(
    fake: FakeRegistry, *, count: int = 1
) -> tuple[RegistryClient, ImageReference, list[Descriptor]]:
    client, image = pushed_image(fake)
    fetched = client.get_manifest(image)
    subject = Descriptor(
        media_type=fetched.media_type, digest=fetched.digest, size=len(fetched.raw)
    )
    pushed = []
    for n in range(count):
        manifest = bundle_manifest(subject, BUNDLE + b" " * n, predicate_type=f"p{n}")
        client.put_blob(image, mt.EMPTY_JSON)
        client.put_blob(image, BUNDLE + b" " * n)
        result = push_referrer(client, image, manifest)
        pushed.append(
            Descriptor(
                media_type=mt.OCI_MANIFEST,
                digest=result.digest,
                size=len(manifest.encode()),
                artifact_type=mt.SIGSTORE_BUNDLE_V03,
                annotations=dict(manifest.annotations),
            )
        )
    return client, image, pushed


def test_referrers_api_is_used_when_available() -> None:
    fake = FakeRegistry(referrers_api=True, subject_header=True)
    client, image, pushed = _push(fake)
    assert image.digest is not None
    assert image.digest.tag() not in fake.tags["ns/app"], "no fallback tag when OCI-Subject"
    found = list_referrers(client, image, mt.SIGSTORE_BUNDLE_V03)
    assert found.via_api
    assert [d.digest for d in found.descriptors] == [pushed[0].digest]
    request = fake.requests[-1]
    assert request.url.path == f"/v2/ns/app/referrers/{image.digest}"
    assert request.url.params["artifactType"] == mt.SIGSTORE_BUNDLE_V03


def test_fallback_tag_when_api_answers_404() -> None:
    fake = FakeRegistry(referrers_api=False)
    client, image, pushed = _push(fake, count=2)
    assert image.digest is not None
    tag_digest = fake.tags["ns/app"][image.digest.tag()]
    media_type, raw = fake.manifests["ns/app"][tag_digest]
    assert media_type == mt.OCI_INDEX
    index = json.loads(raw)
    assert [item["digest"] for item in index["manifests"]] == [str(d.digest) for d in pushed]
    assert index["manifests"][1]["artifactType"] == mt.SIGSTORE_BUNDLE_V03
    assert index["manifests"][1]["annotations"]["dev.sigstore.bundle.predicateType"] == "p1"
    found = list_referrers(client, image)
    assert not found.via_api
    assert found.descriptors == tuple(pushed)


def test_fallback_filters_artifact_type_client_side() -> None:
    fake = FakeRegistry()
    client, image, pushed = _push(fake)
    other = Descriptor.for_blob(mt.OCI_MANIFEST, b"x", artifact_type="application/other")
    add_to_fallback_index(client, image, other)
    everything = list_referrers(client, image).descriptors
    assert len(everything) == 2
    bundles = list_referrers(client, image, mt.SIGSTORE_BUNDLE_V03).descriptors
    assert bundles == tuple(pushed)


def test_fallback_index_not_duplicated() -> None:
    fake = FakeRegistry()
    client, image, pushed = _push(fake)
    index = add_to_fallback_index(client, image, pushed[0])
    assert len(index.manifests) == 1


def test_no_referrers_at_all() -> None:
    fake = FakeRegistry()
    client, image = pushed_image(fake)
    assert list_referrers(client, image).descriptors == ()


def test_fallback_tag_holding_a_non_index_is_refused() -> None:
    fake = FakeRegistry()
    client, image = pushed_image(fake)
    assert image.digest is not None
    raw = client.get_manifest(image).raw
    fake.put_manifest("ns/app", image.digest.tag(), mt.OCI_MANIFEST, raw)
    with pytest.raises(InvalidInput, match="does not hold an index"):
        list_referrers(client, image)


def test_referrers_need_a_digest() -> None:
    client, _ = pushed_image(FakeRegistry())
    with pytest.raises(InvalidInput, match="pinned by digest"):
        list_referrers(client, REPO)


def test_referrer_subject_must_match() -> None:
    fake = FakeRegistry()
    client, image = pushed_image(fake)
    stranger = Descriptor.for_blob(mt.OCI_MANIFEST, b"other image")
    with pytest.raises(InvalidInput, match="subject"):
        push_referrer(client, image, bundle_manifest(stranger, BUNDLE))


def test_corrupt_referrers_api_answer() -> None:
    fake = FakeRegistry(referrers_api=True)
    client, image = pushed_image(fake)
    fake.intercept.append(
        lambda r: httpx.Response(200, content=b"{oops") if "/referrers/" in r.url.path else None
    )
    with pytest.raises(InvalidInput, match="not valid JSON"):
        list_referrers(client, image)
    fake.intercept[-1] = lambda r: (
        httpx.Response(200, content=BUNDLE) if "/referrers/" in r.url.path else None
    )
    with pytest.raises(InvalidInput):
        list_referrers(client, image)


def test_index_type_of_fallback() -> None:
    fake = FakeRegistry()
    client, image, _ = _push(fake)
    assert image.digest is not None
    fetched = client.get_manifest(image.with_tag(image.digest.tag()))
    assert isinstance(fetched.manifest, ImageIndex)
