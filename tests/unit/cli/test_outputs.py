"""Output files: refused before any signing work, written whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from lacre.cli.main import cli
from lacre.cli.outputs import check_writable, write_output
from lacre.errors import ConfigError


def test_a_directory_or_a_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="expected a file path, found a directory"):
        check_writable([tmp_path])
    with pytest.raises(ConfigError, match=f"expected an existing directory {tmp_path / 'no'}"):
        check_writable([tmp_path / "no" / "x.json"])
    check_writable([tmp_path / "x.json"])


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    target.mkdir()  # replacing a directory by a file fails
    with pytest.raises(ConfigError, match=f"cannot write {target}"):
        write_output(target, b"{}")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["x.json"]
    write_output(tmp_path / "y.json", b"{}")
    assert (tmp_path / "y.json").read_bytes() == b"{}"


@pytest.mark.parametrize(
    "command",
    [
        ["sign-blob"],
        ["attest", "--predicate", "{artifact}", "--type", "custom"],
    ],
    ids=["sign-blob", "attest"],
)
def test_signing_commands_refuse_an_unwritable_bundle_before_anything_else(
    tmp_path: Path, command: list[str]
) -> None:
    artifact = tmp_path / "a.txt"
    artifact.write_text("{}")
    unreadable_trust = tmp_path / "trust.json"
    unreadable_trust.write_text("not even JSON")  # never read: the path check comes first
    args = [part.format(artifact=artifact) for part in command]
    args += ["--trust-config", str(unreadable_trust), "--identity-token", "x.y.z"]
    args += ["--bundle", str(tmp_path / "missing" / "out.json"), str(artifact)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    assert "error: ConfigError: cannot write" in result.stderr
    assert "Traceback" not in result.output
