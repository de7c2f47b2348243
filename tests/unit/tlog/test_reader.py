"""The read side: tiles, entry bundles, entries, lookups and proofs."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lacre.errors import InvalidInput, NotFound
from lacre.keys import KeyAlgorithm, SoftwareSigner, generate_signer
from lacre.tlog import LogReader, TransparencyLog
from lacre.tlog.storage.sqlite import SqliteStore
from lacre.transparency import merkle
from lacre.transparency.checkpoint import Checkpoint, open_checkpoint
from lacre.transparency.note import KeyNoteVerifier
from lacre.transparency.tiles import decode_entry_bundle, decode_tile, tile_refs_for_size

ORIGIN = "log.example.com/reader"
SIZES = [1, 2, 3, 5, 8, 13, 255, 256, 257, 511, 512, 600, 777, 1000]
FINAL = SIZES[-1]


def entry(n: int) -> bytes:
    # varying lengths, including the empty entry
    return b"" if n == 0 else f"entry {n};".encode() * (n % 5 + 1)


@dataclass
class Built:
    log: TransparencyLog
    signer: SoftwareSigner
    checkpoints: dict[int, Checkpoint]
    notes: dict[int, bytes]

    @property
    def reader(self) -> LogReader:
        return self.log.reader


def verify_note(note: bytes, signer: SoftwareSigner) -> Checkpoint:
    return open_checkpoint(note, [KeyNoteVerifier(ORIGIN, signer.public_key)], origin=ORIGIN)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """A log grown in steps to each of SIZES, with the checkpoint of every step."""
    signer = generate_signer(KeyAlgorithm.ED25519)
    store = SqliteStore(tmp_path_factory.mktemp("reader") / "log.db")
    log = TransparencyLog.open(store, name="reader", origin=ORIGIN, signer=signer)
    notes = {0: log.reader.checkpoint()}
    size = 0
    for target in SIZES:
        result = log.append_many([entry(n) for n in range(size, target)])
        assert result.size == target
        notes[target] = result.checkpoint
        size = target
    checkpoints = {size: verify_note(note, signer) for size, note in notes.items()}
    yield Built(log, signer, checkpoints, notes)
    log.close()
    store.close()


def leaf(n: int) -> bytes:
    return merkle.leaf_hash(entry(n))


# --- tiles, bundles and entries -----------------------------------------------------------------


def test_every_tile_of_the_tree_matches_the_entries(built: Built) -> None:
    reader = built.reader
    refs = tile_refs_for_size(FINAL, entries=True)
    assert {(r.kind, r.level, r.index, r.width) for r in refs} >= {
        ("hash", 0, 3, 232),
        ("hash", 1, 0, 3),
        ("entries", 0, 3, 232),
    }
    for ref in refs:
        first = ref.index * 256
        if ref.kind == "entries":
            bundle = decode_entry_bundle(reader.entry_bundle(ref.index, ref.width), ref.width)
            assert bundle == [entry(n) for n in range(first, first + ref.width)]
            hashes = decode_tile(reader.tile(0, ref.index, ref.width), ref.width)
            assert hashes == [merkle.leaf_hash(data) for data in bundle]
        elif ref.level == 0:
            hashes = decode_tile(reader.tile(0, ref.index, ref.width), ref.width)
            assert hashes == [leaf(n) for n in range(first, first + ref.width)]
        else:
            hashes = decode_tile(reader.tile(ref.level, ref.index, ref.width), ref.width)
            below = [
                decode_tile(reader.tile(ref.level - 1, (first + k), 256), 256)
                for k in range(ref.width)
            ]
            assert hashes == [merkle.root_of(tile) for tile in below]


@pytest.mark.parametrize(("index", "width"), [(0, 1), (0, 100), (0, 255), (2, 7), (3, 1)])
def test_partial_reads_of_tiles_are_prefixes(built: Built, index: int, width: int) -> None:
    reader = built.reader
    first = index * 256
    assert decode_tile(reader.tile(0, index, width), width) == [
        leaf(n) for n in range(first, first + width)
    ]
    assert decode_entry_bundle(reader.entry_bundle(index, width), width) == [
        entry(n) for n in range(first, first + width)
    ]


@pytest.mark.parametrize(
    ("level", "index", "width"),
    [(0, 3, 233), (0, 3, 256), (0, 4, 1), (1, 0, 4), (1, 0, 256), (1, 1, 1), (2, 0, 1)],
)
def test_tiles_beyond_the_tree_are_not_found(
    built: Built, level: int, index: int, width: int
) -> None:
    with pytest.raises(NotFound):
        built.reader.tile(level, index, width)


@pytest.mark.parametrize(("index", "width"), [(3, 233), (3, 256), (4, 1), (1000, 256)])
def test_entry_bundles_beyond_the_tree_are_not_found(built: Built, index: int, width: int) -> None:
    with pytest.raises(NotFound):
        built.reader.entry_bundle(index, width)


def test_entries_by_index(built: Built) -> None:
    for n in [0, 1, 255, 256, 999]:
        assert built.reader.entry(n) == entry(n)
    for n in [FINAL, FINAL + 1, -1]:
        with pytest.raises(NotFound):
            built.reader.entry(n)


def test_lookup_by_leaf_hash(built: Built) -> None:
    for n in range(0, FINAL, 37):
        assert built.reader.index_of(leaf(n)) == n
    with pytest.raises(NotFound):
        built.reader.index_of(merkle.leaf_hash(b"never appended"))
    with pytest.raises(NotFound):
        built.reader.inclusion_proof_by_hash(merkle.leaf_hash(b"never appended"))


@pytest.mark.parametrize("bad", [b"", b"\x00" * 31, b"\x00" * 33, leaf(1).hex().encode()])
def test_malformed_leaf_hash_is_invalid_input(built: Built, bad: bytes) -> None:
    with pytest.raises(InvalidInput, match="leaf hash"):
        built.reader.index_of(bad)
    with pytest.raises(InvalidInput, match="leaf hash"):
        built.reader.inclusion_proof_by_hash(bad)


# --- proofs --------------------------------------------------------------------------------------


def test_checkpoint_roots_match_the_entries(built: Built) -> None:
    for size, checkpoint in built.checkpoints.items():
        assert checkpoint.size == size
        assert checkpoint.root_hash == merkle.root_of([leaf(n) for n in range(size)])
        assert built.reader.root(size) == checkpoint.root_hash
    assert built.reader.checkpoint() == built.notes[FINAL]
    assert built.reader.root() == built.checkpoints[FINAL].root_hash


def test_inclusion_proofs_verify_against_every_checkpoint(built: Built) -> None:
    rng = random.Random(3)
    for size, checkpoint in built.checkpoints.items():
        if size == 0:
            continue
        indices = range(size) if size <= 300 else sorted(rng.sample(range(size), 60))
        for index in {*indices, 0, size - 1}:
            proof = built.reader.inclusion_proof(index, size)
            assert (proof.index, proof.size, proof.leaf_hash) == (index, size, leaf(index))
            merkle.verify_inclusion(leaf(index), index, size, proof.hashes, checkpoint.root_hash)
            assert built.reader.inclusion_proof_by_hash(leaf(index), size) == proof


def test_inclusion_proof_defaults_to_the_latest_size(built: Built) -> None:
    proof = built.reader.inclusion_proof(500)
    assert proof.size == FINAL
    root = built.checkpoints[FINAL].root_hash
    merkle.verify_inclusion(leaf(500), 500, FINAL, proof.hashes, root)
    with pytest.raises(InvalidInput):  # a proof for another leaf does not verify
        merkle.verify_inclusion(leaf(501), 500, FINAL, proof.hashes, root)


def test_consistency_between_every_pair_of_checkpoints(built: Built) -> None:
    for (size1, cp1), (size2, cp2) in itertools.combinations_with_replacement(
        sorted(built.checkpoints.items()), 2
    ):
        proof = built.reader.consistency_proof(size1, size2)
        if size1 == 0:
            assert proof == []
            continue
        merkle.verify_consistency(size1, size2, proof, cp1.root_hash, cp2.root_hash)
        if size1 < size2:
            with pytest.raises(InvalidInput):  # the proof binds the old root
                merkle.verify_consistency(size1, size2, proof, cp2.root_hash, cp2.root_hash)
    latest = built.checkpoints[FINAL]
    proof = built.reader.consistency_proof(257)
    merkle.verify_consistency(257, FINAL, proof, built.checkpoints[257].root_hash, latest.root_hash)


def test_proofs_do_not_depend_on_the_cache(built: Built) -> None:
    for capacity in (1, 3):
        cold = LogReader(built.log.store, built.log.info, tile_cache=capacity)
        for size in (257, 777, FINAL):
            for index in (0, 255, 256, size - 1):
                assert cold.inclusion_proof(index, size) == built.reader.inclusion_proof(
                    index, size
                )
            assert cold.consistency_proof(13, size) == built.reader.consistency_proof(13, size)


@pytest.mark.parametrize(
    "request_proof",
    [
        lambda r: r.inclusion_proof(FINAL),
        lambda r: r.inclusion_proof(FINAL + 5),
        lambda r: r.inclusion_proof(-1),
        lambda r: r.inclusion_proof(0, FINAL + 1),
        lambda r: r.inclusion_proof(10, 10),
        lambda r: r.inclusion_proof(0, 0),
        lambda r: r.inclusion_proof(0, -1),
        lambda r: r.inclusion_proof_by_hash(leaf(600), 600),
        lambda r: r.consistency_proof(FINAL + 1),
        lambda r: r.consistency_proof(5, FINAL + 1),
        lambda r: r.consistency_proof(10, 5),
        lambda r: r.consistency_proof(-1),
        lambda r: r.root(FINAL + 1),
        lambda r: r.root(-1),
    ],
)
def test_proof_requests_beyond_the_tree_are_invalid_input(
    built: Built, request_proof: Callable[[LogReader], object]
) -> None:
    with pytest.raises(InvalidInput):
        request_proof(built.reader)


def test_a_tree_three_tile_levels_high(tmp_path: Path) -> None:
    """Proofs that read level-2 tiles (trees above 65536 leaves)."""
    signer = generate_signer(KeyAlgorithm.ECDSA_P256_SHA256)
    store = SqliteStore(tmp_path / "big.db")
    log = TransparencyLog.open(store, name="big", origin=ORIGIN, signer=signer)
    try:
        data = [n.to_bytes(4, "big") for n in range(66_000)]
        hashes = [merkle.leaf_hash(item) for item in data]
        first = log.append_many(data[:65_536])
        second = log.append_many(data[65_536:])
        cp1, cp2 = (verify_note(r.checkpoint, signer) for r in (first, second))
        assert cp1.root_hash == merkle.root_of(hashes[:65_536])
        assert cp2.root_hash == merkle.root_of(hashes)
        assert decode_tile(log.reader.tile(2, 0, 1), 1) == [cp1.root_hash]
        assert decode_tile(log.reader.tile(1, 1, 1), 1) == [merkle.root_of(hashes[65_536:65_792])]
        for index in (0, 1, 65_535, 65_536, 65_791, 65_792, 65_999):
            proof = log.reader.inclusion_proof(index)
            merkle.verify_inclusion(hashes[index], index, 66_000, proof.hashes, cp2.root_hash)
        for size1 in (1, 255, 256, 65_535, 65_536, 65_537):
            proof_hashes = log.reader.consistency_proof(size1)
            root1 = merkle.root_of(hashes[:size1])
            merkle.verify_consistency(size1, 66_000, proof_hashes, root1, cp2.root_hash)
    finally:
        log.close()
        store.close()


@pytest.mark.parametrize(
    ("level", "index", "width"), [(0, 0, 0), (0, 0, 300), (0, -1, 256), (0, 0, -5), (64, 0, 1)]
)
def test_tile_arguments_out_of_range_are_invalid_input(
    level: int, index: int, width: int, tmp_path: Path
) -> None:
    store = SqliteStore(tmp_path / "args.db")
    log = TransparencyLog.open(store, name="t", origin="o.example", signer=generate_signer())
    log.append_many([b"x%d" % i for i in range(600)])
    with pytest.raises(InvalidInput):
        log.reader.tile(level, index, width)
    with pytest.raises(InvalidInput):
        log.reader.entry_bundle(index if level == 0 else -1, width if level == 0 else 0)
    log.close()
