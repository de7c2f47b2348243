"""A small cache keyed by the identity of immutable objects (certificates, keys, builders)."""

from __future__ import annotations

from typing import Generic, TypeVar

_V = TypeVar("_V")


class IdentityCache(Generic[_V]):
    """A small cache of values computed from immutable objects, keyed by their identity.

    Looking an object up by identity costs no hashing or comparison of its
    contents. The cache holds its key objects alive, so their identities cannot be
    reused by other objects while they are remembered; when full it starts afresh.
    """

    def __init__(self, size: int = 16) -> None:
        """Remember at most ``size`` entries."""
        self._size = size
        self._entries: dict[tuple[int, ...], tuple[tuple[object, ...], _V]] = {}

    def get(self, *keys: object) -> _V | None:
        """The value remembered for exactly these objects, or None."""
        found = self._entries.get(tuple(map(id, keys)))
        if found is None:
            return None
        for kept, key in zip(found[0], keys, strict=True):
            if kept is not key:
                return None
        return found[1]

    def put(self, value: _V, *keys: object) -> None:
        """Remember ``value`` for these objects."""
        if len(self._entries) >= self._size:
            self._entries.clear()
        self._entries[tuple(map(id, keys))] = (keys, value)
