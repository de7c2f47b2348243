"""in-toto Statement v1 for attestations: one statement naming many subjects."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lacre.errors import InvalidInput

STATEMENT_V1 = "https://in-toto.io/Statement/v1"
PREDICATE_TYPES = {
    "slsaprovenance1": "https://slsa.dev/provenance/v1",
    "slsaprovenance02": "https://slsa.dev/provenance/v0.2",
    "spdxjson": "https://spdx.dev/Document",
    "cyclonedx": "https://cyclonedx.org/bom",
    "vuln": "https://cosign.sigstore.dev/attestation/vuln/v1",
    "openvex": "https://openvex.dev/ns",
    "custom": "https://cosign.sigstore.dev/attestation/v1",
}
"""Short names of common predicate types, as ``cosign attest --type`` knows them."""


@dataclass(frozen=True)
class Subject:
    """An attested artifact: its name and SHA-256 digest."""

    name: str
    sha256: bytes

    @classmethod
    def of(cls, name: str, data: bytes) -> Subject:
        """The subject for ``data`` named ``name``."""
        return cls(name, hashlib.sha256(data).digest())


def predicate_type(name: str) -> str:
    """The predicate type URI a short name stands for; a URI passes unchanged."""
    if name in PREDICATE_TYPES:
        return PREDICATE_TYPES[name]
    parts = urlsplit(name)
    if parts.scheme and (parts.netloc or parts.scheme not in ("http", "https")):
        return name
    raise InvalidInput(
        "unknown predicate type",
        expected="a URI or one of " + ", ".join(sorted(PREDICATE_TYPES)),
        found=repr(name),
    )


def statement(
    subjects: Sequence[Subject], predicate_type_uri: str, predicate: Mapping[str, Any]
) -> bytes:
    """The JSON payload of an in-toto Statement v1 for ``subjects``."""
    if not subjects:
        raise InvalidInput("an attestation needs at least one subject", found="none")
    document = {
        "_type": STATEMENT_V1,
        "subject": [
            {"name": subject.name, "digest": {"sha256": subject.sha256.hex()}}
            for subject in subjects
        ],
        "predicateType": predicate_type_uri,
        "predicate": dict(predicate),
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def parse_predicate(data: bytes) -> Mapping[str, Any]:
    """Parse a predicate file: a JSON object."""
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput("the predicate is not valid JSON", found=str(exc)) from None
    if not isinstance(document, dict):
        raise InvalidInput("the predicate must be a JSON object", found=type(document).__name__)
    return document
