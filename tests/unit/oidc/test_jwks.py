"""JWKS: discovery, parsing, TTL caching and rate-limited refreshes, via a fake fetcher."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from lacre.errors import InvalidInput
from lacre.oidc import CachedJwks, discovery_url, parse_jwks
from tests.unit.oidc.idp import EC_KEY, ED_KEY, ISS, RSA_KEY, Clock, Idp, jwk

DISCOVERY = f"{ISS}/.well-known/openid-configuration"
JWKS = f"{ISS}/jwks"


def test_discovery_url() -> None:
    assert (
        discovery_url("https://a.example") == "https://a.example/.well-known/openid-configuration"
    )
    assert (
        discovery_url("https://a.example/") == "https://a.example/.well-known/openid-configuration"
    )


def test_keys_are_discovered_then_cached() -> None:
    idp = Idp()
    source = CachedJwks(idp.fetch, clock=Clock())
    first = source.keys(ISS)
    assert [key.kid for key in first] == ["k1"]
    assert source.keys(ISS) == first
    assert idp.calls == {DISCOVERY: 1, JWKS: 1}


def test_cache_expires_after_ttl_without_rediscovery() -> None:
    idp = Idp()
    clock = Clock()
    source = CachedJwks(idp.fetch, ttl=100, clock=clock)
    source.keys(ISS)
    clock.now += 99
    source.keys(ISS)
    assert idp.calls[JWKS] == 1
    clock.now += 1
    idp.keys["k2"] = EC_KEY
    assert [key.kid for key in source.keys(ISS)] == ["k1", "k2"]
    assert idp.calls == {DISCOVERY: 1, JWKS: 2}


def test_refresh_is_rate_limited() -> None:
    idp = Idp()
    clock = Clock()
    source = CachedJwks(idp.fetch, min_refresh_interval=60, clock=clock)
    source.keys(ISS)
    assert source.refresh(ISS) is True
    assert source.refresh(ISS) is False
    clock.now += 60
    assert source.refresh(ISS) is True
    assert idp.calls == {DISCOVERY: 1, JWKS: 3}


def test_issuers_are_cached_separately() -> None:
    idp = Idp(ISS, "https://other.example")
    source = CachedJwks(idp.fetch, clock=Clock())
    source.keys(ISS)
    source.keys("https://other.example")
    source.keys(ISS)
    assert idp.calls["https://other.example/jwks"] == 1
    assert idp.calls[JWKS] == 1


def serving(documents: dict[str, Any]) -> CachedJwks:
    def fetch(url: str) -> bytes:
        value = documents[url]
        return value if isinstance(value, bytes) else json.dumps(value).encode()

    return CachedJwks(fetch, clock=Clock())


@pytest.mark.parametrize(
    ("discovery", "match"),
    [
        ({"issuer": "https://evil.example", "jwks_uri": JWKS}, "names another issuer"),
        ({"issuer": ISS}, "has no jwks_uri"),
        ({"issuer": ISS, "jwks_uri": "http://issuer.example/jwks"}, "jwks_uri is not usable"),
        ({"issuer": ISS, "jwks_uri": "file:///etc/passwd"}, "jwks_uri is not usable"),
        (b"<html>", "is not JSON"),
        ([1], "is not a JSON object"),
        (b" " * (1 << 20) + b"{}", "too large"),
    ],
)
def test_bad_discovery(discovery: Any, match: str) -> None:
    source = serving({DISCOVERY: discovery, JWKS: {"keys": []}})
    with pytest.raises(InvalidInput, match=match):
        source.keys(ISS)


def test_http_jwks_uri_allowed_for_http_issuer() -> None:
    issuer = "http://127.0.0.1:8080"
    source = serving(
        {
            f"{issuer}/.well-known/openid-configuration": {
                "issuer": issuer,
                "jwks_uri": f"{issuer}/keys",
            },
            f"{issuer}/keys": {"keys": [jwk("k1", RSA_KEY)]},
        }
    )
    assert len(source.keys(issuer)) == 1


def test_bad_jwks() -> None:
    source = serving({DISCOVERY: {"issuer": ISS, "jwks_uri": JWKS}, JWKS: {"keys": {}}})
    with pytest.raises(InvalidInput, match="'keys' is not an array"):
        source.keys(ISS)


def test_parse_jwks_keeps_only_asymmetric_public_signing_keys() -> None:
    rsa_jwk = jwk("rsa", RSA_KEY)
    private = {**jwk("priv", EC_KEY), "d": "AAAA"}
    document = {
        "keys": [
            rsa_jwk,
            jwk("ec", EC_KEY),
            jwk("ed", ED_KEY),
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {**jwk("enc", RSA_KEY), "use": "enc"},
            private,
            {"kty": "EC", "kid": "broken", "crv": "P-256", "x": "AA", "y": "AA"},
            {**jwk("badkid", RSA_KEY), "kid": 5},
            {"kty": "RSA", "kid": "nothing"},
            "not an object",
        ]
    }
    keys = parse_jwks(json.dumps(document).encode())
    assert [key.kid for key in keys] == ["rsa", "ec", "ed"]
    assert isinstance(keys[1].key, ec.EllipticCurvePublicKey)
    assert keys[0].alg is None
