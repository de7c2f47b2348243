from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sigstore.models import ClientTrustConfig, SigningConfig
from sigstore_models.trustroot.v1 import SigningConfig as SigningConfigModel

from lacre.errors import InvalidInput
from lacre.keys import generate_signer
from lacre.models.signing_config import (
    Selector,
    ServiceEndpoint,
    ServiceSelection,
    client_trust_config,
    signing_config,
)
from lacre.models.trusted_root import TransparencyLogKey, trusted_root

START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
LATER = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)


def _service(url: str, version: int = 1, start: dt.datetime = START) -> ServiceEndpoint:
    return ServiceEndpoint(
        url=url, major_api_version=version, operator="example.test", valid_from=start
    )


def _config() -> dict[str, Any]:
    return signing_config(
        ca=[_service("http://fulcio.example.test")],
        oidc=[_service("http://dex.example.test/dex")],
        rekor=[
            _service("http://rekor.example.test"),
            _service("http://rekor2.example.test", 2, LATER),
        ],
        tsa=[_service("http://tsa.example.test/api/v1/timestamp")],
    )


def test_sigstore_python_accepts_our_signing_config() -> None:
    document = _config()
    assert [entry["majorApiVersion"] for entry in document["rekorTlogUrls"]] == [2, 1]
    config = SigningConfig(SigningConfigModel.from_json(json.dumps(document)))
    assert config.get_fulcio().url == "http://fulcio.example.test"
    assert config.get_oidc_url() == "http://dex.example.test/dex"


def test_sigstore_python_accepts_our_client_trust_config() -> None:
    key = generate_signer().public_key
    root = trusted_root(
        [
            TransparencyLogKey(
                base_url="http://rekor.example.test", key=key, log_id=key.key_id, valid_from=START
            )
        ]
    )
    document = client_trust_config(root, _config())
    parsed = ClientTrustConfig.from_json(json.dumps(document))
    assert parsed.signing_config.get_fulcio().url == "http://fulcio.example.test"
    assert parsed.trusted_root is not None


def test_exact_selector_needs_a_count() -> None:
    assert ServiceSelection(selector=Selector.EXACT, count=2).to_json() == {
        "selector": "EXACT",
        "count": 2,
    }
    with pytest.raises(InvalidInput):
        ServiceSelection(selector=Selector.EXACT)
    with pytest.raises(InvalidInput):
        ServiceSelection(selector=Selector.ANY, count=1)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"url": "fulcio.example.test"},
        {"url": "ftp://x.test"},
        {"url": "http://"},
        {"major_api_version": 0},
        {"operator": ""},
        {"valid_until": START - dt.timedelta(days=1)},
    ],
)
def test_bad_services_are_refused(kwargs: dict[str, object]) -> None:
    fields: dict[str, object] = {
        "url": "http://x.test",
        "major_api_version": 1,
        "operator": "op",
        "valid_from": START,
        **kwargs,
    }
    with pytest.raises(InvalidInput):
        ServiceEndpoint(**fields)  # type: ignore[arg-type]


def test_missing_parts_and_wrong_media_types_are_refused() -> None:
    with pytest.raises(InvalidInput, match="at least one CA"):
        signing_config(ca=[], rekor=[_service("http://r.test")])
    with pytest.raises(InvalidInput, match="trusted root"):
        client_trust_config({"mediaType": "x"}, _config())
    with pytest.raises(InvalidInput, match="signing config"):
        client_trust_config(
            {"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1"},
            {"mediaType": "application/vnd.dev.sigstore.signingconfig.v0.1+json"},
        )
    with pytest.raises(InvalidInput, match="timezone"):
        _service("http://x.test", start=dt.datetime(2025, 1, 1)).to_json()
