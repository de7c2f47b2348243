"""The timestamp authority signing with its key in SoftHSM2.

SoftHSM reads its configuration once per process, when the module is first
loaded (see ``tests/integration/softhsm.py``), so the token work runs in a
child process (this module run as ``__main__``) with a fresh SoftHSM store:
it sets up the TSA from a ``pkcs11:`` key URI through the server's start-up
code, answers ``openssl ts -query`` requests through the HTTP routes, and
also issues a chain whose *root* key is on the token. This process then checks
every answer with ``openssl ts -verify`` and ``rfc3161-client``.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
import rfc3161_client
from cryptography import x509

REPO = Path(__file__).resolve().parents[2]
TOKEN = "lacre-tsa"
DATA = b"signature bytes to timestamp\n"
KEYS = {"p256": (b"\x01", "P256_PARAMS"), "p384": (b"\x02", "P384_PARAMS")}


def openssl(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["openssl", "ts", *map(str, arguments)], capture_output=True, text=True, check=False
    )


def verify(response: Path, request: Path, chain: Path) -> subprocess.CompletedProcess[str]:
    """``openssl ts -verify`` of ``response`` with ``chain/root.pem`` and ``chain/leaf.pem``."""
    return openssl(
        "-verify",
        "-in",
        response,
        "-queryfile",
        request,
        "-CAfile",
        chain / "root.pem",
        "-untrusted",
        chain / "leaf.pem",
    )


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("tsa-hsm")
    (directory / "data.bin").write_bytes(DATA)
    request = directory / "req.tsq"
    done = openssl("-query", "-data", directory / "data.bin", "-sha256", "-cert", "-out", request)
    assert done.returncode == 0, done.stderr
    child = subprocess.run(
        [sys.executable, "-m", "tests.integration.test_tsa_softhsm", str(directory)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if child.returncode != 0:
        pytest.fail(f"the SoftHSM2 TSA run failed:\n{child.stdout}\n{child.stderr}", pytrace=False)
    return directory


@pytest.mark.parametrize("key", sorted(KEYS))
def test_token_key_signs_verifiable_timestamps(outputs: Path, key: str) -> None:
    run = outputs / key
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == 200
    assert summary["signer"] == "Pkcs11Signer"
    verified = verify(run / "resp.tsr", outputs / "req.tsq", run / "tsa")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    chain = x509.load_pem_x509_certificates(
        (run / "tsa" / "leaf.pem").read_bytes() + (run / "tsa" / "root.pem").read_bytes()
    )
    response = rfc3161_client.decode_timestamp_response((run / "resp.tsr").read_bytes())
    verifier = (
        rfc3161_client.VerifierBuilder()
        .tsa_certificate(chain[0])
        .add_root_certificate(chain[1])
        .build()
    )
    assert verifier.verify_message(response, DATA)
    expected_hash = {"p256": "sha256", "p384": "sha384"}[key]
    assert summary["signature_hash"] == expected_hash


def test_root_key_on_the_token_issues_the_chain(outputs: Path) -> None:
    run = outputs / "hsm-root"
    chain = x509.load_pem_x509_certificates((run / "chain.pem").read_bytes())
    chain[0].verify_directly_issued_by(chain[1])
    chain[1].verify_directly_issued_by(chain[1])
    verified = verify(run / "resp.tsr", outputs / "req.tsq", run)
    assert verified.returncode == 0, verified.stdout + verified.stderr


# --- the child process ----------------------------------------------------------------


def _child(directory: Path) -> None:
    """Set SoftHSM up in this fresh process, then answer the request with token keys."""
    from cryptography.hazmat.primitives import serialization
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from lacre.apps.errors import install_error_handlers
    from lacre.apps.server.tsa_setup import open_tsa
    from lacre.apps.tsa.routes import tsa_router
    from lacre.keys import KeyAlgorithm, generate_signer, load_signer
    from lacre.tsa import TimestampAuthority, tsa_chain
    from tests.integration import softhsm

    softhsm.start_softhsm(directory / "softhsm", [TOKEN])
    for label, (key_id, params) in KEYS.items():
        softhsm.generate_ec_key(TOKEN, label, key_id, getattr(softhsm, params))
    request = (directory / "req.tsq").read_bytes()

    def answer(authority: TimestampAuthority) -> tuple[int, bytes]:
        app = FastAPI()
        install_error_handlers(app)
        app.include_router(tsa_router(authority))
        with TestClient(app) as client:
            reply = client.post(
                "/api/v1/timestamp",
                content=request,
                headers={"content-type": "application/timestamp-query"},
            )
        return reply.status_code, reply.content

    for label in KEYS:
        run = directory / label
        parts = open_tsa(data_dir=run, key_uri=softhsm.uri(TOKEN, label), dev=True, passphrase=None)
        assert parts is not None
        status, body = answer(parts.authority)
        (run / "resp.tsr").write_bytes(body)
        summary = {
            "status": status,
            "signer": type(parts.authority.signer).__name__,
            "signature_hash": parts.authority.signer.public_key.algorithm.hash_name,
        }
        (run / "summary.json").write_text(json.dumps(summary))
        parts.close()

    run = directory / "hsm-root"
    run.mkdir()
    root_signer = load_signer(softhsm.uri(TOKEN, "p384"))
    tsa_signer = generate_signer(KeyAlgorithm.ECDSA_P256_SHA256)
    chain = tsa_chain(
        root_signer=root_signer,
        tsa_key=tsa_signer.public_key,
        organization="lacre hsm",
        not_before=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1),
    )
    (run / "chain.pem").write_bytes(chain.pem())
    (run / "leaf.pem").write_bytes(chain.leaf.public_bytes(serialization.Encoding.PEM))
    (run / "root.pem").write_bytes(chain.root.public_bytes(serialization.Encoding.PEM))
    status, body = answer(TimestampAuthority(tsa_signer, chain))
    assert status == 200
    (run / "resp.tsr").write_bytes(body)


if __name__ == "__main__":
    _child(Path(sys.argv[1]))
