"""Digests, descriptors, manifests and indexes: strict parsing, faithful re-encoding."""

from __future__ import annotations

import json

import pytest

from lacre.errors import InvalidInput, VerificationError
from lacre.oci import mediatypes as mt
from lacre.oci.digest import Digest
from lacre.oci.manifest import Descriptor, ImageIndex, ImageManifest, parse_manifest

EMPTY_SHA = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"


def test_digest_of_empty_json_is_the_oci_empty_digest() -> None:
    assert str(Digest.of(b"{}")) == f"sha256:{EMPTY_SHA}"
    assert Digest.parse(f"sha256:{EMPTY_SHA}").tag("sig") == f"sha256-{EMPTY_SHA}.sig"
    assert Digest.parse(f"sha256:{EMPTY_SHA}").tag() == f"sha256-{EMPTY_SHA}"


def test_sha512_digest() -> None:
    digest = Digest.of(b"x", "sha512")
    assert Digest.parse(str(digest)) == digest
    digest.verify(b"x", subject="blob")


@pytest.mark.parametrize(
    "text",
    ["", "sha256:", "sha256:" + "A" * 64, "sha256:" + "0" * 63, "sha1:" + "0" * 40, "0" * 64],
)
def test_bad_digests(text: str) -> None:
    with pytest.raises(InvalidInput, match="digest"):
        Digest.parse(text)


def test_digest_verify_names_subject_and_both_digests() -> None:
    expected = Digest.of(b"good")
    with pytest.raises(VerificationError) as caught:
        expected.verify(b"evil", subject="manifest of reg.test/a:v1")
    assert "reg.test/a:v1" in str(caught.value)
    assert str(expected) in str(caught.value)
    assert str(Digest.of(b"evil")) in str(caught.value)


def _manifest_doc() -> dict[str, object]:
    return {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": {"mediaType": mt.OCI_CONFIG, "digest": f"sha256:{EMPTY_SHA}", "size": 2},
        "layers": [
            {
                "mediaType": mt.OCI_LAYER,
                "digest": f"sha256:{EMPTY_SHA}",
                "size": 2,
                "annotations": {"k": "v"},
                "x-future": [1],
            }
        ],
        "annotations": {"a": "b"},
        "x-unknown": {"kept": True},
    }


def test_manifest_round_trip_keeps_unknown_fields() -> None:
    raw = json.dumps(_manifest_doc()).encode()
    manifest = parse_manifest(raw)
    assert isinstance(manifest, ImageManifest)
    assert manifest.layers[0].annotations == {"k": "v"}
    assert json.loads(manifest.encode()) == _manifest_doc()


def test_media_type_from_content_type_when_absent() -> None:
    doc = {"schemaVersion": 2, "manifests": []}
    parsed = parse_manifest(json.dumps(doc).encode(), content_type=mt.DOCKER_MANIFEST_LIST)
    assert isinstance(parsed, ImageIndex)
    assert parsed.media_type == mt.DOCKER_MANIFEST_LIST


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(schemaVersion=1), "schemaVersion"),
        (lambda d: d.update(mediaType="application/json"), "media type"),
        (lambda d: d.update(config="x"), "config"),
        (lambda d: d.pop("config"), "config"),
        (lambda d: d["config"].update(size=-1), "size"),
        (lambda d: d["config"].update(size=True), "size"),
        (lambda d: d["config"].update(digest="sha256:zz"), "digest"),
        (lambda d: d.update(layers={}), "layers"),
        (lambda d: d["layers"][0].update(annotations={"k": 1}), "annotations"),
        (lambda d: d.update(subject=[]), "subject"),
    ],
)
def test_manifest_rejects(mutate: object, message: str) -> None:
    doc = _manifest_doc()
    assert callable(mutate)
    mutate(doc)
    with pytest.raises(InvalidInput, match=message):
        parse_manifest(json.dumps(doc).encode())


@pytest.mark.parametrize(
    "raw", [b"", b"{", b"[]", b"\xff\xfe", b'"manifest"', b"null", b'{"schemaVersion": 2}']
)
def test_corrupt_manifest_bytes(raw: bytes) -> None:
    with pytest.raises(InvalidInput):
        parse_manifest(raw)


def test_descriptor_for_blob_and_json() -> None:
    descriptor = Descriptor.for_blob(
        mt.OCI_MANIFEST, b"abc", artifact_type="t", platform={"os": "linux"}
    )
    assert descriptor.size == 3
    assert descriptor.to_json() == {
        "mediaType": mt.OCI_MANIFEST,
        "artifactType": "t",
        "digest": str(Digest.of(b"abc")),
        "size": 3,
        "platform": {"os": "linux"},
    }
    assert Descriptor.from_json(descriptor.to_json(), "d") == descriptor
