"""Issuer configuration: validation, exact and meta-issuer matching, claim templates."""

from __future__ import annotations

import pytest

from lacre.errors import ConfigError
from lacre.oidc import GITHUB_TEMPLATE, ClaimTemplate, IssuerConfig, Issuers, IssuerType, TokenError
from tests.unit.oidc.idp import Idp, claims, verifier

EKS = "https://oidc.eks.*.amazonaws.com/id/*"


@pytest.mark.parametrize(
    ("issuer", "matches"),
    [
        ("https://oidc.eks.us-west-2.amazonaws.com/id/ABC123", True),
        ("https://oidc.eks.eu_1.amazonaws.com/id/x", True),
        ("https://oidc.eks.a.b.amazonaws.com/id/x", False),
        ("https://oidc.eks.us-west-2.amazonaws.com/id/", False),
        ("https://oidc.eks.us-west-2.amazonaws.com/id/ABC/extra", False),
        ("https://oidc.eks.us-west-2.amazonawsXcom/id/ABC", False),
        ("https://oidc.eks.us-west-2.amazonaws.com/id/ABC\n", False),
        ("xhttps://oidc.eks.r.amazonaws.com/id/A", False),
    ],
)
def test_meta_issuer_pattern(issuer: str, matches: bool) -> None:
    config = IssuerConfig(url=EKS, type=IssuerType.KUBERNETES)
    assert config.is_pattern
    assert config.matches(issuer) is matches


def test_exact_match_wins_over_pattern() -> None:
    exact = IssuerConfig(url="https://oidc.eks.r.amazonaws.com/id/A", type=IssuerType.EMAIL)
    pattern = IssuerConfig(url=EKS, type=IssuerType.KUBERNETES)
    issuers = Issuers([pattern, exact])
    assert issuers.match("https://oidc.eks.r.amazonaws.com/id/A") is exact
    assert issuers.match("https://oidc.eks.r.amazonaws.com/id/B") is pattern
    with pytest.raises(
        TokenError,
        match=r"^issuer https://elsewhere not configured: expected one of https://oidc.eks",
    ):
        issuers.match("https://elsewhere")


def test_meta_issuer_end_to_end_discovers_the_concrete_issuer() -> None:
    concrete = "https://oidc.eks.us-east-1.amazonaws.com/id/CLUSTER"
    idp = Idp(concrete)
    check, _ = verifier(idp, IssuerConfig(url=EKS, type=IssuerType.KUBERNETES))
    k8s = {"namespace": "ci", "serviceaccount": {"name": "bot"}}
    principal = check.principal(idp.sign(claims(iss=concrete, **{"kubernetes.io": k8s})))
    assert principal.claims.issuer == concrete
    assert idp.calls[f"{concrete}/.well-known/openid-configuration"] == 1


def test_issuer_configured_twice() -> None:
    config = IssuerConfig(url="https://a.example", type=IssuerType.EMAIL)
    with pytest.raises(ConfigError, match="configured twice"):
        Issuers([config, config])


def test_type_from_string_and_defaults() -> None:
    config = IssuerConfig(url="https://a.example", type="github-workflow")  # type: ignore[arg-type]
    assert config.type is IssuerType.GITHUB_WORKFLOW
    assert config.template is GITHUB_TEMPLATE
    assert config.client_id == "sigstore"
    with pytest.raises(ConfigError, match="unknown type"):
        IssuerConfig(url="https://a.example", type="bogus")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"type": IssuerType.SPIFFE}, "needs a SPIFFE trust domain"),
        ({"type": IssuerType.CI_PROVIDER}, "needs a claim template"),
        ({"type": IssuerType.URI}, "needs a subject domain"),
        ({"type": IssuerType.URI, "subject_domain": "a.example"}, "must have a scheme"),
        ({"type": IssuerType.USERNAME, "subject_domain": "https://a.example"}, "no scheme"),
        ({"type": IssuerType.URI, "subject_domain": "http://a.example"}, "scheme differs"),
        ({"type": IssuerType.URI, "subject_domain": "https://evil.example"}, "not under"),
        ({"type": IssuerType.USERNAME, "subject_domain": "other.test"}, "not under"),
        ({"type": IssuerType.KUBERNETES, "issuer_claim": "x"}, "only email issuers"),
        ({"type": IssuerType.EMAIL, "client_id": ""}, "needs a URL and a client id"),
    ],
)
def test_config_time_constraints(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        IssuerConfig(url="https://idp.a.example", **kwargs)  # type: ignore[arg-type]


def test_subject_domain_under_the_issuer_domain_is_accepted() -> None:
    IssuerConfig(
        url="https://idp.a.example", type=IssuerType.URI, subject_domain="https://a.example"
    )
    IssuerConfig(
        url="https://idp.a.example", type=IssuerType.USERNAME, subject_domain="x.a.example"
    )


def test_template_validation() -> None:
    with pytest.raises(ConfigError, match="unknown extensions: expected names among"):
        ClaimTemplate(san="{x}", extensions={"issuer": "{iss}"})
    with pytest.raises(ConfigError, match="SAN uses no claim"):
        ClaimTemplate(san="https://fixed.example")


def test_template_rendering() -> None:
    template = ClaimTemplate(san="{url}/{a}", defaults={"url": "https://u"})
    assert template.render("{url}/{a}", {"a": "x"}) == "https://u/x"
    assert template.render("{a}-{b}", {"a": "x", "b": 3}) == "x-3"
    assert template.render("{a}", {"a": True}) is None
    assert template.render("{a}", {"a": {"nested": 1}}) is None
    assert template.render("{a}", {}) is None
    assert template.render("{k|on=yes,off=no}", {"k": "off"}) == "no"
    assert template.render("{k|on=yes}", {"k": "maybe"}) is None


def test_configuration_entries_describe_patterns_and_domains() -> None:
    from lacre.oidc.issuers import configuration_entry

    pattern = IssuerConfig(url="https://oidc.eks.*.amazonaws.com/id/*", type=IssuerType.KUBERNETES)
    assert configuration_entry(pattern) == {
        "wildcardIssuerUrl": "https://oidc.eks.*.amazonaws.com/id/*",
        "audience": "sigstore",
        "challengeClaim": "sub",
        "issuerType": "kubernetes",
    }
    spiffe = IssuerConfig(
        url="https://spire.example.com",
        type=IssuerType.SPIFFE,
        spiffe_trust_domain="example.com",
    )
    assert configuration_entry(spiffe)["spiffeTrustDomain"] == "example.com"
    assert Issuers([pattern, spiffe]).configs == [spiffe, pattern]
