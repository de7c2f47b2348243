"""Offline verification of a TUF metadata chain, from a trusted root to the targets.

Used where no network is available (an imported archive, the client's cache):
every signature, version link and hash is checked exactly as an online update
would; expiry is reported rather than refused, so that the caller can decide to
warn (offline use) or refuse.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tuf.api.exceptions import LengthOrHashMismatchError

from lacre.errors import InvalidInput, VerificationError
from lacre.trust.metadata import SignedFile, check_signed, parse
from lacre.trust.tufapi import MetaFile, Root, Snapshot, Targets, Timestamp


@dataclass(frozen=True, kw_only=True)
class ChainFiles:
    """The metadata of one repository state, as bytes."""

    roots: Sequence[bytes]
    timestamp: bytes
    snapshot: bytes
    targets: bytes


@dataclass(frozen=True, kw_only=True)
class VerifiedChain:
    """A verified chain: its newest root, its targets and the roles that have expired."""

    root: SignedFile[Root]
    targets: SignedFile[Targets]
    expired: tuple[str, ...]


def verify_chain(anchor: bytes, files: ChainFiles, now: dt.datetime) -> VerifiedChain:
    """Verify ``files`` starting from the trusted root ``anchor`` (see module docstring)."""
    root = _trusted_anchor(anchor)
    for raw in files.roots:
        candidate = parse(raw, Root, "root")
        if candidate.version <= root.version:
            continue
        root = _next_root(root, candidate)
    timestamp = parse(files.timestamp, Timestamp, "timestamp.json")
    check_signed(root.signed, "timestamp", timestamp, "timestamp.json")
    snapshot = parse(files.snapshot, Snapshot, "snapshot")
    _check_link(timestamp.signed.snapshot_meta, snapshot.raw, snapshot.version, "snapshot")
    check_signed(root.signed, "snapshot", snapshot, f"snapshot v{snapshot.version}")
    targets = parse(files.targets, Targets, "targets")
    listed = snapshot.signed.meta.get("targets.json")
    if listed is None:
        raise VerificationError(f"snapshot v{snapshot.version} does not list targets.json")
    _check_link(listed, targets.raw, targets.version, "targets")
    check_signed(root.signed, "targets", targets, f"targets v{targets.version}")
    expired = tuple(
        name
        for name, signed in (
            ("root", root.signed),
            ("timestamp", timestamp.signed),
            ("snapshot", snapshot.signed),
            ("targets", targets.signed),
        )
        if signed.is_expired(now)
    )
    return VerifiedChain(root=root, targets=targets, expired=expired)


def verify_target(targets: Targets, name: str, data: bytes) -> bytes:
    """Return ``data`` if it is the target ``name`` that ``targets`` lists, else raise."""
    info = targets.targets.get(name)
    if info is None:
        raise VerificationError(f"targets v{targets.version} does not list {name}")
    try:
        info.verify_length_and_hashes(data)
    except LengthOrHashMismatchError as exc:
        raise VerificationError(f"target {name} was tampered with: {exc}") from exc
    return data


def _trusted_anchor(anchor: bytes) -> SignedFile[Root]:
    try:
        root = parse(anchor, Root, "pinned root.json")
    except InvalidInput as exc:
        raise VerificationError(exc.message) from exc
    check_signed(root.signed, "root", root, f"pinned root v{root.version}")
    return root


def _next_root(trusted: SignedFile[Root], candidate: SignedFile[Root]) -> SignedFile[Root]:
    if candidate.version != trusted.version + 1:
        raise VerificationError(
            "root versions must follow one another",
            expected=trusted.version + 1,
            found=candidate.version,
        )
    name = f"root v{candidate.version}"
    check_signed(trusted.signed, "root", candidate, name)
    check_signed(candidate.signed, "root", candidate, name)
    return candidate


def _check_link(listed: MetaFile, raw: bytes, version: int, role: str) -> None:
    if listed.version != version:
        raise VerificationError(
            f"{role} version differs from the one listed (rollback or mix-up)",
            expected=listed.version,
            found=version,
        )
    try:
        listed.verify_length_and_hashes(raw)
    except LengthOrHashMismatchError as exc:
        raise VerificationError(f"{role} v{version} was tampered with: {exc}") from exc


def target_bytes(targets: Targets, files: Mapping[str, bytes]) -> dict[str, bytes]:
    """The verified targets among ``files`` (name -> bytes); every listed target must be there."""
    return {name: verify_target(targets, name, files.get(name, b"")) for name in targets.targets}
