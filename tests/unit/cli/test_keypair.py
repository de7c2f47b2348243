"""generate-key-pair: the password from LACRE_PASSWORD or a terminal, never a silent default."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from lacre.cli.main import cli


def _generate(tmp_path: Path, password: str | None) -> tuple[int, str]:
    prefix = str(tmp_path / "release")
    result = CliRunner().invoke(
        cli, ["generate-key-pair", "--output-prefix", prefix], env={"LACRE_PASSWORD": password}
    )
    return result.exit_code, result.stderr


def test_a_password_encrypts_the_key(tmp_path: Path) -> None:
    status, stderr = _generate(tmp_path, "correct horse")
    assert status == 0, stderr
    assert b"BEGIN ENCRYPTED PRIVATE KEY" in (tmp_path / "release.key").read_bytes()
    assert b"BEGIN PUBLIC KEY" in (tmp_path / "release.pub").read_bytes()
    assert "warning" not in stderr


def test_an_empty_password_writes_an_unencrypted_key_with_a_warning(tmp_path: Path) -> None:
    status, stderr = _generate(tmp_path, "")
    assert status == 0, stderr
    assert b"BEGIN PRIVATE KEY" in (tmp_path / "release.key").read_bytes()
    assert f"warning: an empty password: {tmp_path / 'release.key'} is not encrypted" in stderr


def test_without_a_terminal_or_the_variable_nothing_is_written(tmp_path: Path) -> None:
    args = ["generate-key-pair", "--output-prefix", str(tmp_path / "release")]
    result = CliRunner().invoke(cli, args, env={"LACRE_PASSWORD": None})  # stdin: no terminal
    assert result.exit_code == 1
    assert (
        "no password for the key: expected LACRE_PASSWORD set, or a terminal to ask on, "
        "found standard input is not a terminal"
    ) in result.stderr
    assert "Warning" not in result.stderr and "Aborted" not in result.stderr
    assert list(tmp_path.iterdir()) == []
