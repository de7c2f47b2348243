"""A small least-recently-used cache for verification results shared between bundles."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

CACHE_SIZE = 4096
"""How many items of each kind a verifier remembers by default."""


class Lru(Generic[K, V]):
    """A thread-safe mapping that keeps at most ``size`` items, dropping the least recently used."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        """An empty cache of at most ``size`` items."""
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value for ``key``, if remembered."""
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        """Remember ``value`` for ``key``."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            if len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        """How many items are remembered."""
        return len(self._items)
