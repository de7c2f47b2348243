"""in-toto statements and predicate types."""

from __future__ import annotations

import hashlib
import json

import pytest

from lacre.dsse import Statement
from lacre.errors import InvalidInput
from lacre.sign.statement import (
    PREDICATE_TYPES,
    Subject,
    parse_predicate,
    predicate_type,
    statement,
)


def test_short_names_map_to_uris_and_uris_pass() -> None:
    assert predicate_type("slsaprovenance1") == "https://slsa.dev/provenance/v1"
    assert predicate_type("spdxjson") == "https://spdx.dev/Document"
    assert predicate_type("cyclonedx") == "https://cyclonedx.org/bom"
    assert predicate_type("openvex") == "https://openvex.dev/ns"
    assert predicate_type("vuln") == PREDICATE_TYPES["vuln"]
    assert predicate_type("https://example.test/p/v1") == "https://example.test/p/v1"
    assert predicate_type("urn:example:p") == "urn:example:p"
    for bad in ("slsa", "", "https://", "not a uri"):
        with pytest.raises(InvalidInput, match="predicate type"):
            predicate_type(bad)


def test_statement_lists_every_subject_and_parses_back() -> None:
    subjects = [Subject.of("a", b"1"), Subject.of("b", b"2")]
    payload = statement(subjects, "https://slsa.dev/provenance/v1", {"k": [1]})
    parsed = Statement.from_payload(payload)
    assert parsed.type == "https://in-toto.io/Statement/v1"
    assert [s.name for s in parsed.subjects] == ["a", "b"]
    assert parsed.subjects[1].digest["sha256"] == hashlib.sha256(b"2").hexdigest()
    assert parsed.predicate == {"k": [1]}
    with pytest.raises(InvalidInput, match="subject"):
        statement([], "https://x.test", {})


def test_predicates_must_be_json_objects() -> None:
    assert parse_predicate(b'{"a": 1}') == {"a": 1}
    for bad in (b"[1]", b"nope", b'"x"', b"[" * 100000):
        with pytest.raises(InvalidInput):
            parse_predicate(bad)
    assert json.loads(statement([Subject.of("a", b"")], "https://x.test", {}))["predicate"] == {}
