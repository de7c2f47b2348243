"""The contract every storage driver fulfils.

A driver stores, per log: its identity (name, origin, public key), the
entries by index, the hash tiles, and the latest state (size, frontier and
signed checkpoint). Writes happen in a :class:`WriteTransaction` that holds the
log's writer lock, so exactly one writer integrates at a time, across threads,
processes and machines. Entries are also indexed by ``entry_key`` (the first
8 bytes of their leaf hash, as a signed integer) for duplicate detection and
lookup by leaf hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

HASH_SIZE = 32


def entry_key(leaf_hash: bytes) -> int:
    """The 64-bit lookup key of an entry: its leaf hash prefix as a signed integer."""
    return int.from_bytes(leaf_hash[:8], "big", signed=True)


def search_key(term: str) -> int:
    """The 64-bit search-index key of a search term (a SHA-256 prefix, signed)."""
    return int.from_bytes(hashlib.sha256(term.encode()).digest()[:8], "big", signed=True)


@dataclass(frozen=True)
class LogInfo:
    """A log's stored identity."""

    log_id: int
    name: str
    origin: str
    public_key: bytes
    """DER SubjectPublicKeyInfo of the key that signs the log's checkpoints."""


@dataclass(frozen=True)
class LogState:
    """A log's latest integrated state."""

    size: int
    frontier: bytes
    """The frontier hashes concatenated, largest subtree first."""
    checkpoint: bytes
    """The signed checkpoint note for ``size``."""

    def frontier_hashes(self) -> list[bytes]:
        """The frontier as a list of 32-byte hashes."""
        data = self.frontier
        return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


class WriteTransaction(Protocol):
    """One atomic integration step; committed on clean exit, rolled back on error."""

    def state(self) -> LogState | None:
        """The log's state as of the start of this transaction (None before the first)."""
        ...

    def tiles(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """Stored hash tiles by (level, index); absent tiles are left out."""
        ...

    def find(self, keys: Sequence[int]) -> list[tuple[int, bytes]]:
        """(index, entry) of stored entries whose ``entry_key`` is among ``keys``."""
        ...

    def insert_entries(self, start: int, rows: Sequence[tuple[int, bytes]], time: int = 0) -> None:
        """Store ``(entry_key, entry)`` rows at consecutive indices from ``start``.

        ``time`` is the integration time (Unix seconds) recorded with each entry.
        """
        ...

    def put_tiles(self, tiles: Mapping[tuple[int, int], bytes]) -> None:
        """Create or replace hash tiles."""
        ...

    def put_state(self, state: LogState) -> None:
        """Record the log's new state."""
        ...


class LogStore(Protocol):
    """A database holding any number of logs."""

    def ensure_log(self, name: str, origin: str, public_key: bytes) -> LogInfo:
        """Return the log called ``name``, creating it (empty) if it does not exist."""
        ...

    def logs(self) -> list[LogInfo]:
        """Every log in the database."""
        ...

    def write(self, log: LogInfo) -> AbstractContextManager[WriteTransaction]:
        """Begin a write transaction on ``log``, waiting for its writer lock."""
        ...

    def state(self, log: LogInfo) -> LogState | None:
        """The latest committed state of ``log``."""
        ...

    def tiles(self, log: LogInfo, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """Committed hash tiles by (level, index); absent tiles are left out."""
        ...

    def entries(self, log: LogInfo, start: int, end: int) -> list[bytes]:
        """Committed entries with indices in ``[start, end)``, in order."""
        ...

    def iter_entries(self, log: LogInfo, end: int, batch: int = 4096) -> Iterator[bytes]:
        """Every entry with index below ``end``, in order, streamed in batches."""
        ...

    def find(self, log: LogInfo, keys: Sequence[int]) -> list[tuple[int, bytes]]:
        """(index, entry) of committed entries whose ``entry_key`` is among ``keys``."""
        ...

    def entry_time(self, log: LogInfo, index: int) -> int | None:
        """The integration time recorded with entry ``index`` (None if there is no entry)."""
        ...

    def index_progress(self, log: LogInfo) -> int:
        """How many entries of ``log`` the search index covers."""
        ...

    def add_to_index(self, log: LogInfo, rows: Sequence[tuple[int, int]], progress: int) -> None:
        """Record ``(search_key, index)`` rows and raise the index's progress to ``progress``."""
        ...

    def lookup(self, log: LogInfo, keys: Sequence[int]) -> list[int]:
        """Indices of entries recorded in the search index under any of ``keys``."""
        ...

    def close(self) -> None:
        """Release every connection."""
        ...
