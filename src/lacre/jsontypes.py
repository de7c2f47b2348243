"""Small helpers for checking parsed JSON: naming JSON types and encoding text."""

from __future__ import annotations

from lacre.errors import InvalidInput

MISSING = object()
"""Stands for an absent field (``document.get(name, MISSING)``)."""

_NAMES: dict[type, str] = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    type(None): "null",
}


def type_name(value: object) -> str:
    """Name the JSON type of ``value`` for error messages."""
    if value is MISSING:
        return "nothing (the field is missing)"
    for kind, name in _NAMES.items():
        if isinstance(value, kind):
            return name
    return "number" if isinstance(value, int | float) else type(value).__name__


def utf8(text: str, path: str) -> bytes:
    """Encode ``text`` as UTF-8; lone surrogates (possible in JSON) are refused."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInput(f"{path}: not valid Unicode text (lone surrogate)") from exc
