"""Running Python command-line tools (lacre, sigstore-python) as subprocesses in tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TIMEOUT_S = 120


def python_module(
    *args: str, home: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m ARGS``; with ``home``, the tool's data and cache live under it.

    ``COLUMNS`` is wide so that a log line is never wrapped across lines.
    """
    environment = {**os.environ, "COLUMNS": "500", **(env or {})}
    if home is not None:
        environment["XDG_DATA_HOME"] = str(home / "data")
        environment["XDG_CACHE_HOME"] = str(home / "cache")
    return subprocess.run(
        [sys.executable, "-m", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env=environment,
    )


def sigstore_python(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """sigstore-python's CLI with its data and cache under ``home``."""
    return python_module("sigstore", *args, home=home)
