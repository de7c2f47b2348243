"""Start-up of identity: the built-in OIDC issuer and the CA's token verifier.

The verifier trusts the configured issuers, whose discovery documents and
JWKS are fetched over HTTPS and cached, and the built-in issuer when it runs,
whose key it reads in-process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from lacre.apps.server.config import ServerConfig
from lacre.errors import ConfigError, NetworkError, TooLarge
from lacre.keys import (
    KeyAlgorithm,
    SoftwareSigner,
    ensure_key_file,
    load_signer,
)
from lacre.oidc import TokenVerifier
from lacre.oidc.accounts import Accounts
from lacre.oidc.devissuer import DevIssuer
from lacre.oidc.jwks import CachedJwks, Jwk, JwksSource

FETCH_TIMEOUT_S = 10.0
"""How long a discovery or JWKS fetch may take."""
MAX_DOCUMENT_BYTES = 512 * 1024
"""Largest discovery document or JWKS accepted from an identity provider."""


@dataclass(frozen=True)
class Identity:
    """The built-in issuer (None when off), who may use it, and the CA's token verifier."""

    issuer: DevIssuer | None
    accounts: Accounts
    verifier: TokenVerifier


def open_identity(config: ServerConfig, base_url: str) -> Identity:
    """The identity parts for ``config``: built-in issuer key made on first use."""
    issuer = None
    if config.builtin_issuer:
        key = _issuer_signer(config.data_dir / "keys" / "oidc.pem")
        issuer = DevIssuer(f"{base_url}/oidc", key)
    configs = [*config.issuers, *([issuer.issuer_config()] if issuer is not None else [])]
    remote = CachedJwks(fetch_document)
    jwks: JwksSource = (
        _Combined(issuer.jwks_source(), issuer.issuer_url, remote) if issuer else remote
    )
    accounts = Accounts(config.accounts, open_minting=config.dev)
    return Identity(issuer, accounts, TokenVerifier(configs, jwks))


def fetch_document(url: str) -> bytes:
    """GET ``url`` (a discovery document or JWKS): 200 and at most 512 KiB, or an error."""
    try:
        with httpx.stream("GET", url, timeout=FETCH_TIMEOUT_S) as response:
            if response.status_code != 200:
                raise NetworkError(
                    f"cannot fetch {url}", expected="HTTP 200", found=f"HTTP {response.status_code}"
                )
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise TooLarge(f"{url} is too large", expected=f"at most {MAX_DOCUMENT_BYTES}")
            return bytes(body)
    except httpx.HTTPError as exc:
        raise NetworkError(f"cannot fetch {url}: {str(exc) or type(exc).__name__}") from None


class _Combined:
    """The built-in issuer's keys in-process; every other issuer's through the cache."""

    def __init__(self, builtin: JwksSource, builtin_url: str, remote: JwksSource) -> None:
        self._builtin, self._builtin_url, self._remote = builtin, builtin_url, remote

    def keys(self, issuer: str) -> Sequence[Jwk]:
        """The verification keys of ``issuer``."""
        source = self._builtin if issuer == self._builtin_url else self._remote
        return source.keys(issuer)

    def refresh(self, issuer: str) -> bool:
        """Re-fetch the keys of ``issuer`` (never needed for the built-in one)."""
        source = self._builtin if issuer == self._builtin_url else self._remote
        return source.refresh(issuer)


def _issuer_signer(path: Path) -> SoftwareSigner:
    """The built-in issuer's P-256 key, made on first use (it only signs short-lived tokens)."""
    ensure_key_file(f"file:{path}", KeyAlgorithm.ECDSA_P256_SHA256)
    signer = load_signer(f"file:{path}")
    if not isinstance(signer, SoftwareSigner):
        raise ConfigError("the built-in issuer's key must be a key file", found=str(path))
    return signer
