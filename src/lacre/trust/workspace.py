"""A repository workspace on disk: the published tree and the online keys.

```
<workspace>/published/   the files clients fetch (serve this directory)
<workspace>/keys/        targets.pem, snapshot.pem, timestamp.pem (owner-only)
<workspace>/.lock        serializes writers (the server's refresh, the CLI)
```

Offline root keys live elsewhere (``root-1.pem``, ``root-2.pem`` … in a
directory the operator keeps offline, optionally encrypted).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lacre.errors import ConfigError, StorageError
from lacre.keys import KeyAlgorithm, PublicKey, Signer, SoftwareSigner, generate_signer, load_signer
from lacre.keys.uri import PassphraseSource, save_signer
from lacre.trust.layout import TIMESTAMP, is_repository_path, load_published
from lacre.trust.metadata import ONLINE_ROLES, Expiries
from lacre.trust.repository import OnlineSigners, TufRepository
from lacre.trust.tufkeys import TUF_ALGORITHMS

PUBLISHED = "published"
KEYS = "keys"


@dataclass(frozen=True, kw_only=True)
class Ceremony:
    """What the root ceremony needs: how many root keys, the threshold, the targets."""

    root_keys: int
    threshold: int
    targets: Mapping[str, bytes]
    algorithm: KeyAlgorithm = KeyAlgorithm.ECDSA_P256_SHA256
    passphrase: bytes | None = None


class Workspace:
    """A TUF repository kept in a directory, safe against concurrent writers."""

    def __init__(self, path: Path, expiries: Expiries | None = None) -> None:
        """A workspace rooted at ``path`` (not read until used)."""
        self.path = path
        self.expiries = expiries or Expiries()
        self._cached: TufRepository | None = None

    @property
    def published_dir(self) -> Path:
        """The directory to serve to clients."""
        return self.path / PUBLISHED

    @property
    def keys_dir(self) -> Path:
        """The directory of the online keys."""
        return self.path / KEYS

    def init(self, offline_keys: Path, ceremony: Ceremony, now: dt.datetime) -> TufRepository:
        """Run the root ceremony: write root keys to ``offline_keys``, publish version 1."""
        if ceremony.algorithm not in TUF_ALGORITHMS:
            raise ConfigError("unsupported TUF key type", found=ceremony.algorithm.value)
        if self.published_dir.exists() and any(self.published_dir.iterdir()):
            raise ConfigError(f"{self.published_dir} already holds a repository")
        with self._locked():
            roots = [generate_signer(ceremony.algorithm) for _ in range(ceremony.root_keys)]
            online = {role: generate_signer(ceremony.algorithm) for role in ONLINE_ROLES}
            repository = TufRepository.create(
                root_signers=roots,
                threshold=ceremony.threshold,
                signers=OnlineSigners(**online),
                targets=ceremony.targets,
                now=now,
                expiries=self.expiries,
            )
            _save_new_keys(offline_keys, _root_key_files(roots), ceremony.passphrase)
            _save_new_keys(self.keys_dir, {f"{r}.pem": s for r, s in online.items()}, None)
            self._write(repository)
        return repository

    def open(self) -> TufRepository:
        """The repository as published, with its online keys."""
        signers = OnlineSigners(
            **{role: load_signer(str(self.keys_dir / f"{role}.pem")) for role in ONLINE_ROLES}
        )
        return TufRepository.from_published(
            load_published(read_tree(self.published_dir)), signers, self.expiries
        )

    def publish(self, targets: Mapping[str, bytes], now: dt.datetime) -> bool:
        """Publish new or changed targets; False if they were already published."""
        with self._locked():
            repository = self.open()
            changed = repository.publish(targets, now)
            if changed:
                self._write(repository)
        return changed

    def refresh(self, now: dt.datetime) -> tuple[str, ...]:
        """Re-sign expiring online metadata; cheap (one small read) when nothing is due."""
        with self._locked():
            repository = self._current()
            roles = repository.refresh(now)
            if roles:
                self._write(repository)
        return roles

    def rotate_root(
        self,
        signers: Sequence[Signer],
        now: dt.datetime,
        *,
        add: Sequence[PublicKey] = (),
        remove: Sequence[PublicKey] = (),
        threshold: int | None = None,
        online: OnlineSigners | None = None,
    ) -> TufRepository:
        """Publish a new root version (see :meth:`TufRepository.rotate_root`)."""
        with self._locked():
            repository = self.open()
            repository.rotate_root(
                signers, now=now, add=add, remove=remove, threshold=threshold, online=online
            )
            if online is not None:
                _replace_online_keys(self.keys_dir, online)
            self._write(repository)
        return repository

    def _current(self) -> TufRepository:
        cached = self._cached
        on_disk = _read(self.published_dir / TIMESTAMP)
        if cached is None or cached.timestamp.raw != on_disk:
            cached = self._cached = self.open()
        return cached

    def _write(self, repository: TufRepository) -> None:
        write_tree(self.published_dir, repository.files())
        self._cached = repository

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / ".lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def load_root_signers(directory: Path, passphrase: PassphraseSource | None) -> list[Signer]:
    """The offline root keys (``root-*.pem``) in ``directory``."""
    paths = sorted(directory.glob("root-*.pem"))
    if not paths:
        raise ConfigError(f"no root-*.pem keys in {directory}")
    return [load_signer(str(path), passphrase) for path in paths]


def new_root_key_files(
    directory: Path, count: int, algorithm: KeyAlgorithm, passphrase: bytes | None
) -> list[SoftwareSigner]:
    """Generate ``count`` more root keys in ``directory``, numbered after the existing ones."""
    taken = len(list(directory.glob("root-*.pem")))
    signers = [generate_signer(algorithm) for _ in range(count)]
    _save_new_keys(directory, _root_key_files(signers, start=taken + 1), passphrase)
    return signers


def read_tree(directory: Path) -> dict[str, bytes]:
    """Every file of a published layout under ``directory`` (path -> bytes)."""
    if not directory.is_dir():
        raise ConfigError(f"no published repository at {directory}")
    files = {}
    for path in directory.rglob("*"):
        name = path.relative_to(directory).as_posix()
        if path.is_file() and not path.is_symlink() and is_repository_path(name):
            files[name] = path.read_bytes()
    return files


def write_tree(directory: Path, files: Mapping[str, bytes]) -> None:
    """Write ``files`` atomically, versioned files first and ``timestamp.json`` last.

    Versioned and hash-named files never change, so existing ones are kept.
    """
    ordered = sorted(files, key=lambda name: (name == TIMESTAMP, not name.startswith("targets/")))
    for name in ordered:
        target = directory / name
        if name != TIMESTAMP and target.exists():
            continue
        _atomic_write(target, files[name], 0o644)


def _root_key_files(signers: Sequence[SoftwareSigner], start: int = 1) -> dict[str, SoftwareSigner]:
    return {f"root-{start + index}.pem": signer for index, signer in enumerate(signers)}


def _save_new_keys(
    directory: Path, keys: Mapping[str, SoftwareSigner], passphrase: bytes | None
) -> None:
    existing = [name for name in keys if (directory / name).exists()]
    if existing:
        raise ConfigError(f"refusing to overwrite keys in {directory}", found=", ".join(existing))
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    for name, signer in keys.items():
        save_signer(signer, directory / name, passphrase)


def _replace_online_keys(directory: Path, online: OnlineSigners) -> None:
    for role in ONLINE_ROLES:
        signer = getattr(online, role)
        if not isinstance(signer, SoftwareSigner):
            raise ConfigError(f"the new {role} key must be a software key to be stored")
        save_signer(signer, directory / f"{role}.pem")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror}") from exc


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except OSError as exc:
        raise StorageError(f"cannot write {path}: {exc.strerror}") from exc
