"""Reading trusted_root.json into typed logs and authorities."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from lacre.errors import InvalidInput, TooLarge
from lacre.keys import KeyAlgorithm, generate_signer
from lacre.models.trust_reader import (
    MAX_TRUSTED_ROOT_BYTES,
    TrustedLog,
    TrustedRoot,
    ValidityPeriod,
)
from lacre.models.trusted_root import TransparencyLogKey, trusted_root
from lacre.verify.roots import public_good_trusted_root, public_good_trusted_root_bytes
from tests.unit.x509.damaged import with_invalid_version

START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
CASES = Path(__file__).resolve().parents[2] / "assets/conformance/bundle-verify"


def _document() -> dict[str, Any]:
    key = generate_signer(KeyAlgorithm.ECDSA_P256_SHA256).public_key
    log = TransparencyLogKey(
        base_url="https://rekor.example.test:8443/path",
        key=key,
        log_id=key.key_id,
        valid_from=START,
    )
    return trusted_root([log])


def test_public_good_root_is_embedded_and_complete() -> None:
    root = public_good_trusted_root()
    assert json.loads(public_good_trusted_root_bytes())["mediaType"].endswith("version=0.1")
    hosts = {log.hostname for log in root.tlogs}
    assert {"rekor.sigstore.dev", "log2025-1.rekor.sigstore.dev"} <= hosts
    v1 = root.tlog(base64.b64decode("wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="))
    assert v1 is not None and v1.key is not None
    assert len(root.ctlogs) >= 2
    assert all(len(ca.chain) >= 1 for ca in root.certificate_authorities)
    assert root.timestamp_authorities


def test_lacre_written_root_reads_back() -> None:
    document = _document()
    root = TrustedRoot.from_json(document)
    (log,) = root.tlogs
    assert log.hostname == "rekor.example.test"
    assert log.validity == ValidityPeriod(start=START)
    assert root.tlog(log.log_id) is log
    assert root.tlog(b"\x00" * 32) is None
    assert root.certificate_authorities == ()


def test_validity_is_a_closed_interval() -> None:
    period = ValidityPeriod(start=START, end=START + dt.timedelta(days=1))
    assert period.contains(START)
    assert period.contains(START + dt.timedelta(days=1))
    assert not period.contains(START - dt.timedelta(microseconds=1))
    assert not period.contains(START + dt.timedelta(days=1, microseconds=1))
    assert ValidityPeriod(start=START).contains(START + dt.timedelta(days=10_000))


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://log2025-1.rekor.sigstore.dev", "log2025-1.rekor.sigstore.dev"),
        ("http://localhost:8000", "localhost"),
        ("https://user@host.test:1/a/b?q#f", "host.test"),
        ("http://[::1]:3000/x", "[::1]"),
        ("host.only", "host.only"),
    ],
)
def test_hostname_of_the_base_url(url: str, host: str) -> None:
    log = TrustedLog(
        base_url=url, log_id=b"", key=None, key_details="", validity=ValidityPeriod(start=START)
    )
    assert log.hostname == host


def test_missing_validity_start_of_a_log_is_refused() -> None:
    document = _document()
    del document["tlogs"][0]["publicKey"]["validFor"]["start"]
    with pytest.raises(InvalidInput, match=r"tlogs\[0\].publicKey.validFor.start is required"):
        TrustedRoot.from_json(document)


def test_conformance_root_without_a_start_is_refused() -> None:
    data = (
        CASES / "trust-root-tlog-missing-validity-start_fail" / "trusted_root.json"
    ).read_bytes()
    with pytest.raises(InvalidInput, match=r"validFor\.start"):
        TrustedRoot.parse(data)


@pytest.mark.parametrize("end", ["yesterday", 5, "2025-01-01T00:00:00"])
def test_malformed_validity_end_is_refused(end: object) -> None:
    document = _document()
    document["tlogs"][0]["publicKey"]["validFor"]["end"] = end
    with pytest.raises(InvalidInput, match=r"validFor\.end"):
        TrustedRoot.from_json(document)


def test_unusable_log_key_is_kept_but_never_found() -> None:
    document = _document()
    document["tlogs"][0]["publicKey"]["rawBytes"] = base64.b64encode(b"not a key").decode()
    root = TrustedRoot.from_json(document)
    assert root.tlogs[0].key is None
    assert root.tlog(root.tlogs[0].log_id) is None


def test_media_type_is_checked() -> None:
    document = _document()
    document["mediaType"] = "application/json"
    with pytest.raises(InvalidInput, match=r"trustedRoot\.mediaType"):
        TrustedRoot.from_json(document)


@pytest.mark.parametrize("version", [False, True], ids=["garbage", "unknown version"])
def test_authority_with_bad_certificate_is_refused(version: bool) -> None:
    public_good = json.loads(public_good_trusted_root_bytes())
    der = base64.b64decode(
        public_good["certificateAuthorities"][0]["certChain"]["certificates"][0]["rawBytes"]
    )
    raw = base64.b64encode(with_invalid_version(der)).decode() if version else "AAAA"
    document = _document()
    document["certificateAuthorities"] = [
        {
            "certChain": {"certificates": [{"rawBytes": raw}]},
            "validFor": {"start": "2025-01-01T00:00:00Z"},
        }
    ]
    with pytest.raises(
        InvalidInput, match=r"certificateAuthorities\[0\].certChain.certificates\[0\]"
    ):
        TrustedRoot.from_json(document)


@pytest.mark.parametrize("data", [b"", b"{", b"[]", b'{"mediaType": 1}', b"\xff\xfe"])
def test_malformed_documents_are_refused(data: bytes) -> None:
    with pytest.raises(InvalidInput):
        TrustedRoot.parse(data)


def test_oversized_document_is_refused() -> None:
    with pytest.raises(TooLarge):
        TrustedRoot.parse(b" " * (MAX_TRUSTED_ROOT_BYTES + 1))
