"""A search index derived from a log's entries.

A personality supplies ``terms_of(entry)``, the search terms of one entry
(digests, key fingerprints, identities). The index is derived data: it
records how far into the log it reaches and catches up from the entries
themselves, so an index write lost in a crash is simply redone, and several
processes may index the same log (rows are idempotent).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from lacre.errors import Error
from lacre.tlog.storage.base import LogInfo, LogStore, search_key

TermsOf = Callable[[bytes], Iterable[str]]


class SearchIndex:
    """Finds entries of one log by search term."""

    def __init__(self, store: LogStore, log: LogInfo, terms_of: TermsOf, batch: int = 4096) -> None:
        """Index ``log`` in ``store`` with the terms ``terms_of`` gives each entry."""
        self._store, self._log, self._terms_of, self._batch = store, log, terms_of, batch
        self._lock = threading.Lock()

    def catch_up(self) -> int:
        """Index every entry not yet indexed; return how many entries the index covers."""
        with self._lock:
            state = self._store.state(self._log)
            size = 0 if state is None else state.size
            progress = self._store.index_progress(self._log)
            while progress < size:
                end = min(size, progress + self._batch)
                rows = self._rows(progress, self._store.entries(self._log, progress, end))
                self._store.add_to_index(self._log, rows, end)
                progress = end
            return progress

    def search(self, terms: Iterable[str], *, match_all: bool = False) -> list[int]:
        """Indices of entries having any (or, with ``match_all``, every) of ``terms``."""
        self.catch_up()
        wanted = list(dict.fromkeys(terms))
        if not wanted:
            return []
        found = [self._matching(term) for term in wanted]
        result = set.intersection(*found) if match_all else set.union(*found)
        return sorted(result)

    def _matching(self, term: str) -> set[int]:
        candidates = self._store.lookup(self._log, [search_key(term)])
        return {index for index in candidates if term in self._terms(self._entry(index))}

    def _entry(self, index: int) -> bytes:
        entries = self._store.entries(self._log, index, index + 1)
        return entries[0] if entries else b""

    def _rows(self, start: int, entries: list[bytes]) -> list[tuple[int, int]]:
        return [
            (search_key(term), start + offset)
            for offset, entry in enumerate(entries)
            for term in self._terms(entry)
        ]

    def _terms(self, entry: bytes) -> set[str]:
        try:
            return set(self._terms_of(entry))
        except Error:
            return set()
