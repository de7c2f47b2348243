"""Verified signing times from RFC 3161 timestamps (checks B.1 and B.3).

A timestamp counts when a timestamp authority of the trusted root signed it
over the bundle's signature, with a chain valid at its ``genTime``, and the
``genTime`` lies within that authority's validity window (closed interval).
Timestamps that do not verify do not count; their reasons are kept so that a
bundle with no usable time can say why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from lacre.errors import VerificationError
from lacre.models.trust_reader import Authority
from lacre.record import field, record

if TYPE_CHECKING:
    from lacre.verify.rfc3161 import TimestampToken

MAX_TIMESTAMPS = 32


@record
class VerifiedTime:
    """A time vouched for by a trusted source: ``source`` names it (a TSA or a log)."""

    source: str
    time: dt.datetime


# Never compared or printed: no generated __eq__ and __repr__ (each costs start-up time).
@record(frozen=False, eq=False, repr=False)
class TimestampReport:
    """The timestamps that verified and the reasons the others did not."""

    verified: list[VerifiedTime] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


def verify_timestamps(
    timestamps: Sequence[bytes], signature: bytes, authorities: Sequence[Authority]
) -> TimestampReport:
    """Check each RFC 3161 response over ``signature`` against the trusted ``authorities``."""
    if len(timestamps) > MAX_TIMESTAMPS:
        raise VerificationError(
            "too many RFC 3161 timestamps", expected=f"<= {MAX_TIMESTAMPS}", found=len(timestamps)
        )
    if len(set(timestamps)) != len(timestamps):
        raise VerificationError(
            "duplicate RFC 3161 timestamps", expected="distinct timestamps", found="a duplicate"
        )
    report = TimestampReport()
    for number, data in enumerate(timestamps):
        try:
            report.verified.append(_verify_one(data, signature, authorities))
        except VerificationError as exc:
            report.rejected.append(f"timestamp {number}: {exc}")
    return report


def _verify_one(data: bytes, signature: bytes, authorities: Sequence[Authority]) -> VerifiedTime:
    from lacre.verify.rfc3161 import parse_response  # only bundles with timestamps load it

    token = parse_response(data)
    reasons = []
    for authority in authorities:
        try:
            return _verify_with(token, signature, authority)
        except VerificationError as exc:
            reasons.append(f"{authority.uri or 'TSA'}: {exc}")
    raise VerificationError(
        "no trusted timestamp authority verifies it",
        expected="a timestamp by a TSA of the trusted root over the bundle signature",
        found="; ".join(reasons) or "no timestamp authorities in the trusted root",
    )


def _verify_with(token: TimestampToken, signature: bytes, authority: Authority) -> VerifiedTime:
    from lacre.verify.tsa import trusted_tsa

    gen_time = trusted_tsa(authority.chain).verify(token, signature)
    if not authority.validity.contains(gen_time):
        raise VerificationError(
            "timestamp genTime is outside the TSA's validity in the trusted root",
            expected=authority.validity.describe(),
            found=gen_time.isoformat(),
        )
    return VerifiedTime(f"TSA {authority.uri}", gen_time)
