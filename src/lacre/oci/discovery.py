"""Everything attached to an image, and the platform images of a multi-platform index.

:func:`discover` gathers the referrers (API or fallback tag) and the legacy
``.sig``, ``.att`` and ``.sbom`` manifests of one image digest; it is what
``lacre tree IMAGE`` shows. :func:`platform_images` lists the per-platform
manifests of an index, for recursive signing and verification.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lacre.oci import mediatypes as mt
from lacre.oci.manifest import ImageIndex
from lacre.oci.reference import ImageReference
from lacre.oci.referrers import Referrers, list_referrers
from lacre.oci.registry import FetchedManifest, RegistryClient

_ATTESTATION_MANIFEST = "attestation-manifest"
_REFERENCE_TYPE = "vnd.docker.reference.type"


@dataclass(frozen=True)
class Attachments:
    """What is attached to one image digest."""

    image: ImageReference
    referrers: Referrers
    signatures: FetchedManifest | None
    attestations: FetchedManifest | None
    sboms: FetchedManifest | None

    @property
    def empty(self) -> bool:
        """Whether nothing at all is attached."""
        legacy = (self.signatures, self.attestations, self.sboms)
        return not self.referrers.descriptors and all(item is None for item in legacy)


@dataclass(frozen=True)
class PlatformImage:
    """One entry of a multi-platform index."""

    image: ImageReference
    media_type: str
    platform: Mapping[str, Any] | None


def discover(
    client: RegistryClient, image: ImageReference, *, repository: ImageReference | None = None
) -> Attachments:
    """Attachments of ``image`` (resolved to a digest); legacy tags looked up in ``repository``."""
    digest = client.resolve(image)
    pinned = image.with_digest(digest)
    home = repository or pinned

    def legacy(suffix: str) -> FetchedManifest | None:
        return client.find_manifest(home.with_tag(digest.tag(suffix)))

    return Attachments(
        image=pinned,
        referrers=list_referrers(client, pinned),
        signatures=legacy(mt.SUFFIX_SIGNATURE),
        attestations=legacy(mt.SUFFIX_ATTESTATION),
        sboms=legacy(mt.SUFFIX_SBOM),
    )


def platform_images(client: RegistryClient, image: ImageReference) -> list[PlatformImage]:
    """The platform manifests of ``image`` if it is an index ([] for a single image).

    Build attestation entries (``vnd.docker.reference.type: attestation-manifest``)
    are not images and are left out.
    """
    fetched = client.get_manifest(image)
    if not isinstance(fetched.manifest, ImageIndex):
        return []
    return [
        PlatformImage(fetched.image.with_digest(item.digest), item.media_type, item.platform)
        for item in fetched.manifest.manifests
        if item.media_type in mt.IMAGE_MANIFESTS | mt.INDEXES
        and item.annotations.get(_REFERENCE_TYPE) != _ATTESTATION_MANIFEST
    ]
