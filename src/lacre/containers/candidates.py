"""Candidate signatures of an image, gathered from both storages, each verified on its own.

A :class:`Candidate` is one signature (or attestation) found for an image:
a legacy ``.sig``/``.att`` layer turned into its equivalent bundle, or a
bundle stored as a referrer. Gathering is lazy and tolerant: a corrupt
manifest, blob or bundle becomes a :class:`Failure` naming where it was
found and why, and the next candidate is tried.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from lacre.containers.legacybundle import bundle_of_layer
from lacre.containers.statements import pinned_digest
from lacre.errors import InvalidInput, NotFound
from lacre.models.bundle import Bundle
from lacre.oci import legacy
from lacre.oci import mediatypes as mt
from lacre.oci.bundles import referrer_bundle
from lacre.oci.manifest import Descriptor
from lacre.oci.reference import ImageReference
from lacre.oci.referrers import list_referrers
from lacre.oci.registry import RegistryClient
from lacre.verify import Artifact


@dataclass(frozen=True)
class Candidate:
    """One signature found for an image, ready for :class:`lacre.verify.Verifier`."""

    source: str
    """Where it was found, for messages."""
    key: str
    """A digest identifying the evidence (for the verification cache)."""
    bundle: Bundle
    artifact: Artifact
    """What the bundle signs: the simple-signing payload, or the image digest."""
    payload: bytes | None = None
    """A legacy signature's simple-signing payload."""


@dataclass(frozen=True)
class Failure:
    """Something found that could not even be read as a candidate."""

    source: str
    error: InvalidInput | NotFound


Found = Candidate | Failure
_CANDIDATE_ERRORS = (InvalidInput, NotFound)
"""What makes one candidate fail; unreachable registries and bad configuration propagate."""
Loader = Callable[[str], Candidate]
"""Loads a candidate, given where it was found."""


def legacy_candidates(
    client: RegistryClient, image: ImageReference, suffix: str, repository: ImageReference | None
) -> Iterator[Found]:
    """The layers of ``image``'s ``.sig`` (``suffix`` sig) or ``.att`` manifest."""
    target = legacy.attachment_tag(image, suffix, repository)
    media_type = mt.SUFFIX_LAYER_TYPES[suffix]
    where = f"legacy tag {target.tag}"
    try:
        readers = legacy.layer_readers(client, target, media_type)
    except _CANDIDATE_ERRORS as exc:
        yield Failure(where, exc)
        return
    for number, read in enumerate(readers):
        source = f"{where} layer {number}"
        yield _load(source, partial(_legacy, read, image))


def _legacy(
    read: Callable[[], legacy.SignatureLayer], image: ImageReference, source: str
) -> Candidate:
    layer = read()
    bundle = bundle_of_layer(layer)
    notes = json.dumps(layer.layer_annotations(), sort_keys=True).encode()
    key = hashlib.sha256(hashlib.sha256(layer.blob).digest() + notes).hexdigest()
    if layer.media_type == mt.SIMPLE_SIGNING:
        artifact = Artifact.from_bytes(layer.blob)
        return Candidate(source, key, bundle, artifact, payload=layer.blob)
    return Candidate(source, key, bundle, _image_artifact(image))


def referrer_candidates(
    client: RegistryClient, image: ImageReference, predicate_type: str | None
) -> Iterator[Found]:
    """The bundles stored as referrers of ``image`` (with ``predicate_type``, if annotated)."""
    try:
        found = list_referrers(client, image, mt.SIGSTORE_BUNDLE_V03).descriptors
    except _CANDIDATE_ERRORS as exc:
        yield Failure(f"referrers of {image.digest}", exc)
        return
    for descriptor in found:
        annotated = descriptor.annotations.get(mt.ANNOTATION_BUNDLE_PREDICATE_TYPE)
        if predicate_type is not None and annotated not in (None, predicate_type):
            continue
        source = f"referrer {descriptor.digest}"
        yield _load(source, partial(_referrer, client, image, descriptor))


def _referrer(
    client: RegistryClient, image: ImageReference, descriptor: Descriptor, source: str
) -> Candidate:
    bundle = Bundle.parse(referrer_bundle(client, image, descriptor).bundle)
    return Candidate(source, str(descriptor.digest), bundle, _image_artifact(image))


def _image_artifact(image: ImageReference) -> Artifact:
    return Artifact.from_digest(str(pinned_digest(image)))


def _load(source: str, loader: Loader) -> Found:
    try:
        return loader(source)
    except _CANDIDATE_ERRORS as exc:
        return Failure(source, exc)
