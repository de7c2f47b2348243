"""Bundles `lacre sign-blob` writes verify in lacre, sigstore-python and sigstore-js; a changed
byte in the artifact, signature, certificate, log entry, inclusion proof or checkpoint is
refused by all three.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lacre.errors import VerificationError
from lacre.verify import AllOf, Identity, Issuer, Verifier
from tests.integration.commands import python_module, sigstore_python
from tests.integration.servers import Server
from tests.integration.sigstore_js import SigstoreJs, require_node

EMAIL = "release@example.com"
Document = dict[str, Any]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("everywhere") / "data", "--dev")
    yield running
    running.stop()


@pytest.fixture(scope="module", params=["1", "2"])
def signed(
    request: pytest.FixtureRequest, server: Server, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Document]:
    """A file and the bundle `lacre sign-blob` made for it, through Rekor v1 or v2.

    Another file is signed first so that the inclusion proof has hashes to change.
    """
    home = tmp_path_factory.mktemp(f"sign-v{request.param}")
    first, artifact = home / "first.txt", home / "release.tar.gz"
    first.write_bytes(b"first " + request.param.encode())
    artifact.write_bytes(b"release " + request.param.encode() * 100)
    done = python_module(
        "lacre",
        "sign-blob",
        *("--trust-config", str(server.data_dir / "client" / "trust_config.json")),
        *("--identity-token", server.token(EMAIL)),
        *("--rekor-version", request.param),
        str(first),
        str(artifact),
        home=home,
    )
    assert done.returncode == 0, done.stderr
    bundle = json.loads(Path(f"{artifact}.sigstore.json").read_text())
    assert entry(bundle)["inclusionProof"]["hashes"], "a proof with hashes"
    return artifact, bundle


def flip_base64(value: str, at: int = 10) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[min(at, len(raw) - 1)] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def entry(bundle: Document) -> Document:
    entries: list[Document] = bundle["verificationMaterial"]["tlogEntries"]
    return entries[0]


def change_signature(bundle: Document) -> None:
    signature = bundle["messageSignature"]
    signature["signature"] = flip_base64(signature["signature"], 20)


def change_certificate(bundle: Document) -> None:
    certificate = bundle["verificationMaterial"]["certificate"]
    certificate["rawBytes"] = flip_base64(certificate["rawBytes"], 200)


def change_body(bundle: Document) -> None:
    body = json.loads(base64.b64decode(entry(bundle)["canonicalizedBody"]))
    body["changed"] = True
    entry(bundle)["canonicalizedBody"] = base64.b64encode(json.dumps(body).encode()).decode()


def change_proof(bundle: Document) -> None:
    proof = entry(bundle)["inclusionProof"]
    proof["hashes"][0] = flip_base64(proof["hashes"][0], 3)


def change_checkpoint(bundle: Document) -> None:
    checkpoint = entry(bundle)["inclusionProof"]["checkpoint"]
    lines = checkpoint["envelope"].split("\n")
    lines[1] = str(int(lines[1]) + 1)  # the tree size the checkpoint claims
    checkpoint["envelope"] = "\n".join(lines)


CHANGES: dict[str, Callable[[Document], None]] = {
    "signature": change_signature,
    "certificate": change_certificate,
    "log entry": change_body,
    "inclusion proof": change_proof,
    "checkpoint": change_checkpoint,
}


def verifiers(
    server: Server, js: SigstoreJs, home: Path
) -> dict[str, Callable[[Path, Path], bool]]:
    """Each verifier as: does it accept this bundle for this artifact?"""

    def ours(bundle: Path, artifact: Path) -> bool:
        verifier = Verifier.from_file(server.trusted_root)
        policy = AllOf(Identity(EMAIL), Issuer(f"{server.url}/oidc"))
        try:
            verifier.verify(bundle.read_bytes(), artifact.read_bytes(), policy)
        except VerificationError:
            return False
        return True

    def python(bundle: Path, artifact: Path) -> bool:
        done = sigstore_python(
            *("--trust-config", str(server.data_dir / "client" / "trust_config.json")),
            *("verify", "identity", "--bundle", str(bundle)),
            *("--cert-identity", EMAIL, "--cert-oidc-issuer", f"{server.url}/oidc"),
            str(artifact),
            home=home,
        )
        return done.returncode == 0

    def javascript(bundle: Path, artifact: Path) -> bool:
        return js.verify(bundle, server, email=EMAIL, blob=artifact).returncode == 0

    return {"lacre": ours, "sigstore-python": python, "sigstore-js": javascript}


def test_every_client_accepts_the_bundle_and_refuses_every_change(
    server: Server, signed: tuple[Path, Document], tmp_path: Path
) -> None:
    artifact, bundle = signed
    check = verifiers(server, SigstoreJs(node=require_node(), home=tmp_path / "js"), tmp_path)
    original = tmp_path / "original.sigstore.json"
    original.write_text(json.dumps(bundle))
    for name, accepts in check.items():
        assert accepts(original, artifact), f"{name} refused a bundle lacre made"

    changed_artifact = tmp_path / "changed.tar.gz"
    changed_artifact.write_bytes(artifact.read_bytes() + b"!")
    wrongly_accepted = [
        f"{name}: changed artifact"
        for name, accepts in check.items()
        if accepts(original, changed_artifact)
    ]
    for what, change in CHANGES.items():
        mutated = copy.deepcopy(bundle)
        change(mutated)
        path = tmp_path / f"{what.replace(' ', '-')}.sigstore.json"
        path.write_text(json.dumps(mutated))
        wrongly_accepted += [
            f"{name}: changed {what}" for name, accepts in check.items() if accepts(path, artifact)
        ]
    assert wrongly_accepted == []
