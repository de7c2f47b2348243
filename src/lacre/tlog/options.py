"""Tunable behaviour of a log, as an immutable keyword-only value."""

from __future__ import annotations

from dataclasses import dataclass

from lacre.errors import ConfigError

MAX_ENTRY_BYTES_LIMIT = 65535
"""The largest entry a C2SP entry bundle can carry (a uint16 length prefix)."""


@dataclass(frozen=True, kw_only=True)
class LogOptions:
    """Batching, backpressure and size limits of one log."""

    max_batch: int = 4096
    """Most entries integrated in one transaction."""
    max_delay_s: float = 0.005
    """Longest an entry waits for companions before its batch is integrated."""
    max_pending: int = 200_000
    """Entries waiting for integration beyond which appends are refused with pushback."""
    max_entry_bytes: int = MAX_ENTRY_BYTES_LIMIT
    """Largest accepted entry."""
    tile_cache: int = 4096
    """Full tiles (with their inner nodes) kept in memory for proofs."""

    def __post_init__(self) -> None:
        """Refuse settings the log cannot honour."""
        _require(self.max_batch >= 1, "max_batch", ">= 1", self.max_batch)
        _require(self.max_delay_s >= 0, "max_delay_s", ">= 0", self.max_delay_s)
        _require(
            self.max_pending >= self.max_batch, "max_pending", ">= max_batch", self.max_pending
        )
        _require(
            0 < self.max_entry_bytes <= MAX_ENTRY_BYTES_LIMIT,
            "max_entry_bytes",
            f"1..{MAX_ENTRY_BYTES_LIMIT} (the entry-bundle format's limit)",
            self.max_entry_bytes,
        )
        _require(self.tile_cache >= 1, "tile_cache", ">= 1", self.tile_cache)


def _require(ok: bool, name: str, expected: str, found: object) -> None:
    if not ok:
        raise ConfigError(f"log option {name} is out of range", expected=expected, found=found)
