"""Property-based tests for Merkle proof generation and verification."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lacre.errors import InvalidInput, VerificationError
from lacre.transparency import merkle

Tree = list[bytes]


def _hashed(data: list[bytes]) -> Tree:
    return [merkle.leaf_hash(item) for item in data]


trees = st.lists(st.binary(max_size=16), min_size=1, max_size=200).map(_hashed)
distinct_trees = st.lists(st.binary(max_size=16), min_size=2, max_size=200, unique=True).map(
    _hashed
)


class DictReader:
    """NodeReader backed by a dict of every perfect node of the tree."""

    def __init__(self, hashes: Tree) -> None:
        self.nodes: dict[tuple[int, int], bytes] = {}
        level, row = 0, list(hashes)
        while row:
            self.nodes.update(((level, index), item) for index, item in enumerate(row))
            row = [merkle.node_hash(row[i], row[i + 1]) for i in range(0, len(row) - 1, 2)]
            level += 1

    def __call__(self, level: int, index: int) -> bytes:
        return self.nodes[(level, index)]


def flip(value: bytes, position: int) -> bytes:
    position %= len(value)
    return value[:position] + bytes([value[position] ^ 0x01]) + value[position + 1 :]


def tampered(proof: Sequence[bytes], which: int, position: int) -> list[bytes]:
    changed = list(proof)
    changed[which] = flip(changed[which], position)
    return changed


def assert_rejected(check: Callable[..., None], *args: Any) -> None:
    with pytest.raises(VerificationError):
        check(*args)


@settings(max_examples=150, deadline=None)
@given(hashes=trees, data=st.data())
def test_inclusion_proofs_verify(hashes: Tree, data: st.DataObject) -> None:
    size = data.draw(st.integers(1, len(hashes)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    root = merkle.root_of(hashes[:size])
    proof = merkle.inclusion_proof(index, size, DictReader(hashes))
    merkle.verify_inclusion(hashes[index], index, size, proof, root)


@settings(max_examples=150, deadline=None)
@given(hashes=trees, data=st.data())
def test_consistency_proofs_verify(hashes: Tree, data: st.DataObject) -> None:
    size2 = data.draw(st.integers(1, len(hashes)), label="size2")
    size1 = data.draw(st.integers(1, size2), label="size1")
    proof = merkle.consistency_proof(size1, size2, DictReader(hashes))
    root1, root2 = merkle.root_of(hashes[:size1]), merkle.root_of(hashes[:size2])
    merkle.verify_consistency(size1, size2, proof, root1, root2)


@settings(max_examples=150, deadline=None)
@given(hashes=trees, data=st.data())
def test_tampered_inclusion_is_rejected(hashes: Tree, data: st.DataObject) -> None:
    size = data.draw(st.integers(1, len(hashes)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    position = data.draw(st.integers(0, merkle.HASH_SIZE - 1), label="byte")
    root, leaf = merkle.root_of(hashes[:size]), hashes[index]
    proof = merkle.inclusion_proof(index, size, DictReader(hashes))
    verify = merkle.verify_inclusion
    assert_rejected(verify, flip(leaf, position), index, size, proof, root)
    assert_rejected(verify, leaf, index, size, proof, flip(root, position))
    for which in range(len(proof)):
        assert_rejected(verify, leaf, index, size, tampered(proof, which, position), root)
    assert_rejected(verify, leaf, index, size, [*proof, root], root)
    if proof:
        assert_rejected(verify, leaf, index, size, proof[:-1], root)
        assert_rejected(verify, leaf, index, size, proof[1:], root)


@settings(max_examples=150, deadline=None)
@given(hashes=trees, data=st.data())
def test_tampered_consistency_is_rejected(hashes: Tree, data: st.DataObject) -> None:
    size2 = data.draw(st.integers(1, len(hashes)), label="size2")
    size1 = data.draw(st.integers(1, size2), label="size1")
    position = data.draw(st.integers(0, merkle.HASH_SIZE - 1), label="byte")
    proof = merkle.consistency_proof(size1, size2, DictReader(hashes))
    root1, root2 = merkle.root_of(hashes[:size1]), merkle.root_of(hashes[:size2])
    verify = merkle.verify_consistency
    assert_rejected(verify, size1, size2, proof, flip(root1, position), root2)
    assert_rejected(verify, size1, size2, proof, root1, flip(root2, position))
    for which in range(len(proof)):
        assert_rejected(verify, size1, size2, tampered(proof, which, position), root1, root2)
    assert_rejected(verify, size1, size2, [*proof, root1], root1, root2)
    if proof:
        assert_rejected(verify, size1, size2, proof[:-1], root1, root2)


@settings(max_examples=100, deadline=None)
@given(hashes=distinct_trees, data=st.data())
def test_proofs_do_not_verify_at_other_positions(hashes: Tree, data: st.DataObject) -> None:
    size = data.draw(st.integers(2, len(hashes)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    other = data.draw(st.integers(0, size - 1).filter(lambda i: i != index), label="other")
    proof = merkle.inclusion_proof(index, size, DictReader(hashes))
    root = merkle.root_of(hashes[:size])
    with pytest.raises(InvalidInput):
        merkle.verify_inclusion(hashes[other], index, size, proof, root)
    with pytest.raises(InvalidInput):
        merkle.verify_inclusion(hashes[index], other, size, proof, root)


@settings(max_examples=100, deadline=None)
@given(hashes=trees, split=st.integers(0, 200))
def test_frontier_agrees_with_root_of(hashes: Tree, split: int) -> None:
    split = min(split, len(hashes))
    first = merkle.Frontier()
    first.extend(hashes[:split])
    resumed = merkle.Frontier(first.size, first.hashes)
    resumed.extend(hashes[split:])
    assert first.root() == merkle.root_of(hashes[:split])
    assert resumed.root() == merkle.root_of(hashes)
