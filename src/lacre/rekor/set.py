"""The Signed Entry Timestamp (Rekor v1's inclusion promise)."""

from __future__ import annotations

import base64

import rfc8785

from lacre.keys import PublicKey, Signer


def set_payload(body: bytes, integrated_time: int, log_id: bytes, log_index: int) -> bytes:
    """The canonical JSON the SET signs."""
    return rfc8785.dumps(
        {
            "body": base64.b64encode(body).decode(),
            "integratedTime": integrated_time,
            "logID": log_id.hex(),
            "logIndex": log_index,
        }
    )


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
