"""A built-in OIDC issuer for development and air-gapped sites.

:class:`DevIssuer` mints ES256 identity tokens for any email address it is asked for,
without authentication: it is meant for a server running in development mode, or a
closed network where the operator hands tokens out. It publishes the usual discovery
document and JWKS, and offers an in-process :class:`~lacre.oidc.jwks.JwksSource` so the
server's own token verifier needs no HTTP round trip to itself.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Callable, Sequence

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from lacre.errors import ConfigError, InvalidInput
from lacre.keys import SoftwareSigner
from lacre.oidc.issuers import IssuerConfig, IssuerType
from lacre.oidc.jwks import Jwk, JwksSource

ALGORITHM = "ES256"
"""The only JWS algorithm the development issuer signs with."""

MAX_LIFETIME_S = 3600
"""Longest token lifetime, in seconds, the development issuer accepts."""

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_MAX_EMAIL_LENGTH = 254
_MAX_AUDIENCE_LENGTH = 256


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class _InProcessJwks:
    """The development issuer's key, served to a token verifier without HTTP."""

    def __init__(self, issuer_url: str, jwk: Jwk) -> None:
        self._issuer_url = issuer_url
        self._jwk = jwk

    def keys(self, issuer: str) -> Sequence[Jwk]:
        """The issuer's single key, or nothing for any other issuer."""
        return (self._jwk,) if issuer == self._issuer_url else ()

    def refresh(self, issuer: str) -> bool:
        """Nothing to re-fetch: the key never changes during the process."""
        return False


class DevIssuer:
    """An OIDC issuer that mints email identity tokens on request (development only)."""

    def __init__(
        self, issuer_url: str, signer: SoftwareSigner, *, clock: Callable[[], float] = time.time
    ) -> None:
        """Issue as ``issuer_url`` with ``signer`` (an ECDSA P-256 key); ``clock`` is Unix time."""
        private_key = signer.private_key
        if not isinstance(private_key, ec.EllipticCurvePrivateKey) or not isinstance(
            private_key.curve, ec.SECP256R1
        ):
            raise ConfigError(
                "the development OIDC issuer needs an ECDSA P-256 key",
                found=signer.public_key.algorithm.value,
            )
        if not issuer_url.startswith(("https://", "http://")):
            raise ConfigError("the development OIDC issuer URL must be http(s)", found=issuer_url)
        self.issuer_url = issuer_url.rstrip("/")
        self._private_key = private_key
        self._public_key = private_key.public_key()
        self._clock = clock
        self.kid = hashlib.sha256(signer.public_key.spki_der).hexdigest()[:16]
        """The key id: the first 16 hex digits of the SHA-256 of the SPKI DER."""

    def discovery(self) -> dict[str, object]:
        """The OpenID Connect discovery document."""
        return {
            "issuer": self.issuer_url,
            "jwks_uri": f"{self.issuer_url}/jwks",
            "token_endpoint": f"{self.issuer_url}/token",
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "grant_types_supported": ["client_credentials"],
        }

    def jwks(self) -> dict[str, object]:
        """The JWK Set publishing the verification key."""
        numbers = self._public_key.public_numbers()
        return {
            "keys": [
                {
                    "kty": "EC",
                    "crv": "P-256",
                    "x": _b64url(numbers.x.to_bytes(32, "big")),
                    "y": _b64url(numbers.y.to_bytes(32, "big")),
                    "kid": self.kid,
                    "alg": ALGORITHM,
                    "use": "sig",
                }
            ]
        }

    def jwks_source(self) -> JwksSource:
        """The verification key for a :class:`~lacre.oidc.TokenVerifier`, without HTTP."""
        return _InProcessJwks(self.issuer_url, Jwk(self.kid, ALGORITHM, self._public_key))

    def issuer_config(self) -> IssuerConfig:
        """The configuration trusting this issuer's tokens as email identities."""
        return IssuerConfig(url=self.issuer_url, type=IssuerType.EMAIL)

    def mint(self, email: str, *, audience: str = "sigstore", lifetime_s: int = 600) -> str:
        """A signed token for ``email``, valid ``lifetime_s`` seconds (1 to 3600) from now.

        Claims: ``iss``, ``sub`` and ``email`` (the address), ``email_verified`` (true),
        ``aud``, ``iat``, ``nbf`` and ``exp``; the header names the key id.
        """
        _check_email(email)
        if not isinstance(audience, str) or not 0 < len(audience) <= _MAX_AUDIENCE_LENGTH:
            raise InvalidInput(
                "audience must be a non-empty string",
                expected=f"at most {_MAX_AUDIENCE_LENGTH} characters",
                found=repr(audience)[:80],
            )
        if (
            isinstance(lifetime_s, bool)
            or not isinstance(lifetime_s, int)
            or not 1 <= lifetime_s <= MAX_LIFETIME_S
        ):
            raise InvalidInput(
                "token lifetime out of range",
                expected=f"1 to {MAX_LIFETIME_S} seconds",
                found=lifetime_s,
            )
        now = int(self._clock())
        claims = {
            "iss": self.issuer_url,
            "sub": email,
            "email": email,
            "email_verified": True,
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime_s,
        }
        return jwt.encode(claims, self._private_key, algorithm=ALGORITHM, headers={"kid": self.kid})


def _check_email(email: object) -> None:
    if (
        not isinstance(email, str)
        or len(email) > _MAX_EMAIL_LENGTH
        or not _EMAIL.fullmatch(email)
        or not email.isprintable()
    ):
        raise InvalidInput(
            "not an email address",
            expected="name@domain.tld",
            found=repr(email)[:80],
        )
