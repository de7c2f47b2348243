"""The offline bundle verifier: every check of the verification algorithm, in order.

:meth:`Verifier.verify` raises :class:`~lacre.errors.VerificationError` naming
the failed check with what was expected and what was found, and returns a
:class:`VerificationResult` only when everything holds. It never does I/O.
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509

from lacre.errors import InvalidInput, VerificationError
from lacre.keys import PublicKey
from lacre.models.bundle import Bundle
from lacre.models.trust_reader import TrustedRoot
from lacre.record import record
from lacre.verify.anchors import TrustAnchors
from lacre.verify.artifact import Artifact
from lacre.verify.bodies import Signed
from lacre.verify.chain import PathCertificate
from lacre.verify.evidence import Evidence, Thresholds, check_entries, establish_times
from lacre.verify.keyless import check_certificate, load_leaf
from lacre.verify.policy import ManagedKey, Policy
from lacre.verify.signature import check_message_digest, verify_dsse, verify_message_signature
from lacre.verify.timestamps import VerifiedTime


@record(kw_only=True)
class VerificationResult:
    """What a successful verification established."""

    bundle: Bundle
    certificate: x509.Certificate | None
    key: PublicKey
    times: tuple[VerifiedTime, ...]
    log_ids: tuple[bytes, ...]


class Verifier:
    """Verifies Sigstore bundles against one trusted root, offline."""

    def __init__(self, trusted_root: TrustedRoot, *, thresholds: Thresholds | None = None) -> None:
        """Verify against ``trusted_root`` with the given (default: 1/1/1) thresholds."""
        self.trusted_root = trusted_root
        self.thresholds = thresholds or Thresholds()
        self.anchors = TrustAnchors(trusted_root)

    @classmethod
    def from_file(cls, path: Path, *, thresholds: Thresholds | None = None) -> Verifier:
        """A verifier for the ``trusted_root.json`` at ``path``."""
        return cls(TrustedRoot.parse(Path(path).read_bytes()), thresholds=thresholds)

    @classmethod
    def public_good(cls, *, thresholds: Thresholds | None = None) -> Verifier:
        """A verifier for the Sigstore public-good instance (its embedded trusted root)."""
        from lacre.verify.roots import public_good_trusted_root

        return cls(public_good_trusted_root(), thresholds=thresholds)

    def verify(
        self,
        bundle: Bundle | bytes | str,
        artifact: Artifact | bytes | str,
        policy: Policy | ManagedKey,
    ) -> VerificationResult:
        """Verify ``bundle`` for ``artifact`` (bytes, or ``sha256:<hex>``) under ``policy``."""
        parsed = bundle if isinstance(bundle, Bundle) else Bundle.parse(bundle)
        target = _artifact(artifact)
        # The artifact and its signature first: a wrong artifact, a changed signature or a
        # wrong key is named as such, not by a later check it fails too.
        if parsed.message_signature is not None:
            check_message_digest(parsed.message_signature, target)
        leaf, key = _signer(parsed, policy)
        _check_signature(parsed, key, target)
        certificate = None if leaf is None else leaf.certificate
        evidence = Evidence(bundle=parsed, anchors=self.anchors, thresholds=self.thresholds)
        times = establish_times(evidence)
        if leaf is not None:
            check_certificate(leaf, times, self.anchors, ctlog_threshold=self.thresholds.ctlogs)
        log_ids = check_entries(evidence, Signed(parsed, target, key, certificate))
        if certificate is not None and not isinstance(policy, ManagedKey):
            policy.check(certificate)
        return VerificationResult(
            bundle=parsed, certificate=certificate, key=key, times=tuple(times), log_ids=log_ids
        )


def _check_signature(bundle: Bundle, key: PublicKey, artifact: Artifact) -> None:
    if bundle.dsse_envelope is not None:
        verify_dsse(bundle.dsse_envelope, key, artifact)
    else:
        assert bundle.message_signature is not None
        verify_message_signature(bundle.message_signature, key, artifact)


def _artifact(artifact: Artifact | bytes | str) -> Artifact:
    if isinstance(artifact, Artifact):
        return artifact
    if isinstance(artifact, bytes):
        return Artifact.from_bytes(artifact)
    return Artifact.from_digest(artifact)


def _signer(
    bundle: Bundle, policy: Policy | ManagedKey
) -> tuple[PathCertificate | None, PublicKey]:
    material = bundle.material
    if isinstance(policy, ManagedKey):
        if material.public_key_hint is None:
            raise VerificationError(
                "bundle is signed with a certificate, not a managed key",
                expected="a bundle with a public key hint",
                found="a signing certificate",
            )
        return None, policy.key
    if material.public_key_hint is not None:
        raise VerificationError(
            "bundle is signed with a managed key, not a certificate",
            expected="a signing certificate (or verify with the public key)",
            found=f"a public key hint {material.public_key_hint!r}",
        )
    leaf = load_leaf(material.certificates)
    try:
        return leaf, PublicKey.from_certificate(leaf.certificate)
    except InvalidInput as exc:
        raise VerificationError(f"signing certificate key is unusable: {exc}") from exc
