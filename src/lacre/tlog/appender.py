"""The appender: batches entries, integrates them durably, signs a checkpoint.

Callers submit entries from any thread and get a future. One background
thread drains the queue in batches (``max_batch`` entries, or whatever
arrived by the time the oldest queued entry has waited ``max_delay_s``) and
integrates each batch in one write transaction: duplicates are resolved to
their existing index, new entries, changed tiles and a freshly signed
checkpoint are stored together, and only after the commit are the futures
resolved. A crash therefore loses only
entries that were never acknowledged.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass

from lacre.errors import InvalidInput, PushbackError
from lacre.tlog.integrate import RightEdge, edge_tile_keys, integrate
from lacre.tlog.options import LogOptions
from lacre.tlog.storage.base import LogInfo, LogState, LogStore, WriteTransaction, entry_key
from lacre.transparency.checkpoint import Checkpoint, sign_checkpoint
from lacre.transparency.merkle import Frontier, leaf_hash
from lacre.transparency.note import NoteSigner


@dataclass(frozen=True)
class Integrated:
    """What a caller learns once its entries are durable and integrated."""

    indices: list[int]
    """The index of each submitted entry (an earlier index for a duplicate)."""
    new: list[bool]
    """Whether each submitted entry was appended now (False: it was already logged)."""
    size: int
    """Tree size of ``checkpoint``, which covers every index in ``indices``."""
    checkpoint: bytes
    """The signed checkpoint note covering the entries."""
    time: int = 0
    """When the new entries were integrated (Unix seconds); earlier for duplicates."""


@dataclass
class _Submission:
    entries: Sequence[bytes]
    hashes: list[bytes]
    future: Future[Integrated]
    arrived: float
    """When it was queued (``time.monotonic``)."""


class Appender:
    """Sequences and integrates entries of one log on a background thread."""

    def __init__(
        self,
        store: LogStore,
        log: LogInfo,
        signer: NoteSigner,
        options: LogOptions,
        on_commit: Callable[[LogState], None] | None = None,
    ) -> None:
        """Start integrating submissions to ``log`` in ``store``.

        ``on_commit`` is told every newly committed state.
        """
        self._store, self._log, self._signer, self._options = store, log, signer, options
        self._on_commit = on_commit
        self._queue: deque[_Submission] = deque()
        self._queued = 0
        self._cond = threading.Condition()
        self._closed = False
        self._edge: RightEdge | None = None
        self._thread = threading.Thread(target=self._run, name=f"tlog-{log.name}", daemon=True)
        self._thread.start()

    def submit(self, entries: Sequence[bytes]) -> Future[Integrated]:
        """Queue ``entries``; the future resolves once they are integrated."""
        for entry in entries:
            self._check_entry(entry)
        hashes = [leaf_hash(entry) for entry in entries]
        future: Future[Integrated] = Future()
        with self._cond:
            if self._closed:
                raise PushbackError(f"log {self._log.name} is shutting down")
            if self._queued + len(entries) > self._options.max_pending:
                raise PushbackError(
                    f"log {self._log.name} has {self._queued} entries waiting for integration "
                    f"(limit {self._options.max_pending}); retry shortly",
                    retry_after_s=1.0,
                )
            was_empty = not self._queue
            self._queue.append(_Submission(entries, hashes, future, time.monotonic()))
            self._queued += len(entries)
            if was_empty or self._queued >= self._options.max_batch:
                # Wake the appender only when it can act: a first entry to wait on,
                # or a full batch to integrate without waiting out its delay. Waking
                # it for every entry costs the submitting thread a GIL hand-over.
                self._cond.notify()
        return future

    @property
    def backlog(self) -> int:
        """Entries submitted but not yet integrated."""
        return self._queued

    def close(self) -> None:
        """Integrate what is queued, then stop the background thread."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()

    def _check_entry(self, entry: bytes) -> None:
        limit = self._options.max_entry_bytes
        if len(entry) > limit:
            raise InvalidInput(
                f"entry too large for log {self._log.name}",
                expected=f"at most {limit} bytes",
                found=f"{len(entry)} bytes",
            )

    def _run(self) -> None:
        while (batch := self._next_batch()) is not None:
            self._integrate(batch)

    def _next_batch(self) -> list[_Submission] | None:
        with self._cond:
            while not self._queue and not self._closed:
                self._cond.wait()
            if not self._queue:
                return None
            # The delay bounds how long the oldest entry waits for companions: entries
            # that queued up during the previous commit have waited already.
            deadline = self._queue[0].arrived + self._options.max_delay_s
            while self._queued < self._options.max_batch and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._cond.wait(remaining):
                    break
            return self._take_batch()

    def _take_batch(self) -> list[_Submission]:
        batch: list[_Submission] = []
        count = 0
        while self._queue and count < self._options.max_batch:
            submission = self._queue.popleft()
            batch.append(submission)
            count += len(submission.entries)
        self._queued -= count
        return batch

    def _integrate(self, batch: list[_Submission]) -> None:
        batch = [item for item in batch if item.future.set_running_or_notify_cancel()]
        try:
            outcome = self._commit(
                [entry for item in batch for entry in item.entries],
                [digest for item in batch for digest in item.hashes],
            )
        except BaseException as exc:
            self._edge = None
            for item in batch:
                item.future.set_exception(exc)
            return
        indices, new, size, checkpoint, moment = outcome
        offset = 0
        for item in batch:
            end = offset + len(item.entries)
            item.future.set_result(
                Integrated(indices[offset:end], new[offset:end], size, checkpoint, moment)
            )
            offset = end

    def _commit(
        self, entries: list[bytes], hashes: list[bytes]
    ) -> tuple[list[int], list[bool], int, bytes, int]:
        moment = int(time.time())
        with self._store.write(self._log) as txn:
            state = _require_state(txn)
            existing = _existing(txn, hashes)
            indices, fresh = _assign(state.size, hashes, existing)
            new = [False] * len(entries)
            for position in fresh:
                new[position] = True
            if not fresh:
                return indices, new, state.size, state.checkpoint, moment
            edge = self._edge_for(txn, state)
            result = integrate(edge, [hashes[i] for i in fresh])
            checkpoint = self._sign(result.edge.size, result.root)
            txn.insert_entries(
                state.size,
                [(entry_key(hashes[i]), entries[i]) for i in fresh],
                time=moment,
            )
            txn.put_tiles(result.tiles)
            committed = LogState(
                result.edge.size, b"".join(result.edge.frontier.hashes), checkpoint
            )
            txn.put_state(committed)
        self._edge = result.edge
        if self._on_commit is not None:
            self._on_commit(committed)
        return indices, new, result.edge.size, checkpoint, moment

    def _edge_for(self, txn: WriteTransaction, state: LogState) -> RightEdge:
        if self._edge is not None and self._edge.size == state.size:
            return self._edge
        frontier = Frontier(state.size, state.frontier_hashes())
        keys = edge_tile_keys(state.size)
        stored = txn.tiles([key for key, _ in keys.values()])
        by_level = {level: stored.get(key, b"") for level, (key, _) in keys.items()}
        return RightEdge.load(frontier, by_level)

    def _sign(self, size: int, root: bytes) -> bytes:
        return sign_checkpoint(Checkpoint(self._log.origin, size, root), [self._signer])


def _require_state(txn: WriteTransaction) -> LogState:
    state = txn.state()
    if state is None:
        raise InvalidInput("log has no initial checkpoint; open it with TransparencyLog.open")
    return state


def _existing(txn: WriteTransaction, hashes: list[bytes]) -> dict[bytes, int]:
    """Indices of already-stored entries among ``hashes``, by leaf hash."""
    wanted = set(hashes)
    found = txn.find([entry_key(digest) for digest in wanted])
    existing: dict[bytes, int] = {}
    for index, data in found:
        digest = leaf_hash(data)
        if digest in wanted:
            existing[digest] = index
    return existing


def _assign(
    size: int, hashes: list[bytes], existing: dict[bytes, int]
) -> tuple[list[int], list[int]]:
    """Give each hash an index; return the indices and the positions of new entries."""
    assigned = dict(existing)
    indices: list[int] = []
    fresh: list[int] = []
    for position, digest in enumerate(hashes):
        index = assigned.get(digest)
        if index is None:
            index = assigned[digest] = size + len(fresh)
            fresh.append(position)
        indices.append(index)
    return indices, fresh
