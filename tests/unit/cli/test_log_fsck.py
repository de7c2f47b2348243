import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

import lacre
from lacre.cli.main import cli
from lacre.keys import generate_signer
from lacre.tlog import TransparencyLog
from lacre.tlog.storage.sqlite import SqliteStore


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    store = SqliteStore(tmp_path / "lacre.db")
    log = TransparencyLog.open(store, name="main", origin="log.example", signer=generate_signer())
    log.append_many([f"entry {i}".encode() for i in range(600)])
    log.close()
    store.close()
    return tmp_path


def _fsck(data_dir: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["log", "fsck", "--data-dir", str(data_dir)])
    return result.exit_code, result.output


def _execute(data_dir: Path, statement: str) -> None:
    with sqlite3.connect(data_dir / "lacre.db") as conn:
        conn.execute(statement)


def test_a_consistent_log_passes(data_dir: Path) -> None:
    code, output = _fsck(data_dir)
    assert code == 0, output
    assert "log main: 600 entries" in output and output.rstrip().endswith("ok")


def test_a_changed_entry_is_found(data_dir: Path) -> None:
    _execute(data_dir, "UPDATE entries_1 SET data = x'00' WHERE idx = 300")
    code, output = _fsck(data_dir)
    assert code == 1
    assert "tile 0/1 differs" in output


def test_a_changed_tile_is_found(data_dir: Path) -> None:
    _execute(data_dir, "UPDATE tiles SET data = zeroblob(8192) WHERE level = 0 AND idx = 0")
    code, output = _fsck(data_dir)
    assert code == 1
    assert "tile 0/0 differs" in output


def test_a_missing_entry_is_found(data_dir: Path) -> None:
    _execute(data_dir, "DELETE FROM entries_1 WHERE idx >= 599")
    code, output = _fsck(data_dir)
    assert code == 1
    assert "entries missing: expected 600 entries, found 599" in output


def test_a_forged_checkpoint_is_found(data_dir: Path) -> None:
    forged = TransparencyLog.open(
        SqliteStore(data_dir / "other.db"),
        name="main",
        origin="log.example",
        signer=generate_signer(),
    )
    note = forged.reader.checkpoint()
    forged.close()
    with sqlite3.connect(data_dir / "lacre.db") as conn:
        conn.execute("UPDATE log_state SET checkpoint = ?", (note,))
    code, output = _fsck(data_dir)
    assert code == 1
    assert "latest checkpoint does not verify" in output


def test_fsck_needs_exactly_one_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["log", "fsck"])
    assert result.exit_code == 1
    assert "exactly one of --data-dir and --postgres" in result.output
    code, output = _fsck(tmp_path)
    assert code == 1
    assert "no database at" in output


def test_version_and_help() -> None:
    runner = CliRunner()
    assert lacre.__version__ in runner.invoke(cli, ["--version"]).output
    for command in ([], ["server"], ["log"], ["log", "fsck"]):
        result = runner.invoke(cli, [*command, "--help"])
        assert result.exit_code == 0
        assert "Usage:" in result.output


def test_serve_log_has_the_server_options() -> None:
    result = CliRunner().invoke(cli, ["serve", "log", "--help"])
    assert result.exit_code == 0
    for option in ("--data-dir", "--port", "--postgres", "--log-key", "--rekor-v1-key"):
        assert option in result.output
