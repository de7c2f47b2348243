"""The CA client: request forms and bad answers."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from lacre.clients.fulcio import FulcioClient
from lacre.errors import InvalidInput, NetworkError, PushbackError, TooLarge
from lacre.keys import generate_signer
from tests.unit.clients.mock import Recorder, answer
from tests.unit.verify.world import World


def _pems(world: World) -> list[str]:
    leaf = world.leaf().certificate
    certs = [leaf, *world.chain.certificates]
    return [c.public_bytes(serialization.Encoding.PEM).decode() for c in certs]


def _csr() -> x509.CertificateSigningRequest:
    signer = generate_signer()
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .sign(signer.private_key, hashes.SHA256())
    )


def _client(recorder: Recorder) -> FulcioClient:
    return FulcioClient("https://fulcio.test/some/path", http=recorder.client())


def test_csr_request_and_chain() -> None:
    world = World()
    pems = _pems(world)
    recorder = Recorder(
        answer(200, json={"signedCertificateEmbeddedSct": {"chain": {"certificates": pems}}})
    )
    csr = _csr()
    chain = _client(recorder).sign_csr(csr, "tok")
    assert [c.public_bytes(serialization.Encoding.PEM).decode() for c in chain] == pems
    (request,) = recorder.requests
    assert str(request.url) == "https://fulcio.test/api/v2/signingCert"
    assert request.headers["Authorization"] == "Bearer tok"
    body = json.loads(request.content)
    assert base64.b64decode(body["certificateSigningRequest"]) == csr.public_bytes(
        serialization.Encoding.PEM
    )


def test_public_key_request_carries_key_proof_and_token() -> None:
    world = World()
    recorder = Recorder(
        answer(
            200, json={"signedCertificateEmbeddedSct": {"chain": {"certificates": _pems(world)}}}
        )
    )
    signer = generate_signer()
    proof = signer.sign(b"alice@example.com")
    _client(recorder).sign_public_key(signer.public_key, proof, "tok")
    body = json.loads(recorder.requests[0].content)
    assert body["credentials"] == {"oidcIdentityToken": "tok"}
    assert body["publicKeyRequest"]["publicKey"]["content"] == signer.public_key.pem.decode()
    signer.public_key.verify(
        base64.b64decode(body["publicKeyRequest"]["proofOfPossession"]), b"alice@example.com"
    )


@pytest.mark.parametrize(
    ("document", "match"),
    [
        ({"signedCertificateDetachedSct": {"chain": {"certificates": []}}}, "embedded SCT"),
        ({}, "embedded SCT"),
        ({"signedCertificateEmbeddedSct": {"chain": {"certificates": ["x"]}}}, "wrong shape"),
        ({"signedCertificateEmbeddedSct": {"chain": {"certificates": ["x"] * 11}}}, "wrong shape"),
        ({"signedCertificateEmbeddedSct": {"chain": "nope"}}, "wrong shape"),
        (
            {"signedCertificateEmbeddedSct": {"chain": {"certificates": ["garbage", "more"]}}},
            "not a PEM",
        ),
        ({"signedCertificateEmbeddedSct": {"chain": {"certificates": [1, 2]}}}, "PEM string"),
    ],
)
def test_malformed_answers_are_refused(document: dict[str, object], match: str) -> None:
    with pytest.raises(NetworkError, match=match):
        _client(Recorder(answer(200, json=document))).sign_csr(_csr(), "tok")


def test_refusals_carry_the_server_message() -> None:
    refusal = answer(400, json={"code": 3, "message": "error processing the identity token"})
    with pytest.raises(InvalidInput, match="identity token"):
        _client(Recorder(refusal)).sign_csr(_csr(), "tok")
    with pytest.raises(NetworkError, match="HTTP 500"):
        _client(Recorder(answer(500, json={"code": 13, "message": "boom"}))).sign_csr(_csr(), "t")
    with pytest.raises(NetworkError, match="not JSON"):
        _client(Recorder(answer(200, content=b"garbage"))).sign_csr(_csr(), "t")
    with pytest.raises(TooLarge):
        _client(Recorder(answer(200, content=b"[" * (9 << 20)))).sign_csr(_csr(), "t")


def test_the_ca_is_not_asked_twice_after_a_server_error() -> None:
    recorder = Recorder(answer(503, json={"message": "busy"}))
    with pytest.raises(PushbackError, match="busy"):
        _client(recorder).sign_csr(_csr(), "t")
    assert len(recorder.requests) == 1
