"""Signed time and log evidence of a bundle.

Structural rules on log entries (A.5, A.6), verified times (B) and the
transparency-log entries themselves (F).
"""

from __future__ import annotations

from lacre.errors import InvalidInput, VerificationError
from lacre.models.bundle import Bundle
from lacre.models.protojson import b64
from lacre.models.tlog_entry import TransparencyLogEntry
from lacre.models.trust_reader import TrustedLog, TrustedRoot
from lacre.record import record
from lacre.verify.anchors import TrustAnchors
from lacre.verify.bodies import Signed, check_body
from lacre.verify.timestamps import VerifiedTime, verify_timestamps
from lacre.verify.tlog import trusted_log, verify_promise, verify_proof


@record(kw_only=True)
class Thresholds:
    """How many independent sources each kind of evidence needs (grouped by log or TSA)."""

    times: int = 1
    ctlogs: int = 1
    tlogs: int = 1

    def __post_init__(self) -> None:
        """Refuse thresholds below one."""
        for name in ("times", "ctlogs", "tlogs"):
            if getattr(self, name) < 1:
                raise InvalidInput(f"threshold {name}", expected=">= 1", found=getattr(self, name))


# Never compared or printed: no generated __eq__ and __repr__ (each costs start-up time).
@record(kw_only=True, eq=False, repr=False)
class Evidence:
    """A bundle with the trust it is checked against."""

    bundle: Bundle
    anchors: TrustAnchors
    thresholds: Thresholds

    @property
    def root(self) -> TrustedRoot:
        """The trusted root."""
        return self.anchors.root


def establish_times(evidence: Evidence) -> list[VerifiedTime]:
    """Verified signing times from TSAs and from log entries whose SET verifies."""
    entries = evidence.bundle.material.tlog_entries
    _check_entries_shape(entries, evidence.thresholds.tlogs)
    report = verify_timestamps(
        evidence.bundle.material.timestamps,
        evidence.bundle.signature,
        evidence.root.timestamp_authorities,
    )
    times = list(report.verified)
    rejected = list(report.rejected)
    for number, entry in enumerate(entries):
        if entry.inclusion_promise is None:
            continue
        log = _known_log(entry, evidence.root)
        if log is None:
            rejected.append(f"log entry {number}: from unknown log {b64(entry.log_id)}")
        else:
            times.append(VerifiedTime(f"log {log.base_url}", verify_promise(entry, log)))
    sources = {time.source for time in times}
    if len(sources) < evidence.thresholds.times:
        raise VerificationError(
            "no verified signing time",
            expected=f"at least {evidence.thresholds.times} trusted time source(s): an RFC 3161 "
            "timestamp by a trusted TSA or a log entry with a verified inclusion promise",
            found="; ".join(rejected) or f"{len(sources)} source(s)",
        )
    return times


def check_entries(evidence: Evidence, signed: Signed) -> tuple[bytes, ...]:
    """Check every entry from a known log (F); return the IDs of the logs that verified."""
    verified: list[bytes] = []
    unknown: list[str] = []
    for entry in evidence.bundle.material.tlog_entries:
        log = _known_log(entry, evidence.root)
        if log is None:
            unknown.append(entry.log_id.hex()[:16])
            continue
        if entry.inclusion_proof is not None:
            verify_proof(entry, log, evidence.anchors)
        check_body(entry, signed)
        if entry.log_id not in verified:
            verified.append(entry.log_id)
    if len(verified) < evidence.thresholds.tlogs:
        raise VerificationError(
            "not enough log entries from trusted transparency logs",
            expected=f">= {evidence.thresholds.tlogs}",
            found=f"{len(verified)} (entries from unknown logs: {', '.join(unknown) or 'none'})",
        )
    return tuple(verified)


def _check_entries_shape(entries: tuple[TransparencyLogEntry, ...], threshold: int) -> None:
    if len(entries) < threshold:
        raise VerificationError(
            "bundle has too few transparency log entries",
            expected=f">= {threshold}",
            found=len(entries),
        )
    seen = set()
    for entry in entries:
        key = (entry.log_id, entry.log_index)
        if key in seen:
            raise VerificationError(
                "bundle has duplicate transparency log entries",
                expected="distinct (logId, logIndex) pairs",
                found=f"log index {entry.log_index} twice",
            )
        seen.add(key)


def _known_log(entry: TransparencyLogEntry, root: TrustedRoot) -> TrustedLog | None:
    try:
        return trusted_log(entry, root)
    except VerificationError:
        return None
