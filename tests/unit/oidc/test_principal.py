"""Principals: SAN, proof-of-possession name and Fulcio extensions for every issuer type."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from cryptography import x509

from lacre.oidc import (
    GITLAB_TEMPLATE,
    ClaimTemplate,
    IssuerConfig,
    IssuerType,
    SanKind,
    TokenError,
    principal_for,
)
from lacre.x509.fulcio import (
    BUILD_SIGNER_URI_OID,
    DEPLOYMENT_ENVIRONMENT_OID,
    ISSUER_OID,
    ISSUER_V2_OID,
    TOKEN_SUBJECT_OID,
    FulcioClaims,
    read_username,
)
from tests.unit.oidc.idp import ISS, Idp, claims, verifier

GITHUB_ISS = "https://token.actions.githubusercontent.com"
GITLAB_ISS = "https://gitlab.com"

GITHUB_CLAIMS: dict[str, Any] = {
    "iss": GITHUB_ISS,
    "sub": "repo:octo/app:ref:refs/heads/main",
    "aud": "sigstore",
    "ref": "refs/heads/main",
    "sha": "a" * 40,
    "repository": "octo/app",
    "repository_owner": "octo",
    "repository_owner_id": "42",
    "repository_id": "4242",
    "repository_visibility": "public",
    "run_id": "1000",
    "run_attempt": "2",
    "workflow": "release",
    "event_name": "push",
    "workflow_ref": "octo/app/.github/workflows/release.yml@refs/heads/main",
    "workflow_sha": "b" * 40,
    "job_workflow_ref": "octo/shared/.github/workflows/build.yml@refs/tags/v1",
    "job_workflow_sha": "c" * 40,
    "runner_environment": "github-hosted",
    "environment": "",
}


def test_email_principal() -> None:
    config = IssuerConfig(url=ISS, type=IssuerType.EMAIL)
    principal = principal_for(config, claims())
    assert principal.name == "alice@example.com"
    assert principal.subject_alt_name.kind is SanKind.EMAIL
    assert principal.subject_alt_name.general_name() == x509.RFC822Name("alice@example.com")
    assert principal.claims == FulcioClaims(issuer=ISS, token_subject="alice-subject")
    oids = [ext.oid for ext in principal.claims.extensions()]
    assert oids == [ISSUER_OID, ISSUER_V2_OID, TOKEN_SUBJECT_OID]


def test_email_with_federated_issuer_claim() -> None:
    config = IssuerConfig(
        url=ISS, type=IssuerType.EMAIL, issuer_claim="federated_claims.connector_id"
    )
    federated = {"connector_id": "https://github.com/login/oauth", "user_id": "1"}
    principal = principal_for(config, claims(federated_claims=federated))
    assert principal.claims.issuer == "https://github.com/login/oauth"
    with pytest.raises(TokenError, match=r"^claim federated_claims.connector_id is missing"):
        principal_for(config, claims())


@pytest.mark.parametrize("email", ["alice", "alice@", "a b@example.com", "a@b@example.com"])
def test_email_must_be_an_address(email: str) -> None:
    config = IssuerConfig(url=ISS, type=IssuerType.EMAIL)
    with pytest.raises(TokenError, match=r"^email claim is not an email address"):
        principal_for(config, claims(email=email))


def test_github_workflow_principal() -> None:
    config = IssuerConfig(url=GITHUB_ISS, type=IssuerType.GITHUB_WORKFLOW)
    principal = principal_for(config, GITHUB_CLAIMS)
    signer = "https://github.com/octo/shared/.github/workflows/build.yml@refs/tags/v1"
    assert principal.name == GITHUB_CLAIMS["sub"]
    assert principal.subject_alt_name.general_name() == x509.UniformResourceIdentifier(signer)
    assert principal.claims == FulcioClaims(
        issuer=GITHUB_ISS,
        github_workflow_trigger="push",
        github_workflow_sha="a" * 40,
        github_workflow_name="release",
        github_workflow_repository="octo/app",
        github_workflow_ref="refs/heads/main",
        build_signer_uri=signer,
        build_signer_digest="c" * 40,
        runner_environment="github-hosted",
        source_repository_uri="https://github.com/octo/app",
        source_repository_digest="a" * 40,
        source_repository_ref="refs/heads/main",
        source_repository_identifier="4242",
        source_repository_owner_uri="https://github.com/octo",
        source_repository_owner_identifier="42",
        build_config_uri="https://github.com/octo/app/.github/workflows/release.yml@refs/heads/main",
        build_config_digest="b" * 40,
        build_trigger="push",
        run_invocation_uri="https://github.com/octo/app/actions/runs/1000/attempts/2",
        source_repository_visibility_at_signing="public",
        deployment_environment=None,
        token_subject=GITHUB_CLAIMS["sub"],
    )
    oids = {ext.oid for ext in principal.claims.extensions()}
    assert BUILD_SIGNER_URI_OID in oids
    assert DEPLOYMENT_ENVIRONMENT_OID not in oids  # empty values are not emitted


def test_github_environment_and_integer_claims() -> None:
    config = IssuerConfig(url=GITHUB_ISS, type=IssuerType.GITHUB_WORKFLOW)
    values = {**GITHUB_CLAIMS, "environment": "prod", "run_id": 7, "run_attempt": 1}
    principal = principal_for(config, values)
    assert principal.claims.deployment_environment == "prod"
    assert principal.claims.run_invocation_uri == (
        "https://github.com/octo/app/actions/runs/7/attempts/1"
    )


def test_github_without_job_workflow_ref_is_refused() -> None:
    config = IssuerConfig(url=GITHUB_ISS, type=IssuerType.GITHUB_WORKFLOW)
    values = {k: v for k, v in GITHUB_CLAIMS.items() if k != "job_workflow_ref"}
    with pytest.raises(TokenError, match=r"^github-workflow token lacks a claim its SAN needs"):
        principal_for(config, values)


GITLAB_CLAIMS: dict[str, Any] = {
    "iss": GITLAB_ISS,
    "sub": "project_path:grp/proj:ref_type:branch:ref:main",
    "aud": "sigstore",
    "namespace_id": "10",
    "namespace_path": "grp",
    "project_id": "20",
    "project_path": "grp/proj",
    "project_visibility": "private",
    "pipeline_source": "push",
    "ref": "main",
    "ref_type": "branch",
    "sha": "d" * 40,
    "job_id": "30",
    "runner_environment": "gitlab-hosted",
    "ci_config_ref_uri": "gitlab.com/grp/proj//.gitlab-ci.yml@refs/heads/main",
    "ci_config_sha": "e" * 40,
}


def test_gitlab_pipeline_principal() -> None:
    config = IssuerConfig(url=GITLAB_ISS, type=IssuerType.GITLAB_PIPELINE)
    principal = principal_for(config, GITLAB_CLAIMS)
    config_uri = "https://gitlab.com/grp/proj//.gitlab-ci.yml@refs/heads/main"
    assert principal.subject_alt_name.value == config_uri
    assert principal.name == GITLAB_CLAIMS["sub"]
    fulcio = principal.claims
    assert fulcio.build_signer_uri == fulcio.build_config_uri == config_uri
    assert fulcio.build_signer_digest == fulcio.build_config_digest == "e" * 40
    assert fulcio.source_repository_uri == "https://gitlab.com/grp/proj"
    assert fulcio.source_repository_ref == "refs/heads/main"
    assert fulcio.source_repository_owner_uri == "https://gitlab.com/grp"
    assert fulcio.source_repository_identifier == "20"
    assert fulcio.source_repository_owner_identifier == "10"
    assert fulcio.run_invocation_uri == "https://gitlab.com/grp/proj/-/jobs/30"
    assert fulcio.build_trigger == "push"
    assert fulcio.source_repository_visibility_at_signing == "private"
    assert fulcio.runner_environment == "gitlab-hosted"
    assert fulcio.github_workflow_ref is None
    assert fulcio.token_subject == GITLAB_CLAIMS["sub"]


def test_gitlab_tag_ref_and_unknown_ref_type() -> None:
    config = IssuerConfig(url=GITLAB_ISS, type=IssuerType.GITLAB_PIPELINE)
    tag = principal_for(config, {**GITLAB_CLAIMS, "ref_type": "tag", "ref": "v1"})
    assert tag.claims.source_repository_ref == "refs/tags/v1"
    odd = principal_for(config, {**GITLAB_CLAIMS, "ref_type": "mystery"})
    assert odd.claims.source_repository_ref is None


def test_self_hosted_gitlab_template() -> None:
    template = dataclasses.replace(GITLAB_TEMPLATE, defaults={"url": "https://git.corp.example"})
    config = IssuerConfig(
        url="https://git.corp.example", type=IssuerType.GITLAB_PIPELINE, template=template
    )
    values = {**GITLAB_CLAIMS, "ci_config_ref_uri": "git.corp.example/grp/proj//ci.yml@refs/x"}
    principal = principal_for(config, values)
    assert principal.subject_alt_name.value == "https://git.corp.example/grp/proj//ci.yml@refs/x"
    assert principal.claims.source_repository_uri == "https://git.corp.example/grp/proj"


def test_ci_provider_with_custom_template() -> None:
    template = ClaimTemplate(
        san="https://ci.example/{pipeline}", extensions={"build_trigger": "{trigger}"}
    )
    config = IssuerConfig(url=ISS, type=IssuerType.CI_PROVIDER, template=template)
    principal = principal_for(config, claims(pipeline="p/1", trigger="manual"))
    assert principal.subject_alt_name.value == "https://ci.example/p/1"
    assert principal.claims.build_trigger == "manual"


def k8s_claims(namespace: str = "default", account: str = "builder") -> dict[str, Any]:
    return claims(
        **{
            "kubernetes.io": {
                "namespace": namespace,
                "serviceaccount": {"name": account, "uid": "u-1"},
            }
        },
        sub=f"system:serviceaccount:{namespace}:{account}",
    )


def test_kubernetes_principal() -> None:
    config = IssuerConfig(url=ISS, type=IssuerType.KUBERNETES)
    principal = principal_for(config, k8s_claims())
    assert principal.subject_alt_name.value == (
        "https://kubernetes.io/namespaces/default/serviceaccounts/builder"
    )
    assert principal.name == "system:serviceaccount:default:builder"
    assert principal.claims == FulcioClaims(issuer=ISS, token_subject=principal.name)


@pytest.mark.parametrize(("namespace", "account"), [("de/fault", "b"), ("ns", ""), ("NS", "b")])
def test_kubernetes_names_are_checked(namespace: str, account: str) -> None:
    config = IssuerConfig(url=ISS, type=IssuerType.KUBERNETES)
    with pytest.raises(TokenError):
        principal_for(config, k8s_claims(namespace, account))


def test_kubernetes_without_claims_is_refused() -> None:
    config = IssuerConfig(url=ISS, type=IssuerType.KUBERNETES)
    with pytest.raises(TokenError, match=r"^claim kubernetes.io.namespace is missing"):
        principal_for(config, claims())


SPIFFE = IssuerConfig(url=ISS, type=IssuerType.SPIFFE, spiffe_trust_domain="example.org")


def test_spiffe_principal() -> None:
    principal = principal_for(SPIFFE, claims(sub="spiffe://example.org/ns/prod/sa/api"))
    assert principal.subject_alt_name.kind is SanKind.URI
    assert principal.subject_alt_name.value == "spiffe://example.org/ns/prod/sa/api"
    assert principal.claims.token_subject == "spiffe://example.org/ns/prod/sa/api"


@pytest.mark.parametrize(
    ("subject", "match"),
    [
        ("spiffe://other.org/ns/x", r"^SPIFFE ID is outside the trust domain: expected example"),
        ("spiffe://example.org.evil/x", r"outside the trust domain"),
        ("https://example.org/x", r"^subject is not a SPIFFE ID"),
        ("spiffe://example.org", r"^subject is not a SPIFFE ID"),
        ("spiffe://example.org/x?q=1", r"has a query, fragment, port or user"),
    ],
)
def test_spiffe_refusals(subject: str, match: str) -> None:
    with pytest.raises(TokenError, match=match):
        principal_for(SPIFFE, claims(sub=subject))


URI = IssuerConfig(
    url="https://accounts.example.com", type=IssuerType.URI, subject_domain="https://example.com"
)


def test_uri_principal() -> None:
    principal = principal_for(URI, claims(sub="https://example.com/users/alice"))
    assert principal.subject_alt_name.general_name() == x509.UniformResourceIdentifier(
        "https://example.com/users/alice"
    )
    assert principal.name == "https://example.com/users/alice"


@pytest.mark.parametrize(
    "subject",
    [
        "https://evil.com/users/a",
        "http://example.com/a",
        "alice@example.com",
        "https://a@example.com/",
    ],
)
def test_uri_refusals(subject: str) -> None:
    with pytest.raises(TokenError):
        principal_for(URI, claims(sub=subject))


USERNAME = IssuerConfig(url=ISS, type=IssuerType.USERNAME, subject_domain="issuer.example")


def test_username_principal() -> None:
    principal = principal_for(USERNAME, claims(sub="alice"))
    assert principal.subject_alt_name.kind is SanKind.USERNAME
    assert principal.subject_alt_name.value == "alice!issuer.example"
    name = principal.subject_alt_name.general_name()
    assert isinstance(name, x509.OtherName)
    assert read_username(name) == "alice!issuer.example"
    assert principal.name == "alice"
    assert principal.claims == FulcioClaims(issuer=ISS, token_subject="alice")


@pytest.mark.parametrize("subject", ["al!ce", "alice@example.com"])
def test_username_refusals(subject: str) -> None:
    with pytest.raises(TokenError, match=r"^username subject must contain neither"):
        principal_for(USERNAME, claims(sub=subject))


def test_verifier_principal_end_to_end() -> None:
    idp = Idp(GITHUB_ISS)
    config = IssuerConfig(url=GITHUB_ISS, type=IssuerType.GITHUB_WORKFLOW)
    check, _ = verifier(idp, config)
    token = idp.sign({**claims(), **GITHUB_CLAIMS})
    principal = check.principal(token)
    assert principal.claims.issuer == GITHUB_ISS
    assert principal.subject_alt_name.value.startswith("https://github.com/octo/shared/")
