"""Strict readers for protobuf-JSON documents (bundles, trusted roots).

Field names are looked up in lowerCamelCase and, as protobuf-JSON readers
must, in their proto (snake_case) spelling. ``int64`` values may be JSON
strings or numbers; ``bytes`` are standard or URL-safe base64, padded or not.
Every error names the field path, what was expected and what was found.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import json
import re
from collections.abc import Mapping
from typing import Any

from lacre.errors import InvalidInput, TooLarge
from lacre.jsontypes import MISSING, type_name

_B64 = re.compile(r"[A-Za-z0-9+/\-_]*={0,2}")
_INT = re.compile(r"-?[0-9]{1,20}")
_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")
MAX_INT64 = (1 << 63) - 1


@functools.cache
def snake(name: str) -> str:
    """The proto field name of a lowerCamelCase JSON name (``logIndex`` -> ``log_index``)."""
    return _SNAKE.sub("_", name).lower()


def get(document: Mapping[str, Any], name: str) -> object:
    """Return field ``name`` (camelCase or snake_case) of ``document``, or :data:`MISSING`."""
    value = document.get(name, MISSING)
    if value is MISSING:
        value = document.get(snake(name), MISSING)
    return MISSING if value is None else value


def load_document(data: bytes | str, what: str, *, limit: int) -> object:
    """Parse ``what``, a JSON document of at most ``limit`` bytes or characters, in UTF-8.

    An oversized, non-UTF-8 (RFC 8259 section 8.1), empty or malformed document is
    refused with a message saying which.
    """
    if len(data) > limit:
        raise TooLarge(f"{what} is too large", expected=f"<= {limit} bytes", found=len(data))
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"{what} is not UTF-8 text",
                expected="JSON in UTF-8",
                found=f"byte 0x{exc.object[exc.start]:02x} at offset {exc.start}",
            ) from None
    if not data.strip():
        raise InvalidInput(f"{what} is empty", expected="a JSON object", found="no content")
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(
            f"{what} is not valid JSON", expected="a JSON object", found=str(exc)
        ) from None


def mapping(value: object, path: str) -> Mapping[str, Any]:
    """Return ``value`` if it is a JSON object; raise naming ``path`` otherwise."""
    if type(value) is not dict and not isinstance(value, Mapping):
        raise InvalidInput(
            f"{path} is not a JSON object", expected="object", found=type_name(value)
        )
    return value


def child(document: Mapping[str, Any], name: str, path: str) -> Mapping[str, Any]:
    """The required object field ``name``."""
    value = document.get(name)  # the common case: present, camelCase, an object
    if type(value) is dict:
        return value
    return mapping(get(document, name), f"{path}.{name}")


def optional_child(document: Mapping[str, Any], name: str, path: str) -> Mapping[str, Any] | None:
    """The object field ``name``, or None when it is absent or null."""
    value = document.get(name)
    if type(value) is dict:
        return value
    value = get(document, name)
    if value is MISSING:
        return None
    return mapping(value, f"{path}.{name}")


def text(document: Mapping[str, Any], name: str, path: str, *, default: str | None = None) -> str:
    """The string field ``name``; ``default`` when absent (if given)."""
    value = document.get(name)
    if type(value) is str:
        return value
    value = get(document, name)
    if value is MISSING and default is not None:
        return default
    if not isinstance(value, str):
        raise InvalidInput(f"{path}.{name}", expected="a string", found=type_name(value))
    return value


def array(document: Mapping[str, Any], name: str, path: str) -> list[Any]:
    """The array field ``name``; an absent field is an empty array."""
    value = get(document, name)
    if value is MISSING:
        return []
    if not isinstance(value, list):
        raise InvalidInput(f"{path}.{name}", expected="an array", found=type_name(value))
    return value


def int64(document: Mapping[str, Any], name: str, path: str, *, default: int | None = None) -> int:
    """The ``int64`` field ``name`` (a JSON string or number); ``default`` when absent."""
    value = get(document, name)
    if value is MISSING and default is not None:
        return default
    if isinstance(value, str) and _INT.fullmatch(value):
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        found = repr(value[:40]) if isinstance(value, str) else type_name(value)
        raise InvalidInput(
            f"{path}.{name}", expected="an int64 (decimal string or number)", found=found
        )
    if not -MAX_INT64 - 1 <= number <= MAX_INT64:
        raise InvalidInput(f"{path}.{name}", expected="a value in the int64 range", found=number)
    return number


def b64bytes(document: Mapping[str, Any], name: str, path: str) -> bytes:
    """The required ``bytes`` field ``name``, base64-decoded."""
    return decode_b64(text(document, name, path), f"{path}.{name}")


def decode_b64(value: str, path: str) -> bytes:
    r"""Decode standard or URL-safe base64, padded or not; raise naming ``path``.

    Line breaks (``\r``, ``\n``) are ignored, as protobuf-JSON readers in Go do.
    """
    try:  # the common form (standard alphabet, padded, one line) decodes in C alone
        return binascii.a2b_base64(value, strict_mode=True)
    except (binascii.Error, ValueError):
        pass
    value = value.replace("\r", "").replace("\n", "")
    if not _B64.fullmatch(value) or len(value.rstrip("=")) % 4 == 1:
        raise InvalidInput(f"{path} is not valid base64", expected="base64", found=_preview(value))
    unpadded = value.rstrip("=").replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(unpadded + "=" * (-len(unpadded) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(
            f"{path} is not valid base64", expected="base64", found=_preview(value)
        ) from exc


def b64(data: bytes) -> str:
    """Encode ``data`` as standard, padded base64 (the protobuf-JSON ``bytes`` form)."""
    return base64.b64encode(data).decode("ascii")


def timestamp(value: object, path: str) -> dt.datetime:
    """Parse a ``google.protobuf.Timestamp`` (RFC 3339, e.g. ``2025-09-23T00:00:00Z``)."""
    if not isinstance(value, str):
        raise InvalidInput(path, expected="an RFC 3339 timestamp string", found=type_name(value))
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            path, expected="an RFC 3339 timestamp such as 2025-01-01T00:00:00Z", found=repr(value)
        ) from None
    if moment.tzinfo is None:
        raise InvalidInput(path, expected="a timestamp with a time zone", found=repr(value))
    return moment.astimezone(dt.UTC)


def format_timestamp(moment: dt.datetime) -> str:
    """Render ``moment`` as a protobuf-JSON timestamp in UTC."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _preview(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "...")
