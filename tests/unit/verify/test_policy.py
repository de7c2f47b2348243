"""Identity, issuer and claim policies and their combinations."""

from __future__ import annotations

import pytest
from cryptography import x509

from lacre.errors import InvalidInput, VerificationError
from lacre.verify import (
    AllOf,
    AnyOf,
    Claim,
    Identity,
    Issuer,
    github_workflow_name,
    github_workflow_ref,
    github_workflow_repository,
    github_workflow_sha,
    github_workflow_trigger,
)
from lacre.verify.policy import san_values
from tests.unit.verify.world import IDENTITY, ISSUER, Leaf


@pytest.fixture(scope="module")
def cert(leaf: Leaf) -> x509.Certificate:
    """The signing certificate of alice@example.com."""
    return leaf.certificate


def test_exact_identity_and_issuer_hold(cert: x509.Certificate) -> None:
    Identity(IDENTITY).check(cert)
    Issuer(ISSUER).check(cert)
    assert san_values(cert) == [IDENTITY]


def test_identity_comparison_is_exact_and_case_sensitive(cert: x509.Certificate) -> None:
    with pytest.raises(VerificationError, match=r"expected Alice@example\.com, found alice@"):
        Identity("Alice@example.com").check(cert)
    with pytest.raises(VerificationError):
        Identity("alice@example.co").check(cert)


def test_regexp_must_match_the_whole_value(cert: x509.Certificate) -> None:
    Identity(r"[a-z]+@example\.com", regexp=True).check(cert)
    Issuer(r"https://issuer\.example\.(test|org)", regexp=True).check(cert)
    with pytest.raises(VerificationError, match=r"expected /alice/"):
        Identity("alice", regexp=True).check(cert)


def test_bad_regexp_is_refused_when_built() -> None:
    with pytest.raises(InvalidInput, match="does not compile"):
        Identity("(unclosed", regexp=True)


def test_github_claims(cert: x509.Certificate) -> None:
    github_workflow_repository("octo/repo").check(cert)
    github_workflow_ref("refs/heads/.*", regexp=True).check(cert)
    with pytest.raises(VerificationError, match="github_workflow_repository mismatch"):
        github_workflow_repository("octo/other").check(cert)
    for absent in (github_workflow_trigger, github_workflow_sha, github_workflow_name):
        with pytest.raises(VerificationError, match="no such extension"):
            absent("x").check(cert)


def test_unknown_claim_name_is_refused() -> None:
    with pytest.raises(InvalidInput, match="unknown certificate claim"):
        Claim("x", name="favourite_colour")


def test_all_of_fails_on_the_first_failing_policy(cert: x509.Certificate) -> None:
    AllOf(Identity(IDENTITY), Issuer(ISSUER)).check(cert)
    with pytest.raises(VerificationError, match="OIDC issuer mismatch"):
        AllOf(Identity(IDENTITY), Issuer("https://x"), Identity("bob@x")).check(cert)


def test_any_of_holds_when_one_holds_and_reports_all_reasons(cert: x509.Certificate) -> None:
    AnyOf(Identity("bob@example.com"), Identity(IDENTITY)).check(cert)
    with pytest.raises(VerificationError) as failure:
        AnyOf(Identity("bob@example.com"), Issuer("https://x")).check(cert)
    assert "bob@example.com" in str(failure.value)
    assert "https://x" in str(failure.value)


def test_empty_combinations_are_refused() -> None:
    with pytest.raises(InvalidInput):
        AllOf()
    with pytest.raises(InvalidInput):
        AnyOf()
