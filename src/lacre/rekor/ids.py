"""Identifiers Rekor answers carry: entry UUIDs and IDs, and the root a checkpoint names."""

from __future__ import annotations

import functools
import re
import secrets

from lacre.errors import InvalidInput
from lacre.transparency.checkpoint import Checkpoint
from lacre.transparency.note import SignedNote

_HEX = re.compile(r"[0-9a-f]+")
MAX_TREE_ID = (1 << 63) - 1


def new_tree_id() -> int:
    """A fresh random positive int64 tree ID."""
    return secrets.randbelow(MAX_TREE_ID) + 1


def entry_id(tree_id: int, leaf_hash: bytes) -> str:
    """The 80-hex entry ID: 16 hex digits of tree ID, then the UUID."""
    return f"{tree_id:016x}{leaf_hash.hex()}"


def parse_entry_id(text: str) -> tuple[int | None, bytes]:
    """Split a UUID (64 hex) or entry ID (80 hex) into (tree ID or None, leaf hash)."""
    lowered = text.lower()
    if len(lowered) not in (64, 80) or not _HEX.fullmatch(lowered):
        raise InvalidInput(
            "malformed entry UUID",
            expected="64 hex digits (UUID) or 80 hex digits (tree ID + UUID)",
            found=f"{len(text)} characters" if len(text) > 100 else repr(text),
        )
    if len(lowered) == 64:
        return None, bytes.fromhex(lowered)
    return int(lowered[:16], 16), bytes.fromhex(lowered[16:])


@functools.lru_cache(maxsize=64)
def checkpoint_root(note: bytes) -> bytes:
    """The root hash a signed checkpoint names (cached: every entry of a batch shares one)."""
    return Checkpoint.from_text(SignedNote.parse(note).text).root_hash
