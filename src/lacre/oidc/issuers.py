"""Issuer configuration: which OIDC issuers are trusted, and how their claims map to a certificate.

An :class:`IssuerConfig` names an issuer (an exact URL, or a meta-issuer pattern in which
each ``*`` matches ``[-_a-zA-Z0-9]+``), its identity type, the audience its tokens must
carry and the type-specific settings. CI providers map claims to Fulcio extensions with a
:class:`ClaimTemplate`, which is configuration: ``{claim}`` placeholders, and
``{claim|a=x,b=y}`` to translate a claim's value through a small table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit

from lacre.errors import ConfigError, InvalidInput
from lacre.record import field_names
from lacre.x509.fulcio import FulcioClaims


class TokenError(InvalidInput):
    """An identity token was refused; the message names the check that failed."""


class IssuerType(StrEnum):
    """How an issuer's tokens become a certificate identity."""

    EMAIL = "email"
    GITHUB_WORKFLOW = "github-workflow"
    GITLAB_PIPELINE = "gitlab-pipeline"
    CI_PROVIDER = "ci-provider"
    KUBERNETES = "kubernetes"
    SPIFFE = "spiffe"
    URI = "uri"
    USERNAME = "username"


_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.]+)(?:\|([^{}]*))?\}")
_TEMPLATE_FIELDS = frozenset(field_names(FulcioClaims)) - {
    "issuer",
    "token_subject",
}


@dataclass(frozen=True, kw_only=True)
class ClaimTemplate:
    """Claim -> certificate mapping of a CI provider.

    ``san`` builds the URI Subject Alternative Name; ``extensions`` maps
    :class:`~lacre.x509.fulcio.FulcioClaims` field names to templates; ``defaults``
    supplies placeholder values that are not claims (e.g. ``url``). An extension whose
    template refers to a missing or empty claim is omitted; a SAN that does is an error.
    """

    san: str
    extensions: Mapping[str, str] = field(default_factory=dict)
    defaults: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Refuse unknown extension names and templates without placeholders in the SAN."""
        unknown = sorted(set(self.extensions) - _TEMPLATE_FIELDS)
        if unknown:
            raise ConfigError(
                "claim template names unknown extensions",
                expected=f"names among {', '.join(sorted(_TEMPLATE_FIELDS))}",
                found=", ".join(unknown),
            )
        if not _PLACEHOLDER.search(self.san):
            raise ConfigError("claim template SAN uses no claim", found=self.san)

    def render(self, template: str, claims: Mapping[str, object]) -> str | None:
        """Fill ``template`` from ``defaults`` and scalar ``claims``; None if any is empty."""
        missing = False

        def substitute(match: re.Match[str]) -> str:
            nonlocal missing
            name, table = match.group(1), match.group(2)
            value = self.defaults.get(name)
            if value is None:
                value = _scalar(claims.get(name))
            if value and table is not None:
                value = _translate(table).get(value)
            if not value:
                missing = True
                return ""
            return value

        result = _PLACEHOLDER.sub(substitute, template)
        return None if missing else result

    def extension_values(self, claims: Mapping[str, object]) -> dict[str, str]:
        """Render every extension; omit those whose value would be empty."""
        values = {name: self.render(text, claims) for name, text in self.extensions.items()}
        return {name: value for name, value in values.items() if value}


def _scalar(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str | int):
        return str(value)
    return None


def _translate(table: str) -> dict[str, str]:
    pairs = (item.split("=", 1) for item in table.split(",") if "=" in item)
    return {key.strip(): value.strip() for key, value in pairs}


GITHUB_TEMPLATE = ClaimTemplate(
    san="{url}/{job_workflow_ref}",
    defaults={"url": "https://github.com"},
    extensions={
        "github_workflow_trigger": "{event_name}",
        "github_workflow_sha": "{sha}",
        "github_workflow_name": "{workflow}",
        "github_workflow_repository": "{repository}",
        "github_workflow_ref": "{ref}",
        "build_signer_uri": "{url}/{job_workflow_ref}",
        "build_signer_digest": "{job_workflow_sha}",
        "runner_environment": "{runner_environment}",
        "source_repository_uri": "{url}/{repository}",
        "source_repository_digest": "{sha}",
        "source_repository_ref": "{ref}",
        "source_repository_identifier": "{repository_id}",
        "source_repository_owner_uri": "{url}/{repository_owner}",
        "source_repository_owner_identifier": "{repository_owner_id}",
        "build_config_uri": "{url}/{workflow_ref}",
        "build_config_digest": "{workflow_sha}",
        "build_trigger": "{event_name}",
        "run_invocation_uri": "{url}/{repository}/actions/runs/{run_id}/attempts/{run_attempt}",
        "source_repository_visibility_at_signing": "{repository_visibility}",
        "deployment_environment": "{environment}",
    },
)
"""GitHub Actions: SAN and ``.9`` are the (reusable) workflow's URL; see protocols §1.6/§1.8."""

GITLAB_TEMPLATE = ClaimTemplate(
    san="https://{ci_config_ref_uri}",
    defaults={"url": "https://gitlab.com"},
    extensions={
        "build_signer_uri": "https://{ci_config_ref_uri}",
        "build_signer_digest": "{ci_config_sha}",
        "runner_environment": "{runner_environment}",
        "source_repository_uri": "{url}/{project_path}",
        "source_repository_digest": "{sha}",
        "source_repository_ref": "refs/{ref_type|branch=heads,tag=tags}/{ref}",
        "source_repository_identifier": "{project_id}",
        "source_repository_owner_uri": "{url}/{namespace_path}",
        "source_repository_owner_identifier": "{namespace_id}",
        "build_config_uri": "https://{ci_config_ref_uri}",
        "build_config_digest": "{ci_config_sha}",
        "build_trigger": "{pipeline_source}",
        "run_invocation_uri": "{url}/{project_path}/-/jobs/{job_id}",
        "source_repository_visibility_at_signing": "{project_visibility}",
        "deployment_environment": "{environment}",
    },
)
"""GitLab CI: ``ci_config_ref_uri`` starts with the host (``gitlab.com/g/p//.gitlab-ci.yml@…``).

For a self-hosted GitLab, copy it with ``dataclasses.replace(GITLAB_TEMPLATE, defaults=…)``.
"""

_BUILTIN_TEMPLATES = {
    IssuerType.GITHUB_WORKFLOW: GITHUB_TEMPLATE,
    IssuerType.GITLAB_PIPELINE: GITLAB_TEMPLATE,
}


@dataclass(frozen=True, kw_only=True)
class IssuerConfig:
    """One trusted OIDC issuer.

    ``url`` is the exact ``iss`` or a meta-issuer pattern (``https://oidc.eks.*.amazonaws.com/id/*``).
    ``subject_domain`` is required by ``uri`` (with a scheme) and ``username`` (without one)
    issuers; ``spiffe_trust_domain`` by ``spiffe`` issuers. ``issuer_claim`` (email issuers
    only) is a dotted claim path whose value replaces ``iss`` in the certificate, as for a
    federating IdP (``federated_claims.connector_id``). ``template`` defaults to the built-in
    one for GitHub and GitLab and is required for ``ci-provider``.
    """

    url: str
    type: IssuerType
    client_id: str = "sigstore"
    subject_domain: str | None = None
    spiffe_trust_domain: str | None = None
    issuer_claim: str | None = None
    skip_email_verification: bool = False
    template: ClaimTemplate | None = None

    def __post_init__(self) -> None:
        """Check the type-specific settings (config-time constraints of protocols §1.6)."""
        try:
            object.__setattr__(self, "type", IssuerType(self.type))
        except ValueError:
            raise ConfigError(
                f"issuer {self.url}: unknown type",
                expected=", ".join(t.value for t in IssuerType),
                found=self.type,
            ) from None
        if not self.url or not self.client_id:
            raise ConfigError("issuer needs a URL and a client id", found=repr(self))
        if self.template is None and self.type in _BUILTIN_TEMPLATES:
            object.__setattr__(self, "template", _BUILTIN_TEMPLATES[self.type])
        if self.type is IssuerType.CI_PROVIDER and self.template is None:
            raise ConfigError(f"ci-provider issuer {self.url} needs a claim template")
        if self.issuer_claim is not None and self.type is not IssuerType.EMAIL:
            raise ConfigError(
                f"issuer {self.url}: only email issuers may use an issuer claim",
                found=self.type.value,
            )
        if self.type is IssuerType.SPIFFE and not self.spiffe_trust_domain:
            raise ConfigError(f"spiffe issuer {self.url} needs a SPIFFE trust domain")
        if self.type in (IssuerType.URI, IssuerType.USERNAME):
            self._check_subject_domain()

    @property
    def is_pattern(self) -> bool:
        """Whether ``url`` is a meta-issuer pattern rather than an exact issuer."""
        return "*" in self.url

    def matches(self, issuer: str) -> bool:
        """Whether the token issuer ``issuer`` is this configuration's."""
        if not self.is_pattern:
            return issuer == self.url
        parts = (re.escape(part) for part in self.url.split("*"))
        return re.fullmatch("[-_a-zA-Z0-9]+".join(parts), issuer) is not None

    def _check_subject_domain(self) -> None:
        domain = self.subject_domain
        if not domain:
            raise ConfigError(f"{self.type.value} issuer {self.url} needs a subject domain")
        has_scheme = "://" in domain
        if has_scheme != (self.type is IssuerType.URI):
            expected = "a scheme" if self.type is IssuerType.URI else "no scheme"
            raise ConfigError(
                f"{self.type.value} issuer {self.url}: subject domain must have {expected}",
                found=domain,
            )
        domain_host = urlsplit(domain if has_scheme else f"//{domain}").hostname or ""
        issuer = urlsplit(self.url)
        if has_scheme and urlsplit(domain).scheme != issuer.scheme:
            raise ConfigError(
                f"issuer {self.url}: subject domain scheme differs",
                expected=issuer.scheme,
                found=urlsplit(domain).scheme,
            )
        if _registered(domain_host) != _registered(issuer.hostname or ""):
            raise ConfigError(
                f"issuer {self.url}: subject domain is not under the issuer's domain",
                expected=_registered(issuer.hostname or ""),
                found=_registered(domain_host),
            )


def _registered(host: str) -> str:
    return ".".join(host.lower().split(".")[-2:])


class Issuers:
    """The trusted issuers; exact URLs win over meta-issuer patterns."""

    def __init__(self, configs: Iterable[IssuerConfig]) -> None:
        """Index ``configs``; a URL configured twice is a ConfigError."""
        self._exact: dict[str, IssuerConfig] = {}
        self._patterns: list[IssuerConfig] = []
        seen: set[str] = set()
        for config in configs:
            if config.url in seen:
                raise ConfigError(f"issuer {config.url} is configured twice")
            seen.add(config.url)
            if config.is_pattern:
                self._patterns.append(config)
            else:
                self._exact[config.url] = config

    @property
    def configs(self) -> list[IssuerConfig]:
        """Every configured issuer: exact URLs first, then patterns."""
        return [*self._exact.values(), *self._patterns]

    def match(self, issuer: str) -> IssuerConfig:
        """Return the configuration of ``issuer``; raise TokenError if none matches."""
        config = self._exact.get(issuer)
        if config is not None:
            return config
        for pattern in self._patterns:
            if pattern.matches(issuer):
                return pattern
        configured = [config.url for config in self.configs]
        shown = ", ".join(configured[:8]) + (", ..." if len(configured) > 8 else "")
        raise TokenError(
            f"issuer {issuer} not configured", expected=f"one of {shown}" if shown else "none"
        )


def configuration_entry(config: IssuerConfig) -> dict[str, object]:
    """The issuer as Fulcio's ``GET /api/v2/configuration`` describes it."""
    entry: dict[str, object] = {
        ("wildcardIssuerUrl" if config.is_pattern else "issuerUrl"): config.url,
        "audience": config.client_id,
        "challengeClaim": "email" if config.type is IssuerType.EMAIL else "sub",
        "issuerType": config.type.value,
    }
    if config.subject_domain:
        entry["subjectDomain"] = config.subject_domain
    if config.spiffe_trust_domain:
        entry["spiffeTrustDomain"] = config.spiffe_trust_domain
    if config.skip_email_verification:
        entry["skipEmailVerification"] = True
    return entry
