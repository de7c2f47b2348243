"""The SET payload and its verification, checked against RFC 8785 and the log's signer."""

from __future__ import annotations

import json

import pytest
import rfc8785

from lacre.errors import VerificationError
from lacre.keys import KeyAlgorithm, Signer, generate_signer
from lacre.rekor.set import set_payload as log_side_payload
from lacre.rekor.set import sign_set
from lacre.transparency.inclusion_promise import set_payload, verify_inclusion_promise

BODY = b'{"apiVersion":"0.0.1","kind":"hashedrekord"}'
LOG_ID = bytes(range(32))


def test_payload_is_the_canonical_json_the_log_signs() -> None:
    payload = set_payload(BODY, 1_700_000_000, LOG_ID, 12)
    document = json.loads(payload)
    assert list(document) == ["body", "integratedTime", "logID", "logIndex"]
    assert payload == rfc8785.dumps(document)
    assert payload == log_side_payload(BODY, 1_700_000_000, LOG_ID, 12)


def _check(signature: bytes, key_signer: Signer, **changes: object) -> None:
    body = changes.get("body", BODY)
    time = changes.get("integrated_time", 1_700_000_000)
    log_id = changes.get("log_id", LOG_ID)
    index = changes.get("log_index", 12)
    assert isinstance(body, bytes) and isinstance(log_id, bytes)
    assert isinstance(time, int) and isinstance(index, int)
    verify_inclusion_promise(
        key_signer.public_key,
        signature,
        body=body,
        integrated_time=time,
        log_id=log_id,
        log_index=index,
    )


def test_promise_verifies_and_each_field_is_bound() -> None:
    signer = generate_signer(KeyAlgorithm.ECDSA_P256_SHA256)
    signature = sign_set(signer, BODY, 1_700_000_000, LOG_ID, 12)
    _check(signature, signer)
    for name, other in (
        ("body", BODY + b" "),
        ("integrated_time", 1_700_000_001),
        ("log_id", bytes(32)),
        ("log_index", 13),
    ):
        with pytest.raises(VerificationError, match=r"inclusion promise \(SET\)"):
            _check(signature, signer, **{name: other})
