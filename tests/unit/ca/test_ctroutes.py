"""The CT log's RFC 6962 HTTP API, in process."""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Iterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lacre.apps.ca.ctroutes import ct_router
from lacre.apps.errors import install_error_handlers
from lacre.ca.ctlog import CtLog
from lacre.keys import SoftwareSigner, generate_signer
from lacre.transparency import merkle
from lacre.transparency.ct import SignedCertificateTimestamp
from lacre.x509.fulcio import FulcioClaims
from lacre.x509.profile import CaChain, LeafProfile

NOW = dt.datetime.now(dt.UTC)


def _b64(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


@pytest.fixture
def setup(
    ca: tuple[CaChain, SoftwareSigner], ctlog: CtLog
) -> Iterator[tuple[TestClient, CaChain, SoftwareSigner]]:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(ct_router(ctlog, "/test"))
    with TestClient(app) as client:
        yield client, ca[0], ca[1]


def _precert(chain: CaChain, signer: SoftwareSigner, n: int) -> x509.Certificate:
    return LeafProfile(
        subject_alt_name=x509.RFC822Name(f"user{n}@example.com"),
        public_key=generate_signer().public_key,
        fulcio_extensions=FulcioClaims(issuer="https://issuer.example"),
        not_before=NOW,
    ).precertificate(chain.intermediate, signer)


def test_add_pre_chain_then_read_the_tree(
    setup: tuple[TestClient, CaChain, SoftwareSigner],
) -> None:
    client, chain, signer = setup
    for n in range(3):
        body = {"chain": [_b64(_precert(chain, signer, n)), _b64(chain.intermediate)]}
        answer = client.post("/test/ct/v1/add-pre-chain", json=body)
        assert answer.status_code == 200, answer.text
        sct = SignedCertificateTimestamp.from_json(answer.json())
        assert sct.version == 0 and len(sct.log_id) == 32
    sth = client.get("/test/ct/v1/get-sth").json()
    assert sth["tree_size"] == 3
    entries = client.get("/test/ct/v1/get-entries", params={"start": 0, "end": 9}).json()["entries"]
    leaves = [base64.b64decode(entry["leaf_input"]) for entry in entries]
    root = base64.b64decode(sth["sha256_root_hash"])
    assert root == merkle.root_of([merkle.leaf_hash(leaf) for leaf in leaves])
    digest = base64.b64encode(merkle.leaf_hash(leaves[1])).decode()
    proof = client.get(
        "/test/ct/v1/get-proof-by-hash", params={"hash": digest, "tree_size": 3}
    ).json()
    path = [base64.b64decode(node) for node in proof["audit_path"]]
    merkle.verify_inclusion(merkle.leaf_hash(leaves[1]), proof["leaf_index"], 3, path, root)
    consistency = client.get("/test/ct/v1/get-sth-consistency", params={"first": 1, "second": 3})
    assert len(consistency.json()["consistency"]) == 2
    roots = client.get("/test/ct/v1/get-roots").json()["certificates"]
    assert roots == [_b64(chain.root)]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"chain": "x"}, "chain array"),
        ([1], "chain array"),
        ({"chain": [1, 2]}, r"chain\[0\]: expected base64 text, found number"),
        ({"chain": ["***", "AAAA"]}, r"chain\[0\]: not valid base64"),
        ({"chain": ["AAAA"]}, "chain length"),
    ],
)
def test_bad_chains_get_a_clear_400(
    setup: tuple[TestClient, CaChain, SoftwareSigner], body: object, message: str
) -> None:
    client, _, _ = setup
    for path in ("/test/ct/v1/add-pre-chain", "/test/ct/v1/add-chain"):
        answer = client.post(path, json=body)
        assert answer.status_code == 400
        assert answer.json()["code"] == 400
        assert re.search(message, answer.json()["message"])
    assert client.get("/test/ct/v1/get-sth").json()["tree_size"] == 0
