"""The client's cache for one TUF repository, laid out as python-tuf's ngclient keeps it.

```
<base>/<url, percent-encoded>/metadata/root_history/<N>.root.json
<base>/<url, percent-encoded>/metadata/root.json -> root_history/<newest>.root.json
<base>/<url, percent-encoded>/metadata/{timestamp,snapshot,targets}.json
<base>/<url, percent-encoded>/targets/<target name>
```
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from lacre.errors import NotFound, StorageError

if TYPE_CHECKING:
    from lacre.trust.chain import ChainFiles

ROOT_HISTORY = "root_history"


def normalized_url(url: str) -> str:
    """``url`` without trailing slashes (how the cache keys repositories)."""
    return url.rstrip("/")


@dataclass(frozen=True)
class ClientCache:
    """The cache directory of one repository."""

    path: Path

    @classmethod
    def for_url(cls, base: Path, url: str) -> ClientCache:
        """The cache of the repository at ``url`` under ``base``."""
        return cls(base / quote(normalized_url(url), safe=""))

    @property
    def metadata_dir(self) -> Path:
        """Where ngclient keeps the trusted metadata."""
        return self.path / "metadata"

    @property
    def targets_dir(self) -> Path:
        """Where downloaded targets are kept."""
        return self.path / "targets"

    def is_bootstrapped(self) -> bool:
        """Whether a trusted root has been stored for this repository."""
        return (self.metadata_dir / "root.json").exists()

    def reset(self) -> None:
        """Forget everything cached for this repository."""
        shutil.rmtree(self.path, ignore_errors=True)

    def root_version(self) -> int:
        """The newest cached root version (0 when nothing is cached)."""
        return max(self._root_versions(), default=0)

    def roots(self) -> list[bytes]:
        """Every cached root version, oldest first."""
        history = self.metadata_dir / ROOT_HISTORY
        return [_read(history / f"{version}.root.json") for version in self._root_versions()]

    def _root_versions(self) -> list[int]:
        from lacre.trust.layout import root_versions  # it loads python-tuf

        history = self.metadata_dir / ROOT_HISTORY
        names = [path.name for path in history.glob("*.root.json")] if history.is_dir() else []
        return root_versions(names)

    def chain(self) -> ChainFiles:
        """The cached metadata chain (roots, timestamp, snapshot, targets)."""
        from lacre.trust.chain import ChainFiles

        return ChainFiles(
            roots=self.roots(),
            timestamp=_read(self.metadata_dir / "timestamp.json"),
            snapshot=_read(self.metadata_dir / "snapshot.json"),
            targets=_read(self.metadata_dir / "targets.json"),
        )

    def target(self, name: str) -> bytes:
        """A cached target file."""
        return _read(self.targets_dir / quote(name, safe=""))

    def store(
        self,
        roots: Mapping[int, bytes],
        metadata: Mapping[str, bytes],
        targets: Mapping[str, bytes],
    ) -> None:
        """Write roots, role metadata (``timestamp`` …) and targets as ngclient would."""
        history = self.metadata_dir / ROOT_HISTORY
        for version, raw in roots.items():
            _write(history / f"{version}.root.json", raw)
        for role, raw in metadata.items():
            _write(self.metadata_dir / f"{role}.json", raw)
        for name, data in targets.items():
            _write(self.targets_dir / quote(name, safe=""), data)
        link = self.metadata_dir / "root.json"
        with contextlib.suppress(FileNotFoundError):
            link.unlink()
        os.symlink(f"{ROOT_HISTORY}/{max(roots)}.root.json", link)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise NotFound(f"the trust cache has no {path.name} (bootstrap or update first)") from exc
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror}") from exc


def _write(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        raise StorageError(f"cannot write {path}: {exc.strerror}") from exc
