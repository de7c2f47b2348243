"""Shared pieces of the entry kinds: the canonical entry, path-aware JSON access, JCS.

Every accessor knows the JSON path of its value, so a refusal reads
``spec.data.hash.value: expected 64 hex digits for sha256, found 40``. Unknown
fields are ignored (as Rekor's Go decoders and protobuf-JSON with
``DiscardUnknown`` do) and never reach a canonical body, which is always
rebuilt from the known fields.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import rfc8785

from lacre import dsse
from lacre.errors import InvalidInput
from lacre.jsontypes import type_name, utf8

MAX_SIGNATURES = 10
"""Most signatures (DSSE, in-toto) one entry may carry."""
MAX_VERIFIERS = 10
"""Most verifiers (keys or certificates) one entry may name."""
MAX_TEXT = 4096
"""Longest scalar string (algorithm names, key IDs, payload types)."""
MAX_SIGNATURE_TEXT = 16 * 1024
"""Longest base64 signature field (RSA-4096 signatures, double base64, fit easily)."""
MAX_MATERIAL_TEXT = 256 * 1024
"""Longest base64 key or certificate (chain) field."""
MAX_DOCUMENT_TEXT = 32 * 1024 * 1024
"""Longest envelope or payload field."""

HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
_HEX = re.compile(r"[0-9a-f]*")


@dataclass(frozen=True)
class CanonicalEntry:
    """A checked submission: its kind, version, canonical body (the leaf) and search keys.

    ``index_keys`` are exactly the keys :func:`lacre.rekor.kinds.index_keys_of`
    re-derives from ``body``. ``subject_keys`` are the in-toto subject digests
    (``"sha256:<hex>"``) of a DSSE or in-toto payload: the payload is not part
    of the body, so they are known at submission time only and must be stored
    separately if they are to be searchable after an index rebuild.
    """

    kind: str
    api_version: str
    body: bytes
    index_keys: frozenset[str]
    subject_keys: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Json:
    """A parsed JSON value and the path it was found at (``""`` for the root)."""

    value: object
    path: str = ""

    def child(self, name: str) -> str:
        """The path of member ``name`` of this value."""
        return f"{self.path}.{name}" if self.path else name

    def object(self) -> Mapping[str, Any]:
        """Return this value as a JSON object, or raise."""
        if not isinstance(self.value, Mapping):
            raise InvalidInput(
                f"{self.path or 'request'}: expected a JSON object, found {type_name(self.value)}"
            )
        return self.value

    def optional(self, *names: str) -> Json | None:
        """Member ``names[0]`` (or one of its aliases); None when absent or null."""
        document = self.object()
        present = [name for name in names if document.get(name) is not None]
        if len(present) > 1:
            raise InvalidInput(f"{self.child(present[0])}: given twice (also as {present[1]!r})")
        return Json(document[present[0]], self.child(names[0])) if present else None

    def field(self, *names: str) -> Json:
        """Member ``names[0]`` (or one of its aliases), which must be present and not null."""
        member = self.optional(*names)
        if member is None:
            raise InvalidInput(f"{self.child(names[0])}: required field is missing")
        return member

    def text(self, *, max_length: int = MAX_TEXT) -> str:
        """Return this value as a string of at most ``max_length`` characters of valid Unicode."""
        if not isinstance(self.value, str):
            raise InvalidInput(f"{self.path}: expected a string, found {type_name(self.value)}")
        if len(self.value) > max_length:
            raise InvalidInput(
                f"{self.path}: too long: expected at most {max_length} characters, "
                f"found {len(self.value)}"
            )
        utf8(self.value, self.path)
        return self.value

    def items(self, *, max_items: int, min_items: int = 1) -> list[Json]:
        """Return this value as an array of ``min_items`` to ``max_items`` elements."""
        if not isinstance(self.value, list):
            raise InvalidInput(f"{self.path}: expected an array, found {type_name(self.value)}")
        if not min_items <= len(self.value) <= max_items:
            raise InvalidInput(
                f"{self.path}: expected {min_items} to {max_items} elements, "
                f"found {len(self.value)}"
            )
        return [Json(item, f"{self.path}[{n}]") for n, item in enumerate(self.value)]

    def b64(self, *, max_length: int, lenient: bool = False, empty: bool = False) -> bytes:
        """Decode this string as base64.

        Strict mode (Rekor v1) takes the standard alphabet with padding only;
        ``lenient`` (protobuf-JSON, DSSE) also takes URL-safe and unpadded forms.
        """
        text = self.text(max_length=max_length)
        decoded = dsse.decode_b64(text, self.path) if lenient else _strict_b64(text, self.path)
        if not decoded and not empty:
            raise InvalidInput(f"{self.path}: expected non-empty base64 data, found nothing")
        return decoded

    def hex_digest(self, algorithm: str) -> bytes:
        """Decode this string as the lowercase hex digest of ``algorithm``."""
        text = self.text(max_length=MAX_TEXT)
        length = HEX_LENGTHS[algorithm]
        if len(text) != length or not _HEX.fullmatch(text):
            found = f"{len(text)} characters" if _HEX.fullmatch(text) else repr(text[:140])
            raise InvalidInput(
                f"{self.path}: expected {length} lowercase hex digits for {algorithm}, "
                f"found {found}"
            )
        return bytes.fromhex(text)


def _strict_b64(text: str, path: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        preview = text if len(text) <= 24 else text[:24] + "..."
        raise InvalidInput(
            f"{path}: expected standard base64 (with padding), found {preview!r}"
        ) from exc


@contextmanager
def located(path: str) -> Iterator[None]:
    """Prefix the message of an InvalidInput (or VerificationError) raised inside with ``path``."""
    try:
        yield
    except InvalidInput as exc:
        raise type(exc)(f"{path}: {exc}") from exc


def b64encode(data: bytes) -> str:
    """Standard, padded base64 text of ``data``."""
    return base64.b64encode(data).decode("ascii")


def parse_json(data: bytes | str, path: str) -> object:
    """Parse JSON text, refusing invalid, non-UTF-8 or too deeply nested input."""
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, int limits
        raise InvalidInput(f"{path}: not valid JSON: {exc}") from exc


def jcs(document: Mapping[str, Any]) -> bytes:
    """RFC 8785 canonical JSON (UTF-8) of ``document``."""
    try:
        return rfc8785.dumps(document)
    except (rfc8785.CanonicalizationError, ValueError) as exc:
        raise InvalidInput(f"cannot canonicalize the entry: {exc}") from exc


def entry(kind: str, api_version: str, spec: Mapping[str, Any]) -> bytes:
    """The canonical body of an entry of ``kind``/``api_version`` with ``spec``."""
    return jcs({"apiVersion": api_version, "kind": kind, "spec": spec})


def digest_key(algorithm: str, digest: bytes) -> str:
    """The search-index key of a digest: ``"<alg>:<hex>"``, lower-cased."""
    return f"{algorithm}:{digest.hex()}".lower()


def statement_keys(payload_type: str, payload: bytes) -> frozenset[str]:
    """Subject digests (``"<alg>:<hex>"``) of an in-toto payload; empty when there are none.

    A payload that is not a well-formed Statement simply yields no keys: as with
    Rekor, the statement is indexed, not validated.
    """
    if payload_type != dsse.IN_TOTO_PAYLOAD_TYPE:
        return frozenset()
    try:
        statement = dsse.Statement.from_payload(payload)
    except InvalidInput:
        return frozenset()
    return frozenset(
        f"{algorithm}:{value}".lower()
        for subject in statement.subjects
        for algorithm, value in subject.digest.items()
        if re.fullmatch(r"[0-9a-fA-F]{2,256}", value) and len(algorithm) <= 64
    )
