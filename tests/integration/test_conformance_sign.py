"""`lacre-conformance sign-bundle` against `lacre server --dev`, checked by `verify-bundle`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.commands import python_module
from tests.integration.conftest import StartServer

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "conformance"
EMAIL = "conformance@example.com"


@pytest.mark.parametrize("in_toto", [False, True])
def test_sign_bundle_then_verify_bundle(
    start_server: StartServer, tmp_path: Path, in_toto: bool
) -> None:
    server = start_server()
    client = server.data_dir / "client"
    trust = ["--trusted-root", str(client / "trusted_root.json")]
    token = server.token(EMAIL)
    bundle = tmp_path / "bundle.sigstore.json"
    signed_file = ASSETS / ("statement.json" if in_toto else "a.txt")
    signed = python_module(
        "lacre.cli.conformance",
        "sign-bundle",
        *(["--in-toto"] if in_toto else []),
        *("--identity-token", token, "--bundle", str(bundle)),
        *trust,
        *("--signing-config", str(client / "signing_config.json")),
        str(signed_file),
    )
    assert signed.returncode == 0, signed.stderr
    identity = ["--certificate-identity", EMAIL, "--certificate-oidc-issuer", f"{server.url}/oidc"]
    verify = ["verify-bundle", "--bundle", str(bundle), *identity, *trust]
    artifact = ASSETS / "a.txt"  # the statement's subject, or the signed file itself
    assert python_module("lacre.cli.conformance", *verify, str(artifact)).returncode == 0
    other = tmp_path / "other.txt"
    other.write_bytes(artifact.read_bytes() + b"!")
    refused = python_module("lacre.cli.conformance", *verify, str(other))
    assert refused.returncode == 1 and "error:" in refused.stderr


def test_sign_bundle_without_a_token_is_a_usage_error(tmp_path: Path) -> None:
    done = python_module(
        "lacre.cli.conformance",
        "sign-bundle",
        "--bundle",
        str(tmp_path / "b.json"),
        str(ASSETS / "a.txt"),
    )
    assert done.returncode == 2
    assert "--identity-token" in done.stderr
