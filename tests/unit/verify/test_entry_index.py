"""A Rekor v2 entry's index must be its inclusion proof's; a Rekor v1 entry's may differ."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lacre.errors import VerificationError
from lacre.models.trust_reader import TrustedRoot
from lacre.verify import AllOf, Identity, Issuer, Verifier
from lacre.verify.roots import public_good_trusted_root

CASES = Path(__file__).resolve().parents[2] / "assets/conformance/bundle-verify"
ARTIFACT = (CASES / "a.txt").read_bytes()
POLICY = AllOf(
    Identity(
        "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
        ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
    ),
    Issuer("https://token.actions.githubusercontent.com"),
)


def _with_entry_index(case: str, index: str | None) -> bytes:
    document = json.loads((CASES / case / "bundle.sigstore.json").read_bytes())
    entry = document["verificationMaterial"]["tlogEntries"][0]
    if index is None:
        del entry["logIndex"]
    else:
        entry["logIndex"] = index
    return json.dumps(document).encode()


@pytest.mark.parametrize("index", ["734", "736", "0", None], ids=["734", "736", "0", "absent"])
def test_a_rekor_v2_entry_index_other_than_its_proofs_is_refused(index: str | None) -> None:
    root = TrustedRoot.parse((CASES / "rekor2-happy-path" / "trusted_root.json").read_bytes())
    verifier = Verifier(root)
    verifier.verify(_with_entry_index("rekor2-happy-path", "735"), ARTIFACT, POLICY)
    with pytest.raises(
        VerificationError,
        match=r"log entry index differs from its inclusion proof's: expected 735, found",
    ):
        verifier.verify(_with_entry_index("rekor2-happy-path", index), ARTIFACT, POLICY)


def test_a_rekor_v1_entry_index_counts_across_shards_and_may_differ() -> None:
    document = json.loads((CASES / "happy-path-v0.3" / "bundle.sigstore.json").read_bytes())
    entry = document["verificationMaterial"]["tlogEntries"][0]
    assert entry["logIndex"] != entry["inclusionProof"]["logIndex"]
    Verifier(public_good_trusted_root()).verify(json.dumps(document).encode(), ARTIFACT, POLICY)
