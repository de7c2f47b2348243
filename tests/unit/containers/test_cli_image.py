"""The ``lacre image`` commands: option handling and the file/image dispatch (no network)."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from lacre.cli.image import dispatching, image_group
from lacre.cli.main import cli


def _pair() -> tuple[click.Group, list[str]]:
    ran: list[str] = []

    @click.command("attest")
    @click.argument("files", nargs=-1, required=True)
    @click.option("--predicate")
    @click.option("--bundle")
    def files(files: tuple[str, ...], predicate: str | None, bundle: str | None) -> None:
        ran.append(f"files {' '.join(files)}")

    @click.command("attest")
    @click.argument("image")
    @click.option("--predicate")
    @click.option("--storage")
    def images(image: str, predicate: str | None, storage: str | None) -> None:
        ran.append(f"image {image}")

    group = click.Group()
    group.add_command(dispatching(files, images))
    return group, ran


def test_an_existing_file_goes_to_the_file_command(tmp_path: Path) -> None:
    group, ran = _pair()
    artifact, predicate = tmp_path / "a.bin", tmp_path / "p.json"
    artifact.write_bytes(b"x")
    predicate.write_text("{}")
    result = CliRunner().invoke(group, ["attest", "--predicate", str(predicate), str(artifact)])
    assert result.exit_code == 0, result.output
    assert ran == [f"files {artifact}"]


def test_an_image_reference_goes_to_the_image_command(tmp_path: Path) -> None:
    group, ran = _pair()
    predicate = tmp_path / "p.json"
    predicate.write_text("{}")
    args = ["attest", "--predicate", str(predicate), "registry.test/app:v1", "--storage", "both"]
    result = CliRunner().invoke(group, args)
    assert result.exit_code == 0, result.output
    assert ran == ["image registry.test/app:v1"]


def test_options_only_files_take_go_to_the_file_command(tmp_path: Path) -> None:
    group, ran = _pair()
    result = CliRunner().invoke(group, ["attest", "--bundle", "out.json", "one", "two"])
    assert result.exit_code == 0, result.output
    assert ran == ["files one two"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["verify", "r.test/a:v1"], "missing --certificate-identity"),
        (["verify", "r.test/a:v1", "--certificate-identity", "a@b"], "missing --certificate-oidc"),
        (
            ["sign", "r.test/a:v1", "--rekor-version", "2"],
            "needs a Rekor v1 log, not --rekor-version 2",
        ),
        (["sign", "r.test/a:v1", "-a", "novalue"], "KEY=VALUE"),
        (["sign", "r.test/a:v1", "--storage", "cloud"], "Invalid value for '--storage'"),
    ],
)
def test_bad_options_are_usage_errors(args: list[str], message: str) -> None:
    result = CliRunner().invoke(image_group, args)
    assert result.exit_code == 2
    assert message in result.output


def test_key_excludes_identity_flags(tmp_path: Path) -> None:
    key = tmp_path / "k.pub"
    key.write_text("not used")
    args = ["verify", "r.test/a:v1", "--key", str(key), "--certificate-identity", "a@b"]
    result = CliRunner().invoke(image_group, args)
    assert result.exit_code == 2
    assert "--key excludes --certificate-identity" in result.output


def test_a_bad_image_reference_is_a_clear_refusal() -> None:
    args = ["tree", "Not A Reference"]
    result = CliRunner().invoke(image_group, args)
    assert result.exit_code == 1
    assert "invalid image reference" in result.output


def test_help_without_arguments_describes_both_forms(tmp_path: Path) -> None:
    group, ran = _pair()
    result = CliRunner().invoke(group, ["attest", "--help"])
    assert result.exit_code == 0
    assert "lacre image attest --help" in result.output and "FILE --help" in result.output
    artifact = tmp_path / "a.bin"
    artifact.write_bytes(b"x")
    result = CliRunner().invoke(group, ["attest", str(artifact), "--help"])
    assert "[OPTIONS] [FILES]..." in result.output or "FILES..." in result.output
    assert ran == []


@pytest.mark.parametrize("command", ["attest", "verify-attestation"])
def test_the_help_of_both_forms_is_laid_out_as_plain_paragraphs(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0, result.output
    description = result.output.split("\nOptions:\n")[0]
    paragraphs = description.split("\n\n")[1:]  # after the usage line
    assert len(paragraphs) >= 3  # the image form, the file form, where each one's options are
    for paragraph in paragraphs:
        lines = paragraph.splitlines()
        assert all(line.startswith("  ") and line[2] != " " for line in lines), paragraph
        assert all("   " not in line.strip() for line in lines), paragraph


@pytest.mark.parametrize(
    ("word", "hint"),
    [("a.txt", "docker.io/library/a.txt"), ("build/a.txt", "docker.io/build/a.txt")],
)
def test_a_missing_file_is_not_taken_for_a_docker_hub_image(
    tmp_path: Path, word: str, hint: str
) -> None:
    group, ran = _pair()
    predicate = tmp_path / "p.json"
    predicate.write_text("{}")
    result = CliRunner().invoke(group, ["attest", "--predicate", str(predicate), word])
    assert result.exit_code == 2
    assert f"no file named {word!r}; an image here is named with its registry ({hint}" in (
        result.output
    )
    assert ran == []


@pytest.mark.parametrize("image", ["localhost/app:v1", "127.0.0.1:5000/app", "ghcr.io/o/app"])
def test_an_image_with_its_registry_goes_to_the_image_command(tmp_path: Path, image: str) -> None:
    group, ran = _pair()
    predicate = tmp_path / "p.json"
    predicate.write_text("{}")
    result = CliRunner().invoke(group, ["attest", "--predicate", str(predicate), image])
    assert result.exit_code == 0, result.output
    assert ran == [f"image {image}"]
