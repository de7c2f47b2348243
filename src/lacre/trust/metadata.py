"""Pure builders of TUF metadata: the four top-level roles, signed and serialized.

Each signed file is kept with the exact bytes that were published, because the
hashes other metadata records are over those bytes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from tuf.api.exceptions import UnsignedMetadataError
from tuf.api.serialization import DeserializationError
from tuf.api.serialization.json import JSONSerializer

from lacre.errors import InvalidInput, VerificationError
from lacre.trust.tufapi import (
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from lacre.trust.tufkeys import TufSigner

T = TypeVar("T", Root, Timestamp, Snapshot, Targets)

SPEC_VERSION = "1.0.31"
ONLINE_ROLES = ("targets", "snapshot", "timestamp")
TOP_ROLES = ("root", *ONLINE_ROLES)
_SERIALIZER = JSONSerializer(compact=False)


@dataclass(frozen=True, kw_only=True)
class Expiries:
    """How long each role's metadata stays valid after it is signed."""

    root: dt.timedelta = dt.timedelta(days=365)
    targets: dt.timedelta = dt.timedelta(days=90)
    snapshot: dt.timedelta = dt.timedelta(days=7)
    timestamp: dt.timedelta = dt.timedelta(days=1)

    def __post_init__(self) -> None:
        """Refuse lifetimes that are not positive."""
        for role in TOP_ROLES:
            if self.of(role) <= dt.timedelta(0):
                raise InvalidInput(f"the {role} expiry must be positive", found=str(self.of(role)))

    def of(self, role: str) -> dt.timedelta:
        """The lifetime of ``role``'s metadata."""
        lifetime: dt.timedelta = getattr(self, role)
        return lifetime


@dataclass(frozen=True)
class SignedFile(Generic[T]):
    """A signed TUF metadata file: the parsed object and its exact published bytes."""

    metadata: Metadata[T]
    raw: bytes

    @property
    def signed(self) -> T:
        """The ``signed`` part of the metadata."""
        return self.metadata.signed

    @property
    def version(self) -> int:
        """The metadata version."""
        return self.metadata.signed.version


def expiry(now: dt.datetime, lifetime: dt.timedelta) -> dt.datetime:
    """``now + lifetime`` in UTC, truncated to whole seconds (TUF's date format)."""
    return (now.astimezone(dt.UTC) + lifetime).replace(microsecond=0)


def sign(metadata: Metadata[T], signers: Iterable[TufSigner]) -> SignedFile[T]:
    """Sign ``metadata`` with every one of ``signers`` (replacing old signatures)."""
    metadata.signatures.clear()
    for signer in signers:
        metadata.sign(signer, append=True)
    return SignedFile(metadata, metadata.to_bytes(_SERIALIZER))


def parse(raw: bytes, role: type[T], name: str) -> SignedFile[T]:
    """Parse ``raw`` as metadata of ``role``; raise InvalidInput naming ``name`` if it is not."""
    try:
        metadata = Metadata[T].from_bytes(raw)
    except DeserializationError as exc:
        raise InvalidInput(f"{name} is not valid TUF metadata: {exc}") from exc
    if not isinstance(metadata.signed, role):
        raise InvalidInput(
            f"{name} holds the wrong TUF role", expected=role.type, found=metadata.signed.type
        )
    return SignedFile(metadata, raw)


def check_signed(delegator: Root, role: str, signed: SignedFile[T], name: str) -> None:
    """Raise VerificationError unless ``signed`` carries ``delegator``'s threshold for ``role``."""
    try:
        delegator.verify_delegate(role, signed.metadata.signed_bytes, signed.metadata.signatures)
    except UnsignedMetadataError as exc:
        raise VerificationError(
            f"{name} is not signed by the {role} role of root v{delegator.version}: {exc}"
        ) from exc


def targets_metadata(
    files: Mapping[str, bytes], version: int, expires: dt.datetime
) -> Metadata[Targets]:
    """Unsigned targets metadata listing ``files`` by length and SHA-256."""
    entries = {
        name: TargetFile.from_data(name, data, ["sha256"]) for name, data in sorted(files.items())
    }
    return Metadata(
        Targets(version=version, spec_version=SPEC_VERSION, expires=expires, targets=entries)
    )


def snapshot_metadata(
    targets: SignedFile[Targets], version: int, expires: dt.datetime
) -> Metadata[Snapshot]:
    """Unsigned snapshot metadata naming ``targets``' version."""
    meta = {"targets.json": MetaFile(version=targets.version)}
    return Metadata(
        Snapshot(version=version, spec_version=SPEC_VERSION, expires=expires, meta=meta)
    )


def timestamp_metadata(
    snapshot: SignedFile[Snapshot], version: int, expires: dt.datetime
) -> Metadata[Timestamp]:
    """Unsigned timestamp metadata naming ``snapshot`` by version, length and SHA-256."""
    meta = MetaFile.from_data(snapshot.version, snapshot.raw, ["sha256"])
    return Metadata(
        Timestamp(version=version, spec_version=SPEC_VERSION, expires=expires, snapshot_meta=meta)
    )
