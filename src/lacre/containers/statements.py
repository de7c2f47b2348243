"""The in-toto statements stored for images, and pinning an image reference to its digest.

A signature stored as an OCI 1.1 referrer is, as cosign v3 writes it, a DSSE
envelope over an in-toto statement whose subject is the image manifest digest
and whose predicate type is :data:`SIGN_PREDICATE_TYPE` (empty predicate). An
attestation is the same statement with the user's predicate type and predicate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from lacre.errors import InvalidInput
from lacre.oci.digest import Digest
from lacre.oci.reference import ImageReference
from lacre.oci.registry import RegistryClient
from lacre.sign.statement import Subject, statement

SIGN_PREDICATE_TYPE = "https://sigstore.dev/cosign/sign/v1"
"""The predicate type of an image signature stored as a referrer bundle."""

Notify = Callable[[str], None]
"""Receives notices for the user (a tag resolved to a digest, ...)."""


def image_statement(
    image: ImageReference, predicate_type: str, predicate: Mapping[str, Any]
) -> bytes:
    """The statement payload naming ``image`` (pinned) as its only subject."""
    digest = pinned_digest(image)
    if digest.algorithm != "sha256":
        raise InvalidInput("images are signed by SHA-256 digest", found=str(digest))
    subject = Subject(image.docker_reference, bytes.fromhex(digest.hex))
    return statement([subject], predicate_type, predicate)


def signature_statement(image: ImageReference) -> bytes:
    """The statement an image signature (referrer bundle) signs."""
    return image_statement(image, SIGN_PREDICATE_TYPE, {})


def pinned_digest(image: ImageReference) -> Digest:
    """The digest ``image`` is pinned to; InvalidInput if it has none."""
    if image.digest is None:
        raise InvalidInput(
            "an image pinned by digest is needed", expected="name@sha256:<hex>", found=str(image)
        )
    return image.digest


def pin(client: RegistryClient, image: ImageReference, notify: Notify) -> ImageReference:
    """``image`` pinned to its manifest digest; a tag is resolved, with a notice."""
    if image.digest is not None:
        return image
    digest = client.resolve(image)
    pinned = image.with_digest(digest)
    notify(f"{image} resolved to {pinned}; the digest is what is used")
    return pinned


def quiet(_: str) -> None:
    """A :data:`Notify` that drops every notice."""
