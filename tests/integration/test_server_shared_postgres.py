"""Two ``lacre server`` processes on one PostgreSQL database serve one consistent log.

What two processes need to share a log: the same database, the same public
URL (its host name is the checkpoint origin) and the same keys: the logs' keys
and the CT log's (a different one is refused at start, since a log's key never
changes), and so that either process can answer any client alike, the CA, TSA
and TUF keys with the chains, TUF repository and client trust files made for
them. The second process starts from a copy of the first's ``keys/``, ``ca/``,
``tsa/``, ``tuf/`` and ``client/``: ``keys/`` alone is not enough in development
mode (``keys/tuf-root`` without the repository it signs stops the start), and
without ``client/`` the second publishes a trusted root with other validity
start times as a new TUF targets version the first does not have. It takes the
Rekor v1 tree ID the first drew, from the database.

Both take writes at once, from concurrent clients of the Rekor v1 and v2 APIs,
some of them posting the same entry to both servers at the same moment. Then:

* both name the same trusted root and publish the same TUF metadata;
* no index was acknowledged for two entries, no entry acknowledged as new twice
  (a twin post gets one 201 and one 409 naming the same place);
* both servers serve the same checkpoints (once the writes have stopped);
* through either server, every acknowledged entry is at its index (tiles, and
  a sample through the v1 API by index, UUID and search), the trees hash to the
  checkpoints, no entry is stored twice, and every checkpoint either server
  gave out is a prefix of the final tree, proven consistent with it.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.rekor_load import (
    REQUEST_TIMEOUT_S,
    TILE_PREFIX,
    Entry,
    EntryMaker,
    EntrySource,
    History,
    LacreProcess,
    LogView,
    Writer,
    audit,
    free_port,
    log_views,
    run_writers,
)

PUBLIC_URL = "http://lacre-shared.test"
SHARED_PARTS = ("keys", "ca", "tsa", "tuf", "client")
"""What the second server's data directory starts with: the first's keys, chains and trust."""
WRITERS_PER_API = 2
"""Writers of each API on each server, besides the twins."""
TWIN_ENTRIES = 150
"""Entries each pair of twin writers posts to both servers at once."""
WRITE_S = 4.0
CONVERGE_TIMEOUT_S = 15.0


class Twins:
    """One list of entries handed to two writers in lockstep, so both post each one at once."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries
        self.barrier = threading.Barrier(2)

    def source(self) -> EntrySource:
        """An entry source for one of the two writers."""
        remaining = iter(self.entries)

        def next_entry() -> Entry | None:
            try:
                self.barrier.wait(timeout=REQUEST_TIMEOUT_S)
            except threading.BrokenBarrierError:
                return None
            return next(remaining, None)

        return next_entry


@pytest.fixture
def servers(tmp_path: Path, postgres_dsn: str) -> Iterator[tuple[LacreProcess, LacreProcess]]:
    """Two servers on one database, the second with a copy of the first's keys."""
    first = LacreProcess(
        tmp_path / "a",
        tmp_path / "a.log",
        "--postgres",
        postgres_dsn,
        port=free_port(),
        public_url=PUBLIC_URL,
    )
    try:
        for part in SHARED_PARTS:
            shutil.copytree(tmp_path / "a" / part, tmp_path / "b" / part)
        second = LacreProcess(
            tmp_path / "b",
            tmp_path / "b.log",
            "--postgres",
            postgres_dsn,
            port=free_port(),
            public_url=PUBLIC_URL,
        )
    except BaseException:
        first.stop()
        raise
    yield first, second
    second.stop()
    first.stop()


def _identity(views: dict[str, LogView]) -> dict[str, tuple[object, ...]]:
    return {
        api: (view.origin, view.key_name, view.key.spki_der, view.tree_id)
        for api, view in views.items()
    }


def _client_trust(server: LacreProcess) -> list[bytes]:
    """What a client of the server trusts: its trusted root and its TUF repository's state."""
    published = [
        httpx.get(f"{server.url}/tuf/{name}", timeout=REQUEST_TIMEOUT_S)
        for name in ("1.root.json", "timestamp.json")
    ]
    assert all(response.status_code == 200 for response in published)
    trusted_root = server.data_dir / "client" / "trusted_root.json"
    return [trusted_root.read_bytes(), *(response.content for response in published)]


def _checkpoints(server: LacreProcess) -> list[bytes]:
    return [
        httpx.get(f"{server.url}{prefix}/checkpoint", timeout=REQUEST_TIMEOUT_S).content
        for prefix in TILE_PREFIX.values()
    ]


def _converge(first: LacreProcess, second: LacreProcess) -> None:
    deadline = time.monotonic() + CONVERGE_TIMEOUT_S
    while _checkpoints(first) != _checkpoints(second):
        assert time.monotonic() < deadline, "the two servers serve different checkpoints"
        time.sleep(0.1)


def test_two_servers_write_one_consistent_log(
    servers: tuple[LacreProcess, LacreProcess],
) -> None:
    first, second = servers
    assert first.host == second.host == "lacre-shared.test"
    history = History(log_views(first))
    assert _identity(log_views(second)) == _identity(history.views)
    assert _client_trust(first) == _client_trust(second)
    plain = [
        (Writer(api, EntryMaker(f"shared {api} {server.url} {n}"), history), server)
        for server in servers
        for api in ("v1", "v2")
        for n in range(WRITERS_PER_API)
    ]
    twins = {
        api: Twins([_next(EntryMaker(f"twin {api}")) for _ in range(TWIN_ENTRIES)])
        for api in ("v1", "v2")
    }
    paired = [
        (Writer(api, pair.source(), history), server)
        for api, pair in twins.items()
        for server in servers
    ]
    stop = threading.Event()
    threads = run_writers([(writer, server.url) for writer, server in plain + paired], stop)
    time.sleep(WRITE_S)
    stop.set()
    for pair in twins.values():
        pair.barrier.abort()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT_S + 10)
        assert not thread.is_alive(), "a writer is stuck"
    assert not history.problems, "\n".join(history.problems[:20])
    assert history.cut_off == 0

    for server in servers:
        acked = sum(
            status == 201
            for writer, at in plain
            if at is server
            for status in writer.answers.values()
        )
        assert acked >= 20, f"{server.url} acknowledged only {acked} entries"
    _check_twins(paired)

    _converge(first, second)
    with (
        httpx.Client(base_url=first.url, timeout=REQUEST_TIMEOUT_S) as via_first,
        httpx.Client(base_url=second.url, timeout=REQUEST_TIMEOUT_S) as via_second,
    ):
        checkpoints = audit(via_first, history)
        assert audit(via_second, history) == checkpoints
    for api, checkpoint in checkpoints.items():
        # no request was cut off: every logged entry was acknowledged once, by one server
        assert checkpoint.size == len(history.acks[api])


def _next(maker: EntryMaker) -> Entry:
    entry = maker()
    assert entry is not None
    return entry


def _check_twins(paired: list[tuple[Writer, LacreProcess]]) -> None:
    """Each entry both twins posted was logged once: one 201, one 409."""
    both = 0
    for api in ("v1", "v2"):
        left, right = (writer for writer, _ in paired if writer.api == api)
        for digest in left.answers.keys() & right.answers.keys():
            statuses = sorted((left.answers[digest], right.answers[digest]))
            assert statuses == [201, 409], f"{api} twin entry answered {statuses}"
            both += 1
    assert both >= 20, f"only {both} twin entries were posted to both servers"
