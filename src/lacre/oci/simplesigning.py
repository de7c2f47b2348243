"""The cosign "simple signing" payload: what a legacy ``.sig`` signature signs.

::

    {"critical": {"identity": {"docker-reference": "<repository>"},
                  "image": {"docker-manifest-digest": "sha256:<hex>"},
                  "type": "cosign container image signature"},
     "optional": {...} | null}

Parsing is strict inside ``critical`` (unknown fields are refused, as
containers/image does), lenient elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from lacre.errors import InvalidInput
from lacre.jsontypes import MISSING, type_name
from lacre.oci.digest import Digest
from lacre.oci.manifest import encode_json, load_json_object

SIGNATURE_TYPE = "cosign container image signature"


def _object(
    parent: Mapping[str, Any], key: str, path: str, allowed: frozenset[str]
) -> dict[str, Any]:
    value = parent.get(key, MISSING)
    if not isinstance(value, dict):
        raise InvalidInput(f"{path}.{key}: wrong type", expected="object", found=type_name(value))
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise InvalidInput(
            f"{path}.{key}: unknown critical fields", expected=sorted(allowed), found=unknown
        )
    return value


def _string(parent: Mapping[str, Any], key: str, path: str) -> str:
    value = parent.get(key, MISSING)
    if not isinstance(value, str):
        raise InvalidInput(f"{path}.{key}: wrong type", expected="string", found=type_name(value))
    return value


@dataclass(frozen=True)
class SimpleSigningPayload:
    """A parsed simple-signing payload."""

    docker_reference: str
    manifest_digest: Digest
    optional: Mapping[str, Any] | None = field(default=None)

    def to_bytes(self) -> bytes:
        """The payload bytes to sign and store as the layer blob (compact JSON)."""
        critical = {
            "identity": {"docker-reference": self.docker_reference},
            "image": {"docker-manifest-digest": str(self.manifest_digest)},
            "type": SIGNATURE_TYPE,
        }
        optional = dict(self.optional) if self.optional is not None else None
        return encode_json({"critical": critical, "optional": optional})

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Parse payload bytes; raises InvalidInput naming the offending field."""
        document = load_json_object(data, "simple-signing payload")
        path = "payload"
        critical = _object(document, "critical", path, frozenset({"identity", "image", "type"}))
        path += ".critical"
        kind = _string(critical, "type", path)
        if kind != SIGNATURE_TYPE:
            raise InvalidInput(
                f"{path}.type: not a cosign signature", expected=SIGNATURE_TYPE, found=repr(kind)
            )
        identity = _object(critical, "identity", path, frozenset({"docker-reference"}))
        image = _object(critical, "image", path, frozenset({"docker-manifest-digest"}))
        digest_text = _string(image, "docker-manifest-digest", f"{path}.image")
        optional = document.get("optional")
        if optional is not None and not isinstance(optional, dict):
            raise InvalidInput(
                "payload.optional: wrong type", expected="object or null", found=type_name(optional)
            )
        return cls(
            docker_reference=_string(identity, "docker-reference", f"{path}.identity"),
            manifest_digest=Digest.parse(digest_text),
            optional=optional,
        )
