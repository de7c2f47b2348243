"""The DSSE envelope as a bundle carries it (``dsseEnvelope``).

Only the data is modelled here; the Pre-Authentication Encoding and in-toto
statements live in :mod:`lacre.dsse`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lacre.errors import InvalidInput
from lacre.models import protojson as pj


@dataclass(frozen=True)
class DsseSignature:
    """One DSSE signature: raw signature bytes and an optional key ID."""

    sig: bytes
    keyid: str = ""


@dataclass(frozen=True)
class DsseEnvelope:
    """A DSSE envelope: decoded payload, payload type and signatures."""

    payload: bytes
    payload_type: str
    signatures: tuple[DsseSignature, ...]

    @classmethod
    def from_json(cls, document: Mapping[str, Any], path: str) -> DsseEnvelope:
        """Parse the protobuf-JSON ``Envelope`` found at ``path``."""
        items = pj.array(document, "signatures", path)
        if not items:
            raise InvalidInput(
                f"{path}.signatures", expected="a non-empty array", found="an empty array"
            )
        return cls(
            payload=pj.b64bytes(document, "payload", path),
            payload_type=pj.text(document, "payloadType", path),
            signatures=tuple(
                _signature(item, f"{path}.signatures[{n}]") for n, item in enumerate(items)
            ),
        )

    def to_json(self) -> dict[str, Any]:
        """The protobuf-JSON form (``keyid`` omitted when empty)."""
        signatures: list[dict[str, str]] = []
        for signature in self.signatures:
            item = {"sig": pj.b64(signature.sig)}
            if signature.keyid:
                item["keyid"] = signature.keyid
            signatures.append(item)
        return {
            "payload": pj.b64(self.payload),
            "payloadType": self.payload_type,
            "signatures": signatures,
        }


def _signature(value: object, path: str) -> DsseSignature:
    document = pj.mapping(value, path)
    sig = pj.b64bytes(document, "sig", path)
    if not sig:
        raise InvalidInput(f"{path}.sig is empty", expected="signature bytes", found="''")
    return DsseSignature(sig, pj.text(document, "keyid", path, default=""))
