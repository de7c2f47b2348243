"""The YAML configuration file: strict parsing and its precedence under the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lacre.apps.server.config import ALL_SERVICES, ServerConfig
from lacre.apps.server.config_file import MAX_CONFIG_BYTES, load_config_file, parse_config
from lacre.errors import ConfigError
from lacre.keys import KeyAlgorithm
from lacre.oidc.issuers import IssuerType

BASE = Path("/etc/lacre")

FULL = """
data_dir: data
host: 0.0.0.0
port: 8443
public_url: https://sigstore.example.com
workers: 2
services: [log, ca]
postgres: postgresql://lacre@db/lacre
keys:
  log: file:/k/log.pem
  rekor_v1: file:/k/v1.pem
  ca: "pkcs11:token=t;object=o"
  ct: file:/k/ct.pem
ca:
  chain: chain.pem
  organization: Example Corp
oidc:
  issuers:
    - url: https://accounts.example.com
      type: email
      client_id: lacre
    - url: https://oidc.eks.*.amazonaws.com/id/*
      type: kubernetes
    - url: https://ci.example.com
      type: ci-provider
      template:
        san: "https://ci.example.com/{project}"
        extensions: {build_trigger: "{event}"}
  builtin:
    accounts:
      - client_id: bot
        email: bot@example.com
        secret_file: bot.secret
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lacre.yaml"
    path.write_text(text)
    return path


def test_a_full_file_is_read(tmp_path: Path) -> None:
    settings = load_config_file(write(tmp_path, FULL))
    assert settings.values == {
        "host": "0.0.0.0",
        "public_url": "https://sigstore.example.com",
        "postgres_dsn": "postgresql://lacre@db/lacre",
        "port": 8443,
        "workers": 2,
        "data_dir": tmp_path / "data",
        "services": frozenset({"log", "ca"}),
        "ca_key": "pkcs11:token=t;object=o",
        "ct_key": "file:/k/ct.pem",
        "log_key": "file:/k/log.pem",
        "rekor_v1_key": "file:/k/v1.pem",
        "ca_chain": tmp_path / "chain.pem",
        "organization": "Example Corp",
    }
    assert [i.type for i in settings.issuers] == [
        IssuerType.EMAIL,
        IssuerType.KUBERNETES,
        IssuerType.CI_PROVIDER,
    ]
    assert settings.issuers[0].client_id == "lacre"
    assert settings.issuers[1].matches("https://oidc.eks.eu-west-1.amazonaws.com/id/ABC")
    assert settings.accounts[0].secret_file == tmp_path / "bot.secret"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"port": "80"}, "port must be an integer"),
        ({"port": True}, "port must be an integer"),
        ({"prot": 80}, "the configuration has unknown keys"),
        ({"keys": {"hsm": "file:x"}}, "keys has unknown keys"),
        ({"keys": ["file:x"]}, "keys must be a mapping"),
        ({"services": "log"}, "services must be a list"),
        ({"oidc": {"issuers": [{"type": "email"}]}}, "oidc.issuers[0] has no url"),
        ({"oidc": {"issuers": [{"url": "https://x", "type": "mail"}]}}, "type is unknown"),
        (
            {"oidc": {"issuers": [{"url": "https://x", "type": "spiffe"}]}},
            "oidc.issuers[0]: spiffe issuer https://x needs a SPIFFE trust domain",
        ),
        (
            {"oidc": {"issuers": [{"url": "https://x", "type": "ci-provider"}]}},
            "needs a claim template",
        ),
        (
            {"oidc": {"builtin": {"accounts": [{"client_id": "a", "email": "a@b.c"}]}}},
            "must name where its secret is",
        ),
        (
            {
                "oidc": {
                    "builtin": {
                        "accounts": [
                            {
                                "client_id": "a",
                                "email": "a@b.c",
                                "secret_env": "A",
                                "secret_file": "f",
                            }
                        ]
                    }
                }
            },
            "exactly one of secret_env, secret_file",
        ),
        ({"oidc": {"builtin": {"enabled": "yes"}}}, "must be true or false"),
        ([1, 2], "the configuration must be a mapping"),
    ],
)
def test_bad_settings_are_named(document: object, message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config(document, base=BASE)
    assert message in str(refused.value)


def test_invalid_yaml_and_oversized_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config_file(write(tmp_path, "port: [1, 2\n"))
    with pytest.raises(ConfigError, match="too large"):
        load_config_file(write(tmp_path, "#" * (MAX_CONFIG_BYTES + 1)))
    with pytest.raises(ConfigError, match="cannot read configuration file"):
        load_config_file(tmp_path / "missing.yaml")


def test_yaml_tags_that_build_objects_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config_file(write(tmp_path, "port: !!python/object/apply:os.system ['true']\n"))


def options(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "data_dir": Path(".lacre"),
        "host": "127.0.0.1",
        "port": 3000,
        "dev": False,
        "workers": 1,
        "public_url": None,
        "postgres_dsn": None,
        "log_key": None,
        "rekor_v1_key": None,
    }
    return {**base, **overrides}


def test_the_command_line_wins_over_the_file_which_wins_over_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "port: 8443\nhost: 0.0.0.0\n")
    config = ServerConfig.from_options(
        config_file=path, explicit={"host"}, **options(host="127.0.0.2")
    )
    assert (config.host, config.port, config.data_dir) == ("127.0.0.2", 8443, Path(".lacre"))
    assert config.services == ALL_SERVICES


def test_a_serve_command_insists_on_its_services(tmp_path: Path) -> None:
    path = write(tmp_path, "services: [log]\n")
    config = ServerConfig.from_options(
        config_file=path, explicit=set(), services=frozenset({"ca"}), **options()
    )
    assert config.services == {"ca"}


def test_accounts_read_their_secret_and_enable_the_builtin_issuer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOT_SECRET", "0123456789abcdef")
    path = write(
        tmp_path,
        "oidc:\n  builtin:\n    accounts:\n"
        "      - {client_id: bot, email: bot@example.com, secret_env: BOT_SECRET}\n",
    )
    config = ServerConfig.from_options(config_file=path, explicit=set(), **options())
    assert config.builtin_issuer
    assert config.accounts[0].email == "bot@example.com"
    assert "0123456789abcdef" not in repr(config)


def test_an_unset_secret_variable_and_a_short_secret_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(
        tmp_path,
        "oidc:\n  builtin:\n    accounts:\n"
        "      - {client_id: bot, email: bot@example.com, secret_env: BOT_SECRET}\n",
    )
    monkeypatch.delenv("BOT_SECRET", raising=False)
    with pytest.raises(ConfigError, match=r"its secret variable is not set.*\$BOT_SECRET"):
        ServerConfig.from_options(config_file=path, explicit=set(), **options())
    monkeypatch.setenv("BOT_SECRET", "short")
    with pytest.raises(ConfigError, match="too short"):
        ServerConfig.from_options(config_file=path, explicit=set(), **options())


def test_the_builtin_issuer_is_off_unless_configured_or_dev() -> None:
    assert not ServerConfig.from_options(explicit=set(), **options()).builtin_issuer
    assert ServerConfig.from_options(explicit=set(), **options(dev=True)).builtin_issuer


def test_unknown_services_and_worker_counts_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown services"):
        ServerConfig.from_options(
            config_file=write(tmp_path, "services: [log, dns]\n"), explicit=set(), **options()
        )
    with pytest.raises(ConfigError, match="workers out of range"):
        ServerConfig.from_options(explicit=set(), **options(workers=0))


def test_the_ca_key_type_is_one_of_the_known_names(tmp_path: Path) -> None:
    path = write(tmp_path, "ca:\n  key_type: ecdsa-p384\n")
    config = ServerConfig.from_options(config_file=path, explicit=set(), **options())
    assert config.ca_key_type is KeyAlgorithm.ECDSA_P384_SHA384
    default = ServerConfig.from_options(**options())
    assert default.ca_key_type is KeyAlgorithm.ECDSA_P256_SHA256
    with pytest.raises(ConfigError, match="unknown CA key type: expected ecdsa-p256, ecdsa-p384"):
        ServerConfig.from_options(**options(ca_key_type="rsa-2048"))
