"""Sigstore ``SigningConfig`` v0.2 and ``ClientTrustConfig`` v0.1 documents.

A signing config tells clients which services to use: CA, OIDC issuer,
transparency logs (Rekor v1 and v2) and timestamp authorities, each with an API
version, an operator and a validity window. A client trust config bundles a
trusted root with a signing config in one file.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from lacre.errors import InvalidInput
from lacre.record import record

SIGNING_CONFIG_MEDIA_TYPE = "application/vnd.dev.sigstore.signingconfig.v0.2+json"
CLIENT_TRUST_CONFIG_MEDIA_TYPE = "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"
TRUSTED_ROOT_MEDIA_TYPES = (
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    "application/vnd.dev.sigstore.trustedroot.v0.2+json",
)


class Selector(enum.Enum):
    """How many of the listed logs or timestamp authorities a client uses."""

    ALL = "ALL"
    ANY = "ANY"
    EXACT = "EXACT"


@record(kw_only=True)
class ServiceEndpoint:
    """One service as a signing config lists it."""

    url: str
    major_api_version: int
    operator: str
    valid_from: dt.datetime
    valid_until: dt.datetime | None = None

    def __post_init__(self) -> None:
        """Refuse URLs that are not absolute http(s), bad versions and empty windows."""
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidInput("service URL must be absolute http(s)", found=repr(self.url))
        if self.major_api_version < 1:
            raise InvalidInput("majorApiVersion must be 1 or more", found=self.major_api_version)
        if not self.operator:
            raise InvalidInput("a service needs an operator", found=repr(self.operator))
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise InvalidInput(
                "service validity ends before it starts",
                expected=f"end after {_timestamp(self.valid_from)}",
                found=_timestamp(self.valid_until),
            )

    def to_json(self) -> dict[str, Any]:
        """The ``Service`` JSON object."""
        valid_for = {"start": _timestamp(self.valid_from)}
        if self.valid_until is not None:
            valid_for["end"] = _timestamp(self.valid_until)
        return {
            "url": self.url,
            "majorApiVersion": self.major_api_version,
            "validFor": valid_for,
            "operator": self.operator,
        }


@record(kw_only=True)
class ServiceSelection:
    """A ``ServiceConfiguration``: the selector and, for EXACT, the count."""

    selector: Selector = Selector.ANY
    count: int | None = None

    def __post_init__(self) -> None:
        """EXACT needs a positive count; the others take none."""
        if (self.selector is Selector.EXACT) != (self.count is not None):
            raise InvalidInput("a count goes with the EXACT selector only", found=self.count)
        if self.count is not None and self.count < 1:
            raise InvalidInput("the EXACT count must be 1 or more", found=self.count)

    def to_json(self) -> dict[str, Any]:
        """The ``ServiceConfiguration`` JSON object."""
        document: dict[str, Any] = {"selector": self.selector.value}
        if self.count is not None:
            document["count"] = self.count
        return document


def signing_config(
    *,
    ca: Sequence[ServiceEndpoint],
    rekor: Sequence[ServiceEndpoint],
    oidc: Sequence[ServiceEndpoint] = (),
    tsa: Sequence[ServiceEndpoint] = (),
    rekor_selection: ServiceSelection | None = None,
    tsa_selection: ServiceSelection | None = None,
) -> dict[str, Any]:
    """A SigningConfig v0.2 document; each list is ordered newest first."""
    if not ca or not rekor:
        raise InvalidInput("a signing config needs at least one CA and one transparency log")
    return {
        "mediaType": SIGNING_CONFIG_MEDIA_TYPE,
        "caUrls": _services(ca),
        "oidcUrls": _services(oidc),
        "rekorTlogUrls": _services(rekor),
        "rekorTlogConfig": (rekor_selection or ServiceSelection()).to_json(),
        "tsaUrls": _services(tsa),
        "tsaConfig": (tsa_selection or ServiceSelection()).to_json(),
    }


def client_trust_config(
    trusted_root: Mapping[str, Any], signing_config: Mapping[str, Any]
) -> dict[str, Any]:
    """A ClientTrustConfig v0.1 combining ``trusted_root`` and ``signing_config``."""
    _expect_media_type("trusted root", trusted_root, TRUSTED_ROOT_MEDIA_TYPES)
    _expect_media_type("signing config", signing_config, (SIGNING_CONFIG_MEDIA_TYPE,))
    return {
        "mediaType": CLIENT_TRUST_CONFIG_MEDIA_TYPE,
        "trustedRoot": dict(trusted_root),
        "signingConfig": dict(signing_config),
    }


def _services(services: Sequence[ServiceEndpoint]) -> list[dict[str, Any]]:
    newest_first = sorted(services, key=lambda service: service.valid_from, reverse=True)
    return [service.to_json() for service in newest_first]


def _expect_media_type(what: str, document: Mapping[str, Any], allowed: Sequence[str]) -> None:
    found = document.get("mediaType")
    if found not in allowed:
        raise InvalidInput(
            f"the {what} has an unexpected mediaType",
            expected=" or ".join(allowed),
            found=repr(found),
        )


def _timestamp(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise InvalidInput("service validity times must be timezone-aware", found=str(moment))
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
