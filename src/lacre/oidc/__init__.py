"""OIDC identity tokens: issuer configuration, key discovery, verification and claim mapping.

The core is pure: network I/O happens only through the ``fetch`` callable given to
:class:`CachedJwks` (or any other :class:`JwksSource`).
"""

from lacre.oidc.issuers import (
    GITHUB_TEMPLATE,
    GITLAB_TEMPLATE,
    ClaimTemplate,
    IssuerConfig,
    Issuers,
    IssuerType,
    TokenError,
)
from lacre.oidc.jwks import CachedJwks, Jwk, JwksSource, discovery_url, parse_jwks
from lacre.oidc.principal import Principal, SanKind, SubjectAltName, principal_for
from lacre.oidc.verify import (
    ALLOWED_ALGORITHMS,
    MAX_TOKEN_BYTES,
    TokenTooLarge,
    TokenVerifier,
    VerifiedToken,
)

__all__ = [
    "ALLOWED_ALGORITHMS",
    "GITHUB_TEMPLATE",
    "GITLAB_TEMPLATE",
    "MAX_TOKEN_BYTES",
    "CachedJwks",
    "ClaimTemplate",
    "IssuerConfig",
    "IssuerType",
    "Issuers",
    "Jwk",
    "JwksSource",
    "Principal",
    "SanKind",
    "SubjectAltName",
    "TokenError",
    "TokenTooLarge",
    "TokenVerifier",
    "VerifiedToken",
    "discovery_url",
    "parse_jwks",
    "principal_for",
]
