"""The ``lacre`` entry point: which commands run without the cyclic garbage collector."""

from __future__ import annotations

import gc
import sys

import pytest

from lacre.cli import main as entry


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
    monkeypatch.setattr(sys, "argv", ["lacre", *arguments])
    try:
        entry.main()
    finally:
        gc.enable()
    assert seen == [collects]
