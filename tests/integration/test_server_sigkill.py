"""``lacre server`` killed with SIGKILL while taking writes loses nothing it acknowledged.

Concurrent clients post ``hashedrekord`` entries (real ECDSA P-256 signatures)
to the Rekor v1 and v2 APIs of a development server and record every 201
answer: index, canonical body, inclusion proof and signed checkpoint, each
verified on arrival. Mid-stream the server is killed with SIGKILL, then started
again on the same data directory, again and again. After each restart:

* the logs keep their keys, origins and Rekor v1 tree ID;
* every acknowledged entry is at its index in the v2 tiles and the v1 tiles,
  and (a sample) through the v1 API by index, by UUID and by search, with fresh
  proofs and SETs that verify against the checkpoint the server now serves;
* each tree's tiles hash to its new checkpoint's root, with no entry twice;
* every checkpoint seen before (in answers, or served after an earlier
  restart) is the root of a prefix of the new tree and is proven consistent
  with the new checkpoint (Rekor v1 API proofs; proofs built from the v2 tiles);
* a request cut off by the kill, posted again, is either logged anew or
  refused with 409 naming where the entry already is.

On SQLite, and on PostgreSQL.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.rekor_load import (
    REQUEST_TIMEOUT_S,
    EntryMaker,
    History,
    LacreProcess,
    LogView,
    Writer,
    audit,
    log_views,
    run_writers,
)

KILLS = 5
WRITERS_PER_API = 4
ACKS_BEFORE_KILL = 20
"""New acknowledgements, in each log, before a kill is scheduled."""
KILL_DELAY_S = (0.05, 0.6)
ACK_TIMEOUT_S = 90.0
LAST_ROUND_S = 1.0
"""Writes after the last restart, without a kill: cut-off requests are posted again."""


class Restarts:
    """A server on one data directory, killed and started again; stopped at the end."""

    def __init__(self, directory: Path, *extra: str) -> None:
        self.directory, self.extra = directory, extra
        self.starts = 0
        self.server = self.start()

    def start(self) -> LacreProcess:
        """Start the server on the data directory."""
        self.starts += 1
        log = self.directory / f"server-{self.starts}.log"
        self.server = LacreProcess(self.directory / "data", log, *self.extra)
        return self.server


@pytest.fixture
def restarts() -> Iterator[list[Restarts]]:
    made: list[Restarts] = []
    yield made
    for item in made:
        item.server.stop()


def _identity(views: dict[str, LogView]) -> dict[str, tuple[object, ...]]:
    return {
        api: (view.origin, view.key_name, view.key.spki_der, view.tree_id)
        for api, view in views.items()
    }


def _wait_for_acks(history: History, before: dict[str, int], server: LacreProcess) -> None:
    deadline = time.monotonic() + ACK_TIMEOUT_S
    while any(history.count(api) < count + ACKS_BEFORE_KILL for api, count in before.items()):
        assert not history.problems, "\n".join(history.problems[:20])
        if time.monotonic() > deadline:
            pytest.fail(f"too few acknowledgements in {ACK_TIMEOUT_S} s:\n{server.log_tail()}")
        time.sleep(0.02)


def _write(
    writers: list[Writer], server: LacreProcess, until_killed: bool, rng: random.Random
) -> None:
    """Run the writers against ``server``; kill it mid-stream when ``until_killed``."""
    history = writers[0].history
    before = {api: history.count(api) for api in ("v1", "v2")}
    stop = threading.Event()
    threads = run_writers([(writer, server.url) for writer in writers], stop)
    _wait_for_acks(history, before, server)
    time.sleep(rng.uniform(*KILL_DELAY_S) if until_killed else LAST_ROUND_S)
    cut_off = history.cut_off
    if until_killed:
        server.kill()
    stop.set()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT_S + 10)
        assert not thread.is_alive(), "a writer is stuck"
    if until_killed:  # the kill landed mid-stream: requests were under way
        assert history.cut_off > cut_off, "no request was cut off by the kill"
    else:
        assert history.cut_off == cut_off


def _survives_kills(tmp_path: Path, made: list[Restarts], *extra: str) -> History:
    rng = random.Random()
    run = Restarts(tmp_path, *extra)
    made.append(run)
    history = History(log_views(run.server))
    writers = [
        Writer(api, EntryMaker(f"sigkill {api} {n}"), history)
        for api in ("v1", "v2")
        for n in range(WRITERS_PER_API)
    ]
    sizes: list[int] = []
    for _ in range(KILLS):
        _write(writers, run.server, True, rng)
        server = run.start()
        assert _identity(log_views(server)) == _identity(history.views)
        with httpx.Client(base_url=server.url, timeout=REQUEST_TIMEOUT_S) as http:
            checkpoints = audit(http, history)
        sizes.append(checkpoints["v1"].size + checkpoints["v2"].size)
    _write(writers, run.server, False, rng)
    with httpx.Client(base_url=run.server.url, timeout=REQUEST_TIMEOUT_S) as http:
        audit(http, history)
    assert run.starts == KILLS + 1
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1], sizes
    return history


def test_sqlite_server_survives_repeated_sigkill(tmp_path: Path, restarts: list[Restarts]) -> None:
    history = _survives_kills(tmp_path, restarts)
    assert min(len(history.acks["v1"]), len(history.acks["v2"])) >= KILLS * ACKS_BEFORE_KILL


def test_postgres_server_survives_repeated_sigkill(
    tmp_path: Path, restarts: list[Restarts], postgres_dsn: str
) -> None:
    history = _survives_kills(tmp_path, restarts, "--postgres", postgres_dsn)
    assert min(len(history.acks["v1"]), len(history.acks["v2"])) >= KILLS * ACKS_BEFORE_KILL
