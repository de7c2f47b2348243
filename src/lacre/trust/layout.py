"""File names of a published TUF repository with consistent snapshots (spec §8.2).

```
<N>.root.json                 every root version
timestamp.json                never versioned
<V>.snapshot.json, <V>.targets.json
targets/<sha256>.<name>       each target, prefixed by its hash
```
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tuf.api.exceptions import LengthOrHashMismatchError

from lacre.errors import InvalidInput, NotFound, VerificationError
from lacre.trust.metadata import SignedFile, parse
from lacre.trust.tufapi import Root, Snapshot, Targets, Timestamp

TIMESTAMP = "timestamp.json"
TARGETS_DIR = "targets"
PATH_PATTERN = re.compile(
    r"(?:[1-9][0-9]{0,9}\.(?:root|snapshot|targets)\.json|timestamp\.json"
    r"|targets/[0-9a-f]{64}\.[A-Za-z0-9][A-Za-z0-9._-]{0,127})"
)
"""Every path a published repository may contain (and nothing else is ever served)."""
_ROOT = re.compile(r"([1-9][0-9]{0,9})\.root\.json")


def root_name(version: int) -> str:
    """File name of root version ``version``."""
    return f"{version}.root.json"


def snapshot_name(version: int) -> str:
    """File name of snapshot version ``version``."""
    return f"{version}.snapshot.json"


def targets_name(version: int) -> str:
    """File name of targets metadata version ``version``."""
    return f"{version}.targets.json"


def target_path(name: str, sha256_hex: str) -> str:
    """Path of the target file ``name`` whose SHA-256 is ``sha256_hex``."""
    return f"{TARGETS_DIR}/{sha256_hex}.{name}"


def is_repository_path(path: str) -> bool:
    """Whether ``path`` is a well-formed path of the published layout."""
    return PATH_PATTERN.fullmatch(path) is not None and ".." not in path


def root_versions(names: Iterable[str]) -> list[int]:
    """The root versions among file ``names``, ascending."""
    found = (_ROOT.fullmatch(name) for name in names)
    return sorted(int(match.group(1)) for match in found if match)


@dataclass(frozen=True, kw_only=True)
class Published:
    """The current state of a published repository, parsed from its files."""

    roots: tuple[SignedFile[Root], ...]
    timestamp: SignedFile[Timestamp]
    snapshot: SignedFile[Snapshot]
    targets: SignedFile[Targets]
    target_files: dict[str, bytes]


def load_published(files: Mapping[str, bytes]) -> Published:
    """Parse a published repository from its files (path -> bytes), following timestamp."""
    versions = root_versions(files)
    if not versions:
        raise NotFound("no N.root.json in the repository")
    if versions != list(range(1, versions[-1] + 1)):
        raise InvalidInput("root versions are not consecutive from 1", found=versions)
    roots = tuple(parse(files[root_name(v)], Root, root_name(v)) for v in versions)
    timestamp = parse(_get(files, TIMESTAMP), Timestamp, TIMESTAMP)
    name = snapshot_name(timestamp.signed.snapshot_meta.version)
    snapshot = parse(_get(files, name), Snapshot, name)
    targets_meta = snapshot.signed.meta.get("targets.json")
    if targets_meta is None:
        raise InvalidInput(f"{name} does not list targets.json")
    name = targets_name(targets_meta.version)
    targets = parse(_get(files, name), Targets, name)
    return Published(
        roots=roots,
        timestamp=timestamp,
        snapshot=snapshot,
        targets=targets,
        target_files=_target_files(files, targets.signed),
    )


def _target_files(files: Mapping[str, bytes], targets: Targets) -> dict[str, bytes]:
    found = {}
    for name, info in targets.targets.items():
        path = target_path(name, info.hashes.get("sha256", ""))
        data = _get(files, path)
        try:
            info.verify_length_and_hashes(data)
        except LengthOrHashMismatchError as exc:
            raise VerificationError(f"target {path} does not match its targets entry") from exc
        found[name] = data
    return found


def _get(files: Mapping[str, bytes], name: str) -> bytes:
    data = files.get(name)
    if data is None:
        raise NotFound(f"the repository has no {name}")
    return data
