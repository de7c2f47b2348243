"""RFC 3161 timestamps as a source of verified time, on a real Rekor v2 bundle."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from lacre.errors import VerificationError
from lacre.models.bundle import Bundle
from lacre.models.trust_reader import TrustedRoot, ValidityPeriod
from lacre.record import replace
from lacre.verify import AllOf, Identity, Issuer, Verifier
from lacre.verify.timestamps import verify_timestamps

CASE = Path(__file__).resolve().parents[2] / "assets/conformance/bundle-verify/rekor2-happy-path"
ARTIFACT = (CASE.parent / "a.txt").read_bytes()
GEN_TIME = dt.datetime(2025, 6, 12, 12, 2, 20, tzinfo=dt.UTC)
POLICY = AllOf(
    Identity(
        "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
        ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
    ),
    Issuer("https://token.actions.githubusercontent.com"),
)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """The bundle's JSON."""
    result: dict[str, Any] = json.loads((CASE / "bundle.sigstore.json").read_text())
    return result


@pytest.fixture(scope="module")
def bundle(document: dict[str, Any]) -> Bundle:
    """The parsed bundle."""
    return Bundle.from_json(document)


@pytest.fixture(scope="module")
def root() -> TrustedRoot:
    """The case's trusted root."""
    return TrustedRoot.parse((CASE / "trusted_root.json").read_bytes())


def test_trusted_timestamp_over_the_signature_verifies(bundle: Bundle, root: TrustedRoot) -> None:
    report = verify_timestamps(
        bundle.material.timestamps, bundle.signature, root.timestamp_authorities
    )
    assert [t.time for t in report.verified] == [GEN_TIME]
    assert report.verified[0].source.startswith("TSA https://")
    assert report.rejected == []


def test_timestamp_over_another_signature_does_not_count(bundle: Bundle, root: TrustedRoot) -> None:
    report = verify_timestamps(bundle.material.timestamps, b"other", root.timestamp_authorities)
    assert report.verified == []
    assert "no trusted timestamp authority verifies it" in report.rejected[0]


def test_garbage_timestamp_does_not_count(bundle: Bundle, root: TrustedRoot) -> None:
    report = verify_timestamps([b"\x30\x03junk"], bundle.signature, root.timestamp_authorities)
    assert report.verified == []
    assert "not a DER TimeStampResp" in report.rejected[0]


def test_untrusted_or_absent_authority_does_not_count(bundle: Bundle) -> None:
    report = verify_timestamps(bundle.material.timestamps, bundle.signature, [])
    assert report.verified == []
    assert "no timestamp authorities in the trusted root" in report.rejected[0]


def test_gen_time_outside_the_authority_window_does_not_count(
    bundle: Bundle, root: TrustedRoot
) -> None:
    authority = root.timestamp_authorities[0]
    closed = replace(
        authority,
        validity=ValidityPeriod(
            start=authority.validity.start, end=GEN_TIME - dt.timedelta(seconds=1)
        ),
    )
    report = verify_timestamps(bundle.material.timestamps, bundle.signature, [closed])
    assert report.verified == []
    assert "outside the TSA's validity" in report.rejected[0]
    inclusive = replace(
        authority, validity=ValidityPeriod(start=authority.validity.start, end=GEN_TIME)
    )
    assert verify_timestamps(bundle.material.timestamps, bundle.signature, [inclusive]).verified


def test_duplicate_timestamps_are_refused(bundle: Bundle, root: TrustedRoot) -> None:
    twice = bundle.material.timestamps * 2
    with pytest.raises(VerificationError, match="duplicate RFC 3161 timestamps"):
        verify_timestamps(twice, bundle.signature, root.timestamp_authorities)


def test_too_many_timestamps_are_refused(bundle: Bundle, root: TrustedRoot) -> None:
    many = [bytes([n]) for n in range(33)]
    with pytest.raises(VerificationError, match="too many RFC 3161 timestamps"):
        verify_timestamps(many, bundle.signature, root.timestamp_authorities)


def test_rekor_v2_bundle_needs_its_timestamp(document: dict[str, Any], root: TrustedRoot) -> None:
    verifier = Verifier(root)
    verifier.verify(json.dumps(document), ARTIFACT, POLICY)
    stripped = json.loads(json.dumps(document))
    del stripped["verificationMaterial"]["timestampVerificationData"]
    with pytest.raises(VerificationError, match="no verified signing time"):
        verifier.verify(json.dumps(stripped), ARTIFACT, POLICY)


def test_flipped_timestamp_byte_is_reported(document: dict[str, Any], root: TrustedRoot) -> None:
    tampered = json.loads(json.dumps(document))
    item = tampered["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
    data = bytearray(base64.b64decode(item["signedTimestamp"]))
    data[-10] ^= 0x01
    item["signedTimestamp"] = base64.b64encode(bytes(data)).decode()
    with pytest.raises(VerificationError, match="timestamp 0"):
        Verifier(root).verify(json.dumps(tampered), ARTIFACT, POLICY)
