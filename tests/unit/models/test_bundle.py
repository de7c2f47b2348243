"""Bundle parsing: every version, strict structure, and the v0.3 output."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from lacre.errors import InvalidInput, TooLarge
from lacre.models.bundle import MAX_BUNDLE_BYTES, MEDIA_TYPE_V03, Bundle

CASES = Path(__file__).resolve().parents[2] / "assets/conformance/bundle-verify"


def _load(case: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((CASES / case / "bundle.sigstore.json").read_text())
    return document


@pytest.fixture
def v03() -> dict[str, Any]:
    """A v0.3 bundle with a message signature and a Rekor v1 entry."""
    return _load("happy-path-v0.3-new-mediaType")


def _entry(document: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = document["verificationMaterial"]["tlogEntries"][0]
    return entry


@pytest.mark.parametrize(
    ("case", "version"),
    [
        ("happy-path-v0.1", "0.1"),
        ("happy-path-v0.2", "0.2"),
        ("happy-path-v0.3", "0.3"),
        ("happy-path-v0.3-new-mediaType", "0.3"),
        ("rekor2-happy-path", "0.3"),
        ("happy-path-intoto-in-dsse-v3", "0.3"),
        ("managed-key-happy-path", "0.3"),
    ],
)
def test_every_version_parses(case: str, version: str) -> None:
    bundle = Bundle.parse((CASES / case / "bundle.sigstore.json").read_bytes())
    assert bundle.version == version
    assert bundle.signature
    assert len(bundle.material.tlog_entries) == 1


def test_fields_are_decoded(v03: dict[str, Any]) -> None:
    bundle = Bundle.from_json(v03)
    entry = bundle.material.tlog_entries[0]
    assert entry.log_index == int(_entry(v03)["logIndex"])
    assert entry.kind_version.kind == "hashedrekord"
    assert entry.integrated_time == int(_entry(v03)["integratedTime"])
    assert entry.inclusion_proof is not None
    assert entry.inclusion_proof.checkpoint is not None
    assert len(entry.log_id) == 32
    assert bundle.material.leaf is not None
    assert bundle.message_signature is not None
    assert bundle.message_signature.digest_algorithm == "SHA2_256"


def test_v03_round_trip_is_stable(v03: dict[str, Any]) -> None:
    bundle = Bundle.from_json(v03)
    again = Bundle.parse(bundle.to_bytes())
    assert again == bundle
    assert again.to_json()["mediaType"] == MEDIA_TYPE_V03
    assert again.to_json() == bundle.to_json()


def test_dsse_and_key_bundles_round_trip() -> None:
    for case in ("happy-path-intoto-in-dsse-v3", "managed-key-happy-path", "rekor2-happy-path"):
        bundle = Bundle.from_json(_load(case))
        assert Bundle.parse(bundle.to_bytes()) == bundle


def test_snake_case_and_numeric_int64_are_accepted(v03: dict[str, Any]) -> None:
    entry = _entry(v03)
    entry["log_index"] = int(entry.pop("logIndex"))
    entry["integratedTime"] = int(entry["integratedTime"])
    assert Bundle.from_json(v03).material.tlog_entries[0].log_index == entry["log_index"]


def test_absent_log_indexes_are_zero_as_protobuf_json_omits_defaults(v03: dict[str, Any]) -> None:
    entry = _entry(v03)
    del entry["logIndex"]
    del entry["inclusionProof"]["logIndex"]
    parsed = Bundle.from_json(v03).material.tlog_entries[0]
    assert parsed.log_index == 0
    assert parsed.inclusion_proof is not None
    assert parsed.inclusion_proof.log_index == 0


def test_url_safe_unpadded_base64_is_accepted(v03: dict[str, Any]) -> None:
    signature = v03["messageSignature"]["signature"]
    v03["messageSignature"]["signature"] = signature.rstrip("=").replace("+", "-").replace("/", "_")
    assert Bundle.from_json(v03).signature == Bundle.from_json(_load("happy-path-v0.3")).signature


def _mutations() -> list[tuple[str, Any, str]]:
    def set_(path: str, value: Any) -> Any:
        def apply(document: dict[str, Any]) -> None:
            *parents, last = path.split(".")
            target: Any = document
            for name in parents:
                target = target[int(name)] if name.isdigit() else target[name]
            if value is KeyError:
                del target[last]
            else:
                target[last] = value

        return apply

    tle = "verificationMaterial.tlogEntries.0"
    return [
        (
            "media type",
            set_("mediaType", "application/vnd.dev.sigstore.bundle.v0.4+json"),
            "mediaType",
        ),
        ("media type type", set_("mediaType", 3), "bundle.mediaType"),
        ("no content", set_("messageSignature", KeyError), "neither"),
        (
            "both contents",
            set_(
                "dsseEnvelope", {"payload": "", "payloadType": "x", "signatures": [{"sig": "AA=="}]}
            ),
            "both",
        ),
        ("no material", set_("verificationMaterial", KeyError), "verificationMaterial"),
        (
            "chain in v0.3",
            set_("verificationMaterial.x509CertificateChain", {"certificates": []}),
            "exactly one of certificate and publicKey",
        ),
        ("empty signature", set_("messageSignature.signature", ""), "signature is empty"),
        (
            "bad base64",
            set_("messageSignature.signature", "@@@@"),
            "messageSignature.signature is not valid base64",
        ),
        (
            "digest algorithm",
            set_("messageSignature.messageDigest.algorithm", "MD5"),
            "messageDigest.algorithm",
        ),
        ("negative index", set_(f"{tle}.logIndex", "-1"), "logIndex is negative"),
        ("huge index", set_(f"{tle}.logIndex", "99999999999999999999"), "int64"),
        ("float index", set_(f"{tle}.logIndex", 1.5), "logIndex"),
        ("bool index", set_(f"{tle}.logIndex", True), "logIndex"),
        ("log id type", set_(f"{tle}.logId", "x"), "logId is not a JSON object"),
        ("kind missing", set_(f"{tle}.kindVersion", KeyError), "kindVersion"),
        (
            "short root hash",
            set_(f"{tle}.inclusionProof.rootHash", "AAAA"),
            "rootHash has the wrong length",
        ),
        ("hash type", set_(f"{tle}.inclusionProof.hashes", [1]), "hashes[0]"),
        (
            "too many hashes",
            set_(f"{tle}.inclusionProof.hashes", ["A" * 43 + "="] * 65),
            "too many hashes",
        ),
        (
            "no checkpoint",
            set_(f"{tle}.inclusionProof.checkpoint", KeyError),
            "needs an inclusion proof with a checkpoint",
        ),
        ("no proof", set_(f"{tle}.inclusionProof", KeyError), "needs an inclusion proof"),
        ("entries type", set_("verificationMaterial.tlogEntries", {}), "tlogEntries"),
        (
            "timestamps type",
            set_(
                "verificationMaterial.timestampVerificationData",
                {"rfc3161Timestamps": [{"signedTimestamp": 5}]},
            ),
            "signedTimestamp",
        ),
        (
            "certificate empty",
            set_("verificationMaterial.certificate", {"rawBytes": ""}),
            "rawBytes is empty",
        ),
    ]


@pytest.mark.parametrize(
    ("name", "mutate", "message"), _mutations(), ids=[m[0] for m in _mutations()]
)
def test_malformed_fields_are_named(
    v03: dict[str, Any], name: str, mutate: Any, message: str
) -> None:
    document = copy.deepcopy(v03)
    mutate(document)
    with pytest.raises(InvalidInput) as failure:
        Bundle.from_json(document)
    assert message in str(failure.value), name


def test_v01_entries_need_an_inclusion_promise() -> None:
    document = _load("happy-path-v0.1")
    del _entry(document)["inclusionPromise"]
    with pytest.raises(InvalidInput, match="needs an inclusion promise"):
        Bundle.from_json(document)


def test_v01_proof_may_lack_a_checkpoint() -> None:
    document = _load("happy-path-v0.1")
    del _entry(document)["inclusionProof"]["checkpoint"]
    assert Bundle.from_json(document).material.tlog_entries[0].inclusion_proof is not None


def test_v01_bundles_may_not_use_a_single_certificate() -> None:
    document = _load("happy-path-v0.1")
    material = document["verificationMaterial"]
    material["certificate"] = material.pop("x509CertificateChain")["certificates"][0]
    with pytest.raises(InvalidInput, match="x509CertificateChain"):
        Bundle.from_json(document)


def test_dsse_envelope_needs_exactly_one_signature() -> None:
    document = _load("happy-path-intoto-in-dsse-v3")
    signatures = document["dsseEnvelope"]["signatures"]
    signatures.append(dict(signatures[0]))
    with pytest.raises(InvalidInput, match="exactly one signature"):
        Bundle.from_json(document)


@pytest.mark.parametrize("size", [1, 10, 100, 1000, 4000])
def test_truncated_bundles_are_refused(size: int) -> None:
    data = (CASES / "happy-path-v0.3" / "bundle.sigstore.json").read_bytes()[:size]
    with pytest.raises(InvalidInput):
        Bundle.parse(data)


@pytest.mark.parametrize("data", [b"", b"null", b"[]", b"7", b'"x"', b"{}", b"[" * 100_000])
def test_hostile_documents_are_refused(data: bytes) -> None:
    with pytest.raises(InvalidInput):
        Bundle.parse(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "bundle is empty: expected a JSON object, found no content"),
        (b" \n\t", "bundle is empty"),
        ('{"a": "\u00e9"}'.encode("utf-16"), "bundle is not UTF-8 text: expected JSON in UTF-8"),
        (b'{"a": "\xff"}', "bundle is not UTF-8 text: .* found byte 0xff at offset 7"),
        (b"\xef\xbb\xbf{}", "bundle is not valid JSON: .*BOM"),
        (b'{"a": }', "bundle is not valid JSON: expected a JSON object, found Expecting value"),
    ],
    ids=["empty", "blank", "utf-16", "latin-1", "bom", "syntax"],
)
def test_what_is_wrong_with_an_unreadable_document_is_named(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=f"^{message}"):
        Bundle.parse(data)


def test_oversized_bundle_is_refused_before_parsing() -> None:
    with pytest.raises(TooLarge):
        Bundle.parse(b" " * (MAX_BUNDLE_BYTES + 1))


def test_too_many_log_entries_are_refused(v03: dict[str, Any]) -> None:
    v03["verificationMaterial"]["tlogEntries"] *= 33
    with pytest.raises(TooLarge, match="tlogEntries has too many items"):
        Bundle.from_json(v03)


@pytest.mark.parametrize(
    ("signatures", "message"),
    [([], "signatures: expected a non-empty array"), ([{"sig": ""}], "sig is empty")],
)
def test_dsse_envelope_signatures_are_checked(signatures: list[Any], message: str) -> None:
    document = _load("happy-path-intoto-in-dsse-v3")
    document["dsseEnvelope"]["signatures"] = signatures
    with pytest.raises(InvalidInput, match=message):
        Bundle.from_json(document)


def test_dsse_keyid_survives_a_round_trip() -> None:
    document = _load("happy-path-intoto-in-dsse-v3")
    document["dsseEnvelope"]["signatures"][0]["keyid"] = "key-1"
    bundle = Bundle.from_json(document)
    assert bundle.dsse_envelope is not None
    assert bundle.dsse_envelope.signatures[0].keyid == "key-1"
    assert bundle.to_json()["dsseEnvelope"]["signatures"][0]["keyid"] == "key-1"
