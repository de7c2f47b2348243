"""``download`` and ``tree``: what is attached to an image, read without verifying it.

:func:`tree` lists the referrers and the legacy ``.sig``/``.att``/``.sbom``
layers of an image digest. :func:`download` returns the signatures or
attestations as JSON documents: referrer bundles as stored, legacy signatures
in cosign's ``download signature`` shape, legacy attestations as their DSSE
envelopes. :func:`sbom` returns only the SBOM document: unwrapped from its
DSSE envelope and in-toto statement (SPDX JSON or CycloneDX predicates), or a
legacy ``.sbom`` layer as stored. Nothing here verifies signatures; use
:class:`~lacre.containers.verifying.ImageVerifier` for that.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from lacre.containers.statements import (
    SIGN_PREDICATE_TYPE,
    Notify,
    pin,
    pinned_digest,
    quiet,
)
from lacre.dsse import Envelope
from lacre.errors import InvalidInput, NotFound
from lacre.models.bundle import Bundle
from lacre.oci import legacy
from lacre.oci import mediatypes as mt
from lacre.oci.bundles import referrer_bundle
from lacre.oci.discovery import discover
from lacre.oci.manifest import ImageManifest
from lacre.oci.reference import ImageReference
from lacre.oci.referrers import list_referrers
from lacre.oci.registry import FetchedManifest, RegistryClient
from lacre.oci.rekorbundle import b64encode
from lacre.verify.attestation import in_toto_statement

SBOM_PREDICATE_PREFIXES = ("https://spdx.dev/Document", "https://cyclonedx.org/bom")
"""Predicate types whose predicate is an SBOM document."""

Kind = Literal["signature", "attestation"]


@dataclass(frozen=True)
class AttachedItem:
    """One thing attached to an image."""

    storage: str
    """``referrer``, or the legacy tag (``sha256-<hex>.sig`` ...)."""
    digest: str
    media_type: str
    predicate_type: str | None = None


def tree(
    client: RegistryClient, image: ImageReference, *, notify: Notify = quiet
) -> tuple[ImageReference, list[AttachedItem]]:
    """The image (pinned) and everything attached to it."""
    found = discover(client, pin(client, image, notify))
    items = [
        AttachedItem(
            "referrer" if found.referrers.via_api else "referrer (fallback tag)",
            str(item.digest),
            item.artifact_type or item.media_type,
            item.annotations.get(mt.ANNOTATION_BUNDLE_PREDICATE_TYPE),
        )
        for item in found.referrers.descriptors
    ]
    legacy_manifests = {
        mt.SUFFIX_SIGNATURE: found.signatures,
        mt.SUFFIX_ATTESTATION: found.attestations,
        mt.SUFFIX_SBOM: found.sboms,
    }
    digest = pinned_digest(found.image)
    for suffix, fetched in legacy_manifests.items():
        if fetched is not None:
            items.extend(_layers(digest.tag(suffix), fetched))
    return found.image, items


def _layers(tag: str, fetched: FetchedManifest) -> Iterator[AttachedItem]:
    layers = fetched.manifest.layers if isinstance(fetched.manifest, ImageManifest) else ()
    for layer in layers:
        yield AttachedItem(
            tag,
            str(layer.digest),
            layer.media_type,
            layer.annotations.get(mt.ANNOTATION_PREDICATE_TYPE),
        )


def download(
    client: RegistryClient, image: ImageReference, kind: Kind, *, notify: Notify = quiet
) -> list[bytes]:
    """The signatures or attestations of ``image``, one JSON document each."""
    pinned = pin(client, image, notify)
    read = legacy.read_signatures if kind == "signature" else legacy.read_attestations
    layers = read(client, pinned)
    documents = [_legacy_document(layer) if kind == "signature" else layer.blob for layer in layers]
    signatures = kind == "signature"
    documents += _referrer_bundles(
        client, pinned, lambda found: (found == SIGN_PREDICATE_TYPE) == signatures, notify
    )
    return documents


def sbom(client: RegistryClient, image: ImageReference, *, notify: Notify = quiet) -> bytes:
    """The SBOM attached to ``image`` (the last one found if there are several distinct)."""
    pinned = pin(client, image, notify)
    found = list(dict.fromkeys(_sboms(client, pinned, notify)))  # stored both ways: once
    if not found:
        raise NotFound(
            f"no SBOM attached to {pinned}",
            expected="an spdxjson or cyclonedx attestation, or a .sbom tag",
            found="none",
        )
    if len(found) > 1:
        notify(f"{len(found)} SBOMs are attached to {pinned}; printing the last one")
    return found[-1]


def _sboms(client: RegistryClient, image: ImageReference, notify: Notify) -> Iterator[bytes]:
    for layer in legacy.read_attestations(client, image):
        if _is_sbom(layer.predicate_type):
            yield _unwrap(layer.blob, "legacy attestation")
    for bundle in _referrer_bundles(client, image, _is_sbom, notify):
        yield _unwrap_bundle(bundle)
    target = legacy.attachment_tag(image, mt.SUFFIX_SBOM)
    fetched = client.find_manifest(target)
    if fetched is not None and isinstance(fetched.manifest, ImageManifest):
        for item in fetched.manifest.layers:
            yield client.get_blob(target, item.digest)


def _is_sbom(predicate_type: str | None) -> bool:
    return predicate_type is not None and predicate_type.startswith(SBOM_PREDICATE_PREFIXES)


def _unwrap(envelope_json: bytes, where: str) -> bytes:
    return _predicate_of(Envelope.from_json(envelope_json, path=where), where)


def _unwrap_bundle(data: bytes) -> bytes:
    bundle = Bundle.parse(data)
    if bundle.dsse_envelope is None:
        raise InvalidInput("the SBOM bundle holds no DSSE envelope", found="a message signature")
    return _predicate_of(bundle.dsse_envelope, "SBOM bundle")


def _predicate_of(envelope: Envelope, where: str) -> bytes:
    """The predicate of the in-toto statement in ``envelope``, as indented JSON."""
    statement = in_toto_statement(envelope.payload, envelope.payload_type, where)
    return json.dumps(statement.predicate, indent=2, ensure_ascii=False).encode() + b"\n"


def _referrer_bundles(
    client: RegistryClient,
    image: ImageReference,
    wanted: Callable[[str | None], bool],
    notify: Notify,
) -> Iterator[bytes]:
    """The referrer bundles of ``image`` whose annotated predicate type is ``wanted``.

    A referrer whose listing names an unwanted predicate type is not fetched; one
    whose listing names none is, for its manifest's annotation. A referrer that is
    not a bundle manifest is skipped, with a notice.
    """
    for descriptor in list_referrers(client, image, mt.SIGSTORE_BUNDLE_V03).descriptors:
        listed = descriptor.annotations.get(mt.ANNOTATION_BUNDLE_PREDICATE_TYPE)
        if listed is not None and not wanted(listed):
            continue
        try:
            attached = referrer_bundle(client, image, descriptor)
        except InvalidInput as exc:
            notify(f"skipped: {exc}")
            continue
        if wanted(attached.predicate_type):
            yield attached.bundle


def _legacy_document(layer: legacy.SignatureLayer) -> bytes:
    document: dict[str, object] = {
        "Base64Signature": b64encode(layer.signature),
        "Payload": b64encode(layer.blob),
        "Cert": layer.certificate,
        "Chain": layer.chain,
        "Bundle": None if layer.rekor_bundle is None else json.loads(layer.rekor_bundle.to_json()),
        "RFC3161Timestamp": None
        if layer.rfc3161_timestamp is None
        else {"SignedRFC3161Timestamp": b64encode(layer.rfc3161_timestamp)},
    }
    return json.dumps(document, separators=(",", ":")).encode()
