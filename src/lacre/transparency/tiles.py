"""C2SP tlog-tiles: tile paths, hash tiles and entry bundles.

A log publishes its Merkle tree as tiles of up to 256 hashes. Tile level ``L``
holds the nodes at Merkle tree level ``8 * L``: tile ``N`` at level ``L`` holds
the nodes with index ``N * 256`` to ``N * 256 + 255`` at that tree level (level 0
holds the leaf hashes). The rightmost tile of a level may be partial, with
fewer than 256 hashes. Entry bundles hold the log entries of the level-0 tiles,
each prefixed with its length as a big-endian ``uint16``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Literal

from lacre.errors import InvalidInput
from lacre.record import record

TILE_WIDTH = 256
HASH_SIZE = 32
MAX_ENTRY_BYTES = 65535
MAX_TILE_LEVEL = 63
MAX_TILE_INDEX = (1 << 63) - 1
_MAX_GROUPS = len(str(MAX_TILE_INDEX)) // 3 + 1
_GROUP = re.compile(r"[0-9]{3}")
_SMALL_DECIMAL = re.compile(r"0|[1-9][0-9]{0,2}")

TileKind = Literal["hash", "entries"]


def encode_tile_index(n: int) -> str:
    """Encode a tile index as 3-digit path groups: 1234067 -> ``"x001/x234/067"``."""
    if not 0 <= n <= MAX_TILE_INDEX:
        raise InvalidInput("tile index is out of range", expected="0 <= n < 2**63", found=n)
    groups = [f"{n % 1000:03d}"]
    n //= 1000
    while n:
        groups.append(f"x{n % 1000:03d}")
        n //= 1000
    return "/".join(reversed(groups))


def decode_tile_index(text: str) -> int:
    """Decode a tile index path such as ``"x001/x234/067"``, accepting only canonical forms."""
    groups = text.split("/")
    if len(groups) > _MAX_GROUPS:
        raise InvalidInput(
            "tile index has too many groups", expected=f"<= {_MAX_GROUPS}", found=len(groups)
        )
    value = 0
    for position, group in enumerate(groups):
        last = position == len(groups) - 1
        digits = group if last else group.removeprefix("x")
        if (not last and not group.startswith("x")) or not _GROUP.fullmatch(digits):
            expected = "3 digits" if last else "'x' and 3 digits"
            raise InvalidInput(
                f"tile index group {position + 1} is malformed",
                expected=expected,
                found=repr(group[:20]),
            )
        if position == 0 and not last and digits == "000":
            raise InvalidInput("tile index has a leading zero group", found=repr(text[:40]))
        value = value * 1000 + int(digits)
    if value > MAX_TILE_INDEX:
        raise InvalidInput("tile index is out of range", expected="< 2**63", found=value)
    return value


@record
class TileRef:
    """Names one tile: a hash tile (``kind="hash"``) or an entry bundle (``"entries"``).

    ``width`` is the number of hashes or entries, 256 for a full tile. Entry
    bundles have ``level`` 0.
    """

    level: int
    index: int
    width: int = TILE_WIDTH
    kind: TileKind = "hash"

    def __post_init__(self) -> None:
        """Reject levels, indexes and widths that have no tile path."""
        if self.kind not in ("hash", "entries"):
            raise InvalidInput("unknown tile kind", expected="'hash' or 'entries'", found=self.kind)
        top = MAX_TILE_LEVEL if self.kind == "hash" else 0
        if not 0 <= self.level <= top:
            raise InvalidInput(
                f"{self.kind} tile level is out of range", expected=f"0..{top}", found=self.level
            )
        if not 0 <= self.index <= MAX_TILE_INDEX:
            raise InvalidInput(
                "tile index is out of range", expected="0 <= n < 2**63", found=self.index
            )
        if not 1 <= self.width <= TILE_WIDTH:
            raise InvalidInput("tile width is out of range", expected="1..256", found=self.width)

    @classmethod
    def entries(cls, index: int, width: int = TILE_WIDTH) -> TileRef:
        """Name entry bundle ``index`` of ``width`` entries."""
        return cls(0, index, width, "entries")

    @property
    def is_partial(self) -> bool:
        """Whether the tile holds fewer than 256 hashes or entries."""
        return self.width < TILE_WIDTH

    def path(self) -> str:
        """Return the tile path relative to the log's base URL."""
        level = "entries" if self.kind == "entries" else str(self.level)
        suffix = f".p/{self.width}" if self.is_partial else ""
        return f"tile/{level}/{encode_tile_index(self.index)}{suffix}"

    @classmethod
    def parse(cls, path: str) -> TileRef:
        """Parse a tile path such as ``"tile/0/x001/234.p/5"`` strictly."""
        segments = path.split("/")
        if len(segments) < 3 or segments[0] != "tile":
            raise InvalidInput(
                "not a tile path",
                expected="'tile/<L>/<N>[.p/<W>]' or 'tile/entries/<N>[.p/<W>]'",
                found=repr(path[:80]),
            )
        kind, level = _parse_level(segments[1])
        index_segments, width = _split_width(segments[2:])
        return cls(level, decode_tile_index("/".join(index_segments)), width, kind)


def _parse_level(text: str) -> tuple[TileKind, int]:
    if text == "entries":
        return "entries", 0
    if not _SMALL_DECIMAL.fullmatch(text) or int(text) > MAX_TILE_LEVEL:
        raise InvalidInput(
            "tile level is malformed",
            expected="'entries' or 0..63 without leading zeros",
            found=repr(text[:20]),
        )
    return "hash", int(text)


def _split_width(segments: list[str]) -> tuple[list[str], int]:
    if len(segments) < 2 or not segments[-2].endswith(".p"):
        return segments, TILE_WIDTH
    text = segments[-1]
    if not _SMALL_DECIMAL.fullmatch(text) or not 1 <= int(text) < TILE_WIDTH:
        raise InvalidInput(
            "partial tile width is malformed",
            expected="1..255 without leading zeros",
            found=repr(text[:20]),
        )
    return [*segments[:-2], segments[-2].removesuffix(".p")], int(text)


def partial_width(level: int, size: int) -> int:
    """Return the width of the partial tile at tile level ``level`` for tree ``size``.

    At tile level ``L`` a tree of ``size`` leaves has ``size >> (8 * L)`` complete
    nodes at Merkle level ``8 * L``; the first ``that // 256`` tiles are full and
    the rest, ``that % 256`` hashes, form the partial tile. 0 means no partial tile.
    """
    if not 0 <= level <= MAX_TILE_LEVEL or size < 0:
        raise InvalidInput("invalid tile level or tree size", found=f"level={level} size={size}")
    return (size >> (8 * level)) % TILE_WIDTH


def iter_tile_refs(size: int, *, entries: bool = False) -> Iterator[TileRef]:
    """Yield every tile that exists for a tree of ``size`` leaves, level by level.

    With ``entries``, the entry bundles are yielded first.
    """
    if size < 0:
        raise InvalidInput("tree size is negative", expected=">= 0", found=size)
    if entries:
        yield from _level_refs(size, 0, "entries")
    level = 0
    while size >> (8 * level):
        yield from _level_refs(size >> (8 * level), level, "hash")
        level += 1


def _level_refs(nodes: int, level: int, kind: TileKind) -> Iterator[TileRef]:
    full, rest = divmod(nodes, TILE_WIDTH)
    for n in range(full):
        yield TileRef(level, n, TILE_WIDTH, kind)
    if rest:
        yield TileRef(level, full, rest, kind)


def tile_refs_for_size(size: int, *, entries: bool = False) -> list[TileRef]:
    """Return every tile (full and partial) that exists for a tree of ``size`` leaves."""
    return list(iter_tile_refs(size, entries=entries))


def encode_tile(hashes: Sequence[bytes]) -> bytes:
    """Concatenate 1 to 256 hashes of 32 bytes into a hash tile."""
    if not 1 <= len(hashes) <= TILE_WIDTH:
        raise InvalidInput(
            "hash tile has the wrong number of hashes", expected="1..256", found=len(hashes)
        )
    for i, digest in enumerate(hashes):
        if len(digest) != HASH_SIZE:
            raise InvalidInput(
                f"hash {i} of the tile has the wrong length", expected=HASH_SIZE, found=len(digest)
            )
    return b"".join(hashes)


def decode_tile(data: bytes, width: int) -> list[bytes]:
    """Split a hash tile of ``width`` hashes, checking its length."""
    if not 1 <= width <= TILE_WIDTH:
        raise InvalidInput("tile width is out of range", expected="1..256", found=width)
    if len(data) != HASH_SIZE * width:
        raise InvalidInput(
            f"hash tile of width {width} has the wrong length",
            expected=f"{HASH_SIZE * width} bytes",
            found=f"{len(data)} bytes",
        )
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def encode_entry_bundle(entries: Sequence[bytes]) -> bytes:
    """Serialise 1 to 256 entries as ``uint16 BE length || bytes`` each."""
    if not 1 <= len(entries) <= TILE_WIDTH:
        raise InvalidInput(
            "entry bundle has the wrong number of entries", expected="1..256", found=len(entries)
        )
    parts: list[bytes] = []
    for i, entry in enumerate(entries):
        if len(entry) > MAX_ENTRY_BYTES:
            raise InvalidInput(
                f"entry {i} is too large for an entry bundle",
                expected=f"<= {MAX_ENTRY_BYTES} bytes",
                found=f"{len(entry)} bytes",
            )
        parts += [len(entry).to_bytes(2, "big"), entry]
    return b"".join(parts)


def decode_entry_bundle(data: bytes, width: int | None = None) -> list[bytes]:
    """Parse an entry bundle strictly; if ``width`` is given it must hold that many entries."""
    entries: list[bytes] = []
    offset = 0
    while offset < len(data):
        if len(entries) == TILE_WIDTH:
            raise InvalidInput(
                "entry bundle has trailing bytes after 256 entries",
                found=f"{len(data) - offset} bytes",
            )
        if offset + 2 > len(data):
            raise InvalidInput(f"entry bundle is truncated in the length of entry {len(entries)}")
        length = int.from_bytes(data[offset : offset + 2], "big")
        offset += 2
        if offset + length > len(data):
            raise InvalidInput(
                f"entry bundle is truncated in entry {len(entries)}",
                expected=f"{length} bytes",
                found=f"{len(data) - offset} bytes",
            )
        entries.append(data[offset : offset + length])
        offset += length
    _check_count(len(entries), width)
    return entries


def _check_count(count: int, width: int | None) -> None:
    if count == 0:
        raise InvalidInput("entry bundle is empty", expected="1..256 entries", found=0)
    if width is not None and count != width:
        raise InvalidInput(
            "entry bundle has the wrong number of entries", expected=width, found=count
        )
