"""A content-addressed cache for repeated verification.

Everything fetched by digest — manifests pinned by digest and blobs — is
immutable, so :class:`CachingRegistryClient` keeps it in a :class:`DigestCache`
(in memory, and in a directory if one is given) and serves it again without a
round trip. Tags (the image's own, ``.sig``/``.att`` and the referrers
fallback) are mutable and always fetched. Entries read back from the
directory are checked against their digest, so a tampered cache file is a
miss, not a wrong answer. The cache also remembers, for its lifetime only,
which registries answered 404 to the referrers API.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import httpx

from lacre.errors import InvalidInput
from lacre.oci.auth import CredentialSource
from lacre.oci.digest import Digest
from lacre.oci.http import RegistryOptions
from lacre.oci.manifest import ImageIndex, parse_manifest
from lacre.oci.reference import ImageReference
from lacre.oci.registry import FetchedManifest, RegistryClient

DEFAULT_MAX_BYTES = 64 << 20


class DigestCache:
    """Immutable content by digest: a bounded in-memory LRU, optionally backed by a directory."""

    def __init__(
        self, directory: Path | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        """Keep at most ``max_bytes`` in memory; persist to ``directory`` if given."""
        self.directory = directory
        self.max_bytes = max_bytes
        self._memory: OrderedDict[Digest, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.no_referrers_api: set[str] = set()
        """Registries that answered 404 to the referrers API (not persisted)."""

    def get(self, digest: Digest) -> bytes | None:
        """The content with ``digest``, or None."""
        with self._lock:
            data = self._memory.get(digest)
            if data is not None:
                self._memory.move_to_end(digest)
                return data
        data = self._read_file(digest)
        if data is not None:
            self._remember(digest, data)
        return data

    def put(self, digest: Digest, data: bytes) -> None:
        """Store ``data``, which must have ``digest``."""
        digest.verify(data, subject="content put in the digest cache")
        self._remember(digest, data)
        if self.directory is not None:
            path = self._path(digest)
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(".tmp")
            temporary.write_bytes(data)
            temporary.replace(path)

    def _remember(self, digest: Digest, data: bytes) -> None:
        if len(data) > self.max_bytes:
            return
        with self._lock:
            if digest not in self._memory:
                self._memory[digest] = data
                self._size += len(data)
            while self._size > self.max_bytes:
                _, dropped = self._memory.popitem(last=False)
                self._size -= len(dropped)

    def _path(self, digest: Digest) -> Path:
        assert self.directory is not None
        return self.directory / digest.algorithm / digest.hex

    def _read_file(self, digest: Digest) -> bytes | None:
        if self.directory is None:
            return None
        try:
            data = self._path(digest).read_bytes()
            digest.verify(data, subject="cached content")
        except (OSError, InvalidInput):
            return None
        return data


class CachingRegistryClient(RegistryClient):
    """A registry client that serves content fetched by digest from a :class:`DigestCache`."""

    def __init__(
        self,
        options: RegistryOptions | None = None,
        *,
        cache: DigestCache,
        credentials: CredentialSource | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """Like :class:`RegistryClient`, with ``cache`` in front of fetches by digest."""
        super().__init__(options, credentials=credentials, transport=transport)
        self.cache = cache

    def get_manifest(self, image: ImageReference) -> FetchedManifest:
        """The manifest of ``image``; from the cache when pinned by a cached digest."""
        if image.digest is not None:
            raw = self.cache.get(image.digest)
            if raw is not None:
                manifest = parse_manifest(raw, what=f"manifest of {image}")
                return FetchedManifest(image, image.digest, manifest.media_type, raw, manifest)
        fetched = super().get_manifest(image)
        if image.digest is not None:
            self.cache.put(fetched.digest, fetched.raw)
        return fetched

    def get_blob(
        self, image: ImageReference, digest: Digest, *, max_bytes: int | None = None
    ) -> bytes:
        """The blob ``digest``; from the cache when present."""
        data = self.cache.get(digest)
        if data is not None and (max_bytes is None or len(data) <= max_bytes):
            return data
        data = super().get_blob(image, digest, max_bytes=max_bytes)
        self.cache.put(digest, data)
        return data

    def referrers_api(
        self, image: ImageReference, digest: Digest, artifact_type: str | None = None
    ) -> ImageIndex | None:
        """The referrers API answer; None at once for a registry known to lack the API."""
        if image.registry in self.cache.no_referrers_api:
            return None
        index = super().referrers_api(image, digest, artifact_type)
        if index is None:
            self.cache.no_referrers_api.add(image.registry)
        return index
