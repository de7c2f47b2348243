"""DSSE envelopes, their Pre-Authentication Encoding, and in-toto Statements.

Parsing is strict about types and encodings and names the offending field
(``envelope.signatures[0].sig: ...``); unknown fields are ignored, as the DSSE
and in-toto specifications allow. Base64 fields accept the standard and the
URL-safe alphabets, padded or not, as DSSE permits; anything else is refused.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any

from lacre.errors import InvalidInput
from lacre.jsontypes import MISSING, type_name, utf8
from lacre.record import field, record

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPES = ("https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1")

_B64 = re.compile(r"[A-Za-z0-9+/\-_]*={0,2}")


def pae(payload_type: str, payload: bytes) -> bytes:
    """Return the DSSE v1 Pre-Authentication Encoding of ``payload`` with ``payload_type``."""
    encoded_type = utf8(payload_type, "payloadType")
    return b"DSSEv1 %d %b %d %b" % (len(encoded_type), encoded_type, len(payload), payload)


@record
class Signature:
    """One DSSE signature: the raw signature bytes and an optional key hint."""

    sig: bytes
    keyid: str = ""


@record
class Envelope:
    """A DSSE envelope: the (decoded) payload, its type and one or more signatures."""

    payload: bytes
    payload_type: str
    signatures: tuple[Signature, ...]

    @classmethod
    def from_json(
        cls, data: str | bytes | Mapping[str, Any], *, path: str = "envelope"
    ) -> Envelope:
        """Parse the JSON form (text or an already parsed object) of an envelope.

        ``path`` prefixes error messages, so callers embedding an envelope can name
        where it sits (``spec.proposedContent.envelope``).
        """
        document = _mapping(_load(data, path) if isinstance(data, str | bytes) else data, path)
        payload = decode_b64(_text(document, "payload", path), f"{path}.payload")
        payload_type = _text(document, "payloadType", path)
        utf8(payload_type, f"{path}.payloadType")
        items = document.get("signatures", MISSING)
        if not isinstance(items, list) or not items:
            found = "an empty array" if isinstance(items, list) else type_name(items)
            raise InvalidInput(f"{path}.signatures: expected a non-empty array, found {found}")
        signatures = tuple(
            _signature(item, f"{path}.signatures[{n}]") for n, item in enumerate(items)
        )
        return cls(payload, payload_type, signatures)

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form (standard base64; ``keyid`` omitted when empty)."""
        signatures: list[dict[str, str]] = []
        for signature in self.signatures:
            item = {"sig": base64.b64encode(signature.sig).decode("ascii")}
            if signature.keyid:
                item["keyid"] = signature.keyid
            signatures.append(item)
        return {
            "payload": base64.b64encode(self.payload).decode("ascii"),
            "payloadType": self.payload_type,
            "signatures": signatures,
        }

    def pae(self) -> bytes:
        """The bytes every signature of this envelope signs."""
        return pae(self.payload_type, self.payload)


@record
class Subject:
    """One subject of an in-toto Statement: an optional name and its digests."""

    name: str
    digest: Mapping[str, str] = field(default_factory=dict)


@record
class Statement:
    """An in-toto Statement (v1 or v0.1): subjects, predicate type and predicate."""

    type: str
    subjects: tuple[Subject, ...]
    predicate_type: str
    predicate: Mapping[str, Any]

    @classmethod
    def from_payload(cls, payload: bytes) -> Statement:
        """Parse a Statement from a DSSE payload (UTF-8 JSON)."""
        document = _mapping(_load(payload, "statement"), "statement")
        statement_type = _text(document, "_type", "statement")
        if statement_type not in STATEMENT_TYPES:
            raise InvalidInput(
                "statement._type: unknown in-toto Statement type",
                expected=" or ".join(STATEMENT_TYPES),
                found=repr(statement_type),
            )
        items = document.get("subject", MISSING)
        if not isinstance(items, list) or not items:
            found = "an empty array" if isinstance(items, list) else type_name(items)
            raise InvalidInput(f"statement.subject: expected a non-empty array, found {found}")
        subjects = tuple(_subject(item, f"statement.subject[{n}]") for n, item in enumerate(items))
        predicate_type = _text(document, "predicateType", "statement")
        predicate = document.get("predicate", {})
        return cls(
            statement_type, subjects, predicate_type, _mapping(predicate, "statement.predicate")
        )


def decode_b64(text: str, path: str) -> bytes:
    """Decode standard or URL-safe base64, padded or not; raise InvalidInput naming ``path``."""
    if not _B64.fullmatch(text) or len(text.rstrip("=")) % 4 == 1:
        raise InvalidInput(f"{path}: expected base64, found {_preview(text)}")
    unpadded = text.rstrip("=").replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(unpadded + "=" * (-len(unpadded) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"{path}: expected base64, found {_preview(text)}") from exc


def _signature(item: object, path: str) -> Signature:
    document = _mapping(item, path)
    sig = decode_b64(_text(document, "sig", path), f"{path}.sig")
    keyid = document.get("keyid", "")
    if keyid is None:
        keyid = ""
    if not isinstance(keyid, str):
        raise InvalidInput(f"{path}.keyid: expected a string, found {type_name(keyid)}")
    return Signature(sig, keyid)


def _subject(item: object, path: str) -> Subject:
    document = _mapping(item, path)
    name = document.get("name", "")
    if not isinstance(name, str):
        raise InvalidInput(f"{path}.name: expected a string, found {type_name(name)}")
    digest = _mapping(document.get("digest", MISSING), f"{path}.digest")
    if not digest or not all(isinstance(value, str) for value in digest.values()):
        raise InvalidInput(f"{path}.digest: expected a non-empty map of algorithm to hex digest")
    return Subject(name, {key: str(value) for key, value in digest.items()})


def _load(data: str | bytes, path: str) -> object:
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise InvalidInput(f"{path}: not valid JSON: {exc}") from exc


def _mapping(value: object, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{path}: expected a JSON object, found {type_name(value)}")
    return value


def _text(document: Mapping[str, Any], key: str, path: str) -> str:
    value = document.get(key, MISSING)
    if not isinstance(value, str):
        raise InvalidInput(f"{path}.{key}: expected a string, found {type_name(value)}")
    return value


def _preview(text: str) -> str:
    return repr(text if len(text) <= 24 else text[:24] + "...")
