"""Unit tests for lacre.transparency.merkle."""

from __future__ import annotations

import hashlib

import pytest

from lacre.errors import InvalidInput, VerificationError
from lacre.transparency import merkle
from lacre.transparency.merkle import EMPTY_ROOT, HASH_SIZE, Frontier

# The RFC 6962 reference tree: its leaves and the root of every prefix.
REFERENCE_LEAVES = [
    bytes.fromhex(leaf)
    for leaf in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
REFERENCE_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def leaves(count: int) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(count)]


def reference_root(hashes: list[bytes]) -> bytes:
    """RFC 6962 MTH, written directly from the definition."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    split = 1 << ((len(hashes) - 1).bit_length() - 1)
    return merkle.node_hash(reference_root(hashes[:split]), reference_root(hashes[split:]))


def reference_path(index: int, hashes: list[bytes]) -> list[bytes]:
    """RFC 9162 section 2.1.3.1 PATH(m, D[n])."""
    if len(hashes) <= 1:
        return []
    split = 1 << ((len(hashes) - 1).bit_length() - 1)
    if index < split:
        return [*reference_path(index, hashes[:split]), reference_root(hashes[split:])]
    return [*reference_path(index - split, hashes[split:]), reference_root(hashes[:split])]


def reference_subproof(size1: int, hashes: list[bytes], whole: bool) -> list[bytes]:
    """RFC 9162 section 2.1.4.1 SUBPROOF(m, D[n], b)."""
    if size1 == len(hashes):
        return [] if whole else [reference_root(hashes)]
    split = 1 << ((len(hashes) - 1).bit_length() - 1)
    if size1 <= split:
        left = reference_subproof(size1, hashes[:split], whole)
        return [*left, reference_root(hashes[split:])]
    right = reference_subproof(size1 - split, hashes[split:], False)
    return [*right, reference_root(hashes[:split])]


class CountingReader:
    """NodeReader over a list of leaf hashes that records every read."""

    def __init__(self, hashes: list[bytes]) -> None:
        self.hashes = hashes
        self.reads: list[tuple[int, int]] = []

    def __call__(self, level: int, index: int) -> bytes:
        self.reads.append((level, index))
        end = (index + 1) << level
        assert end <= len(self.hashes), f"read beyond the tree: {(level, index)}"
        return merkle.root_of(self.hashes[index << level : end])


class SyntheticReader:
    """NodeReader for huge trees: node hashes are derived from their coordinates."""

    def __init__(self) -> None:
        self.reads = 0

    def __call__(self, level: int, index: int) -> bytes:
        self.reads += 1
        return hashlib.sha256(f"{level}/{index}".encode()).digest()


# --- Hashing -----------------------------------------------------------------------------------


def test_constants() -> None:
    assert HASH_SIZE == 32
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_leaf_and_node_hash_use_domain_separation() -> None:
    assert merkle.leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    left, right = b"L" * 32, b"R" * 32
    assert merkle.node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()
    assert merkle.leaf_hash(left + right) != merkle.node_hash(left, right)


def test_root_of_reference_tree_prefixes() -> None:
    hashes = [merkle.leaf_hash(leaf) for leaf in REFERENCE_LEAVES]
    for size, expected in enumerate(REFERENCE_ROOTS, start=1):
        assert merkle.root_of(hashes[:size]).hex() == expected


def test_root_of_empty_and_single() -> None:
    assert merkle.root_of([]) == EMPTY_ROOT
    only = merkle.leaf_hash(b"x")
    assert merkle.root_of([only]) == only


@pytest.mark.parametrize("size", [2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 100, 255, 256, 257])
def test_root_of_matches_definition(size: int) -> None:
    hashes = leaves(size)
    assert merkle.root_of(hashes) == reference_root(hashes)


def test_root_of_rejects_wrong_hash_length() -> None:
    with pytest.raises(
        InvalidInput, match=r"leaf hash 1 has the wrong length: expected 32 bytes, found 3 bytes"
    ):
        merkle.root_of([b"a" * 32, b"abc"])


# --- Subtree hashes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("begin", "end"), [(0, 1), (5, 6), (0, 8), (8, 16), (0, 5), (8, 13), (16, 19), (0, 31)]
)
def test_subtree_hash(begin: int, end: int) -> None:
    hashes = leaves(40)
    assert merkle.subtree_hash(begin, end, CountingReader(hashes)) == reference_root(
        hashes[begin:end]
    )


def test_subtree_hash_reads_one_node_per_set_bit() -> None:
    reader = CountingReader(leaves(32))
    merkle.subtree_hash(16, 23, reader)
    assert reader.reads == [(0, 22), (1, 10), (2, 4)]


@pytest.mark.parametrize(("begin", "end"), [(0, 0), (3, 2), (-1, 1), (1, 3), (4, 9), (2, 5)])
def test_subtree_hash_rejects_ranges_that_are_not_nodes(begin: int, end: int) -> None:
    with pytest.raises(InvalidInput, match="range"):
        merkle.subtree_hash(begin, end, CountingReader(leaves(16)))


# --- Inclusion ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", range(1, 34))
def test_inclusion_proofs_match_definition_and_verify(size: int) -> None:
    hashes = leaves(size)
    root = merkle.root_of(hashes)
    for index in range(size):
        reader = CountingReader(hashes)
        proof = merkle.inclusion_proof(index, size, reader)
        assert proof == reference_path(index, hashes)
        assert reader.reads == merkle.inclusion_proof_nodes(index, size)
        merkle.verify_inclusion(hashes[index], index, size, proof, root)
        assert merkle.root_from_inclusion_proof(hashes[index], index, size, proof) == root


def test_inclusion_single_leaf_tree() -> None:
    only = merkle.leaf_hash(b"only")
    assert merkle.inclusion_proof(0, 1, CountingReader([only])) == []
    merkle.verify_inclusion(only, 0, 1, [], only)


def test_inclusion_proof_reads_logarithmically_many_nodes_in_a_huge_tree() -> None:
    size = 2**63 - 12345
    reader = SyntheticReader()
    proof = merkle.inclusion_proof(size - 7, size, reader)
    assert reader.reads <= 2 * 64
    root = merkle.root_from_inclusion_proof(b"\x00" * 32, size - 7, size, proof)
    merkle.verify_inclusion(b"\x00" * 32, size - 7, size, proof, root)
    assert len(merkle.inclusion_proof_nodes(2**62 + 1, 2**63)) == 63


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 1), (5, 5), (9, 3)])
def test_inclusion_rejects_index_outside_tree(index: int, size: int) -> None:
    message = f"leaf index {index} is outside a tree of size {size}"
    with pytest.raises(InvalidInput, match=message):
        merkle.inclusion_proof(index, size, CountingReader(leaves(size)))
    with pytest.raises(InvalidInput, match=message):
        merkle.verify_inclusion(b"\x00" * 32, index, size, [], b"\x00" * 32)
    with pytest.raises(InvalidInput, match=message):
        merkle.inclusion_proof_nodes(index, size)


@pytest.mark.parametrize(("index", "size"), [(-1, 4), (0, -1)])
def test_inclusion_rejects_negative_numbers(index: int, size: int) -> None:
    with pytest.raises(InvalidInput, match="must not be negative"):
        merkle.inclusion_proof(index, size, CountingReader([]))
    with pytest.raises(InvalidInput, match="must not be negative"):
        merkle.verify_inclusion(b"\x00" * 32, index, size, [], b"\x00" * 32)


def test_inclusion_wrong_proof_length_message() -> None:
    hashes = leaves(11)
    proof = merkle.inclusion_proof(5, 11, CountingReader(hashes))
    assert len(proof) == 4
    with pytest.raises(VerificationError) as caught:
        merkle.verify_inclusion(hashes[5], 5, 11, proof[:3], merkle.root_of(hashes))
    assert str(caught.value) == (
        "inclusion proof for index 5 in a tree of size 11 has the wrong number of hashes: "
        "expected 4, found 3"
    )


def test_inclusion_mismatch_message_names_both_roots() -> None:
    hashes = leaves(6)
    proof = merkle.inclusion_proof(2, 6, CountingReader(hashes))
    wrong = b"\xab" * 32
    computed = merkle.root_of(hashes).hex()
    with pytest.raises(VerificationError, match=f"computed root {computed} .*expected root ab"):
        merkle.verify_inclusion(hashes[2], 2, 6, proof, wrong)


def test_inclusion_rejects_bad_hash_lengths() -> None:
    hashes = leaves(4)
    root = merkle.root_of(hashes)
    proof = merkle.inclusion_proof(1, 4, CountingReader(hashes))
    with pytest.raises(InvalidInput, match="leaf hash has the wrong length"):
        merkle.verify_inclusion(hashes[1][:31], 1, 4, proof, root)
    with pytest.raises(InvalidInput, match="root has the wrong length"):
        merkle.verify_inclusion(hashes[1], 1, 4, proof, root + b"\x00")
    with pytest.raises(VerificationError, match=r"hash 1 has the wrong length.*found 33 bytes"):
        merkle.verify_inclusion(hashes[1], 1, 4, [proof[0], proof[1] + b"\x00"], root)


# --- Consistency -------------------------------------------------------------------------------


@pytest.mark.parametrize("size2", range(1, 34))
def test_consistency_proofs_match_definition_and_verify(size2: int) -> None:
    hashes = leaves(size2)
    root2 = merkle.root_of(hashes)
    for size1 in range(1, size2 + 1):
        reader = CountingReader(hashes)
        proof = merkle.consistency_proof(size1, size2, reader)
        assert proof == reference_subproof(size1, hashes, True)
        assert reader.reads == merkle.consistency_proof_nodes(size1, size2)
        merkle.verify_consistency(size1, size2, proof, merkle.root_of(hashes[:size1]), root2)


def test_consistency_proof_from_empty_tree_is_empty() -> None:
    assert merkle.consistency_proof(0, 5, CountingReader(leaves(5))) == []
    assert merkle.consistency_proof_nodes(0, 5) == []
    assert merkle.consistency_proof(0, 0, CountingReader([])) == []


def test_consistency_verification_from_empty_tree_is_rejected() -> None:
    root = merkle.root_of(leaves(3))
    with pytest.raises(
        InvalidInput, match="consistency of the empty tree with a tree of size 3 cannot be proven"
    ):
        merkle.verify_consistency(0, 3, [], EMPTY_ROOT, root)


def test_consistency_equal_sizes() -> None:
    root = merkle.root_of(leaves(5))
    merkle.verify_consistency(5, 5, [], root, root)
    merkle.verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)
    with pytest.raises(VerificationError, match="expected no hashes, found 1 hashes"):
        merkle.verify_consistency(5, 5, [root], root, root)
    with pytest.raises(VerificationError, match="does not match"):
        merkle.verify_consistency(5, 5, [], root, EMPTY_ROOT)
    with pytest.raises(VerificationError, match="the empty tree"):
        merkle.verify_consistency(0, 0, [], root, root)


def test_consistency_rejects_bad_sizes() -> None:
    with pytest.raises(InvalidInput, match=r"must not be larger.*expected size1 of at most 3"):
        merkle.consistency_proof(4, 3, CountingReader(leaves(4)))
    with pytest.raises(InvalidInput, match="must not be larger"):
        merkle.verify_consistency(4, 3, [], EMPTY_ROOT, EMPTY_ROOT)
    with pytest.raises(InvalidInput, match="must not be negative"):
        merkle.verify_consistency(-1, 3, [], EMPTY_ROOT, EMPTY_ROOT)
    with pytest.raises(InvalidInput, match="must not be negative"):
        merkle.consistency_proof_nodes(0, -3)


def test_consistency_wrong_proof_length_message() -> None:
    hashes = leaves(7)
    proof = merkle.consistency_proof(6, 7, CountingReader(hashes))
    old, new = merkle.root_of(hashes[:6]), merkle.root_of(hashes)
    with pytest.raises(VerificationError) as caught:
        merkle.verify_consistency(6, 7, [*proof, proof[0]], old, new)
    assert str(caught.value) == (
        "consistency proof from size 6 to size 7 has the wrong number of hashes: "
        "expected 3, found 4"
    )


def test_consistency_rejects_bad_root_lengths() -> None:
    hashes = leaves(7)
    proof = merkle.consistency_proof(3, 7, CountingReader(hashes))
    old, new = merkle.root_of(hashes[:3]), merkle.root_of(hashes)
    with pytest.raises(InvalidInput, match="first root has the wrong length"):
        merkle.verify_consistency(3, 7, proof, old[:-1], new)
    with pytest.raises(InvalidInput, match="second root has the wrong length"):
        merkle.verify_consistency(3, 7, proof, old, new * 2)


def test_consistency_names_the_tree_that_failed() -> None:
    hashes = leaves(7)
    proof = merkle.consistency_proof(3, 7, CountingReader(hashes))
    old, new = merkle.root_of(hashes[:3]), merkle.root_of(hashes)
    with pytest.raises(VerificationError, match="first tree: computed root"):
        merkle.verify_consistency(3, 7, proof, new, new)
    with pytest.raises(VerificationError, match="second tree: computed root"):
        merkle.verify_consistency(3, 7, proof, old, old)


def test_consistency_proof_in_a_huge_tree() -> None:
    size1, size2 = 2**62 + 2**40 + 3, 2**63 - 1
    reader = SyntheticReader()
    proof = merkle.consistency_proof(size1, size2, reader)
    assert reader.reads <= 3 * 64
    assert len(proof) <= 2 * 64
    assert len(merkle.consistency_proof_nodes(size1, size2)) == reader.reads


# --- Frontier ----------------------------------------------------------------------------------


def test_frontier_matches_root_of_for_every_size_up_to_300() -> None:
    hashes = leaves(300)
    frontier = Frontier()
    assert frontier.root() == EMPTY_ROOT
    for size, item in enumerate(hashes, start=1):
        frontier.append(item)
        assert frontier.size == size
        assert len(frontier.hashes) == size.bit_count()
        assert frontier.root() == merkle.root_of(hashes[:size])


def test_frontier_hashes_are_the_perfect_subtrees_largest_first() -> None:
    hashes = leaves(13)
    frontier = Frontier()
    frontier.extend(hashes)
    assert frontier.hashes == (
        merkle.root_of(hashes[:8]),
        merkle.root_of(hashes[8:12]),
        hashes[12],
    )


def test_frontier_round_trips_through_its_state() -> None:
    hashes = leaves(77)
    frontier = Frontier()
    frontier.extend(hashes[:50])
    restored = Frontier(frontier.size, frontier.hashes)
    assert restored == frontier
    restored.extend(hashes[50:])
    assert restored.root() == merkle.root_of(hashes)


def test_frontier_copy_is_independent() -> None:
    frontier = Frontier()
    frontier.extend(leaves(5))
    clone = frontier.copy()
    clone.append(merkle.leaf_hash(b"more"))
    assert frontier.size == 5
    assert clone.size == 6
    assert frontier != clone
    assert repr(frontier) == "Frontier(size=5, hashes=2)"


def test_frontier_amortised_hashing() -> None:
    frontier = Frontier()
    frontier.extend(leaves(1024))
    assert frontier.hashes == (merkle.root_of(leaves(1024)),)


def test_frontier_validation() -> None:
    with pytest.raises(InvalidInput, match="must not be negative"):
        Frontier(-1)
    with pytest.raises(InvalidInput, match=r"size 5 has one hash per set bit.*expected 2 hashes"):
        Frontier(5, [b"\x00" * 32])
    with pytest.raises(InvalidInput, match="frontier hash 1 has the wrong length"):
        Frontier(3, [b"\x00" * 32, b"\x00" * 31])
    with pytest.raises(InvalidInput, match="leaf hash has the wrong length"):
        Frontier().append(b"short")
    with pytest.raises(TypeError):
        hash(Frontier())
