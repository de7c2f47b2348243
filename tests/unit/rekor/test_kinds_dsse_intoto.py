"""Rekor v1 dsse 0.0.1 and intoto 0.0.2: golden bodies, multi-signature, double base64."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from typing import Any

import pytest
import rekor_types
import rfc8785
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sigstore._internal.rekor.client import RekorClient
from sigstore.dsse import DigestSet, StatementBuilder, Subject, _sign

from lacre import dsse
from lacre.errors import InvalidInput, VerificationError
from lacre.rekor.kinds import canonicalize_v1, index_keys_of

SUBJECT_DIGEST = hashlib.sha256(b"artifact").hexdigest()
STATEMENT = json.dumps(
    {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "a.tar.gz", "digest": {"sha256": SUBJECT_DIGEST}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {},
    }
).encode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def sign(key: ec.EllipticCurvePrivateKey, payload: bytes = STATEMENT) -> bytes:
    return key.sign(dsse.pae(dsse.IN_TOTO_PAYLOAD_TYPE, payload), ec.ECDSA(hashes.SHA256()))


def dsse_request(envelope: str, *verifiers: bytes) -> dict[str, Any]:
    return {
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "proposedContent": {"envelope": envelope, "verifiers": [b64(v) for v in verifiers]}
        },
    }


@pytest.fixture
def sigstore_dsse(
    p256: ec.EllipticCurvePrivateKey, leaf: x509.Certificate
) -> tuple[dict[str, Any], str]:
    """What sigstore-python's Rekor v1 client sends for an attestation, and the envelope."""
    statement = (
        StatementBuilder()
        .subjects(
            [Subject(name="a.tar.gz", digest=DigestSet.model_validate({"sha256": SUBJECT_DIGEST}))]
        )
        .predicate_type("https://slsa.dev/provenance/v1")
        .predicate({})
        .build()
    )
    envelope = _sign(p256, statement)
    request = RekorClient._build_dsse_request(None, envelope, leaf)  # type: ignore[arg-type]
    return dict(request), envelope.to_json()


def test_sigstore_python_dsse_request_gives_the_spec_body(
    sigstore_dsse: tuple[dict[str, Any], str], leaf: x509.Certificate
) -> None:
    request, envelope_json = sigstore_dsse
    entry = canonicalize_v1(request)
    envelope = json.loads(envelope_json)
    payload = base64.b64decode(envelope["payload"])
    expected: dict[str, Any] = {
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "envelopeHash": {
                "algorithm": "sha256",
                "value": hashlib.sha256(envelope_json.encode()).hexdigest(),
            },
            "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
            "signatures": [
                {"signature": envelope["signatures"][0]["sig"], "verifier": b64(pem(leaf))}
            ],
        },
    }
    assert entry.body == rfc8785.dumps(expected)
    parsed = rekor_types.Dsse.model_validate_json(entry.body)  # sigstore-python's reader
    assert parsed.spec.root.payload_hash is not None
    assert entry.index_keys == {
        f"sha256:{hashlib.sha256(payload).hexdigest()}",
        f"sha256:{hashlib.sha256(envelope_json.encode()).hexdigest()}",
        hashlib.sha256(pem(leaf)).hexdigest(),
        "alice@example.com",
        "https://github.com/org/repo/.github/workflows/r.yml@refs/heads/main",
    }
    assert index_keys_of(entry.body) == entry.index_keys
    assert entry.subject_keys == {f"sha256:{SUBJECT_DIGEST}"}


def test_envelope_hash_is_over_the_string_as_received(
    sigstore_dsse: tuple[dict[str, Any], str],
) -> None:
    request, envelope_json = sigstore_dsse
    spaced = copy.deepcopy(request)
    spaced["spec"]["proposedContent"]["envelope"] = json.dumps(json.loads(envelope_json), indent=2)
    body = json.loads(canonicalize_v1(spaced).body)
    expected = hashlib.sha256(spaced["spec"]["proposedContent"]["envelope"].encode()).hexdigest()
    assert body["spec"]["envelopeHash"]["value"] == expected


def test_two_signatures_are_sorted_and_matched_to_their_verifiers(
    p256: ec.EllipticCurvePrivateKey,
    other_p256: ec.EllipticCurvePrivateKey,
    leaf: x509.Certificate,
    issue: Any,
) -> None:
    other_cert = issue(other_p256, [x509.RFC822Name("bob@example.com")])
    signatures = [sign(p256), sign(other_p256)]
    envelope = dsse.Envelope(
        STATEMENT,
        dsse.IN_TOTO_PAYLOAD_TYPE,
        tuple(dsse.Signature(s, keyid=f"k{n}") for n, s in enumerate(signatures)),
    )
    entry = canonicalize_v1(
        dsse_request(json.dumps(envelope.to_json()), pem(other_cert), pem(leaf))
    )
    items = json.loads(entry.body)["spec"]["signatures"]
    assert [item["signature"] for item in items] == sorted(b64(s) for s in signatures)
    by_signature = {item["signature"]: base64.b64decode(item["verifier"]) for item in items}
    assert by_signature == {b64(signatures[0]): pem(leaf), b64(signatures[1]): pem(other_cert)}
    assert {"alice@example.com", "bob@example.com"} <= entry.index_keys
    assert index_keys_of(entry.body) == entry.index_keys


def test_every_signature_must_verify(
    p256: ec.EllipticCurvePrivateKey, other_p256: ec.EllipticCurvePrivateKey, leaf: x509.Certificate
) -> None:
    envelope = dsse.Envelope(
        STATEMENT,
        dsse.IN_TOTO_PAYLOAD_TYPE,
        (dsse.Signature(sign(p256)), dsse.Signature(sign(other_p256))),
    )
    with pytest.raises(
        VerificationError,
        match=r"spec\.proposedContent\.envelope\.signatures\[1\]\.sig: "
        r"the signature verifies with none of the 1 verifier",
    ):
        canonicalize_v1(dsse_request(json.dumps(envelope.to_json()), pem(leaf)))


@pytest.mark.parametrize(
    ("envelope", "message"),
    [
        ("not json", r"spec\.proposedContent\.envelope: not valid JSON"),
        ("[]", r"spec\.proposedContent\.envelope: expected a JSON object, found array"),
        (
            '{"payload": "", "payloadType": "t", "signatures": []}',
            r"envelope\.signatures: expected a non-empty array",
        ),
        (
            '{"payload": "%%", "payloadType": "t", "signatures": [{"sig": "AA=="}]}',
            r"envelope\.payload: expected base64",
        ),
        (
            '{"payload": "", "payloadType": 1, "signatures": [{"sig": "AA=="}]}',
            r"envelope\.payloadType: expected a string, found number",
        ),
        (
            '{"payload": "", "payloadType": "\\ud800", "signatures": [{"sig": "AA=="}]}',
            r"payloadType: not valid Unicode",
        ),
        ("[" * 100000 + "]" * 100000, r"spec\.proposedContent\.envelope: not valid JSON"),
    ],
)
def test_malformed_envelopes_are_refused(
    leaf: x509.Certificate, envelope: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        canonicalize_v1(dsse_request(envelope, pem(leaf)))


def test_verifiers_must_be_a_non_empty_array(sigstore_dsse: tuple[dict[str, Any], str]) -> None:
    request, _ = sigstore_dsse
    request["spec"]["proposedContent"]["verifiers"] = []
    with pytest.raises(
        InvalidInput, match=r"spec\.proposedContent\.verifiers: expected 1 to 10 elements, found 0"
    ):
        canonicalize_v1(request)


# -- intoto 0.0.2 ---------------------------------------------------------------------------


def intoto_request(
    key: ec.EllipticCurvePrivateKey, cert: x509.Certificate, keyid: str | None = None
) -> dict[str, Any]:
    """An intoto 0.0.2 entry the way @sigstore/cli builds it: payload and sig double base64."""
    signature: dict[str, str] = {"sig": b64(b64(sign(key)).encode()), "publicKey": b64(pem(cert))}
    if keyid is not None:
        signature["keyid"] = keyid
    return {
        "apiVersion": "0.0.2",
        "kind": "intoto",
        "spec": {
            "content": {
                "envelope": {
                    "payloadType": dsse.IN_TOTO_PAYLOAD_TYPE,
                    "payload": b64(b64(STATEMENT).encode()),
                    "signatures": [signature],
                },
                "hash": {"algorithm": "sha256", "value": "ab" * 32},
                "payloadHash": {
                    "algorithm": "sha256",
                    "value": hashlib.sha256(STATEMENT).hexdigest(),
                },
            }
        },
    }


def test_intoto_body_drops_the_payload_and_keeps_double_base64(
    p256: ec.EllipticCurvePrivateKey, leaf: x509.Certificate
) -> None:
    request = intoto_request(p256, leaf, keyid="")
    entry = canonicalize_v1(request)
    content = request["spec"]["content"]
    expected: dict[str, Any] = {
        "apiVersion": "0.0.2",
        "kind": "intoto",
        "spec": {
            "content": {
                "envelope": {
                    "payloadType": dsse.IN_TOTO_PAYLOAD_TYPE,
                    "signatures": [
                        {
                            "keyid": "",
                            "publicKey": b64(pem(leaf)),
                            "sig": content["envelope"]["signatures"][0]["sig"],
                        }
                    ],
                },
                "hash": content["hash"],
                "payloadHash": content["payloadHash"],
            }
        },
    }
    assert entry.body == rfc8785.dumps(expected)
    # verifiers decode sig twice
    sig = json.loads(entry.body)["spec"]["content"]["envelope"]["signatures"][0]["sig"]
    p256.public_key().verify(
        base64.b64decode(base64.b64decode(sig)),
        dsse.pae(dsse.IN_TOTO_PAYLOAD_TYPE, STATEMENT),
        ec.ECDSA(hashes.SHA256()),
    )
    assert entry.index_keys == {
        f"sha256:{hashlib.sha256(STATEMENT).hexdigest()}",
        hashlib.sha256(pem(leaf)).hexdigest(),
        "alice@example.com",
        "https://github.com/org/repo/.github/workflows/r.yml@refs/heads/main",
    }
    assert index_keys_of(entry.body) == entry.index_keys
    assert entry.subject_keys == {f"sha256:{SUBJECT_DIGEST}"}


def test_intoto_payload_hash_is_optional_but_checked(
    p256: ec.EllipticCurvePrivateKey, leaf: x509.Certificate
) -> None:
    request = intoto_request(p256, leaf)
    without = copy.deepcopy(request)
    del without["spec"]["content"]["payloadHash"]
    assert canonicalize_v1(without).body == canonicalize_v1(request).body
    request["spec"]["content"]["payloadHash"]["value"] = "00" * 32
    with pytest.raises(
        InvalidInput, match=r"spec\.content\.payloadHash\.value: does not match the payload"
    ):
        canonicalize_v1(request)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "envelope.payload",
            b64(STATEMENT),
            r"spec\.content\.envelope\.payload \(after the "
            r"first base64 decoding\): expected base64",
        ),
        (
            "envelope.payload",
            b64(b"\xff\xfe"),
            r"spec\.content\.envelope\.payload: expected base64 of a base64 string",
        ),
        ("hash", None, r"spec\.content\.hash: required field is missing"),
        (
            "hash",
            {"algorithm": "sha512", "value": "00"},
            r"spec\.content\.hash\.algorithm: unsupported hash algorithm: expected sha256",
        ),
        (
            "envelope.signatures",
            [],
            r"spec\.content\.envelope\.signatures: expected 1 to 10 elements, found 0",
        ),
    ],
)
def test_intoto_refusals(
    p256: ec.EllipticCurvePrivateKey, leaf: x509.Certificate, path: str, value: object, message: str
) -> None:
    request = intoto_request(p256, leaf)
    *parents, last = path.split(".")
    node = request["spec"]["content"]
    for name in parents:
        node = node[name]
    if value is None:
        del node[last]
    else:
        node[last] = value
    with pytest.raises(InvalidInput, match=message):
        canonicalize_v1(request)


def test_intoto_signature_must_verify_with_its_own_key(
    p256: ec.EllipticCurvePrivateKey, other_p256: ec.EllipticCurvePrivateKey, leaf: x509.Certificate
) -> None:
    request = intoto_request(other_p256, leaf)
    with pytest.raises(
        VerificationError,
        match=r"spec\.content\.envelope\.signatures\[0\]\.sig: the "
        r"signature does not verify over the envelope",
    ):
        canonicalize_v1(request)
    single = intoto_request(p256, leaf)
    single["spec"]["content"]["envelope"]["signatures"][0]["sig"] = b64(
        sign(p256)
    )  # single base64 only
    with pytest.raises(InvalidInput, match="double base64"):
        canonicalize_v1(single)
