"""A client of the OCI distribution API: manifests, blobs, tags and the referrers API.

Everything fetched by digest is checked against that digest; manifests fetched
by tag are checked against the registry's ``Docker-Content-Digest``. Manifests
are limited to ``max_manifest_bytes``, blobs read into memory to
``max_blob_bytes`` (both in :class:`~lacre.oci.http.RegistryOptions`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import httpx

from lacre.errors import ConfigError, InvalidInput, NetworkError, NotFound, PushbackError, TooLarge
from lacre.oci import mediatypes as mt
from lacre.oci.auth import CredentialSource
from lacre.oci.digest import Digest
from lacre.oci.http import RegistryHttp, RegistryOptions, Reply
from lacre.oci.manifest import ImageIndex, Manifest, load_json_object, parse_manifest
from lacre.oci.reference import ImageReference

_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
_MAX_TAG_PAGES = 100
_TAGS_PAGE = 1000
_SMALL_BODY = 1 << 16


@dataclass(frozen=True)
class FetchedManifest:
    """A manifest as fetched: the image pinned to its digest, raw bytes and parsed form."""

    image: ImageReference
    digest: Digest
    media_type: str
    raw: bytes
    manifest: Manifest


@dataclass(frozen=True)
class PushedManifest:
    """The result of a manifest upload."""

    image: ImageReference
    digest: Digest
    subject_processed: bool
    """Whether the registry said (``OCI-Subject``) it indexed the manifest's subject."""


def _scopes(image: ImageReference, *, push: bool = False) -> tuple[str, ...]:
    return (f"repository:{image.repository}:{'pull,push' if push else 'pull'}",)


def _fail(reply: Reply, what: str) -> Exception:
    """The lacre error for an unexpected registry answer about ``what``."""
    summary = reply.error_summary()
    if reply.status == httpx.codes.NOT_FOUND:
        return NotFound(f"{what} not found", found=summary)
    if reply.status in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
        return ConfigError(
            f"the registry denied access to {what}",
            expected="credentials with access (docker config.json or a credential helper)",
            found=summary,
        )
    if reply.status in (httpx.codes.TOO_MANY_REQUESTS, httpx.codes.SERVICE_UNAVAILABLE):
        return PushbackError(f"the registry is overloaded ({what}): {summary}")
    if reply.status == httpx.codes.REQUEST_ENTITY_TOO_LARGE:
        return TooLarge(f"the registry refused {what} as too large", found=summary)
    return NetworkError(f"unexpected registry answer for {what}", found=summary)


class RegistryClient:
    """Reads and writes manifests, blobs and tags in OCI registries over HTTP."""

    def __init__(
        self,
        options: RegistryOptions | None = None,
        *,
        credentials: CredentialSource | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Build a client; ``credentials`` maps a registry host to its credentials."""
        self.options = options or RegistryOptions()
        self._http = RegistryHttp(
            self.options, credentials=credentials, transport=transport, sleep=sleep
        )

    @property
    def round_trips(self) -> int:
        """How many HTTP responses this client has received so far."""
        return self._http.round_trips

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> Self:
        """Use the client as a context manager."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the connections."""
        self.close()

    def _url(self, image: ImageReference, tail: str) -> str:
        return f"{self._http.base_url(image)}/v2/{image.repository}/{tail}"

    def resolve(self, image: ImageReference) -> Digest:
        """The digest of ``image``'s manifest (no request if the reference has one)."""
        if image.digest is not None:
            return image.digest
        reply = self._http.request(
            "HEAD",
            self._url(image, f"manifests/{image.identifier}"),
            scopes=_scopes(image),
            max_bytes=0,
            headers={"Accept": mt.MANIFEST_ACCEPT},
        )
        if reply.status != httpx.codes.OK:
            raise _fail(reply, f"image {image}")
        header = reply.headers.get("docker-content-digest")
        if header is None:
            return self.get_manifest(image).digest
        return _header_digest(header, image)

    def get_manifest(self, image: ImageReference) -> FetchedManifest:
        """Fetch and parse the manifest of ``image``, verifying its digest."""
        reply = self._http.request(
            "GET",
            self._url(image, f"manifests/{image.identifier}"),
            scopes=_scopes(image),
            max_bytes=self.options.max_manifest_bytes,
            headers={"Accept": mt.MANIFEST_ACCEPT},
        )
        if reply.status != httpx.codes.OK:
            raise _fail(reply, f"image {image}")
        digest = self._check_manifest_digest(image, reply)
        content_type = reply.headers.get("content-type")
        manifest = parse_manifest(
            reply.body, content_type=content_type, what=f"manifest of {image}"
        )
        return FetchedManifest(
            image.with_digest(digest), digest, manifest.media_type, reply.body, manifest
        )

    def find_manifest(self, image: ImageReference) -> FetchedManifest | None:
        """Like :meth:`get_manifest`, but None when the registry has no such manifest."""
        try:
            return self.get_manifest(image)
        except NotFound:
            return None

    def _check_manifest_digest(self, image: ImageReference, reply: Reply) -> Digest:
        if image.digest is not None:
            image.digest.verify(reply.body, subject=f"manifest of {image}")
            return image.digest
        header = reply.headers.get("docker-content-digest")
        if header is None:
            return Digest.of(reply.body)
        expected = _header_digest(header, image)
        expected.verify(reply.body, subject=f"manifest of {image} (Docker-Content-Digest)")
        return expected

    def put_manifest(
        self, image: ImageReference, manifest: Manifest | bytes, *, media_type: str | None = None
    ) -> PushedManifest:
        """Upload ``manifest`` at ``image``'s tag, or by its own digest if ``image`` has no tag."""
        if isinstance(manifest, bytes):
            raw, kind = manifest, media_type or parse_manifest(manifest).media_type
        else:
            raw, kind = manifest.encode(), media_type or manifest.media_type
        if len(raw) > self.options.max_manifest_bytes:
            raise TooLarge(
                f"manifest for {image} is too large",
                expected=f"at most {self.options.max_manifest_bytes} bytes",
                found=f"{len(raw)} bytes",
            )
        digest = Digest.of(raw)
        target = image.tag if image.tag is not None else str(digest)
        reply = self._http.request(
            "PUT",
            self._url(image, f"manifests/{target}"),
            scopes=_scopes(image, push=True),
            max_bytes=_SMALL_BODY,
            headers={"Content-Type": kind},
            content=raw,
        )
        if reply.status not in (httpx.codes.CREATED, httpx.codes.OK):
            raise _fail(reply, f"manifest upload to {image.name}:{target}")
        header = reply.headers.get("docker-content-digest")
        if header is not None and _header_digest(header, image) != digest:
            raise NetworkError(
                f"the registry stored the manifest for {image} under another digest",
                expected=str(digest),
                found=header,
            )
        processed = "oci-subject" in reply.headers
        return PushedManifest(image.with_digest(digest), digest, processed)

    def blob_exists(self, image: ImageReference, digest: Digest) -> bool:
        """Whether ``image``'s repository holds the blob ``digest``."""
        reply = self._http.request(
            "HEAD", self._url(image, f"blobs/{digest}"), scopes=_scopes(image), max_bytes=0
        )
        if reply.status == httpx.codes.OK:
            return True
        if reply.status == httpx.codes.NOT_FOUND:
            return False
        raise _fail(reply, f"blob {digest} in {image.name}")

    def get_blob(
        self, image: ImageReference, digest: Digest, *, max_bytes: int | None = None
    ) -> bytes:
        """Fetch the blob ``digest`` of ``image``'s repository, verifying its digest."""
        reply = self._http.request(
            "GET",
            self._url(image, f"blobs/{digest}"),
            scopes=_scopes(image),
            max_bytes=self.options.max_blob_bytes if max_bytes is None else max_bytes,
        )
        if reply.status != httpx.codes.OK:
            raise _fail(reply, f"blob {digest} of {image.name}")
        digest.verify(reply.body, subject=f"blob of {image.name}")
        return reply.body

    def put_blob(
        self, image: ImageReference, data: bytes, *, mount_from: ImageReference | None = None
    ) -> Digest:
        """Upload ``data`` unless already present (mounting it from ``mount_from`` if given)."""
        digest = Digest.of(data)
        if self.blob_exists(image, digest):
            return digest
        params = {}
        if mount_from is not None and mount_from.registry == image.registry:
            params = {"mount": str(digest), "from": mount_from.repository}
        scopes = _scopes(image, push=True)
        if params and mount_from is not None:
            scopes += _scopes(mount_from)
        started = self._http.request(
            "POST",
            self._url(image, "blobs/uploads/"),
            scopes=scopes,
            max_bytes=_SMALL_BODY,
            params=params,
        )
        if started.status == httpx.codes.CREATED and params:
            return digest
        if started.status != httpx.codes.ACCEPTED or "location" not in started.headers:
            raise _fail(started, f"blob upload to {image.name}")
        location = started.url.join(started.headers["location"])
        finished = self._http.request(
            "PUT",
            str(location.copy_merge_params({"digest": str(digest)})),
            scopes=scopes,
            max_bytes=_SMALL_BODY,
            headers={"Content-Type": "application/octet-stream"},
            content=data,
        )
        if finished.status != httpx.codes.CREATED:
            raise _fail(finished, f"blob upload to {image.name}")
        return digest

    def list_tags(self, image: ImageReference) -> list[str]:
        """All tags of ``image``'s repository (following ``Link`` pagination)."""
        tags: list[str] = []
        url: str | None = self._url(image, f"tags/list?n={_TAGS_PAGE}")
        for _ in range(_MAX_TAG_PAGES):
            if url is None:
                return tags
            reply = self._http.request(
                "GET", url, scopes=_scopes(image), max_bytes=self.options.max_manifest_bytes
            )
            if reply.status != httpx.codes.OK:
                raise _fail(reply, f"tags of {image.name}")
            tags.extend(_tag_page(reply.body, image))
            url = _next_page(reply)
        raise TooLarge(f"too many tags in {image.name}", expected=f"at most {_MAX_TAG_PAGES} pages")

    def referrers_api(
        self, image: ImageReference, digest: Digest, artifact_type: str | None = None
    ) -> ImageIndex | None:
        """The referrers API answer for ``digest``; None if the registry lacks the API (404)."""
        params = {"artifactType": artifact_type} if artifact_type else None
        reply = self._http.request(
            "GET",
            self._url(image, f"referrers/{digest}"),
            scopes=_scopes(image),
            max_bytes=self.options.max_manifest_bytes,
            params=params,
            headers={"Accept": mt.OCI_INDEX},
        )
        if reply.status == httpx.codes.NOT_FOUND:
            return None
        if reply.status != httpx.codes.OK:
            raise _fail(reply, f"referrers of {image.name}@{digest}")
        index = parse_manifest(
            reply.body, content_type=mt.OCI_INDEX, what=f"referrers of {image.name}@{digest}"
        )
        if not isinstance(index, ImageIndex):
            raise InvalidInput(
                f"referrers of {image.name}@{digest}: wrong document",
                expected="an image index",
                found=index.media_type,
            )
        return index


def _header_digest(header: str, image: ImageReference) -> Digest:
    try:
        return Digest.parse(header.strip())
    except InvalidInput as exc:
        raise NetworkError(
            f"the registry sent a malformed Docker-Content-Digest for {image}", found=exc.found
        ) from None


def _tag_page(body: bytes, image: ImageReference) -> list[str]:
    document = load_json_object(body, f"tag list of {image.name}")
    tags = document.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise InvalidInput(f"tag list of {image.name}: bad 'tags'", expected="an array of strings")
    return tags


def _next_page(reply: Reply) -> str | None:
    match = _NEXT_LINK.search(reply.headers.get("link", ""))
    return str(reply.url.join(match.group(1))) if match else None
