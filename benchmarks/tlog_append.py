"""Throughput and memory benchmark of the log engine (``lacre.tlog``).

Usage::

    python benchmarks/tlog_append.py --quick     # about a minute
    python benchmarks/tlog_append.py             # the full run: 10 million entries on SQLite

Phases, in order:

1. **SQLite appends.** A fresh SQLite database in a temporary directory
   (``synchronous=FULL``, the driver's default) receives 1 KiB entries from
   several submitter threads, each repeatedly calling
   ``TransparencyLog.append_many`` with a batch generated on the spot, so
   memory holds only the batches in flight. The process's peak resident set
   size is read right after this phase.
2. **Inclusion proofs** on the log just built: ``LogReader.inclusion_proof``
   for random indices (served), then ``merkle.verify_inclusion`` of each
   proof against the log's root (verified).
3. **pymerkle**, the reference Python Merkle-tree library: an ``InmemoryTree``
   is built from the log's first entries, read back in log order (so its root
   must equal the log's root at that size, which is checked), and asked for
   inclusion proofs of random indices.
4. **PostgreSQL appends** with the same submission pattern, on a fresh
   database: in the server named by ``LACRE_TEST_POSTGRES_DSN`` if set,
   otherwise in a throwaway cluster started for the run (``fsync`` on).

Human-readable progress goes to stderr; the last line of stdout is one JSON
object with every figure (see ``benchmarks/README.md``).
"""

from __future__ import annotations

import random
import resource
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psycopg
import pymerkle
from _common import argument_parser, judge, machine, postgres_server, report, say, sizes

from lacre.errors import PushbackError
from lacre.keys import generate_signer
from lacre.tlog import InclusionProof, LogOptions, TransparencyLog
from lacre.tlog.storage.base import LogStore
from lacre.tlog.storage.postgres import PostgresStore
from lacre.tlog.storage.sqlite import SqliteStore
from lacre.transparency import merkle

ENTRY_BYTES = 1024
"""Size of every benchmark entry: an 8-byte counter followed by random padding."""

TARGETS: dict[str, float] = {
    "sqlite_appends_per_s": 50_000,
    "postgres_appends_per_s": 20_000,
    "proofs_served_per_s": 20_000,
    "pymerkle_ratio": 10,
    "peak_rss_mb": 300,
}
"""The figures the engine should reach (``peak_rss_mb`` while appending 10 million entries)."""

PEAK_RSS_TARGET_ENTRIES = 10_000_000
"""The log size the ``peak_rss_mb`` target refers to."""

_AT_MOST = frozenset({"peak_rss_mb"})
"""Targets that are upper bounds; every other target is a lower bound."""

_POOL_BYTES = 1 << 22
_COUNTER_BYTES = 8
_PROGRESS_EVERY_S = 5.0
_PROOF_CHUNK = 2000


@dataclass(frozen=True)
class Settings:
    """Sizes of one benchmark run."""

    sqlite_entries: int
    postgres_entries: int
    pymerkle_entries: int
    proofs: int
    pymerkle_proofs: int
    submitters: int
    submit_batch: int
    postgres: bool
    options: LogOptions
    directory: Path | None
    seed: int


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (``ru_maxrss`` is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class EntrySource:
    """Hands out batches of distinct 1 KiB entries to any number of threads.

    Entry ``i`` is ``i`` as an 8-byte big-endian counter followed by
    ``ENTRY_BYTES - 8`` bytes taken from a random pool at an offset that
    depends on ``i``. The counter makes every entry distinct, and the same
    seed yields the same entries. Concurrent submitters may reach the log in
    any order, so a log's order need not follow the counter.
    """

    def __init__(self, total: int, batch: int, seed: int) -> None:
        """Prepare ``total`` entries, handed out ``batch`` at a time."""
        self.total = total
        self.batch = batch
        self._pool = random.Random(seed).randbytes(_POOL_BYTES)
        self._next = 0
        self._lock = threading.Lock()

    def entry(self, index: int) -> bytes:
        """Entry number ``index``."""
        pad = ENTRY_BYTES - _COUNTER_BYTES
        offset = (index * 4099) % (_POOL_BYTES - pad)
        return index.to_bytes(_COUNTER_BYTES, "big") + self._pool[offset : offset + pad]

    def next_batch(self) -> list[bytes] | None:
        """The next batch of entries, or None once ``total`` have been handed out."""
        with self._lock:
            start = self._next
            if start >= self.total:
                return None
            end = min(self.total, start + self.batch)
            self._next = end
        entry = self.entry
        return [entry(index) for index in range(start, end)]


@dataclass(frozen=True)
class AppendResult:
    """What an append phase measured."""

    entries: int
    seconds: float
    pushbacks: int

    @property
    def per_s(self) -> float:
        """Entries appended per second."""
        return self.entries / self.seconds


class _Appending:
    """Shared state of the submitter threads of one append phase."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.appended = 0
        self.pushbacks = 0
        self.failures: list[BaseException] = []


def append_all(log: TransparencyLog, source: EntrySource, submitters: int) -> AppendResult:
    """Append every entry of ``source`` from ``submitters`` threads; time it."""
    shared = _Appending()

    def submit_loop() -> None:
        try:
            while not shared.failures and (batch := source.next_batch()) is not None:
                while True:
                    try:
                        log.append_many(batch)
                        break
                    except PushbackError as exc:
                        with shared.lock:
                            shared.pushbacks += 1
                        time.sleep(exc.retry_after_s)
                with shared.lock:
                    shared.appended += len(batch)
        except BaseException as exc:
            shared.failures.append(exc)

    threads = [
        threading.Thread(target=submit_loop, name=f"submitter-{n}", daemon=True)
        for n in range(submitters)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    _report_progress(threads, shared, started)
    seconds = time.perf_counter() - started
    if shared.failures:
        raise shared.failures[0]
    size = log.reader.state().size
    if size != source.total:
        raise RuntimeError(f"log holds {size} entries after appending {source.total}")
    return AppendResult(source.total, seconds, shared.pushbacks)


def _report_progress(threads: Sequence[threading.Thread], shared: _Appending, t0: float) -> None:
    last = t0
    for thread in threads:
        while thread.is_alive():
            thread.join(0.5)
            now = time.perf_counter()
            if now - last >= _PROGRESS_EVERY_S:
                last = now
                done = shared.appended
                say(
                    f"  {done:>11,} entries appended in {now - t0:6.1f} s "
                    f"({done / (now - t0):,.0f}/s), peak RSS {peak_rss_mb():.0f} MiB"
                )


def open_log(store: LogStore, name: str, options: LogOptions) -> TransparencyLog:
    """Create a log called ``name`` in ``store`` with a fresh key."""
    return TransparencyLog.open(
        store,
        name=name,
        origin=f"bench.lacre.example/{name}",
        signer=generate_signer(),
        options=options,
    )


@dataclass(frozen=True)
class ProofResult:
    """What the proof phase measured."""

    count: int
    size: int
    served_per_s: float
    verified_per_s: float


def measure_proofs(log: TransparencyLog, count: int, seed: int) -> ProofResult:
    """Serve ``count`` inclusion proofs of random indices, then verify each one."""
    reader = log.reader
    size = reader.state().size
    root = reader.root(size)
    rng = random.Random(seed)
    verify = merkle.verify_inclusion
    served = verified = 0.0
    for chunk in _chunk_sizes(count):
        indices = [rng.randrange(size) for _ in range(chunk)]
        started = time.perf_counter()
        proofs: list[InclusionProof] = [reader.inclusion_proof(index) for index in indices]
        served += time.perf_counter() - started
        started = time.perf_counter()
        for proof in proofs:
            verify(proof.leaf_hash, proof.index, proof.size, proof.hashes, root)
        verified += time.perf_counter() - started
        if any(proof.size != size for proof in proofs):
            raise RuntimeError("the log grew while proofs were measured")
    return ProofResult(count, size, count / served, count / verified)


def _chunk_sizes(count: int) -> Iterator[int]:
    """Split ``count`` proofs into chunks, so memory never holds them all at once."""
    for start in range(0, count, _PROOF_CHUNK):
        yield min(_PROOF_CHUNK, count - start)


@dataclass(frozen=True)
class PymerkleResult:
    """What the pymerkle phase measured."""

    entries: int
    appends_per_s: float
    proofs: int
    proofs_per_s: float
    proofs_verified_per_s: float
    root_matches: bool


def measure_pymerkle(
    entries: list[bytes], proofs: int, seed: int, our_root: bytes
) -> PymerkleResult:
    """Build a pymerkle ``InmemoryTree`` of ``entries`` and prove inclusion."""
    tree: Any = pymerkle.InmemoryTree()
    append: Callable[[bytes], object] = tree.append_entry
    started = time.perf_counter()
    for data in entries:
        append(data)
    built = time.perf_counter() - started
    size = len(entries)
    rng = random.Random(seed)
    root = tree.get_root()
    proved = verified = 0.0
    for chunk in _chunk_sizes(proofs):
        indices = [rng.randrange(size) + 1 for _ in range(chunk)]  # pymerkle counts from one
        started = time.perf_counter()
        made: list[tuple[int, Any]] = [(index, tree.prove_inclusion(index)) for index in indices]
        proved += time.perf_counter() - started
        leaves = [(tree.get_leaf(index), proof) for index, proof in made]
        started = time.perf_counter()
        for leaf, proof in leaves:
            pymerkle.verify_inclusion(leaf, root, proof)
        verified += time.perf_counter() - started
    return PymerkleResult(
        entries=size,
        appends_per_s=size / built,
        proofs=proofs,
        proofs_per_s=proofs / proved,
        proofs_verified_per_s=proofs / verified,
        root_matches=bytes(root) == our_root,
    )


def postgres_settings(dsn: str) -> dict[str, str]:
    """The server's durability settings, for the record."""
    found: dict[str, str] = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        for name in ("server_version", "fsync", "synchronous_commit", "full_page_writes"):
            row = conn.execute(f"SHOW {name}").fetchone()
            found[name] = str(row[0]) if row else "?"
    return found


def run_sqlite(settings: Settings, workdir: Path, figures: dict[str, Any]) -> TransparencyLog:
    """Phase 1: append to SQLite; record rate and peak RSS. Returns the open log."""
    store = SqliteStore(workdir / "bench.sqlite3")
    log = open_log(store, "sqlite", settings.options)
    figures["log_options"] = asdict(log.options)
    source = EntrySource(settings.sqlite_entries, settings.submit_batch, settings.seed)
    say(
        f"SQLite: appending {source.total:,} entries of {ENTRY_BYTES} bytes from "
        f"{settings.submitters} threads, {settings.submit_batch} per append_many"
    )
    result = append_all(log, source, settings.submitters)
    figures["peak_rss_mb"] = round(peak_rss_mb(), 1)
    figures["entries_sqlite"] = result.entries
    figures["sqlite_seconds"] = round(result.seconds, 2)
    figures["sqlite_appends_per_s"] = round(result.per_s)
    figures["sqlite_pushbacks"] = result.pushbacks
    figures["sqlite_db_mb"] = round(_tree_bytes(workdir) / 2**20)
    say(
        f"SQLite: {result.per_s:,.0f} appends/s ({result.seconds:.1f} s); "
        f"peak RSS {figures['peak_rss_mb']} MiB; database {figures['sqlite_db_mb']} MiB"
    )
    return log


def run_proofs(log: TransparencyLog, settings: Settings, figures: dict[str, Any]) -> None:
    """Phase 2: serve and verify inclusion proofs on the SQLite log."""
    say(f"proofs: {settings.proofs:,} inclusion proofs of random indices")
    result = measure_proofs(log, settings.proofs, settings.seed + 1)
    figures["proofs"] = result.count
    figures["proofs_tree_size"] = result.size
    figures["proofs_served_per_s"] = round(result.served_per_s)
    figures["proofs_verified_per_s"] = round(result.verified_per_s)
    say(
        f"proofs: {result.served_per_s:,.0f} served/s, {result.verified_per_s:,.0f} verified/s "
        f"(tree of {result.size:,})"
    )


def run_pymerkle(log: TransparencyLog, settings: Settings, figures: dict[str, Any]) -> None:
    """Phase 3: the log's first entries, in log order, in pymerkle; compare rates."""
    count = min(settings.pymerkle_entries, settings.sqlite_entries)
    say(f"pymerkle {pymerkle.__version__}: InmemoryTree of the log's first {count:,} entries")
    entries = list(log.store.iter_entries(log.info, count))
    our_root = log.reader.root(count)
    result = measure_pymerkle(entries, settings.pymerkle_proofs, settings.seed + 2, our_root)
    del entries
    figures["pymerkle_version"] = pymerkle.__version__
    figures["pymerkle_entries"] = result.entries
    figures["pymerkle_appends_per_s"] = round(result.appends_per_s)
    figures["pymerkle_proofs"] = result.proofs
    figures["pymerkle_proofs_per_s"] = round(result.proofs_per_s)
    figures["pymerkle_proofs_verified_per_s"] = round(result.proofs_verified_per_s)
    figures["pymerkle_root_matches"] = result.root_matches
    figures["pymerkle_ratio"] = round(figures["sqlite_appends_per_s"] / result.appends_per_s, 3)
    figures["pymerkle_proof_ratio"] = round(figures["proofs_served_per_s"] / result.proofs_per_s, 3)
    say(
        f"pymerkle: {result.appends_per_s:,.0f} appends/s, {result.proofs_per_s:,.0f} proofs/s; "
        f"root {'matches' if result.root_matches else 'DIFFERS FROM'} ours"
    )


def run_postgres(settings: Settings, figures: dict[str, Any]) -> None:
    """Phase 4: append to a fresh PostgreSQL database; record the rate."""
    with postgres_server(say) as (server, origin):
        name = f"lacre_bench_{secrets.token_hex(4)}"
        dsn = server.create_database(name)
        try:
            figures["postgres_server"] = {"from": origin, **postgres_settings(dsn)}
            store = PostgresStore(dsn)
            try:
                log = open_log(store, "postgres", settings.options)
                source = EntrySource(
                    settings.postgres_entries, settings.submit_batch, settings.seed
                )
                say(f"PostgreSQL: appending {source.total:,} entries")
                result = append_all(log, source, settings.submitters)
                log.close()
            finally:
                store.close()
        finally:
            server.drop_database(name)
    figures["entries_postgres"] = result.entries
    figures["postgres_seconds"] = round(result.seconds, 2)
    figures["postgres_appends_per_s"] = round(result.per_s)
    figures["postgres_pushbacks"] = result.pushbacks
    say(f"PostgreSQL: {result.per_s:,.0f} appends/s ({result.seconds:.1f} s)")


def _tree_bytes(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())


def run(settings: Settings, quick: bool) -> dict[str, Any]:
    """Run every phase; return the figures."""
    figures: dict[str, Any] = {
        "benchmark": "tlog_append",
        "quick": quick,
        "entry_bytes": ENTRY_BYTES,
        "submitters": settings.submitters,
        "submit_batch": settings.submit_batch,
        "submission": (
            f"{settings.submitters} threads, each calling TransparencyLog.append_many "
            f"with {settings.submit_batch} fresh entries until the source is exhausted"
        ),
        "durability": "sqlite synchronous=FULL (WAL); postgresql fsync on",
        **machine(),
    }
    with tempfile.TemporaryDirectory(prefix="lacre-bench-", dir=settings.directory) as tmp:
        log = run_sqlite(settings, Path(tmp), figures)
        try:
            run_proofs(log, settings, figures)
            run_pymerkle(log, settings, figures)
        finally:
            log.close()
            log.store.close()
    if settings.postgres:
        run_postgres(settings, figures)
    else:
        figures["entries_postgres"] = 0
        figures["postgres_appends_per_s"] = None
    figures["peak_rss_mb_whole_run"] = round(peak_rss_mb(), 1)
    figures["targets"] = {**TARGETS, "peak_rss_entries": PEAK_RSS_TARGET_ENTRIES}
    figures["pass"] = judge(figures, TARGETS, _AT_MOST)
    return figures


def parse_args(argv: Sequence[str] | None) -> tuple[Settings, bool]:
    """Command-line options to settings; also return whether ``--quick`` was given."""
    parser = argument_parser(__doc__, "a run of about a minute")
    parser.add_argument("--sqlite-entries", type=int, help="entries appended to SQLite")
    parser.add_argument("--postgres-entries", type=int, help="entries appended to PostgreSQL")
    parser.add_argument("--pymerkle-entries", type=int, help="entries appended to pymerkle")
    parser.add_argument("--proofs", type=int, help="inclusion proofs served and verified")
    parser.add_argument("--pymerkle-proofs", type=int, help="inclusion proofs from pymerkle")
    parser.add_argument("--submitters", type=int, default=16, help="submitting threads")
    parser.add_argument("--submit-batch", type=int, default=512, help="entries per append_many")
    parser.add_argument(
        "--max-batch", type=int, help="LogOptions.max_batch (default: the engine's default)"
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL phase")
    parser.add_argument("--dir", type=Path, help="where the SQLite database is created")
    parser.add_argument("--seed", type=int, default=1, help="seed of entries and indices")
    args = parser.parse_args(argv)
    quick: bool = args.quick
    pick = sizes(parser, quick, minimum=0)

    settings = Settings(
        sqlite_entries=pick(args.sqlite_entries, 1_000_000, PEAK_RSS_TARGET_ENTRIES),
        postgres_entries=pick(args.postgres_entries, 200_000, 1_000_000),
        pymerkle_entries=pick(args.pymerkle_entries, 30_000, 50_000),
        proofs=pick(args.proofs, 20_000, 100_000),
        pymerkle_proofs=pick(args.pymerkle_proofs, 5_000, 20_000),
        submitters=args.submitters,
        submit_batch=args.submit_batch,
        postgres=not args.no_postgres,
        options=log_options(args.max_batch),
        directory=args.dir,
        seed=args.seed,
    )
    if min(settings.sqlite_entries, settings.pymerkle_entries, settings.proofs) < 1:
        parser.error("--sqlite-entries, --pymerkle-entries and --proofs must be at least 1")
    if min(settings.submitters, settings.submit_batch, settings.pymerkle_proofs) < 1:
        parser.error("--submitters, --submit-batch and --pymerkle-proofs must be at least 1")
    return settings, quick


def log_options(max_batch: int | None) -> LogOptions:
    """The engine's default options, with ``max_batch`` (and room to queue it) if given."""
    default = LogOptions()
    if max_batch is None:
        return default
    return LogOptions(max_batch=max_batch, max_pending=max(default.max_pending, 4 * max_batch))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the figures as the last line of stdout."""
    settings, quick = parse_args(argv)
    return report(lambda: run(settings, quick))


if __name__ == "__main__":
    raise SystemExit(main())
