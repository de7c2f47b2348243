"""Every bundle-verify conformance case, by path and by digest, through the CLI and the library."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lacre.errors import Error
from lacre.verify import AllOf, Artifact, Identity, Issuer, ManagedKey, Verifier
from tests.conformance.cases import (
    CASES_DIR,
    DEFAULT_IDENTITY,
    DEFAULT_ISSUER,
    Case,
    all_cases,
)

pytestmark = pytest.mark.disable_socket

CASES = all_cases()
IDS = [case.name for case in CASES]
MODES = ["path", "digest"]


def test_the_copied_suite_is_complete() -> None:
    assert len(CASES) == 70
    assert (CASES_DIR / "a.txt").is_file()
    assert sum(case.must_verify for case in CASES) == 21


def _cli_arguments(case: Case, mode: str) -> list[str]:
    arguments = ["verify-bundle", "--bundle", str(case.bundle)]
    key = case.optional("key.pub")
    if key is not None:
        arguments += ["--key", str(key)]
    else:
        arguments += ["--certificate-identity", case.text("identity", DEFAULT_IDENTITY)]
        arguments += ["--certificate-oidc-issuer", case.text("issuer", DEFAULT_ISSUER)]
    root = case.optional("trusted_root.json")
    if root is not None:
        arguments += ["--trusted-root", str(root)]
    arguments.append(str(case.artifact) if mode == "path" else case.digest)
    return arguments


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_cli(case: Case, mode: str) -> None:
    command = [sys.executable, "-m", "lacre.cli.conformance", *_cli_arguments(case, mode)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if case.must_verify:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode == 1, result.stderr
        assert result.stderr.startswith("error: ")


def _verify(case: Case, mode: str) -> None:
    root = case.optional("trusted_root.json")
    verifier = Verifier.public_good() if root is None else Verifier.from_file(root)
    key = case.optional("key.pub")
    policy = (
        ManagedKey.from_pem(key.read_bytes())
        if key is not None
        else AllOf(
            Identity(case.text("identity", DEFAULT_IDENTITY)),
            Issuer(case.text("issuer", DEFAULT_ISSUER)),
        )
    )
    artifact = (
        Artifact.from_bytes(case.artifact.read_bytes())
        if mode == "path"
        else Artifact.from_digest(case.digest)
    )
    verifier.verify(case.bundle.read_bytes(), artifact, policy)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_library(case: Case, mode: str) -> None:
    if case.must_verify:
        _verify(case, mode)
    else:
        with pytest.raises(Error) as failure:
            _verify(case, mode)
        assert failure.value.message


def test_staging_without_a_trusted_root_is_refused() -> None:
    case = next(case for case in CASES if case.name == "happy-path-v0.3")
    arguments = _cli_arguments(case, "path")
    arguments.insert(1, "--staging")
    command = [sys.executable, "-m", "lacre.cli.conformance", *arguments]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert "--staging needs --trusted-root" in result.stderr


def test_console_script_verifies_a_case() -> None:
    script = Path(sys.executable).parent / "lacre-conformance"
    assert script.is_file(), "the lacre-conformance console script is not installed"
    case = next(case for case in CASES if case.name == "rekor2-happy-path")
    result = subprocess.run(
        [str(script), *_cli_arguments(case, "digest")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout
