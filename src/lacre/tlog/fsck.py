"""Re-derive a log from its stored entries and compare with what is stored.

Safe while writers run: a log only grows, so every check is made against the
state read first (tiles may since have grown wider; only their prefix for
that state is compared).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice

from lacre.errors import InvalidInput, StorageError
from lacre.keys import PublicKey
from lacre.tlog.integrate import HASH_SIZE, RightEdge, TileKey, integrate
from lacre.tlog.storage.base import LogInfo, LogState, LogStore
from lacre.transparency.checkpoint import Checkpoint, open_checkpoint
from lacre.transparency.merkle import leaf_hash
from lacre.transparency.note import KeyNoteVerifier, SignedNote

_BATCH = 4096


@dataclass(frozen=True)
class LogCheck:
    """The outcome of checking one log: its name, size and verified root."""

    name: str
    size: int
    root: bytes


def check_log(store: LogStore, log: LogInfo) -> LogCheck:
    """Check one log; raise :class:`StorageError` naming the first inconsistency."""
    state = store.state(log)
    if state is None:
        raise StorageError(f"log {log.name}: no checkpoint has been stored")
    checkpoint = _verified_checkpoint(log, state)
    edge = _replay(store, log, state.size)
    if edge.size != state.size:
        raise StorageError(
            f"log {log.name}: entries missing", expected=f"{state.size} entries", found=edge.size
        )
    root = edge.frontier.root()
    if root != checkpoint.root_hash:
        raise StorageError(
            f"log {log.name}: root re-derived from the entries differs from the checkpoint's",
            expected=checkpoint.root_hash.hex(),
            found=root.hex(),
        )
    if b"".join(edge.frontier.hashes) != state.frontier:
        raise StorageError(f"log {log.name}: stored frontier differs from the re-derived one")
    return LogCheck(log.name, state.size, root)


def check_store(store: LogStore) -> list[LogCheck]:
    """Check every log in ``store``, stopping at the first inconsistency."""
    return [check_log(store, log) for log in store.logs()]


def _verified_checkpoint(log: LogInfo, state: LogState) -> Checkpoint:
    """The stored checkpoint, which must carry a valid signature by the log's key.

    The key may sign under a name other than the origin (Rekor v1 does), so
    every name on the note is tried with the log's key.
    """
    key = PublicKey.from_der(log.public_key)
    try:
        names = {signature.name for signature in SignedNote.parse(state.checkpoint).signatures}
        verifiers = [KeyNoteVerifier(name, key) for name in sorted(names)]
        checkpoint = open_checkpoint(state.checkpoint, verifiers, origin=log.origin)
    except InvalidInput as exc:
        raise StorageError(f"log {log.name}: latest checkpoint does not verify: {exc}") from exc
    if checkpoint.size != state.size:
        raise StorageError(
            f"log {log.name}: checkpoint size differs from the stored state",
            expected=state.size,
            found=checkpoint.size,
        )
    return checkpoint


def _replay(store: LogStore, log: LogInfo, size: int) -> RightEdge:
    edge = RightEdge()
    entries = store.iter_entries(log, size, _BATCH)
    while batch := list(islice(entries, _BATCH)):
        result = integrate(edge, [leaf_hash(entry) for entry in batch])
        _compare_tiles(store, log, result.tiles)
        edge = result.edge
    return edge


def _compare_tiles(store: LogStore, log: LogInfo, computed: dict[TileKey, bytes]) -> None:
    stored = store.tiles(log, list(computed))
    for (level, index), data in sorted(computed.items()):
        found = stored.get((level, index), b"")[: len(data)]
        if found != data:
            raise StorageError(
                f"log {log.name}: tile {level}/{index} differs from the one re-derived "
                f"from the entries (first {len(data) // HASH_SIZE} hashes compared)"
            )
