"""Walking a multi-platform image: the index itself and every platform manifest under it."""

from __future__ import annotations

from lacre.containers.statements import Notify, pin
from lacre.errors import TooLarge
from lacre.oci.discovery import platform_images
from lacre.oci.reference import ImageReference
from lacre.oci.registry import RegistryClient

MAX_DEPTH = 3
"""How deep indexes may nest (an index of indexes of images is depth 2)."""
MAX_IMAGES = 256
"""The most images one recursive walk visits."""


def targets(
    client: RegistryClient, image: ImageReference, notify: Notify, *, recursive: bool
) -> list[ImageReference]:
    """``image`` pinned, and with ``recursive`` every image under it: what to sign or verify."""
    pinned = pin(client, image, notify)
    return with_platforms(client, pinned) if recursive else [pinned]


def with_platforms(client: RegistryClient, image: ImageReference) -> list[ImageReference]:
    """``image`` (pinned) followed by every image under it, depth first, each once."""
    found: list[ImageReference] = []
    _walk(client, image, 0, found)
    return found


def _walk(
    client: RegistryClient, image: ImageReference, depth: int, found: list[ImageReference]
) -> None:
    if image in found:
        return
    if len(found) >= MAX_IMAGES:
        raise TooLarge(f"too many images under {image}", expected=f"at most {MAX_IMAGES}")
    found.append(image)
    if depth >= MAX_DEPTH:
        return
    for child in platform_images(client, image):
        _walk(client, child.image, depth + 1, found)
