"""Pure integration of new leaves into a log's tiles and root.

The state needed to extend a log is small: the frontier (one hash per set bit
of the tree size) and the right-edge partial tile of every tile level. Given
that state and a batch of new leaf hashes, :func:`integrate` returns the new
state and every tile the batch created or changed. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from lacre.errors import StorageError
from lacre.tlog.tiletree import full_tile_record
from lacre.transparency.merkle import Frontier

TILE_WIDTH = 256
TILE_HEIGHT = 8
HASH_SIZE = 32

TileKey = tuple[int, int]
"""(tile level, tile index) of a hash tile."""


def nodes_at_tile_level(size: int, level: int) -> int:
    """Number of Merkle nodes stored at tile level ``level`` for a tree of ``size`` leaves."""
    return size >> (TILE_HEIGHT * level)


def edge_tile_keys(size: int) -> dict[int, tuple[TileKey, int]]:
    """The right-edge partial tiles of a tree of ``size``: level -> ((level, index), width)."""
    edges: dict[int, tuple[TileKey, int]] = {}
    level = 0
    while (nodes := nodes_at_tile_level(size, level)) > 0:
        width = nodes % TILE_WIDTH
        if width:
            edges[level] = ((level, nodes // TILE_WIDTH), width)
        level += 1
    return edges


@dataclass
class RightEdge:
    """Everything needed to append to a log of ``frontier.size`` leaves."""

    frontier: Frontier = field(default_factory=Frontier)
    partial: dict[int, list[bytes]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        """Number of leaves in the log."""
        return self.frontier.size

    @classmethod
    def load(cls, frontier: Frontier, tiles: Mapping[int, bytes]) -> RightEdge:
        """Rebuild the edge from a stored frontier and the stored right-edge tiles by level.

        Stored tiles may be wider than the edge needs (a later writer grew them);
        only the prefix belonging to ``frontier.size`` is used.
        """
        partial: dict[int, list[bytes]] = {}
        for level, (_, width) in edge_tile_keys(frontier.size).items():
            data = tiles.get(level, b"")
            if len(data) < width * HASH_SIZE:
                raise StorageError(
                    f"right-edge tile at level {level} is short",
                    expected=f"{width} hashes",
                    found=f"{len(data) // HASH_SIZE}",
                )
            partial[level] = [
                data[i : i + HASH_SIZE] for i in range(0, width * HASH_SIZE, HASH_SIZE)
            ]
        return cls(frontier=frontier, partial=partial)

    def copy(self) -> RightEdge:
        """An independent copy (integration mutates nothing it is given)."""
        return RightEdge(
            frontier=self.frontier.copy(),
            partial={level: list(hashes) for level, hashes in self.partial.items()},
        )


@dataclass(frozen=True)
class Integration:
    """The outcome of integrating a batch: the new edge, changed tiles and the new root."""

    edge: RightEdge
    tiles: dict[TileKey, bytes]
    root: bytes


def integrate(edge: RightEdge, leaf_hashes: Sequence[bytes]) -> Integration:
    """Append ``leaf_hashes`` to the log described by ``edge``.

    Returns the new edge (``edge`` itself is left untouched), every tile whose
    content changed (full tiles once, as records with their inner nodes;
    partial tiles with their new width) and the new root hash.
    """
    new_edge = edge.copy()
    tiles: dict[TileKey, bytes] = {}
    level, size, incoming = 0, edge.size, list(leaf_hashes)
    while incoming:
        incoming = _extend_level(new_edge, level, size, incoming, tiles)
        level += 1
    new_edge.frontier.extend(leaf_hashes)
    return Integration(edge=new_edge, tiles=tiles, root=new_edge.frontier.root())


def _extend_level(
    edge: RightEdge,
    level: int,
    old_size: int,
    incoming: list[bytes],
    tiles: dict[TileKey, bytes],
) -> list[bytes]:
    """Add ``incoming`` hashes to tile level ``level``; return the roots of tiles completed."""
    tile = edge.partial.pop(level, [])
    index = nodes_at_tile_level(old_size, level) // TILE_WIDTH
    completed: list[bytes] = []
    for node in incoming:
        tile.append(node)
        if len(tile) == TILE_WIDTH:
            tiles[(level, index)], root = full_tile_record(tile)
            completed.append(root)
            index, tile = index + 1, []
    if tile:
        tiles[(level, index)] = b"".join(tile)
        edge.partial[level] = tile
    return completed
