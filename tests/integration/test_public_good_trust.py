"""The default (public-good) trust: updated through TUF, else the cache, else the shipped copy."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from lacre.cli import trustopts
from lacre.cli.main import cli
from lacre.trust.public_good import public_good_tuf_root
from lacre.verify.roots import public_good_trusted_root_bytes

CASE = Path(__file__).resolve().parents[1] / "assets" / "conformance" / "bundle-verify"
IDENTITY = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_repository_falls_back_to_the_shipped_copy_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "lacre.trust.public_good.PUBLIC_GOOD_TUF_URL", f"http://127.0.0.1:{closed_port()}"
    )
    documents = trustopts.public_good_documents(tmp_path / "cache", offline=False)
    assert documents.trusted_root == public_good_trusted_root_bytes()
    assert documents.signing_config is not None
    assert len(documents.warnings) == 1
    assert "cannot fetch TUF data" in documents.warnings[0]
    assert "shipped with lacre" in documents.warnings[0]


def test_offline_uses_the_shipped_copy_quietly(tmp_path: Path) -> None:
    documents = trustopts.public_good_documents(tmp_path / "cache", offline=True)
    assert documents.trusted_root == public_good_trusted_root_bytes()
    assert documents.warnings == ()


def test_the_shipped_tuf_root_is_the_public_good_root() -> None:
    root = json.loads(public_good_tuf_root())
    assert root["signed"]["_type"] == "root"
    assert root["signed"]["roles"]["root"]["threshold"] >= 3


def test_verify_blob_with_the_repository_unreachable_warns_and_still_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "lacre.trust.public_good.PUBLIC_GOOD_TUF_URL", f"http://127.0.0.1:{closed_port()}"
    )
    monkeypatch.delenv("LACRE_OFFLINE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    case = CASE / "happy-path-v0.3"
    result = CliRunner().invoke(
        cli,
        [
            "verify-blob", str(CASE / "a.txt"),
            "--bundle", str(case / "bundle.sigstore.json"),
            "--certificate-identity", IDENTITY,
            "--certificate-oidc-issuer", "https://token.actions.githubusercontent.com",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "warning:" in result.output and "shipped with lacre" in result.output
