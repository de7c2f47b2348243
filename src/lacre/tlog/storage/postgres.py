"""The scale-out storage driver: PostgreSQL through psycopg 3 and a connection pool.

Several processes on several machines may share one database. Each write
transaction first takes a transaction-scoped advisory lock on its log, so
exactly one writer integrates at a time; when a writer dies its transaction
is rolled back, the lock is released and the next writer carries on from the
last committed state. Entries are loaded with binary ``COPY``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import psycopg
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool

from lacre.errors import StorageError
from lacre.tlog.storage.base import LogInfo, LogState

_LOCK_CLASS = 0x6C616372  # "lacr": the advisory-lock namespace of this driver
_SCHEMA_LOCK = 0

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS logs (
        id SERIAL PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        origin TEXT NOT NULL,
        public_key BYTEA NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS log_state (
        log INTEGER PRIMARY KEY REFERENCES logs(id),
        size BIGINT NOT NULL,
        frontier BYTEA NOT NULL,
        checkpoint BYTEA NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS search_progress (
        log INTEGER PRIMARY KEY REFERENCES logs(id),
        size BIGINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS search_index (
        log INTEGER NOT NULL,
        key BIGINT NOT NULL,
        idx BIGINT NOT NULL,
        PRIMARY KEY (log, key, idx))""",
    """CREATE TABLE IF NOT EXISTS tiles (
        log INTEGER NOT NULL,
        level SMALLINT NOT NULL,
        idx BIGINT NOT NULL,
        data BYTEA NOT NULL,
        PRIMARY KEY (log, level, idx))""",
]


def _entries_table(log_id: int) -> str:
    return f"entries_{int(log_id)}"


class PostgresTransaction:
    """A write transaction on one log, holding the log's advisory lock."""

    def __init__(self, conn: psycopg.Connection[TupleRow], log: LogInfo) -> None:
        """Wrap a connection inside a transaction that holds the lock."""
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
        """Store entries at consecutive indices from ``start`` with binary COPY."""
        table = _entries_table(self._log.log_id)
        with (
            self._conn.cursor() as cur,
            cur.copy(f"COPY {table} (idx, key, time, data) FROM STDIN (FORMAT BINARY)") as copy,
        ):
            copy.set_types(["int8", "int8", "int8", "bytea"])
            for offset, (key, data) in enumerate(rows):
                copy.write_row((start + offset, key, time, data))

    def put_tiles(self, tiles: Mapping[tuple[int, int], bytes]) -> None:
        """Create or replace hash tiles."""
        with self._conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO tiles (log, level, idx, data) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (log, level, idx) DO UPDATE SET data = EXCLUDED.data",
                [(self._log.log_id, level, index, data) for (level, index), data in tiles.items()],
            )

    def put_state(self, state: LogState) -> None:
        """Record the log's new state."""
        self._conn.execute(
            "INSERT INTO log_state (log, size, frontier, checkpoint) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (log) DO UPDATE SET size = EXCLUDED.size, "
            "frontier = EXCLUDED.frontier, checkpoint = EXCLUDED.checkpoint",
            (self._log.log_id, state.size, state.frontier, state.checkpoint),
        )


class PostgresStore:
    """Logs in one PostgreSQL database."""

    def __init__(self, dsn: str, *, max_connections: int = 16) -> None:
        """Connect to ``dsn`` and create the schema if needed."""
        self.dsn = dsn
        try:
            self._pool: ConnectionPool[psycopg.Connection[TupleRow]] = ConnectionPool(
                dsn,
                min_size=1,
                max_size=max_connections,
                kwargs={"autocommit": True},
                open=True,
                timeout=30,
            )
            self._pool.wait(timeout=30)
        except (psycopg.Error, Exception) as exc:
            raise StorageError(f"cannot connect to PostgreSQL: {exc}") from exc
        with self._locked(_SCHEMA_LOCK) as conn:
            for statement in _SCHEMA:
                conn.execute(statement)

    @contextmanager
    def _locked(self, lock: int) -> Iterator[psycopg.Connection[TupleRow]]:
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_LOCK_CLASS, lock))
            yield conn

    def ensure_log(self, name: str, origin: str, public_key: bytes) -> LogInfo:
        """Return the log called ``name``, creating it if needed."""
        with self._locked(_SCHEMA_LOCK) as conn:
            conn.execute(
                "INSERT INTO logs (name, origin, public_key) VALUES (%s, %s, %s) "
                "ON CONFLICT (name) DO NOTHING",
                (name, origin, public_key),
            )
            row = conn.execute(
                "SELECT id, name, origin, public_key FROM logs WHERE name = %s", (name,)
            ).fetchone()
            if row is None:
                raise StorageError(f"log {name!r} could not be created")
            log = LogInfo(int(row[0]), str(row[1]), str(row[2]), _bytes(row[3]))
            table = _entries_table(log.log_id)
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {table} (idx BIGINT PRIMARY KEY, "
                "key BIGINT NOT NULL, time BIGINT NOT NULL, data BYTEA NOT NULL)"
            )
            conn.execute(f"CREATE INDEX IF NOT EXISTS {table}_key ON {table} (key)")
        return log

    def logs(self) -> list[LogInfo]:
        """Every log in the database."""
        with self._pool.connection() as conn:
            rows = conn.execute("SELECT id, name, origin, public_key FROM logs ORDER BY id")
            return [LogInfo(int(r[0]), str(r[1]), str(r[2]), _bytes(r[3])) for r in rows]

    @contextmanager
    def write(self, log: LogInfo) -> Iterator[PostgresTransaction]:
        """A write transaction on ``log`` under its advisory lock."""
        with self._locked(log.log_id + 1) as conn:
            yield PostgresTransaction(conn, log)

    def state(self, log: LogInfo) -> LogState | None:
        """The latest committed state of ``log``."""
        with self._pool.connection() as conn:
            return _read_state(conn, log)

    def tiles(self, log: LogInfo, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """Committed hash tiles by (level, index)."""
        with self._pool.connection() as conn:
            return _read_tiles(conn, log, keys)

    def entries(self, log: LogInfo, start: int, end: int) -> list[bytes]:
        """Committed entries with indices in ``[start, end)``."""
        with self._pool.connection() as conn:
            rows = conn.execute(
                f"SELECT data FROM {_entries_table(log.log_id)} "  # noqa: S608
                "WHERE idx >= %s AND idx < %s ORDER BY idx",
                (start, end),
            )
            return [_bytes(row[0]) for row in rows]

    def iter_entries(self, log: LogInfo, end: int, batch: int = 4096) -> Iterator[bytes]:
        """Every entry below ``end``, in order."""
        for start in range(0, end, batch):
            yield from self.entries(log, start, min(end, start + batch))

    def find(self, log: LogInfo, keys: Sequence[int]) -> list[tuple[int, bytes]]:
        """(index, entry) of committed entries with these keys."""
        with self._pool.connection() as conn:
            return _find(conn, log, keys)

    def entry_time(self, log: LogInfo, index: int) -> int | None:
        """The integration time recorded with entry ``index``."""
        with self._pool.connection() as conn:
            row = conn.execute(
                f"SELECT time FROM {_entries_table(log.log_id)} WHERE idx = %s",  # noqa: S608
                (index,),
            ).fetchone()
        return None if row is None else int(row[0])

    def index_progress(self, log: LogInfo) -> int:
        """How many entries the search index covers."""
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT size FROM search_progress WHERE log = %s", (log.log_id,)
            ).fetchone()
        return 0 if row is None else int(row[0])

    def add_to_index(self, log: LogInfo, rows: Sequence[tuple[int, int]], progress: int) -> None:
        """Record search rows and raise the index's progress, atomically."""
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO search_index (log, key, idx) VALUES (%s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                [(log.log_id, key, index) for key, index in rows],
            )
            cur.execute(
                "INSERT INTO search_progress (log, size) VALUES (%s, %s) ON CONFLICT (log) "
                "DO UPDATE SET size = GREATEST(search_progress.size, EXCLUDED.size)",
                (log.log_id, progress),
            )

    def lookup(self, log: LogInfo, keys: Sequence[int]) -> list[int]:
        """Indices recorded in the search index under any of ``keys``."""
        if not keys:
            return []
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT DISTINCT idx FROM search_index WHERE log = %s AND key = ANY(%s) "
                "ORDER BY idx",
                (log.log_id, list(set(keys))),
            )
            return [int(row[0]) for row in rows]

    def close(self) -> None:
        """Close the connection pool."""
        self._pool.close()


def _bytes(value: object) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise StorageError(f"expected binary column, found {type(value).__name__}")


def _read_state(conn: psycopg.Connection[TupleRow], log: LogInfo) -> LogState | None:
    row = conn.execute(
        "SELECT size, frontier, checkpoint FROM log_state WHERE log = %s", (log.log_id,)
    ).fetchone()
    if row is None:
        return None
    return LogState(int(row[0]), _bytes(row[1]), _bytes(row[2]))


def _read_tiles(
    conn: psycopg.Connection[TupleRow], log: LogInfo, keys: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], bytes]:
    found: dict[tuple[int, int], bytes] = {}
    for level, index in keys:
        row = conn.execute(
            "SELECT data FROM tiles WHERE log = %s AND level = %s AND idx = %s",
            (log.log_id, level, index),
        ).fetchone()
        if row is not None:
            found[(level, index)] = _bytes(row[0])
    return found


def _find(
    conn: psycopg.Connection[TupleRow], log: LogInfo, keys: Sequence[int]
) -> list[tuple[int, bytes]]:
    if not keys:
        return []
    rows = conn.execute(
        f"SELECT idx, data FROM {_entries_table(log.log_id)} WHERE key = ANY(%s)",  # noqa: S608
        (list(set(keys)),),
    )
    return [(int(row[0]), _bytes(row[1])) for row in rows]
