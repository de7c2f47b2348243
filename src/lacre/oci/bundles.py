"""Sigstore bundles stored as OCI 1.1 referrers of the image they sign (cosign v3 layout).

The referrer is an image manifest with ``artifactType`` = the bundle media
type, the empty config, the bundle JSON as its single layer and the signed
image as its ``subject``; it is pushed by digest and found through the
referrers API or its tag-schema fallback (:mod:`lacre.oci.referrers`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from lacre.errors import InvalidInput
from lacre.oci import mediatypes as mt
from lacre.oci.manifest import Descriptor, ImageManifest
from lacre.oci.reference import ImageReference
from lacre.oci.referrers import list_referrers, push_referrer
from lacre.oci.registry import PushedManifest, RegistryClient

BundleContent = Literal["message-signature", "dsse-envelope"]
EMPTY_CONFIG = Descriptor.for_blob(mt.OCI_EMPTY, mt.EMPTY_JSON)
"""The OCI empty descriptor (``{}``) used as the config of artifact manifests."""


@dataclass(frozen=True)
class AttachedBundle:
    """A bundle found attached to an image."""

    referrer: Descriptor
    """The referrer manifest's descriptor (digest, artifact type, annotations)."""
    bundle: bytes
    predicate_type: str | None
    """The ``dev.sigstore.bundle.predicateType`` annotation of the referrer manifest (or, if
    the manifest has none, of its descriptor in the listing), if any."""

    @property
    def content(self) -> str | None:
        """The ``dev.sigstore.bundle.content`` annotation, if any."""
        return self.referrer.annotations.get(mt.ANNOTATION_BUNDLE_CONTENT)


def bundle_content(bundle: bytes) -> BundleContent:
    """Whether ``bundle`` holds a message signature or a DSSE envelope."""
    try:
        document = json.loads(bundle)
    except (UnicodeDecodeError, ValueError):
        document = None
    if isinstance(document, dict) and "dsseEnvelope" in document:
        return "dsse-envelope"
    if isinstance(document, dict) and "messageSignature" in document:
        return "message-signature"
    raise InvalidInput(
        "not a Sigstore bundle", expected="JSON with dsseEnvelope or messageSignature"
    )


def bundle_manifest(
    subject: Descriptor,
    bundle: bytes,
    *,
    predicate_type: str | None = None,
    created: dt.datetime | None = None,
) -> ImageManifest:
    """The referrer manifest carrying ``bundle`` for the image described by ``subject``."""
    when = (created or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    annotations = {
        mt.ANNOTATION_BUNDLE_CONTENT: bundle_content(bundle),
        mt.ANNOTATION_CREATED: when.isoformat().replace("+00:00", "Z"),
    }
    if predicate_type is not None:
        annotations[mt.ANNOTATION_BUNDLE_PREDICATE_TYPE] = predicate_type
    return ImageManifest(
        media_type=mt.OCI_MANIFEST,
        artifact_type=mt.SIGSTORE_BUNDLE_V03,
        config=EMPTY_CONFIG,
        layers=(Descriptor.for_blob(mt.SIGSTORE_BUNDLE_V03, bundle),),
        subject=subject,
        annotations=annotations,
    )


def attach_bundle(
    client: RegistryClient,
    image: ImageReference,
    bundle: bytes,
    *,
    predicate_type: str | None = None,
    created: dt.datetime | None = None,
) -> PushedManifest:
    """Store ``bundle`` as a referrer of ``image`` (resolved to its digest first)."""
    fetched = client.get_manifest(image)
    subject = Descriptor(
        media_type=fetched.media_type, digest=fetched.digest, size=len(fetched.raw)
    )
    manifest = bundle_manifest(subject, bundle, predicate_type=predicate_type, created=created)
    client.put_blob(fetched.image, mt.EMPTY_JSON)
    client.put_blob(fetched.image, bundle)
    return push_referrer(client, fetched.image, manifest)


def fetch_bundles(
    client: RegistryClient,
    image: ImageReference,
    *,
    annotations: Mapping[str, str] | None = None,
) -> list[AttachedBundle]:
    """The Sigstore bundles attached to ``image``, optionally only those with ``annotations``."""
    pinned = image if image.digest is not None else image.with_digest(client.resolve(image))
    found = list_referrers(client, pinned, mt.SIGSTORE_BUNDLE_V03).descriptors
    wanted = dict(annotations or {})
    return [
        referrer_bundle(client, pinned, referrer)
        for referrer in found
        if wanted.items() <= dict(referrer.annotations).items()
    ]


def referrer_bundle(
    client: RegistryClient, image: ImageReference, referrer: Descriptor
) -> AttachedBundle:
    """The bundle the referrer manifest ``referrer`` of the pinned ``image`` carries.

    The manifest must be an image manifest whose subject is ``image``, with
    exactly one bundle layer; anything else is :class:`InvalidInput`.
    """
    fetched = client.get_manifest(image.with_digest(referrer.digest))
    manifest = fetched.manifest
    what = f"referrer {referrer.digest} of {image}"
    if not isinstance(manifest, ImageManifest):
        raise InvalidInput(
            f"{what} is not a bundle manifest",
            expected="an image manifest",
            found=fetched.media_type,
        )
    if manifest.subject is None or manifest.subject.digest != image.digest:
        raise InvalidInput(
            f"{what}: the referrer's subject is another image",
            expected=str(image.digest),
            found=str(manifest.subject.digest) if manifest.subject else "no subject",
        )
    bundles = [layer for layer in manifest.layers if layer.media_type == mt.SIGSTORE_BUNDLE_V03]
    if len(bundles) != 1:
        raise InvalidInput(
            f"{what} is not a bundle manifest",
            expected="exactly one bundle layer",
            found=f"{len(bundles)} bundle layers",
        )
    annotated = manifest.annotations.get(mt.ANNOTATION_BUNDLE_PREDICATE_TYPE)
    predicate_type = annotated or referrer.annotations.get(mt.ANNOTATION_BUNDLE_PREDICATE_TYPE)
    return AttachedBundle(referrer, client.get_blob(image, bundles[0].digest), predicate_type)
