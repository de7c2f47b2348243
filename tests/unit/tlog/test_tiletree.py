import pytest

from lacre.tlog.tiletree import FULL_RECORD_BYTES, TileTree, full_tile_record
from lacre.transparency import merkle

HASHES = [merkle.leaf_hash(b"%d" % i) for i in range(256)]


def _expected(hashes: list[bytes], height: int, position: int) -> bytes:
    return merkle.root_of(hashes[position << height : (position + 1) << height])


def test_full_record_holds_every_inner_node_and_the_root() -> None:
    record, root = full_tile_record(HASHES)
    assert len(record) == FULL_RECORD_BYTES
    assert record[:8192] == b"".join(HASHES)
    assert root == merkle.root_of(HASHES) == record[-32:]
    tree = TileTree.from_record(record, 256)
    for height in range(9):
        for position in range(256 >> height):
            assert tree.node(height, position) == _expected(HASHES, height, position)


@pytest.mark.parametrize("width", [1, 2, 3, 100, 255, 256])
def test_bare_hashes_give_the_same_nodes(width: int) -> None:
    tree = TileTree.from_record(b"".join(HASHES), width)
    for height in range(9):
        for position in range(width >> height):
            assert tree.node(height, position) == _expected(HASHES, height, position)


def test_a_wider_record_is_read_only_up_to_the_width() -> None:
    record, _ = full_tile_record(HASHES)
    tree = TileTree.from_record(record, 6)
    assert tree.node(1, 2) == _expected(HASHES, 1, 2)
    assert tree.node(2, 0) == _expected(HASHES, 2, 0)
