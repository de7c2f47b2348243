"""The Fulcio-compatible CA API in process: token + key request to a certificate chain."""

from __future__ import annotations

import base64
import datetime as dt
import time
from collections.abc import Iterator, Sequence

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lacre.apps.ca.routes import ca_router
from lacre.apps.errors import install_error_handlers
from lacre.ca.ctlog import CtLog
from lacre.ca.issuer import CertificateAuthority
from lacre.ca.service import CaService
from lacre.keys import SoftwareSigner
from lacre.oidc import IssuerConfig, IssuerType, Jwk, TokenVerifier
from lacre.x509.profile import CaChain

ISSUER = "https://accounts.example.com"
NOW = dt.datetime.now(dt.UTC)
IDP_KEY = ec.generate_private_key(ec.SECP256R1())


class StaticKeys:
    def keys(self, issuer: str) -> Sequence[Jwk]:
        return [Jwk("k1", "ES256", IDP_KEY.public_key())] if issuer == ISSUER else []

    def refresh(self, issuer: str) -> bool:
        return False


def token(email: str = "alice@example.com", **changes: object) -> str:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": ISSUER,
        "aud": "sigstore",
        "sub": "u-1",
        "email": email,
        "email_verified": True,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
    }
    claims.update(changes)
    return jwt.encode(claims, IDP_KEY, algorithm="ES256", headers={"kid": "k1"})


@pytest.fixture
def client(ca: tuple[CaChain, SoftwareSigner], ctlog: CtLog) -> Iterator[TestClient]:
    authority = CertificateAuthority(ca[0], ca[1], ctlog)
    verifier = TokenVerifier([IssuerConfig(url=ISSUER, type=IssuerType.EMAIL)], StaticKeys())
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(ca_router(CaService(authority, verifier)))
    with TestClient(app) as test_client:
        yield test_client


def _pem_key(key: ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _leaf(pems: list[str]) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pems[0].encode())


def test_public_key_request_with_token_in_the_body(client: TestClient) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    proof = key.sign(b"alice@example.com", ec.ECDSA(hashes.SHA256()))
    body = {
        "credentials": {"oidcIdentityToken": token()},
        "publicKeyRequest": {
            "publicKey": {"algorithm": "ECDSA", "content": _pem_key(key)},
            "proofOfPossession": base64.b64encode(proof).decode(),
        },
    }
    answer = client.post("/api/v2/signingCert", json=body)
    assert answer.status_code == 200, answer.text
    pems = answer.json()["signedCertificateEmbeddedSct"]["chain"]["certificates"]
    assert len(pems) == 3
    leaf = _leaf(pems)
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.RFC822Name) == ["alice@example.com"]
    assert leaf.extensions.get_extension_for_class(x509.PrecertificateSignedCertificateTimestamps)


def test_csr_with_token_in_the_header(client: TestClient) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .sign(key, hashes.SHA256())
    )
    body = {
        "certificateSigningRequest": base64.b64encode(
            csr.public_bytes(serialization.Encoding.PEM)
        ).decode()
    }
    answer = client.post(
        "/api/v2/signingCert", json=body, headers={"Authorization": f"Bearer {token()}"}
    )
    assert answer.status_code == 200, answer.text


def test_legacy_v1_answers_a_pem_chain(client: TestClient) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    body = {
        "publicKey": {"content": base64.b64encode(der).decode(), "algorithm": "ecdsa"},
        "signedEmailAddress": base64.b64encode(
            key.sign(b"alice@example.com", ec.ECDSA(hashes.SHA256()))
        ).decode(),
    }
    answer = client.post(
        "/api/v1/signingCert", json=body, headers={"Authorization": f"Bearer {token()}"}
    )
    assert answer.status_code == 201, answer.text
    assert answer.headers["content-type"].startswith("application/pem-certificate-chain")
    assert answer.text.count("BEGIN CERTIFICATE") == 3
    bundle = client.get("/api/v2/trustBundle").json()["chains"][0]["certificates"]
    assert len(bundle) == 2 and client.get("/api/v1/rootCert").text.count("BEGIN CERTIFICATE") == 2


@pytest.mark.parametrize(
    ("make_token", "status", "message"),
    [
        (lambda: "", 401, "no identity token"),
        (lambda: token(aud="foo"), 401, "audience mismatch: expected sigstore, found foo"),
        (lambda: token(exp=int(time.time()) - 600), 401, "token expired"),
        (lambda: token(iss="https://other.example"), 401, "not configured"),
        (lambda: token(email_verified=False), 401, "email_verified"),
        (lambda: token(email="bob@example.com"), 400, "proof of possession does not verify"),
    ],
)
def test_refusals_say_which_check_failed(
    client: TestClient, make_token: object, status: int, message: str
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    proof = key.sign(b"alice@example.com", ec.ECDSA(hashes.SHA256()))
    body = {
        "credentials": {"oidcIdentityToken": make_token()},  # type: ignore[operator]
        "publicKeyRequest": {
            "publicKey": {"content": _pem_key(key)},
            "proofOfPossession": base64.b64encode(proof).decode(),
        },
    }
    answer = client.post("/api/v2/signingCert", json=body)
    assert answer.status_code == status, answer.text
    assert message in answer.json()["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "exactly one of publicKeyRequest or certificateSigningRequest"),
        ({"certificateSigningRequest": "***"}, "not valid base64"),
        (
            {"publicKeyRequest": {"publicKey": {"content": "junk"}, "proofOfPossession": "AAAA"}},
            "public key",
        ),
        ({"publicKeyRequest": "x"}, "expected a JSON object"),
    ],
)
def test_malformed_requests_are_400(client: TestClient, body: object, message: str) -> None:
    answer = client.post(
        "/api/v2/signingCert", json=body, headers={"Authorization": f"Bearer {token()}"}
    )
    assert answer.status_code == 400, answer.text
    assert message in answer.json()["message"]


def test_configuration_lists_the_accepted_issuers(client: TestClient) -> None:
    answer = client.get("/api/v2/configuration")
    assert answer.status_code == 200
    assert answer.json() == {
        "issuers": [
            {
                "issuerUrl": ISSUER,
                "audience": "sigstore",
                "challengeClaim": "email",
                "issuerType": "email",
            }
        ]
    }


def test_the_token_is_checked_before_the_key(client: TestClient) -> None:
    weak = rsa.generate_private_key(65537, 1024).public_key()
    pem = weak.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    body = {"publicKeyRequest": {"publicKey": {"content": pem}, "proofOfPossession": "AAAA"}}
    headers = {"Authorization": f"Bearer {token(aud='other')}"}
    refused = client.post("/api/v2/signingCert", json=body, headers=headers)
    assert refused.status_code == 401
    assert refused.json()["message"] == "audience mismatch: expected sigstore, found other"
    headers = {"Authorization": f"Bearer {token()}"}
    weak_key = client.post("/api/v2/signingCert", json=body, headers=headers)
    assert weak_key.status_code == 400
    assert weak_key.json()["message"].startswith("publicKeyRequest.publicKey.content: weak RSA key")
