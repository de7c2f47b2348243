"""Settings of ``lacre server``: from a configuration file, options and the environment.

Options given on the command line win over the configuration file, which wins
over the defaults. Secrets (key passphrase, account secrets, the PostgreSQL DSN
when not in the file) come from the environment or from files.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lacre.apps.server.config_file import AccountSetting, FileSettings, load_config_file
from lacre.ca.key_types import CA_KEY_TYPES
from lacre.errors import ConfigError
from lacre.keys import KeyAlgorithm
from lacre.oidc.accounts import Account
from lacre.oidc.issuers import IssuerConfig

DSN_ENVIRONMENT = "LACRE_POSTGRES_DSN"
ALL_SERVICES = frozenset({"log", "ca", "oidc", "tuf", "tsa"})
"""Every service ``lacre server`` can run."""
LOG_LEVELS = ("debug", "info", "warning", "error")
PASSPHRASE_ENVIRONMENT = "LACRE_KEY_PASSPHRASE"  # noqa: S105 - a variable name


@dataclass(frozen=True, kw_only=True)
class ServerConfig:
    """Everything ``lacre server`` needs to start."""

    data_dir: Path
    services: frozenset[str] = ALL_SERVICES
    workers: int = 1
    """Server processes sharing the listening socket (and the database)."""
    host: str = "127.0.0.1"
    port: int = 3000
    dev: bool = False
    public_url: str | None = None
    """The URL clients reach the server at; defaults to ``http://HOST:PORT``."""
    postgres_dsn: str | None = None
    log_key: str | None = None
    """Key URI of the main log's checkpoint key; defaults to ``DATA_DIR/keys/log.pem``."""
    rekor_v1_key: str | None = None
    """Key URI of the Rekor v1 tree's key; defaults to ``DATA_DIR/keys/rekor-v1.pem``."""
    ca_key: str | None = None
    """Key URI of the CA's issuing key; defaults to ``DATA_DIR/keys/ca-intermediate.pem``."""
    ct_key: str | None = None
    """Key URI of the CT log's key; defaults to ``DATA_DIR/keys/ct.pem``."""
    ca_chain: Path | None = None
    """PEM file of the CA chain, issuing certificate first; defaults to ``DATA_DIR/ca/``."""
    tsa_key: str | None = None
    """Key URI of the timestamp authority; required outside development mode to run it."""
    tsa_chain: Path | None = None
    """PEM chain of the TSA certificate (leaf first); made in development mode."""
    ca_key_type: KeyAlgorithm = KeyAlgorithm.ECDSA_P256_SHA256
    """Type of the CA keys ``lacre ca init`` and development mode make (P-256 or P-384)."""
    organization: str = "lacre"
    """Organization named by a CA chain made in development mode."""
    issuers: tuple[IssuerConfig, ...] = ()
    """Identity providers whose tokens the CA accepts (besides the built-in issuer)."""
    builtin_issuer: bool = False
    """Whether the built-in OIDC issuer runs (always in development mode)."""
    accounts: tuple[Account, ...] = field(default=(), repr=False)
    """Service accounts that may get tokens from the built-in issuer."""
    tls_certificate: Path | None = None
    """PEM certificate chain for HTTPS (with ``tls_key``); plain HTTP without."""
    tls_key: Path | None = None
    log_level: str = "warning"
    """Level of the JSON log lines on stderr; ``info`` logs every request."""
    key_passphrase: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_options(
        cls,
        *,
        config_file: Path | None = None,
        explicit: Collection[str] | None = None,
        services: frozenset[str] | None = None,
        **options: Any,
    ) -> ServerConfig:
        """Combine the configuration file, command-line options and the environment.

        ``options`` are the command-line values by field name; those named in
        ``explicit`` (default: all) win over the file, the others only fill in
        what the file leaves out. ``services`` (None: the file's, else all) is
        what a ``lacre serve SERVICE`` command insists on.
        """
        settings = load_config_file(config_file) if config_file is not None else FileSettings()
        chosen = explicit if explicit is not None else options.keys()
        merged = {
            **{name: value for name, value in options.items() if name not in chosen},
            **settings.values,
            **{name: value for name, value in options.items() if name in chosen},
        }
        if services is not None:
            merged["services"] = services
        return cls._checked(merged, settings)

    @classmethod
    def _checked(cls, values: Mapping[str, Any], settings: FileSettings) -> ServerConfig:
        values = dict(values)
        if values.get("public_url") is not None:
            _check_url(values["public_url"])
        services = values.setdefault("services", ALL_SERVICES)
        unknown = services - ALL_SERVICES
        if unknown:
            raise ConfigError(
                "unknown services", expected=sorted(ALL_SERVICES), found=sorted(unknown)
            )
        if values.get("log_level", "warning") not in LOG_LEVELS:
            raise ConfigError(
                "unknown log level", expected=", ".join(LOG_LEVELS), found=values["log_level"]
            )
        if (values.get("tls_certificate") is None) != (values.get("tls_key") is None):
            raise ConfigError(
                "TLS needs both a certificate and its key", expected="both or neither"
            )
        values["ca_key_type"] = _ca_key_type(values.get("ca_key_type", "ecdsa-p256"))
        workers = values.get("workers", 1)
        if not 1 <= workers <= 64:
            raise ConfigError("workers out of range", expected="1..64", found=workers)
        passphrase = os.environ.get(PASSPHRASE_ENVIRONMENT)
        values["postgres_dsn"] = values.get("postgres_dsn") or os.environ.get(DSN_ENVIRONMENT)
        accounts = tuple(_account(setting) for setting in settings.accounts)
        builtin = settings.builtin_issuer
        return cls(
            **values,
            issuers=settings.issuers,
            builtin_issuer=bool(values.get("dev"))
            or (builtin if builtin is not None else bool(accounts)),
            accounts=accounts,
            key_passphrase=passphrase.encode() if passphrase else None,
        )

    def base_url(self, port: int) -> str:
        """The public base URL, given the port actually bound."""
        if self.public_url is not None:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "https" if self.tls_certificate is not None else "http"
        return f"{scheme}://{host}:{port}"

    @property
    def log_key_uri(self) -> str:
        """Key URI of the main log's checkpoint key."""
        return self.log_key or f"file:{self.data_dir / 'keys' / 'log.pem'}"

    @property
    def rekor_v1_key_uri(self) -> str:
        """Key URI of the Rekor v1 tree's checkpoint and SET key."""
        return self.rekor_v1_key or f"file:{self.data_dir / 'keys' / 'rekor-v1.pem'}"

    @property
    def ca_key_uri(self) -> str:
        """Key URI of the CA's issuing (intermediate) key."""
        return self.ca_key or f"file:{self.data_dir / 'keys' / 'ca-intermediate.pem'}"

    @property
    def ct_key_uri(self) -> str:
        """Key URI of the CT log's signing key."""
        return self.ct_key or f"file:{self.data_dir / 'keys' / 'ct.pem'}"


def _ca_key_type(name: object) -> KeyAlgorithm:
    if not isinstance(name, str) or name not in CA_KEY_TYPES:
        raise ConfigError("unknown CA key type", expected=", ".join(CA_KEY_TYPES), found=name)
    return CA_KEY_TYPES[name]


def _account(setting: AccountSetting) -> Account:
    """Read the secret of a configured account from its environment variable or file."""
    if setting.secret_env is not None:
        secret = os.environ.get(setting.secret_env)
        if secret is None:
            raise ConfigError(
                f"account {setting.client_id}: its secret variable is not set",
                expected=f"${setting.secret_env}",
            )
        return Account.with_secret(setting.client_id, setting.email, secret.encode())
    assert setting.secret_file is not None  # the file parser demands one source
    try:
        data = setting.secret_file.read_bytes().strip()
    except OSError as exc:
        raise ConfigError(
            f"account {setting.client_id}: cannot read {setting.secret_file}: {exc.strerror}"
        ) from None
    return Account.with_secret(setting.client_id, setting.email, data)


def origin_of(base_url: str) -> str:
    """The log origin (checkpoint name) for ``base_url``: its host name, as clients expect."""
    host = urlsplit(base_url).hostname
    if not host:
        raise ConfigError(
            "public URL has no host name", expected="http(s)://HOST[:PORT]", found=base_url
        )
    return host


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("invalid public URL", expected="http(s)://HOST[:PORT][/PATH]", found=url)
