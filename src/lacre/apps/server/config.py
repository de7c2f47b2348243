"""Settings of ``lacre server``: from command-line options and the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from lacre.errors import ConfigError

DSN_ENVIRONMENT = "LACRE_POSTGRES_DSN"
ALL_SERVICES = frozenset({"log", "ca"})
"""Every service ``lacre server`` can run."""
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
    key_passphrase: bytes | None = None

    @classmethod
    def from_options(
        cls,
        *,
        data_dir: Path,
        services: frozenset[str],
        workers: int = 1,
        host: str,
        port: int,
        dev: bool,
        public_url: str | None,
        postgres_dsn: str | None,
        log_key: str | None,
        rekor_v1_key: str | None = None,
    ) -> ServerConfig:
        """Combine command-line options with the environment (DSN, key passphrase)."""
        if public_url is not None:
            _check_url(public_url)
        passphrase = os.environ.get(PASSPHRASE_ENVIRONMENT)
        unknown = services - ALL_SERVICES
        if unknown:
            raise ConfigError(
                "unknown services", expected=sorted(ALL_SERVICES), found=sorted(unknown)
            )
        if not 1 <= workers <= 64:
            raise ConfigError("--workers out of range", expected="1..64", found=workers)
        return cls(
            data_dir=data_dir,
            services=services,
            workers=workers,
            host=host,
            port=port,
            dev=dev,
            public_url=public_url,
            postgres_dsn=postgres_dsn or os.environ.get(DSN_ENVIRONMENT),
            log_key=log_key,
            rekor_v1_key=rekor_v1_key,
            key_passphrase=passphrase.encode() if passphrase else None,
        )

    def base_url(self, port: int) -> str:
        """The public base URL, given the port actually bound."""
        if self.public_url is not None:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{port}"

    @property
    def log_key_uri(self) -> str:
        """Key URI of the main log's checkpoint key."""
        return self.log_key or f"file:{self.data_dir / 'keys' / 'log.pem'}"

    @property
    def rekor_v1_key_uri(self) -> str:
        """Key URI of the Rekor v1 tree's checkpoint and SET key."""
        return self.rekor_v1_key or f"file:{self.data_dir / 'keys' / 'rekor-v1.pem'}"


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
