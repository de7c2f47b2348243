"""``lacre verify-blob`` and ``lacre verify-attestation`` on the conformance suite's bundles.

These tests run with network sockets disabled: verification is offline.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography import x509

from lacre.cli.main import cli
from lacre.keys import generate_signer, save_signer
from lacre.x509.fulcio import FulcioClaims

CASES = Path(__file__).parents[2] / "assets" / "conformance" / "bundle-verify"
ARTIFACT = CASES / "a.txt"
IDENTITY = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)
ISSUER = "https://token.actions.githubusercontent.com"
KEYLESS = ["--certificate-identity", IDENTITY, "--certificate-oidc-issuer", ISSUER]
SLSA = "https://slsa.dev/provenance/v1"
DSSE_CASE = "happy-path-intoto-in-dsse-v3"


def bundle(case: str) -> str:
    """The bundle of a conformance case."""
    return str(CASES / case / "bundle.sigstore.json")


def run(*args: str) -> Result:
    """Run a verification command."""
    return CliRunner().invoke(cli, list(args))


def blob(case: str, *args: str, artifact: str = str(ARTIFACT)) -> Result:
    """``verify-blob`` of ``artifact`` with the case's bundle."""
    return run("verify-blob", artifact, "--bundle", bundle(case), *args)


def attestation(
    case: str, predicate_type: str, *args: str, artifact: str = str(ARTIFACT)
) -> Result:
    """``verify-attestation`` of ``artifact`` with the case's bundle and ``--type``."""
    return run(
        "verify-attestation", artifact, "--bundle", bundle(case), "--type", predicate_type, *args
    )


def digest(path: Path) -> str:
    """``sha256:<hex>`` of a file."""
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def refused(result: Result, *phrases: str) -> None:
    """The command refused with exit status 1, its diagnostic naming every phrase."""
    assert result.exit_code == 1, result.output
    assert "OK:" not in result.stderr
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr


def claims() -> FulcioClaims:
    """The Fulcio claims of the happy-path-v0.3 signing certificate."""
    document = json.loads(Path(bundle("happy-path-v0.3")).read_text())
    der = base64.b64decode(document["verificationMaterial"]["certificate"]["rawBytes"])
    return FulcioClaims.from_certificate(x509.load_der_x509_certificate(der))


@pytest.mark.parametrize(
    "case",
    ["happy-path-v0.1", "happy-path-v0.2", "happy-path-v0.3", DSSE_CASE],
)
def test_happy_paths_verify_by_path(case: str) -> None:
    result = blob(case, *KEYLESS)
    assert result.exit_code == 0, result.output
    assert f"OK: {ARTIFACT}" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("case", ["happy-path-v0.3", DSSE_CASE])
def test_happy_paths_verify_by_digest(case: str) -> None:
    result = blob(case, *KEYLESS, artifact=digest(ARTIFACT))
    assert result.exit_code == 0, result.output
    assert f"OK: {digest(ARTIFACT)}" in result.stderr


def test_the_bundle_defaults_to_file_dot_sigstore_json(tmp_path: Path) -> None:
    artifact = tmp_path / "a.txt"
    shutil.copy(ARTIFACT, artifact)
    shutil.copy(bundle("happy-path-v0.3"), tmp_path / "a.txt.sigstore.json")
    result = run("verify-blob", str(artifact), *KEYLESS)
    assert result.exit_code == 0, result.output


def test_a_digest_needs_an_explicit_bundle() -> None:
    result = run("verify-blob", digest(ARTIFACT), *KEYLESS)
    assert result.exit_code == 2
    assert "--bundle" in result.stderr


def test_a_changed_artifact_is_refused(tmp_path: Path) -> None:
    changed = tmp_path / "a.txt"
    changed.write_bytes(ARTIFACT.read_bytes() + b"!")
    refused(blob("happy-path-v0.3", *KEYLESS, artifact=str(changed)), "does not match")


def test_an_unknown_digest_is_refused() -> None:
    other = "sha256:" + "00" * 32
    refused(blob("happy-path-v0.3", *KEYLESS, artifact=other), "artifact digest", "00" * 32)


def test_a_wrong_identity_names_expected_and_found() -> None:
    result = blob(
        "happy-path-v0.3",
        "--certificate-identity",
        "mallory@example.com",
        "--certificate-oidc-issuer",
        ISSUER,
    )
    refused(result, "certificate identity mismatch", "mallory@example.com", IDENTITY)


def test_a_wrong_issuer_names_expected_and_found() -> None:
    wrong = ["--certificate-identity", IDENTITY, "--certificate-oidc-issuer", "https://evil"]
    refused(blob("happy-path-v0.3", *wrong), "OIDC issuer mismatch", "https://evil", ISSUER)


def test_identity_and_issuer_regexps_match_whole_values() -> None:
    good = [
        "--certificate-identity-regexp",
        r"https://github\.com/sigstore-conformance/.*",
        "--certificate-oidc-issuer-regexp",
        r"https://token\.actions\.githubusercontent\.com",
    ]
    assert blob("happy-path-v0.3", *good).exit_code == 0
    partial = ["--certificate-identity-regexp", "sigstore-conformance"]
    result = blob("happy-path-v0.3", *partial, "--certificate-oidc-issuer", ISSUER)
    refused(result, "certificate identity mismatch", "/sigstore-conformance/")
    issuer = ["--certificate-identity", IDENTITY, "--certificate-oidc-issuer-regexp", "https://x.*"]
    refused(blob("happy-path-v0.3", *issuer), "OIDC issuer mismatch", "/https://x.*/")


def test_a_regexp_that_does_not_compile_is_refused() -> None:
    result = blob(
        "happy-path-v0.3", "--certificate-identity-regexp", "(", "--certificate-oidc-issuer", ISSUER
    )
    refused(result, "does not compile")


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ([], "--certificate-identity"),
        (["--certificate-identity", IDENTITY], "--certificate-oidc-issuer"),
        (["--certificate-oidc-issuer", ISSUER], "--certificate-identity"),
    ],
)
def test_the_identity_policy_is_required_without_a_key(given: list[str], missing: str) -> None:
    result = blob("happy-path-v0.3", *given)
    assert result.exit_code == 2
    assert missing in result.stderr
    assert "--key" in result.stderr


def test_exact_and_regexp_forms_exclude_each_other() -> None:
    both = [*KEYLESS, "--certificate-identity-regexp", ".*"]
    result = blob("happy-path-v0.3", *both)
    assert result.exit_code == 2
    assert "not both" in result.stderr


@pytest.mark.parametrize("claim", ["repository", "ref", "trigger", "sha", "name"])
def test_each_github_workflow_claim_is_checked(claim: str) -> None:
    value = getattr(claims(), f"github_workflow_{claim}")
    assert value, f"the conformance certificate carries the {claim} claim"
    flag = f"--certificate-github-workflow-{claim}"
    assert blob("happy-path-v0.3", *KEYLESS, flag, value).exit_code == 0
    refused(
        blob("happy-path-v0.3", *KEYLESS, flag, value + "-other"),
        f"github_workflow_{claim} mismatch",
        value + "-other",
    )


def test_the_repository_claim_of_the_conformance_certificate() -> None:
    flag = "--certificate-github-workflow-repository"
    repository = "sigstore-conformance/extremely-dangerous-public-oidc-beacon"
    assert blob("happy-path-v0.3", *KEYLESS, flag, repository).exit_code == 0


def test_a_key_signed_bundle_verifies_with_its_key() -> None:
    key = CASES / "managed-key-happy-path" / "key.pub"
    assert blob("managed-key-happy-path", "--key", str(key)).exit_code == 0
    assert blob("managed-key-happy-path", "--key", f"file:{key}").exit_code == 0
    by_digest = blob("managed-key-happy-path", "--key", str(key), artifact=digest(ARTIFACT))
    assert by_digest.exit_code == 0, by_digest.output


def test_a_key_signed_bundle_is_refused_with_another_key(tmp_path: Path) -> None:
    signer = generate_signer()
    other = tmp_path / "other.pub"
    other.write_bytes(signer.public_key.pem)
    result = blob("managed-key-happy-path", "--key", str(other))
    refused(result, "artifact signature does not verify", signer.public_key.key_id.hex()[:16])


def test_a_key_file_holding_no_pem_key_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "k.txt"
    junk.write_text("hello\n")
    result = blob("managed-key-happy-path", "--key", str(junk))
    refused(result, f"key {junk} holds no PEM key: expected a PUBLIC KEY block")
    assert "not a usable PEM private key" not in result.stderr


def test_the_public_half_of_a_private_key_file_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signer = generate_signer()
    save_signer(signer, tmp_path / "k.key", b"secret")
    monkeypatch.setenv("LACRE_PASSWORD", "secret")
    result = blob("managed-key-happy-path", "--key", f"file:{tmp_path / 'k.key'}")
    refused(result, "artifact signature does not verify", signer.public_key.key_id.hex()[:16])


def test_a_keyless_bundle_is_refused_with_a_key() -> None:
    key = CASES / "managed-key-happy-path" / "key.pub"
    refused(blob("happy-path-v0.3", "--key", str(key)), "not a managed key")


def test_a_key_excludes_identity_options() -> None:
    key = CASES / "managed-key-happy-path" / "key.pub"
    result = blob("managed-key-happy-path", "--key", str(key), "--certificate-identity", "x")
    assert result.exit_code == 2
    assert "--key excludes --certificate-identity" in result.stderr


def test_an_unreadable_key_is_refused(tmp_path: Path) -> None:
    refused(blob("managed-key-happy-path", "--key", str(tmp_path / "none.pub")), "cannot read")


def test_a_missing_bundle_is_refused(tmp_path: Path) -> None:
    result = run("verify-blob", str(ARTIFACT), "--bundle", str(tmp_path / "none.json"), *KEYLESS)
    refused(result, "cannot read the bundle")


def test_a_missing_artifact_is_refused(tmp_path: Path) -> None:
    missing = str(tmp_path / "none.txt")
    refused(blob("happy-path-v0.3", *KEYLESS, artifact=missing), "cannot read the artifact")
    without_bundle = run("verify-blob", missing, *KEYLESS)  # its default bundle is missing too
    refused(without_bundle, f"cannot read the artifact {missing}")


def test_a_malformed_bundle_is_refused() -> None:
    refused(blob("bundle-malformed-json_fail", *KEYLESS), "not valid JSON")


@pytest.mark.parametrize("content", [b"", b"{", b"[]", b'{"mediaType": 7}', b"\xff\xfe"])
def test_truncated_and_hostile_bundles_are_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "b.json"
    path.write_bytes(content)
    result = run("verify-blob", str(ARTIFACT), "--bundle", str(path), *KEYLESS)
    refused(result, "error:")


def test_a_truncated_real_bundle_is_refused(tmp_path: Path) -> None:
    data = Path(bundle("happy-path-v0.3")).read_bytes()
    path = tmp_path / "b.json"
    path.write_bytes(data[: len(data) // 2])
    refused(run("verify-blob", str(ARTIFACT), "--bundle", str(path), *KEYLESS), "JSON")


def test_an_oversized_bundle_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_bytes(b" " * ((32 << 20) + 1))
    refused(run("verify-blob", str(ARTIFACT), "--bundle", str(path), *KEYLESS), "too large")


@pytest.mark.parametrize(
    "case",
    ["signature-mismatch_fail", "checkpoint-wrong-roothash_fail", "set-invalid-signature_fail"],
)
def test_failing_cases_are_refused(case: str) -> None:
    refused(blob(case, *KEYLESS), "VerificationError")


def test_a_dsse_bundle_needs_the_artifact_among_its_subjects(tmp_path: Path) -> None:
    other = tmp_path / "b.txt"
    other.write_bytes(b"not the attested artifact\n")
    result = blob(DSSE_CASE, *KEYLESS, artifact=str(other))
    refused(result, "not a subject of the in-toto statement", digest(ARTIFACT).split(":")[1])


def test_a_custom_trusted_root_is_used() -> None:
    case = CASES / "rekor2-happy-path"
    root = ["--trusted-root", str(case / "trusted_root.json")]
    assert blob("rekor2-happy-path", *KEYLESS, *root).exit_code == 0
    refused(blob("rekor2-happy-path", *KEYLESS), "VerificationError")


@pytest.mark.parametrize("signing_config", [{}, None], ids=["with", "without a signing config"])
def test_a_trust_config_provides_the_trusted_root(
    tmp_path: Path, signing_config: dict[str, object] | None
) -> None:
    root = json.loads((CASES / "rekor2-happy-path" / "trusted_root.json").read_text())
    document = {
        "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
        "trustedRoot": root,
    }
    if signing_config is not None:  # verification reads the trusted root only
        document["signingConfig"] = signing_config
    config = tmp_path / "trust_config.json"
    config.write_text(json.dumps(document))
    assert blob("rekor2-happy-path", *KEYLESS, "--trust-config", str(config)).exit_code == 0


@pytest.mark.parametrize(
    ("document", "phrase"),
    [
        ("{", "not valid JSON"),
        ('{"mediaType": "x"}', "mediaType"),
        (
            '{"mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"}',
            "trustConfig.trustedRoot is not a JSON object",
        ),
    ],
)
def test_a_bad_trust_config_is_refused(tmp_path: Path, document: str, phrase: str) -> None:
    config = tmp_path / "trust_config.json"
    config.write_text(document)
    refused(blob("happy-path-v0.3", *KEYLESS, "--trust-config", str(config)), phrase)


def test_verify_attestation_prints_the_verified_predicate() -> None:
    result = attestation(DSSE_CASE, "slsaprovenance1", *KEYLESS)
    assert result.exit_code == 0, result.output
    predicate = json.loads(result.stdout)
    assert predicate["buildDefinition"]["buildType"].startswith("https://actions.github.io/")
    assert f"OK: {ARTIFACT}" in result.stderr


def test_verify_attestation_accepts_a_predicate_type_uri_and_a_digest() -> None:
    result = attestation(DSSE_CASE, SLSA, *KEYLESS, artifact=digest(ARTIFACT))
    assert result.exit_code == 0, result.output
    assert "buildDefinition" in json.loads(result.stdout)


@pytest.mark.parametrize(
    ("case", "predicate_type", "args", "phrases"),
    [
        pytest.param(
            DSSE_CASE,
            "spdxjson",
            KEYLESS,
            ("predicate type mismatch", "https://spdx.dev/Document", SLSA),
            id="another-predicate-type",
        ),
        pytest.param(
            "happy-path-v0.3",
            "slsaprovenance1",
            KEYLESS,
            ("not an attestation",),
            id="message-signature",
        ),
        pytest.param(
            DSSE_CASE, "nonsense", KEYLESS, ("unknown predicate type",), id="unknown-type-name"
        ),
        pytest.param(
            DSSE_CASE,
            "slsaprovenance1",
            ["--certificate-identity", "mallory@example.com", "--certificate-oidc-issuer", ISSUER],
            ("certificate identity mismatch",),
            id="identity-checked-first",
        ),
    ],
)
def test_verify_attestation_refuses(
    case: str, predicate_type: str, args: list[str], phrases: tuple[str, ...]
) -> None:
    result = attestation(case, predicate_type, *args)
    refused(result, *phrases)
    assert result.stdout == ""
