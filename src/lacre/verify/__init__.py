"""Offline verification of Sigstore bundles: raises with a reason, never returns False.

Names are imported from their modules when first used (see :mod:`lacre.lazy`).
"""

from typing import TYPE_CHECKING

from lacre.lazy import lazy_exports

if TYPE_CHECKING:
    from lacre.verify.artifact import Artifact
    from lacre.verify.evidence import Thresholds
    from lacre.verify.policy import (
        AllOf,
        AnyOf,
        Claim,
        Identity,
        Issuer,
        ManagedKey,
        Policy,
        github_workflow_name,
        github_workflow_ref,
        github_workflow_repository,
        github_workflow_sha,
        github_workflow_trigger,
    )
    from lacre.verify.roots import public_good_trusted_root
    from lacre.verify.timestamps import VerifiedTime
    from lacre.verify.verifier import VerificationResult, Verifier

__all__ = [
    "AllOf",
    "AnyOf",
    "Artifact",
    "Claim",
    "Identity",
    "Issuer",
    "ManagedKey",
    "Policy",
    "Thresholds",
    "VerificationResult",
    "VerifiedTime",
    "Verifier",
    "github_workflow_name",
    "github_workflow_ref",
    "github_workflow_repository",
    "github_workflow_sha",
    "github_workflow_trigger",
    "public_good_trusted_root",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "Artifact": "artifact",
        "Thresholds": "evidence",
        **dict.fromkeys(
            [
                "AllOf",
                "AnyOf",
                "Claim",
                "Identity",
                "Issuer",
                "ManagedKey",
                "Policy",
                "github_workflow_name",
                "github_workflow_ref",
                "github_workflow_repository",
                "github_workflow_sha",
                "github_workflow_trigger",
            ],
            "policy",
        ),
        "public_good_trusted_root": "roots",
        "VerifiedTime": "timestamps",
        "VerificationResult": "verifier",
        "Verifier": "verifier",
    },
)
