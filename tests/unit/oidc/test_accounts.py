"""Who may get a token from the built-in issuer."""

from __future__ import annotations

import pytest

from lacre.errors import ConfigError
from lacre.oidc.accounts import Account, Accounts
from lacre.oidc.issuers import TokenError

SECRET = "a long enough secret"


def accounts(*, open_minting: bool = False) -> Accounts:
    bot = Account.with_secret("bot", "bot@example.com", SECRET.encode())
    return Accounts([bot], open_minting=open_minting)


def test_an_account_gets_its_own_email() -> None:
    assert accounts().authenticate("bot", SECRET) == "bot@example.com"


@pytest.mark.parametrize(
    ("client_id", "secret"), [("bot", "wrong"), ("nobody", SECRET), ("bot", "")]
)
def test_wrong_credentials_are_refused_alike(client_id: str, secret: str) -> None:
    with pytest.raises(TokenError, match="client credentials refused"):
        accounts().authenticate(client_id, secret)


def test_without_a_secret_only_open_minting_answers() -> None:
    with pytest.raises(TokenError, match="needs client credentials"):
        accounts().authenticate("anyone@example.com", None)
    assert accounts(open_minting=True).authenticate("anyone@example.com", None) == (
        "anyone@example.com"
    )


def test_open_minting_still_checks_secrets_when_given() -> None:
    with pytest.raises(TokenError):
        accounts(open_minting=True).authenticate("bot", "wrong")


def test_short_secrets_and_duplicate_accounts_are_configuration_errors() -> None:
    with pytest.raises(ConfigError, match="too short"):
        Account.with_secret("bot", "bot@example.com", b"short")
    bot = Account.with_secret("bot", "bot@example.com", SECRET.encode())
    with pytest.raises(ConfigError, match="configured twice"):
        Accounts([bot, bot])
