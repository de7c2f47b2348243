"""Challenges, the bearer-token flow and basic auth, against a fake registry."""

from __future__ import annotations

import httpx
import pytest

from lacre.errors import ConfigError, NetworkError, TooLarge
from lacre.oci.auth import Challenge, parse_challenge, pick_challenge
from lacre.oci.credentials import Credentials
from lacre.oci.digest import Digest
from lacre.oci.reference import ImageReference
from lacre.oci.registry import RegistryClient
from tests.unit.oci.fakeregistry import HOST, FakeRegistry

IMAGE = ImageReference.parse(f"{HOST}/ns/app:v1")


def _client(fake: FakeRegistry, credentials: Credentials | None = None) -> RegistryClient:
    return RegistryClient(
        credentials=lambda host: credentials if host == HOST else None,
        transport=fake.transport(),
        sleep=lambda _s: None,
    )


def test_parse_bearer_challenge_with_commas_in_quotes() -> None:
    header = 'Bearer realm="https://a.test/token",service="reg",scope="repository:x/y:pull,push"'
    assert parse_challenge(header) == Challenge(
        "bearer",
        {"realm": "https://a.test/token", "service": "reg", "scope": "repository:x/y:pull,push"},
    )


def test_parse_challenge_odd_inputs() -> None:
    assert parse_challenge("") is None
    assert parse_challenge("realm=x") is None
    assert parse_challenge('Basic realm="a\\"b"') == Challenge("basic", {"realm": 'a"b'})
    picked = pick_challenge(['Basic realm="r"', 'Bearer realm="https://t"'])
    assert picked is not None and picked.scheme == "bearer"


def test_bearer_flow_with_credentials_and_token_reuse() -> None:
    fake = FakeRegistry(auth="bearer")
    with _client(fake, Credentials("alice", "s3cret")) as client:
        digest = client.put_blob(IMAGE, b"layer")
        assert client.get_blob(IMAGE, digest) == b"layer"
        before = len(fake.tokens_issued)
        assert client.blob_exists(IMAGE, digest)
        assert len(fake.tokens_issued) == before, "cached push token serves pulls"
    assert all(issued["service"] == HOST for issued in fake.tokens_issued)
    assert any("repository:ns/app:pull,push" in issued["scopes"] for issued in fake.tokens_issued)


def test_bearer_flow_counts_token_round_trips() -> None:
    fake = FakeRegistry(auth="bearer")
    with _client(fake, Credentials("alice", "s3cret")) as client:
        assert not client.blob_exists(IMAGE, Digest.of(b"x"))
        # 401, token, retried HEAD
        assert client.round_trips == 3
        assert not client.blob_exists(IMAGE, Digest.of(b"y"))
        assert client.round_trips == 4


def test_bearer_wrong_credentials_is_config_error() -> None:
    fake = FakeRegistry(auth="bearer")
    with (
        _client(fake, Credentials("alice", "wrong")) as client,
        pytest.raises(ConfigError, match="refused the credentials"),
    ):
        client.blob_exists(IMAGE, Digest.of(b"x"))


def test_anonymous_denied_names_the_image() -> None:
    fake = FakeRegistry(auth="basic")
    with _client(fake) as client, pytest.raises(ConfigError, match="denied access") as caught:
        client.get_manifest(IMAGE)
    assert str(IMAGE) in str(caught.value)


def test_identity_token_uses_refresh_grant() -> None:
    fake = FakeRegistry(auth="bearer")
    with _client(fake, Credentials("", "", "refresh-me")) as client:
        assert not client.blob_exists(IMAGE, Digest.of(b"x"))
    form = fake.tokens_issued[0]["form"]
    assert form["grant_type"] == "refresh_token"
    assert form["service"] == HOST
    assert "repository:ns/app:pull" in form["scope"]


def test_basic_auth_is_sent_after_challenge_and_then_preemptively() -> None:
    fake = FakeRegistry(auth="basic")
    with _client(fake, Credentials("alice", "s3cret")) as client:
        assert not client.blob_exists(IMAGE, Digest.of(b"x"))
        assert client.round_trips == 2
        assert not client.blob_exists(IMAGE, Digest.of(b"y"))
        assert client.round_trips == 3


def _challenge(realm: str) -> httpx.Response:
    return httpx.Response(401, headers={"WWW-Authenticate": f'Bearer realm="{realm}"'})


@pytest.mark.parametrize(
    ("realm", "message"),
    [("http://auth.example.test/token", "plain HTTP"), ("ftp://x/y", "unusable token realm")],
)
def test_refuses_bad_realms(realm: str, message: str) -> None:
    fake = FakeRegistry()
    fake.intercept.append(lambda r: _challenge(realm) if r.url.host == HOST else None)
    with (
        _client(fake, Credentials("alice", "s3cret")) as client,
        pytest.raises(NetworkError, match=message),
    ):
        client.blob_exists(IMAGE, Digest.of(b"x"))


@pytest.mark.parametrize(
    "body", [b"{}", b"not json", b'{"token": 5}', b'{"token": "bad\\ntoken"}', b"[]"]
)
def test_token_service_without_token(body: bytes) -> None:
    fake = FakeRegistry(auth="bearer")
    fake.intercept.append(
        lambda r: httpx.Response(200, content=body) if r.url.host == "auth.example.test" else None
    )
    with (
        _client(fake, Credentials("alice", "s3cret")) as client,
        pytest.raises(NetworkError, match="without a token"),
    ):
        client.blob_exists(IMAGE, Digest.of(b"x"))


def test_oversized_token_answer() -> None:
    fake = FakeRegistry(auth="bearer")
    huge = b'{"token": "' + b"a" * (2 << 20) + b'"}'
    fake.intercept.append(
        lambda r: httpx.Response(200, content=huge) if r.url.host == "auth.example.test" else None
    )
    with (
        _client(fake, Credentials("alice", "s3cret")) as client,
        pytest.raises(TooLarge) as caught,
    ):
        client.blob_exists(IMAGE, Digest.of(b"x"))
    assert "too large" in str(caught.value)
