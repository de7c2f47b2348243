"""The appender: sequencing, deduplication, limits, pushback, checkpoints and failures."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from lacre.errors import ConfigError, InvalidInput, PushbackError, StorageError, VerificationError
from lacre.keys import KeyAlgorithm, SoftwareSigner, generate_signer
from lacre.tlog import Integrated, LogOptions, TransparencyLog
from lacre.tlog.storage.base import LogInfo, LogState, WriteTransaction, entry_key
from lacre.tlog.storage.sqlite import SqliteStore
from lacre.transparency import merkle
from lacre.transparency.checkpoint import Checkpoint, open_checkpoint
from lacre.transparency.note import KeyNoteVerifier

ORIGIN = "log.example.com/unit"
WAIT_S = 30.0


class InjectedFailure(StorageError):
    """The failure a test injects into a storage write."""


class ControlledTransaction:
    """A write transaction that can fail at a chosen step."""

    def __init__(self, inner: WriteTransaction, store: ControlledStore) -> None:
        self._inner, self._store = inner, store

    def _step(self, name: str) -> None:
        if self._store.fail_at == name:
            raise InjectedFailure(f"injected failure in {name}")

    def state(self) -> LogState | None:
        return self._inner.state()

    def tiles(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        return self._inner.tiles(keys)

    def find(self, keys: Sequence[int]) -> list[tuple[int, bytes]]:
        self._step("find")
        return self._inner.find(keys)

    def insert_entries(self, start: int, rows: Sequence[tuple[int, bytes]], time: int = 0) -> None:
        self._inner.insert_entries(start, rows, time)
        self._step("insert_entries")

    def put_tiles(self, tiles: Mapping[tuple[int, int], bytes]) -> None:
        self._inner.put_tiles(tiles)
        self._step("put_tiles")

    def put_state(self, state: LogState) -> None:
        self._inner.put_state(state)
        self._step("put_state")


class ControlledStore:
    """A SQLite store whose writes can be held at a gate or made to fail."""

    def __init__(self, inner: SqliteStore) -> None:
        self.inner = inner
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.fail_at: str | None = None
        self.writes = 0

    def hold(self) -> None:
        """Make the next writes wait until :meth:`release`."""
        self.entered.clear()
        self.gate.clear()

    def release(self) -> None:
        self.gate.set()

    def ensure_log(self, name: str, origin: str, public_key: bytes) -> LogInfo:
        return self.inner.ensure_log(name, origin, public_key)

    def logs(self) -> list[LogInfo]:
        return self.inner.logs()

    @contextmanager
    def write(self, log: LogInfo) -> Iterator[WriteTransaction]:
        self.entered.set()
        if not self.gate.wait(WAIT_S):
            raise TimeoutError("the test never released the write gate")
        self.writes += 1
        with self.inner.write(log) as txn:
            yield ControlledTransaction(txn, self)
            if self.fail_at == "exit":
                raise InjectedFailure("injected failure before commit")

    def state(self, log: LogInfo) -> LogState | None:
        return self.inner.state(log)

    def tiles(self, log: LogInfo, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        return self.inner.tiles(log, keys)

    def entries(self, log: LogInfo, start: int, end: int) -> list[bytes]:
        return self.inner.entries(log, start, end)

    def iter_entries(self, log: LogInfo, end: int, batch: int = 4096) -> Iterator[bytes]:
        return self.inner.iter_entries(log, end, batch)

    def find(self, log: LogInfo, keys: Sequence[int]) -> list[tuple[int, bytes]]:
        return self.inner.find(log, keys)

    def entry_time(self, log: LogInfo, index: int) -> int | None:
        return self.inner.entry_time(log, index)

    def index_progress(self, log: LogInfo) -> int:
        return self.inner.index_progress(log)

    def add_to_index(self, log: LogInfo, rows: Sequence[tuple[int, int]], progress: int) -> None:
        self.inner.add_to_index(log, rows, progress)

    def lookup(self, log: LogInfo, keys: Sequence[int]) -> list[int]:
        return self.inner.lookup(log, keys)

    def close(self) -> None:
        self.inner.close()


OpenLog = Callable[..., TransparencyLog]


@pytest.fixture
def signer() -> SoftwareSigner:
    return generate_signer(KeyAlgorithm.ECDSA_P256_SHA256)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ControlledStore]:
    controlled = ControlledStore(SqliteStore(tmp_path / "log.db"))
    yield controlled
    controlled.release()
    controlled.close()


@pytest.fixture
def open_log(store: ControlledStore, signer: SoftwareSigner) -> Iterator[OpenLog]:
    opened: list[TransparencyLog] = []

    def factory(
        *,
        options: LogOptions | None = None,
        key: SoftwareSigner | None = None,
        origin: str = ORIGIN,
        name: str = "unit",
    ) -> TransparencyLog:
        log = TransparencyLog.open(
            store, name=name, origin=origin, signer=key or signer, options=options
        )
        opened.append(log)
        return log

    yield factory
    store.release()
    store.fail_at = None
    for log in opened:
        log.close()


def entry(n: int, tag: str = "e") -> bytes:
    return f"{tag}-{n}".encode()


def verified(log: TransparencyLog, signer: SoftwareSigner, note: bytes | None = None) -> Checkpoint:
    data = log.reader.checkpoint() if note is None else note
    return open_checkpoint(data, [KeyNoteVerifier(ORIGIN, signer.public_key)], origin=ORIGIN)


def check_whole_log(log: TransparencyLog, signer: SoftwareSigner, expected: list[bytes]) -> None:
    """The log holds exactly ``expected`` in order, under a verifying checkpoint."""
    checkpoint = verified(log, signer)
    assert checkpoint.size == len(expected)
    assert log.store.entries(log.info, 0, len(expected) + 10) == expected
    assert checkpoint.root_hash == merkle.root_of([merkle.leaf_hash(e) for e in expected])


def wait_all(futures: Sequence[Future[Integrated]]) -> list[Integrated]:
    return [future.result(timeout=WAIT_S) for future in futures]


# --- sequencing ----------------------------------------------------------------------------------


def test_indices_are_consecutive(open_log: OpenLog, signer: SoftwareSigner) -> None:
    log = open_log()
    assert [log.append(entry(n)) for n in range(5)] == [0, 1, 2, 3, 4]
    result = log.append_many([entry(n) for n in range(5, 12)])
    assert result.indices == list(range(5, 12))
    assert result.size == 12
    assert verified(log, signer, result.checkpoint).size == 12
    check_whole_log(log, signer, [entry(n) for n in range(12)])


def test_concurrent_submissions_get_distinct_dense_indices(
    open_log: OpenLog, signer: SoftwareSigner
) -> None:
    log = open_log(options=LogOptions(max_batch=64, max_delay_s=0.001))
    results: dict[bytes, int] = {}

    def worker(thread: int) -> list[tuple[bytes, int]]:
        acked: list[tuple[bytes, int]] = []
        for n in range(40):
            batch = [entry(n * 3 + k, f"t{thread}") for k in range(n % 3 + 1)]
            integrated = log.append_many(batch)
            assert integrated.size > max(integrated.indices)
            acked += zip(batch, integrated.indices, strict=True)
        return acked

    with ThreadPoolExecutor(6) as pool:
        for acked in pool.map(worker, range(6)):
            results.update(acked)
    assert len(results) == 6 * sum(n % 3 + 1 for n in range(40))
    assert sorted(results.values()) == list(range(len(results)))
    by_index = sorted(results, key=results.__getitem__)
    check_whole_log(log, signer, by_index)


def test_async_append(open_log: OpenLog, signer: SoftwareSigner) -> None:
    log = open_log()

    async def main() -> list[tuple[int, Integrated]]:
        return list(await asyncio.gather(*(log.append_async(entry(n)) for n in range(20))))

    outcomes = asyncio.run(main())
    assert sorted(index for index, _ in outcomes) == list(range(20))
    for index, integrated in outcomes:
        assert integrated.size > index
        assert log.reader.entry(index) in {entry(n) for n in range(20)}
    assert verified(log, signer).size == 20


# --- deduplication -------------------------------------------------------------------------------


def test_identical_entry_returns_the_same_index(open_log: OpenLog, signer: SoftwareSigner) -> None:
    log = open_log()
    assert log.append(b"alpha") == 0
    assert log.append(b"beta") == 1
    before = log.reader.state()
    assert log.append(b"alpha") == 0
    again = log.append_many([b"beta", b"alpha"])
    assert again.indices == [1, 0]
    # a batch of duplicates only: no new entries and no new checkpoint
    assert again.size == 2
    assert again.checkpoint == before.checkpoint
    assert log.reader.state() == before
    check_whole_log(log, signer, [b"alpha", b"beta"])


def test_duplicates_inside_one_batch_share_an_index(
    open_log: OpenLog, signer: SoftwareSigner
) -> None:
    log = open_log()
    log.append(b"zero")
    result = log.append_many([b"a", b"b", b"a", b"zero", b"c", b"b", b"a"])
    assert result.indices == [1, 2, 1, 0, 3, 2, 1]
    assert result.new == [True, True, False, False, True, False, False]
    assert result.size == 4
    check_whole_log(log, signer, [b"zero", b"a", b"b", b"c"])


def test_duplicates_across_submissions_of_one_batch(
    store: ControlledStore, open_log: OpenLog, signer: SoftwareSigner
) -> None:
    log = open_log(options=LogOptions(max_batch=100, max_delay_s=0))
    store.hold()
    first = log.submit([b"first"])
    assert store.entered.wait(WAIT_S)
    # these queue up while the integrator waits, and are integrated as one batch
    queued = [log.submit([b"same"]), log.submit([b"other", b"same"]), log.submit([b"same"])]
    assert log.backlog == 4
    store.release()
    assert wait_all([first])[0].indices == [0]
    outcomes = wait_all(queued)
    assert [o.indices for o in outcomes] == [[1], [2, 1], [1]]
    assert {o.size for o in outcomes} == {3}
    assert len({o.checkpoint for o in outcomes}) == 1
    check_whole_log(log, signer, [b"first", b"same", b"other"])


def test_deduplication_survives_reopening(
    store: ControlledStore, open_log: OpenLog, signer: SoftwareSigner
) -> None:
    first = open_log()
    first.append_many([entry(n) for n in range(300)])
    first.close()
    second = open_log()
    assert second.append(entry(123)) == 123
    assert second.append_many([entry(299), entry(300), entry(0)]).indices == [299, 300, 0]
    check_whole_log(second, signer, [entry(n) for n in range(301)])


def test_entries_sharing_a_lookup_key_are_told_apart(
    open_log: OpenLog, signer: SoftwareSigner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entries are looked up by a 64-bit key; colliding keys must not merge entries."""
    monkeypatch.setattr("lacre.tlog.appender.entry_key", lambda _leaf_hash: 7)
    monkeypatch.setattr("lacre.tlog.reader.entry_key", lambda _leaf_hash: 7)
    log = open_log()
    entries = [entry(n) for n in range(40)]
    assert log.append_many(entries[:25]).indices == list(range(25))
    assert log.append_many(entries[20:]).indices == list(range(20, 40))
    assert log.append_many(entries[::-1]).indices == list(range(39, -1, -1))
    for index, data in enumerate(entries):
        assert log.reader.index_of(merkle.leaf_hash(data)) == index
    assert log.store.find(log.info, [7]) != []
    check_whole_log(log, signer, entries)


# --- limits and pushback -------------------------------------------------------------------------


def test_oversized_entry_is_refused_and_nothing_is_stored(
    open_log: OpenLog, signer: SoftwareSigner
) -> None:
    log = open_log(options=LogOptions(max_entry_bytes=100))
    log.append(b"small")
    before = log.reader.state()
    with pytest.raises(InvalidInput) as info:
        log.append(b"x" * 101)
    assert "100" in str(info.value)
    assert "101" in str(info.value)
    with pytest.raises(InvalidInput, match="101 bytes"):
        log.append_many([b"ok-1", b"y" * 101, b"ok-2"])
    assert log.reader.state() == before
    assert log.store.entries(log.info, 0, 10) == [b"small"]
    assert log.append(b"z" * 100) == 1
    check_whole_log(log, signer, [b"small", b"z" * 100])


def test_default_entry_limit_is_the_bundle_limit(open_log: OpenLog) -> None:
    log = open_log()
    assert log.append(b"m" * 65535) == 0
    with pytest.raises(InvalidInput, match="65536 bytes"):
        log.append(b"m" * 65536)
    assert log.reader.state().size == 1


def test_pushback_while_the_backlog_is_over_the_bound(
    store: ControlledStore, open_log: OpenLog, signer: SoftwareSigner
) -> None:
    log = open_log(options=LogOptions(max_batch=2, max_pending=4, max_delay_s=0))
    store.hold()
    held = log.submit([entry(0), entry(1)])
    assert store.entered.wait(WAIT_S)
    assert log.backlog == 0  # the held batch is being integrated, not waiting
    waiting = [log.submit([entry(2), entry(3)]), log.submit([entry(4)]), log.submit([entry(5)])]
    assert log.backlog == 4
    for attempt in ([entry(6)], [entry(6), entry(7)]):
        with pytest.raises(PushbackError) as info:
            log.submit(attempt)
        assert info.value.retry_after_s > 0
        assert "limit 4" in str(info.value)
    with pytest.raises(PushbackError):
        log.append(entry(6))
    assert log.backlog == 4
    assert not held.done()
    assert all(not future.done() for future in waiting)

    store.release()
    outcomes = wait_all([held, *waiting])
    assert [o.indices for o in outcomes] == [[0, 1], [2, 3], [4], [5]]
    assert log.backlog == 0
    assert log.append(entry(6)) == 6
    check_whole_log(log, signer, [entry(n) for n in range(7)])


def test_a_submission_larger_than_the_pending_bound_is_refused(open_log: OpenLog) -> None:
    log = open_log(options=LogOptions(max_batch=2, max_pending=4))
    with pytest.raises(PushbackError):
        log.submit([entry(n) for n in range(5)])
    assert log.reader.state().size == 0


# --- batching ------------------------------------------------------------------------------------


def test_a_partial_batch_waits_and_a_full_one_is_integrated_at_once(open_log: OpenLog) -> None:
    log = open_log(options=LogOptions(max_batch=3, max_delay_s=WAIT_S * 4))
    first = log.submit([entry(0)])
    time.sleep(0.3)
    assert not first.done()  # waiting for companions, up to max_delay_s
    rest = [log.submit([entry(1)]), log.submit([entry(2)])]  # the batch is now full
    outcomes = wait_all([first, *rest])
    assert [o.indices for o in outcomes] == [[0], [1], [2]]
    assert {o.size for o in outcomes} == {3}  # one transaction


def test_a_submission_overfilling_a_batch_wakes_the_appender(open_log: OpenLog) -> None:
    log = open_log(options=LogOptions(max_batch=2, max_delay_s=WAIT_S * 4))
    first = log.submit([entry(0)])
    second = log.submit([entry(1), entry(2), entry(3)])
    assert [o.indices for o in wait_all([first, second])] == [[0], [1, 2, 3]]


def test_submissions_wake_the_appender_only_when_it_can_act(
    open_log: OpenLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = open_log(options=LogOptions(max_batch=100, max_delay_s=WAIT_S * 4))
    cond = log._appender._cond
    wakes: list[int] = []
    notify = cond.notify

    def counting(n: int = 1) -> None:
        wakes.append(n)
        notify(n)

    monkeypatch.setattr(cond, "notify", counting)
    first = [log.submit([entry(n)]) for n in range(10)]
    assert len(wakes) == 1  # the first entry of an empty queue, not one per entry
    rest = [log.submit([entry(n)]) for n in range(10, 100)]
    assert len(wakes) == 2  # and once more when the batch is full
    assert sorted(o.indices[0] for o in wait_all(first + rest)) == list(range(100))


def test_entries_queued_during_a_commit_do_not_wait_the_delay_again(
    store: ControlledStore, open_log: OpenLog
) -> None:
    delay = 1.0
    log = open_log(options=LogOptions(max_batch=100, max_delay_s=delay))
    store.hold()
    held = log.submit([entry(0)])
    assert store.entered.wait(WAIT_S)
    queued = log.submit([entry(1)])
    time.sleep(delay + 0.2)  # the queued entry has now waited longer than the delay
    released = time.monotonic()
    store.release()
    assert wait_all([held, queued])[1].indices == [1]
    assert time.monotonic() - released < delay * 0.7


def test_close_integrates_what_is_queued(open_log: OpenLog, signer: SoftwareSigner) -> None:
    log = open_log(options=LogOptions(max_batch=1000, max_delay_s=5.0))
    futures = [log.submit([entry(n)]) for n in range(10)]
    log.close()
    assert sorted(o.indices[0] for o in wait_all(futures)) == list(range(10))
    with pytest.raises(PushbackError, match="shutting down"):
        log.submit([entry(99)])
    assert verified(log, signer).size == 10


# --- checkpoints and identity --------------------------------------------------------------------


def test_empty_log_has_a_signed_size_zero_checkpoint(
    open_log: OpenLog, signer: SoftwareSigner
) -> None:
    log = open_log()
    checkpoint = verified(log, signer)
    assert checkpoint == Checkpoint(ORIGIN, 0, merkle.EMPTY_ROOT)
    state = log.reader.state()
    assert (state.size, state.frontier) == (0, b"")
    assert log.reader.root() == merkle.EMPTY_ROOT


def test_reopening_keeps_the_initial_checkpoint(
    store: ControlledStore, open_log: OpenLog, signer: SoftwareSigner
) -> None:
    first = open_log()
    note = first.reader.checkpoint()
    writes = store.writes
    second = open_log()
    assert second.reader.checkpoint() == note
    assert store.writes == writes  # nothing rewritten


@pytest.mark.parametrize("algorithm", [KeyAlgorithm.ECDSA_P256_SHA256, KeyAlgorithm.ED25519])
def test_checkpoints_verify_with_the_log_key(open_log: OpenLog, algorithm: KeyAlgorithm) -> None:
    key = generate_signer(algorithm)
    log = open_log(key=key)
    notes = [log.reader.checkpoint()]
    for n in range(3):
        notes.append(log.append_many([entry(n)]).checkpoint)
    for size, note in enumerate(notes):
        checkpoint = verified(log, key, note)
        assert checkpoint.size == size
        assert checkpoint.root_hash == merkle.root_of(
            [merkle.leaf_hash(entry(n)) for n in range(size)]
        )
    other = generate_signer(algorithm)
    with pytest.raises(VerificationError):
        open_checkpoint(notes[-1], [KeyNoteVerifier(ORIGIN, other.public_key)])
    with pytest.raises(VerificationError):
        open_checkpoint(notes[-1], [KeyNoteVerifier("other.example/log", key.public_key)])


def test_reopening_with_another_key_is_refused(open_log: OpenLog, signer: SoftwareSigner) -> None:
    open_log().append(b"kept")
    with pytest.raises(ConfigError, match="key"):
        open_log(key=generate_signer(KeyAlgorithm.ECDSA_P256_SHA256))
    with pytest.raises(ConfigError):
        open_log(key=generate_signer(KeyAlgorithm.ED25519))


def test_reopening_with_another_origin_is_refused(open_log: OpenLog) -> None:
    open_log().append(b"kept")
    with pytest.raises(ConfigError, match="origin") as info:
        open_log(origin="elsewhere.example.com/unit")
    assert ORIGIN in str(info.value)
    # another name is another log, with its own identity
    other = open_log(origin="elsewhere.example.com/unit", name="other")
    assert other.reader.state().size == 0


# --- storage failures ----------------------------------------------------------------------------


@pytest.mark.parametrize("step", ["find", "insert_entries", "put_tiles", "put_state", "exit"])
def test_a_failing_write_fails_its_callers_and_stores_nothing(
    store: ControlledStore, open_log: OpenLog, signer: SoftwareSigner, step: str
) -> None:
    log = open_log(options=LogOptions(max_batch=100, max_delay_s=0))
    kept = [entry(n) for n in range(300)]
    log.append_many(kept)
    before = log.reader.state()
    tiles_before = log.store.tiles(log.info, [(0, 0), (0, 1), (0, 2), (1, 0)])

    store.hold()
    held = log.submit([b"lost-0"])
    assert store.entered.wait(WAIT_S)
    store.fail_at = step
    queued = [log.submit([b"lost-1"]), log.submit([b"lost-2", b"lost-3"])]
    store.release()
    for future in [held, *queued]:
        with pytest.raises(InjectedFailure):
            future.result(timeout=WAIT_S)

    assert log.reader.state() == before
    assert log.store.entries(log.info, 0, 1000) == kept
    assert log.store.tiles(log.info, [(0, 0), (0, 1), (0, 2), (1, 0)]) == tiles_before
    lost = [b"lost-0", b"lost-1", b"lost-2", b"lost-3"]
    assert log.store.find(log.info, [entry_key(merkle.leaf_hash(e)) for e in lost]) == []

    # the log keeps working, from the committed state
    store.fail_at = None
    assert log.append_many(lost[::-1]).indices == [300, 301, 302, 303]
    assert log.append(entry(0)) == 0
    check_whole_log(log, signer, kept + lost[::-1])
    proof = log.reader.inclusion_proof(301)
    merkle.verify_inclusion(
        merkle.leaf_hash(b"lost-2"), 301, 304, proof.hashes, verified(log, signer).root_hash
    )


# --- abandoned callers ---------------------------------------------------------------------------


def test_a_cancelled_submission_is_dropped_and_the_log_keeps_working(
    store: ControlledStore, open_log: OpenLog, signer: SoftwareSigner
) -> None:
    log = open_log(options=LogOptions(max_batch=100, max_delay_s=0))
    store.hold()
    first = log.submit([b"first"])
    assert store.entered.wait(WAIT_S)
    cancelled = log.submit([b"cancelled"])
    kept = log.submit([b"kept"])
    assert cancelled.cancel()
    store.release()
    assert wait_all([first, kept])[1].indices == [1]
    assert cancelled.cancelled()
    assert log.submit([b"later"]).result(timeout=WAIT_S).indices == [2]
    check_whole_log(log, signer, [b"first", b"kept", b"later"])


def test_an_abandoned_async_append_does_not_wedge_the_log(
    store: ControlledStore, open_log: OpenLog, signer: SoftwareSigner
) -> None:
    """A caller that stops waiting (a timeout, a client gone) must not stop the integrator."""
    log = open_log(options=LogOptions(max_batch=100, max_delay_s=0))

    async def abandon(entry_data: bytes, *, once_integrating: bool) -> None:
        task = asyncio.ensure_future(log.append_async(entry_data))
        if once_integrating:
            assert await asyncio.to_thread(store.entered.wait, WAIT_S)
        else:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    store.hold()
    # abandoned while its batch is being integrated: it is integrated all the same
    asyncio.run(abandon(b"being integrated", once_integrating=True))
    # abandoned while still queued: it is dropped
    asyncio.run(abandon(b"still queued", once_integrating=False))
    store.release()
    assert log.submit([b"after"]).result(timeout=WAIT_S).indices == [1]
    check_whole_log(log, signer, [b"being integrated", b"after"])


def test_checkpoints_can_be_signed_under_a_key_name_other_than_the_origin(
    open_log: OpenLog, store: ControlledStore, signer: SoftwareSigner
) -> None:
    log = TransparencyLog.open(
        store, name="named", origin="log.example - 1234", signer=signer, key_name="log.example"
    )
    log.append(b"entry")
    note = log.reader.checkpoint()
    verifier = KeyNoteVerifier("log.example", signer.public_key)
    assert open_checkpoint(note, [verifier], origin="log.example - 1234").size == 1
    log.close()
