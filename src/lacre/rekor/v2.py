"""The Rekor v2 personality: entries answered with an inclusion proof, no promise."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from lacre.rekor.ids import checkpoint_root
from lacre.rekor.kinds import canonicalize_v2, kind_of
from lacre.tlog import InclusionProof, TransparencyLog


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass(frozen=True)
class V2Entry:
    """One logged entry as a Rekor v2 ``TransparencyLogEntry``."""

    body: bytes
    log_id: bytes
    proof: InclusionProof
    checkpoint: bytes

    def to_json(self) -> dict[str, Any]:
        """The protobuf-JSON ``TransparencyLogEntry`` (64-bit integers as strings)."""
        kind, version = kind_of(self.body)
        root = checkpoint_root(self.checkpoint)
        return {
            "logIndex": str(self.proof.index),
            "logId": {"keyId": _b64(self.log_id)},
            "kindVersion": {"kind": kind, "version": version},
            "integratedTime": "0",
            "inclusionProof": {
                "logIndex": str(self.proof.index),
                "rootHash": _b64(root),
                "treeSize": str(self.proof.size),
                "hashes": [_b64(node) for node in self.proof.hashes],
                "checkpoint": {"envelope": self.checkpoint.decode()},
            },
            "canonicalizedBody": _b64(self.body),
        }


class RekorV2:
    """Rekor v2 over one transparency log (the server's main log)."""

    def __init__(self, log: TransparencyLog) -> None:
        """Serve ``log`` as the Rekor v2 log."""
        self.log = log
        self.log_id = log.note_signer.key_id

    async def create(self, request: object) -> tuple[V2Entry, bool]:
        """Check and log a CreateEntryRequest; return the entry and whether it is new."""
        canonical = canonicalize_v2(request)
        index, integrated = await self.log.append_async(canonical.body)
        proof = self.log.reader.inclusion_proof(index, integrated.size)
        entry = V2Entry(canonical.body, self.log_id, proof, integrated.checkpoint)
        return entry, integrated.new[0]
