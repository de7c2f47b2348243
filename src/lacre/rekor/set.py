"""The Signed Entry Timestamp (Rekor v1's inclusion promise)."""

from __future__ import annotations

import base64
import json

from lacre.keys import PublicKey, Signer


def set_payload(body: bytes, integrated_time: int, log_id: bytes, log_index: int) -> bytes:
    """The canonical (RFC 8785) JSON the SET signs.

    Its four members are ASCII strings and integers, for which sorted keys and
    no whitespace is exactly the canonical form; the test suite checks this
    against an RFC 8785 implementation.
    """
    document = {
        "body": base64.b64encode(body).decode(),
        "integratedTime": integrated_time,
        "logID": log_id.hex(),
        "logIndex": log_index,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


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
