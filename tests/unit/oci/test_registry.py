"""The registry client against an in-memory registry: reads, writes, limits, retries, errors."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from lacre.errors import (
    ConfigError,
    InvalidInput,
    NetworkError,
    NotFound,
    PushbackError,
    TooLarge,
    VerificationError,
)
from lacre.oci import mediatypes as mt
from lacre.oci.credentials import Credentials
from lacre.oci.digest import Digest
from lacre.oci.http import RegistryOptions
from lacre.oci.manifest import ImageIndex, ImageManifest
from lacre.oci.reference import ImageReference
from lacre.oci.registry import RegistryClient
from lacre.testing.ocilayout import random_image, random_index
from tests.unit.oci.fakeregistry import HOST, FakeRegistry, digest_of

IMAGE = ImageReference.parse(f"{HOST}/ns/app:v1")


def _client(fake: FakeRegistry, **options: object) -> tuple[RegistryClient, list[float]]:
    sleeps: list[float] = []
    client = RegistryClient(
        RegistryOptions(**options),  # type: ignore[arg-type]
        transport=fake.transport(),
        sleep=sleeps.append,
    )
    return client, sleeps


def _stored_image(fake: FakeRegistry) -> tuple[str, bytes]:
    raw = random_image().raw
    return fake.put_manifest("ns/app", "v1", mt.OCI_MANIFEST, raw), raw


def test_resolve_uses_head_with_accept_header() -> None:
    fake = FakeRegistry()
    digest, _ = _stored_image(fake)
    client, _ = _client(fake)
    assert str(client.resolve(IMAGE)) == digest
    request = fake.requests[-1]
    assert request.method == "HEAD"
    assert request.url == httpx.URL(f"https://{HOST}/v2/ns/app/manifests/v1")
    for media_type in (mt.OCI_MANIFEST, mt.OCI_INDEX, mt.DOCKER_MANIFEST, mt.DOCKER_MANIFEST_LIST):
        assert media_type in request.headers["accept"]
    assert client.round_trips == 1


def test_resolve_pinned_needs_no_request() -> None:
    fake = FakeRegistry()
    client, _ = _client(fake)
    pinned = IMAGE.with_digest(Digest.of(b"x"))
    assert client.resolve(pinned) == Digest.of(b"x")
    assert client.round_trips == 0


def test_resolve_without_digest_header_fetches_manifest() -> None:
    fake = FakeRegistry()
    digest, raw = _stored_image(fake)
    fake.intercept.append(
        lambda r: httpx.Response(200, headers={"Content-Type": mt.OCI_MANIFEST}, content=raw)
    )
    client, _ = _client(fake)
    assert str(client.resolve(IMAGE)) == digest


def test_get_manifest_by_tag_and_digest() -> None:
    fake = FakeRegistry()
    digest, raw = _stored_image(fake)
    client, _ = _client(fake)
    fetched = client.get_manifest(IMAGE)
    assert fetched.raw == raw
    assert str(fetched.digest) == digest
    assert str(fetched.image) == f"{HOST}/ns/app@{digest}"
    assert isinstance(fetched.manifest, ImageManifest)
    again = client.get_manifest(fetched.image)
    assert again.raw == raw


def test_unknown_image_is_not_found_naming_it() -> None:
    client, _ = _client(FakeRegistry())
    with pytest.raises(NotFound) as caught:
        client.get_manifest(IMAGE)
    assert str(IMAGE) in str(caught.value)
    assert "MANIFEST_UNKNOWN" in str(caught.value)
    with pytest.raises(NotFound, match="ns/app:v1"):
        client.resolve(IMAGE)
    assert client.find_manifest(IMAGE) is None


def _serve(body: bytes, headers: dict[str, str] | None = None) -> FakeRegistry:
    fake = FakeRegistry()
    fake.intercept.append(
        lambda r: httpx.Response(
            200, headers={"Content-Type": mt.OCI_MANIFEST} | (headers or {}), content=body
        )
    )
    return fake


def test_digest_mismatch_by_digest() -> None:
    wanted = Digest.of(random_image().raw)
    evil = random_image().raw
    client, _ = _client(_serve(evil))
    pinned = IMAGE.with_digest(wanted)
    with pytest.raises(VerificationError) as caught:
        client.get_manifest(pinned)
    text = str(caught.value)
    assert str(pinned) in text and str(wanted) in text and str(Digest.of(evil)) in text


def test_digest_mismatch_against_content_digest_header() -> None:
    raw = random_image().raw
    claimed = Digest.of(b"other")
    client, _ = _client(_serve(raw, {"Docker-Content-Digest": str(claimed)}))
    with pytest.raises(VerificationError, match="digest mismatch"):
        client.get_manifest(IMAGE)


def test_malformed_content_digest_header() -> None:
    client, _ = _client(_serve(random_image().raw, {"Docker-Content-Digest": "md5:1"}))
    with pytest.raises(NetworkError, match="malformed Docker-Content-Digest"):
        client.get_manifest(IMAGE)


def test_corrupt_manifest_json() -> None:
    client, _ = _client(_serve(b'{"schemaVersion": 2, "config": '))
    with pytest.raises(InvalidInput, match="not valid JSON"):
        client.get_manifest(IMAGE)


def test_oversized_manifest_declared() -> None:
    client, _ = _client(_serve(b" " * (4 * 1024 * 1024 + 1)))
    with pytest.raises(TooLarge, match="too large"):
        client.get_manifest(IMAGE)


def test_oversized_manifest_streamed_without_length() -> None:
    def chunks() -> object:
        for _ in range(5):
            yield b" " * (1024 * 1024)

    fake = FakeRegistry()
    fake.intercept.append(lambda r: httpx.Response(200, content=chunks()))  # type: ignore[arg-type]
    client, _ = _client(fake)
    with pytest.raises(TooLarge):
        client.get_manifest(IMAGE)


def test_put_manifest_refuses_oversized() -> None:
    client, _ = _client(FakeRegistry(), max_manifest_bytes=100)
    with pytest.raises(TooLarge):
        client.put_manifest(IMAGE, random_image(layers=3).manifest)


def test_blob_round_trip_and_existence() -> None:
    fake = FakeRegistry()
    client, _ = _client(fake)
    digest = client.put_blob(IMAGE, b"hello")
    assert fake.blobs["ns/app"][str(digest)] == b"hello"
    assert client.blob_exists(IMAGE, digest)
    assert client.get_blob(IMAGE, digest) == b"hello"
    trips = client.round_trips
    assert client.put_blob(IMAGE, b"hello") == digest
    assert client.round_trips == trips + 1, "an existing blob is not uploaded again"


def test_blob_upload_is_post_then_put_with_digest() -> None:
    fake = FakeRegistry()
    client, _ = _client(fake)
    client.put_blob(IMAGE, b"data")
    post, put = fake.requests[-2], fake.requests[-1]
    assert (post.method, post.url.path) == ("POST", "/v2/ns/app/blobs/uploads/")
    assert put.method == "PUT"
    assert put.url.params["digest"] == digest_of(b"data")
    assert put.url.params["_state"] == "x", "the upload location's query is kept"
    assert put.headers["content-type"] == "application/octet-stream"


def test_blob_mount_from_other_repository() -> None:
    fake = FakeRegistry()
    client, _ = _client(fake)
    source = ImageReference.parse(f"{HOST}/other/base")
    client.put_blob(source, b"shared")
    before = len(fake.requests)
    client.put_blob(IMAGE, b"shared", mount_from=source)
    posts = [r for r in fake.requests[before:] if r.method == "POST"]
    assert posts[0].url.params["mount"] == digest_of(b"shared")
    assert not [r for r in fake.requests[before:] if r.method == "PUT"]
    assert client.blob_exists(IMAGE, Digest.of(b"shared"))


def test_blob_digest_mismatch_and_size_limit() -> None:
    fake = FakeRegistry()
    fake.blobs["ns/app"] = {digest_of(b"good"): b"evil"}
    client, _ = _client(fake)
    with pytest.raises(VerificationError, match="blob of"):
        client.get_blob(IMAGE, Digest.of(b"good"))
    fake.blobs["ns/app"] = {digest_of(b"x" * 100): b"x" * 100}
    with pytest.raises(TooLarge):
        client.get_blob(IMAGE, Digest.of(b"x" * 100), max_bytes=99)


def test_put_manifest_reports_subject_processing() -> None:
    fake = FakeRegistry(subject_header=True)
    client, _ = _client(fake)
    image = random_image()
    pushed = client.put_manifest(IMAGE, image.manifest)
    assert pushed.digest == Digest.of(image.raw)
    assert not pushed.subject_processed
    request = fake.requests[-1]
    assert request.headers["content-type"] == mt.OCI_MANIFEST
    assert request.url.path == "/v2/ns/app/manifests/v1"


def test_put_manifest_by_digest_without_tag() -> None:
    fake = FakeRegistry()
    client, _ = _client(fake)
    index = random_index()
    pushed = client.put_manifest(IMAGE.with_digest(Digest.of(b"ignored")), index.index)
    assert fake.requests[-1].url.path == f"/v2/ns/app/manifests/{pushed.digest}"
    assert fake.requests[-1].headers["content-type"] == mt.OCI_INDEX


def test_put_manifest_wrong_stored_digest() -> None:
    fake = FakeRegistry()
    fake.intercept.append(
        lambda r: httpx.Response(201, headers={"Docker-Content-Digest": digest_of(b"x")})
    )
    client, _ = _client(fake)
    with pytest.raises(NetworkError, match="another digest"):
        client.put_manifest(IMAGE, random_image().manifest)


def _flaky(fake: FakeRegistry, failures: int, status: int = 503) -> None:
    left = [failures]

    def hook(request: httpx.Request) -> httpx.Response | None:
        if left[0] > 0:
            left[0] -= 1
            return httpx.Response(status, headers={"Retry-After": "2"})
        return None

    fake.intercept.append(hook)


def test_get_is_retried_with_backoff() -> None:
    fake = FakeRegistry()
    _stored_image(fake)
    _flaky(fake, 2)
    client, sleeps = _client(fake, backoff_s=0.5)
    client.get_manifest(IMAGE)
    assert sleeps == [2.0, 2.0], "Retry-After wins over shorter backoff"
    assert client.round_trips == 3


def test_retries_exhausted_is_pushback() -> None:
    fake = FakeRegistry()
    _flaky(fake, 10)
    client, sleeps = _client(fake, retries=2, backoff_s=0.1)
    with pytest.raises(PushbackError):
        client.get_manifest(IMAGE)
    assert len(sleeps) == 2


def test_put_is_not_retried() -> None:
    fake = FakeRegistry()
    _flaky(fake, 1, status=502)
    client, sleeps = _client(fake)
    with pytest.raises(NetworkError, match="HTTP 502"):
        client.put_manifest(IMAGE, random_image().manifest)
    assert sleeps == []


def test_transport_errors_are_retried_then_network_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    sleeps: list[float] = []
    client = RegistryClient(
        RegistryOptions(retries=2, backoff_s=0.1),
        transport=httpx.MockTransport(refuse),
        sleep=sleeps.append,
    )
    with pytest.raises(NetworkError, match="after 3 attempt"):
        client.get_manifest(IMAGE)
    assert sleeps == [0.1, 0.2]


def test_list_tags_follows_pagination() -> None:
    fake = FakeRegistry(tags_page=2)
    for tag in ("a", "b", "c", "d", "e"):
        fake.put_manifest("ns/app", tag, mt.OCI_MANIFEST, random_image().raw)
    client, _ = _client(fake)
    assert client.list_tags(IMAGE) == ["a", "b", "c", "d", "e"]
    assert client.round_trips == 3


def test_list_tags_rejects_bad_document() -> None:
    fake = FakeRegistry()
    fake.intercept.append(lambda r: httpx.Response(200, json={"tags": [1]}))
    client, _ = _client(fake)
    with pytest.raises(InvalidInput, match="tag list"):
        client.list_tags(IMAGE)


def test_schemes() -> None:
    client, _ = _client(FakeRegistry())
    assert client._http.base_url(IMAGE) == f"https://{HOST}"
    assert (
        client._http.base_url(ImageReference.parse("localhost:5000/a")) == "http://localhost:5000"
    )
    assert client._http.base_url(ImageReference.parse("127.0.0.1:5/a")) == "http://127.0.0.1:5"
    insecure, _ = _client(FakeRegistry(), insecure=True)
    assert insecure._http.base_url(IMAGE) == f"http://{HOST}"
    strict, _ = _client(FakeRegistry(), loopback_plain_http=False)
    assert (
        strict._http.base_url(ImageReference.parse("localhost:5000/a")) == "https://localhost:5000"
    )
    hub, _ = _client(FakeRegistry())
    assert hub._http.base_url(ImageReference.parse("alpine")) == "https://registry-1.docker.io"


def test_bad_ca_bundle(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not a certificate")
    with pytest.raises(ConfigError, match="CA bundle"):
        RegistryClient(RegistryOptions(ca_bundle=bundle))


def test_index_manifest_parsed() -> None:
    fake = FakeRegistry()
    index = random_index()
    fake.put_manifest("ns/app", "v1", mt.OCI_INDEX, index.index.encode())
    client, _ = _client(fake)
    fetched = client.get_manifest(IMAGE)
    assert isinstance(fetched.manifest, ImageIndex)
    assert [d.platform for d in fetched.manifest.manifests] == [
        {"architecture": "amd64", "os": "linux"},
        {"architecture": "arm64", "os": "linux"},
    ]
    assert json.loads(fetched.raw)["mediaType"] == mt.OCI_INDEX


def test_redirect_loop_is_network_error() -> None:
    fake = FakeRegistry()
    fake.intercept.append(lambda r: httpx.Response(307, headers={"Location": str(r.url)}))
    client, _ = _client(fake, retries=0)
    with pytest.raises(NetworkError, match="TooManyRedirects"):
        client.get_manifest(IMAGE)


def test_upload_location_on_another_host_gets_no_credentials() -> None:
    fake = FakeRegistry(auth="basic")
    other = "https://elsewhere.example.test/upload?_state=x"
    fake.intercept.append(
        lambda r: httpx.Response(202, headers={"Location": other}) if r.method == "POST" else None
    )
    client = RegistryClient(
        transport=fake.transport(),
        credentials=lambda host: Credentials("alice", "s3cret") if host == HOST else None,
    )
    with pytest.raises(ConfigError):
        client.put_blob(IMAGE, b"data")
    put = next(r for r in fake.requests if r.method == "PUT")
    assert put.url.host == "elsewhere.example.test"
    assert "authorization" not in put.headers
