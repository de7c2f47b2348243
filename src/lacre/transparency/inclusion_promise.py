"""The Signed Entry Timestamp (Rekor v1's inclusion promise): its payload and its check.

The log signs the RFC 8785 canonical JSON of
``{"body": b64(body), "integratedTime": t, "logID": hex(log id), "logIndex": i}``.
Its four members are ASCII strings and integers, for which sorted keys and no
whitespace is exactly the canonical form.
"""

from __future__ import annotations

import base64

from lacre.errors import VerificationError
from lacre.keys import PublicKey


def set_payload(body: bytes, integrated_time: int, log_id: bytes, log_index: int) -> bytes:
    """The canonical JSON bytes a Signed Entry Timestamp signs."""
    encoded = base64.b64encode(body).decode("ascii")
    # base64 and hex need no JSON escaping: the members written in sorted order are canonical.
    return (
        f'{{"body":"{encoded}","integratedTime":{integrated_time:d},'
        f'"logID":"{log_id.hex()}","logIndex":{log_index:d}}}'
    ).encode("ascii")


def verify_inclusion_promise(
    key: PublicKey,
    signature: bytes,
    *,
    body: bytes,
    integrated_time: int,
    log_id: bytes,
    log_index: int,
) -> None:
    """Check a Signed Entry Timestamp; raise :class:`VerificationError` naming the entry."""
    try:
        key.verify(signature, set_payload(body, integrated_time, log_id, log_index))
    except VerificationError as exc:
        raise VerificationError(
            f"inclusion promise (SET) for log index {log_index} does not verify: {exc.message}",
            expected=f"a signature by log {log_id.hex()[:16]}",
            found="an invalid signature",
        ) from exc
