"""Referrers of an image: the OCI 1.1 referrers API, with the tag-schema fallback.

Registries without the referrers API answer it with 404; for them the
referrers of ``sha256:<hex>`` are listed in an image index stored at the tag
``sha256-<hex>``, which whoever pushes a referrer keeps up to date.
"""

from __future__ import annotations

from dataclasses import dataclass

from lacre.errors import InvalidInput
from lacre.oci import mediatypes as mt
from lacre.oci.digest import Digest
from lacre.oci.manifest import Descriptor, ImageIndex, ImageManifest
from lacre.oci.reference import ImageReference
from lacre.oci.registry import PushedManifest, RegistryClient


@dataclass(frozen=True)
class Referrers:
    """The referrer descriptors of an image, and where they were found."""

    descriptors: tuple[Descriptor, ...]
    via_api: bool
    """True if the registry's referrers API answered, False if the fallback tag was read."""


def list_referrers(
    client: RegistryClient, image: ImageReference, artifact_type: str | None = None
) -> Referrers:
    """The referrers of ``image`` (which must carry a digest), optionally of one artifact type."""
    digest = _pinned(image)
    index = client.referrers_api(image, digest, artifact_type)
    via_api = index is not None
    if index is None:
        index = _fallback_index(client, image, digest)
    found = index.manifests if index is not None else ()
    if artifact_type is not None:
        found = tuple(item for item in found if item.artifact_type == artifact_type)
    return Referrers(found, via_api)


def push_referrer(
    client: RegistryClient, image: ImageReference, manifest: ImageManifest
) -> PushedManifest:
    """Push ``manifest`` (whose subject is ``image``) by digest and make it discoverable.

    If the registry does not confirm with ``OCI-Subject`` that it indexed the
    subject, the fallback index at tag ``sha256-<hex>`` gets the new descriptor.
    """
    digest = _pinned(image)
    if manifest.subject is None or manifest.subject.digest != digest:
        raise InvalidInput(
            "a referrer manifest must have the image as its subject",
            expected=str(digest),
            found=str(manifest.subject.digest) if manifest.subject else "no subject",
        )
    pushed = client.put_manifest(image.with_digest(digest), manifest)
    if not pushed.subject_processed:
        raw = manifest.encode()
        descriptor = Descriptor(
            media_type=manifest.media_type,
            digest=pushed.digest,
            size=len(raw),
            artifact_type=manifest.artifact_type or manifest.config.media_type,
            annotations=dict(manifest.annotations),
        )
        add_to_fallback_index(client, image, descriptor)
    return pushed


def add_to_fallback_index(
    client: RegistryClient, image: ImageReference, descriptor: Descriptor
) -> ImageIndex:
    """Add ``descriptor`` to the fallback index of ``image`` (created if missing)."""
    digest = _pinned(image)
    current = _fallback_index(client, image, digest) or ImageIndex()
    if any(item.digest == descriptor.digest for item in current.manifests):
        return current
    updated = ImageIndex(
        media_type=mt.OCI_INDEX,
        manifests=(*current.manifests, descriptor),
        annotations=current.annotations,
        extra=current.extra,
    )
    client.put_manifest(image.with_tag(digest.tag()), updated)
    return updated


def _fallback_index(
    client: RegistryClient, image: ImageReference, digest: Digest
) -> ImageIndex | None:
    fetched = client.find_manifest(image.with_tag(digest.tag()))
    if fetched is None:
        return None
    if not isinstance(fetched.manifest, ImageIndex):
        raise InvalidInput(
            f"the referrers tag {digest.tag()} of {image.name} does not hold an index",
            expected=mt.OCI_INDEX,
            found=fetched.media_type,
        )
    return fetched.manifest


def _pinned(image: ImageReference) -> Digest:
    if image.digest is None:
        raise InvalidInput(
            "referrers need an image pinned by digest",
            expected="name@sha256:<hex>",
            found=str(image),
        )
    return image.digest
