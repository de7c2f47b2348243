"""Files a command writes: checked before any work is done, written whole or not at all."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from lacre.errors import ConfigError


def check_writable(paths: Iterable[Path]) -> None:
    """Refuse paths that cannot be written, before signing uses up a certificate and log entry."""
    for path in paths:
        if path.is_dir():
            raise ConfigError(f"cannot write {path}", expected="a file path", found="a directory")
        parent = path.parent
        if not parent.is_dir():
            raise ConfigError(
                f"cannot write {path}", expected=f"an existing directory {parent}", found="none"
            )
        if not os.access(parent, os.W_OK):
            raise ConfigError(f"cannot write {path}: directory {parent} is not writable")


def write_output(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file beside it: never half-written."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_bytes(data)
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
