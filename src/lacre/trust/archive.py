"""Air gap: the whole repository state in one ``tar.gz``, and a client cache made from it.

The archive holds the published layout (every root version, the current
timestamp, snapshot and targets metadata, and the target files). Importing it
verifies the chain from a pinned root (or, failing one, the archive's first
root) and sets up the client cache with no network.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import tarfile
from collections.abc import Mapping
from pathlib import Path

from lacre.errors import InvalidInput, StorageError, TooLarge
from lacre.trust.cache import ClientCache
from lacre.trust.chain import ChainFiles, target_bytes, verify_chain
from lacre.trust.client import TrustMaterial
from lacre.trust.layout import TIMESTAMP, is_repository_path, load_published, root_name
from lacre.trust.metadata import parse
from lacre.trust.targets import SIGNING_CONFIG, TRUSTED_ROOT
from lacre.trust.tufapi import Root

logger = logging.getLogger(__name__)

MAX_MEMBER = 2 * 1024 * 1024
MAX_MEMBERS = 1000
MAX_TOTAL = 32 * 1024 * 1024


def export(files: Mapping[str, bytes], out_file: Path) -> None:
    """Write ``files`` (a published layout, see ``TufRepository.files()``) as a tar.gz."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size = len(files[name])
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(files[name]))
    try:
        out_file.write_bytes(buffer.getvalue())
    except OSError as exc:
        raise StorageError(f"cannot write {out_file}: {exc.strerror}") from exc


def read_archive(archive: Path) -> dict[str, bytes]:
    """The files of an exported archive, refusing anything but regular layout files."""
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            return _members(tar)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise InvalidInput(f"{archive} is not a readable tar.gz archive: {exc}") from exc


def import_(
    archive: Path, dest: ClientCache, *, root: bytes | None = None, now: dt.datetime | None = None
) -> TrustMaterial:
    """Set up the client cache ``dest`` from ``archive``, verifying it from ``root``."""
    now = now or dt.datetime.now(dt.UTC)
    files = read_archive(archive)
    published = load_published(files)
    notes = []
    if root is None:
        root = files[root_name(1)]
        notes.append("import: no pinned root given; trusting the archive's first root")
    chain = verify_chain(
        root,
        ChainFiles(
            roots=[signed.raw for signed in published.roots],
            timestamp=published.timestamp.raw,
            snapshot=published.snapshot.raw,
            targets=published.targets.raw,
        ),
        now,
    )
    notes += [f"import: {role} metadata in the archive has expired" for role in chain.expired]
    targets = target_bytes(chain.targets.signed, published.target_files)
    anchor = parse(root, Root, "pinned root").version
    dest.reset()
    dest.store(
        {signed.version: signed.raw for signed in published.roots if signed.version >= anchor},
        {
            "timestamp": published.timestamp.raw,
            "snapshot": published.snapshot.raw,
            "targets": published.targets.raw,
        },
        targets,
    )
    for note in notes:
        logger.warning(note)
    return TrustMaterial(
        trusted_root=targets[TRUSTED_ROOT],
        signing_config=targets.get(SIGNING_CONFIG),
        root_version=chain.root.version,
        warnings=tuple(notes),
    )


def _members(tar: tarfile.TarFile) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    total = 0
    for count, member in enumerate(tar, start=1):
        if count > MAX_MEMBERS:
            raise TooLarge("archive has too many members", expected=f"at most {MAX_MEMBERS}")
        if member.isdir():
            continue
        _check_member(member)
        total += member.size
        if total > MAX_TOTAL:
            raise TooLarge("archive is too large", expected=f"at most {MAX_TOTAL} bytes")
        handle = tar.extractfile(member)
        assert handle is not None  # regular files always have content
        files[member.name] = handle.read(MAX_MEMBER + 1)
    if TIMESTAMP not in files:
        raise InvalidInput("archive holds no TUF repository", expected=TIMESTAMP, found="none")
    return files


def _check_member(member: tarfile.TarInfo) -> None:
    if not member.isreg():
        raise InvalidInput("archive members must be regular files", found=repr(member.name))
    if not is_repository_path(member.name):
        raise InvalidInput("unexpected file in archive", found=repr(member.name[:200]))
    if member.size > MAX_MEMBER:
        raise TooLarge(
            f"archive member {member.name} is too large",
            expected=f"at most {MAX_MEMBER} bytes",
            found=f"{member.size} bytes",
        )
