"""Choosing services from a signing config."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from lacre.errors import ConfigError, InvalidInput, TooLarge
from lacre.models.signing_config import (
    Selector,
    ServiceEndpoint,
    ServiceSelection,
    client_trust_config,
    signing_config,
)
from lacre.sign.config import load_json, select_services, split_trust_config
from lacre.sign.defaults import public_good_signing_config_bytes

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _ep(url: str, version: int = 1, operator: str = "op", **kw: Any) -> ServiceEndpoint:
    return ServiceEndpoint(
        url=url,
        major_api_version=version,
        operator=operator,
        valid_from=kw.get("start", T0),
        valid_until=kw.get("end"),
    )


def _config(**kw: Any) -> dict[str, Any]:
    kw.setdefault("ca", [_ep("https://ca.test")])
    kw.setdefault(
        "rekor",
        [
            _ep("https://rekor1.test"),
            _ep("https://rekor2.test", 2, start=T0 + dt.timedelta(days=1)),
        ],
    )
    kw.setdefault("oidc", [_ep("https://issuer.test")])
    kw.setdefault("tsa", [_ep("https://tsa.test/api/v1/timestamp")])
    return signing_config(**kw)


def test_the_newest_log_version_is_chosen_unless_forced() -> None:
    services = select_services(_config(), now=NOW)
    assert [(s.url, s.major_api_version) for s in services.tlogs] == [("https://rekor2.test", 2)]
    forced = select_services(_config(), rekor_version=1, now=NOW)
    assert [s.url for s in forced.tlogs] == ["https://rekor1.test"]
    assert services.ca_url == "https://ca.test"
    assert services.oidc_url == "https://issuer.test"
    assert services.tsa_urls == ("https://tsa.test/api/v1/timestamp",)


def test_expired_future_and_unknown_versions_are_dropped() -> None:
    rekor = [
        _ep("https://old.test", end=T0 + dt.timedelta(days=2)),
        _ep("https://future.test", start=NOW + dt.timedelta(days=1)),
        _ep("https://v3.test", 3),
        _ep("https://good.test"),
    ]
    services = select_services(_config(rekor=rekor, ca=[_ep("https://ca2.test", 2)]), now=NOW)
    assert [s.url for s in services.tlogs] == ["https://good.test"]
    assert services.ca_url is None


def test_no_usable_log_is_an_error() -> None:
    with pytest.raises(ConfigError, match="Rekor v2"):
        select_services(_config(rekor=[_ep("https://r.test")]), rekor_version=2, now=NOW)


def test_selectors_all_any_and_exact() -> None:
    rekor = [_ep("https://a.test", operator="a"), _ep("https://b.test", operator="b")]
    every = _config(rekor=rekor, rekor_selection=ServiceSelection(selector=Selector.ALL))
    assert len(select_services(every, now=NOW).tlogs) == 2
    assert len(select_services(_config(rekor=rekor), now=NOW).tlogs) == 1
    three = _config(rekor=rekor, rekor_selection=ServiceSelection(selector=Selector.EXACT, count=3))
    with pytest.raises(ConfigError, match="EXACT"):
        select_services(three, now=NOW)


def test_hostile_documents_are_refused() -> None:
    document = _config()
    with pytest.raises(InvalidInput, match="mediaType"):
        select_services({**document, "mediaType": "x"}, now=NOW)
    bad_url = json.loads(json.dumps(document))
    bad_url["caUrls"][0]["url"] = "file:///etc/passwd"
    with pytest.raises(InvalidInput, match="http"):
        select_services(bad_url, now=NOW)
    bad_time = json.loads(json.dumps(document))
    bad_time["rekorTlogUrls"][0]["validFor"]["start"] = "yesterday"
    with pytest.raises(InvalidInput, match="RFC 3339"):
        select_services(bad_time, now=NOW)
    many = json.loads(json.dumps(document))
    many["tsaUrls"] = many["tsaUrls"] * 100
    with pytest.raises(TooLarge):
        select_services(many, now=NOW)
    with pytest.raises(TooLarge):
        load_json(b" " * (2 << 20), "signing config")
    with pytest.raises(InvalidInput, match="not valid JSON"):
        load_json(b"{", "signing config")
    with pytest.raises(InvalidInput, match="object"):
        load_json(b"[]", "signing config")


def test_trust_config_is_split_and_checked() -> None:
    root = {"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1"}
    trust = client_trust_config(root, _config())
    found_root, found_config = split_trust_config(trust)
    assert found_root == root and found_config["caUrls"]
    with pytest.raises(InvalidInput, match="mediaType"):
        split_trust_config({**trust, "mediaType": "nope"})
    with pytest.raises(InvalidInput, match="signingConfig"):
        split_trust_config({k: v for k, v in trust.items() if k != "signingConfig"})


def test_the_public_good_signing_config_is_usable() -> None:
    services = select_services(load_json(public_good_signing_config_bytes(), "x"), now=NOW)
    assert services.ca_url == "https://fulcio.sigstore.dev"
    assert [s.url for s in services.tlogs] == ["https://rekor.sigstore.dev"]
    assert services.tsa_urls == ("https://timestamp.sigstore.dev/api/v1/timestamp",)
