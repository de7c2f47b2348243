"""sigstore-python's own CLI signs and verifies against `lacre server --dev`.

Once with the trust files the server writes (``--trust-config``), once with trust
fetched through the server's TUF repository alone (``--instance URL/tuf``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from lacre.errors import VerificationError
from lacre.verify import AllOf, Identity, Issuer, Verifier
from tests.integration.commands import sigstore_python
from tests.integration.servers import Server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("e2e") / "data", "--dev")
    yield running
    running.stop()


def identity_args(server: Server, email: str) -> list[str]:
    return ["--cert-identity", email, "--cert-oidc-issuer", f"{server.url}/oidc"]


@pytest.mark.parametrize("rekor_version", ["1", "2"])
def test_sign_and_verify_with_the_trust_config(
    server: Server, tmp_path: Path, rekor_version: str
) -> None:
    """Both logs, and our TSA's timestamp (which Rekor v2 bundles need) in both bundles."""
    artifact = tmp_path / "release.tar.gz"
    artifact.write_bytes(b"release contents\n")
    trust = ["--trust-config", str(server.data_dir / "client" / "trust_config.json")]
    signed = sigstore_python(
        *trust,
        "sign",
        "--identity-token",
        server.token("alice@example.com"),
        "--rekor-version",
        rekor_version,
        str(artifact),
        home=tmp_path,
    )
    assert signed.returncode == 0, signed.stderr
    bundle = Path(f"{artifact}.sigstore.json")
    document = json.loads(bundle.read_text())
    entry = document["verificationMaterial"]["tlogEntries"][0]
    assert entry["kindVersion"]["version"] == ("0.0.1" if rekor_version == "1" else "0.0.2")
    timestamps = document["verificationMaterial"].get("timestampVerificationData", {})
    assert timestamps.get("rfc3161Timestamps"), "the signing config names our TSA"
    ours = Verifier.from_file(server.trusted_root)
    policy = AllOf(Identity("alice@example.com"), Issuer(f"{server.url}/oidc"))
    ours.verify(bundle.read_bytes(), artifact.read_bytes(), policy)
    with pytest.raises(VerificationError, match="identity"):
        ours.verify(bundle.read_bytes(), artifact.read_bytes(), Identity("bob@example.com"))
    verify = [*trust, "verify", "identity", *identity_args(server, "alice@example.com")]
    verified = sigstore_python(*verify, str(artifact), home=tmp_path)
    assert verified.returncode == 0, verified.stderr
    assert f"OK: {artifact}" in verified.stdout + verified.stderr

    wrong = [*trust, "verify", "identity", *identity_args(server, "mallory@example.com")]
    assert sigstore_python(*wrong, str(artifact), home=tmp_path).returncode != 0
    artifact.write_bytes(b"release contents, changed\n")
    assert sigstore_python(*verify, str(artifact), home=tmp_path).returncode != 0


def test_sign_and_verify_with_trust_from_the_tuf_repository(server: Server, tmp_path: Path) -> None:
    instance = ["--instance", f"{server.url}/tuf"]
    root = server.data_dir / "client" / "root.json"
    trusted = sigstore_python(*instance, "trust-instance", str(root), home=tmp_path)
    assert trusted.returncode == 0, trusted.stderr
    artifact = tmp_path / "app.bin"
    artifact.write_bytes(b"\x7fELF binary")
    signed = sigstore_python(
        *instance,
        "sign",
        "--identity-token",
        server.token("bob@example.com"),
        "--rekor-version",
        "1",
        str(artifact),
        home=tmp_path,
    )
    assert signed.returncode == 0, signed.stderr
    verify = [*instance, "verify", "identity", *identity_args(server, "bob@example.com")]
    verified = sigstore_python(*verify, str(artifact), home=tmp_path)
    assert verified.returncode == 0, verified.stderr
