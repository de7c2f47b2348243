"""Rotating the CA, the TSA and the logs of an instance: old and new signatures all verify.

A development server signs a bundle; it is stopped; its CA (new root and
intermediate, ``lacre ca init --force``) and its TSA (new key and certificate)
are replaced; it restarts on the same data directory and signs again. Then
its logs are replaced (a new database, new log keys: new log IDs, a new Rekor
v1 tree) and it signs a third time. The trusted root it writes keeps the old
chains and keys with an end, so every bundle verifies, with our verifier and
with sigstore-python's. A certificate from the old CA used after the old CA's
window ended is refused by the certificate chain check (C): no trusted-root CA
is valid at the bundle's signing time.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from lacre.errors import VerificationError
from lacre.verify import AllOf, Identity, Issuer, Verifier
from tests.integration.commands import sigstore_python
from tests.integration.servers import Server

EMAIL = "release@example.com"


@dataclass(frozen=True)
class Signed:
    """A signed artifact and its bundle."""

    artifact: Path
    bundle: Path


@dataclass(frozen=True)
class Rotation:
    """What the rotation scenario leaves behind for the tests to examine."""

    data_dir: Path
    url: str
    before: Signed
    after: Signed
    new_logs: Signed
    first_root: dict[str, Any]
    second_root: dict[str, Any]
    home: Path

    @property
    def trusted_root(self) -> Path:
        return self.data_dir / "client" / "trusted_root.json"

    @property
    def trust_config(self) -> Path:
        return self.data_dir / "client" / "trust_config.json"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _sign(server: Server, home: Path, name: str) -> Signed:
    artifact = home / name
    artifact.write_bytes(f"contents of {name}\n".encode())
    signed = sigstore_python(
        "--trust-config",
        str(server.data_dir / "client" / "trust_config.json"),
        "sign",
        "--identity-token",
        server.token(EMAIL),
        "--rekor-version",
        "1",
        str(artifact),
        home=home,
    )
    assert signed.returncode == 0, signed.stderr
    return Signed(artifact, Path(f"{artifact}.sigstore.json"))


def _rotate_ca_and_tsa(data_dir: Path) -> None:
    """What an operator does: retire the old keys, make a new chain, a new TSA certificate."""
    retired = data_dir / "retired"
    retired.mkdir()
    for name in ("keys/ca-intermediate.pem", "keys/tsa.pem", "tsa"):
        shutil.move(data_dir / name, retired / name.replace("/", "-"))
    new_root_key = data_dir / "keys" / "ca-root-2.pem"
    command = ["ca", "init", "--data-dir", str(data_dir), "--force", "--root-key-out"]
    made = subprocess.run(
        [sys.executable, "-m", "lacre", *command, str(new_root_key)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr


def _rotate_logs(data_dir: Path) -> None:
    """A new log: the old database and log keys are set aside, new ones are made on start."""
    retired = data_dir / "retired-logs"
    retired.mkdir()
    for name in ("lacre.db", "lacre.db-wal", "lacre.db-shm", "keys/log.pem", "keys/rekor-v1.pem"):
        if (data_dir / name).exists():
            shutil.move(data_dir / name, retired / name.replace("/", "-"))


def _root(data_dir: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((data_dir / "client" / "trusted_root.json").read_text())
    return document


@pytest.fixture(scope="module")
def rotation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rotation]:
    home = tmp_path_factory.mktemp("rotation")
    data_dir, port = home / "data", str(_free_port())
    signed: list[Signed] = []
    roots: list[dict[str, Any]] = []
    for rotate, name in ((None, "v1"), (_rotate_ca_and_tsa, "v2"), (_rotate_logs, "v3")):
        if rotate is not None:
            rotate(data_dir)
        server = Server(data_dir, "--dev", "--port", port)
        try:
            signed.append(_sign(server, home, f"{name}.tar.gz"))
            roots.append(_root(data_dir))
        finally:
            server.stop()
    before, after, new_logs = signed
    yield Rotation(data_dir, server.url, before, after, new_logs, roots[0], roots[1], home)


def _chain(entry: dict[str, Any]) -> list[str]:
    return [item["rawBytes"] for item in entry["certChain"]["certificates"]]


def _issuing_key_id(signed: Signed) -> bytes:
    material = json.loads(signed.bundle.read_text())["verificationMaterial"]
    certificate = material.get("certificate") or material["x509CertificateChain"]["certificates"][0]
    leaf = x509.load_der_x509_certificate(base64.b64decode(certificate["rawBytes"]))
    identifier = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert identifier.key_identifier is not None
    return identifier.key_identifier


def test_the_trusted_root_keeps_the_replaced_chains_with_an_end(rotation: Rotation) -> None:
    document = json.loads(rotation.trusted_root.read_text())
    for field in ("certificateAuthorities", "timestampAuthorities"):
        (old,) = rotation.first_root[field]
        kept, new = document[field]
        assert rotation.second_root[field] == document[field], "a later start moves nothing"
        assert _chain(kept) == _chain(old), f"{field}: the old chain stays, first"
        assert _chain(new) != _chain(old), f"{field}: the new chain is appended"
        assert kept["validFor"]["start"] == old["validFor"]["start"]
        assert kept["validFor"]["end"] == new["validFor"]["start"]
        assert "end" not in new["validFor"]
    assert document["ctlogs"] == rotation.first_root["ctlogs"], "the CT key did not change"
    assert _issuing_key_id(rotation.before) != _issuing_key_id(rotation.after)


def test_the_trusted_root_keeps_the_replaced_log_keys_with_an_end(rotation: Rotation) -> None:
    assert rotation.second_root["tlogs"] == rotation.first_root["tlogs"], "not rotated yet"
    old_v1, old_main, new_v1, new_main = json.loads(rotation.trusted_root.read_text())["tlogs"]
    assert [old_v1["logId"], old_main["logId"]] == [
        log["logId"] for log in rotation.first_root["tlogs"]
    ]
    assert {new_v1["logId"]["keyId"], new_main["logId"]["keyId"]}.isdisjoint(
        {old_v1["logId"]["keyId"], old_main["logId"]["keyId"]}
    )
    ended = {old["publicKey"]["validFor"]["end"] for old in (old_v1, old_main)}
    started = {new["publicKey"]["validFor"]["start"] for new in (new_v1, new_main)}
    assert len(ended) == 1 and ended == started
    assert "end" not in new_v1["publicKey"]["validFor"]
    assert _log_id(rotation.before) == old_v1["logId"]["keyId"]
    assert _log_id(rotation.new_logs) == new_v1["logId"]["keyId"]


def _log_id(signed: Signed) -> str:
    entry = json.loads(signed.bundle.read_text())["verificationMaterial"]["tlogEntries"][0]
    log_id: str = entry["logId"]["keyId"]
    return log_id


def test_every_bundle_verifies_with_our_verifier(rotation: Rotation) -> None:
    verifier = Verifier.from_file(rotation.trusted_root)
    policy = AllOf(Identity(EMAIL), Issuer(f"{rotation.url}/oidc"))
    for signed in (rotation.before, rotation.after, rotation.new_logs):
        verifier.verify(signed.bundle.read_bytes(), signed.artifact.read_bytes(), policy)


def test_every_bundle_verifies_with_sigstore_python(rotation: Rotation) -> None:
    for signed in (rotation.before, rotation.after, rotation.new_logs):
        verified = sigstore_python(
            "--trust-config",
            str(rotation.trust_config),
            "verify",
            "identity",
            *_identity(rotation),
            str(signed.artifact),
            home=rotation.home,
        )
        assert verified.returncode == 0, verified.stderr


def _identity(rotation: Rotation) -> list[str]:
    return ["--cert-identity", EMAIL, "--cert-oidc-issuer", f"{rotation.url}/oidc"]


def test_the_old_ca_after_its_window_is_refused_by_the_chain_check(
    rotation: Rotation, tmp_path: Path
) -> None:
    """The old bundle against a root where the old CA's window ended before it was signed."""
    document = json.loads(rotation.trusted_root.read_text())
    old = document["certificateAuthorities"][0]
    start = dt.datetime.fromisoformat(old["validFor"]["start"].replace("Z", "+00:00"))
    old["validFor"]["end"] = (start + dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    _sign_time_after(rotation.before, start + dt.timedelta(seconds=1))
    edited = tmp_path / "trusted_root.json"
    edited.write_text(json.dumps(document))
    verifier = Verifier.from_file(edited)
    with pytest.raises(VerificationError, match="certificate chain does not verify") as refused:
        verifier.verify(
            rotation.before.bundle.read_bytes(),
            rotation.before.artifact.read_bytes(),
            Identity(EMAIL),
        )
    assert "no trusted-root CA is valid at that time" in str(refused.value.found)
    after = rotation.after
    verifier.verify(after.bundle.read_bytes(), after.artifact.read_bytes(), Identity(EMAIL))


def _sign_time_after(signed: Signed, moment: dt.datetime) -> None:
    entry = json.loads(signed.bundle.read_text())["verificationMaterial"]["tlogEntries"][0]
    integrated = dt.datetime.fromtimestamp(int(entry["integratedTime"]), dt.UTC)
    assert integrated > moment, "the bundle was signed after the edited end"
