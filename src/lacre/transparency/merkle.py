"""RFC 6962 / RFC 9162 Merkle tree hashing, proof generation and proof verification.

Everything here is pure computation over SHA-256 hashes. Proof generation reads
stored tree nodes through a :data:`NodeReader` callback, so any storage layout
(tiles, a key-value table, an in-memory list) can serve proofs.

Terminology: a *perfect subtree* at ``(level, index)`` is the complete binary
tree over leaves ``[index << level, (index + 1) << level)``; level 0 nodes are
leaf hashes. A *range* ``(begin, end)`` is a half-open span of leaves that is a
node of some RFC 6962 tree: ``begin`` is a multiple of the smallest power of two
that is at least ``end - begin``. Proof elements are hashes of such ranges.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Sequence

from lacre.errors import InvalidInput, VerificationError

HASH_SIZE = 32
"""Size in bytes of every hash in the tree (SHA-256)."""

_sha256 = hashlib.sha256
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

EMPTY_ROOT: bytes = _sha256(b"").digest()
"""Root hash of the empty tree: SHA-256 of the empty string."""

NodeReader = Callable[[int, int], bytes]
"""``read(level, index)`` returns the hash of the perfect subtree at ``(level, index)``."""

Node = tuple[int, int]


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 6962 leaf hash ``SHA-256(0x00 || data)``."""
    return _sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 6962 interior node hash ``SHA-256(0x01 || left || right)``."""
    return _sha256(_NODE_PREFIX + left + right).digest()


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the Merkle tree hash of already-hashed leaves (:data:`EMPTY_ROOT` for none)."""
    for position, item in enumerate(leaf_hashes):
        _check_hash(item, f"leaf hash {position}")
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    while len(level) > 1:
        paired = [
            _sha256(_NODE_PREFIX + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) & 1:
            paired.append(level[-1])
        level = paired
    return level[0]


# --- Proof generation -------------------------------------------------------------------------


def subtree_hash(begin: int, end: int, read: NodeReader) -> bytes:
    """Return the Merkle tree hash of leaves ``[begin, end)``, read as aligned perfect subtrees.

    ``[begin, end)`` must be a node of an RFC 6962 tree, as occurs in proofs: ``begin``
    is a multiple of the smallest power of two that is at least ``end - begin``.
    """
    _check_range(begin, end)
    return _range_hash(begin, end, read)


def inclusion_proof(index: int, size: int, read: NodeReader) -> list[bytes]:
    """Return the RFC 9162 inclusion proof of leaf ``index`` in a tree of ``size``, leaf first."""
    _check_index(index, size)
    return _hashes_of(_path(0, index, size), size, read)


def consistency_proof(size1: int, size2: int, read: NodeReader) -> list[bytes]:
    """Return the RFC 9162 consistency proof from tree ``size1`` to tree ``size2``.

    The proof is empty when ``size1`` is 0 or equals ``size2``.
    """
    _check_sizes(size1, size2)
    return _hashes_of(_consistency_path(size1, size2), size2, read)


def inclusion_proof_nodes(index: int, size: int) -> list[Node]:
    """List every ``(level, index)`` node :func:`inclusion_proof` reads, in reading order.

    A storage layer can fetch these in one batch and answer ``read`` from memory.
    """
    _check_index(index, size)
    return _reads_of(_path(0, index, size), size)


def consistency_proof_nodes(size1: int, size2: int) -> list[Node]:
    """List every ``(level, index)`` node :func:`consistency_proof` reads, in reading order."""
    _check_sizes(size1, size2)
    return _reads_of(_consistency_path(size1, size2), size2)


def _path(level: int, index: int, size: int) -> list[Node]:
    """Siblings on the path from node ``(level, index)`` to the root of a tree of ``size``.

    Only the last sibling of the inner part may extend past ``size``; it then stands
    for the hash of its leaves below ``size``.
    """
    inner = (index ^ ((size - 1) >> level)).bit_length()
    path = [(height, (index >> (height - level)) ^ 1) for height in range(level, level + inner)]
    base, rest = level + inner, index >> inner
    while rest:
        shift = (rest & -rest).bit_length() - 1
        path.append((base + shift, (rest >> shift) ^ 1))
        rest &= rest - 1
    return path


def _consistency_path(size1: int, size2: int) -> list[Node]:
    """Nodes of a consistency proof: the seed node (unless it is the old root), then its path."""
    if size1 == 0 or size1 == size2:
        return []
    level = (size1 & -size1).bit_length() - 1
    index = (size1 - 1) >> level
    path = _path(level, index, size2)
    return [(level, index), *path] if index else path


def _hashes_of(nodes: list[Node], size: int, read: NodeReader) -> list[bytes]:
    """Hash proof nodes, folding a node that extends past ``size`` from its perfect pieces."""
    return [
        read(level, index)
        if (index + 1) << level <= size
        else _range_hash(index << level, size, read)
        for level, index in nodes
    ]


def _reads_of(nodes: list[Node], size: int) -> list[Node]:
    """The perfect nodes :func:`_hashes_of` reads for proof nodes, in reading order."""
    reads: list[Node] = []
    for level, index in nodes:
        if (index + 1) << level <= size:
            reads.append((level, index))
        else:
            reads.extend(reversed(_range_nodes(index << level, size)))
    return reads


def _range_hash(begin: int, end: int, read: NodeReader) -> bytes:
    """Hash an aligned range, folding its perfect pieces right to left."""
    pieces = _range_nodes(begin, end)
    result = read(*pieces[-1])
    for level, index in reversed(pieces[:-1]):
        result = _sha256(_NODE_PREFIX + read(level, index) + result).digest()
    return result


def _range_nodes(begin: int, end: int) -> list[Node]:
    """Split an aligned range into perfect subtrees, largest (leftmost) first."""
    nodes: list[Node] = []
    width = end - begin
    while width:
        level = width.bit_length() - 1
        nodes.append((level, begin >> level))
        begin += 1 << level
        width -= 1 << level
    return nodes


# --- Proof verification -----------------------------------------------------------------------


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """Return the root implied by an inclusion proof of ``leaf_hash`` at ``index`` in ``size``.

    Raises :class:`VerificationError` when the proof has the wrong shape, and
    :class:`InvalidInput` when the index, size or leaf hash are unacceptable.
    """
    _check_hash(leaf_hash, "leaf hash")
    _check_index(index, size)
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    _check_proof(
        proof, inner + border, f"inclusion proof for index {index} in a tree of size {size}"
    )
    result = _chain_inner(leaf_hash, proof[:inner], index)
    return _chain_border_right(result, proof[inner:])


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``proof`` shows ``leaf_hash`` at ``index`` in the tree of ``size`` and ``root``.

    Raises :class:`VerificationError` if it does not, and :class:`InvalidInput` for
    unacceptable arguments (as :func:`root_from_inclusion_proof`, or a root of the wrong size).
    """
    _check_hash(root, "root")
    computed = root_from_inclusion_proof(leaf_hash, index, size, proof)
    _require_match(computed, root, f"inclusion proof for index {index} in a tree of size {size}")


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of ``size2`` and ``root2`` extends the tree of ``size1`` and ``root1``.

    Equal sizes need an empty proof and equal roots (the empty root for size 0). A
    proof from the empty tree to a larger one is meaningless and is rejected with
    :class:`InvalidInput`. Raises :class:`VerificationError` if the proof does not verify.
    """
    _check_sizes(size1, size2)
    if size1 == size2:
        _verify_same_tree(size1, proof, root1, root2)
    elif size1 == 0:
        raise InvalidInput(
            f"consistency of the empty tree with a tree of size {size2} cannot be proven",
            expected="size1 of at least 1",
            found=0,
        )
    else:
        _verify_extension(size1, size2, proof, root1, root2)


def _verify_same_tree(size: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """Verify a consistency claim between two trees of the same size."""
    what = f"consistency proof between two trees of size {size}"
    if proof:
        raise VerificationError(what, expected="no hashes", found=f"{len(proof)} hashes")
    _require_match(root2, root1, what)
    if size == 0:
        _require_match(root1, EMPTY_ROOT, f"{what} (the empty tree)")


def _verify_extension(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Verify a consistency proof for ``0 < size1 < size2``."""
    _check_hash(root1, "first root")
    _check_hash(root2, "second root")
    level = (size1 & -size1).bit_length() - 1
    index = (size1 - 1) >> level
    inner = (index ^ ((size2 - 1) >> level)).bit_length()
    border = (index >> inner).bit_count()
    what = f"consistency proof from size {size1} to size {size2}"
    _check_proof(proof, bool(index) + inner + border, what)
    seed, path = (proof[0], proof[1:]) if index else (root1, proof)
    old = _chain_border_right(_chain_inner_right(seed, path[:inner], index), path[inner:])
    _require_match(old, root1, f"{what}, first tree")
    new = _chain_border_right(_chain_inner(seed, path[:inner], index), path[inner:])
    _require_match(new, root2, f"{what}, second tree")


def _chain_inner(seed: bytes, hashes: Sequence[bytes], index: int) -> bytes:
    """Climb the inner path: bit ``i`` of ``index`` says which side ``hashes[i]`` is on."""
    for item in hashes:
        if index & 1:
            seed = _sha256(_NODE_PREFIX + item + seed).digest()
        else:
            seed = _sha256(_NODE_PREFIX + seed + item).digest()
        index >>= 1
    return seed


def _chain_inner_right(seed: bytes, hashes: Sequence[bytes], index: int) -> bytes:
    """Climb the inner path using only left siblings: the root of the tree ending at the seed."""
    for item in hashes:
        if index & 1:
            seed = _sha256(_NODE_PREFIX + item + seed).digest()
        index >>= 1
    return seed


def _chain_border_right(seed: bytes, hashes: Sequence[bytes]) -> bytes:
    """Climb the left border: every remaining sibling is on the left."""
    for item in hashes:
        seed = _sha256(_NODE_PREFIX + item + seed).digest()
    return seed


def _require_match(computed: bytes, expected: bytes, what: str) -> None:
    """Raise :class:`VerificationError` unless two hashes are equal (in constant time)."""
    if not hmac.compare_digest(computed, expected):
        raise VerificationError(
            f"{what}: computed root {computed.hex()} does not match expected root {expected.hex()}"
        )


# --- Argument checks --------------------------------------------------------------------------


def _check_hash(value: bytes, what: str) -> None:
    """Raise :class:`InvalidInput` unless ``value`` is exactly one hash long."""
    if len(value) != HASH_SIZE:
        found = f"{len(value)} bytes"
        raise InvalidInput(
            f"{what} has the wrong length", expected=f"{HASH_SIZE} bytes", found=found
        )


def _check_index(index: int, size: int) -> None:
    """Raise :class:`InvalidInput` unless ``0 <= index < size``."""
    if index < 0 or size < 0:
        raise InvalidInput(f"leaf index {index} and tree size {size} must not be negative")
    if index >= size:
        raise InvalidInput(
            f"leaf index {index} is outside a tree of size {size}",
            expected=f"an index below {size}",
            found=index,
        )


def _check_sizes(size1: int, size2: int) -> None:
    """Raise :class:`InvalidInput` unless ``0 <= size1 <= size2``."""
    if size1 < 0 or size2 < 0:
        raise InvalidInput(f"tree sizes {size1} and {size2} must not be negative")
    if size1 > size2:
        raise InvalidInput(
            "the first tree of a consistency proof must not be larger than the second",
            expected=f"size1 of at most {size2}",
            found=size1,
        )


def _check_range(begin: int, end: int) -> None:
    """Raise :class:`InvalidInput` unless ``[begin, end)`` is a non-empty aligned range."""
    if not 0 <= begin < end:
        raise InvalidInput(f"leaf range [{begin}, {end}) must be non-empty and not negative")
    alignment = 1 << (end - begin - 1).bit_length()
    if begin % alignment:
        raise InvalidInput(
            f"leaf range [{begin}, {end}) is not a Merkle tree node",
            expected=f"begin a multiple of {alignment}",
            found=begin,
        )


def _check_proof(proof: Sequence[bytes], count: int, what: str) -> None:
    """Raise :class:`VerificationError` unless the proof has ``count`` hashes of the right size."""
    if len(proof) != count:
        found = len(proof)
        raise VerificationError(
            f"{what} has the wrong number of hashes", expected=count, found=found
        )
    for position, item in enumerate(proof):
        if len(item) != HASH_SIZE:
            raise VerificationError(
                f"{what}: hash {position} has the wrong length",
                expected=f"{HASH_SIZE} bytes",
                found=f"{len(item)} bytes",
            )


# --- Compact range ----------------------------------------------------------------------------


class Frontier:
    """Compact range ``[0, size)``: one perfect-subtree hash per set bit of size, largest first.

    This is all the state needed to append leaves and compute the root of a log.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        """Build a frontier for a tree of ``size`` leaves from its perfect-subtree hashes."""
        if size < 0:
            raise InvalidInput(f"frontier size {size} must not be negative")
        if len(hashes) != size.bit_count():
            raise InvalidInput(
                f"a frontier for a tree of size {size} has one hash per set bit of the size",
                expected=f"{size.bit_count()} hashes",
                found=f"{len(hashes)} hashes",
            )
        for position, item in enumerate(hashes):
            _check_hash(item, f"frontier hash {position}")
        self._size = size
        self._hashes = list(hashes)

    @property
    def size(self) -> int:
        """Number of leaves covered."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """Perfect-subtree hashes, largest (leftmost) first."""
        return tuple(self._hashes)

    def append(self, leaf_hash: bytes) -> None:
        """Add one leaf hash at the right edge (amortised one node hash per append)."""
        _check_hash(leaf_hash, "leaf hash")
        hashes, carry, merged = self._hashes, self._size, leaf_hash
        while carry & 1:
            merged = _sha256(_NODE_PREFIX + hashes.pop() + merged).digest()
            carry >>= 1
        hashes.append(merged)
        self._size += 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Add leaf hashes at the right edge, in order."""
        for item in leaf_hashes:
            self.append(item)

    def root(self) -> bytes:
        """Return the Merkle tree hash of the covered leaves (:data:`EMPTY_ROOT` when empty)."""
        if not self._hashes:
            return EMPTY_ROOT
        return _chain_border_right(self._hashes[-1], self._hashes[-2::-1])

    def copy(self) -> Frontier:
        """Return an independent copy."""
        clone = Frontier()
        clone._size = self._size
        clone._hashes = list(self._hashes)
        return clone

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frontier):
            return NotImplemented
        return self._size == other._size and self._hashes == other._hashes

    def __repr__(self) -> str:
        return f"Frontier(size={self._size}, hashes={len(self._hashes)})"
