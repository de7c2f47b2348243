"""cosign's legacy ``.sig`` / ``.att`` layout, field by field."""

from __future__ import annotations

import base64
import json

import pytest

from lacre.errors import InvalidInput
from lacre.oci import legacy
from lacre.oci import mediatypes as mt
from lacre.oci.digest import Digest
from lacre.oci.manifest import Descriptor, ImageManifest
from lacre.oci.reference import ImageReference
from lacre.oci.rekorbundle import RekorBundle, timestamp_from_json, timestamp_to_json
from lacre.oci.simplesigning import SimpleSigningPayload
from tests.unit.oci.fakeregistry import FakeRegistry
from tests.unit.oci.helpers import REPO, pushed_image

CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
REKOR = RekorBundle(
    signed_entry_timestamp=b"set-signature",
    body=b'{"kind":"hashedrekord"}',
    integrated_time=1700000000,
    log_index=42,
    log_id="ab" * 32,
)


def _signature(image: ImageReference, signature: bytes = b"sig-bytes") -> legacy.SignatureLayer:
    assert image.digest is not None
    return legacy.SignatureLayer(
        media_type=mt.SIMPLE_SIGNING,
        blob=legacy.signature_payload(image, image.digest, {"team": "a"}),
        signature=signature,
        certificate=CERT,
        chain=CERT + CERT,
        rekor_bundle=REKOR,
        rfc3161_timestamp=b"\x30\x03\x02\x01\x00",
    )


def test_payload_bytes_exactly() -> None:
    digest = Digest("sha256", "0" * 64)
    payload = legacy.signature_payload(ImageReference.parse("reg.test/ns/app:v1"), digest)
    assert payload == (
        b'{"critical":{"identity":{"docker-reference":"reg.test/ns/app"},'
        b'"image":{"docker-manifest-digest":"sha256:' + b"0" * 64 + b'"},'
        b'"type":"cosign container image signature"},"optional":null}'
    )
    hub = legacy.signature_payload(ImageReference.parse("alpine"), digest)
    assert b'"docker-reference":"index.docker.io/library/alpine"' in hub


def test_payload_round_trip() -> None:
    payload = SimpleSigningPayload("reg.test/a", Digest("sha256", "1" * 64), {"k": "v"})
    assert SimpleSigningPayload.from_bytes(payload.to_bytes()) == payload


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({}, "critical"),
        ({"critical": {"type": "x", "identity": {}, "image": {}}}, "not a cosign signature"),
        (
            {
                "critical": {
                    "type": "cosign container image signature",
                    "identity": {"docker-reference": "r"},
                    "image": {"docker-manifest-digest": "sha256:zz"},
                }
            },
            "digest",
        ),
        (
            {
                "critical": {
                    "type": "cosign container image signature",
                    "identity": {"docker-reference": "r", "extra": 1},
                    "image": {"docker-manifest-digest": "sha256:" + "0" * 64},
                }
            },
            "unknown critical",
        ),
        (
            {
                "critical": {
                    "type": "cosign container image signature",
                    "identity": {"docker-reference": "r"},
                    "image": {"docker-manifest-digest": "sha256:" + "0" * 64},
                },
                "optional": [],
            },
            "optional",
        ),
    ],
)
def test_payload_rejects(document: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        SimpleSigningPayload.from_bytes(json.dumps(document).encode())


def test_signature_layer_annotations_field_by_field() -> None:
    image = REPO.with_digest(Digest("sha256", "2" * 64))
    notes = _signature(image).layer_annotations()
    assert notes[mt.ANNOTATION_SIGNATURE] == base64.b64encode(b"sig-bytes").decode()
    assert notes[mt.ANNOTATION_CERTIFICATE] == CERT
    assert notes[mt.ANNOTATION_CHAIN] == CERT + CERT
    bundle = json.loads(notes[mt.ANNOTATION_BUNDLE])
    assert list(bundle) == ["SignedEntryTimestamp", "Payload"]
    assert bundle["SignedEntryTimestamp"] == base64.b64encode(b"set-signature").decode()
    assert bundle["Payload"] == {
        "body": base64.b64encode(b'{"kind":"hashedrekord"}').decode(),
        "integratedTime": 1700000000,
        "logIndex": 42,
        "logID": "ab" * 32,
    }
    stamp = json.loads(notes[mt.ANNOTATION_RFC3161])
    assert stamp == {"SignedRFC3161Timestamp": base64.b64encode(b"\x30\x03\x02\x01\x00").decode()}
    assert mt.ANNOTATION_PREDICATE_TYPE not in notes


def test_attach_and_read_signature_in_sig_tag() -> None:
    fake = FakeRegistry()
    client, image = pushed_image(fake)
    assert image.digest is not None
    layer = _signature(image)
    pushed = legacy.attach_signature(client, image, layer)
    tag = f"sha256-{image.digest.hex}.sig"
    assert fake.tags["ns/app"][tag] == str(pushed.digest)
    media_type, raw = fake.manifests["ns/app"][str(pushed.digest)]
    manifest = json.loads(raw)
    assert media_type == manifest["mediaType"] == mt.OCI_MANIFEST
    assert manifest["config"]["mediaType"] == mt.OCI_CONFIG
    (entry,) = manifest["layers"]
    assert entry["mediaType"] == mt.SIMPLE_SIGNING
    assert entry["digest"] == str(Digest.of(layer.blob))
    assert entry["size"] == len(layer.blob)
    config = json.loads(fake.blobs["ns/app"][manifest["config"]["digest"]])
    assert config["rootfs"] == {"type": "layers", "diff_ids": [entry["digest"]]}
    assert fake.blobs["ns/app"][entry["digest"]] == layer.blob
    assert legacy.read_signatures(client, image) == [layer]


def test_second_signature_is_appended_and_duplicates_are_not() -> None:
    fake = FakeRegistry()
    client, image = pushed_image(fake)
    first = legacy.attach_signature(client, image, _signature(image, b"one"))
    second = legacy.attach_signature(client, image, _signature(image, b"two"))
    assert first.digest != second.digest
    again = legacy.attach_signature(client, image, _signature(image, b"two"))
    assert again.digest == second.digest
    found = legacy.read_signatures(client, image)
    assert [s.signature for s in found] == [b"one", b"two"]
    manifest = json.loads(fake.manifests["ns/app"][str(second.digest)][1])
    config = json.loads(fake.blobs["ns/app"][manifest["config"]["digest"]])
    assert len(config["rootfs"]["diff_ids"]) == 2


def test_docker_media_types_and_other_repository() -> None:
    fake = FakeRegistry()
    client, image = pushed_image(fake)
    elsewhere = ImageReference.parse("registry.example.test/sigs/store")
    pushed = legacy.attach_signature(
        client, image, _signature(image), repository=elsewhere, docker_media_types=True
    )
    media_type, raw = fake.manifests["sigs/store"][str(pushed.digest)]
    assert media_type == mt.DOCKER_MANIFEST
    assert json.loads(raw)["config"]["mediaType"] == mt.DOCKER_CONFIG
    assert legacy.read_signatures(client, image) == []
    assert len(legacy.read_signatures(client, image, repository=elsewhere)) == 1


def test_attestations_in_att_tag() -> None:
    fake = FakeRegistry()
    client, image = pushed_image(fake)
    assert image.digest is not None
    envelope = json.dumps(
        {"payloadType": "application/vnd.in-toto+json", "payload": "e30=", "signatures": []}
    )
    layer = legacy.SignatureLayer(
        media_type=mt.DSSE_ENVELOPE,
        blob=envelope.encode(),
        predicate_type="https://slsa.dev/provenance/v1",
        certificate=CERT,
        rekor_bundle=REKOR,
    )
    pushed = legacy.attach_attestation(client, image, layer)
    assert fake.tags["ns/app"][f"sha256-{image.digest.hex}.att"] == str(pushed.digest)
    entry = json.loads(fake.manifests["ns/app"][str(pushed.digest)][1])["layers"][0]
    assert entry["mediaType"] == mt.DSSE_ENVELOPE
    assert entry["annotations"][mt.ANNOTATION_SIGNATURE] == ""
    assert entry["annotations"]["predicateType"] == "https://slsa.dev/provenance/v1"
    assert legacy.read_attestations(client, image) == [layer]


def test_attestation_needs_predicate_type_and_empty_signature() -> None:
    client, image = pushed_image(FakeRegistry())
    layer = legacy.SignatureLayer(media_type=mt.DSSE_ENVELOPE, blob=b"{}")
    with pytest.raises(InvalidInput, match="predicateType"):
        legacy.attach_attestation(client, image, layer)


def test_wrong_layer_type_or_payload() -> None:
    client, image = pushed_image(FakeRegistry())
    with pytest.raises(InvalidInput, match="media type"):
        legacy.attach_signature(
            client, image, legacy.SignatureLayer(media_type=mt.DSSE_ENVELOPE, blob=b"{}")
        )
    with pytest.raises(InvalidInput, match="not JSON"):
        legacy.attach_signature(
            client, image, legacy.SignatureLayer(media_type=mt.SIMPLE_SIGNING, blob=b"\x00")
        )
    with pytest.raises(InvalidInput, match="pinned by digest"):
        legacy.attach_signature(client, REPO, _signature(image))


def test_foreign_layers_are_skipped_and_hostile_annotations_refused() -> None:
    fake = FakeRegistry()
    client, image = pushed_image(fake)
    legacy.attach_signature(client, image, _signature(image))
    target = legacy.attachment_tag(image, "sig")
    fetched = client.get_manifest(target)
    assert isinstance(fetched.manifest, ImageManifest)
    foreign = Descriptor.for_blob("application/octet-stream", b"junk")
    bad = Descriptor.for_blob(
        mt.SIMPLE_SIGNING, b"{}", annotations={mt.ANNOTATION_SIGNATURE: "not base64!"}
    )
    client.put_blob(target, b"{}")
    for extra, expect_error in ((foreign, False), (bad, True)):
        manifest = ImageManifest(
            config=fetched.manifest.config, layers=(*fetched.manifest.layers, extra)
        )
        client.put_manifest(target, manifest)
        if expect_error:
            with pytest.raises(InvalidInput, match="base64"):
                legacy.read_signatures(client, image)
        else:
            assert len(legacy.read_signatures(client, image)) == 1


def _bundle_text(set_b64: object = "AA==", **payload: object) -> str:
    fields = {"body": "", "integratedTime": 1, "logIndex": 1, "logID": "ab"} | payload
    return json.dumps({"SignedEntryTimestamp": set_b64, "Payload": fields})


@pytest.mark.parametrize(
    "text",
    [
        "{}",
        '{"SignedEntryTimestamp": "AA==", "Payload": []}',
        _bundle_text("!"),
        _bundle_text(None),
        _bundle_text(body="@@"),
        _bundle_text(integratedTime=-1),
        _bundle_text(integratedTime="1"),
        _bundle_text(logIndex=True),
        _bundle_text(logID="XY"),
        _bundle_text(logID=None),
        "not json",
        '"\\ud800"',
        "\ud800",
    ],
)
def test_bad_rekor_bundle_annotation(text: str) -> None:
    with pytest.raises(InvalidInput):
        RekorBundle.from_json(text)


def test_rekor_bundle_and_timestamp_round_trip() -> None:
    assert RekorBundle.from_json(REKOR.to_json()) == REKOR
    assert timestamp_from_json(timestamp_to_json(b"\x01\x02")) == b"\x01\x02"
    with pytest.raises(InvalidInput):
        timestamp_from_json('{"SignedRFC3161Timestamp": 1}')
