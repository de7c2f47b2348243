"""The Signed Entry Timestamp (Rekor v1's inclusion promise)."""

from __future__ import annotations

from lacre.keys import PublicKey, Signer
from lacre.transparency.inclusion_promise import set_payload

__all__ = ["set_payload", "sign_set", "verify_set"]


def sign_set(
    signer: Signer, body: bytes, integrated_time: int, log_id: bytes, log_index: int
) -> bytes:
    """Sign the inclusion promise for one entry."""
    return signer.sign(set_payload(body, integrated_time, log_id, log_index))


def verify_set(
    key: PublicKey,
    signature: bytes,
    body: bytes,
    integrated_time: int,
    log_id: bytes,
    log_index: int,
) -> None:
    """Check an inclusion promise; raise :class:`VerificationError` if it does not verify."""
    key.verify(signature, set_payload(body, integrated_time, log_id, log_index))
