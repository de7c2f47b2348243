from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from lacre.cli.trust import trust
from tests.unit.trust.helpers import URL, signing_config_bytes, trusted_root_bytes


def test_init_publish_export_import_fetch_offline(tmp_path: Path) -> None:
    runner = CliRunner()
    (tmp_path / "tr.json").write_bytes(trusted_root_bytes())
    (tmp_path / "sc.json").write_bytes(signing_config_bytes())
    (tmp_path / "pass").write_text("hunter2\n")
    repo, offline = str(tmp_path / "repo"), str(tmp_path / "offline")
    result = runner.invoke(
        trust,
        [
            "init",
            "--repo",
            repo,
            "--offline-keys",
            offline,
            "--root-keys",
            "2",
            "--threshold",
            "2",
            "--key-type",
            "ed25519",
            "--passphrase-file",
            str(tmp_path / "pass"),
            "--trusted-root",
            str(tmp_path / "tr.json"),
            "--signing-config",
            str(tmp_path / "sc.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    (tmp_path / "tr2.json").write_bytes(trusted_root_bytes("2"))
    result = runner.invoke(
        trust, ["publish", "--repo", repo, "--trusted-root", str(tmp_path / "tr2.json")]
    )
    assert result.exit_code == 0 and "published" in result.output
    assert "nothing due" in runner.invoke(trust, ["refresh", "--repo", repo]).output
    out = str(tmp_path / "trust.tgz")
    assert runner.invoke(trust, ["export", "--repo", repo, "--out", out]).exit_code == 0
    root = str(tmp_path / "repo" / "published" / "1.root.json")
    cache = str(tmp_path / "cache")
    result = runner.invoke(trust, ["import", out, "--url", URL, "--root", root, "--cache", cache])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        trust, ["fetch", URL, "--offline", "--cache", cache, "--out-dir", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    assert "offline" in result.output
    assert (tmp_path / "o" / "trusted_root.json").read_bytes() == trusted_root_bytes("2")


def test_errors_are_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("[]")
    result = CliRunner().invoke(
        trust,
        [
            "init",
            "--repo",
            str(tmp_path / "r"),
            "--offline-keys",
            str(tmp_path / "k"),
            "--trusted-root",
            str(tmp_path / "bad.json"),
        ],
    )
    assert result.exit_code == 1
    assert "error: InvalidInput" in result.output
    result = CliRunner().invoke(trust, ["refresh", "--repo", str(tmp_path / "none")])
    assert result.exit_code == 1 and "error:" in result.output


def test_sign_root_renews_and_grows_the_root(tmp_path: Path) -> None:
    runner = CliRunner()
    repo, keys = str(tmp_path / "repo"), tmp_path / "offline"
    made = runner.invoke(
        trust, ["init", "--repo", repo, "--offline-keys", str(keys), "--root-keys", "1"]
    )
    assert made.exit_code == 0, made.output
    signed = runner.invoke(
        trust,
        ["sign-root", "--repo", repo, "--offline-keys", str(keys), "--add-keys", "2",
         "--threshold", "2"],
    )  # fmt: skip
    assert signed.exit_code == 0, signed.output
    assert "published root version 2" in signed.output
    assert len(list(keys.glob("root-*.pem"))) == 3
    root = json.loads((tmp_path / "repo" / "published" / "2.root.json").read_text())
    assert root["signed"]["roles"]["root"]["threshold"] == 2
    assert len(root["signed"]["roles"]["root"]["keyids"]) == 3
    missing = runner.invoke(
        trust, ["sign-root", "--repo", repo, "--offline-keys", str(tmp_path / "elsewhere")]
    )
    assert missing.exit_code == 1 and "no root-*.pem keys" in missing.output
