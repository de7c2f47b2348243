"""The targets a Sigstore TUF repository carries, and checks on their content."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from lacre.errors import InvalidInput, TooLarge

TRUSTED_ROOT = "trusted_root.json"
SIGNING_CONFIG = "signing_config.v0.2.json"
MAX_TARGET_SIZE = 1024 * 1024
"""Largest target file accepted (a trusted root with years of history stays far below)."""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_MEDIA_TYPES = {
    TRUSTED_ROOT: ("application/vnd.dev.sigstore.trustedroot",),
    SIGNING_CONFIG: ("application/vnd.dev.sigstore.signingconfig.v0.2+json",),
}


def check_target_name(name: str) -> str:
    """Return ``name`` if it is a plain target file name (no directories, no dot-dot)."""
    if not _NAME.fullmatch(name) or ".." in name:
        raise InvalidInput(
            "bad TUF target name",
            expected="letters, digits, '.', '_' or '-', no directories",
            found=repr(name[:140]),
        )
    return name


def check_target(name: str, data: bytes) -> bytes:
    """Check a target's name, size and, for the Sigstore targets, its JSON media type."""
    check_target_name(name)
    if len(data) > MAX_TARGET_SIZE:
        raise TooLarge(
            f"target {name} is too large",
            expected=f"at most {MAX_TARGET_SIZE} bytes",
            found=f"{len(data)} bytes",
        )
    prefixes = _MEDIA_TYPES.get(name)
    if prefixes is not None:
        media_type = _json_object(name, data).get("mediaType")
        if not isinstance(media_type, str) or not media_type.startswith(prefixes):
            raise InvalidInput(
                f"target {name} has the wrong mediaType",
                expected=" or ".join(prefixes),
                found=repr(media_type),
            )
    return data


def check_targets(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """Check every target of ``files`` (see :func:`check_target`)."""
    return {name: check_target(name, data) for name, data in files.items()}


def _json_object(name: str, data: bytes) -> dict[str, Any]:
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise InvalidInput(f"target {name} is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise InvalidInput(
            f"target {name} is not a JSON object",
            expected="object",
            found=type(document).__name__,
        )
    return document
