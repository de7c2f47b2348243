"""Image references: ``[registry[:port]/]repository[:tag][@digest]``.

Follows the grammar of the distribution reference library: the first path
component is a registry when it contains a ``.`` or ``:`` or is ``localhost``;
otherwise the image lives on Docker Hub (``docker.io``), whose single-component
names get the ``library/`` prefix and whose API host is ``registry-1.docker.io``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, replace
from typing import Self

from lacre.errors import InvalidInput
from lacre.oci.digest import Digest

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
DOCKER_HUB_INDEX = "index.docker.io"
_HUB_ALIASES = frozenset({DOCKER_HUB, DOCKER_HUB_INDEX, DOCKER_HUB_API})
_MAX_NAME = 255
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_HOSTNAME = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
)
_HOST_PORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[^:\[\]]+)(?::([0-9]{1,5}))?")
_LOOPBACK_NAMES = frozenset({"localhost"})


def _bad(what: str, found: str, expected: str) -> InvalidInput:
    return InvalidInput(
        f"invalid image reference: bad {what}", expected=expected, found=repr(found)
    )


def _check_registry(registry: str) -> str:
    match = _HOST_PORT.fullmatch(registry)
    if match is None:
        raise _bad("registry", registry, "host[:port]")
    host, port = match.group(1), match.group(2)
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise _bad("registry", registry, "a bracketed IPv6 address") from None
    elif not _HOSTNAME.fullmatch(host):
        raise _bad("registry", registry, "a host name or IP address")
    if port is not None and not 0 < int(port) < 65536:
        raise _bad("registry port", registry, "a port between 1 and 65535")
    return registry.lower() if host.lower() in _HUB_ALIASES and port is None else registry


def _check_repository(repository: str, whole: str) -> str:
    for component in repository.split("/"):
        if not _COMPONENT.fullmatch(component):
            raise _bad(
                "repository",
                whole,
                "lowercase path components of [a-z0-9] joined by '.', '_', '__' or '-'",
            )
    return repository


def _split_domain(name: str) -> tuple[str, str]:
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        return _check_registry(first), rest
    return DOCKER_HUB, name


@dataclass(frozen=True)
class ImageReference:
    """A parsed image reference; ``tag`` and ``digest`` are both optional."""

    registry: str
    repository: str
    tag: str | None = None
    digest: Digest | None = None

    @classmethod
    def parse(cls, text: str) -> Self:
        """Parse an image reference; raises InvalidInput saying which part is wrong."""
        if not isinstance(text, str) or not text or text != text.strip():
            raise _bad("reference", str(text), "a non-empty reference without spaces")
        name, at, digest_text = text.partition("@")
        digest = Digest.parse(digest_text) if at else None
        tag = None
        colon = name.rfind(":")
        if colon > name.rfind("/"):
            name, tag = name[:colon], name[colon + 1 :]
            if not _TAG.fullmatch(tag):
                raise _bad("tag", tag, "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
        registry, repository = _split_domain(name)
        if registry in _HUB_ALIASES:
            registry = DOCKER_HUB
            if "/" not in repository:
                repository = f"library/{repository}"
        _check_repository(repository, text)
        if len(f"{registry}/{repository}") > _MAX_NAME:
            raise _bad("name length", text, f"at most {_MAX_NAME} characters")
        return cls(registry, repository, tag, digest)

    @property
    def api_host(self) -> str:
        """The host[:port] serving the registry API (Docker Hub's differs from its name)."""
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def name(self) -> str:
        """``registry/repository``, without tag or digest."""
        return f"{self.registry}/{self.repository}"

    @property
    def docker_reference(self) -> str:
        """The repository as cosign writes it in simple-signing payloads."""
        registry = DOCKER_HUB_INDEX if self.registry == DOCKER_HUB else self.registry
        return f"{registry}/{self.repository}"

    @property
    def identifier(self) -> str:
        """What the manifest is fetched by: the digest, else the tag, else ``latest``."""
        if self.digest is not None:
            return str(self.digest)
        return self.tag or "latest"

    @property
    def host(self) -> str:
        """The registry host without port (IPv6 without brackets)."""
        match = _HOST_PORT.fullmatch(self.api_host)
        host = match.group(1) if match else self.api_host
        return host[1:-1] if host.startswith("[") else host

    @property
    def is_loopback(self) -> bool:
        """Whether the registry is on this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
        if self.host.lower() in _LOOPBACK_NAMES:
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def with_digest(self, digest: Digest) -> ImageReference:
        """The same repository pinned to ``digest`` (the tag is dropped)."""
        return replace(self, tag=None, digest=digest)

    def with_tag(self, tag: str) -> ImageReference:
        """Another tag of the same repository (the digest is dropped)."""
        if not _TAG.fullmatch(tag):
            raise _bad("tag", tag, "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
        return replace(self, tag=tag, digest=None)

    def __str__(self) -> str:
        """The canonical reference text (``docker.io/library/...`` for Docker Hub)."""
        text = self.name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text
