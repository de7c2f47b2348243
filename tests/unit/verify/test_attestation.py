"""The statement a bundle attests: envelope present, in-toto payload, expected predicate type."""

from __future__ import annotations

import json

import pytest

from lacre.dsse import IN_TOTO_PAYLOAD_TYPE, Envelope, Signature
from lacre.errors import VerificationError
from lacre.verify.attestation import attested_statement, in_toto_statement

SLSA = "https://slsa.dev/provenance/v1"


def envelope(payload: bytes, payload_type: str = IN_TOTO_PAYLOAD_TYPE) -> Envelope:
    return Envelope(payload, payload_type, (Signature(b"sig"),))


def statement_bytes(predicate_type: str = SLSA) -> bytes:
    document = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "a", "digest": {"sha256": "00" * 32}}],
        "predicateType": predicate_type,
        "predicate": {"x": 1},
    }
    return json.dumps(document).encode()


def test_the_statement_of_the_expected_type_is_returned() -> None:
    statement = attested_statement(envelope(statement_bytes()), SLSA, "bundle")
    assert statement.predicate_type == SLSA
    assert statement.predicate == {"x": 1}


def test_a_message_signature_is_not_an_attestation() -> None:
    with pytest.raises(VerificationError, match="bundle is not an attestation"):
        attested_statement(None, SLSA, "bundle")


def test_another_predicate_type_is_named() -> None:
    with pytest.raises(VerificationError, match="predicate type mismatch") as caught:
        attested_statement(envelope(statement_bytes("https://spdx.dev/Document")), SLSA, "b")
    assert caught.value.expected == SLSA
    assert caught.value.found == "https://spdx.dev/Document"


@pytest.mark.parametrize(
    ("payload", "payload_type", "phrase"),
    [
        (statement_bytes(), "text/plain", "DSSE payload type"),
        (b"", IN_TOTO_PAYLOAD_TYPE, "not an in-toto statement"),
        (statement_bytes()[:20], IN_TOTO_PAYLOAD_TYPE, "not an in-toto statement"),
        (b"\xff\xfe", IN_TOTO_PAYLOAD_TYPE, "not an in-toto statement"),
        (b'{"_type": "nope"}', IN_TOTO_PAYLOAD_TYPE, "not an in-toto statement"),
    ],
)
def test_hostile_payloads_are_refused(payload: bytes, payload_type: str, phrase: str) -> None:
    with pytest.raises(VerificationError, match=phrase):
        in_toto_statement(payload, payload_type, "layer")
    with pytest.raises(VerificationError, match=phrase):
        attested_statement(envelope(payload, payload_type), SLSA, "bundle")
