"""Container images against a real registry and ``lacre server --dev``, through the CLI.

The registry is Debian's ``docker-registry`` (no referrers API: every referrer
goes through the tag-schema fallback). Images are random single- and
multi-platform test images; they are signed keyless (tokens from the dev
server's issuer) and with a key, attested, verified, and tampered with.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import httpx
import pytest
from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from lacre.cli.image import (
    attest_image,
    dispatching,
    download_command,
    image_group,
    sign_image,
    tree_command,
    verify_attestation_image,
    verify_image,
)
from lacre.cli.sign import attest, generate_key_pair
from lacre.cli.verify import verify_attestation
from lacre.keys import PublicKey
from lacre.oci import mediatypes as mt
from lacre.oci.bundles import attach_bundle
from lacre.oci.reference import ImageReference
from lacre.oci.registry import RegistryClient
from lacre.testing.ocilayout import push_image, push_index, random_image, random_index
from lacre.testing.registry import RegistryServer
from tests.integration.servers import Server

pytestmark = pytest.mark.integration
EMAIL = "alice@example.com"
SBOM = {"spdxVersion": "SPDX-2.3", "name": "app", "packages": [{"name": "zlib"}]}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("images") / "data", "--dev")
    yield running
    running.stop()


def _cli() -> click.Group:
    group = click.Group()
    for command in (sign_image, verify_image, download_command, tree_command, generate_key_pair):
        group.add_command(command)
    group.add_command(dispatching(attest, attest_image), "attest")
    group.add_command(
        dispatching(verify_attestation, verify_attestation_image), "verify-attestation"
    )
    group.add_command(image_group)
    return group


def _run(*args: str, ok: bool = True, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(_cli(), list(args), env=env, catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output + result.stderr
    else:
        assert result.exit_code == 1, result.output + result.stderr
    return result


def _trust(server: Server) -> list[str]:
    return ["--trust-config", str(server.data_dir / "client" / "trust_config.json")]


def _sign(server: Server, image: str, *extra: str) -> Result:
    return _run("sign", image, *_trust(server), "--identity-token", server.token(EMAIL), *extra)


def _identity(server: Server) -> list[str]:
    issuer = f"{server.url}/oidc"
    return ["--certificate-identity", EMAIL, "--certificate-oidc-issuer", issuer]


def _verify(server: Server, image: str, *extra: str, ok: bool = True) -> Result:
    return _run("verify", image, *_trust(server), *extra, ok=ok)


def _delete(image: ImageReference, digest: str) -> None:
    url = f"http://{image.registry}/v2/{image.repository}/manifests/{digest}"
    assert httpx.delete(url, timeout=10).status_code == 202


def test_keyless_single_platform_sign_and_verify(
    server: Server, client: RegistryClient, repo: ImageReference
) -> None:
    pinned = push_image(client, repo, random_image())
    signed = _sign(server, str(repo))
    assert f"resolved to {pinned}" in signed.stderr
    verified = _verify(server, str(repo), *_identity(server))
    assert f"verified {pinned}" in verified.stdout
    wrong = ["--certificate-identity", "mallory@example.com", *_identity(server)[2:]]
    refused = _verify(server, str(pinned), *wrong, ok=False)
    assert f"no valid signature for {pinned}" in refused.stderr
    assert "certificate identity mismatch" in refused.stderr


def test_multi_platform_recursive(
    server: Server, client: RegistryClient, repo: ImageReference
) -> None:
    index = push_index(client, repo, random_index())
    _sign(server, str(index), "--recursive")
    verified = _verify(server, str(index), *_identity(server), "--recursive")
    assert verified.stdout.count("verified ") == 3
    only_index = repo.with_tag("v2")
    other = push_index(client, only_index, random_index())
    _sign(server, str(other))
    _verify(server, str(other), *_identity(server))
    refused = _verify(server, str(other), *_identity(server), "--recursive", ok=False)
    assert "no signature found for" in refused.stderr


def test_legacy_layout_field_by_field(
    server: Server, client: RegistryClient, repo: ImageReference
) -> None:
    pinned = push_image(client, repo, random_image())
    _sign(server, str(pinned), "--storage", "legacy", "-a", "team=blue")
    assert pinned.digest is not None
    tag = f"sha256-{pinned.digest.hex}.sig"
    assert pinned.digest.tag("sig") == tag
    answer = httpx.get(
        f"http://{repo.registry}/v2/{repo.repository}/manifests/{tag}",
        headers={"Accept": mt.OCI_MANIFEST},
        timeout=10,
    )
    assert answer.status_code == 200
    manifest = answer.json()
    assert manifest["schemaVersion"] == 2 and manifest["mediaType"] == mt.OCI_MANIFEST
    assert manifest["config"]["mediaType"] == mt.OCI_CONFIG
    [layer] = manifest["layers"]
    assert layer["mediaType"] == "application/vnd.dev.cosign.simplesigning.v1+json"
    config = json.loads(_blob(repo, manifest["config"]["digest"]))
    assert config["rootfs"] == {"type": "layers", "diff_ids": [layer["digest"]]}
    payload = _blob(repo, layer["digest"])
    assert json.loads(payload) == {
        "critical": {
            "identity": {"docker-reference": f"{repo.registry}/{repo.repository}"},
            "image": {"docker-manifest-digest": str(pinned.digest)},
            "type": "cosign container image signature",
        },
        "optional": {"team": "blue"},
    }
    notes = layer["annotations"]
    assert set(notes) == {
        "dev.cosignproject.cosign/signature",
        "dev.sigstore.cosign/certificate",
        "dev.sigstore.cosign/chain",
        "dev.sigstore.cosign/bundle",
        "dev.sigstore.cosign/rfc3161timestamp",
    }
    _check_legacy_annotations(server, notes, payload)


def _check_legacy_annotations(server: Server, notes: dict[str, str], payload: bytes) -> None:
    signature = base64.b64decode(notes["dev.cosignproject.cosign/signature"])
    leaf = x509.load_pem_x509_certificate(notes["dev.sigstore.cosign/certificate"].encode())
    PublicKey.wrap(leaf.public_key()).verify(signature, payload)
    chain = x509.load_pem_x509_certificates(notes["dev.sigstore.cosign/chain"].encode())
    leaf.verify_directly_issued_by(chain[0])
    assert chain[-1].subject == chain[-1].issuer
    rekor = json.loads(notes["dev.sigstore.cosign/bundle"])
    assert set(rekor) == {"SignedEntryTimestamp", "Payload"}
    assert set(rekor["Payload"]) == {"body", "integratedTime", "logIndex", "logID"}
    root = json.loads(server.trusted_root.read_bytes())
    log_ids = [base64.b64decode(log["logId"]["keyId"]).hex() for log in root["tlogs"]]
    assert rekor["Payload"]["logID"] in log_ids
    body = json.loads(base64.b64decode(rekor["Payload"]["body"]))
    assert (body["kind"], body["apiVersion"]) == ("hashedrekord", "0.0.1")
    data_hash = body["spec"]["data"]["hash"]
    assert data_hash == {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()}
    assert base64.b64decode(body["spec"]["signature"]["content"]) == signature
    stamp = json.loads(notes["dev.sigstore.cosign/rfc3161timestamp"])
    assert base64.b64decode(stamp["SignedRFC3161Timestamp"])
    pem = leaf.public_bytes(serialization.Encoding.PEM)
    assert base64.b64decode(body["spec"]["signature"]["publicKey"]["content"]) == pem


def _blob(repo: ImageReference, digest: str) -> bytes:
    answer = httpx.get(f"http://{repo.registry}/v2/{repo.repository}/blobs/{digest}", timeout=10)
    assert answer.status_code == 200
    assert "sha256:" + hashlib.sha256(answer.content).hexdigest() == digest
    return answer.content


def test_key_signed_image_verifies_through_the_legacy_path_alone(
    server: Server, client: RegistryClient, repo: ImageReference, tmp_path: Path
) -> None:
    env = {"LACRE_PASSWORD": "pw"}
    prefix = str(tmp_path / "cosign")
    _run("generate-key-pair", "--output-prefix", prefix, env=env)
    pinned = push_image(client, repo, random_image())
    assert pinned.digest is not None
    _run("sign", str(pinned), *_trust(server), "--key", f"{prefix}.key", env=env)
    fallback = client.get_manifest(repo.with_tag(pinned.digest.tag()))
    for referrer in fallback.manifest.manifests:  # type: ignore[union-attr]
        _delete(repo, str(referrer.digest))
    _delete(repo, str(fallback.digest))
    assert client.find_manifest(repo.with_tag(pinned.digest.tag())) is None
    verified = _verify(server, str(pinned), "--key", f"{prefix}.pub")
    assert f"sha256-{pinned.digest.hex}.sig layer 0" in verified.stdout
    _run("generate-key-pair", "--output-prefix", str(tmp_path / "other"), env=env)
    refused = _verify(server, str(pinned), "--key", str(tmp_path / "other.pub"), ok=False)
    assert f"no valid signature for {pinned}" in refused.stderr


def test_referrers_only_through_the_fallback(
    server: Server, client: RegistryClient, repo: ImageReference, registry: RegistryServer
) -> None:
    pinned = push_image(client, repo, random_image())
    assert pinned.digest is not None
    _sign(server, str(pinned), "--storage", "referrers")
    api = f"http://{registry.address}/v2/{repo.repository}/referrers/{pinned.digest}"
    assert httpx.get(api, timeout=10).status_code == 404
    assert client.find_manifest(repo.with_tag(pinned.digest.tag("sig"))) is None
    index = client.get_manifest(repo.with_tag(pinned.digest.tag()))
    [entry] = index.manifest.manifests  # type: ignore[union-attr]
    assert entry.artifact_type == mt.SIGSTORE_BUNDLE_V03
    verified = _verify(server, str(pinned), *_identity(server))
    assert f"referrer {entry.digest}" in verified.stdout


def test_attest_verify_download_and_tree(
    server: Server, client: RegistryClient, repo: ImageReference, tmp_path: Path
) -> None:
    pinned = push_image(client, repo, random_image())
    predicate = tmp_path / "sbom.json"
    predicate.write_text(json.dumps(SBOM))
    token = server.token(EMAIL)
    _run("attest", str(pinned), "--predicate", str(predicate), "--type", "spdxjson",
         *_trust(server), "--identity-token", token)  # fmt: skip
    result = _run("verify-attestation", str(pinned), "--type", "spdxjson",
                  *_trust(server), *_identity(server))  # fmt: skip
    statement = json.loads(result.stdout.splitlines()[0])
    assert statement["predicate"] == SBOM
    assert statement["subject"][0]["digest"] == {"sha256": pinned.digest.hex}  # type: ignore[union-attr]
    refused = _run("image", "verify-attestation", str(pinned), "--type", "slsaprovenance1",
                   *_trust(server), *_identity(server), ok=False)  # fmt: skip
    assert "predicate type" in refused.stderr
    downloaded = _run("download", "sbom", str(pinned))
    assert json.loads(downloaded.stdout) == SBOM
    assert downloaded.stderr == ""
    tree = _run("tree", str(pinned)).stdout
    assert str(pinned) in tree.splitlines()[0]
    assert "referrer (fallback tag)" in tree and ".att" in tree and "spdx.dev/Document" in tree


def test_attest_dispatches_files_to_the_blob_command(server: Server, tmp_path: Path) -> None:
    artifact, predicate = tmp_path / "artifact.bin", tmp_path / "p.json"
    artifact.write_bytes(b"a file, not an image")
    predicate.write_text("{}")
    _run("attest", str(artifact), "--predicate", str(predicate), "--type", "custom",
         *_trust(server), "--identity-token", server.token(EMAIL))  # fmt: skip
    assert (tmp_path / "artifact.bin.sigstore.json").exists()
    verified = _run("verify-attestation", str(artifact), "--type", "custom",
                    *_trust(server), *_identity(server))  # fmt: skip
    assert json.loads(verified.stdout) == {}


def test_unknown_image_is_refused(server: Server, repo: ImageReference) -> None:
    missing = repo.with_tag("missing")
    refused = _verify(server, str(missing), *_identity(server), ok=False)
    assert str(missing) in refused.stderr and "not found" in refused.stderr


def test_a_signature_for_another_digest_is_refused(
    server: Server, client: RegistryClient, repo: ImageReference
) -> None:
    signed = push_image(client, repo, random_image())
    other = push_image(client, repo.with_tag("other"), random_image())
    assert signed.digest is not None and other.digest is not None
    _sign(server, str(signed), "--storage", "legacy")
    copied = client.get_manifest(repo.with_tag(signed.digest.tag("sig")))
    client.put_manifest(repo.with_tag(other.digest.tag("sig")), copied.raw)
    refused = _verify(server, str(other), *_identity(server), ok=False)
    assert f"no valid signature for {other}" in refused.stderr
    assert "signature is for another image" in refused.stderr


def test_corrupt_manifest_and_bundle_are_refused(
    server: Server, client: RegistryClient, repo: ImageReference
) -> None:
    pinned = push_image(client, repo, random_image())
    assert pinned.digest is not None
    _sign(server, str(pinned), "--storage", "legacy")
    target = repo.with_tag(pinned.digest.tag("sig"))
    document: dict[str, Any] = json.loads(client.get_manifest(target).raw)
    document["layers"][0]["annotations"]["dev.sigstore.cosign/bundle"] = "{broken"
    client.put_manifest(target, json.dumps(document).encode(), media_type=mt.OCI_MANIFEST)
    attach_bundle(client, pinned, b'{"mediaType": "nonsense", "dsseEnvelope": {}}')
    refused = _verify(server, str(pinned), *_identity(server), ok=False)
    assert f"no valid signature for {pinned}" in refused.stderr
    assert "cosign bundle annotation is not valid JSON" in refused.stderr
    assert "mediaType is not a supported bundle version" in refused.stderr
