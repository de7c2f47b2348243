"""Signing and attesting container images.

The digest of the image manifest is what is signed (a tag is resolved first,
with a notice). Where the result goes is chosen by :data:`Storage`:

* ``referrers`` — a Sigstore bundle v0.3 pushed as an OCI 1.1 referrer of the
  image (cosign v3's layout, §10.3): for a signature, a DSSE envelope over an
  in-toto statement with the image digest as subject and predicate type
  ``https://sigstore.dev/cosign/sign/v1``; for an attestation, the user's
  predicate. Registries without the referrers API get the tag-schema fallback.
* ``legacy`` — cosign's ``sha256-<hex>.sig`` tag (a simple-signing payload,
  signed as a message; §10.1) or ``.att`` tag (the DSSE envelope; §10.2), with
  certificate, chain and Rekor v1 SET annotations. This needs a Rekor v1 entry.
* ``both`` (default) — both. A signature then takes two signing operations
  (the two layouts sign different payloads); an attestation takes one, as the
  same DSSE envelope is stored in both places.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from lacre.containers.legacybundle import envelope_json, signature_layer
from lacre.containers.statements import (
    SIGN_PREDICATE_TYPE,
    Notify,
    image_statement,
    pinned_digest,
    quiet,
    signature_statement,
)
from lacre.containers.walk import targets
from lacre.errors import InvalidInput
from lacre.oci import legacy
from lacre.oci.bundles import attach_bundle
from lacre.oci.digest import Digest
from lacre.oci.reference import ImageReference
from lacre.oci.registry import RegistryClient
from lacre.sign import SigningSession

Storage = Literal["referrers", "legacy", "both"]
STORAGES: tuple[str, ...] = get_args(Storage)


@dataclass(frozen=True)
class SignedImage:
    """Where the signature (or attestation) of one image digest was stored."""

    image: ImageReference
    """The image, pinned to the digest that was signed."""
    referrer: Digest | None
    """The digest of the referrer manifest holding the bundle (None: not stored so)."""
    legacy_tag: ImageReference | None
    """The ``.sig`` / ``.att`` tag (None: not stored so)."""


class ImageSigner:
    """Signs and attests images in a registry with one signing session."""

    def __init__(
        self,
        client: RegistryClient,
        session: SigningSession,
        *,
        storage: Storage = "both",
        notify: Notify = quiet,
    ) -> None:
        """Sign with ``session``; push through ``client`` into ``storage``."""
        if storage not in STORAGES:
            raise InvalidInput("unknown signature storage", expected=STORAGES, found=storage)
        self.client = client
        self.session = session
        self.storage = storage
        self.notify = notify

    def sign(
        self,
        image: ImageReference,
        *,
        recursive: bool = False,
        annotations: Mapping[str, str] | None = None,
    ) -> list[SignedImage]:
        """Sign ``image`` (and with ``recursive`` every platform image of an index)."""
        found = targets(self.client, image, self.notify, recursive=recursive)
        return [self._sign_one(target, annotations) for target in found]

    def attest(
        self,
        image: ImageReference,
        predicate_type: str,
        predicate: Mapping[str, Any],
        *,
        recursive: bool = False,
    ) -> list[SignedImage]:
        """Attest ``image``: an in-toto statement with its digest as subject."""
        found = targets(self.client, image, self.notify, recursive=recursive)
        return [self._attest_one(target, predicate_type, predicate) for target in found]

    @property
    def _referrers(self) -> bool:
        return self.storage in ("referrers", "both")

    @property
    def _legacy(self) -> bool:
        return self.storage in ("legacy", "both")

    def _sign_one(
        self, image: ImageReference, annotations: Mapping[str, str] | None
    ) -> SignedImage:
        referrer = tag = None
        if self._legacy:
            digest = pinned_digest(image)
            payload = legacy.signature_payload(image, digest, annotations)
            bundle = self.session.sign_blob(payload)
            layer = signature_layer(bundle, payload, self.session.context.trusted_root)
            tag = legacy.attach_signature(self.client, image, layer).image
        if self._referrers:
            bundle = self.session.sign_statement(signature_statement(image))
            referrer = attach_bundle(
                self.client, image, bundle.to_bytes(), predicate_type=SIGN_PREDICATE_TYPE
            ).digest
        return SignedImage(image, referrer, tag)

    def _attest_one(
        self, image: ImageReference, predicate_type: str, predicate: Mapping[str, Any]
    ) -> SignedImage:
        bundle = self.session.sign_statement(image_statement(image, predicate_type, predicate))
        referrer = tag = None
        if self._legacy:
            layer = signature_layer(
                bundle,
                envelope_json(bundle),
                self.session.context.trusted_root,
                predicate_type=predicate_type,
            )
            tag = legacy.attach_attestation(self.client, image, layer).image
        if self._referrers:
            referrer = attach_bundle(
                self.client, image, bundle.to_bytes(), predicate_type=predicate_type
            ).digest
        return SignedImage(image, referrer, tag)
