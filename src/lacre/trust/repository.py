"""The instance's TUF repository: ceremony, publishing, refresh and root rotation.

Everything here is pure: operations change the in-memory repository and
:meth:`TufRepository.files` returns the published layout (see
:mod:`lacre.trust.layout`); :mod:`lacre.trust.workspace` writes it to disk.

Root keys are offline and only passed to :meth:`TufRepository.create` and
:meth:`TufRepository.rotate_root`. The targets, snapshot and timestamp keys are
online (:class:`OnlineSigners`) so that the server can re-sign expiring
metadata and publish a new trusted root unattended.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from lacre.errors import ConfigError
from lacre.keys import PublicKey, Signer
from lacre.trust.layout import (
    TIMESTAMP,
    Published,
    root_name,
    snapshot_name,
    target_path,
    targets_name,
)
from lacre.trust.metadata import (
    ONLINE_ROLES,
    SPEC_VERSION,
    Expiries,
    SignedFile,
    expiry,
    sign,
    snapshot_metadata,
    targets_metadata,
    timestamp_metadata,
)
from lacre.trust.rootkeys import check_online_signers, rotated_root, signed_root
from lacre.trust.targets import check_targets
from lacre.trust.tufapi import Metadata, Root, Snapshot, Targets, Timestamp
from lacre.trust.tufkeys import TufSigner, tuf_key

REFRESH_FRACTION = 0.5
"""A role is re-signed once less than this fraction of its lifetime remains."""


@dataclass(frozen=True, kw_only=True)
class OnlineSigners:
    """The keys the server holds: targets, snapshot and timestamp."""

    targets: Signer
    snapshot: Signer
    timestamp: Signer

    def of(self, role: str) -> TufSigner:
        """The TUF signer of ``role``."""
        signer: Signer = getattr(self, role)
        return TufSigner(signer)


@dataclass(kw_only=True)
class TufRepository:
    """A TUF repository with consistent snapshots holding the Sigstore targets."""

    roots: list[SignedFile[Root]]
    targets: SignedFile[Targets]
    snapshot: SignedFile[Snapshot]
    timestamp: SignedFile[Timestamp]
    target_files: dict[str, bytes]
    signers: OnlineSigners | None = None
    expiries: Expiries = field(default_factory=Expiries)

    def __post_init__(self) -> None:
        """Check that the online signers are the ones the current root names."""
        if self.signers is not None:
            check_online_signers(self.root.signed, self.signers)

    @classmethod
    def create(
        cls,
        *,
        root_signers: Sequence[Signer],
        threshold: int,
        signers: OnlineSigners,
        targets: Mapping[str, bytes],
        now: dt.datetime,
        expiries: Expiries | None = None,
    ) -> TufRepository:
        """The root ceremony: root v1 signed by every root key, then the online roles."""
        expiries = expiries or Expiries()
        root = Root(
            version=1,
            spec_version=SPEC_VERSION,
            expires=expiry(now, expiries.root),
            consistent_snapshot=True,
        )
        for signer in root_signers:
            root.add_key(tuf_key(signer.public_key), "root")
        for role in ONLINE_ROLES:
            root.add_key(signers.of(role).public_key, role)
        first = signed_root(root, threshold, root_signers, previous=None)
        repository = cls._empty(first, signers, expiries)
        repository._sign_targets(check_targets(targets), now, version=1)
        return repository

    @classmethod
    def _empty(
        cls, root: SignedFile[Root], signers: OnlineSigners, expiries: Expiries
    ) -> TufRepository:
        placeholder = SignedFile(Metadata(Targets()), b"")
        return cls(
            roots=[root],
            targets=placeholder,
            snapshot=SignedFile(Metadata(Snapshot()), b""),
            timestamp=SignedFile(Metadata(Timestamp()), b""),
            target_files={},
            signers=signers,
            expiries=expiries,
        )

    @classmethod
    def from_published(
        cls,
        published: Published,
        signers: OnlineSigners | None = None,
        expiries: Expiries | None = None,
    ) -> TufRepository:
        """A repository continuing from its published files."""
        return cls(
            roots=list(published.roots),
            targets=published.targets,
            snapshot=published.snapshot,
            timestamp=published.timestamp,
            target_files=dict(published.target_files),
            signers=signers,
            expiries=expiries or Expiries(),
        )

    @property
    def root(self) -> SignedFile[Root]:
        """The current (newest) root."""
        return self.roots[-1]

    def files(self) -> dict[str, bytes]:
        """The published layout: every root, the current metadata and target files."""
        files = {
            target_path(name, info.hashes["sha256"]): self.target_files[name]
            for name, info in self.targets.signed.targets.items()
        }
        files.update({root_name(root.version): root.raw for root in self.roots})
        files[targets_name(self.targets.version)] = self.targets.raw
        files[snapshot_name(self.snapshot.version)] = self.snapshot.raw
        files[TIMESTAMP] = self.timestamp.raw
        return files

    def publish(self, files: Mapping[str, bytes], now: dt.datetime) -> bool:
        """Publish new or changed targets (others are kept); False if nothing changed."""
        merged = {**self.target_files, **check_targets(files)}
        if merged == self.target_files:
            return False
        self._sign_targets(merged, now, version=self.targets.version + 1)
        return True

    def due(self, now: dt.datetime) -> tuple[str, ...]:
        """The online roles whose metadata should be re-signed at ``now``."""
        expires = {
            "targets": self.targets.signed.expires,
            "snapshot": self.snapshot.signed.expires,
            "timestamp": self.timestamp.signed.expires,
        }
        return tuple(
            role
            for role in ONLINE_ROLES
            if expires[role] - now <= self.expiries.of(role) * REFRESH_FRACTION
        )

    def refresh(self, now: dt.datetime) -> tuple[str, ...]:
        """Re-sign what is due (and what depends on it); return the roles re-signed.

        Cheap when nothing is due: three date comparisons, no signing.
        """
        due = self.due(now)
        if "targets" in due:
            self._sign_targets(self.target_files, now, version=self.targets.version + 1)
            return ONLINE_ROLES
        if "snapshot" in due:
            self._sign_snapshot(now)
            return ("snapshot", "timestamp")
        if "timestamp" in due:
            self._sign_timestamp(now)
            return ("timestamp",)
        return ()

    def rotate_root(
        self,
        signers: Sequence[Signer],
        *,
        now: dt.datetime,
        add: Iterable[PublicKey] = (),
        remove: Iterable[PublicKey] = (),
        threshold: int | None = None,
        online: OnlineSigners | None = None,
    ) -> SignedFile[Root]:
        """Publish root version N+1 with changed root keys, threshold or online keys.

        ``signers`` are the root keys at hand; the new root must carry a threshold
        of the old root's keys and one of its own, or VerificationError is raised
        and nothing changes. With ``online`` the online roles move to new keys and
        are re-signed with them.
        """
        new_root = rotated_root(
            self.root,
            signers,
            now=now,
            lifetime=self.expiries.root,
            add=add,
            remove=remove,
            threshold=threshold,
            online=online,
        )
        self.roots.append(new_root)
        if online is not None:
            self.signers = online
            self._sign_targets(self.target_files, now, version=self.targets.version + 1)
        return new_root

    def _online(self, role: str) -> TufSigner:
        if self.signers is None:
            raise ConfigError(f"the {role} key is needed to re-sign {role} metadata")
        return self.signers.of(role)

    def _sign_targets(self, files: Mapping[str, bytes], now: dt.datetime, version: int) -> None:
        unsigned = targets_metadata(files, version, expiry(now, self.expiries.targets))
        self.targets = sign(unsigned, [self._online("targets")])
        self.target_files = dict(files)
        self._sign_snapshot(now)

    def _sign_snapshot(self, now: dt.datetime) -> None:
        version = self.snapshot.version + 1 if self.snapshot.raw else 1
        unsigned = snapshot_metadata(self.targets, version, expiry(now, self.expiries.snapshot))
        self.snapshot = sign(unsigned, [self._online("snapshot")])
        self._sign_timestamp(now)

    def _sign_timestamp(self, now: dt.datetime) -> None:
        version = self.timestamp.version + 1 if self.timestamp.raw else 1
        unsigned = timestamp_metadata(self.snapshot, version, expiry(now, self.expiries.timestamp))
        self.timestamp = sign(unsigned, [self._online("timestamp")])
