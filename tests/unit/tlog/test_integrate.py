"""Pure integration of leaf hashes into tiles, frontier and root."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

import pytest

from lacre.errors import StorageError
from lacre.tlog.integrate import (
    HASH_SIZE,
    TILE_WIDTH,
    RightEdge,
    TileKey,
    edge_tile_keys,
    integrate,
    nodes_at_tile_level,
)
from lacre.transparency import merkle
from lacre.transparency.tiles import decode_tile, partial_width


def leaves(start: int, count: int) -> list[bytes]:
    return [merkle.leaf_hash(f"leaf {n}".encode()) for n in range(start, start + count)]


def scratch_tiles(leaf_hashes: Sequence[bytes]) -> dict[TileKey, bytes]:
    """Every tile of the tree, computed naively from all leaves at once.

    Tile level L holds the Merkle nodes at tree level 8L: the roots of the full
    tiles of level L - 1 (a partial tile has no node at the level above).
    """
    tiles: dict[TileKey, bytes] = {}
    level, nodes = 0, list(leaf_hashes)
    while nodes:
        for index in range(0, len(nodes), TILE_WIDTH):
            tiles[(level, index // TILE_WIDTH)] = naive_record(nodes[index : index + TILE_WIDTH])
        nodes = [
            merkle.root_of(nodes[i : i + TILE_WIDTH])
            for i in range(0, len(nodes) - TILE_WIDTH + 1, TILE_WIDTH)
        ]
        level += 1
    return tiles


def naive_record(hashes: Sequence[bytes]) -> bytes:
    """A tile's stored record: its hashes, then (full tiles only) every inner node, lowest first."""
    if len(hashes) < TILE_WIDTH:
        return b"".join(hashes)
    inner = [
        merkle.root_of(hashes[position << height : (position + 1) << height])
        for height in range(1, 9)
        for position in range(TILE_WIDTH >> height)
    ]
    return b"".join(hashes) + b"".join(inner)


def edge_from_tiles(frontier: merkle.Frontier, tiles: dict[TileKey, bytes]) -> RightEdge:
    keys = edge_tile_keys(frontier.size)
    return RightEdge.load(frontier, {level: tiles[key] for level, (key, _) in keys.items()})


def run_batches(sizes: Sequence[int]) -> tuple[list[bytes], RightEdge, dict[TileKey, bytes]]:
    """Integrate batches of ``sizes`` leaves, checking every step; return leaves, edge, tiles."""
    edge = RightEdge()
    all_leaves: list[bytes] = []
    stored: dict[TileKey, bytes] = {}
    for count in sizes:
        batch = leaves(len(all_leaves), count)
        before = scratch_tiles(all_leaves)
        result = integrate(edge, batch)
        all_leaves += batch
        after = scratch_tiles(all_leaves)

        assert result.edge.size == len(all_leaves)
        assert result.root == merkle.root_of(all_leaves)
        assert result.edge.frontier.root() == result.root
        changed = {key for key, data in after.items() if before.get(key) != data}
        assert set(result.tiles) == changed
        for key in changed:
            assert result.tiles[key] == after[key]

        stored.update(result.tiles)
        assert stored == after
        edge = result.edge
    return all_leaves, edge, stored


@pytest.mark.parametrize(
    "sizes",
    [
        [1],
        [2],
        [3],
        [255],
        [256],
        [257],
        [1, 1, 1, 1, 1],
        [255, 1],
        [256, 1],
        [1, 255, 1],
        [100, 100, 100],
        [512, 256, 3],
        [7, 600, 33, 1],
        [0, 5, 0, 5],
        [TILE_WIDTH * TILE_WIDTH - 1, 1, 1],
    ],
    ids=lambda sizes: "+".join(str(size) for size in sizes),
)
def test_integrate_matches_root_and_tiles_from_scratch(sizes: list[int]) -> None:
    run_batches(sizes)


def test_many_sizes_and_random_splits() -> None:
    rng = random.Random(1)
    for total in [*range(0, 70), 255, 256, 257, 511, 512, 513, 1000, 1025]:
        cuts = sorted(rng.sample(range(1, total), min(4, total - 1))) if total > 1 else []
        bounds = [0, *cuts, total]
        run_batches([b - a for a, b in itertools.pairwise(bounds)])


def test_one_by_one_equals_single_batch() -> None:
    total = 520
    one_by_one = run_batches([1] * total)
    single = run_batches([total])
    assert one_by_one[1] == single[1]
    assert one_by_one[2] == single[2]


def test_tree_beyond_two_tile_levels() -> None:
    size = TILE_WIDTH * TILE_WIDTH + 300
    all_leaves, edge, tiles = run_batches([40_000, 25_535, 1, 300])
    assert size == len(all_leaves)
    # level 2 holds the one node covering the first 65536 leaves.
    assert tiles[(2, 0)] == merkle.root_of(all_leaves[: TILE_WIDTH * TILE_WIDTH])
    assert decode_tile(tiles[(1, 0)][: TILE_WIDTH * HASH_SIZE], TILE_WIDTH)[-1] == merkle.root_of(
        all_leaves[TILE_WIDTH * (TILE_WIDTH - 1) : TILE_WIDTH * TILE_WIDTH]
    )
    assert len(tiles[(1, 1)]) == HASH_SIZE  # one full level-0 tile beyond the first 65536
    assert len(tiles[(0, 257)]) == HASH_SIZE * (300 - TILE_WIDTH)
    assert edge.partial == {
        0: decode_tile(tiles[(0, 257)], 44),
        1: decode_tile(tiles[(1, 1)], 1),
        2: decode_tile(tiles[(2, 0)], 1),
    }


@pytest.mark.parametrize("size", [1, 255, 300, 511, 767])
def test_partial_tiles_are_never_hashed_into_the_level_above(size: int) -> None:
    result = integrate(RightEdge(), leaves(0, size))
    full = size // TILE_WIDTH
    assert {key for key in result.tiles if key[0] == 1} == ({(1, 0)} if full else set())
    if full:
        level1 = decode_tile(result.tiles[(1, 0)], full)
        assert level1 == [merkle.root_of(leaves(n * TILE_WIDTH, TILE_WIDTH)) for n in range(full)]
    if size % TILE_WIDTH:
        assert len(result.tiles[(0, full)]) == HASH_SIZE * partial_width(0, size)
        assert result.edge.partial[0] == leaves(full * TILE_WIDTH, size % TILE_WIDTH)


def test_completing_a_tile_adds_exactly_one_node_above() -> None:
    first = integrate(RightEdge(), leaves(0, 255))
    assert set(first.tiles) == {(0, 0)}
    assert first.edge.partial == {0: leaves(0, 255)}
    second = integrate(first.edge, leaves(255, 1))
    assert set(second.tiles) == {(0, 0), (1, 0)}
    assert second.tiles[(1, 0)] == merkle.root_of(leaves(0, 256))
    assert second.edge.partial == {1: [merkle.root_of(leaves(0, 256))]}
    third = integrate(second.edge, leaves(256, 1))
    assert set(third.tiles) == {(0, 1)}


def test_integrate_leaves_its_input_edge_untouched() -> None:
    edge = integrate(RightEdge(), leaves(0, 300)).edge
    snapshot = edge.copy()
    integrate(edge, leaves(300, 500))
    assert edge == snapshot
    assert edge.size == 300


def test_empty_batch_changes_nothing() -> None:
    edge = integrate(RightEdge(), leaves(0, 10)).edge
    result = integrate(edge, [])
    assert result.tiles == {}
    assert result.edge == edge
    assert result.root == merkle.root_of(leaves(0, 10))


def test_empty_edge_has_the_empty_root() -> None:
    assert integrate(RightEdge(), []).root == merkle.EMPTY_ROOT


@pytest.mark.parametrize("size", [0, 1, 255, 256, 257, 513, 65535, 65536, 65537, 70000])
def test_edge_tile_keys_describe_the_partial_tiles(size: int) -> None:
    keys = edge_tile_keys(size)
    level = 0
    while nodes_at_tile_level(size, level):
        width = partial_width(level, size)
        if width:
            assert keys[level] == ((level, nodes_at_tile_level(size, level) // TILE_WIDTH), width)
        else:
            assert level not in keys
        level += 1
    assert all(lvl < level for lvl in keys)


def test_reloaded_edge_equals_incremental_edge() -> None:
    rng = random.Random(7)
    edge = RightEdge()
    stored: dict[TileKey, bytes] = {}
    total = 0
    for _ in range(60):
        count = rng.choice([1, 2, 3, 17, 100, 255, 256, 257, 700])
        result = integrate(edge, leaves(total, count))
        total += count
        stored.update(result.tiles)
        edge = result.edge
        frontier = merkle.Frontier(total, list(edge.frontier.hashes))
        reloaded = edge_from_tiles(frontier, stored)
        assert reloaded == edge
        # the reloaded edge continues exactly like the incremental one
        probe = leaves(total, 300)
        assert integrate(reloaded, probe) == integrate(edge, probe)


def test_reload_uses_only_the_prefix_of_wider_tiles() -> None:
    all_leaves = leaves(0, 600)
    full = integrate(RightEdge(), all_leaves)
    at_300 = integrate(RightEdge(), all_leaves[:300])
    frontier = at_300.edge.frontier.copy()
    # tiles as a later writer left them: wider than size 300 needs
    wider = {0: full.tiles[(0, 1)], 1: full.tiles[(1, 0)]}
    assert RightEdge.load(frontier, wider) == at_300.edge


def test_reload_refuses_a_short_edge_tile() -> None:
    at_300 = integrate(RightEdge(), leaves(0, 300))
    short = {0: at_300.tiles[(0, 1)][:-HASH_SIZE], 1: at_300.tiles[(1, 0)]}
    with pytest.raises(StorageError, match="level 0"):
        RightEdge.load(at_300.edge.frontier, short)
    with pytest.raises(StorageError, match="level 1"):
        RightEdge.load(at_300.edge.frontier, {0: at_300.tiles[(0, 1)]})


def test_reload_of_the_empty_log_needs_no_tiles() -> None:
    assert RightEdge.load(merkle.Frontier(), {}) == RightEdge()
