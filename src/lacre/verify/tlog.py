"""Transparency-log evidence of one entry (checks F.1 to F.3).

The log is found in the trusted root by the entry's log ID. An inclusion
promise (SET) must verify with the log's key, valid at the integrated time.
An inclusion proof must lead from the entry body to the root hash of a
checkpoint signed by the log under its checkpoint name (the host of the
log's base URL); other signature lines (witnesses) are ignored.
"""

from __future__ import annotations

import datetime as dt
import hmac

from lacre.errors import InvalidInput, VerificationError
from lacre.keys import PublicKey
from lacre.models.protojson import b64
from lacre.models.tlog_entry import InclusionProof, TransparencyLogEntry, is_rekor_v2
from lacre.models.trust_reader import TrustedLog, TrustedRoot
from lacre.transparency.checkpoint import Checkpoint, open_checkpoint
from lacre.transparency.inclusion_promise import verify_inclusion_promise
from lacre.transparency.merkle import leaf_hash, verify_inclusion
from lacre.transparency.note import KeyNoteVerifier, SignedNote
from lacre.verify.anchors import TrustAnchors


def trusted_log(entry: TransparencyLogEntry, root: TrustedRoot) -> TrustedLog:
    """The trusted log that ``entry`` names; unknown logs fail (F.1)."""
    log = root.tlog(entry.log_id)
    if log is None:
        raise VerificationError(
            "log entry is from a transparency log the trusted root does not know",
            expected="one of " + ", ".join(b64(t.log_id) for t in root.tlogs),
            found=b64(entry.log_id),
        )
    return log


def verify_promise(entry: TransparencyLogEntry, log: TrustedLog) -> dt.datetime:
    """Check the entry's SET (F.2) and return its integrated time, now a verified time."""
    assert entry.inclusion_promise is not None
    if is_rekor_v2(entry) or entry.integrated_time == 0:
        raise VerificationError(
            "inclusion promise on an entry without an integrated time",
            expected="a Rekor v1 entry with integratedTime",
            found=f"{entry.kind_version.kind} {entry.kind_version.version}, "
            f"integratedTime {entry.integrated_time}",
        )
    when = dt.datetime.fromtimestamp(entry.integrated_time, dt.UTC)
    if not log.validity.contains(when):
        raise VerificationError(
            "integrated time is outside the log key's validity in the trusted root",
            expected=log.validity.describe(),
            found=when.isoformat(),
        )
    verify_inclusion_promise(
        _key(log),
        entry.inclusion_promise,
        body=entry.canonicalized_body,
        integrated_time=entry.integrated_time,
        log_id=entry.log_id,
        log_index=entry.log_index,
    )
    return when


def verify_proof(entry: TransparencyLogEntry, log: TrustedLog, anchors: TrustAnchors) -> None:
    """Check the entry's inclusion proof against its signed checkpoint (F.3).

    ``anchors`` (for the trusted root ``log`` is from) remembers checkpoints that verified.
    """
    proof = entry.inclusion_proof
    assert proof is not None
    if not entry.canonicalized_body:
        raise VerificationError(
            "log entry has no canonicalized body", expected="the entry body", found="none"
        )
    _check_index(entry, proof)
    root_hash = proof.root_hash
    if proof.checkpoint is not None:
        root_hash = _checkpoint(entry, proof, log, anchors).root_hash
    try:
        verify_inclusion(
            leaf_hash(entry.canonicalized_body),
            proof.log_index,
            proof.tree_size,
            proof.hashes,
            root_hash,
        )
    except InvalidInput as exc:
        if isinstance(exc, VerificationError):
            raise VerificationError(f"inclusion proof does not verify: {exc}") from exc
        raise VerificationError(f"inclusion proof is malformed: {exc}") from exc


def _check_index(entry: TransparencyLogEntry, proof: InclusionProof) -> None:
    """A Rekor v2 entry's index is its proof's: nothing else vouches for it.

    A Rekor v1 entry's index is signed by its SET and may differ from the proof's, which
    counts within the log's current shard.
    """
    if is_rekor_v2(entry) and entry.log_index != proof.log_index:
        raise VerificationError(
            "log entry index differs from its inclusion proof's",
            expected=proof.log_index,
            found=entry.log_index,
        )


def _checkpoint(
    entry: TransparencyLogEntry, proof: InclusionProof, log: TrustedLog, anchors: TrustAnchors
) -> Checkpoint:
    assert proof.checkpoint is not None
    data = proof.checkpoint.encode("utf-8")
    checkpoint = _open_checkpoint(data, is_rekor_v2(entry), log, anchors)
    if checkpoint.size != proof.tree_size:
        raise VerificationError(
            "inclusion proof tree size differs from the checkpoint's",
            expected=checkpoint.size,
            found=proof.tree_size,
        )
    if not hmac.compare_digest(checkpoint.root_hash, proof.root_hash):
        raise VerificationError(
            "inclusion proof root hash differs from the checkpoint's",
            expected=checkpoint.root_hash.hex(),
            found=proof.root_hash.hex(),
        )
    return checkpoint


def _open_checkpoint(data: bytes, v2: bool, log: TrustedLog, anchors: TrustAnchors) -> Checkpoint:
    """The checkpoint ``data`` once its signature by ``log`` verified (remembered by bytes)."""
    key = (log.log_id, data, v2)
    checkpoint = anchors.checkpoints.get(key)
    if checkpoint is None:
        checkpoint = _verify_checkpoint(data, v2, log, anchors)
        anchors.checkpoints.put(key, checkpoint)
    return checkpoint


def _verify_checkpoint(data: bytes, v2: bool, log: TrustedLog, anchors: TrustAnchors) -> Checkpoint:
    """Open the note under the log's checkpoint name.

    Rekor v2 signs as the host of its base URL. Rekor v1 deployments also sign as
    ``host:port``; like other clients, any signature name contained in the base
    URL is accepted for a v1 log (tried when the host name alone does not verify).
    """
    try:
        try:
            checkpoint = open_checkpoint(data, [anchors.note_verifier(log, log.hostname)])
        except InvalidInput:
            if v2:
                raise
            checkpoint = open_checkpoint(data, _v1_verifiers(data, log, anchors))
    except InvalidInput as exc:
        raise VerificationError(f"checkpoint does not verify: {exc}") from exc
    if v2 and checkpoint.origin != log.hostname:
        raise VerificationError(
            "checkpoint origin is not the log's", expected=log.hostname, found=checkpoint.origin
        )
    return checkpoint


def _v1_verifiers(data: bytes, log: TrustedLog, anchors: TrustAnchors) -> list[KeyNoteVerifier]:
    names = [log.hostname]
    names += [
        sig.name
        for sig in SignedNote.parse(data).signatures
        if sig.name in log.base_url and sig.name not in names
    ]
    return [anchors.note_verifier(log, name) for name in names]


def _key(log: TrustedLog) -> PublicKey:
    assert log.key is not None  # TrustedRoot.tlog only returns logs with a usable key
    return log.key
