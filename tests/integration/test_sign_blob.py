"""``lacre sign-blob`` and ``attest`` against ``lacre server --dev``, verified by two verifiers.

The CLI runs in-process (click's runner) with a ClientTrustConfig built here
from the server's ``trusted_root.json`` and a signing config naming the
server's CA, Rekor (v1 or v2), OIDC issuer and timestamp authority. Every
bundle is verified by sigstore-python's ``Verifier`` and by ``lacre.verify``;
a flipped byte in the artifact or in the bundle is refused by both.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import click
import pytest
import pytest_socket
from click.testing import CliRunner
from sigstore.errors import VerificationError as SigstoreVerificationError
from sigstore.models import Bundle as SigstoreBundle
from sigstore.models import TrustedRoot as SigstoreTrustedRoot
from sigstore.verify import Verifier as SigstoreVerifier
from sigstore.verify.policy import Identity as SigstoreIdentity

from lacre.cli.sign import attest, generate_key_pair, sign_blob
from lacre.cli.verify import verify_blob
from lacre.errors import Error
from lacre.models.signing_config import ServiceEndpoint, client_trust_config, signing_config
from lacre.verify import AllOf, Identity, Issuer, ManagedKey, Verifier
from tests.integration.conftest import StartServer
from tests.integration.servers import Server

pytestmark = pytest.mark.integration
EMAIL = "alice@example.com"


@pytest.fixture(scope="module")
def module_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    server = Server(tmp_path_factory.mktemp("sign") / "data", "--dev")
    yield server
    server.stop()


def _cli() -> click.Group:
    group = click.Group()
    for command in (sign_blob, attest, generate_key_pair):
        group.add_command(command)
    return group


def _trust_config(server: Server, out: Path, rekor_version: int) -> Path:
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)

    def endpoint(url: str, version: int = 1) -> ServiceEndpoint:
        return ServiceEndpoint(
            url=url, major_api_version=version, operator="test", valid_from=start
        )

    root = json.loads(server.trusted_root.read_bytes())
    assert root["timestampAuthorities"], "the dev server publishes no timestamp authority"
    config = signing_config(
        ca=[endpoint(server.url)],
        rekor=[endpoint(server.url, rekor_version)],
        oidc=[endpoint(f"{server.url}/oidc")],
        tsa=[endpoint(f"{server.url}/api/v1/timestamp")],
    )
    out.write_text(json.dumps(client_trust_config(root, config)))
    return out


def _run(*args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(_cli(), list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _sign(
    server: Server, tmp_path: Path, version: int, *files: Path, extra: tuple[str, ...] = ()
) -> None:
    trust = _trust_config(server, tmp_path / f"trust{version}.json", version)
    _run(
        "sign-blob",
        "--trust-config",
        str(trust),
        "--identity-token",
        server.token(EMAIL),
        *extra,
        *map(str, files),
    )


def _sigstore_verify(server: Server, artifact: bytes, bundle: bytes) -> None:
    verifier = SigstoreVerifier(
        trusted_root=SigstoreTrustedRoot.from_file(str(server.trusted_root))
    )
    policy = SigstoreIdentity(identity=EMAIL, issuer=f"{server.url}/oidc")
    verifier.verify_artifact(artifact, SigstoreBundle.from_json(bundle), policy)


def _lacre_verify(server: Server, artifact: bytes, bundle: bytes) -> None:
    policy = AllOf(Identity(EMAIL), Issuer(f"{server.url}/oidc"))
    Verifier.from_file(server.trusted_root).verify(bundle, artifact, policy)


def _flip_signature(bundle: bytes) -> bytes:
    document = json.loads(bundle)
    holder = document.get("messageSignature") or document["dsseEnvelope"]["signatures"][0]
    field = "signature" if "messageSignature" in document else "sig"
    raw = bytearray(base64.b64decode(holder[field]))
    raw[len(raw) // 2] ^= 0x01
    holder[field] = base64.b64encode(bytes(raw)).decode()
    return json.dumps(document).encode()


def _both_refuse(server: Server, artifact: bytes, bundle: bytes) -> None:
    with pytest.raises((SigstoreVerificationError, ValueError)):
        _sigstore_verify(server, artifact, bundle)
    with pytest.raises(Error):
        _lacre_verify(server, artifact, bundle)


@pytest.mark.parametrize("version", [1, 2])
def test_keyless_sign_blob_verifies_in_sigstore_python_and_lacre(
    module_server: Server, tmp_path: Path, version: int
) -> None:
    artifact = tmp_path / "artifact.txt"
    artifact.write_bytes(b"release contents\n")
    _sign(module_server, tmp_path, version, artifact)
    bundle = (tmp_path / "artifact.txt.sigstore.json").read_bytes()
    document = json.loads(bundle)
    entry = document["verificationMaterial"]["tlogEntries"][0]
    assert entry["kindVersion"]["version"] == ("0.0.1" if version == 1 else "0.0.2")
    assert document["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
    _sigstore_verify(module_server, artifact.read_bytes(), bundle)
    _lacre_verify(module_server, artifact.read_bytes(), bundle)
    _both_refuse(module_server, b"release contents!\n", bundle)
    _both_refuse(module_server, artifact.read_bytes(), _flip_signature(bundle))


def test_many_files_share_one_certificate(module_server: Server, tmp_path: Path) -> None:
    files = [tmp_path / f"f{n}.bin" for n in range(3)]
    for n, path in enumerate(files):
        path.write_bytes(bytes([n]) * 100)
    _sign(module_server, tmp_path, 1, *files)
    bundles = [json.loads(Path(f"{path}.sigstore.json").read_bytes()) for path in files]
    assert len({b["verificationMaterial"]["certificate"]["rawBytes"] for b in bundles}) == 1
    for path in files:
        _lacre_verify(module_server, path.read_bytes(), Path(f"{path}.sigstore.json").read_bytes())


def test_bundle_option_needs_a_single_file(module_server: Server, tmp_path: Path) -> None:
    (tmp_path / "a").write_text("a")
    (tmp_path / "b").write_text("b")
    trust = _trust_config(module_server, tmp_path / "t.json", 1)
    result = CliRunner().invoke(
        _cli(),
        [
            "sign-blob",
            "--trust-config",
            str(trust),
            "--bundle",
            str(tmp_path / "x.json"),
            str(tmp_path / "a"),
            str(tmp_path / "b"),
        ],
    )
    assert result.exit_code == 2 and "single FILE" in result.output


@pytest.mark.parametrize("version", [1, 2])
def test_attest_verifies_in_sigstore_python_and_lacre(
    module_server: Server, tmp_path: Path, version: int
) -> None:
    first, second = tmp_path / "one.tar", tmp_path / "two.tar"
    first.write_bytes(b"first")
    second.write_bytes(b"second")
    predicate = tmp_path / "predicate.json"
    predicate.write_text(json.dumps({"buildDefinition": {"buildType": "https://example.test/b"}}))
    trust = _trust_config(module_server, tmp_path / "trust.json", version)
    out = tmp_path / "att.sigstore.json"
    _run(
        "attest",
        "--trust-config",
        str(trust),
        "--identity-token",
        module_server.token(EMAIL),
        "--predicate",
        str(predicate),
        "--type",
        "slsaprovenance1",
        "--bundle",
        str(out),
        str(first),
        str(second),
    )
    bundle = out.read_bytes()
    verifier = SigstoreVerifier(
        trusted_root=SigstoreTrustedRoot.from_file(str(module_server.trusted_root))
    )
    policy = SigstoreIdentity(identity=EMAIL, issuer=f"{module_server.url}/oidc")
    payload_type, payload = verifier.verify_dsse(SigstoreBundle.from_json(bundle), policy)
    statement = json.loads(payload)
    assert payload_type == "application/vnd.in-toto+json"
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    assert [s["name"] for s in statement["subject"]] == ["one.tar", "two.tar"]
    for path in (first, second):
        _lacre_verify(module_server, path.read_bytes(), bundle)
    with pytest.raises(Error):
        _lacre_verify(module_server, b"not a subject", bundle)
    with pytest.raises(SigstoreVerificationError):
        verifier.verify_dsse(SigstoreBundle.from_json(_flip_signature(bundle)), policy)
    with pytest.raises(Error):
        _lacre_verify(module_server, b"first", _flip_signature(bundle))


@pytest.mark.parametrize("version", [1, 2])
def test_managed_key_from_generate_key_pair(
    module_server: Server, tmp_path: Path, version: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"LACRE_PASSWORD": "correct horse"}
    _run("generate-key-pair", "--output-prefix", "release", env=env)
    assert b"ENCRYPTED PRIVATE KEY" in (tmp_path / "release.key").read_bytes()
    refused = CliRunner().invoke(
        _cli(), ["generate-key-pair", "--output-prefix", "release"], env=env
    )
    assert refused.exit_code == 1 and "already exists" in refused.output
    artifact = tmp_path / "blob"
    artifact.write_bytes(b"managed")
    trust = _trust_config(module_server, tmp_path / "trust.json", version)
    _run(
        "sign-blob",
        "--trust-config",
        str(trust),
        "--key",
        f"file:{tmp_path / 'release.key'}",
        str(artifact),
        env=env,
    )
    bundle = (tmp_path / "blob.sigstore.json").read_bytes()
    document = json.loads(bundle)
    assert "publicKey" in document["verificationMaterial"]
    key = ManagedKey.from_pem((tmp_path / "release.pub").read_bytes())
    Verifier.from_file(module_server.trusted_root).verify(bundle, b"managed", key)
    with pytest.raises(Error):
        Verifier.from_file(module_server.trusted_root).verify(bundle, b"managed!", key)
    with pytest.raises(Error):
        Verifier.from_file(module_server.trusted_root).verify(
            _flip_signature(bundle), b"managed", key
        )


def test_a_wrong_password_is_refused(
    module_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _run("generate-key-pair", env={"LACRE_PASSWORD": "right"})
    (tmp_path / "blob").write_text("x")
    trust = _trust_config(module_server, tmp_path / "trust.json", 1)
    result = CliRunner().invoke(
        _cli(),
        ["sign-blob", "--trust-config", str(trust), "--key", "file:lacre.key", "blob"],
        env={"LACRE_PASSWORD": "wrong"},
    )
    assert result.exit_code == 1 and "not a usable PEM private key" in result.output


def test_an_expired_or_foreign_token_is_refused_before_signing(
    module_server: Server, tmp_path: Path
) -> None:
    (tmp_path / "blob").write_text("x")
    trust = _trust_config(module_server, tmp_path / "trust.json", 1)
    foreign = module_server.token(EMAIL, audience="other")
    result = CliRunner().invoke(
        _cli(),
        [
            "sign-blob",
            "--trust-config",
            str(trust),
            "--identity-token",
            foreign,
            str(tmp_path / "blob"),
        ],
    )
    assert result.exit_code == 1 and "another audience" in result.output
    assert not (tmp_path / "blob.sigstore.json").exists()


def test_sign_through_the_instance_tuf_repository(
    start_server: StartServer, tmp_path: Path
) -> None:
    from lacre.trust.client import TrustClient

    server = start_server()
    cache = tmp_path / "tuf"
    TrustClient(f"{server.url}/tuf", cache).bootstrap(
        (server.data_dir / "client" / "root.json").read_bytes()
    )
    artifact = tmp_path / "via-tuf"
    artifact.write_bytes(b"tuf")
    _run(
        "sign-blob",
        "--instance",
        server.url,
        "--tuf-cache",
        str(cache),
        "--identity-token",
        server.token(EMAIL),
        str(artifact),
    )
    bundle = Path(f"{artifact}.sigstore.json").read_bytes()
    _sigstore_verify(server, b"tuf", bundle)
    _lacre_verify(server, b"tuf", bundle)
    offline = [*("--instance", server.url, "--tuf-cache", str(cache), "--offline"), str(artifact)]
    issuer = f"{server.url}/oidc"
    pytest_socket.disable_socket(allow_unix_socket=True)
    try:  # --offline: the cached trust material, without reaching the instance
        result = CliRunner().invoke(
            verify_blob,
            ["--certificate-identity", EMAIL, "--certificate-oidc-issuer", issuer, *offline],
            catch_exceptions=False,
        )
    finally:
        pytest_socket.enable_socket()
    assert result.exit_code == 0, result.output
    assert "cannot fetch" not in result.output and "OK: " in result.output


def test_the_token_may_come_from_sigstore_id_token(module_server: Server, tmp_path: Path) -> None:
    artifact = tmp_path / "env-token"
    artifact.write_bytes(b"env")
    trust = _trust_config(module_server, tmp_path / "trust.json", 1)
    out = tmp_path / "custom.json"
    env = {"SIGSTORE_ID_TOKEN": module_server.token(EMAIL)}
    _run("sign-blob", "--trust-config", str(trust), "--bundle", str(out), str(artifact), env=env)
    _sigstore_verify(module_server, b"env", out.read_bytes())
    assert not Path(f"{artifact}.sigstore.json").exists()
