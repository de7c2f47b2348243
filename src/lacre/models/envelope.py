"""The DSSE envelope as a bundle carries it (``dsseEnvelope``).

The envelope itself, its Pre-Authentication Encoding and in-toto statements
live in :mod:`lacre.dsse`; here a bundle's envelope is parsed by the stricter
protobuf-JSON rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lacre.dsse import Envelope, Signature
from lacre.errors import InvalidInput
from lacre.models import protojson as pj


def parse_envelope(document: Mapping[str, Any], path: str) -> Envelope:
    """Parse the protobuf-JSON ``Envelope`` found at ``path`` (standard base64 only)."""
    items = pj.array(document, "signatures", path)
    if not items:
        raise InvalidInput(
            f"{path}.signatures", expected="a non-empty array", found="an empty array"
        )
    return Envelope(
        payload=pj.b64bytes(document, "payload", path),
        payload_type=pj.text(document, "payloadType", path),
        signatures=tuple(
            _signature(item, f"{path}.signatures[{n}]") for n, item in enumerate(items)
        ),
    )


def _signature(value: object, path: str) -> Signature:
    document = pj.mapping(value, path)
    sig = pj.b64bytes(document, "sig", path)
    if not sig:
        raise InvalidInput(f"{path}.sig is empty", expected="signature bytes", found="''")
    return Signature(sig, pj.text(document, "keyid", path, default=""))
