"""DSSE envelopes, PAE and in-toto Statements."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from lacre.dsse import IN_TOTO_PAYLOAD_TYPE, Envelope, Signature, Statement, decode_b64, pae
from lacre.errors import InvalidInput


def test_pae_matches_the_spec_example() -> None:
    assert (
        pae("application/vnd.in-toto+json", b"hello")
        == b"DSSEv1 28 application/vnd.in-toto+json 5 hello"
    )
    assert pae("", b"") == b"DSSEv1 0  0 "
    assert pae("t\u00e9", b"\x00") == b"DSSEv1 3 t\xc3\xa9 1 \x00"  # lengths are in bytes


def test_envelope_round_trip_omits_empty_keyid() -> None:
    envelope = Envelope(
        b"{}", IN_TOTO_PAYLOAD_TYPE, (Signature(b"\x01\x02"), Signature(b"\x03", keyid="k1"))
    )
    document = envelope.to_json()
    assert document == {
        "payload": "e30=",
        "payloadType": IN_TOTO_PAYLOAD_TYPE,
        "signatures": [{"sig": "AQI="}, {"sig": "Aw==", "keyid": "k1"}],
    }
    assert Envelope.from_json(document) == envelope
    assert Envelope.from_json(json.dumps(document)) == envelope
    assert Envelope.from_json(json.dumps(document).encode()) == envelope
    assert envelope.pae() == pae(IN_TOTO_PAYLOAD_TYPE, b"{}")


def test_url_safe_and_unpadded_base64_are_accepted() -> None:
    data = bytes(range(250, 256))
    assert decode_b64(base64.urlsafe_b64encode(data).decode().rstrip("="), "x") == data
    assert decode_b64(base64.b64encode(data).decode(), "x") == data
    envelope = Envelope.from_json(
        {"payload": "e30", "payloadType": "t", "signatures": [{"sig": "-_8", "keyid": None}]}
    )
    assert envelope.payload == b"{}" and envelope.signatures == (Signature(b"\xfb\xff"),)


VALID: dict[str, Any] = {"payload": "e30=", "payloadType": "t", "signatures": [{"sig": "AA=="}]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"payload": None}, r"envelope\.payload: expected a string, found null"),
        ({"payload": "e30=!"}, r"envelope\.payload: expected base64, found 'e30=!'"),
        ({"payload": "A"}, r"envelope\.payload: expected base64"),
        ({"payloadType": ["t"]}, r"envelope\.payloadType: expected a string, found array"),
        ({"payloadType": "\ud800"}, r"envelope\.payloadType: not valid Unicode"),
        (
            {"signatures": []},
            r"envelope\.signatures: expected a non-empty array, found an empty array",
        ),
        (
            {"signatures": {"sig": "AA=="}},
            r"envelope\.signatures: expected a non-empty array, found object",
        ),
        (
            {"signatures": [{"sig": 1}]},
            r"envelope\.signatures\[0\]\.sig: expected a string, found number",
        ),
        (
            {"signatures": [{"sig": "AA==", "keyid": 3}]},
            r"envelope\.signatures\[0\]\.keyid: expected a string",
        ),
        (
            {"signatures": ["AA=="]},
            r"envelope\.signatures\[0\]: expected a JSON object, found string",
        ),
    ],
)
def test_envelope_refusals_name_the_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Envelope.from_json({**VALID, **change})


def test_envelope_text_must_be_a_json_object() -> None:
    with pytest.raises(InvalidInput, match="envelope: not valid JSON"):
        Envelope.from_json("{")
    with pytest.raises(InvalidInput, match="envelope: not valid JSON"):
        Envelope.from_json(b"\xff")
    with pytest.raises(
        InvalidInput, match=r"bundle\.dsseEnvelope: expected a JSON object, found array"
    ):
        Envelope.from_json("[]", path="bundle.dsseEnvelope")


def statement(**changes: Any) -> bytes:
    document: dict[str, Any] = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "a", "digest": {"sha256": "ab" * 32}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {"x": 1},
    }
    document.update(changes)
    return json.dumps({k: v for k, v in document.items() if v is not None}).encode()


def test_statement_v1_and_v01() -> None:
    parsed = Statement.from_payload(statement())
    assert parsed.type == "https://in-toto.io/Statement/v1"
    assert parsed.subjects[0].name == "a" and parsed.subjects[0].digest == {"sha256": "ab" * 32}
    assert parsed.predicate_type == "https://slsa.dev/provenance/v1" and parsed.predicate == {
        "x": 1
    }
    old = Statement.from_payload(
        statement(_type="https://in-toto.io/Statement/v0.1", predicate=None)
    )
    assert old.predicate == {}
    nameless = Statement.from_payload(statement(subject=[{"digest": {"sha512": "cd" * 64}}]))
    assert nameless.subjects[0].name == ""


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"_type": "https://in-toto.io/Statement/v2"},
            r"statement\._type: unknown in-toto Statement type",
        ),
        ({"subject": []}, r"statement\.subject: expected a non-empty array"),
        (
            {"subject": [{"name": "a"}]},
            r"statement\.subject\[0\]\.digest: expected a JSON object, found nothing",
        ),
        (
            {"subject": [{"digest": {}}]},
            r"statement\.subject\[0\]\.digest: expected a non-empty map",
        ),
        (
            {"subject": [{"digest": {"sha256": 1}}]},
            r"statement\.subject\[0\]\.digest: expected a non-empty map",
        ),
        (
            {"subject": [{"name": 1, "digest": {"sha256": "ab"}}]},
            r"statement\.subject\[0\]\.name: expected a string",
        ),
        ({"predicateType": None}, r"statement\.predicateType: expected a string, found nothing"),
        ({"predicate": [1]}, r"statement\.predicate: expected a JSON object, found array"),
    ],
)
def test_statement_refusals(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Statement.from_payload(statement(**changes))


def test_statement_payload_must_be_json() -> None:
    with pytest.raises(InvalidInput, match="statement: not valid JSON"):
        Statement.from_payload(b"\xff\xfe")
    with pytest.raises(InvalidInput, match="statement: expected a JSON object"):
        Statement.from_payload(b"[]")
