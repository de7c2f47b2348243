"""The embedded storage driver: one SQLite database file in WAL mode.

Each log's entries live in their own table ``entries_<id>`` whose rowid is the
entry index, so reading an entry bundle is one range scan. Writers take
SQLite's write lock with ``BEGIN IMMEDIATE``, which serialises integration
across threads and processes; commits are durable (``synchronous=FULL``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from lacre.errors import StorageError
from lacre.tlog.storage.base import LogInfo, LogState

_SCHEMA = """
CREATE TABLE IF NOT EXISTS logs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    origin TEXT NOT NULL,
    public_key BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS log_state (
    log INTEGER PRIMARY KEY REFERENCES logs(id),
    size INTEGER NOT NULL,
    frontier BLOB NOT NULL,
    checkpoint BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS search_progress (
    log INTEGER PRIMARY KEY REFERENCES logs(id),
    size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS search_index (
    log INTEGER NOT NULL,
    key INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    PRIMARY KEY (log, key, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tiles (
    log INTEGER NOT NULL,
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (log, level, idx)
) WITHOUT ROWID;
"""

_LOOKUP_CHUNK = 500
_PAGE_SIZE = 16384
"""Pages of 16 KiB waste less of each page on 1 KiB entries (only takes effect on new files)."""
_AUTOCHECKPOINT_PAGES = 8192
"""Copy the WAL into the database every 128 MiB rather than 4 MiB: index pages that every
batch touches are then written back once per many batches."""


def _entries_table(log_id: int) -> str:
    return f"entries_{int(log_id)}"


def _chunks(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SqliteTransaction:
    """A write transaction on one log, holding SQLite's write lock."""

    def __init__(self, conn: sqlite3.Connection, log: LogInfo) -> None:
        """Wrap a connection on which ``BEGIN IMMEDIATE`` has been issued."""
        self._conn = conn
        self._log = log

    def state(self) -> LogState | None:
        """The log's state as of the start of this transaction."""
        return _read_state(self._conn, self._log)

    def tiles(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """Stored hash tiles by (level, index)."""
        return _read_tiles(self._conn, self._log, keys)

    def find(self, keys: Sequence[int]) -> list[tuple[int, bytes]]:
        """(index, entry) of stored entries with these keys."""
        return _find(self._conn, self._log, keys)

    def insert_entries(self, start: int, rows: Sequence[tuple[int, bytes]], time: int = 0) -> None:
        """Store entries at consecutive indices from ``start``, integrated at ``time``."""
        table = _entries_table(self._log.log_id)
        self._conn.executemany(
            f"INSERT INTO {table} (idx, key, time, data) VALUES (?, ?, ?, ?)",  # noqa: S608
            ((start + offset, key, time, data) for offset, (key, data) in enumerate(rows)),
        )

    def put_tiles(self, tiles: Mapping[tuple[int, int], bytes]) -> None:
        """Create or replace hash tiles."""
        self._conn.executemany(
            "INSERT OR REPLACE INTO tiles (log, level, idx, data) VALUES (?, ?, ?, ?)",
            ((self._log.log_id, level, index, data) for (level, index), data in tiles.items()),
        )

    def put_state(self, state: LogState) -> None:
        """Record the log's new state."""
        self._conn.execute(
            "INSERT OR REPLACE INTO log_state (log, size, frontier, checkpoint) VALUES (?,?,?,?)",
            (self._log.log_id, state.size, state.frontier, state.checkpoint),
        )


class SqliteStore:
    """Logs in one SQLite database file."""

    def __init__(self, path: Path, *, cache_mib: int = 64) -> None:
        """Open (creating if needed) the database at ``path``."""
        self.path = path
        self._cache_kib = cache_mib * 1024
        self._local = threading.local()
        self._writer_lock = threading.Lock()
        self._opened: list[sqlite3.Connection] = []
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._connection()
        conn.execute(f"PRAGMA page_size={_PAGE_SIZE}")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open SQLite database {self.path}: {exc}") from exc
        conn.execute("PRAGMA busy_timeout=60000")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(f"PRAGMA cache_size=-{self._cache_kib}")
        conn.execute(f"PRAGMA wal_autocheckpoint={_AUTOCHECKPOINT_PAGES}")
        return conn

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._writer_lock:
                self._opened.append(conn)
        return conn

    def ensure_log(self, name: str, origin: str, public_key: bytes) -> LogInfo:
        """Return the log called ``name``, creating it if needed."""
        conn = self._connection()
        with self._writer_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "INSERT OR IGNORE INTO logs (name, origin, public_key) VALUES (?, ?, ?)",
                    (name, origin, public_key),
                )
                log = _log_by_name(conn, name)
                conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {_entries_table(log.log_id)} ("
                    "idx INTEGER PRIMARY KEY, key INTEGER NOT NULL, time INTEGER NOT NULL, "
                    "data BLOB NOT NULL)"
                )
                conn.execute(
                    f"CREATE INDEX IF NOT EXISTS {_entries_table(log.log_id)}_key "
                    f"ON {_entries_table(log.log_id)} (key)"
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return log

    def logs(self) -> list[LogInfo]:
        """Every log in the database."""
        rows = self._connection().execute(
            "SELECT id, name, origin, public_key FROM logs ORDER BY id"
        )
        return [LogInfo(row[0], row[1], row[2], bytes(row[3])) for row in rows]

    @contextmanager
    def write(self, log: LogInfo) -> Iterator[SqliteTransaction]:
        """A write transaction on ``log``: committed on clean exit, rolled back otherwise."""
        conn = self._connection()
        with self._writer_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield SqliteTransaction(conn, log)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def state(self, log: LogInfo) -> LogState | None:
        """The latest committed state of ``log``."""
        return _read_state(self._connection(), log)

    def tiles(self, log: LogInfo, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """Committed hash tiles by (level, index)."""
        return _read_tiles(self._connection(), log, keys)

    def entries(self, log: LogInfo, start: int, end: int) -> list[bytes]:
        """Committed entries with indices in ``[start, end)``."""
        rows = self._connection().execute(
            f"SELECT data FROM {_entries_table(log.log_id)} "  # noqa: S608
            "WHERE idx >= ? AND idx < ? ORDER BY idx",
            (start, end),
        )
        return [bytes(row[0]) for row in rows]

    def iter_entries(self, log: LogInfo, end: int, batch: int = 4096) -> Iterator[bytes]:
        """Every entry below ``end``, in order."""
        for start in range(0, end, batch):
            yield from self.entries(log, start, min(end, start + batch))

    def find(self, log: LogInfo, keys: Sequence[int]) -> list[tuple[int, bytes]]:
        """(index, entry) of committed entries with these keys."""
        return _find(self._connection(), log, keys)

    def entry_time(self, log: LogInfo, index: int) -> int | None:
        """The integration time recorded with entry ``index``."""
        row = (
            self._connection()
            .execute(
                f"SELECT time FROM {_entries_table(log.log_id)} WHERE idx = ?",  # noqa: S608
                (index,),
            )
            .fetchone()
        )
        return None if row is None else int(row[0])

    def index_progress(self, log: LogInfo) -> int:
        """How many entries the search index covers."""
        row = (
            self._connection()
            .execute("SELECT size FROM search_progress WHERE log = ?", (log.log_id,))
            .fetchone()
        )
        return 0 if row is None else int(row[0])

    def add_to_index(self, log: LogInfo, rows: Sequence[tuple[int, int]], progress: int) -> None:
        """Record search rows and raise the index's progress, atomically."""
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(
                "INSERT OR IGNORE INTO search_index (log, key, idx) VALUES (?, ?, ?)",
                ((log.log_id, key, index) for key, index in rows),
            )
            conn.execute(
                "INSERT INTO search_progress (log, size) VALUES (?, ?) ON CONFLICT (log) "
                "DO UPDATE SET size = max(size, excluded.size)",
                (log.log_id, progress),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def lookup(self, log: LogInfo, keys: Sequence[int]) -> list[int]:
        """Indices recorded in the search index under any of ``keys``."""
        found: set[int] = set()
        for chunk in _chunks(sorted(set(keys)), _LOOKUP_CHUNK):
            marks = ",".join("?" * len(chunk))
            rows = self._connection().execute(
                f"SELECT idx FROM search_index WHERE log = ? AND key IN ({marks})",  # noqa: S608
                (log.log_id, *chunk),
            )
            found.update(int(row[0]) for row in rows)
        return sorted(found)

    def close(self) -> None:
        """Close every connection this store opened (call when no thread uses it any more)."""
        with self._writer_lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()
        self._local = threading.local()


def _log_by_name(conn: sqlite3.Connection, name: str) -> LogInfo:
    row = conn.execute(
        "SELECT id, name, origin, public_key FROM logs WHERE name = ?", (name,)
    ).fetchone()
    if row is None:
        raise StorageError(f"log {name!r} does not exist")
    return LogInfo(row[0], row[1], row[2], bytes(row[3]))


def _read_state(conn: sqlite3.Connection, log: LogInfo) -> LogState | None:
    row = conn.execute(
        "SELECT size, frontier, checkpoint FROM log_state WHERE log = ?", (log.log_id,)
    ).fetchone()
    return None if row is None else LogState(row[0], bytes(row[1]), bytes(row[2]))


def _read_tiles(
    conn: sqlite3.Connection, log: LogInfo, keys: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], bytes]:
    found: dict[tuple[int, int], bytes] = {}
    for level, index in keys:
        row = conn.execute(
            "SELECT data FROM tiles WHERE log = ? AND level = ? AND idx = ?",
            (log.log_id, level, index),
        ).fetchone()
        if row is not None:
            found[(level, index)] = bytes(row[0])
    return found


def _find(conn: sqlite3.Connection, log: LogInfo, keys: Sequence[int]) -> list[tuple[int, bytes]]:
    table = _entries_table(log.log_id)
    found: list[tuple[int, bytes]] = []
    for chunk in _chunks(sorted(set(keys)), _LOOKUP_CHUNK):
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT idx, data FROM {table} WHERE key IN ({marks})",  # noqa: S608
            tuple(chunk),
        )
        found.extend((row[0], bytes(row[1])) for row in rows)
    return found
