"""Test images made of random bytes, as OCI manifests, and pushing them to a registry.

:func:`random_image` builds a single-platform image (config + layers);
:func:`random_index` builds a multi-platform index over several such images.
:func:`push_image` / :func:`push_index` upload them with a
:class:`~lacre.oci.registry.RegistryClient` and return the references pinned
to their digests.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lacre.oci import mediatypes as mt
from lacre.oci.manifest import Descriptor, ImageIndex, ImageManifest, encode_json
from lacre.oci.reference import ImageReference
from lacre.oci.registry import RegistryClient

DEFAULT_PLATFORMS = (("linux", "amd64"), ("linux", "arm64"))


@dataclass(frozen=True)
class TestImage:
    """A single-platform image: its config blob, layer blobs and manifest."""

    __test__ = False  # not a pytest test class

    config: bytes
    layers: tuple[bytes, ...]
    manifest: ImageManifest

    @property
    def raw(self) -> bytes:
        """The manifest bytes."""
        return self.manifest.encode()


@dataclass(frozen=True)
class TestIndex:
    """A multi-platform index and the images it lists, in the same order."""

    __test__ = False  # not a pytest test class

    images: tuple[TestImage, ...]
    index: ImageIndex


def random_image(
    *,
    layers: int = 1,
    layer_size: int = 1024,
    platform: tuple[str, str] = ("linux", "amd64"),
    randbytes: Callable[[int], bytes] = os.urandom,
) -> TestImage:
    """An image with ``layers`` random layers of ``layer_size`` bytes each."""
    blobs = tuple(randbytes(layer_size) for _ in range(layers))
    descriptors = tuple(Descriptor.for_blob(mt.OCI_LAYER, blob) for blob in blobs)
    config = encode_json(
        {
            "architecture": platform[1],
            "os": platform[0],
            "config": {"Labels": {"lacre.test.nonce": randbytes(8).hex()}},
            "rootfs": {"type": "layers", "diff_ids": [str(d.digest) for d in descriptors]},
        }
    )
    manifest = ImageManifest(
        media_type=mt.OCI_MANIFEST,
        config=Descriptor.for_blob(mt.OCI_CONFIG, config),
        layers=descriptors,
    )
    return TestImage(config, blobs, manifest)


def random_index(
    platforms: Sequence[tuple[str, str]] = DEFAULT_PLATFORMS,
    *,
    layer_size: int = 1024,
    randbytes: Callable[[int], bytes] = os.urandom,
) -> TestIndex:
    """An index with one random image per ``(os, architecture)`` in ``platforms``."""
    images = tuple(
        random_image(layer_size=layer_size, platform=platform, randbytes=randbytes)
        for platform in platforms
    )
    entries = tuple(
        Descriptor.for_blob(
            mt.OCI_MANIFEST,
            image.raw,
            platform={"architecture": platform[1], "os": platform[0]},
        )
        for image, platform in zip(images, platforms, strict=True)
    )
    return TestIndex(images, ImageIndex(media_type=mt.OCI_INDEX, manifests=entries))


def push_image(
    client: RegistryClient, repository: ImageReference, image: TestImage
) -> ImageReference:
    """Push ``image``'s blobs and manifest (at ``repository``'s tag, if any); return it pinned."""
    for blob in (image.config, *image.layers):
        client.put_blob(repository, blob)
    return client.put_manifest(repository, image.manifest).image


def push_index(
    client: RegistryClient, repository: ImageReference, index: TestIndex
) -> ImageReference:
    """Push every image of ``index`` by digest, then the index (at the tag, if any)."""
    untagged = ImageReference(repository.registry, repository.repository)
    for image in index.images:
        push_image(client, untagged, image)
    return client.put_manifest(repository, index.index).image
