"""Append to a log from several threads until killed, reporting what was acknowledged.

Usage::

    python crash_appender.py sqlite|postgres TARGET KEY_FILE SEED [REPLAY_SEED]

TARGET is a SQLite file path or a PostgreSQL DSN; KEY_FILE holds the log's
checkpoint key. Entries are ``entry(SEED, thread, counter)``, unique per seed.
When REPLAY_SEED is given, every third append of a thread re-submits the entry
the run with that seed makes at the same step, so duplicates of entries that
another run stored (or is storing right now) are submitted too.

Every entry is reported on stdout once its append has returned, that is once it
is durable, as ``ACK <index> <sha256 hex of the entry>``; every checkpoint newer
than the ones reported before is reported as ``CP <base64 of the note>``. Each
report is written and flushed in one piece, so a SIGKILL can at worst truncate
the last line.
"""

from __future__ import annotations

import base64
import hashlib
import os
import sys
import threading
import time
from pathlib import Path

from lacre.keys import load_signer
from lacre.tlog import Integrated, LogOptions, TransparencyLog
from lacre.tlog.storage.base import LogStore
from lacre.tlog.storage.postgres import PostgresStore
from lacre.tlog.storage.sqlite import SqliteStore

NAME = "crash"
ORIGIN = "crash.example.com/log"
THREADS = 4
LIFETIME_S = 120.0
"""Stop on our own after this long, should the test that started us be gone."""


def entry(seed: str, thread: int, counter: int) -> bytes:
    """The entry thread ``thread`` of the run ``seed`` appends at step ``counter``."""
    return f"{seed}/{thread}/{counter}/".encode() + b"." * (counter % 40)


def open_store(driver: str, target: str) -> LogStore:
    if driver == "sqlite":
        return SqliteStore(Path(target))
    if driver == "postgres":
        return PostgresStore(target)
    raise SystemExit(f"unknown driver {driver!r}")


class Reporter:
    """Writes ACK and CP lines, each report in one flushed write."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reported_size = -1

    def report(self, entries: list[bytes], result: Integrated) -> None:
        lines = [
            f"ACK {index} {hashlib.sha256(item).hexdigest()}\n"
            for item, index in zip(entries, result.indices, strict=True)
        ]
        with self._lock:
            if result.size > self._reported_size:
                self._reported_size = result.size
                lines.append(f"CP {base64.b64encode(result.checkpoint).decode('ascii')}\n")
            sys.stdout.write("".join(lines))
            sys.stdout.flush()


def append_forever(
    log: TransparencyLog, reporter: Reporter, seed: str, replay: str | None, thread: int
) -> None:
    parent = os.getppid()
    deadline = time.monotonic() + LIFETIME_S
    counter = 0
    while time.monotonic() < deadline and os.getppid() == parent:
        own = counter % 4 + 1
        batch = [entry(seed, thread, counter + k) for k in range(own)]
        if replay is not None and counter % 3 == 0:
            batch.append(entry(replay, thread, counter))
        counter += own
        reporter.report(batch, log.append_many(batch))


def main(argv: list[str]) -> int:
    if len(argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    driver, target, key_file, seed = argv[:4]
    replay = argv[4] if len(argv) == 5 else None
    store = open_store(driver, target)
    log = TransparencyLog.open(
        store,
        name=NAME,
        origin=ORIGIN,
        signer=load_signer(key_file),
        options=LogOptions(max_delay_s=0.005),
    )
    reporter = Reporter()
    threads = [
        threading.Thread(target=append_forever, args=(log, reporter, seed, replay, n), daemon=True)
        for n in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.close()
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
