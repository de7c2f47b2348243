"""RFC 6962 proof vectors (see tests/assets/README.md) against lacre.transparency.merkle."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lacre.errors import InvalidInput
from lacre.transparency import merkle

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "merkle"

# The leaves of the RFC 6962 reference tree, as hex.
REFERENCE_LEAVES = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]
REFERENCE_HASHES = [merkle.leaf_hash(bytes.fromhex(leaf)) for leaf in REFERENCE_LEAVES]


def _vector_files(kind: str) -> list[Path]:
    files = sorted((ASSETS / kind).rglob("*.json"))
    assert files, f"no {kind} vectors under {ASSETS}"
    return files


def _ids(files: list[Path]) -> list[str]:
    return [str(path.relative_to(ASSETS)) for path in files]


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _proof(raw: list[str] | None) -> list[bytes]:
    return [_b64(item) for item in raw or []]


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@dataclass(frozen=True)
class ListReader:
    """NodeReader over a list of leaf hashes."""

    leaves: list[bytes]

    def __call__(self, level: int, index: int) -> bytes:
        begin = index << level
        end = (index + 1) << level
        assert end <= len(self.leaves), f"read beyond the tree: {(level, index)}"
        return merkle.root_of(self.leaves[begin:end])


def _reference_prefix(size: int, root: bytes) -> list[bytes] | None:
    """The reference tree prefix of this size if the vector's root is its root, else None."""
    if size > len(REFERENCE_HASHES):
        return None
    prefix = REFERENCE_HASHES[:size]
    return prefix if merkle.root_of(prefix) == root else None


INCLUSION = _vector_files("inclusion")
CONSISTENCY = _vector_files("consistency")


def test_vector_counts() -> None:
    assert len(INCLUSION) + len(CONSISTENCY) == 196


def test_reference_tree_root_matches_vectors() -> None:
    happy = _load(ASSETS / "inclusion" / "1" / "happy-path.json")
    assert happy["treeSize"] == 8
    assert merkle.root_of(REFERENCE_HASHES) == _b64(happy["root"])


@pytest.mark.parametrize("path", INCLUSION, ids=_ids(INCLUSION))
def test_inclusion_vector(path: Path) -> None:
    case = _load(path)
    args = (
        _b64(case["leafHash"]),
        case["leafIdx"],
        case["treeSize"],
        _proof(case["proof"]),
        _b64(case["root"]),
    )
    if case["wantErr"]:
        with pytest.raises(InvalidInput):
            merkle.verify_inclusion(*args)
    else:
        merkle.verify_inclusion(*args)


@pytest.mark.parametrize("path", CONSISTENCY, ids=_ids(CONSISTENCY))
def test_consistency_vector(path: Path) -> None:
    case = _load(path)
    args = (
        case["size1"],
        case["size2"],
        _proof(case["proof"]),
        _b64(case["root1"]),
        _b64(case["root2"]),
    )
    if case["wantErr"]:
        with pytest.raises(InvalidInput):
            merkle.verify_consistency(*args)
    else:
        merkle.verify_consistency(*args)


HAPPY_INCLUSION = [
    path
    for path in INCLUSION
    if not _load(path)["wantErr"]
    and _reference_prefix(_load(path)["treeSize"], _b64(_load(path)["root"])) is not None
]
HAPPY_CONSISTENCY = [
    path
    for path in CONSISTENCY
    if not _load(path)["wantErr"]
    and _reference_prefix(_load(path)["size2"], _b64(_load(path)["root2"])) is not None
]


@pytest.mark.parametrize("path", HAPPY_INCLUSION, ids=_ids(HAPPY_INCLUSION))
def test_inclusion_vector_is_regenerated(path: Path) -> None:
    case = _load(path)
    leaves = _reference_prefix(case["treeSize"], _b64(case["root"]))
    assert leaves is not None
    assert leaves[case["leafIdx"]] == _b64(case["leafHash"])
    generated = merkle.inclusion_proof(case["leafIdx"], case["treeSize"], ListReader(leaves))
    assert generated == _proof(case["proof"])


@pytest.mark.parametrize("path", HAPPY_CONSISTENCY, ids=_ids(HAPPY_CONSISTENCY))
def test_consistency_vector_is_regenerated(path: Path) -> None:
    case = _load(path)
    leaves = _reference_prefix(case["size2"], _b64(case["root2"]))
    assert leaves is not None
    assert merkle.root_of(leaves[: case["size1"]]) == _b64(case["root1"])
    generated = merkle.consistency_proof(case["size1"], case["size2"], ListReader(leaves))
    assert generated == _proof(case["proof"])


def test_regeneration_covers_the_numbered_sets() -> None:
    """Every happy path of a numbered set is built on the reference tree."""
    numbered = [p for p in HAPPY_INCLUSION + HAPPY_CONSISTENCY if p.parent.name.isdigit()]
    assert len(numbered) >= 10
    for path in numbered:
        case = _load(path)
        size: int = case["treeSize"] if "treeSize" in case else case["size2"]
        root: str = case["root"] if "root" in case else case["root2"]
        assert _reference_prefix(size, _b64(root)) is not None, path
