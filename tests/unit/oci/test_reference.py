"""Image references: parsing, Docker Hub defaults and errors."""

from __future__ import annotations

import pytest

from lacre.errors import InvalidInput
from lacre.oci.digest import Digest
from lacre.oci.reference import ImageReference

HEX = "ab" * 32


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("alpine", "docker.io", "library/alpine", None, None),
        ("alpine:3.20", "docker.io", "library/alpine", "3.20", None),
        ("user/app", "docker.io", "user/app", None, None),
        ("docker.io/alpine", "docker.io", "library/alpine", None, None),
        ("index.docker.io/user/app:v1", "docker.io", "user/app", "v1", None),
        ("ghcr.io/org/team/app:v1", "ghcr.io", "org/team/app", "v1", None),
        ("localhost/app", "localhost", "app", None, None),
        ("localhost:5000/app:t", "localhost:5000", "app", "t", None),
        ("127.0.0.1:5000/a/b@sha256:" + HEX, "127.0.0.1:5000", "a/b", None, "sha256:" + HEX),
        ("reg.test/a:tag@sha256:" + HEX, "reg.test", "a", "tag", "sha256:" + HEX),
        ("[::1]:5000/app", "[::1]:5000", "app", None, None),
        ("reg.test/a__b/c.d-e", "reg.test", "a__b/c.d-e", None, None),
    ],
)
def test_parse(
    text: str, registry: str, repository: str, tag: str | None, digest: str | None
) -> None:
    ref = ImageReference.parse(text)
    assert (ref.registry, ref.repository, ref.tag) == (registry, repository, tag)
    assert (str(ref.digest) if ref.digest else None) == digest


def test_docker_hub_api_host_and_docker_reference() -> None:
    ref = ImageReference.parse("alpine")
    assert ref.api_host == "registry-1.docker.io"
    assert ref.docker_reference == "index.docker.io/library/alpine"
    assert str(ref) == "docker.io/library/alpine"
    assert ref.identifier == "latest"


def test_private_registry_properties() -> None:
    ref = ImageReference.parse("reg.test:8443/ns/app:v2")
    assert ref.api_host == "reg.test:8443"
    assert ref.docker_reference == "reg.test:8443/ns/app"
    assert ref.identifier == "v2"
    assert not ref.is_loopback
    pinned = ref.with_digest(Digest("sha256", HEX))
    assert pinned.tag is None
    assert pinned.identifier == f"sha256:{HEX}"
    assert str(pinned) == f"reg.test:8443/ns/app@sha256:{HEX}"
    assert str(pinned.with_tag("x")) == "reg.test:8443/ns/app:x"


@pytest.mark.parametrize(
    ("text", "loopback"),
    [
        ("localhost:5000/a", True),
        ("127.0.0.1/a", True),
        ("127.1.2.3:1/a", True),
        ("[::1]:5000/a", True),
        ("10.0.0.1:5000/a", False),
        ("localhost.example.test/a", False),
    ],
)
def test_loopback(text: str, loopback: bool) -> None:
    assert ImageReference.parse(text).is_loopback is loopback


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("", "reference"),
        (" alpine", "reference"),
        ("Alpine", "repository"),
        ("reg.test/UPPER", "repository"),
        ("reg.test/a//b", "repository"),
        ("reg.test/-a", "repository"),
        ("reg.test/a:", "tag"),
        ("reg.test/a:-bad", "tag"),
        ("reg.test/a:" + "t" * 129, "tag"),
        ("reg.test/a@sha256:abc", "digest"),
        ("reg.test/a@md5:" + "0" * 32, "digest"),
        ("reg.test:99999/a", "port"),
        ("reg_bad.test:5000/a", "registry"),
        ("[zz]:5000/a", "registry"),
        ("reg.test/" + "a" * 300, "length"),
        ("reg.test/a\n", "reference"),
    ],
)
def test_rejects(text: str, part: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        ImageReference.parse(text)
    assert part in caught.value.message or part in str(caught.value)


def test_with_tag_rejects_bad_tag() -> None:
    with pytest.raises(InvalidInput, match="tag"):
        ImageReference.parse("reg.test/a").with_tag("bad tag")
