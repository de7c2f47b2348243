"""Hostile input: random JSON and mutated valid requests raise InvalidInput and nothing else."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lacre import dsse
from lacre.errors import InvalidInput
from lacre.rekor.kinds import (
    UNEXPECTED,
    CanonicalEntry,
    canonicalize_v1,
    canonicalize_v2,
    index_keys_of,
    kind_of,
)
from tests.unit.x509.builders import self_signed
from tests.unit.x509.damaged import with_invalid_version, with_two_sans

KEY = ec.generate_private_key(ec.SECP256R1())
_SANS = [x509.RFC822Name("x@example.com")]
CERT = self_signed(KEY, x509.SubjectAlternativeName(_SANS), name="hostile")
PEM = CERT.public_bytes(serialization.Encoding.PEM)
DER = CERT.public_bytes(serialization.Encoding.DER)
DIGEST = hashlib.sha256(b"artifact").digest()
PAYLOAD = b'{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"00"}}]}'
TYPE = dsse.IN_TOTO_PAYLOAD_TYPE
DIGEST_SIG = KEY.sign(DIGEST, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
PAE_SIG = KEY.sign(dsse.pae(TYPE, PAYLOAD), ec.ECDSA(hashes.SHA256()))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


ENVELOPE = json.dumps(dsse.Envelope(PAYLOAD, TYPE, (dsse.Signature(PAE_SIG),)).to_json())
V1_REQUESTS: list[dict[str, Any]] = [
    {
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": DIGEST.hex()}},
            "signature": {"content": b64(DIGEST_SIG), "publicKey": {"content": b64(PEM)}},
        },
    },
    {
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {"proposedContent": {"envelope": ENVELOPE, "verifiers": [b64(PEM)]}},
    },
    {
        "apiVersion": "0.0.2",
        "kind": "intoto",
        "spec": {
            "content": {
                "envelope": {
                    "payloadType": TYPE,
                    "payload": b64(b64(PAYLOAD).encode()),
                    "signatures": [{"sig": b64(b64(PAE_SIG).encode()), "publicKey": b64(PEM)}],
                },
                "hash": {"algorithm": "sha256", "value": "00" * 32},
                "payloadHash": {
                    "algorithm": "sha256",
                    "value": hashlib.sha256(PAYLOAD).hexdigest(),
                },
            }
        },
    },
]
_VERIFIER = {"x509Certificate": {"rawBytes": b64(DER)}, "keyDetails": "PKIX_ECDSA_P256_SHA_256"}
V2_REQUESTS: list[dict[str, Any]] = [
    {
        "hashedRekordRequestV002": {
            "digest": b64(DIGEST),
            "signature": {"content": b64(DIGEST_SIG), "verifier": _VERIFIER},
        }
    },
    {
        "dsseRequestV002": {
            "envelope": {
                "payload": b64(PAYLOAD),
                "payloadType": TYPE,
                "signatures": [{"sig": b64(PAE_SIG)}],
            },
            "verifiers": [_VERIFIER],
        }
    },
]
BODIES = [canonicalize_v1(r).body for r in V1_REQUESTS] + [
    canonicalize_v2(r).body for r in V2_REQUESTS
]


def _keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in _keys(item)}
    if isinstance(value, list):
        return {key for item in value for key in _keys(item)}
    return set()


def _strings(value: object) -> set[str]:
    if isinstance(value, dict):
        return {s for item in value.values() for s in _strings(item)}
    if isinstance(value, list):
        return {s for item in value for s in _strings(item)}
    return {value} if isinstance(value, str) else set()


_SAMPLES: list[Any] = V1_REQUESTS + V2_REQUESTS + [json.loads(body) for body in BODIES]
VOCABULARY = sorted({key for sample in _SAMPLES for key in _keys(sample)})
STRINGS = sorted(
    {s for sample in _SAMPLES for s in _strings(sample)} | {"0.0.1", "0.0.2", "sha384", "SHA2_512"}
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(STRINGS)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(VOCABULARY) | st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=25,
)


def _only_invalid_input(action: Callable[[], object]) -> None:
    try:
        action()
    except InvalidInput as exc:
        assert not str(exc).startswith(UNEXPECTED), f"stray exception reached the safety net: {exc}"


SETTINGS = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@SETTINGS
@given(value=json_values)
def test_random_json_is_refused_cleanly(value: object) -> None:
    _only_invalid_input(lambda: canonicalize_v1(value))
    _only_invalid_input(lambda: canonicalize_v2(value))
    text = json.dumps(value).encode()
    _only_invalid_input(lambda: index_keys_of(text))
    _only_invalid_input(lambda: kind_of(text))


def _paths(value: object, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    paths = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            paths += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            paths += _paths(item, (*prefix, n))
    return paths


def _mutate(
    document: Any, path: tuple[str | int, ...], how: str, replacement: object, position: int
) -> Any:
    mutated = copy.deepcopy(document)
    parent = mutated
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    current = parent[last]
    if how == "delete":
        del parent[last]
    elif how == "replace":
        parent[last] = replacement
    elif isinstance(current, str) and current:
        n = position % len(current)
        parent[last] = current[:n] + chr((ord(current[n]) + 1) % 0x110000 or 1) + current[n + 1 :]
    else:
        parent[last] = replacement
    return mutated


@SETTINGS
@given(
    sample=st.integers(0, len(_SAMPLES) - 1),
    choice=st.integers(0, 10_000),
    how=st.sampled_from(["delete", "replace", "flip"]),
    replacement=json_values,
    position=st.integers(0, 10_000),
)
def test_mutated_valid_documents_are_accepted_or_refused_cleanly(
    sample: int, choice: int, how: str, replacement: object, position: int
) -> None:
    document = _SAMPLES[sample]
    paths = _paths(document)
    mutated = _mutate(document, paths[choice % len(paths)], how, replacement, position)
    _only_invalid_input(lambda: canonicalize_v1(mutated))
    _only_invalid_input(lambda: canonicalize_v2(mutated))
    text = json.dumps(mutated).encode()
    _only_invalid_input(lambda: index_keys_of(text))


@SETTINGS
@given(data=st.binary(max_size=64))
def test_random_bytes_are_not_a_body(data: bytes) -> None:
    _only_invalid_input(lambda: index_keys_of(data))
    _only_invalid_input(lambda: kind_of(data))


@pytest.mark.parametrize("body", BODIES)
def test_stored_bodies_reindex_identically(body: bytes) -> None:
    entries: list[CanonicalEntry] = [canonicalize_v1(r) for r in V1_REQUESTS] + [
        canonicalize_v2(r) for r in V2_REQUESTS
    ]
    entry = next(e for e in entries if e.body == body)
    assert index_keys_of(body) == entry.index_keys


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "A" * (256 * 1024 + 4),
            r"spec\.signature\.publicKey\.content: too long: expected at most 262144 characters",
        ),
        ("\ud800", r"spec\.signature\.publicKey\.content: not valid Unicode text"),
    ],
)
def test_huge_and_invalid_strings(value: str, message: str) -> None:
    request = copy.deepcopy(V1_REQUESTS[0])
    request["spec"]["signature"]["publicKey"]["content"] = value
    with pytest.raises(InvalidInput, match=message):
        canonicalize_v1(request)


def test_deep_nesting_in_an_envelope_string() -> None:
    request = copy.deepcopy(V1_REQUESTS[1])
    request["spec"]["proposedContent"]["envelope"] = '{"payload":' * 50_000 + "1" + "}" * 50_000
    with pytest.raises(InvalidInput, match="not valid JSON"):
        canonicalize_v1(request)


def test_deep_python_structures_are_refused() -> None:
    deep: Any = []
    for _ in range(100_000):
        deep = [deep]
    request = copy.deepcopy(V1_REQUESTS[0])
    request["spec"]["data"] = deep
    with pytest.raises(InvalidInput, match=r"spec\.data: expected a JSON object, found array"):
        canonicalize_v1(request)


def _pem(der: bytes) -> bytes:
    return (
        b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"
    )


_UNKNOWN_VERSION = with_invalid_version(DER)
"""A certificate ``cryptography`` refuses with InvalidVersion, not ValueError."""


@pytest.mark.parametrize(
    ("material", "message"),
    [
        (_UNKNOWN_VERSION, "expected a PEM or DER certificate or public key, found neither"),
        (_pem(_UNKNOWN_VERSION), "106 is not a valid X509 version"),
    ],
    ids=["DER", "PEM"],
)
def test_a_v1_certificate_of_an_unknown_version_is_refused(material: bytes, message: str) -> None:
    request = copy.deepcopy(V1_REQUESTS[0])
    request["spec"]["signature"]["publicKey"]["content"] = b64(material)
    with pytest.raises(InvalidInput, match=message):
        canonicalize_v1(request)


def test_a_v2_certificate_of_an_unknown_version_is_refused() -> None:
    request = copy.deepcopy(V2_REQUESTS[0])
    verifier = request["hashedRekordRequestV002"]["signature"]["verifier"]
    verifier["x509Certificate"]["rawBytes"] = b64(_UNKNOWN_VERSION)
    with pytest.raises(InvalidInput, match=r"not a DER X\.509 certificate: 106 is not a valid"):
        canonicalize_v2(request)


def test_a_v1_certificate_with_two_san_extensions_is_refused() -> None:
    cert = self_signed(
        KEY, x509.SubjectAlternativeName(_SANS), x509.IssuerAlternativeName(_SANS), name="hostile"
    )
    der = with_two_sans(cert.public_bytes(serialization.Encoding.DER))
    pem = (
        b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"
    )
    request = copy.deepcopy(V1_REQUESTS[0])
    request["spec"]["signature"]["publicKey"]["content"] = b64(pem)
    with pytest.raises(InvalidInput, match="certificate extensions are malformed: Duplicate"):
        canonicalize_v1(request)
