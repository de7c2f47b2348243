"""Properties of a log grown by arbitrary batches: proofs verify, and tampering is caught."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lacre.errors import InvalidInput
from lacre.keys import KeyAlgorithm, generate_signer
from lacre.tlog import LogOptions, TransparencyLog
from lacre.tlog.storage.sqlite import SqliteStore
from lacre.transparency import merkle
from lacre.transparency.checkpoint import Checkpoint, open_checkpoint
from lacre.transparency.note import KeyNoteVerifier, NoteVerifier

ORIGIN = "log.example.com/properties"
# one Ed25519 and one ECDSA key, generated once: key generation is not under test here
SIGNERS = {
    alg: generate_signer(alg) for alg in (KeyAlgorithm.ECDSA_P256_SHA256, KeyAlgorithm.ED25519)
}

batches_strategy = st.lists(
    st.lists(st.binary(min_size=1, max_size=6), min_size=1, max_size=12), min_size=1, max_size=6
)


def flipped(data: bytes, position: int, mask: int) -> bytes:
    return data[:position] + bytes([data[position] ^ mask]) + data[position + 1 :]


def every_flip(data: bytes, mask: int) -> list[bytes]:
    return [flipped(data, position, mask) for position in range(len(data))]


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    batches=batches_strategy,
    max_batch=st.sampled_from([1, 3, 4096]),
    algorithm=st.sampled_from(sorted(SIGNERS, key=lambda alg: alg.name)),
    mask=st.integers(1, 255),
)
def test_any_history_of_batches_is_provable_and_tamper_evident(
    batches: list[list[bytes]], max_batch: int, algorithm: KeyAlgorithm, mask: int
) -> None:
    signer = SIGNERS[algorithm]
    verifiers: list[NoteVerifier] = [KeyNoteVerifier(ORIGIN, signer.public_key)]
    with tempfile.TemporaryDirectory() as directory:
        store = SqliteStore(Path(directory) / "log.db")
        log = TransparencyLog.open(
            store,
            name="prop",
            origin=ORIGIN,
            signer=signer,
            options=LogOptions(max_batch=max_batch, max_delay_s=0),
        )
        try:
            # a model of the log: entries in index order, first occurrence wins
            model: list[bytes] = []
            notes = [log.reader.checkpoint()]
            for batch in batches:
                expected: list[int] = []
                for item in batch:
                    if item not in model:
                        model.append(item)
                    expected.append(model.index(item))
                result = log.append_many(batch)
                assert result.indices == expected
                assert result.size == len(model)
                notes.append(result.checkpoint)

            checkpoints = [open_checkpoint(note, verifiers, origin=ORIGIN) for note in notes]
            leaves = [merkle.leaf_hash(item) for item in model]
            for checkpoint in checkpoints:
                assert checkpoint.root_hash == merkle.root_of(leaves[: checkpoint.size])
            check_inclusion(log, model, checkpoints, mask)
            check_consistency(log, checkpoints, mask)
            check_checkpoint_tampering(notes[-1], verifiers, mask)
        finally:
            log.close()
            store.close()


def check_inclusion(
    log: TransparencyLog, model: list[bytes], checkpoints: list[Checkpoint], mask: int
) -> None:
    for checkpoint in checkpoints:
        size, root = checkpoint.size, checkpoint.root_hash
        for index in range(size):
            proof = log.reader.inclusion_proof(index, size)
            leaf = merkle.leaf_hash(model[index])
            merkle.verify_inclusion(leaf, index, size, proof.hashes, root)
            for changed in every_flip(model[index], mask):
                with pytest.raises(InvalidInput):
                    merkle.verify_inclusion(
                        merkle.leaf_hash(changed), index, size, proof.hashes, root
                    )
            for which, digest in enumerate(proof.hashes):
                for changed in every_flip(digest, mask):
                    hashes = [*proof.hashes[:which], changed, *proof.hashes[which + 1 :]]
                    with pytest.raises(InvalidInput):
                        merkle.verify_inclusion(leaf, index, size, hashes, root)


def check_consistency(log: TransparencyLog, checkpoints: list[Checkpoint], mask: int) -> None:
    for old, new in itertools.combinations(checkpoints, 2):
        proof = log.reader.consistency_proof(old.size, new.size)
        if old.size == 0:
            assert proof == []
            continue
        merkle.verify_consistency(old.size, new.size, proof, old.root_hash, new.root_hash)
        for which, digest in enumerate(proof):
            for changed in every_flip(digest, mask):
                hashes = [*proof[:which], changed, *proof[which + 1 :]]
                with pytest.raises(InvalidInput):
                    merkle.verify_consistency(
                        old.size, new.size, hashes, old.root_hash, new.root_hash
                    )
        for changed in every_flip(old.root_hash, mask):
            with pytest.raises(InvalidInput):
                merkle.verify_consistency(old.size, new.size, proof, changed, new.root_hash)


def check_checkpoint_tampering(note: bytes, verifiers: list[NoteVerifier], mask: int) -> None:
    for changed in every_flip(note, mask):
        with pytest.raises(InvalidInput):
            open_checkpoint(changed, verifiers, origin=ORIGIN)
