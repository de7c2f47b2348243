"""An in-memory identity provider for the OIDC tests: keys, JWKS, discovery and tokens."""

from __future__ import annotations

import base64
import json
from collections import Counter
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from lacre.oidc import CachedJwks, IssuerConfig, IssuerType, TokenVerifier

NOW = 1_800_000_000  # 2027-01-15T08:00:00Z
ISS = "https://issuer.example"

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
ED_KEY = ed25519.Ed25519PrivateKey.generate()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(value: object) -> str:
    return b64(json.dumps(value).encode())


def jwk(kid: str, key: PrivateKey) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        data = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        data = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    else:
        data = OKPAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**data, "kid": kid, "use": "sig"}


class Clock:
    """A settable clock."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Idp:
    """Serves discovery and a JWKS for any issuer in ``issuers``; counts every fetch."""

    def __init__(self, *issuers: str) -> None:
        self.issuers = set(issuers or (ISS,))
        self.keys: dict[str, PrivateKey] = {"k1": RSA_KEY}
        self.calls: Counter[str] = Counter()
        self.extra_jwks: list[dict[str, Any]] = []

    def fetch(self, url: str) -> bytes:
        self.calls[url] += 1
        for issuer in self.issuers:
            if url == f"{issuer}/.well-known/openid-configuration":
                return json.dumps({"issuer": issuer, "jwks_uri": f"{issuer}/jwks"}).encode()
            if url == f"{issuer}/jwks":
                keys = [jwk(kid, key) for kid, key in self.keys.items()]
                return json.dumps({"keys": keys + self.extra_jwks}).encode()
        raise AssertionError(f"unexpected fetch of {url}")

    def sign(self, claims: dict[str, Any], *, kid: str | None = "k1", alg: str = "RS256") -> str:
        key = self.keys.get(kid or "k1", RSA_KEY)
        headers = {"kid": kid} if kid is not None else {}
        return jwt.encode(claims, key, algorithm=alg, headers=headers)


def claims(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": ISS,
        "sub": "alice-subject",
        "aud": "sigstore",
        "iat": NOW - 10,
        "exp": NOW + 300,
        "email": "alice@example.com",
        "email_verified": True,
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def verifier(
    idp: Idp, *configs: IssuerConfig, clock: Clock | None = None
) -> tuple[TokenVerifier, CachedJwks]:
    source = CachedJwks(idp.fetch, clock=clock or Clock())
    configs = configs or (IssuerConfig(url=ISS, type=IssuerType.EMAIL),)
    return TokenVerifier(configs, source, clock=clock or Clock()), source
