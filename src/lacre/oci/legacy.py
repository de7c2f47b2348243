"""cosign's legacy storage: signatures at tag ``sha256-<hex>.sig``, attestations at ``.att``.

Each signature (or attestation) is one layer of the manifest at that tag: the
layer blob is the signed payload (a simple-signing payload, or a DSSE envelope
for attestations) and the layer annotations carry the signature, certificate,
chain, Rekor bundle and timestamp. New signatures are appended as new layers;
a layer identical to an existing one (same blob, same annotations) is not added
twice.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Self

from lacre.errors import InvalidInput
from lacre.oci import mediatypes as mt
from lacre.oci.digest import Digest
from lacre.oci.manifest import Descriptor, ImageManifest, encode_json
from lacre.oci.reference import ImageReference
from lacre.oci.registry import PushedManifest, RegistryClient
from lacre.oci.rekorbundle import (
    RekorBundle,
    b64decode,
    b64encode,
    timestamp_from_json,
    timestamp_to_json,
)
from lacre.oci.simplesigning import SimpleSigningPayload

_ZERO_TIME = "0001-01-01T00:00:00Z"
_KNOWN = frozenset(
    {
        mt.ANNOTATION_SIGNATURE,
        mt.ANNOTATION_CERTIFICATE,
        mt.ANNOTATION_CHAIN,
        mt.ANNOTATION_BUNDLE,
        mt.ANNOTATION_RFC3161,
        mt.ANNOTATION_PREDICATE_TYPE,
    }
)


@dataclass(frozen=True, kw_only=True)
class SignatureLayer:
    """One signature or attestation stored as a layer of a ``.sig``/``.att`` manifest."""

    media_type: str
    blob: bytes
    signature: bytes = b""
    certificate: str | None = None
    chain: str | None = None
    rekor_bundle: RekorBundle | None = None
    rfc3161_timestamp: bytes | None = None
    predicate_type: str | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)
    """Other annotations, kept as they are."""

    def layer_annotations(self) -> dict[str, str]:
        """The layer descriptor's annotations, cosign's keys first."""
        out = {mt.ANNOTATION_SIGNATURE: b64encode(self.signature)}
        if self.certificate is not None:
            out[mt.ANNOTATION_CERTIFICATE] = self.certificate
        if self.chain is not None:
            out[mt.ANNOTATION_CHAIN] = self.chain
        if self.rekor_bundle is not None:
            out[mt.ANNOTATION_BUNDLE] = self.rekor_bundle.to_json()
        if self.rfc3161_timestamp is not None:
            out[mt.ANNOTATION_RFC3161] = timestamp_to_json(self.rfc3161_timestamp)
        if self.predicate_type is not None:
            out[mt.ANNOTATION_PREDICATE_TYPE] = self.predicate_type
        return out | {k: v for k, v in self.annotations.items() if k not in _KNOWN}

    def descriptor(self) -> Descriptor:
        """The layer descriptor of this signature."""
        return Descriptor.for_blob(self.media_type, self.blob, annotations=self.layer_annotations())

    @classmethod
    def from_layer(cls, descriptor: Descriptor, blob: bytes) -> Self:
        """Decode a layer (its blob already verified against ``descriptor``)."""
        notes = descriptor.annotations
        where = f"layer {descriptor.digest}"
        bundle = notes.get(mt.ANNOTATION_BUNDLE)
        stamp = notes.get(mt.ANNOTATION_RFC3161)
        return cls(
            media_type=descriptor.media_type,
            blob=blob,
            signature=b64decode(notes.get(mt.ANNOTATION_SIGNATURE, ""), f"{where} signature"),
            certificate=notes.get(mt.ANNOTATION_CERTIFICATE),
            chain=notes.get(mt.ANNOTATION_CHAIN),
            rekor_bundle=RekorBundle.from_json(bundle) if bundle is not None else None,
            rfc3161_timestamp=timestamp_from_json(stamp) if stamp is not None else None,
            predicate_type=notes.get(mt.ANNOTATION_PREDICATE_TYPE),
            annotations={k: v for k, v in notes.items() if k not in _KNOWN},
        )


def signature_config(layers: tuple[Descriptor, ...]) -> bytes:
    """The minimal image config of a signature manifest: ``rootfs.diff_ids`` = layer digests."""
    return encode_json(
        {
            "architecture": "",
            "config": {},
            "created": _ZERO_TIME,
            "history": [{"created": _ZERO_TIME} for _ in layers],
            "os": "",
            "rootfs": {"type": "layers", "diff_ids": [str(layer.digest) for layer in layers]},
        }
    )


def attachment_tag(
    image: ImageReference, suffix: str, repository: ImageReference | None = None
) -> ImageReference:
    """Where ``image``'s ``.<suffix>`` manifest lives (in ``repository`` if given)."""
    if image.digest is None:
        raise InvalidInput(
            "signatures attach to an image pinned by digest",
            expected="name@sha256:<hex>",
            found=str(image),
        )
    return (repository or image).with_tag(image.digest.tag(suffix))


def attach_signature(
    client: RegistryClient,
    image: ImageReference,
    layer: SignatureLayer,
    *,
    repository: ImageReference | None = None,
    docker_media_types: bool = False,
) -> PushedManifest:
    """Append a simple-signing signature to ``image``'s ``.sig`` manifest."""
    _expect(layer, mt.SIMPLE_SIGNING)
    target = attachment_tag(image, mt.SUFFIX_SIGNATURE, repository)
    return _append(client, target, layer, docker_media_types)


def attach_attestation(
    client: RegistryClient,
    image: ImageReference,
    layer: SignatureLayer,
    *,
    repository: ImageReference | None = None,
    docker_media_types: bool = False,
) -> PushedManifest:
    """Append a DSSE attestation to ``image``'s ``.att`` manifest."""
    _expect(layer, mt.DSSE_ENVELOPE)
    if layer.predicate_type is None or layer.signature:
        raise InvalidInput(
            "an attestation layer needs a predicateType and an empty signature annotation",
            expected="predicate_type set, signature b''",
            found=f"{layer.predicate_type!r}, {len(layer.signature)} signature bytes",
        )
    target = attachment_tag(image, mt.SUFFIX_ATTESTATION, repository)
    return _append(client, target, layer, docker_media_types)


def read_signatures(
    client: RegistryClient, image: ImageReference, *, repository: ImageReference | None = None
) -> list[SignatureLayer]:
    """The simple-signing signatures in ``image``'s ``.sig`` manifest ([] if there is none)."""
    return _read_tag(client, image, mt.SUFFIX_SIGNATURE, repository)


def read_attestations(
    client: RegistryClient, image: ImageReference, *, repository: ImageReference | None = None
) -> list[SignatureLayer]:
    """The DSSE attestations in ``image``'s ``.att`` manifest ([] if there is none)."""
    return _read_tag(client, image, mt.SUFFIX_ATTESTATION, repository)


def _read_tag(
    client: RegistryClient, image: ImageReference, suffix: str, repository: ImageReference | None
) -> list[SignatureLayer]:
    target = attachment_tag(image, suffix, repository)
    return read_layers(client, target, mt.SUFFIX_LAYER_TYPES[suffix])


def read_layers(
    client: RegistryClient, target: ImageReference, media_type: str
) -> list[SignatureLayer]:
    """Decode the layers of ``media_type`` in the manifest at ``target`` (others are skipped)."""
    return [read() for read in layer_readers(client, target, media_type)]


def layer_readers(
    client: RegistryClient, target: ImageReference, media_type: str
) -> list[Callable[[], SignatureLayer]]:
    """One reader per layer of ``media_type`` in the manifest at ``target`` ([] if none).

    Each fetches and decodes its layer only when called, so that a caller can
    try the layers one by one and one bad layer does not hide the others.
    """
    fetched = client.find_manifest(target)
    if fetched is None:
        return []
    if not isinstance(fetched.manifest, ImageManifest):
        raise InvalidInput(
            f"{target} does not hold a signature manifest",
            expected="an image manifest",
            found=fetched.media_type,
        )
    return [
        functools.partial(_read_layer, client, target, layer)
        for layer in fetched.manifest.layers
        if layer.media_type == media_type
    ]


def _read_layer(
    client: RegistryClient, target: ImageReference, layer: Descriptor
) -> SignatureLayer:
    return SignatureLayer.from_layer(layer, client.get_blob(target, layer.digest))


def _expect(layer: SignatureLayer, media_type: str) -> None:
    if layer.media_type != media_type:
        raise InvalidInput("wrong layer media type", expected=media_type, found=layer.media_type)
    if layer.media_type == mt.SIMPLE_SIGNING:
        try:
            json.loads(layer.blob)
        except ValueError:
            raise InvalidInput("the signature payload is not JSON") from None


def _append(
    client: RegistryClient, target: ImageReference, layer: SignatureLayer, docker: bool
) -> PushedManifest:
    fetched = client.find_manifest(target)
    existing: tuple[Descriptor, ...] = ()
    if fetched is not None:
        if not isinstance(fetched.manifest, ImageManifest):
            raise InvalidInput(
                f"{target} does not hold a signature manifest", found=fetched.media_type
            )
        existing = fetched.manifest.layers
    new = layer.descriptor()
    if any(_same(old, new) for old in existing):
        assert fetched is not None
        return PushedManifest(fetched.image, fetched.digest, False)
    client.put_blob(target, layer.blob)
    layers = (*existing, new)
    config = signature_config(layers)
    client.put_blob(target, config)
    manifest = ImageManifest(
        media_type=mt.DOCKER_MANIFEST if docker else mt.OCI_MANIFEST,
        config=Descriptor.for_blob(mt.DOCKER_CONFIG if docker else mt.OCI_CONFIG, config),
        layers=layers,
    )
    return client.put_manifest(target, manifest)


def _same(old: Descriptor, new: Descriptor) -> bool:
    return old.digest == new.digest and dict(old.annotations) == dict(new.annotations)


def signature_payload(
    image: ImageReference, digest: Digest, optional: Mapping[str, str] | None = None
) -> bytes:
    """The simple-signing payload bytes for ``image`` at ``digest`` (what the signer signs)."""
    return SimpleSigningPayload(image.docker_reference, digest, optional).to_bytes()
