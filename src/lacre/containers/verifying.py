"""Verifying the signatures and attestations of container images.

Candidates come from both storages (:mod:`~lacre.containers.candidates`):
cosign's legacy tag first — it costs two registry round trips for an image
pinned by digest (the ``.sig`` manifest and its payload) — then the bundles
stored as referrers (referrers API or its fallback tag, then each referrer
manifest and bundle). Both carry evidence checked the same way against the
same trusted root; the first candidate that verifies under the policy ends
the search. If none does, the refusal names the image and each candidate's
failure.

On top of :class:`lacre.verify.Verifier`, a signature must be about this
image: a legacy payload's ``docker-manifest-digest`` must be the image digest,
and a referrer bundle must be a DSSE in-toto statement with the image digest
as subject and the signature predicate type (or, for attestations, the
requested predicate type).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from lacre.containers.candidates import (
    Candidate,
    Failure,
    Found,
    legacy_candidates,
    referrer_candidates,
)
from lacre.containers.statements import (
    SIGN_PREDICATE_TYPE,
    Notify,
    quiet,
)
from lacre.containers.walk import targets
from lacre.dsse import Statement
from lacre.errors import InvalidInput, VerificationError
from lacre.oci import mediatypes as mt
from lacre.oci.reference import ImageReference
from lacre.oci.registry import RegistryClient
from lacre.oci.simplesigning import SimpleSigningPayload
from lacre.verify import ManagedKey, Policy, VerificationResult, Verifier
from lacre.verify.attestation import attested_statement
from lacre.verify.lru import Lru

_MAX_SHOWN_FAILURES = 8
_Verified = tuple[str, str, str]
"""A remembered verification: evidence digest, image digest, predicate type."""


@dataclass(frozen=True)
class ImageVerification:
    """A verified signature or attestation of one image digest."""

    image: ImageReference
    source: str
    """Where the signature that verified was found."""
    result: VerificationResult | None
    """The verifier's result (None when served from the verification cache)."""
    statement: Statement | None = None
    """The verified in-toto statement (attestations and referrer signatures)."""


class ImageVerifier:
    """Verifies images in registries against one trusted root."""

    def __init__(
        self,
        client: RegistryClient,
        verifier: Verifier,
        *,
        repository: ImageReference | None = None,
        notify: Notify = quiet,
        remember: bool = False,
    ) -> None:
        """Read through ``client``; legacy tags from ``repository`` (default: the image's own).

        With ``remember``, candidates that verified are remembered (by evidence
        digest, image digest and policy; the most recent few thousand per
        policy object) and not checked again.
        """
        self.client = client
        self.verifier = verifier
        self.repository = repository
        self.notify = notify
        self._verified: dict[int, tuple[object, Lru[_Verified, bool]]] | None = (
            {} if remember else None
        )

    def verify(
        self, image: ImageReference, policy: Policy | ManagedKey, *, recursive: bool = False
    ) -> list[ImageVerification]:
        """Verify ``image``'s signature (every platform image too, with ``recursive``)."""
        return [
            self._first(target, policy, SIGN_PREDICATE_TYPE, mt.SUFFIX_SIGNATURE, "signature")
            for target in targets(self.client, image, self.notify, recursive=recursive)
        ]

    def verify_attestation(
        self,
        image: ImageReference,
        policy: Policy | ManagedKey,
        predicate_type: str,
        *,
        recursive: bool = False,
    ) -> list[ImageVerification]:
        """Verify an attestation of ``predicate_type`` for ``image``."""
        return [
            self._first(target, policy, predicate_type, mt.SUFFIX_ATTESTATION, "attestation")
            for target in targets(self.client, image, self.notify, recursive=recursive)
        ]

    def _first(
        self,
        image: ImageReference,
        policy: Policy | ManagedKey,
        predicate_type: str,
        suffix: str,
        what: str,
    ) -> ImageVerification:
        failures: list[str] = []
        for found in self._candidates(image, predicate_type, suffix):
            if isinstance(found, Failure):
                failures.append(f"{found.source}: {found.error}")
                continue
            try:
                return self._check(image, found, policy, predicate_type)
            except InvalidInput as exc:
                failures.append(f"{found.source}: {exc}")
        raise _refusal(image, what, predicate_type, failures)

    def _candidates(
        self, image: ImageReference, predicate_type: str, suffix: str
    ) -> Iterator[Found]:
        yield from legacy_candidates(self.client, image, suffix, self.repository)
        yield from referrer_candidates(self.client, image, predicate_type)

    def _check(
        self,
        image: ImageReference,
        candidate: Candidate,
        policy: Policy | ManagedKey,
        predicate_type: str,
    ) -> ImageVerification:
        statement = _claim(image, candidate, predicate_type)
        remembered = self._remembered(policy)
        key = (candidate.key, str(image.digest), predicate_type)
        if remembered is not None and remembered.get(key):
            return ImageVerification(image, candidate.source, None, statement)
        result = self.verifier.verify(candidate.bundle, candidate.artifact, policy)
        if remembered is not None:
            remembered.put(key, True)
        return ImageVerification(image, candidate.source, result, statement)

    def _remembered(self, policy: object) -> Lru[_Verified, bool] | None:
        if self._verified is None:
            return None
        held = self._verified.setdefault(id(policy), (policy, Lru()))
        return held[1]


def _claim(image: ImageReference, candidate: Candidate, predicate_type: str) -> Statement | None:
    """Check that the candidate speaks of ``image`` (and of ``predicate_type``)."""
    if candidate.payload is not None:
        _check_payload(image, candidate.payload)
        return None
    return attested_statement(candidate.bundle.dsse_envelope, predicate_type, "bundle")


def _check_payload(image: ImageReference, payload: bytes) -> None:
    try:
        parsed = SimpleSigningPayload.from_bytes(payload)
    except InvalidInput as exc:
        raise VerificationError(f"the signed payload is malformed: {exc}") from None
    if parsed.manifest_digest != image.digest:
        raise VerificationError(
            "the signature is for another image: payload docker-manifest-digest",
            expected=str(image.digest),
            found=str(parsed.manifest_digest),
        )


def _refusal(
    image: ImageReference, what: str, predicate_type: str, failures: Iterable[str]
) -> VerificationError:
    listed = list(failures)
    if not listed:
        return VerificationError(
            f"no {what} found for {image}",
            expected=f"a {what} ({predicate_type}) in a .sig/.att tag or as a referrer",
            found="nothing attached",
        )
    shown = listed[:_MAX_SHOWN_FAILURES]
    if len(listed) > len(shown):
        shown.append(f"... and {len(listed) - len(shown)} more")
    return VerificationError(
        f"no valid {what} for {image}",
        expected=f"a {what} that verifies under the policy",
        found=f"{len(listed)} candidate(s) refused: " + "; ".join(shown),
    )
