"""The Signed Entry Timestamp (Rekor v1's inclusion promise)."""

from __future__ import annotations

from lacre.keys import Signer
from lacre.transparency.inclusion_promise import set_payload, verify_inclusion_promise

__all__ = ["set_payload", "sign_set", "verify_inclusion_promise"]


def sign_set(
    signer: Signer, body: bytes, integrated_time: int, log_id: bytes, log_index: int
) -> bytes:
    """Sign the inclusion promise for one entry."""
    return signer.sign(set_payload(body, integrated_time, log_id, log_index))
