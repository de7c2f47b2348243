"""Signing keys of OIDC issuers: the :class:`JwksSource` port and a caching implementation.

:class:`CachedJwks` performs discovery (``<iss>/.well-known/openid-configuration`` ->
``jwks_uri``) and fetches the JWKS through an injected ``fetch(url) -> bytes``, so the
module does no network I/O of its own. Keys are cached for ``ttl`` seconds; a refresh
forced by an unknown key id is allowed at most once per ``min_refresh_interval``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from lacre.errors import InvalidInput
from lacre.jsontypes import type_name

PublicKey = (
    rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey
)
"""The public key types a JWKS may contribute."""

MAX_DOCUMENT_BYTES = 1 << 20
"""Largest discovery document or JWKS accepted."""

_ASYMMETRIC_KTY = frozenset({"RSA", "EC", "OKP"})


@dataclass(frozen=True)
class Jwk:
    """One verification key of an issuer: its ``kid`` and ``alg`` (either may be absent)."""

    kid: str | None
    alg: str | None
    key: PublicKey


class JwksSource(Protocol):
    """Where a token verifier gets an issuer's keys."""

    def keys(self, issuer: str) -> Sequence[Jwk]:
        """Return the current keys of ``issuer`` (fetching them if needed)."""
        ...

    def refresh(self, issuer: str) -> bool:
        """Re-fetch the keys of ``issuer``; return False if a refresh was not allowed now."""
        ...


def parse_jwks(data: bytes, *, where: str = "JWKS") -> list[Jwk]:
    """Parse a JWK Set, keeping the asymmetric public signing keys and skipping the others."""
    document = _json_object(data, where)
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise InvalidInput(f"{where}: 'keys' is not an array", found=type_name(entries))
    keys = [key for entry in entries if (key := _parse_jwk(entry)) is not None]
    return keys


def _parse_jwk(entry: object) -> Jwk | None:
    if not isinstance(entry, dict) or entry.get("kty") not in _ASYMMETRIC_KTY:
        return None  # symmetric ("oct") or unknown key types are never used
    if entry.get("use", "sig") != "sig" or "d" in entry:
        return None  # encryption keys, and private keys published by mistake
    kid, alg = entry.get("kid"), entry.get("alg")
    if not isinstance(kid, str | None) or not isinstance(alg, str | None):
        return None
    try:
        key = jwt.PyJWK(entry).key
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        return None
    if not isinstance(key, PublicKey):
        return None
    return Jwk(kid=kid, alg=alg, key=key)


def _json_object(data: bytes, where: str) -> dict[str, object]:
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InvalidInput(
            f"{where} too large", expected=f"at most {MAX_DOCUMENT_BYTES} bytes", found=len(data)
        )
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{where} is not JSON", found=str(exc)) from None
    if not isinstance(document, dict):
        raise InvalidInput(f"{where} is not a JSON object", found=type_name(document))
    return document


def discovery_url(issuer: str) -> str:
    """Return the OIDC discovery URL of ``issuer``."""
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


@dataclass
class _Entry:
    jwks_uri: str
    keys: list[Jwk]
    fetched_at: float


class CachedJwks:
    """A :class:`JwksSource` doing discovery and JWKS fetches through ``fetch``, with a cache."""

    def __init__(
        self,
        fetch: Callable[[str], bytes],
        *,
        ttl: float = 3600.0,
        min_refresh_interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Use ``fetch(url) -> body`` for I/O; cache keys ``ttl`` seconds per issuer."""
        self._fetch = fetch
        self._ttl = ttl
        self._min_refresh_interval = min_refresh_interval
        self._clock = clock
        self._cache: dict[str, _Entry] = {}
        self._last_refresh: dict[str, float] = {}
        self._lock = threading.Lock()

    def keys(self, issuer: str) -> Sequence[Jwk]:
        """Return the cached keys of ``issuer``, fetching them when absent or older than ttl."""
        with self._lock:
            entry = self._cache.get(issuer)
            if entry is None or self._clock() - entry.fetched_at >= self._ttl:
                entry = self._load(issuer, entry)
            return tuple(entry.keys)

    def refresh(self, issuer: str) -> bool:
        """Re-fetch the JWKS of ``issuer`` unless it was force-refreshed too recently."""
        with self._lock:
            now = self._clock()
            last = self._last_refresh.get(issuer)
            if last is not None and now - last < self._min_refresh_interval:
                return False
            self._last_refresh[issuer] = now
            self._load(issuer, self._cache.get(issuer))
            return True

    def _load(self, issuer: str, entry: _Entry | None) -> _Entry:
        jwks_uri = entry.jwks_uri if entry is not None else self._discover(issuer)
        keys = parse_jwks(self._fetch(jwks_uri), where=f"JWKS of {issuer}")
        entry = _Entry(jwks_uri=jwks_uri, keys=keys, fetched_at=self._clock())
        self._cache[issuer] = entry
        return entry

    def _discover(self, issuer: str) -> str:
        where = f"discovery document of {issuer}"
        document = _json_object(self._fetch(discovery_url(issuer)), where)
        if document.get("issuer") != issuer:
            raise InvalidInput(
                f"{where} names another issuer", expected=issuer, found=document.get("issuer")
            )
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise InvalidInput(f"{where} has no jwks_uri", found=type_name(jwks_uri))
        scheme = urlsplit(jwks_uri).scheme
        allowed = {"https"} if urlsplit(issuer).scheme == "https" else {"https", "http"}
        if scheme not in allowed or not urlsplit(jwks_uri).hostname:
            raise InvalidInput(
                f"{where}: jwks_uri is not usable",
                expected=f"an {' or '.join(sorted(allowed))} URL",
                found=jwks_uri,
            )
        return jwks_uri
