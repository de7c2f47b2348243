"""OCI and Docker v2 manifests, indexes and descriptors, parsed strictly and re-encoded faithfully.

Unknown fields are kept in ``extra`` so that a manifest read, extended and
written back loses nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lacre.errors import InvalidInput
from lacre.jsontypes import MISSING, type_name
from lacre.oci import mediatypes as mt
from lacre.oci.digest import Digest

_DESCRIPTOR_KEYS = frozenset(
    {"mediaType", "digest", "size", "annotations", "artifactType", "platform"}
)
_MANIFEST_KEYS = frozenset(
    {"schemaVersion", "mediaType", "config", "layers", "subject", "artifactType", "annotations"}
)
_INDEX_KEYS = frozenset(
    {"schemaVersion", "mediaType", "manifests", "subject", "artifactType", "annotations"}
)


def _field(obj: Mapping[str, Any], name: str, kind: type, path: str, *, required: bool) -> Any:
    value = obj.get(name, MISSING)
    if value is MISSING and not required:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidInput(
            f"{path}.{name}: wrong type", expected=type_name(kind()), found=type_name(value)
        )
    return value


def _annotations(obj: Mapping[str, Any], path: str) -> dict[str, str]:
    value = _field(obj, "annotations", dict, path, required=False) or {}
    for key, item in value.items():
        if not isinstance(item, str):
            raise InvalidInput(
                f"{path}.annotations[{key!r}]: wrong type", expected="string", found=type_name(item)
            )
    return dict(value)


def _extra(obj: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    return {key: value for key, value in obj.items() if key not in known}


@dataclass(frozen=True, kw_only=True)
class Descriptor:
    """A content descriptor: what a manifest says about a blob or another manifest."""

    media_type: str
    digest: Digest
    size: int
    annotations: Mapping[str, str] = field(default_factory=dict)
    artifact_type: str | None = None
    platform: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def for_blob(cls, media_type: str, data: bytes, **kwargs: Any) -> Descriptor:
        """A descriptor of ``data`` (digest and size computed)."""
        return cls(media_type=media_type, digest=Digest.of(data), size=len(data), **kwargs)

    @classmethod
    def from_json(cls, obj: object, path: str) -> Descriptor:
        """Parse a descriptor object found at ``path`` in a document."""
        if not isinstance(obj, dict):
            raise InvalidInput(f"{path}: wrong type", expected="object", found=type_name(obj))
        size = _field(obj, "size", int, path, required=True)
        if size < 0:
            raise InvalidInput(f"{path}.size: negative", expected="size >= 0", found=size)
        try:
            digest = Digest.parse(_field(obj, "digest", str, path, required=True))
        except InvalidInput as exc:
            raise InvalidInput(f"{path}.digest: {exc.message}", found=exc.found) from None
        return cls(
            media_type=_field(obj, "mediaType", str, path, required=True),
            digest=digest,
            size=size,
            annotations=_annotations(obj, path),
            artifact_type=_field(obj, "artifactType", str, path, required=False),
            platform=_field(obj, "platform", dict, path, required=False),
            extra=_extra(obj, _DESCRIPTOR_KEYS),
        )

    def to_json(self) -> dict[str, Any]:
        """The descriptor as a JSON object (OCI field order)."""
        out: dict[str, Any] = {"mediaType": self.media_type}
        if self.artifact_type is not None:
            out["artifactType"] = self.artifact_type
        out |= {"digest": str(self.digest), "size": self.size}
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        if self.platform is not None:
            out["platform"] = dict(self.platform)
        return out | dict(self.extra)


@dataclass(frozen=True, kw_only=True)
class ImageManifest:
    """A single-image manifest (OCI image manifest or Docker v2 schema 2)."""

    media_type: str = mt.OCI_MANIFEST
    config: Descriptor
    layers: tuple[Descriptor, ...] = ()
    subject: Descriptor | None = None
    artifact_type: str | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The manifest as a JSON object."""
        return _to_json(
            self,
            {"config": self.config.to_json(), "layers": [item.to_json() for item in self.layers]},
        )

    def encode(self) -> bytes:
        """The manifest bytes to push (compact JSON)."""
        return encode_json(self.to_json())


@dataclass(frozen=True, kw_only=True)
class ImageIndex:
    """A manifest list: OCI image index or Docker manifest list."""

    media_type: str = mt.OCI_INDEX
    manifests: tuple[Descriptor, ...] = ()
    subject: Descriptor | None = None
    artifact_type: str | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The index as a JSON object."""
        return _to_json(self, {"manifests": [item.to_json() for item in self.manifests]})

    def encode(self) -> bytes:
        """The index bytes to push (compact JSON)."""
        return encode_json(self.to_json())


Manifest = ImageManifest | ImageIndex


def _to_json(manifest: Manifest, body: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` framed by the fields every manifest kind has, in OCI field order."""
    out: dict[str, Any] = {"schemaVersion": 2, "mediaType": manifest.media_type}
    if manifest.artifact_type is not None:
        out["artifactType"] = manifest.artifact_type
    out |= body
    if manifest.subject is not None:
        out["subject"] = manifest.subject.to_json()
    if manifest.annotations:
        out["annotations"] = dict(manifest.annotations)
    return out | dict(manifest.extra)


def encode_json(document: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON, as registries and cosign write it."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def load_json_object(data: bytes, what: str) -> dict[str, Any]:
    """Parse ``data`` as a JSON object; raises InvalidInput naming ``what``."""
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"{what} is not valid JSON", found=str(exc)[:200]) from None
    if not isinstance(document, dict):
        raise InvalidInput(f"{what}: wrong JSON type", expected="object", found=type_name(document))
    return document


def parse_manifest(
    data: bytes, *, content_type: str | None = None, what: str = "manifest"
) -> Manifest:
    """Parse manifest bytes; the media type comes from the document or else ``content_type``."""
    doc = load_json_object(data, what)
    media_type = _field(doc, "mediaType", str, what, required=False) or _bare(content_type)
    if doc.get("schemaVersion") != 2:
        raise InvalidInput(
            f"{what}: unsupported schemaVersion", expected=2, found=repr(doc.get("schemaVersion"))
        )
    if media_type in mt.INDEXES or (media_type is None and "manifests" in doc):
        return _parse_index(doc, media_type or mt.OCI_INDEX, what)
    if media_type in mt.IMAGE_MANIFESTS or (media_type is None and "config" in doc):
        return _parse_image(doc, media_type or mt.OCI_MANIFEST, what)
    raise InvalidInput(
        f"{what}: unsupported manifest media type",
        expected="an OCI or Docker v2 manifest or index",
        found=repr(media_type),
    )


def _bare(content_type: str | None) -> str | None:
    return content_type.split(";")[0].strip() if content_type else None


def _descriptors(
    doc: Mapping[str, Any], key: str, what: str, *, required: bool
) -> tuple[Descriptor, ...]:
    items = _field(doc, key, list, what, required=required) or []
    return tuple(Descriptor.from_json(item, f"{what}.{key}[{i}]") for i, item in enumerate(items))


def _shared_fields(doc: Mapping[str, Any], what: str, known: frozenset[str]) -> dict[str, Any]:
    """The fields every manifest kind has, as keyword arguments of its constructor."""
    raw = doc.get("subject")
    return {
        "subject": None if raw is None else Descriptor.from_json(raw, f"{what}.subject"),
        "artifact_type": _field(doc, "artifactType", str, what, required=False),
        "annotations": _annotations(doc, what),
        "extra": _extra(doc, known),
    }


def _parse_image(doc: Mapping[str, Any], media_type: str, what: str) -> ImageManifest:
    return ImageManifest(
        media_type=media_type,
        config=Descriptor.from_json(doc.get("config", MISSING), f"{what}.config"),
        layers=_descriptors(doc, "layers", what, required=False),
        **_shared_fields(doc, what, _MANIFEST_KEYS),
    )


def _parse_index(doc: Mapping[str, Any], media_type: str, what: str) -> ImageIndex:
    return ImageIndex(
        media_type=media_type,
        manifests=_descriptors(doc, "manifests", what, required=True),
        **_shared_fields(doc, what, _INDEX_KEYS),
    )
