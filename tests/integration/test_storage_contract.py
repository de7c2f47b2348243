"""The storage contract, checked identically against every driver.

Each test runs on SQLite (a file in the test's temporary directory) and on
PostgreSQL (a fresh database from the ``postgres_dsn`` fixture).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lacre.errors import ConfigError, InvalidInput, NotFound
from lacre.keys import KeyAlgorithm, SoftwareSigner, generate_signer
from lacre.tlog import LogOptions, SearchIndex, TransparencyLog
from lacre.tlog.storage.base import LogInfo, LogState, LogStore, entry_key, search_key
from lacre.tlog.storage.postgres import PostgresStore
from lacre.tlog.storage.sqlite import SqliteStore
from lacre.transparency import merkle
from lacre.transparency.checkpoint import Checkpoint, open_checkpoint
from lacre.transparency.note import KeyNoteVerifier
from lacre.transparency.tiles import decode_entry_bundle

DRIVERS = ["sqlite", "postgres"]
ORIGIN = "log.example.com/contract"
MIN_KEY, MAX_KEY = -(1 << 63), (1 << 63) - 1

Connect = Callable[[], LogStore]


@pytest.fixture(params=DRIVERS)
def connect(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Connect]:
    """Opens store objects on one database of the driver under test (closed afterwards)."""
    opened: list[LogStore] = []
    if request.param == "sqlite":
        path = tmp_path / "contract.db"

        def factory() -> LogStore:
            opened.append(SqliteStore(path))
            return opened[-1]
    else:
        dsn: str = request.getfixturevalue("postgres_dsn")

        def factory() -> LogStore:
            opened.append(PostgresStore(dsn))
            return opened[-1]

    yield factory
    for store in opened:
        store.close()


@pytest.fixture
def store(connect: Connect) -> LogStore:
    return connect()


def hashes(*labels: str) -> bytes:
    return b"".join(merkle.leaf_hash(label.encode()) for label in labels)


def rows(start: int, end: int, tag: str = "e") -> list[tuple[int, bytes]]:
    data = [f"{tag}-{n}".encode() for n in range(start, end)]
    return [(entry_key(merkle.leaf_hash(item)), item) for item in data]


def fill(store: LogStore, log: LogInfo, start: int, end: int, tag: str = "e") -> LogState:
    """Commit entries [start, end) with a matching state."""
    state = LogState(end, hashes(f"frontier {end}"), f"checkpoint {end}".encode())
    with store.write(log) as txn:
        txn.insert_entries(start, rows(start, end, tag))
        txn.put_tiles({(0, start // 256): hashes(*(f"{n}" for n in range(start, end)))[:8192]})
        txn.put_state(state)
    return state


# --- the driver contract --------------------------------------------------------------------------


def test_ensure_log_is_idempotent(connect: Connect, store: LogStore) -> None:
    first = store.ensure_log("alpha", "alpha.example/log", b"key-alpha")
    assert first == LogInfo(first.log_id, "alpha", "alpha.example/log", b"key-alpha")
    assert store.ensure_log("alpha", "alpha.example/log", b"key-alpha") == first
    second = store.ensure_log("beta", "beta.example/log", b"key-beta")
    assert second.log_id != first.log_id
    # an existing log keeps its stored identity
    assert store.ensure_log("alpha", "other.example/log", b"other-key") == first
    assert store.logs() == [first, second]
    other = connect()
    assert other.ensure_log("alpha", "x", b"y") == first
    assert other.logs() == [first, second]


def test_a_new_log_is_empty(store: LogStore) -> None:
    log = store.ensure_log("empty", ORIGIN, b"key")
    assert store.state(log) is None
    assert store.entries(log, 0, 10) == []
    assert list(store.iter_entries(log, 0)) == []
    assert store.tiles(log, [(0, 0), (1, 0)]) == {}
    assert store.find(log, [0, 1, MIN_KEY, MAX_KEY]) == []
    assert store.find(log, []) == []


def test_a_write_commits_on_clean_exit(connect: Connect, store: LogStore) -> None:
    log = store.ensure_log("commit", ORIGIN, b"key")
    state = LogState(3, hashes("a", "b"), b"signed note")
    entries = rows(0, 3)
    with store.write(log) as txn:
        assert txn.state() is None
        txn.insert_entries(0, entries)
        txn.put_tiles({(0, 0): hashes("x", "y", "z"), (1, 0): hashes("w")})
        txn.put_state(state)
    for reader in (store, connect()):
        assert reader.state(log) == state
        assert reader.state(log) is not None
        assert reader.entries(log, 0, 3) == [data for _, data in entries]
        assert reader.tiles(log, [(0, 0), (1, 0)]) == {
            (0, 0): hashes("x", "y", "z"),
            (1, 0): hashes("w"),
        }
        assert sorted(reader.find(log, [key for key, _ in entries])) == [
            (index, data) for index, (_, data) in enumerate(entries)
        ]
    with store.write(log) as txn:
        assert txn.state() == state
        assert txn.tiles([(1, 0), (2, 0)]) == {(1, 0): hashes("w")}
        assert txn.find([entries[1][0]]) == [(1, entries[1][1])]


@pytest.mark.parametrize("fresh", [True, False], ids=["new-log", "existing-log"])
def test_an_exception_inside_a_write_leaves_nothing(
    connect: Connect, store: LogStore, fresh: bool
) -> None:
    log = store.ensure_log("rollback", ORIGIN, b"key")
    baseline = None if fresh else fill(store, log, 0, 10)
    tiles_before = store.tiles(log, [(0, 0), (1, 0)])

    class Boom(Exception):
        pass

    with pytest.raises(Boom), store.write(log) as txn:
        txn.insert_entries(10, rows(10, 20, "lost"))
        txn.put_tiles({(0, 0): hashes("changed"), (1, 0): hashes("new")})
        txn.put_state(LogState(20, hashes("lost"), b"lost checkpoint"))
        raise Boom

    for reader in (store, connect()):
        assert reader.state(log) == baseline
        assert reader.entries(log, 0, 100) == [
            f"e-{n}".encode() for n in range(10 if baseline else 0)
        ]
        assert reader.tiles(log, [(0, 0), (1, 0)]) == tiles_before
        assert reader.find(log, [key for key, _ in rows(10, 20, "lost")]) == []
    # the store is still usable, and the same indices can be written again
    assert fill(store, log, 10, 20, "kept") == store.state(log)
    assert store.entries(log, 10, 12) == [b"kept-10", b"kept-11"]


def test_find_by_key(store: LogStore) -> None:
    log = store.ensure_log("find", ORIGIN, b"key")
    stored = [(MIN_KEY, b"lowest"), (MAX_KEY, b"highest"), (-1, b"minus one"), (0, b"zero")]
    stored += [(42, b"collides-a"), (42, b"collides-b")]
    with store.write(log) as txn:
        txn.insert_entries(0, stored)
    assert sorted(store.find(log, [42])) == [(4, b"collides-a"), (5, b"collides-b")]
    assert store.find(log, [MIN_KEY]) == [(0, b"lowest")]
    assert store.find(log, [MAX_KEY, MAX_KEY, MAX_KEY]) == [(1, b"highest")]
    assert sorted(store.find(log, [0, -1, 7, 8])) == [(2, b"minus one"), (3, b"zero")]
    assert sorted(store.find(log, [*range(-1, 50), MIN_KEY, MAX_KEY])) == list(
        enumerate(data for _, data in stored)
    )


def test_find_with_many_keys(store: LogStore) -> None:
    log = store.ensure_log("many", ORIGIN, b"key")
    entries = rows(0, 1500)
    with store.write(log) as txn:
        txn.insert_entries(0, entries)
    keys = [key for key, _ in entries]
    wanted = keys[::2] + [key + 1 for key in keys[1::2] if key + 1 not in keys]
    found = sorted(store.find(log, wanted))
    assert found == [(index, entries[index][1]) for index in range(0, 1500, 2)]
    with store.write(log) as txn:
        assert sorted(txn.find(wanted)) == found


def test_entry_ranges(store: LogStore) -> None:
    log = store.ensure_log("ranges", ORIGIN, b"key")
    fill(store, log, 0, 256)
    fill(store, log, 256, 600)
    expected = [f"e-{n}".encode() for n in range(600)]
    assert store.entries(log, 0, 600) == expected
    assert store.entries(log, 100, 110) == expected[100:110]
    assert store.entries(log, 590, 700) == expected[590:]
    assert store.entries(log, 700, 800) == []
    assert store.entries(log, 5, 5) == []
    assert list(store.iter_entries(log, 600, batch=7)) == expected
    assert list(store.iter_entries(log, 300)) == expected[:300]


def test_entries_round_trip_byte_exactly(store: LogStore) -> None:
    log = store.ensure_log("bytes", ORIGIN, b"key")
    data = [b"", b"\x00", bytes(range(256)), b"\xff" * 65535, "ünïcödé".encode()]
    with store.write(log) as txn:
        txn.insert_entries(0, [(n, item) for n, item in enumerate(data)])
    assert store.entries(log, 0, len(data)) == data


def test_tiles_are_created_and_replaced(store: LogStore) -> None:
    log = store.ensure_log("tiles", ORIGIN, b"key")
    with store.write(log) as txn:
        txn.put_tiles({(0, 0): hashes("a"), (0, 1): hashes("b"), (63, 1 << 40): hashes("far")})
    with store.write(log) as txn:
        txn.put_tiles({(0, 0): hashes("a", "b")})
        txn.put_tiles({})
    assert store.tiles(log, [(0, 0), (0, 1), (0, 2), (63, 1 << 40)]) == {
        (0, 0): hashes("a", "b"),
        (0, 1): hashes("b"),
        (63, 1 << 40): hashes("far"),
    }
    assert store.tiles(log, []) == {}


def test_state_is_replaced(store: LogStore) -> None:
    log = store.ensure_log("state", ORIGIN, b"key")
    for size in (0, 1, 2, 1 << 40):
        state = LogState(size, hashes(*(str(n) for n in range(size.bit_count()))), b"cp %d" % size)
        with store.write(log) as txn:
            txn.put_state(state)
        assert store.state(log) == state


def test_logs_are_isolated(store: LogStore) -> None:
    first = store.ensure_log("first", ORIGIN, b"key")
    second = store.ensure_log("second", ORIGIN, b"key")
    state = fill(store, first, 0, 20)
    assert store.state(first) == state
    assert store.state(second) is None
    assert store.entries(second, 0, 100) == []
    assert store.tiles(second, [(0, 0)]) == {}
    assert store.find(second, [key for key, _ in rows(0, 20)]) == []
    fill(store, second, 0, 5, "other")
    assert store.entries(first, 0, 100) == [f"e-{n}".encode() for n in range(20)]


def test_writers_are_serialised(connect: Connect, store: LogStore) -> None:
    """Read-modify-write transactions from many threads and store objects lose no update."""
    log = store.ensure_log("counter", ORIGIN, b"key")
    with store.write(log) as txn:
        txn.put_state(LogState(0, b"", b"0"))
    stores = [store, connect()]

    def bump(worker: int) -> None:
        target = stores[worker % 2]
        for _ in range(25):
            with target.write(log) as txn:
                state = txn.state()
                assert state is not None
                txn.insert_entries(state.size, [(worker, b"w%d-%d" % (worker, state.size))])
                txn.put_state(LogState(state.size + 1, b"", b"%d" % (state.size + 1)))

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(bump, range(6)))
    final = store.state(log)
    assert final is not None
    assert final.size == 150
    assert final.checkpoint == b"150"
    assert len(store.entries(log, 0, 200)) == 150


# --- the log engine on each driver ---------------------------------------------------------------


def verify(note: bytes, signer: SoftwareSigner) -> Checkpoint:
    return open_checkpoint(note, [KeyNoteVerifier(ORIGIN, signer.public_key)], origin=ORIGIN)


def check_log(log: TransparencyLog, signer: SoftwareSigner, notes: list[bytes]) -> list[bytes]:
    """Check the whole log against its checkpoint and ``notes``; return its entries."""
    latest = verify(log.reader.checkpoint(), signer)
    entries = list(log.store.iter_entries(log.info, latest.size))
    assert len(entries) == latest.size
    leaves = [merkle.leaf_hash(item) for item in entries]
    assert len(set(leaves)) == len(leaves)
    assert latest.root_hash == merkle.root_of(leaves)
    for note in notes:
        old = verify(note, signer)
        assert old.root_hash == merkle.root_of(leaves[: old.size])
        if old.size:
            proof = log.reader.consistency_proof(old.size, latest.size)
            merkle.verify_consistency(old.size, latest.size, proof, old.root_hash, latest.root_hash)
    for index in sorted({0, latest.size // 2, latest.size - 1}) if latest.size else []:
        inclusion = log.reader.inclusion_proof_by_hash(leaves[index])
        assert inclusion.index == index
        merkle.verify_inclusion(
            leaves[index], index, latest.size, inclusion.hashes, latest.root_hash
        )
    return entries


def test_transparency_log_on_the_driver(connect: Connect) -> None:
    signer = generate_signer(KeyAlgorithm.ECDSA_P256_SHA256)
    log = TransparencyLog.open(connect(), name="engine", origin=ORIGIN, signer=signer)
    try:
        notes = [log.reader.checkpoint()]
        assert verify(notes[0], signer).size == 0
        assert [log.append(b"entry-%d" % n) for n in range(5)] == list(range(5))
        result = log.append_many([b"entry-%d" % n for n in range(3, 600)])
        assert result.indices == list(range(3, 600))
        notes.append(result.checkpoint)
        again = log.append_many([b"entry-599", b"entry-0", b"new", b"new"])
        assert again.indices == [599, 0, 600, 600]
        notes.append(again.checkpoint)
        bundle = decode_entry_bundle(log.reader.entry_bundle(2, 89), 89)
        assert bundle == [b"entry-%d" % n for n in range(512, 600)] + [b"new"]
        check_log(log, signer, notes)
    finally:
        log.close()

    # another store object on the same database carries on from the stored state
    reopened = TransparencyLog.open(connect(), name="engine", origin=ORIGIN, signer=signer)
    try:
        assert reopened.append(b"entry-7") == 7
        assert reopened.append_many([b"after-%d" % n for n in range(300)]).indices == list(
            range(601, 901)
        )
        entries = check_log(reopened, signer, notes)
        assert entries[:600] == [b"entry-%d" % n for n in range(600)]
        assert entries[600:] == [b"new"] + [b"after-%d" % n for n in range(300)]
    finally:
        reopened.close()

    with pytest.raises(ConfigError):
        TransparencyLog.open(
            connect(), name="engine", origin=ORIGIN, signer=generate_signer(KeyAlgorithm.ED25519)
        )
    with pytest.raises(ConfigError):
        TransparencyLog.open(connect(), name="engine", origin="other.example/log", signer=signer)


def test_two_log_instances_append_concurrently(connect: Connect) -> None:
    """Two engines on two store objects of one database build one consistent log."""
    signer = generate_signer(KeyAlgorithm.ED25519)
    options = LogOptions(max_batch=32, max_delay_s=0.002)
    logs = [
        TransparencyLog.open(
            connect(), name="shared", origin=ORIGIN, signer=signer, options=options
        )
        for _ in range(2)
    ]
    common = [b"common-%d" % n for n in range(30)]

    def worker(number: int) -> list[tuple[bytes, int, bytes]]:
        log = logs[number % 2]
        acked: list[tuple[bytes, int, bytes]] = []
        for n in range(40):
            batch = [b"w%d-%d-%d" % (number, n, k) for k in range(n % 3 + 1)]
            batch.append(common[(n + number) % len(common)])
            result = log.append_many(batch)
            assert result.size > max(result.indices)
            acked += [
                (item, index, result.checkpoint)
                for item, index in zip(batch, result.indices, strict=True)
            ]
        return acked

    try:
        with ThreadPoolExecutor(8) as pool:
            acked = list(itertools.chain.from_iterable(pool.map(worker, range(8))))
        index_of: dict[bytes, int] = {}
        for item, index, _ in acked:
            assert index_of.setdefault(item, index) == index, f"{item!r} got two indices"
        assert sorted(index_of.values()) == list(range(len(index_of)))
        for log in logs:
            entries = check_log(log, signer, sorted({note for _, _, note in acked}))
            assert len(entries) == len(index_of)
            assert all(entries[index] == item for item, index in index_of.items())
            assert log.reader.root() == merkle.root_of([merkle.leaf_hash(e) for e in entries])
        assert logs[0].reader.checkpoint() == logs[1].reader.checkpoint()
    finally:
        for log in logs:
            log.close()


def test_entries_record_their_integration_time(store: LogStore) -> None:
    log = TransparencyLog.open(store, name="timed", origin=ORIGIN, signer=generate_signer())
    before = int(time.time())
    log.append_many([b"first", b"second"])
    after = int(time.time())
    for index in (0, 1):
        assert before <= log.reader.entry_time(index) <= after
    with pytest.raises(NotFound):
        log.reader.entry_time(2)
    log.close()


def _terms(entry: bytes) -> list[str]:
    text = entry.decode()
    if text.startswith("bad"):
        raise InvalidInput("not a tagged entry")
    return text.split()


def test_search_index_finds_every_entry_with_a_term_and_nothing_else(store: LogStore) -> None:
    log = TransparencyLog.open(store, name="searched", origin=ORIGIN, signer=generate_signer())
    entries = [f"n{n} mod3-{n % 3} mod5-{n % 5}".encode() for n in range(300)] + [b"bad entry"]
    log.append_many(entries)
    index = SearchIndex(store, log.info, _terms, batch=64)
    assert index.search(["mod3-1"]) == [n for n in range(300) if n % 3 == 1]
    assert index.search(["mod3-1", "mod5-2"]) == [n for n in range(300) if n % 3 == 1 or n % 5 == 2]
    both = index.search(["mod3-1", "mod5-2"], match_all=True)
    assert both == [n for n in range(300) if n % 3 == 1 and n % 5 == 2]
    assert index.search(["absent"]) == [] and index.search([]) == []
    assert store.index_progress(log.info) == 301
    log.append_many([b"n300 mod3-0 late"])
    assert index.search(["late"]) == [301]
    log.close()


def test_search_index_is_idempotent_across_indexers(connect: Connect) -> None:
    first, second = connect(), connect()
    log = TransparencyLog.open(first, name="shared", origin=ORIGIN, signer=generate_signer())
    log.append_many([f"e{n} common".encode() for n in range(100)])
    indexers = [
        SearchIndex(first, log.info, _terms, batch=7),
        SearchIndex(second, log.info, _terms, batch=13),
    ]
    with ThreadPoolExecutor(2) as pool:
        assert list(pool.map(lambda ix: ix.catch_up(), indexers)) == [100, 100]
    assert indexers[1].search(["common"]) == list(range(100))
    assert first.lookup(log.info, [search_key("e5")]) == [5]
    log.close()
