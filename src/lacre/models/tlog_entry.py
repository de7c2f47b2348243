"""``TransparencyLogEntry``: a log entry as a Sigstore bundle carries it.

The same shape serves Rekor v1 (with an inclusion promise and an integrated
time) and Rekor v2 (inclusion proof only, integrated time 0).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lacre.errors import InvalidInput
from lacre.jsontypes import MISSING, type_name
from lacre.models import protojson as pj
from lacre.record import record

REKOR_V2_KINDS = frozenset({("hashedrekord", "0.0.2"), ("dsse", "0.0.2")})
"""The (kind, version) pairs a Rekor v2 log writes."""
MAX_PROOF_HASHES = 64
"""An inclusion proof for a tree of fewer than 2**63 leaves has at most 63 hashes."""
HASH_SIZE = 32


@record(kw_only=True)
class KindVersion:
    """The Rekor entry kind and its schema version (``hashedrekord`` / ``0.0.1``)."""

    kind: str
    version: str


@record(kw_only=True)
class InclusionProof:
    """A Merkle inclusion proof, with the signed checkpoint it leads to (if any)."""

    log_index: int
    root_hash: bytes
    tree_size: int
    hashes: tuple[bytes, ...]
    checkpoint: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The protobuf-JSON ``InclusionProof`` object."""
        document: dict[str, Any] = {
            "logIndex": str(self.log_index),
            "rootHash": pj.b64(self.root_hash),
            "treeSize": str(self.tree_size),
            "hashes": [pj.b64(item) for item in self.hashes],
        }
        if self.checkpoint is not None:
            document["checkpoint"] = {"envelope": self.checkpoint}
        return document


@record(kw_only=True)
class TransparencyLogEntry:
    """One log entry: where it is, what it says and the evidence that it was logged."""

    log_index: int
    log_id: bytes
    kind_version: KindVersion
    integrated_time: int = 0
    inclusion_promise: bytes | None = None
    inclusion_proof: InclusionProof | None = None
    canonicalized_body: bytes = b""

    def to_json(self) -> dict[str, Any]:
        """The protobuf-JSON ``TransparencyLogEntry`` object (defaults omitted)."""
        document: dict[str, Any] = {
            "logIndex": str(self.log_index),
            "logId": {"keyId": pj.b64(self.log_id)},
            "kindVersion": {"kind": self.kind_version.kind, "version": self.kind_version.version},
        }
        if self.integrated_time:
            document["integratedTime"] = str(self.integrated_time)
        if self.inclusion_promise is not None:
            document["inclusionPromise"] = {"signedEntryTimestamp": pj.b64(self.inclusion_promise)}
        if self.inclusion_proof is not None:
            document["inclusionProof"] = self.inclusion_proof.to_json()
        if self.canonicalized_body:
            document["canonicalizedBody"] = pj.b64(self.canonicalized_body)
        return document

    @classmethod
    def from_json(cls, value: object, path: str) -> TransparencyLogEntry:
        """Parse a ``TransparencyLogEntry`` object found at ``path``."""
        document = pj.mapping(value, path)
        kind = pj.child(document, "kindVersion", path)
        promise = pj.optional_child(document, "inclusionPromise", path)
        proof = pj.optional_child(document, "inclusionProof", path)
        body = pj.get(document, "canonicalizedBody")
        return cls(
            log_index=_non_negative(document, "logIndex", path, default=0),
            log_id=pj.b64bytes(pj.child(document, "logId", path), "keyId", f"{path}.logId"),
            kind_version=KindVersion(
                kind=pj.text(kind, "kind", f"{path}.kindVersion"),
                version=pj.text(kind, "version", f"{path}.kindVersion"),
            ),
            integrated_time=_non_negative(document, "integratedTime", path, default=0),
            inclusion_promise=None
            if promise is None
            else pj.b64bytes(promise, "signedEntryTimestamp", f"{path}.inclusionPromise"),
            inclusion_proof=None if proof is None else _proof(proof, f"{path}.inclusionProof"),
            canonicalized_body=b""
            if body is MISSING
            else pj.b64bytes(document, "canonicalizedBody", path),
        )


def is_rekor_v2(entry: TransparencyLogEntry) -> bool:
    """Whether ``entry`` comes from a Rekor v2 log (judged by its kind and version)."""
    return (entry.kind_version.kind, entry.kind_version.version) in REKOR_V2_KINDS


def _non_negative(
    document: Mapping[str, Any], name: str, path: str, *, default: int | None = None
) -> int:
    number = pj.int64(document, name, path, default=default)
    if number < 0:
        raise InvalidInput(f"{path}.{name} is negative", expected=">= 0", found=number)
    return number


def _proof(document: Mapping[str, Any], path: str) -> InclusionProof:
    checkpoint = pj.optional_child(document, "checkpoint", path)
    hashes = pj.array(document, "hashes", path)
    if len(hashes) > MAX_PROOF_HASHES:
        raise InvalidInput(
            f"{path}.hashes has too many hashes",
            expected=f"<= {MAX_PROOF_HASHES}",
            found=len(hashes),
        )
    decoded = tuple(_hash(item, f"{path}.hashes[{n}]") for n, item in enumerate(hashes))
    return InclusionProof(
        log_index=_non_negative(document, "logIndex", path, default=0),
        root_hash=_hash(pj.get(document, "rootHash"), f"{path}.rootHash"),
        tree_size=_non_negative(document, "treeSize", path),
        hashes=decoded,
        checkpoint=None
        if checkpoint is None
        else pj.text(checkpoint, "envelope", f"{path}.checkpoint"),
    )


def _hash(value: object, path: str) -> bytes:
    if not isinstance(value, str):
        raise InvalidInput(path, expected="a base64 SHA-256 hash", found=type_name(value))
    digest = pj.decode_b64(value, path)
    if len(digest) != HASH_SIZE:
        raise InvalidInput(
            f"{path} has the wrong length", expected=f"{HASH_SIZE} bytes", found=len(digest)
        )
    return digest
