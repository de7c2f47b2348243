"""sigstore-js (``@sigstore/cli`` and the ``sigstore`` npm libraries) against `lacre server --dev`.

sigstore-js verifies bundles that sigstore-python made with our services, getting its
trust from our TUF repository with only our ``root.json`` pinned; and it signs with our
CA, Rekor and TSA, the bundles verifying with sigstore-python and with ``lacre.verify``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lacre.errors import VerificationError
from lacre.verify import AllOf, Identity, Issuer, Verifier
from tests.integration.commands import sigstore_python
from tests.integration.servers import Server
from tests.integration.sigstore_js import SigstoreJs, require_node

pytestmark = pytest.mark.integration
StartServer = Callable[..., Server]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A dev server whose logs already hold an entry each (see ``seed_logs``)."""
    workdir = tmp_path_factory.mktemp("sigstore-js")
    running = Server(workdir / "data", "--dev")
    seed_logs(running, workdir)
    yield running
    running.stop()


def seed_logs(server: Server, workdir: Path) -> None:
    """Log one entry in each log, so that no test's entry is a log's first.

    sigstore-js writes a first entry without ``logIndex`` (protobuf-JSON omits
    zeros), which sigstore-python cannot read: that is pinned by
    ``test_a_logs_first_entry_from_js_verifies_in_lacre_only``, and kept out
    of the other tests.
    """
    for version in (1, 2):
        seed = workdir / f"seed-v{version}.txt"
        seed.write_bytes(b"seed")
        sign_with_sigstore_python(server, seed, "seed@example.com", version)


@pytest.fixture
def js(tmp_path: Path) -> SigstoreJs:
    """sigstore-js with a fresh home and TUF cache; fails (never skips) when not installed."""
    return SigstoreJs(node=require_node(), home=tmp_path / "js-home")


def python_verify(
    server: Server, bundle: Path, artifact: Path, email: str, home: Path
) -> subprocess.CompletedProcess[str]:
    """sigstore-python's ``verify identity`` with the trust config our server wrote."""
    return sigstore_python(
        *("--trust-config", str(server.data_dir / "client" / "trust_config.json")),
        *("verify", "identity", "--bundle", str(bundle)),
        *("--cert-identity", email, "--cert-oidc-issuer", f"{server.url}/oidc"),
        str(artifact),
        home=home,
    )


def lacre_verify(server: Server, bundle: Path, artifact: Path, email: str) -> set[str]:
    """``lacre.verify`` with the server's trusted root; returns the kinds of verified times."""
    verifier = Verifier.from_file(server.trusted_root)
    policy = AllOf(Identity(email), Issuer(f"{server.url}/oidc"))
    result = verifier.verify(bundle.read_bytes(), artifact.read_bytes(), policy)
    return {time.source.split()[0] for time in result.times}


def write_statement(artifact: Path, path: Path) -> Path:
    """An in-toto Statement v1 naming ``artifact`` as its subject."""
    digest = hashlib.sha256(artifact.read_bytes()).hexdigest()
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": artifact.name, "digest": {"sha256": digest}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {"buildDefinition": {"buildType": "https://example.com/build/v1"}},
    }
    path.write_text(json.dumps(statement))
    return path


def entry_of(bundle: Path) -> dict[str, Any]:
    """The bundle's only transparency log entry, after checking it carries a TSA timestamp."""
    document = json.loads(bundle.read_text())
    material = document["verificationMaterial"]
    assert material["timestampVerificationData"]["rfc3161Timestamps"], "no timestamp from our TSA"
    entries = material["tlogEntries"]
    assert len(entries) == 1
    entry: dict[str, Any] = entries[0]
    return entry


def kind_of(bundle: Path) -> tuple[str, str]:
    """The (kind, version) of the bundle's log entry."""
    kind_version = entry_of(bundle)["kindVersion"]
    return kind_version["kind"], kind_version["version"]


def assert_refused(result: subprocess.CompletedProcess[str], reason: str) -> None:
    """The command failed, and its error output names ``reason``."""
    assert result.returncode != 0, f"accepted: {result.stdout}{result.stderr}"
    assert reason in result.stderr, result.stderr


# 1. sigstore-js verifies what sigstore-python signed with our services.


def sign_with_sigstore_python(
    server: Server, artifact: Path, email: str, rekor_version: int
) -> Path:
    """Signs ``artifact`` with sigstore-python through our Rekor v1 or v2; the bundle's path."""
    signed = sigstore_python(
        *("--trust-config", str(server.data_dir / "client" / "trust_config.json")),
        *("sign", "--identity-token", server.token(email)),
        *("--rekor-version", str(rekor_version), str(artifact)),
        home=artifact.parent,
    )
    assert signed.returncode == 0, signed.stderr
    return Path(f"{artifact}.sigstore.json")


@pytest.mark.parametrize(("rekor_version", "kind"), [(1, "0.0.1"), (2, "0.0.2")])
def test_js_verifies_a_sigstore_python_bundle_with_trust_from_our_tuf_repository(
    server: Server, js: SigstoreJs, tmp_path: Path, rekor_version: int, kind: str
) -> None:
    artifact = tmp_path / "release.tar.gz"
    artifact.write_bytes(b"release contents\n")
    bundle = sign_with_sigstore_python(server, artifact, "alice@example.com", rekor_version)
    assert kind_of(bundle) == ("hashedrekord", kind)

    verified = js.verify(bundle, server, email="alice@example.com", blob=artifact)
    assert verified.returncode == 0, verified.stderr
    assert "Verification succeeded" in verified.stdout + verified.stderr
    fetched = list(js.tuf_cache.glob("*/targets/trusted_root.json"))
    assert len(fetched) == 1, "the trusted root came through our TUF repository"
    assert fetched[0].read_bytes() == server.trusted_root.read_bytes()


@pytest.mark.parametrize("rekor_version", [1, 2])
def test_js_refuses_a_tampered_artifact_a_wrong_identity_and_a_wrong_issuer(
    server: Server, js: SigstoreJs, tmp_path: Path, rekor_version: int
) -> None:
    artifact = tmp_path / "app.bin"
    artifact.write_bytes(b"\x7fELF binary")
    bundle = sign_with_sigstore_python(server, artifact, "alice@example.com", rekor_version)

    wrong = js.verify(bundle, server, email="mallory@example.com", blob=artifact)
    assert_refused(wrong, "certificate identity error")
    issuer = js.verify(
        bundle, server, email="alice@example.com", issuer="https://evil", blob=artifact
    )
    assert_refused(issuer, "issuer")
    tampered = tmp_path / "app-tampered.bin"
    tampered.write_bytes(b"\x7fELF binarY")
    assert_refused(js.verify(bundle, server, email="alice@example.com", blob=tampered), "signature")


def later_integrated_time(entry: dict[str, Any]) -> None:
    """Moves the entry's integrated time, which its signed entry timestamp covers."""
    entry["integratedTime"] = str(int(entry["integratedTime"]) + 1)


def other_proof_hash(entry: dict[str, Any]) -> None:
    """Replaces the first sibling hash (or adds one to a proof that had none)."""
    hashes = entry["inclusionProof"].get("hashes", [])
    entry["inclusionProof"]["hashes"] = [base64.b64encode(bytes(32)).decode(), *hashes[1:]]


@pytest.mark.parametrize(
    ("rekor_version", "alter", "reason"),
    [
        (1, later_integrated_time, "TLOG_INCLUSION_PROMISE_ERROR"),
        (2, other_proof_hash, "TLOG_INCLUSION_PROOF_ERROR"),
    ],
)
def test_js_refuses_a_bundle_whose_log_entry_was_altered(
    server: Server,
    js: SigstoreJs,
    tmp_path: Path,
    rekor_version: int,
    alter: Callable[[dict[str, Any]], None],
    reason: str,
) -> None:
    artifact = tmp_path / "lib.so"
    artifact.write_bytes(b"shared library")
    bundle = sign_with_sigstore_python(server, artifact, "alice@example.com", rekor_version)
    document = json.loads(bundle.read_text())
    alter(document["verificationMaterial"]["tlogEntries"][0])
    bundle.write_text(json.dumps(document))
    refused = js.verify(bundle, server, email="alice@example.com", blob=artifact)
    assert_refused(refused, reason)


def test_js_trusts_only_the_repository_its_root_signed(
    server: Server, js: SigstoreJs, tmp_path: Path, start_server: StartServer
) -> None:
    artifact = tmp_path / "tool"
    artifact.write_bytes(b"#!/bin/sh\n")
    bundle = sign_with_sigstore_python(server, artifact, "alice@example.com", 1)
    other = start_server()
    elsewhere = SigstoreJs(node=js.node, home=tmp_path / "elsewhere")
    foreign = elsewhere.verify(bundle, other, email="alice@example.com", blob=artifact)
    assert_refused(foreign, "TIMESTAMP_ERROR")  # neither our TSA nor our CA is trusted there

    ours = server.data_dir / "client" / "root.json"
    mixed = SigstoreJs(node=js.node, home=tmp_path / "mixed")
    unsigned = mixed.verify(bundle, other, email="alice@example.com", blob=artifact, root=ours)
    assert_refused(unsigned, "TUF_REFRESH_METADATA_ERROR")
    assert "timestamp was signed by 0/" in unsigned.stderr
    assert not list(mixed.tuf_cache.glob("*/targets/trusted_root.json"))


# 2. sigstore-js signs with our CA, Rekor and TSA.


def test_cli_attest_against_our_ca_log_and_tsa(
    server: Server, js: SigstoreJs, tmp_path: Path
) -> None:
    """``@sigstore/cli attest`` logs an intoto 0.0.2 entry in our Rekor v1 and timestamps it."""
    artifact = tmp_path / "image.tar"
    artifact.write_bytes(b"container image layers")
    statement = write_statement(artifact, tmp_path / "statement.json")
    bundle = tmp_path / "statement.sigstore.json"
    attested = js.attest(statement, bundle, server, token=server.token("carol@example.com"))
    assert attested.returncode == 0, attested.stderr
    assert "Created entry at index" in attested.stderr
    assert kind_of(bundle) == ("intoto", "0.0.2")

    assert lacre_verify(server, bundle, artifact, "carol@example.com") == {"TSA", "log"}
    with pytest.raises(VerificationError, match="identity"):
        lacre_verify(server, bundle, artifact, "mallory@example.com")
    with pytest.raises(VerificationError, match="subject"):
        lacre_verify(server, bundle, statement, "carol@example.com")
    verified = js.verify(bundle, server, email="carol@example.com")
    assert verified.returncode == 0, verified.stderr
    assert_refused(js.verify(bundle, server, email="mallory@example.com"), "identity")
    # sigstore-python takes only hashedrekord and dsse 0.0.1 entries from Rekor v1, so it
    # refuses this bundle on its entry kind before checking anything of ours; the
    # library's attest (below) logs dsse 0.0.1, which it verifies.
    by_python = python_verify(server, bundle, artifact, "carol@example.com", tmp_path)
    assert_refused(by_python, "only supported for dsse/hashedrekord 0.0.1")


@pytest.mark.parametrize(("mode", "kind"), [("sign", "hashedrekord"), ("attest", "dsse")])
def test_library_signs_with_our_services_and_sigstore_python_verifies(
    server: Server, js: SigstoreJs, tmp_path: Path, mode: str, kind: str
) -> None:
    """The ``sigstore`` npm library's ``sign`` and ``attest`` with our URLs (Rekor v1)."""
    artifact = tmp_path / "release.zip"
    artifact.write_bytes(b"PK\x03\x04 release")
    source = artifact if mode == "sign" else write_statement(artifact, tmp_path / "st.json")
    bundle = tmp_path / f"{mode}.sigstore.json"
    made = js.sign_with_urls(mode, source, bundle, server, token=server.token("dave@example.com"))
    assert made.returncode == 0, made.stderr
    assert kind_of(bundle) == (kind, "0.0.1")

    verified = python_verify(server, bundle, artifact, "dave@example.com", tmp_path)
    assert verified.returncode == 0, verified.stderr
    assert lacre_verify(server, bundle, artifact, "dave@example.com") == {"TSA", "log"}
    wrong = python_verify(server, bundle, artifact, "mallory@example.com", tmp_path)
    assert wrong.returncode != 0
    artifact.write_bytes(b"PK\x03\x04 release, changed")
    assert python_verify(server, bundle, artifact, "dave@example.com", tmp_path).returncode != 0
    with pytest.raises(VerificationError):
        lacre_verify(server, bundle, artifact, "dave@example.com")


@pytest.mark.parametrize(
    ("mode", "rekor_version", "kind"),
    [
        ("sign", 1, ("hashedrekord", "0.0.1")),
        ("attest", 1, ("dsse", "0.0.1")),
        ("sign", 2, ("hashedrekord", "0.0.2")),
        ("attest", 2, ("dsse", "0.0.2")),
    ],
)
def test_library_signs_from_our_signing_config(
    server: Server,
    js: SigstoreJs,
    tmp_path: Path,
    mode: str,
    rekor_version: int,
    kind: tuple[str, str],
) -> None:
    """``@sigstore/sign`` reads the services from our signing config, with either log."""
    artifact = tmp_path / "firmware.bin"
    artifact.write_bytes(b"\x00firmware image")
    source = artifact if mode == "sign" else write_statement(artifact, tmp_path / "st.json")
    bundle = tmp_path / f"{mode}.sigstore.json"
    email = "erin@example.com"
    made = js.sign_with_config(
        mode, source, bundle, server, rekor_version=rekor_version, token=server.token(email)
    )
    assert made.returncode == 0, made.stderr
    assert kind_of(bundle) == kind
    expected_times = {"TSA", "log"} if rekor_version == 1 else {"TSA"}
    assert lacre_verify(server, bundle, artifact, email) == expected_times
    blob = artifact if mode == "sign" else None
    verified = js.verify(bundle, server, email=email, blob=blob)
    assert verified.returncode == 0, verified.stderr

    by_python = python_verify(server, bundle, artifact, email, tmp_path)
    if kind == ("dsse", "0.0.2"):
        # sigstore-js still sends Rekor v2 its former DSSE request; sigstore-python
        # accepts only the current form (DSSE logged as hashedrekord 0.0.2).
        assert_refused(by_python, "Unsupported DSSE log entry type: dsse/0.0.2")
    else:
        assert by_python.returncode == 0, by_python.stderr


def test_a_logs_first_entry_from_js_verifies_in_lacre_only(tmp_path: Path, js: SigstoreJs) -> None:
    """sigstore-js leaves out the first entry's ``logIndex``; lacre reads it as 0."""
    fresh = Server(tmp_path / "data", "--dev")
    try:
        artifact = tmp_path / "first.bin"
        artifact.write_bytes(b"the first entry")
        bundle = tmp_path / "first.sigstore.json"
        email = "frank@example.com"
        made = js.sign_with_config(
            "sign", artifact, bundle, fresh, rekor_version=1, token=fresh.token(email)
        )
        assert made.returncode == 0, made.stderr
        assert "logIndex" not in entry_of(bundle)
        assert lacre_verify(fresh, bundle, artifact, email) == {"TSA", "log"}
        by_python = python_verify(fresh, bundle, artifact, email, tmp_path)
        assert by_python.returncode != 0
        assert "logIndex" in by_python.stderr
    finally:
        fresh.stop()
