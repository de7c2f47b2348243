"""The ``lacre.yaml`` configuration file: parsed strictly into plain settings.

Every key is known and typed; an unknown key, a wrong type or a bad value is a
:class:`~lacre.errors.ConfigError` naming the key's path in the file. Secrets
are never in the file itself: it names the environment variable or the file
holding each one, which :mod:`lacre.apps.server.config` reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lacre.errors import ConfigError
from lacre.jsontypes import type_name
from lacre.oidc.issuers import ClaimTemplate, IssuerConfig, IssuerType

MAX_CONFIG_BYTES = 1024 * 1024
"""Largest configuration file accepted."""

_TOP = frozenset(
    {
        "data_dir",
        "host",
        "port",
        "public_url",
        "workers",
        "services",
        "postgres",
        "keys",
        "ca",
        "oidc",
        "log_level",
        "tsa",
        "tls",
    }
)
_KEYS = frozenset({"log", "rekor_v1", "ca", "ct", "tsa"})
_TSA = frozenset({"chain"})
_TLS = frozenset({"certificate", "key"})
_CA = frozenset({"chain", "organization", "key_type"})
_OIDC = frozenset({"issuers", "builtin"})
_BUILTIN = frozenset({"enabled", "accounts"})
_ACCOUNT = frozenset({"client_id", "email", "secret_env", "secret_file"})
_ISSUER = frozenset(
    {
        "url",
        "type",
        "client_id",
        "subject_domain",
        "spiffe_trust_domain",
        "issuer_claim",
        "skip_email_verification",
        "template",
    }
)
_TEMPLATE = frozenset({"san", "extensions", "defaults"})


@dataclass(frozen=True, kw_only=True)
class AccountSetting:
    """A service account of the built-in issuer, as configured: its secret not yet read."""

    client_id: str
    email: str
    secret_env: str | None = None
    secret_file: Path | None = None


@dataclass(frozen=True, kw_only=True)
class FileSettings:
    """What a configuration file sets; None (or empty) where it is silent."""

    values: dict[str, Any] = field(default_factory=dict)
    """Server options by their command-line name (``data_dir``, ``port``, ``log_key``...)."""
    issuers: tuple[IssuerConfig, ...] = ()
    builtin_issuer: bool | None = None
    accounts: tuple[AccountSetting, ...] = ()


def load_config_file(path: Path) -> FileSettings:
    """Read and check the YAML configuration file at ``path``."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read configuration file {path}: {exc.strerror}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"configuration file {path} is too large",
            expected=f"at most {MAX_CONFIG_BYTES} bytes",
            found=f"{len(data)} bytes",
        )
    try:
        document = yaml.safe_load(data)
    except yaml.YAMLError as exc:
        raise ConfigError(f"configuration file {path} is not valid YAML: {exc}") from None
    return parse_config(document if document is not None else {}, base=path.parent)


def parse_config(document: object, *, base: Path) -> FileSettings:
    """Check a parsed configuration document; relative paths are taken from ``base``."""
    top = _mapping(document, "the configuration", _TOP)
    values: dict[str, Any] = {}
    for name in ("host", "public_url", "postgres", "log_level"):
        if name in top:
            values["postgres_dsn" if name == "postgres" else name] = _str(top[name], name)
    for name in ("port", "workers"):
        if name in top:
            values[name] = _int(top[name], name)
    if "data_dir" in top:
        values["data_dir"] = base / _str(top["data_dir"], "data_dir")
    if "services" in top:
        values["services"] = frozenset(_str_list(top["services"], "services"))
    keys = _mapping(top.get("keys", {}), "keys", _KEYS)
    for name in sorted(keys):
        values[f"{name}_key"] = _str(keys[name], f"keys.{name}")
    ca = _mapping(top.get("ca", {}), "ca", _CA)
    if "chain" in ca:
        values["ca_chain"] = base / _str(ca["chain"], "ca.chain")
    if "organization" in ca:
        values["organization"] = _str(ca["organization"], "ca.organization")
    if "key_type" in ca:
        values["ca_key_type"] = _str(ca["key_type"], "ca.key_type")
    tsa = _mapping(top.get("tsa", {}), "tsa", _TSA)
    if "chain" in tsa:
        values["tsa_chain"] = base / _str(tsa["chain"], "tsa.chain")
    tls = _mapping(top.get("tls", {}), "tls", _TLS)
    for name in sorted(tls):
        values[f"tls_{name}"] = base / _str(tls[name], f"tls.{name}")
    oidc = _mapping(top.get("oidc", {}), "oidc", _OIDC)
    builtin = _mapping(oidc.get("builtin", {}), "oidc.builtin", _BUILTIN)
    accounts = tuple(
        _account(entry, f"oidc.builtin.accounts[{i}]", base)
        for i, entry in enumerate(_list(builtin.get("accounts", []), "oidc.builtin.accounts"))
    )
    enabled = builtin.get("enabled")
    return FileSettings(
        values=values,
        issuers=tuple(
            _issuer(entry, f"oidc.issuers[{i}]")
            for i, entry in enumerate(_list(oidc.get("issuers", []), "oidc.issuers"))
        ),
        builtin_issuer=_bool(enabled, "oidc.builtin.enabled") if enabled is not None else None,
        accounts=accounts,
    )


def _issuer(entry: object, where: str) -> IssuerConfig:
    fields = _mapping(entry, where, _ISSUER)
    for required in ("url", "type"):
        if required not in fields:
            raise ConfigError(f"{where} has no {required}")
    issuer_type = _str(fields["type"], f"{where}.type")
    if issuer_type not in {t.value for t in IssuerType}:
        raise ConfigError(
            f"{where}.type is unknown",
            expected=", ".join(t.value for t in IssuerType),
            found=issuer_type,
        )
    options: dict[str, Any] = {
        name: _str(fields[name], f"{where}.{name}")
        for name in ("client_id", "subject_domain", "spiffe_trust_domain", "issuer_claim")
        if name in fields
    }
    if "skip_email_verification" in fields:
        options["skip_email_verification"] = _bool(
            fields["skip_email_verification"], f"{where}.skip_email_verification"
        )
    if "template" in fields:
        options["template"] = _template(fields["template"], f"{where}.template")
    try:
        return IssuerConfig(
            url=_str(fields["url"], f"{where}.url"), type=IssuerType(issuer_type), **options
        )
    except ConfigError as exc:
        raise ConfigError(
            f"{where}: {exc.message}", expected=exc.expected, found=exc.found
        ) from None


def _template(entry: object, where: str) -> ClaimTemplate:
    fields = _mapping(entry, where, _TEMPLATE)
    if "san" not in fields:
        raise ConfigError(f"{where} has no san")
    return ClaimTemplate(
        san=_str(fields["san"], f"{where}.san"),
        extensions=_str_map(fields.get("extensions", {}), f"{where}.extensions"),
        defaults=_str_map(fields.get("defaults", {}), f"{where}.defaults"),
    )


def _account(entry: object, where: str, base: Path) -> AccountSetting:
    fields = _mapping(entry, where, _ACCOUNT)
    for required in ("client_id", "email"):
        if required not in fields:
            raise ConfigError(f"{where} has no {required}")
    sources = [name for name in ("secret_env", "secret_file") if name in fields]
    if len(sources) != 1:
        raise ConfigError(
            f"{where} must name where its secret is",
            expected="exactly one of secret_env, secret_file",
            found=", ".join(sources) or "neither",
        )
    secret_file = fields.get("secret_file")
    return AccountSetting(
        client_id=_str(fields["client_id"], f"{where}.client_id"),
        email=_str(fields["email"], f"{where}.email"),
        secret_env=_str(fields["secret_env"], f"{where}.secret_env")
        if "secret_env" in fields
        else None,
        secret_file=base / _str(secret_file, f"{where}.secret_file")
        if secret_file is not None
        else None,
    )


def _mapping(value: object, where: str, allowed: frozenset[str]) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a mapping", found=type_name(value))
    unknown = sorted(str(key) for key in value if key not in allowed)
    if unknown:
        raise ConfigError(
            f"{where} has unknown keys",
            expected=", ".join(sorted(allowed)),
            found=", ".join(unknown),
        )
    return value


def _list(value: object, where: str) -> list[object]:
    if not isinstance(value, list):
        raise ConfigError(f"{where} must be a list", found=type_name(value))
    return value


def _str(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where} must be a non-empty string", found=type_name(value))
    return value


def _int(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where} must be an integer", found=type_name(value))
    return value


def _bool(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false", found=type_name(value))
    return value


def _str_list(value: object, where: str) -> list[str]:
    return [_str(item, f"{where}[{i}]") for i, item in enumerate(_list(value, where))]


def _str_map(value: object, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a mapping", found=type_name(value))
    return {_str(key, where): _str(item, f"{where}.{key}") for key, item in value.items()}
