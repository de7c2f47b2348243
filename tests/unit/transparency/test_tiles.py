import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lacre.errors import InvalidInput
from lacre.transparency.tiles import (
    HASH_SIZE,
    MAX_ENTRY_BYTES,
    TILE_WIDTH,
    TileRef,
    decode_entry_bundle,
    decode_tile,
    decode_tile_index,
    encode_entry_bundle,
    encode_tile,
    encode_tile_index,
    iter_tile_refs,
    partial_width,
    tile_refs_for_size,
)

# --- tile indexes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "000"),
        (5, "005"),
        (999, "999"),
        (1000, "x001/000"),
        (1234067, "x001/x234/067"),
        (2**63 - 1, "x009/x223/x372/x036/x854/x775/807"),
    ],
)
def test_tile_index_vectors(n: int, text: str) -> None:
    assert encode_tile_index(n) == text
    assert decode_tile_index(text) == n


@pytest.mark.parametrize(
    "text",
    [
        "",
        "5",
        "05",
        "0005",
        "x005",
        "001/005",
        "x000/005",
        "x001/x000",
        "x1/005",
        "xx001/005",
        "x001/",
        "/005",
        "x001//005",
        "x00a/005",
        "x001/00a",
        "\u0661\u0662\u0663",
        "X001/005",
        "x009/x223/x372/x036/x854/x775/808",
        "x001/" * 7 + "000",
    ],
)
def test_bad_tile_indexes(text: str) -> None:
    with pytest.raises(InvalidInput):
        decode_tile_index(text)


def test_zero_groups_after_the_first_are_fine() -> None:
    assert decode_tile_index("x001/x000/000") == 1_000_000


@pytest.mark.parametrize("n", [-1, 2**63])
def test_encode_tile_index_range(n: int) -> None:
    with pytest.raises(InvalidInput, match="out of range"):
        encode_tile_index(n)


@given(st.integers(0, 2**63 - 1))
def test_tile_index_round_trip(n: int) -> None:
    assert decode_tile_index(encode_tile_index(n)) == n


# --- tile paths ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "path"),
    [
        (TileRef(0, 0), "tile/0/000"),
        (TileRef(0, 1234067), "tile/0/x001/x234/067"),
        (TileRef(1, 5, 17), "tile/1/005.p/17"),
        (TileRef(0, 1234, 5), "tile/0/x001/234.p/5"),
        (TileRef(63, 0, 1), "tile/63/000.p/1"),
        (TileRef(0, 0, 255), "tile/0/000.p/255"),
        (TileRef.entries(7), "tile/entries/007"),
        (TileRef.entries(1234, 3), "tile/entries/x001/234.p/3"),
        (TileRef(0, 2, 1, "entries"), "tile/entries/002.p/1"),
    ],
)
def test_tile_paths(ref: TileRef, path: str) -> None:
    assert ref.path() == path
    assert TileRef.parse(path) == ref


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/1234",
        "tile/64/000",
        "tile/0/000.p/256",
        "tile/0/000.p/0",
        "tile/0/000.p/05",
        "tile/0/000.p/",
        "tile/0/000.p/x",
        "tile/0/000.p",
        "tile/0/000.p/5/6",
        "tile/00/000",
        "tile/01/000",
        "tile/-1/000",
        "tile/../x",
        "tile/0/../000",
        "tile/0/000/",
        "tile/0/000/extra",
        "/tile/0/000",
        "tile//000",
        "tile/0",
        "tile/0/",
        "tile/entries",
        "tile/entry/000",
        "tiles/0/000",
        "tile/0/x000/001",
        "tile/0/000.P/5",
        "tile/0/000.p/5.p/5",
        "tile/data/000",
        "",
    ],
)
def test_bad_tile_paths(path: str) -> None:
    with pytest.raises(InvalidInput):
        TileRef.parse(path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((64, 0), "level"),
        ((-1, 0), "level"),
        ((0, -1), "index"),
        ((0, 2**63), "index"),
        ((0, 0, 0), "width"),
        ((0, 0, 257), "width"),
        ((1, 0, 256, "entries"), "level"),
        ((0, 0, 256, "leaves"), "kind"),
    ],
)
def test_tile_ref_validation(args: tuple[object, ...], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        TileRef(*args)  # type: ignore[arg-type]


@given(
    level=st.integers(0, 63),
    index=st.integers(0, 2**63 - 1),
    width=st.integers(1, 256),
    entries=st.booleans(),
)
def test_tile_path_round_trip(level: int, index: int, width: int, entries: bool) -> None:
    ref = TileRef.entries(index, width) if entries else TileRef(level, index, width)
    assert TileRef.parse(ref.path()) == ref
    assert ref.is_partial == (width < TILE_WIDTH)


# --- tree shapes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "size", "width"),
    [
        (0, 0, 0),
        (0, 1, 1),
        (0, 256, 0),
        (0, 300, 44),
        (1, 300, 1),
        (1, 255, 0),
        (1, 256 * 256, 0),
        (1, 256 * 256 + 256 * 3 + 7, 3),
        (2, 256 * 256 * 5 + 1, 5),
    ],
)
def test_partial_width(level: int, size: int, width: int) -> None:
    assert partial_width(level, size) == width


@pytest.mark.parametrize(("level", "size"), [(-1, 1), (64, 1), (0, -1)])
def test_partial_width_rejects_bad_arguments(level: int, size: int) -> None:
    with pytest.raises(InvalidInput):
        partial_width(level, size)


def test_tile_refs_small_trees() -> None:
    assert tile_refs_for_size(0) == []
    assert tile_refs_for_size(1) == [TileRef(0, 0, 1)]
    assert tile_refs_for_size(256) == [TileRef(0, 0), TileRef(1, 0, 1)]
    assert tile_refs_for_size(300) == [TileRef(0, 0), TileRef(0, 1, 44), TileRef(1, 0, 1)]


def test_tile_refs_with_entries() -> None:
    assert tile_refs_for_size(257, entries=True) == [
        TileRef.entries(0),
        TileRef.entries(1, 1),
        TileRef(0, 0),
        TileRef(0, 1, 1),
        TileRef(1, 0, 1),
    ]


def test_tile_refs_full_second_level() -> None:
    refs = tile_refs_for_size(256 * 256)
    assert len(refs) == 256 + 1 + 1
    assert refs[-2:] == [TileRef(1, 0), TileRef(2, 0, 1)]
    assert all(not r.is_partial for r in refs[:256])


@settings(deadline=None)
@given(st.integers(0, 256**2 * 3))
def test_tile_refs_agree_with_partial_width(size: int) -> None:
    refs = list(iter_tile_refs(size))
    for ref in refs:
        if ref.is_partial:
            assert partial_width(ref.level, size) == ref.width
    levels = {ref.level for ref in refs}
    for level in levels:
        at_level = [r for r in refs if r.level == level]
        assert sum(r.width for r in at_level) == size >> (8 * level)
        assert [r.index for r in at_level] == list(range(len(at_level)))


def test_tile_refs_negative_size() -> None:
    with pytest.raises(InvalidInput):
        tile_refs_for_size(-1)


# --- hash tiles ----------------------------------------------------------------------------


def test_hash_tile_round_trip() -> None:
    hashes = [bytes([i]) * HASH_SIZE for i in range(3)]
    data = encode_tile(hashes)
    assert len(data) == 3 * HASH_SIZE
    assert decode_tile(data, 3) == hashes


def test_hash_tile_errors() -> None:
    with pytest.raises(InvalidInput, match="number of hashes"):
        encode_tile([])
    with pytest.raises(InvalidInput, match="number of hashes"):
        encode_tile([bytes(32)] * 257)
    with pytest.raises(InvalidInput, match=r"hash 1 .*wrong length"):
        encode_tile([bytes(32), bytes(31)])
    with pytest.raises(InvalidInput, match=r"wrong length.*64 bytes.*63 bytes"):
        decode_tile(bytes(63), 2)
    with pytest.raises(InvalidInput, match="wrong length"):
        decode_tile(bytes(32 * 257), 256)
    with pytest.raises(InvalidInput, match="width"):
        decode_tile(b"", 0)


def test_full_hash_tile_is_8192_bytes() -> None:
    assert len(encode_tile([bytes(32)] * TILE_WIDTH)) == 8192


# --- entry bundles -------------------------------------------------------------------------


def test_entry_bundle_layout() -> None:
    assert encode_entry_bundle([b"ab", b"", b"c"]) == b"\x00\x02ab\x00\x00\x00\x01c"
    assert decode_entry_bundle(b"\x00\x02ab\x00\x00\x00\x01c", 3) == [b"ab", b"", b"c"]


def test_entry_bundle_limits() -> None:
    big = b"x" * MAX_ENTRY_BYTES
    assert decode_entry_bundle(encode_entry_bundle([big])) == [big]
    with pytest.raises(InvalidInput, match="entry 1 is too large"):
        encode_entry_bundle([b"", big + b"x"])
    with pytest.raises(InvalidInput, match="number of entries"):
        encode_entry_bundle([])
    with pytest.raises(InvalidInput, match="number of entries"):
        encode_entry_bundle([b"x"] * 257)
    assert len(decode_entry_bundle(encode_entry_bundle([b"x"] * 256), 256)) == 256


@pytest.mark.parametrize(
    ("data", "width", "message"),
    [
        (b"", None, "empty"),
        (b"", 1, "empty"),
        (b"\x00", None, "truncated in the length of entry 0"),
        (b"\x00\x01a\x00", None, "truncated in the length of entry 1"),
        (b"\x00\x03ab", None, "truncated in entry 0.*3 bytes.*2 bytes"),
        (b"\x00\x01a", 2, "wrong number of entries.*2.*1"),
        (b"\x00\x01a\x00\x01b", 1, "wrong number of entries"),
        (b"\x00\x00" * 257, None, "after 256 entries"),
    ],
)
def test_bad_entry_bundles(data: bytes, width: int | None, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        decode_entry_bundle(data, width)


@given(st.lists(st.binary(max_size=300), min_size=1, max_size=256))
def test_entry_bundle_round_trip(entries: list[bytes]) -> None:
    data = encode_entry_bundle(entries)
    assert decode_entry_bundle(data) == entries
    assert decode_entry_bundle(data, len(entries)) == entries


@given(st.lists(st.binary(min_size=1, max_size=40), min_size=1, max_size=8), st.data())
def test_truncated_entry_bundle_fails(entries: list[bytes], data: st.DataObject) -> None:
    bundle = encode_entry_bundle(entries)
    cut = data.draw(st.integers(1, len(bundle) - 1))
    with pytest.raises(InvalidInput):
        decode_entry_bundle(bundle[:cut], len(entries))
