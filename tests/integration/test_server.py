"""``lacre server`` as a real process: health, the tile API and the trusted root."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lacre.keys import PublicKey, load_signer
from lacre.tlog import TransparencyLog
from lacre.tlog.storage.sqlite import SqliteStore
from lacre.transparency import merkle
from lacre.transparency.checkpoint import Checkpoint, open_checkpoint
from lacre.transparency.note import KeyNoteVerifier
from lacre.transparency.tiles import decode_entry_bundle, decode_tile
from tests.integration.servers import Server

ENTRIES = [f"entry number {i}".encode() for i in range(700)]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def server(data_dir: Path) -> Iterator[Server]:
    running = Server(data_dir, "--dev")
    yield running
    running.stop()


def _trusted_log_key(data_dir: Path) -> tuple[dict[str, object], PublicKey]:
    document = json.loads((data_dir / "client" / "trusted_root.json").read_text())
    v1_tlog, tlog = document["tlogs"]  # the Rekor v1 tree, then the main (v2) log
    assert v1_tlog["logId"] != tlog["logId"]
    return tlog, PublicKey.from_der(base64.b64decode(tlog["publicKey"]["rawBytes"]))


def _checkpoint(server: Server, data_dir: Path) -> Checkpoint:
    response = server.http.get("/checkpoint")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    _, key = _trusted_log_key(data_dir)
    return open_checkpoint(
        response.content, [KeyNoteVerifier("127.0.0.1", key)], origin="127.0.0.1"
    )


def _append_out_of_process(data_dir: Path) -> None:
    store = SqliteStore(data_dir / "lacre.db")
    signer = load_signer(f"file:{data_dir / 'keys' / 'log.pem'}")
    log = TransparencyLog.open(store, name="main", origin="127.0.0.1", signer=signer)
    log.append_many(ENTRIES)
    log.close()
    store.close()


def test_health_and_empty_checkpoint(server: Server, data_dir: Path) -> None:
    assert server.http.get("/healthz").json() == {"status": "ok"}
    checkpoint = _checkpoint(server, data_dir)
    assert (checkpoint.size, checkpoint.root_hash) == (0, merkle.EMPTY_ROOT)
    tlog, key = _trusted_log_key(data_dir)
    assert tlog["baseUrl"] == server.url
    assert tlog["logId"] == {"keyId": base64.b64encode(key.key_id).decode()}


def test_tiles_and_entry_bundles_match_the_entries(server: Server, data_dir: Path) -> None:
    _append_out_of_process(data_dir)
    checkpoint = _checkpoint(server, data_dir)
    leaves = [merkle.leaf_hash(entry) for entry in ENTRIES]
    assert (checkpoint.size, checkpoint.root_hash) == (700, merkle.root_of(leaves))

    full = server.http.get("/tile/0/000")
    assert full.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert decode_tile(full.content, 256) == leaves[:256]
    partial = server.http.get("/tile/0/002.p/188")
    assert decode_tile(partial.content, 188) == leaves[512:]
    assert "immutable" not in partial.headers["cache-control"]
    level1 = server.http.get("/api/v2/tile/1/000.p/2")
    assert decode_tile(level1.content, 2) == [
        merkle.root_of(leaves[:256]),
        merkle.root_of(leaves[256:512]),
    ]
    bundle = server.http.get("/tile/entries/001")
    assert decode_entry_bundle(bundle.content, 256) == ENTRIES[256:512]
    older = server.http.get("/tile/entries/002.p/10")
    assert decode_entry_bundle(older.content, 10) == ENTRIES[512:522]


@pytest.mark.parametrize(
    "path",
    [
        "/tile/0/003",
        "/tile/0/002.p/189",
        "/tile/2/000.p/1",
        "/tile/entries/003",
        "/tile/entries/002",
    ],
)
def test_tiles_beyond_the_tree_are_not_found(server: Server, data_dir: Path, path: str) -> None:
    _append_out_of_process(data_dir)
    response = server.http.get(path)
    assert response.status_code == 404
    assert response.json()["code"] == 404 and "does not exist yet" in response.json()["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/tile/0/1234",
        "/tile/64/000",
        "/tile/0/000.p/256",
        "/tile/0/000.p/0",
        "/tile/00/000",
        "/tile/0/x1/000",
        "/tile/-1/000",
        "/tile/0/000.p/",
        "/tile/entries/000.p/x",
        "/tile/0/%2e%2e/000",
        "/tile/" + "x999/" * 200 + "000",
    ],
)
def test_malformed_tile_paths_are_refused_clearly(server: Server, path: str) -> None:
    response = server.http.get(path)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 400
    assert "tile" in response.json()["message"]


def test_restart_keeps_the_key_and_validity_start(data_dir: Path) -> None:
    first = Server(data_dir, "--dev")
    tlog, key = _trusted_log_key(data_dir)
    first.stop()
    second = Server(data_dir, "--dev")
    try:
        again, same_key = _trusted_log_key(data_dir)
        assert same_key == key
        assert again["publicKey"] == tlog["publicKey"]
        assert _checkpoint(second, data_dir).size == 0
    finally:
        second.stop()


def test_without_dev_mode_a_missing_key_is_a_clear_error(data_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lacre", "server", "--data-dir", str(data_dir), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "no log key at" in result.stderr and "--dev" in result.stderr


def test_serve_log_runs_the_log_service_alone(data_dir: Path) -> None:
    alone = Server(data_dir, "--dev", command=("serve", "log"))
    try:
        assert alone.http.get("/api/v1/log").json()["treeSize"] == 0
        assert alone.http.get("/checkpoint").status_code == 200
    finally:
        alone.stop()


def test_fsck_passes_on_a_data_dir_with_both_rekor_logs(server: Server, data_dir: Path) -> None:
    _append_out_of_process(data_dir)
    result = subprocess.run(
        [sys.executable, "-m", "lacre", "log", "fsck", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "log main: 700 entries" in result.stdout
    assert "log rekor-v1: 0 entries" in result.stdout
