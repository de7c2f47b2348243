"""Rekor v1 ``SearchIndex`` queries, turned into search-index terms."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from lacre.errors import InvalidInput
from lacre.jsontypes import type_name
from lacre.rekor.kinds import material

_DIGEST_LENGTHS = {"sha1": 40, "sha256": 64, "sha384": 96, "sha512": 128}
_BARE_ALGORITHMS = {length: name for name, length in _DIGEST_LENGTHS.items()}
_HEX = re.compile(r"[0-9a-f]+")
_FIELDS = {"hash", "publicKey", "email", "subject", "operator"}
MAX_TERM = 1024


@dataclass(frozen=True)
class SearchQuery:
    """The terms a query looks for and whether all of them must match."""

    terms: tuple[str, ...]
    match_all: bool

    @classmethod
    def parse(cls, request: object) -> SearchQuery:
        """Parse a SearchIndex JSON object; at least one criterion is required."""
        if not isinstance(request, dict):
            raise InvalidInput(f"search query: expected a JSON object, found {type_name(request)}")
        unknown = sorted(set(request) - _FIELDS)
        if unknown:
            raise InvalidInput(
                "unknown search fields", expected=sorted(_FIELDS), found=_short(unknown)
            )
        terms = [
            term
            for term in (
                _hash_term(request.get("hash")),
                _key_term(request.get("publicKey")),
                _text_term(request.get("email"), "email"),
                _text_term(request.get("subject"), "subject"),
            )
            if term is not None
        ]
        if not terms:
            raise InvalidInput(
                "search query names no criterion: give hash, publicKey, email or subject"
            )
        return cls(tuple(terms), _operator(request.get("operator")) == "and")


def _operator(value: object) -> str:
    if value is None:
        return "or"
    if value not in ("and", "or"):
        raise InvalidInput("unsupported operator", expected="'and' or 'or'", found=_short(value))
    return str(value)


def _hash_term(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_TERM:
        raise InvalidInput(
            "hash must be a string",
            expected="<algorithm>:<hex> such as sha256:<64 hex digits>",
            found=_short(value),
        )
    algorithm, _, digest = value.lower().rpartition(":")
    algorithm = algorithm or _BARE_ALGORITHMS.get(len(digest), "")
    if _DIGEST_LENGTHS.get(algorithm) != len(digest) or not _HEX.fullmatch(digest):
        raise InvalidInput(
            "hash is not a digest",
            expected="sha1/sha256/sha384/sha512 as <algorithm>:<hex> or bare hex",
            found=_short(value),
        )
    return f"{algorithm}:{digest}"


def _key_term(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidInput(
            "publicKey must be an object",
            expected="an object with format and content",
            found=_short(value),
        )
    if value.get("format") != "x509":
        raise InvalidInput(
            "unsupported publicKey format", expected="x509", found=_short(value.get("format"))
        )
    content = value.get("content")
    if not isinstance(content, str):
        raise InvalidInput(
            "publicKey.content must be a string",
            expected="base64 of a PEM or DER key or certificate",
            found=_short(content),
        )
    try:
        raw = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("publicKey.content is not valid base64") from exc
    found = material.from_bytes(raw, "publicKey.content")
    return hashlib.sha256(found.canonical_pem).hexdigest()


def _text_term(value: object, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_TERM:
        raise InvalidInput(
            f"{field} must be a non-empty string",
            expected=f"1 to {MAX_TERM} characters",
            found=_short(value),
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{field} is not valid Unicode text (lone surrogate)") from None
    return value.lower()


def _short(value: object) -> str:
    if value is None:
        return "nothing"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
