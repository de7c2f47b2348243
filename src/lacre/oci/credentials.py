"""Registry credentials from a docker ``config.json``.

Lookup order for a registry host, as the docker CLI does it: a per-registry
``credHelpers`` entry, then the global ``credsStore``, then a base64 ``auth``
(or ``username``/``password``) under ``auths``. Helpers are the programs
``docker-credential-<name>``, run as ``docker-credential-<name> get`` with the
server address on stdin.
"""

from __future__ import annotations

import base64
import binascii
import json
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lacre.errors import ConfigError
from lacre.oci.reference import DOCKER_HUB, DOCKER_HUB_API, DOCKER_HUB_INDEX

_MAX_CONFIG_BYTES = 1 << 20
_HELPER_TIMEOUT_S = 30.0
_HUB_KEYS = ("https://index.docker.io/v1/", DOCKER_HUB_INDEX, DOCKER_HUB, DOCKER_HUB_API)
_IDENTITY_TOKEN_USER = "<token>"  # noqa: S105 - the helper protocol's marker, not a secret
_NOT_FOUND = "credentials not found"


@dataclass(frozen=True)
class Credentials:
    """A user name and password, or an identity (refresh) token for the token service."""

    username: str = field(repr=False)
    password: str = field(repr=False)
    identity_token: str | None = field(default=None, repr=False)


def docker_config_path(environ: Mapping[str, str], home: Path) -> Path:
    """``$DOCKER_CONFIG/config.json`` if that variable is set, else ``~/.docker/config.json``."""
    directory = environ.get("DOCKER_CONFIG")
    return Path(directory) / "config.json" if directory else home / ".docker" / "config.json"


def _host_keys(host: str) -> tuple[str, ...]:
    return _HUB_KEYS if host in _HUB_KEYS else (host,)


def _server_host(key: str) -> str:
    """``https://host:port/v1/`` or ``host`` -> ``host:port``."""
    text = key.split("://", 1)[1] if "://" in key else key
    return text.split("/", 1)[0]


class DockerConfig:
    """The credential part of a docker ``config.json``."""

    def __init__(self, document: Mapping[str, Any], *, source: str = "config.json") -> None:
        """Wrap an already parsed ``config.json`` document (``source`` names it in errors)."""
        self._source = source
        self._auths = _mapping(document, "auths", source)
        self._helpers = _mapping(document, "credHelpers", source)
        store = document.get("credsStore")
        if store is not None and not isinstance(store, str):
            raise ConfigError(f"{source}: credsStore must be a string", found=type(store).__name__)
        self._store = store or None

    @classmethod
    def load(cls, path: Path) -> DockerConfig:
        """Read ``path``; a missing file means no credentials."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return cls({}, source=str(path))
        except OSError as exc:
            raise ConfigError(f"cannot read docker config {path}: {exc.strerror}") from None
        if len(data) > _MAX_CONFIG_BYTES:
            raise ConfigError(f"docker config {path} is too large", expected="at most 1 MiB")
        try:
            document = json.loads(data)
        except (UnicodeDecodeError, ValueError) as exc:
            raise ConfigError(f"docker config {path} is not valid JSON", found=str(exc)) from None
        if not isinstance(document, dict):
            raise ConfigError(f"docker config {path} is not a JSON object")
        return cls(document, source=str(path))

    def credentials_for(self, host: str) -> Credentials | None:
        """Credentials for the registry at ``host[:port]``, or None for anonymous access."""
        keys = _host_keys(host)
        for key in keys:
            helper = self._helpers.get(key)
            if isinstance(helper, str) and helper:
                return run_credential_helper(helper, key)
        if self._store is not None:
            found = run_credential_helper(self._store, keys[0])
            if found is not None:
                return found
        return self._from_auths(keys)

    def _from_auths(self, keys: tuple[str, ...]) -> Credentials | None:
        entries = {_server_host(key): value for key, value in self._auths.items()}
        for key in keys:
            entry = self._auths.get(key, entries.get(key))
            if isinstance(entry, dict):
                return _entry_credentials(entry, f"{self._source}: auths[{key!r}]")
        return None


def _mapping(document: Mapping[str, Any], name: str, source: str) -> dict[str, Any]:
    value = document.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: {name} must be an object", found=type(value).__name__)
    return value


def _entry_credentials(entry: Mapping[str, Any], where: str) -> Credentials | None:
    token = entry.get("identitytoken") or None
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise ConfigError(f"{where}.auth is not base64 of 'user:password'") from None
        username, colon, password = decoded.partition(":")
        if not colon:
            raise ConfigError(f"{where}.auth does not decode to 'user:password'")
        return Credentials(username, password, token if isinstance(token, str) else None)
    user, secret = entry.get("username"), entry.get("password")
    if isinstance(user, str) and isinstance(secret, str) and user:
        return Credentials(user, secret, token if isinstance(token, str) else None)
    if isinstance(token, str):
        return Credentials("", "", token)
    return None


def run_credential_helper(name: str, server: str) -> Credentials | None:
    """Ask ``docker-credential-<name>`` for the credentials of ``server`` (None if it has none)."""
    program = shutil.which(f"docker-credential-{name}")
    if program is None:
        raise ConfigError(
            f"docker credential helper 'docker-credential-{name}' not found on PATH",
            expected="the helper named in credHelpers/credsStore to be installed",
        )
    try:
        result = subprocess.run(
            [program, "get"],
            input=server.encode(),
            capture_output=True,
            timeout=_HELPER_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"docker-credential-{name} failed to run: {exc}") from None
    if result.returncode != 0:
        output = (result.stdout + result.stderr).decode(errors="replace").strip()
        if _NOT_FOUND in output.lower():
            return None
        raise ConfigError(
            f"docker-credential-{name} get failed (exit code {result.returncode})",
            found=output[:200] or "no output",
        )
    return _helper_answer(name, result.stdout)


def _helper_answer(name: str, stdout: bytes) -> Credentials:
    try:
        answer = json.loads(stdout)
    except (UnicodeDecodeError, ValueError):
        answer = None
    if not isinstance(answer, dict) or not all(
        isinstance(answer.get(key), str) for key in ("Username", "Secret")
    ):
        raise ConfigError(
            f"docker-credential-{name} answered out of protocol",
            expected='JSON {"Username": ..., "Secret": ...}',
            found=stdout[:100].decode(errors="replace"),
        )
    if answer["Username"] == _IDENTITY_TOKEN_USER:
        return Credentials("", "", answer["Secret"])
    return Credentials(answer["Username"], answer["Secret"])
