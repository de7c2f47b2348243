"""Choosing services from a ``SigningConfig`` v0.2: CA, OIDC issuer, logs and TSAs.

Services whose API version this client does not speak, or whose validity
window does not contain "now", are dropped. Per operator the log with the
highest API version is kept (unless a Rekor version is forced), then the
selector (ALL, ANY, EXACT with a count) decides how many are used. The CA and
the OIDC issuer are the first valid entries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lacre.errors import ConfigError, InvalidInput, TooLarge
from lacre.jsontypes import MISSING
from lacre.models import protojson as pj
from lacre.models.signing_config import CLIENT_TRUST_CONFIG_MEDIA_TYPE, SIGNING_CONFIG_MEDIA_TYPE

CA_VERSIONS = frozenset({1})
OIDC_VERSIONS = frozenset({1})
TSA_VERSIONS = frozenset({1})
REKOR_VERSIONS = frozenset({1, 2})
MAX_CONFIG_BYTES = 1 << 20
MAX_SERVICES = 32


@dataclass(frozen=True, kw_only=True)
class Service:
    """One service of a signing config."""

    url: str
    major_api_version: int
    operator: str
    start: dt.datetime
    end: dt.datetime | None = None

    def valid_at(self, moment: dt.datetime) -> bool:
        """Whether the service's validity window contains ``moment``."""
        return self.start <= moment and (self.end is None or moment <= self.end)


@dataclass(frozen=True, kw_only=True)
class SigningServices:
    """The services a signing run uses."""

    ca_url: str | None
    oidc_url: str | None
    tlogs: tuple[Service, ...]
    tsa_urls: tuple[str, ...]


def load_json(data: bytes | str, what: str) -> Mapping[str, Any]:
    """Parse a JSON document of at most :data:`MAX_CONFIG_BYTES`, naming ``what`` on error."""
    return pj.mapping(pj.load_document(data, what, limit=MAX_CONFIG_BYTES), what)


def trust_config_root(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """The trusted root of a ClientTrustConfig document (its signing config is not read)."""
    media_type = pj.text(document, "mediaType", "trustConfig")
    if media_type != CLIENT_TRUST_CONFIG_MEDIA_TYPE:
        raise InvalidInput(
            "trustConfig.mediaType", expected=CLIENT_TRUST_CONFIG_MEDIA_TYPE, found=repr(media_type)
        )
    return pj.child(document, "trustedRoot", "trustConfig")


def split_trust_config(document: Mapping[str, Any]) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """The trusted root and signing config of a ClientTrustConfig document."""
    root = trust_config_root(document)
    return root, pj.child(document, "signingConfig", "trustConfig")


def select_services(
    document: Mapping[str, Any],
    *,
    rekor_version: int | None = None,
    now: dt.datetime | None = None,
) -> SigningServices:
    """The services to use from a signing config document."""
    media_type = pj.text(document, "mediaType", "signingConfig")
    if media_type != SIGNING_CONFIG_MEDIA_TYPE:
        raise InvalidInput(
            "signingConfig.mediaType", expected=SIGNING_CONFIG_MEDIA_TYPE, found=repr(media_type)
        )
    moment = now or dt.datetime.now(dt.UTC)
    ca = _valid(document, "caUrls", CA_VERSIONS, moment)
    oidc = _valid(document, "oidcUrls", OIDC_VERSIONS, moment)
    versions = REKOR_VERSIONS if rekor_version is None else frozenset({rekor_version})
    logs = _newest_per_operator(_valid(document, "rekorTlogUrls", versions, moment))
    if not logs:
        wanted = "any" if rekor_version is None else f"a Rekor v{rekor_version}"
        raise ConfigError(f"the signing config names no valid {wanted} transparency log")
    tsas = _valid(document, "tsaUrls", TSA_VERSIONS, moment)
    return SigningServices(
        ca_url=ca[0].url if ca else None,
        oidc_url=oidc[0].url if oidc else None,
        tlogs=tuple(_apply_selector(document, "rekorTlogConfig", logs)),
        tsa_urls=tuple(item.url for item in _apply_selector(document, "tsaConfig", tsas)),
    )


def _valid(
    document: Mapping[str, Any], name: str, versions: frozenset[int], moment: dt.datetime
) -> list[Service]:
    items = pj.array(document, name, "signingConfig")
    if len(items) > MAX_SERVICES:
        raise TooLarge(f"signingConfig.{name}", expected=f"<= {MAX_SERVICES}", found=len(items))
    services = [_service(item, f"signingConfig.{name}[{n}]") for n, item in enumerate(items)]
    return [s for s in services if s.major_api_version in versions and s.valid_at(moment)]


def _service(value: object, path: str) -> Service:
    document = pj.mapping(value, path)
    valid_for = pj.child(document, "validFor", path)
    end = pj.get(valid_for, "end")
    url = pj.text(document, "url", path)
    if not url.startswith(("http://", "https://")):
        raise InvalidInput(f"{path}.url", expected="an http(s) URL", found=repr(url[:80]))
    return Service(
        url=url,
        major_api_version=pj.int64(document, "majorApiVersion", path),
        operator=pj.text(document, "operator", path, default=""),
        start=pj.timestamp(pj.get(valid_for, "start"), f"{path}.validFor.start"),
        end=None if end is MISSING else pj.timestamp(end, f"{path}.validFor.end"),
    )


def _newest_per_operator(services: Sequence[Service]) -> list[Service]:
    best: dict[str, Service] = {}
    for service in services:
        kept = best.get(service.operator)
        if kept is None or (service.major_api_version, service.start) > (
            kept.major_api_version,
            kept.start,
        ):
            best[service.operator] = service
    return [service for service in services if best.get(service.operator) is service]


def _apply_selector(
    document: Mapping[str, Any], name: str, services: list[Service]
) -> list[Service]:
    config = pj.optional_child(document, name, "signingConfig")
    selector = "ANY" if config is None else pj.text(config, "selector", name, default="ANY")
    if selector == "ALL":
        return services
    if selector == "ANY":
        return services[:1]
    if selector == "EXACT":
        assert config is not None
        count = pj.int64(config, "count", name)
        if count < 1 or len(services) < count:
            raise ConfigError(
                f"signingConfig.{name}: EXACT selection cannot be met",
                expected=f"{count} valid services",
                found=len(services),
            )
        return services[:count]
    raise InvalidInput(
        f"signingConfig.{name}.selector", expected="ALL, ANY or EXACT", found=selector
    )
