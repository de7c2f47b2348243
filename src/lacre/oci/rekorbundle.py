"""The annotations cosign stores next to a legacy signature: Rekor bundle and RFC 3161 token.

``dev.sigstore.cosign/bundle`` holds ``{"SignedEntryTimestamp": "<b64>",
"Payload": {"body": "<b64>", "integratedTime": N, "logIndex": N, "logID": "<hex>"}}``;
``dev.sigstore.cosign/rfc3161timestamp`` holds ``{"SignedRFC3161Timestamp": "<b64 DER>"}``.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any, Self

from lacre.errors import InvalidInput
from lacre.jsontypes import MISSING, type_name, utf8
from lacre.oci.manifest import encode_json, load_json_object

_HEX = re.compile(r"[0-9a-f]+")


def b64decode(text: object, what: str) -> bytes:
    """Strict standard base64; raises InvalidInput naming ``what``."""
    if not isinstance(text, str):
        raise InvalidInput(f"{what}: wrong type", expected="base64 string", found=type_name(text))
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"{what}: invalid base64", found=repr(text[:60])) from None


def b64encode(data: bytes) -> str:
    """Standard base64 with padding."""
    return base64.b64encode(data).decode()


def _integer(payload: dict[str, Any], key: str) -> int:
    value = payload.get(key, MISSING)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidInput(
            f"cosign bundle Payload.{key}: wrong value", expected="integer >= 0", found=repr(value)
        )
    return value


@dataclass(frozen=True, kw_only=True)
class RekorBundle:
    """The Rekor v1 inclusion promise cosign attaches to a legacy signature."""

    signed_entry_timestamp: bytes
    body: bytes
    integrated_time: int
    log_index: int
    log_id: str
    """Hex SHA-256 of the log's public key."""

    def to_json(self) -> str:
        """The annotation value."""
        payload = {
            "body": b64encode(self.body),
            "integratedTime": self.integrated_time,
            "logIndex": self.log_index,
            "logID": self.log_id,
        }
        document = {"SignedEntryTimestamp": b64encode(self.signed_entry_timestamp)}
        return encode_json(document | {"Payload": payload}).decode()

    @classmethod
    def from_json(cls, text: str) -> Self:
        """Parse the annotation value."""
        document = load_json_object(
            utf8(text, "cosign bundle annotation"), "cosign bundle annotation"
        )
        payload = document.get("Payload", MISSING)
        if not isinstance(payload, dict):
            raise InvalidInput(
                "cosign bundle Payload: wrong type", expected="object", found=type_name(payload)
            )
        log_id = payload.get("logID", MISSING)
        if not isinstance(log_id, str) or not _HEX.fullmatch(log_id):
            raise InvalidInput(
                "cosign bundle Payload.logID: wrong value",
                expected="lowercase hex",
                found=repr(log_id),
            )
        return cls(
            signed_entry_timestamp=b64decode(
                document.get("SignedEntryTimestamp", MISSING), "cosign bundle SignedEntryTimestamp"
            ),
            body=b64decode(payload.get("body", MISSING), "cosign bundle Payload.body"),
            integrated_time=_integer(payload, "integratedTime"),
            log_index=_integer(payload, "logIndex"),
            log_id=log_id,
        )


def timestamp_to_json(token: bytes) -> str:
    """The ``rfc3161timestamp`` annotation value for a DER ``TimeStampResp``."""
    return encode_json({"SignedRFC3161Timestamp": b64encode(token)}).decode()


def timestamp_from_json(text: str) -> bytes:
    """The DER ``TimeStampResp`` of an ``rfc3161timestamp`` annotation."""
    document = load_json_object(
        utf8(text, "rfc3161timestamp annotation"), "rfc3161timestamp annotation"
    )
    return b64decode(document.get("SignedRFC3161Timestamp", MISSING), "SignedRFC3161Timestamp")
