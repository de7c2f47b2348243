"""docker config.json credentials: auths, credHelpers, credsStore."""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from lacre.errors import ConfigError
from lacre.oci.credentials import (
    Credentials,
    DockerConfig,
    docker_config_path,
    run_credential_helper,
)

HELPER = """#!/bin/sh
read server
case "$server" in
  helped.test) echo '{"ServerURL":"helped.test","Username":"bob","Secret":"pw-bob"}' ;;
  token.test) echo '{"ServerURL":"token.test","Username":"<token>","Secret":"refresh-me"}' ;;
  garbage.test) echo 'not json' ;;
  broken.test) echo 'boom' >&2; exit 2 ;;
  *) echo 'credentials not found in native keychain'; exit 1 ;;
esac
"""


@pytest.fixture
def helper_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fake ``docker-credential-test`` on PATH."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "docker-credential-test"
    script.write_text(HELPER)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    yield script


def _auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def test_config_path() -> None:
    home = Path("/home/u")
    assert docker_config_path({}, home) == home / ".docker" / "config.json"
    assert docker_config_path({"DOCKER_CONFIG": "/etc/d"}, home) == Path("/etc/d/config.json")


def test_auths_entry_by_host_and_by_url_key() -> None:
    config = DockerConfig(
        {
            "auths": {
                "reg.test:5000": {"auth": _auth("alice", "pa:ss")},
                "https://other.test/v2/": {"username": "u", "password": "p"},
            }
        }
    )
    assert config.credentials_for("reg.test:5000") == Credentials("alice", "pa:ss")
    assert config.credentials_for("other.test") == Credentials("u", "p")
    assert config.credentials_for("unknown.test") is None


def test_docker_hub_legacy_key() -> None:
    config = DockerConfig({"auths": {"https://index.docker.io/v1/": {"auth": _auth("h", "p")}}})
    assert config.credentials_for("registry-1.docker.io") == Credentials("h", "p")


def test_identity_token_entry() -> None:
    config = DockerConfig({"auths": {"reg.test": {"auth": _auth("u", "p"), "identitytoken": "t"}}})
    found = config.credentials_for("reg.test")
    assert found is not None and found.identity_token == "t"


def test_credentials_repr_hides_secrets() -> None:
    assert "pw" not in repr(Credentials("user", "pw", "tok"))


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"auth": "!!!"}, "base64"),
        ({"auth": base64.b64encode(b"nocolon").decode()}, "user:password"),
    ],
)
def test_bad_auth_entry(entry: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        DockerConfig({"auths": {"reg.test": entry}}).credentials_for("reg.test")


@pytest.mark.parametrize("document", [{"auths": []}, {"credHelpers": "x"}, {"credsStore": 3}])
def test_malformed_config(document: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        DockerConfig(document)


def test_load_file(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    assert DockerConfig.load(path).credentials_for("reg.test") is None
    path.write_text(json.dumps({"auths": {"reg.test": {"auth": _auth("a", "b")}}}))
    assert DockerConfig.load(path).credentials_for("reg.test") == Credentials("a", "b")
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        DockerConfig.load(path)
    path.write_text("[]")
    with pytest.raises(ConfigError, match="not a JSON object"):
        DockerConfig.load(path)
    path.write_bytes(b" " * (2 << 20))
    with pytest.raises(ConfigError, match="too large"):
        DockerConfig.load(path)


@pytest.mark.usefixtures("helper_on_path")
def test_cred_helper_per_registry() -> None:
    config = DockerConfig(
        {
            "credHelpers": {"helped.test": "test"},
            "auths": {"helped.test": {"auth": _auth("x", "y")}},
        }
    )
    assert config.credentials_for("helped.test") == Credentials("bob", "pw-bob")


@pytest.mark.usefixtures("helper_on_path")
def test_creds_store_then_auths_fallback() -> None:
    config = DockerConfig(
        {"credsStore": "test", "auths": {"plain.test": {"auth": _auth("p", "q")}}}
    )
    assert config.credentials_for("helped.test") == Credentials("bob", "pw-bob")
    assert config.credentials_for("plain.test") == Credentials("p", "q")
    assert config.credentials_for("nowhere.test") is None


@pytest.mark.usefixtures("helper_on_path")
def test_helper_identity_token() -> None:
    assert run_credential_helper("test", "token.test") == Credentials("", "", "refresh-me")


@pytest.mark.usefixtures("helper_on_path")
def test_helper_failures() -> None:
    with pytest.raises(ConfigError, match="out of protocol"):
        run_credential_helper("test", "garbage.test")
    with pytest.raises(ConfigError, match="exit code 2") as caught:
        run_credential_helper("test", "broken.test")
    assert "boom" in str(caught.value)


def test_missing_helper(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConfigError, match="docker-credential-absent"):
        DockerConfig({"credHelpers": {"r.test": "absent"}}).credentials_for("r.test")
