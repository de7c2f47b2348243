"""Who may ask the built-in OIDC issuer for a token.

In development mode anyone may, for any email address. Otherwise only the
configured service accounts may, with the OAuth 2.0 client-credentials grant:
each account has a client id, a secret and the email identity its tokens name.
Secrets are kept as SHA-256 digests and compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from lacre.errors import ConfigError
from lacre.oidc.issuers import TokenError

MIN_SECRET_BYTES = 16
"""Shortest account secret accepted in the configuration."""


@dataclass(frozen=True)
class Account:
    """A service account: ``client_id`` authenticates with its secret and gets ``email``."""

    client_id: str
    email: str
    secret_sha256: bytes

    @classmethod
    def with_secret(cls, client_id: str, email: str, secret: bytes) -> Account:
        """An account whose secret is ``secret`` (at least :data:`MIN_SECRET_BYTES` long)."""
        if len(secret) < MIN_SECRET_BYTES:
            raise ConfigError(
                f"the secret of account {client_id} is too short",
                expected=f"at least {MIN_SECRET_BYTES} bytes",
                found=f"{len(secret)} bytes",
            )
        return cls(client_id, email, hashlib.sha256(secret).digest())


class Accounts:
    """The token policy of the built-in issuer: open (development) or configured accounts."""

    def __init__(self, accounts: Iterable[Account] = (), *, open_minting: bool = False) -> None:
        """Accept ``accounts``; with ``open_minting``, anyone too, for any email."""
        self._accounts: dict[str, Account] = {}
        for account in accounts:
            if account.client_id in self._accounts:
                raise ConfigError(f"account {account.client_id} is configured twice")
            self._accounts[account.client_id] = account
        self.open_minting = open_minting

    def __len__(self) -> int:
        return len(self._accounts)

    def authenticate(self, client_id: str, secret: str | None) -> str:
        """The email identity ``client_id`` may have a token for; TokenError if refused.

        Without a secret, and only with open minting, ``client_id`` is the email itself.
        """
        if secret is None:
            if self.open_minting:
                return client_id
            raise TokenError(
                "the built-in issuer needs client credentials",
                expected="grant_type=client_credentials with client_id and client_secret",
                found="no client_secret",
            )
        account = self._accounts.get(client_id)
        digest = hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()
        expected = account.secret_sha256 if account is not None else bytes(32)
        if not hmac.compare_digest(digest, expected) or account is None:
            raise TokenError("client credentials refused: unknown client id or wrong secret")
        return account.email
