from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lacre.apps.errors import install_error_handlers
from lacre.apps.tuf.routes import tuf_router
from lacre.trust.targets import TRUSTED_ROOT
from lacre.trust.workspace import write_tree
from tests.unit.trust.helpers import make_repository, trusted_root_bytes


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    repository, _ = make_repository()
    published = tmp_path / "srv" / "published"
    write_tree(published, repository.files())
    (tmp_path / "srv" / "secret.json").write_text('{"secret": 1}')
    (published / "targets" / ("0" * 64 + ".link.json")).symlink_to(tmp_path / "srv" / "secret.json")
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(tuf_router(published))
    return TestClient(app)


def test_serves_metadata_and_targets(client: TestClient) -> None:
    root = client.get("/tuf/1.root.json")
    assert root.status_code == 200
    assert root.headers["content-type"] == "application/json"
    assert b'"_type": "root"' in root.content
    timestamp = client.get("/tuf/timestamp.json")
    assert timestamp.headers["cache-control"] == "no-cache"
    assert client.get("/tuf/1.snapshot.json").status_code == 200
    sha = timestamp.json()["signed"]["meta"]["snapshot.json"]["version"]
    assert sha == 1
    targets = client.get("/tuf/1.targets.json").json()["signed"]["targets"]
    digest = targets[TRUSTED_ROOT]["hashes"]["sha256"]
    assert client.get(f"/tuf/targets/{digest}.{TRUSTED_ROOT}").content == trusted_root_bytes()
    assert client.head("/tuf/timestamp.json").status_code == 200


def test_first_missing_root_is_a_json_404(client: TestClient) -> None:
    response = client.get("/tuf/2.root.json")
    assert response.status_code == 404
    assert response.json()["code"] == 404
    assert "message" in response.json()


@pytest.mark.parametrize(
    "path",
    [
        "/tuf/../secret.json",
        "/tuf/%2e%2e/secret.json",
        "/tuf/targets/..%2F..%2Fsecret.json",
        "/tuf/targets%2F..%2F..%2Fsecret.json",
        "/tuf//etc/passwd",
        "/tuf/%2Fetc%2Fpasswd",
        "/tuf/targets/" + "0" * 64 + ".link.json",
        "/tuf/root.json",
        "/tuf/0.root.json",
        "/tuf/.lock",
        "/tuf/",
        "/tuf/1.root.json.tmp",
    ],
)
def test_refuses_everything_else(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert b'"secret": 1' not in response.content
    assert response.json()["code"] == 404


def test_writes_are_not_allowed(client: TestClient) -> None:
    assert client.put("/tuf/timestamp.json", content=b"{}").status_code == 405
