"""Crash safety: appenders killed with SIGKILL at random moments lose nothing they acknowledged.

``crash_appender.py`` appends from several threads and reports every
acknowledged entry and every checkpoint it learns of. Each test kills such
processes again and again on one database and checks after every kill that

* every acknowledged index holds the acknowledged entry,
* the latest checkpoint verifies and its root is the root of the stored entries,
  none of which is stored twice,
* every checkpoint reported by any earlier process is consistent with it, and
* an entry was never acknowledged at two indices, nor two entries at one index.
"""

from __future__ import annotations

import base64
import hashlib
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest

from lacre.keys import KeyAlgorithm, SoftwareSigner, generate_signer, save_signer
from lacre.tlog import TransparencyLog
from lacre.tlog.storage.base import LogStore
from lacre.tlog.storage.postgres import PostgresStore
from lacre.tlog.storage.sqlite import SqliteStore
from lacre.transparency import merkle
from lacre.transparency.checkpoint import Checkpoint, open_checkpoint
from lacre.transparency.note import KeyNoteVerifier

SCRIPT = Path(__file__).with_name("crash_appender.py")
NAME = "crash"
ORIGIN = "crash.example.com/log"
FIRST_ACK_TIMEOUT_S = 60.0
KILL_DELAY_S = (0.2, 1.5)
SQLITE_KILLS = 20
POSTGRES_KILLS = 20


@dataclass
class Appender:
    """One running crash_appender.py and what it printed so far."""

    seed: str
    process: subprocess.Popen[bytes]
    stderr: Path
    started: float = field(default_factory=time.monotonic)
    lines: list[bytes] = field(default_factory=list)
    first_ack: threading.Event = field(default_factory=threading.Event)
    kill_at: float | None = None
    _reader: threading.Thread | None = None

    def start_reading(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        self._reader = threading.Thread(target=self._read, args=(stdout,), daemon=True)
        self._reader.start()

    def _read(self, stdout: IO[bytes]) -> None:
        for line in stdout:
            self.lines.append(line)
            if line.startswith(b"ACK "):
                self.first_ack.set()

    def describe(self) -> str:
        return f"appender {self.seed}: {self.stderr.read_text(errors='replace')[-3000:]}"

    def kill(self) -> None:
        """SIGKILL the process (it must still be running) and collect all its output."""
        assert self.process.poll() is None, f"exited before being killed: {self.describe()}"
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        assert self.process.returncode == -signal.SIGKILL
        assert self._reader is not None
        self._reader.join(timeout=30)
        assert not self._reader.is_alive()


@dataclass
class History:
    """Everything acknowledged and every checkpoint reported, across all runs."""

    signer: SoftwareSigner
    acked: dict[int, str] = field(default_factory=dict)
    index_of: dict[str, int] = field(default_factory=dict)
    checkpoints: dict[int, Checkpoint] = field(default_factory=dict)
    unchecked: list[bytes] = field(default_factory=list)
    kills: int = 0

    def verify(self, note: bytes) -> Checkpoint:
        verifier = KeyNoteVerifier(ORIGIN, self.signer.public_key)
        return open_checkpoint(note, [verifier], origin=ORIGIN)

    def absorb(self, run: Appender) -> None:
        """Record the complete lines a killed appender printed."""
        acks = 0
        for line in run.lines:
            if not line.endswith(b"\n"):
                continue  # cut short by the kill
            kind, _, rest = line.decode("ascii").strip().partition(" ")
            if kind == "ACK":
                index_text, digest = rest.split(" ")
                index = int(index_text)
                assert self.acked.setdefault(index, digest) == digest, (
                    f"index {index} acknowledged for two entries"
                )
                assert self.index_of.setdefault(digest, index) == index, (
                    f"entry {digest} acknowledged at indices {self.index_of[digest]} and {index}"
                )
                acks += 1
            elif kind == "CP":
                self.unchecked.append(base64.b64decode(rest, validate=True))
            else:
                pytest.fail(f"unexpected output line {line!r} from {run.describe()}")
        assert acks > 0, f"no acknowledgement parsed from {run.describe()}"

    def check(self, store: LogStore) -> None:
        """Check the stored log against everything acknowledged and reported so far."""
        log = TransparencyLog.open(store, name=NAME, origin=ORIGIN, signer=self.signer)
        try:
            self._check(log)
        finally:
            log.close()

    def _check(self, log: TransparencyLog) -> None:
        current = self.verify(log.reader.checkpoint())
        entries = list(log.store.iter_entries(log.info, current.size))
        assert len(entries) == current.size
        leaves = [merkle.leaf_hash(item) for item in entries]
        assert merkle.root_of(leaves) == current.root_hash
        assert len(set(leaves)) == len(leaves), "an entry is stored twice"
        for index, digest in self.acked.items():
            assert index < current.size, f"acknowledged index {index} is beyond the checkpoint"
            assert hashlib.sha256(entries[index]).hexdigest() == digest, f"entry {index} changed"

        for note in self.unchecked:
            checkpoint = self.verify(note)
            known = self.checkpoints.setdefault(checkpoint.size, checkpoint)
            assert known.root_hash == checkpoint.root_hash, f"two roots for {checkpoint.size}"
        self.unchecked.clear()
        for size, old in self.checkpoints.items():
            assert size <= current.size, f"a reported checkpoint of {size} was rolled back"
            if size == 0:
                assert old.root_hash == merkle.EMPTY_ROOT
                continue
            proof = log.reader.consistency_proof(size, current.size)
            merkle.verify_consistency(size, current.size, proof, old.root_hash, current.root_hash)
        # keep the current checkpoint too: the next state must extend it
        self.checkpoints.setdefault(current.size, current)


@pytest.fixture
def signer_file(tmp_path: Path) -> tuple[SoftwareSigner, Path]:
    signer = generate_signer(KeyAlgorithm.ECDSA_P256_SHA256)
    path = tmp_path / "log-key.pem"
    save_signer(signer, path)
    return signer, path


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., Appender]]:
    """Starts appenders; kills whatever is still running when the test ends."""
    started: list[Appender] = []

    def start(driver: str, target: str, key: Path, seed: str, replay: str | None) -> Appender:
        stderr = tmp_path / f"appender-{seed}.err"
        args = [sys.executable, str(SCRIPT), driver, target, str(key), seed]
        with stderr.open("wb") as errors:
            process = subprocess.Popen(
                [*args, *([replay] if replay else [])], stdout=subprocess.PIPE, stderr=errors
            )
        run = Appender(seed, process, stderr)
        started.append(run)
        run.start_reading()
        return run

    yield start
    for run in started:
        if run.process.poll() is None:
            run.process.kill()
        run.process.wait(timeout=30)
        if run.process.stdout is not None:
            run.process.stdout.close()


def wait_for_first_ack(run: Appender) -> None:
    if not run.first_ack.wait(FIRST_ACK_TIMEOUT_S):
        pytest.fail(f"no acknowledgement within {FIRST_ACK_TIMEOUT_S} s: {run.describe()}")


def test_sqlite_survives_repeated_kills(
    tmp_path: Path, signer_file: tuple[SoftwareSigner, Path], spawn: Callable[..., Appender]
) -> None:
    signer, key = signer_file
    database = tmp_path / "crash.db"
    rng = random.Random()
    history = History(signer)
    previous: str | None = None
    for number in range(SQLITE_KILLS):
        seed = f"sqlite-{number}"
        run = spawn("sqlite", str(database), key, seed, previous)
        wait_for_first_ack(run)
        time.sleep(rng.uniform(*KILL_DELAY_S))
        run.kill()
        history.kills += 1
        history.absorb(run)
        store = SqliteStore(database)
        try:
            history.check(store)
        finally:
            store.close()
        previous = seed
    assert history.kills >= 20
    assert len(history.acked) > SQLITE_KILLS


def test_postgres_survives_two_appenders_killed_independently(
    postgres_dsn: str,
    signer_file: tuple[SoftwareSigner, Path],
    spawn: Callable[..., Appender],
) -> None:
    signer, key = signer_file
    rng = random.Random()
    history = History(signer)
    started = 0

    def launch(replay: str | None) -> Appender:
        nonlocal started
        started += 1
        return spawn("postgres", postgres_dsn, key, f"pg-{started}", replay)

    # two appenders at once; each replays the entries of the one running beside it
    running = [launch(None)]
    running.append(launch(running[0].seed))
    while running:
        for run in list(running):
            now = time.monotonic()
            if run.kill_at is None:
                if run.first_ack.is_set():
                    run.kill_at = now + rng.uniform(*KILL_DELAY_S)
                elif now - run.started > FIRST_ACK_TIMEOUT_S:
                    wait_for_first_ack(run)
                continue
            if now < run.kill_at:
                continue
            run.kill()
            running.remove(run)
            history.kills += 1
            history.absorb(run)
            store = PostgresStore(postgres_dsn, max_connections=2)
            try:
                history.check(store)
            finally:
                store.close()
            if history.kills + len(running) < POSTGRES_KILLS:
                running.append(launch(running[0].seed if running else run.seed))
        time.sleep(0.01)
    assert history.kills >= 20
    assert len(history.acked) > POSTGRES_KILLS
