"""The ``lacre`` entry point: the garbage collector, and how verification commands end."""

from __future__ import annotations

import gc
import io
import sys
import warnings
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from lacre.cli import main as entry
from lacre.cli.conformance import cli as conformance_cli
from lacre.cli.main import cli
from lacre.cli.verifyopts import PREDICATE_TYPE_HELP
from lacre.sign.statement import PREDICATE_TYPES


@pytest.mark.parametrize(
    ("arguments", "collects"),
    [
        (["verify-blob", "a.txt", "--bundle", "a.sigstore.json"], False),
        (["sign-blob", "server"], False),
        (["--version"], False),
        ([], False),
        (["server", "--dev"], True),
        (["serve"], True),
        (["log", "fsck", "--data-dir", "d"], True),
    ],
)
def test_only_long_running_commands_keep_the_collector(
    monkeypatch: pytest.MonkeyPatch, arguments: list[str], collects: bool
) -> None:
    seen: list[bool] = []
    monkeypatch.setattr(entry, "cli", lambda: seen.append(gc.isenabled()))
    monkeypatch.setattr("os._exit", lambda status: None)
    monkeypatch.setattr(sys, "argv", ["lacre", *arguments])
    try:
        entry.main()
    finally:
        gc.enable()
    assert seen == [collects]


class _Ended(Exception):
    """Stands in for ``os._exit`` ending the process with ``status``."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _GoneReader(io.StringIO):
    """Standard output whose reader has gone away."""

    def flush(self) -> None:
        raise BrokenPipeError("reader went away")


def _quit(status: int) -> None:
    raise _Ended(status)


def _run(monkeypatch: pytest.MonkeyPatch, arguments: list[str], ending: SystemExit) -> None:
    def cli() -> None:
        print("printed", end="")
        raise ending

    monkeypatch.setattr(entry, "cli", cli)
    monkeypatch.setattr("os._exit", _quit)
    monkeypatch.setattr(sys, "argv", ["lacre", *arguments])
    try:
        entry.main()
    finally:
        gc.enable()


@pytest.mark.parametrize("command", ["verify-blob", "verify-attestation"])
@pytest.mark.parametrize(("code", "status"), [(None, 0), (0, 0), (1, 1), (2, 2)])
def test_verification_commands_flush_and_end_with_their_status(
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    code: int | None,
    status: int,
) -> None:
    flushed: list[str] = []
    monkeypatch.setattr(sys.stdout, "flush", lambda: flushed.append("stdout"))
    monkeypatch.setattr(sys.stderr, "flush", lambda: flushed.append("stderr"))
    with pytest.raises(_Ended) as ended:
        _run(monkeypatch, [command, "a.txt"], SystemExit(code))
    assert ended.value.status == status
    assert flushed == ["stdout", "stderr"]


@pytest.mark.parametrize("command", ["sign-blob", "server", "trust", "--help"])
def test_other_commands_end_through_the_interpreter(
    monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    with pytest.raises(SystemExit) as ended:
        _run(monkeypatch, [command], SystemExit(3))
    assert ended.value.code == 3


def test_an_exit_message_is_left_to_the_interpreter_to_print(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(SystemExit) as ended:
        _run(monkeypatch, ["verify-blob"], SystemExit("usage: lacre verify-blob FILE"))
    assert ended.value.code == "usage: lacre verify-blob FILE"


def test_a_running_thread_keeps_the_interpreter_teardown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("threading.active_count", lambda: 2)
    with pytest.raises(SystemExit) as ended:
        _run(monkeypatch, ["verify-blob"], SystemExit(1))
    assert ended.value.code == 1


def test_output_that_cannot_be_flushed_keeps_the_interpreter_exit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "stdout", _GoneReader())
    with pytest.raises(SystemExit) as ended:
        _run(monkeypatch, ["verify-blob"], SystemExit(0))
    assert ended.value.code == 0


def test_every_predicate_type_short_name_is_in_the_type_help() -> None:
    named = [name.strip() for name in PREDICATE_TYPE_HELP.split(",")[:-1]]
    assert named == list(PREDICATE_TYPES)


def _commands(command: click.Command, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    yield path
    if isinstance(command, click.Group):
        context = click.Context(command)
        for name in command.list_commands(context):
            found = command.get_command(context, name)
            assert found is not None
            yield from _commands(found, (*path, name))


@pytest.mark.parametrize("root", [cli, conformance_cli], ids=["lacre", "lacre-conformance"])
def test_every_help_renders_as_plain_text(root: click.Group) -> None:
    for path in _commands(root, ()):
        result = CliRunner().invoke(root, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        for markup in ("``", ":func:", ":class:", ":mod:"):
            assert markup not in result.output, (path, result.output)


@pytest.mark.parametrize(("options", "shown"), [([], False), (["default"], True)])
def test_python_warnings_are_not_shown_unless_asked_for(
    monkeypatch: pytest.MonkeyPatch, options: list[str], shown: bool
) -> None:
    def warn() -> None:
        warnings.warn("an oddly encoded certificate", UserWarning, stacklevel=1)

    monkeypatch.setattr(entry, "cli", warn)
    monkeypatch.setattr(sys, "argv", ["lacre", "log", "fsck"])
    monkeypatch.setattr(sys, "warnoptions", options)  # what python -W sets
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            entry.main()
        finally:
            gc.enable()
    assert ("an oddly encoded certificate" in [str(w.message) for w in caught]) is shown
