"""``lacre verify-blob`` and ``verify-attestation`` on bundles sigstore-python made.

sigstore-python's CLI signs against ``lacre server --dev`` with the trust config
the server writes; lacre verifies with the server's trusted root, offline.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lacre.cli.main import cli
from tests.integration.commands import python_module, sigstore_python
from tests.integration.servers import Server

EMAIL = "alice@example.com"
SLSA = "https://slsa.dev/provenance/v1"


def sigstore(server: Server, home: Path, *args: str) -> None:
    """Run sigstore-python with the server's trust config; it must succeed."""
    trust = ["--trust-config", str(server.data_dir / "client" / "trust_config.json")]
    done = sigstore_python(*trust, *args, home=home)
    assert done.returncode == 0, done.stderr


def identity(server: Server, email: str = EMAIL) -> list[str]:
    """The identity options and the server's trusted root."""
    return [
        "--certificate-identity",
        email,
        "--certificate-oidc-issuer",
        f"{server.url}/oidc",
        "--trusted-root",
        str(server.trusted_root),
    ]


def verify(*args: str) -> Result:
    """Run a verification command in-process."""
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("rekor_version", ["1", "2"])
def test_a_sigstore_python_bundle_verifies_and_changes_are_refused(
    dev_server: Server, tmp_path: Path, rekor_version: str
) -> None:
    artifact = tmp_path / "release.tar.gz"
    artifact.write_bytes(b"release contents\n")
    sign = ["sign", "--rekor-version", rekor_version, "--identity-token", dev_server.token(EMAIL)]
    sigstore(dev_server, tmp_path, *sign, str(artifact))
    bundle = Path(f"{artifact}.sigstore.json")

    ok = verify("verify-blob", str(artifact), *identity(dev_server))
    assert ok.exit_code == 0, ok.output
    assert f"OK: {artifact}" in ok.stderr
    digest = "sha256:" + hashlib.sha256(artifact.read_bytes()).hexdigest()
    by_digest = verify("verify-blob", digest, "--bundle", str(bundle), *identity(dev_server))
    assert by_digest.exit_code == 0, by_digest.output

    wrong = verify("verify-blob", str(artifact), *identity(dev_server, "mallory@example.com"))
    assert wrong.exit_code == 1
    assert "certificate identity mismatch" in wrong.stderr
    assert EMAIL in wrong.stderr

    artifact.write_bytes(b"release contents, changed\n")
    changed = verify("verify-blob", str(artifact), *identity(dev_server))
    assert changed.exit_code == 1
    assert "does not match" in changed.stderr or "does not verify" in changed.stderr


def test_the_public_good_trust_refuses_a_private_instance_bundle(
    dev_server: Server, tmp_path: Path
) -> None:
    artifact = tmp_path / "a.bin"
    artifact.write_bytes(b"\x7fELF")
    sigstore(
        dev_server, tmp_path, "sign", "--identity-token", dev_server.token(EMAIL), str(artifact)
    )
    issuer = ["--certificate-oidc-issuer", f"{dev_server.url}/oidc"]
    result = verify("verify-blob", str(artifact), "--certificate-identity", EMAIL, *issuer)
    assert result.exit_code == 1
    assert "VerificationError" in result.stderr


def test_an_attestation_verifies_and_its_predicate_is_printed(
    dev_server: Server, tmp_path: Path
) -> None:
    artifact = tmp_path / "app.whl"
    artifact.write_bytes(b"wheel contents")
    predicate = {
        "buildDefinition": {
            "buildType": "https://example.com/build",
            "externalParameters": {"ref": "refs/heads/main"},
        },
        "runDetails": {"builder": {"id": "https://example.com/builder"}},
    }
    predicate_file = tmp_path / "predicate.json"
    predicate_file.write_text(json.dumps(predicate))
    attest = ["attest", "--predicate", str(predicate_file), "--predicate-type", SLSA]
    sigstore(
        dev_server, tmp_path, *attest, "--identity-token", dev_server.token(EMAIL), str(artifact)
    )

    command = ["verify-attestation", str(artifact), *identity(dev_server)]
    result = verify(*command, "--type", "slsaprovenance1")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == predicate
    cold = python_module("lacre", *command, "--type", "slsaprovenance1")
    assert cold.returncode == 0, cold.stderr
    assert json.loads(cold.stdout) == predicate, "the predicate must reach a pipe whole"
    mismatch = verify(*command, "--type", "cyclonedx")
    assert mismatch.exit_code == 1
    assert "predicate type mismatch" in mismatch.stderr

    other = tmp_path / "other.whl"
    other.write_bytes(b"another wheel")
    bundle = f"{artifact}.sigstore.json"
    not_subject = verify("verify-blob", str(other), "--bundle", bundle, *identity(dev_server))
    assert not_subject.exit_code == 1
    assert "not a subject" in not_subject.stderr


def test_the_command_runs_cold_in_its_own_process(dev_server: Server, tmp_path: Path) -> None:
    artifact = tmp_path / "cold.txt"
    artifact.write_bytes(b"cold start\n")
    sigstore(
        dev_server, tmp_path, "sign", "--identity-token", dev_server.token(EMAIL), str(artifact)
    )
    done = python_module("lacre", "verify-blob", str(artifact), *identity(dev_server))
    assert done.returncode == 0, done.stderr
    assert f"OK: {artifact}" in done.stderr
    refused = python_module(
        "lacre", "verify-blob", str(artifact), *identity(dev_server, "bob@example.com")
    )
    assert refused.returncode == 1
    assert "certificate identity mismatch" in refused.stderr
    assert "expected bob@example.com" in refused.stderr
