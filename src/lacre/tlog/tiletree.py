"""A tile with its inner nodes, laid out flat so a proof reads nodes without hashing.

A full tile is stored as its 256 hashes followed by its 255 inner nodes
(128 at height 1, 64 at height 2, ..., the tile's root last): the stored
record's first 8,192 bytes are the C2SP tile, served as they are, and the
rest spares proofs from re-hashing 255 nodes on every cache miss. Partial
tiles are stored as bare hashes; their inner nodes are computed on reading.
"""

from __future__ import annotations

from collections.abc import Sequence

from lacre.transparency.merkle import node_hash

HASH_SIZE = 32
TILE_WIDTH = 256
FULL_RECORD_BYTES = (2 * TILE_WIDTH - 1) * HASH_SIZE


def inner_rows(hashes: Sequence[bytes]) -> list[list[bytes]]:
    """Every complete inner-node row above ``hashes``, lowest first."""
    rows: list[list[bytes]] = []
    below = list(hashes)
    while len(below) > 1:
        below = [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
        rows.append(below)
    return rows


def full_tile_record(hashes: Sequence[bytes]) -> tuple[bytes, bytes]:
    """The stored record of a full tile, and the tile's root."""
    rows = inner_rows(hashes)
    record = b"".join(hashes) + b"".join(node for row in rows for node in row)
    return record, rows[-1][0]


class TileTree:
    """Nodes of one tile by (height, position), read from a flat byte string."""

    __slots__ = ("_flat", "_offsets")

    def __init__(self, flat: bytes, offsets: tuple[int, ...]) -> None:
        """Wrap ``flat`` whose row ``h`` starts at node number ``offsets[h]``."""
        self._flat = flat
        self._offsets = offsets

    @classmethod
    def from_record(cls, record: bytes, width: int) -> TileTree:
        """The tree of the first ``width`` hashes of a stored tile record."""
        if width == TILE_WIDTH and len(record) == FULL_RECORD_BYTES:
            return cls(record, _offsets(TILE_WIDTH))
        hashes = [record[i : i + HASH_SIZE] for i in range(0, width * HASH_SIZE, HASH_SIZE)]
        flat = record[: width * HASH_SIZE] + b"".join(
            node for row in inner_rows(hashes) for node in row
        )
        return cls(flat, _offsets(width))

    def hashes(self, width: int) -> bytes:
        """The tile's first ``width`` hashes, as served (C2SP tile encoding)."""
        return self._flat[: width * HASH_SIZE]

    def node(self, height: int, position: int) -> bytes:
        """The node at ``height`` above the tile's hashes, ``position`` from the left."""
        start = (self._offsets[height] + position) * HASH_SIZE
        return self._flat[start : start + HASH_SIZE]


def _offsets(width: int) -> tuple[int, ...]:
    offsets = [0]
    row = width
    while row > 1:
        offsets.append(offsets[-1] + row)
        row //= 2
    return tuple(offsets)
