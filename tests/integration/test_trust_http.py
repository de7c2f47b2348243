"""The TUF router on a real HTTP server, read by python-tuf and by sigstore-python."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sigstore.models import ClientTrustConfig

from lacre.apps.errors import install_error_handlers
from lacre.apps.tuf.routes import tuf_router
from lacre.errors import VerificationError
from lacre.keys import generate_signer
from lacre.models.signing_config import ServiceEndpoint, signing_config
from lacre.models.trusted_root import TransparencyLogKey, trusted_root
from lacre.trust import SIGNING_CONFIG, TRUSTED_ROOT, Ceremony, TrustClient, Workspace

START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def _documents(tag: str = "one") -> dict[str, bytes]:
    key = generate_signer().public_key
    root = trusted_root(
        [
            TransparencyLogKey(
                base_url=f"http://rekor.{tag}.test", key=key, log_id=key.key_id, valid_from=START
            )
        ]
    )
    service = ServiceEndpoint(
        url="http://fulcio.example.test",
        major_api_version=1,
        operator="example.test",
        valid_from=START,
    )
    rekor = ServiceEndpoint(
        url=f"http://rekor.{tag}.test",
        major_api_version=1,
        operator="example.test",
        valid_from=START,
    )
    config = signing_config(ca=[service], rekor=[rekor])
    return {TRUSTED_ROOT: json.dumps(root).encode(), SIGNING_CONFIG: json.dumps(config).encode()}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path / "repo")
    workspace.init(
        tmp_path / "offline",
        Ceremony(root_keys=1, threshold=1, targets=_documents()),
        dt.datetime.now(dt.UTC),
    )
    return workspace


@pytest.fixture
def url(workspace: Workspace) -> Iterator[str]:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(tuf_router(workspace.published_dir))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/tuf"
    server.should_exit = True
    thread.join(timeout=20)


def test_lacre_client_bootstraps_updates_and_refuses_tampering(
    tmp_path: Path, workspace: Workspace, url: str
) -> None:
    root = (workspace.published_dir / "1.root.json").read_bytes()
    client = TrustClient(url, tmp_path / "cache")
    material = client.bootstrap(root)
    assert json.loads(material.trusted_root)["mediaType"].startswith(
        "application/vnd.dev.sigstore.trustedroot"
    )
    workspace.publish(_documents("two"), dt.datetime.now(dt.UTC))
    assert b"rekor.two.test" in client.update().trusted_root
    stamp = workspace.published_dir / "timestamp.json"
    stamp.write_bytes(stamp.read_bytes().replace(b'"version": 2', b'"version": 9'))
    with pytest.raises(VerificationError, match="tampered"):
        client.update()
    assert httpx.get(f"{url}/2.root.json").json()["code"] == 404


def test_sigstore_python_loads_trust_from_our_repository(
    tmp_path: Path, workspace: Workspace, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    config = ClientTrustConfig.from_tuf(url, bootstrap_root=workspace.published_dir / "1.root.json")
    assert config.signing_config.get_fulcio().url == "http://fulcio.example.test"
    tlogs = [str(getattr(log, "url", "")) for log in config.signing_config.get_tlogs()]
    assert tlogs == ["http://rekor.one.test/api/v1"]
    assert (tmp_path / "data" / "sigstore-python").is_dir()
