"""The read side of a log: checkpoints, tiles, entries and proofs.

Proofs are computed from hash tiles. Every full tile is immutable, so it is
cached together with its inner nodes; a proof then costs a few dictionary
look-ups plus the hashing of the tree's ragged right edge.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from lacre.errors import InvalidInput, NotFound, StorageError
from lacre.tlog.integrate import HASH_SIZE, TILE_HEIGHT, TILE_WIDTH, nodes_at_tile_level
from lacre.tlog.storage.base import LogInfo, LogState, LogStore, entry_key
from lacre.tlog.tiletree import TileTree
from lacre.transparency import merkle
from lacre.transparency.tiles import TileRef, encode_entry_bundle


@dataclass(frozen=True)
class InclusionProof:
    """An inclusion proof of one leaf in a tree of ``size`` leaves."""

    index: int
    size: int
    leaf_hash: bytes
    hashes: list[bytes]


_BUNDLE_CACHE = 64
"""Full entry bundles (immutable) kept in memory."""


class LogReader:
    """Reads one log's committed state; safe to share between threads."""

    def __init__(self, store: LogStore, log: LogInfo, *, tile_cache: int = 4096) -> None:
        """Read ``log`` from ``store``, keeping up to ``tile_cache`` tiles in memory.

        The latest state is read from storage whenever it is asked for; lookups
        of entries, tiles and proofs at a known size use the largest state seen
        (from storage or, through :meth:`observe`, from this process's
        appender) and go to storage only when they reach beyond it.
        """
        self._store, self._log = store, log
        self._capacity = tile_cache
        self._trees: OrderedDict[tuple[int, int, int], TileTree] = OrderedDict()
        self._lock = threading.Lock()
        self._known: LogState | None = None
        self._bundles: OrderedDict[int, bytes] = OrderedDict()

    @property
    def log(self) -> LogInfo:
        """The log this reader reads."""
        return self._log

    def state(self) -> LogState:
        """The latest committed state."""
        state = self._store.state(self._log)
        if state is None:
            raise StorageError(f"log {self._log.name} has no checkpoint yet")
        self.observe(state)
        return state

    def observe(self, state: LogState) -> None:
        """Learn of a committed state (from storage or this process's appender)."""
        with self._lock:
            if self._known is None or state.size > self._known.size:
                self._known = state

    def _size_at_least(self, needed: int) -> int:
        """A committed size of at least ``needed`` if the log has one (else the latest)."""
        known = self._known
        if known is not None and known.size >= needed:
            return known.size
        return self.state().size

    def checkpoint(self) -> bytes:
        """The latest signed checkpoint note."""
        return self.state().checkpoint

    def tile(self, level: int, index: int, width: int) -> bytes:
        """The first ``width`` hashes of hash tile (level, index); NotFound if not that wide yet."""
        TileRef(level, index, width)
        needed = (index * TILE_WIDTH + width) << (TILE_HEIGHT * level)
        size = self._size_at_least(needed)
        if index * TILE_WIDTH + width > nodes_at_tile_level(size, level):
            raise NotFound(f"tile {level}/{index} with {width} hashes does not exist yet")
        return self._tile_tree(level, index, size).hashes(width)

    def entry_bundle(self, index: int, width: int) -> bytes:
        """Entry bundle ``index`` holding its first ``width`` entries."""
        TileRef.entries(index, width)
        start = index * TILE_WIDTH
        if start + width > self._size_at_least(start + width):
            raise NotFound(f"entry bundle {index} with {width} entries does not exist yet")
        if width < TILE_WIDTH:
            return encode_entry_bundle(self._store.entries(self._log, start, start + width))
        with self._lock:
            bundle = self._bundles.get(index)
        if bundle is None:
            bundle = encode_entry_bundle(self._store.entries(self._log, start, start + width))
            with self._lock:
                self._bundles[index] = bundle
                if len(self._bundles) > _BUNDLE_CACHE:
                    self._bundles.popitem(last=False)
        return bundle

    def entry(self, index: int) -> bytes:
        """The entry at ``index``."""
        size = self._size_at_least(index + 1)
        if not 0 <= index < size:
            raise NotFound(f"no entry at index {index}: the log has {size} entries")
        entries = self._store.entries(self._log, index, index + 1)
        if not entries:
            raise StorageError(f"entry {index} is missing from storage")
        return entries[0]

    def entry_time(self, index: int) -> int:
        """The time (Unix seconds) entry ``index`` was integrated."""
        time = self._store.entry_time(self._log, index)
        if time is None:
            raise NotFound(f"no entry at index {index}")
        return time

    def index_of(self, leaf_hash: bytes) -> int:
        """The index of the entry whose leaf hash is ``leaf_hash``."""
        _check_hash(leaf_hash, "leaf hash")
        for index, data in self._store.find(self._log, [entry_key(leaf_hash)]):
            if merkle.leaf_hash(data) == leaf_hash:
                return index
        raise NotFound(f"no entry with leaf hash {leaf_hash.hex()}")

    def inclusion_proof(self, index: int, size: int | None = None) -> InclusionProof:
        """Proof that entry ``index`` is in the tree of ``size`` (default: latest)."""
        tree_size = self._tree_size(size, covering=index + 1)
        if not 0 <= index < tree_size:
            raise InvalidInput(
                "inclusion proof index out of range",
                expected=f"0 <= index < {tree_size}",
                found=index,
            )
        read = self._node_reader(tree_size)
        hashes = merkle.inclusion_proof(index, tree_size, read)
        leaf = read(0, index)
        return InclusionProof(index, tree_size, leaf, hashes)

    def inclusion_proof_by_hash(self, leaf_hash: bytes, size: int | None = None) -> InclusionProof:
        """Proof of inclusion for the entry with ``leaf_hash``."""
        return self.inclusion_proof(self.index_of(leaf_hash), size)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """Proof that the tree of ``size1`` is a prefix of the tree of ``size2``."""
        tree_size = self._tree_size(size2)
        if not 0 <= size1 <= tree_size:
            raise InvalidInput(
                "consistency proof sizes out of order",
                expected=f"0 <= size1 <= {tree_size}",
                found=size1,
            )
        return merkle.consistency_proof(size1, tree_size, self._node_reader(tree_size))

    def root(self, size: int | None = None) -> bytes:
        """The root hash of the tree of ``size`` (default: latest)."""
        tree_size = self._tree_size(size)
        if tree_size == 0:
            return merkle.EMPTY_ROOT
        return merkle.subtree_hash(0, tree_size, self._node_reader(tree_size))

    def _tree_size(self, size: int | None, covering: int = 0) -> int:
        if size is None:
            return self.state().size
        latest = self._size_at_least(max(covering, size))
        if not 0 <= size <= latest:
            raise InvalidInput(
                "tree size out of range", expected=f"0 <= size <= {latest}", found=size
            )
        return size

    def _node_reader(self, size: int) -> merkle.NodeReader:
        trees: dict[tuple[int, int], TileTree] = {}

        def read(level: int, index: int) -> bytes:
            tile_level, height = divmod(level, TILE_HEIGHT)
            first = index << height
            key = (tile_level, first // TILE_WIDTH)
            tree = trees.get(key)
            if tree is None:
                tree = trees[key] = self._tile_tree(tile_level, key[1], size)
            return tree.node(height, (first % TILE_WIDTH) >> height)

        return read

    def _tile_tree(self, level: int, index: int, size: int) -> TileTree:
        width = min(TILE_WIDTH, nodes_at_tile_level(size, level) - index * TILE_WIDTH)
        key = (level, index, width)
        with self._lock:
            tree = self._trees.get(key)
            if tree is not None:
                self._trees.move_to_end(key)
                return tree
        record = self._store.tiles(self._log, [(level, index)]).get((level, index), b"")
        if len(record) < width * HASH_SIZE:
            raise StorageError(f"stored tile {level}/{index} is shorter than the tree requires")
        tree = TileTree.from_record(record, width)
        with self._lock:
            self._trees[key] = tree
            if len(self._trees) > self._capacity:
                self._trees.popitem(last=False)
        return tree


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise InvalidInput(f"{what} has the wrong length", expected=HASH_SIZE, found=len(value))
