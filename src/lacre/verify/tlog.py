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


def verify_proof(entry: TransparencyLogEntry, log: TrustedLog) -> None:
    """Check the entry's inclusion proof against its signed checkpoint (F.3)."""
    proof = entry.inclusion_proof
    assert proof is not None
    if not entry.canonicalized_body:
        raise VerificationError(
            "log entry has no canonicalized body", expected="the entry body", found="none"
        )
    root_hash = proof.root_hash
    if proof.checkpoint is not None:
        root_hash = _checkpoint(entry, proof, log).root_hash
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


def _checkpoint(entry: TransparencyLogEntry, proof: InclusionProof, log: TrustedLog) -> Checkpoint:
    assert proof.checkpoint is not None
    data = proof.checkpoint.encode("utf-8")
    try:
        verifiers = [KeyNoteVerifier(name, _key(log)) for name in _names(data, entry, log)]
        checkpoint = open_checkpoint(data, verifiers)
    except InvalidInput as exc:
        raise VerificationError(f"checkpoint does not verify: {exc}") from exc
    if is_rekor_v2(entry) and checkpoint.origin != log.hostname:
        raise VerificationError(
            "checkpoint origin is not the log's", expected=log.hostname, found=checkpoint.origin
        )
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


def _names(data: bytes, entry: TransparencyLogEntry, log: TrustedLog) -> list[str]:
    """Key names the log may sign checkpoints under.

    Rekor v2 signs as the host of its base URL. Rekor v1 deployments also sign as
    ``host:port``; like other clients, any signature name contained in the base
    URL is accepted for a v1 log.
    """
    names = [log.hostname]
    if not is_rekor_v2(entry):
        names += [
            sig.name
            for sig in SignedNote.parse(data).signatures
            if sig.name in log.base_url and sig.name not in names
        ]
    return names


def _key(log: TrustedLog) -> PublicKey:
    assert log.key is not None  # TrustedRoot.tlog only returns logs with a usable key
    return log.key
