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

from lacre.apps.ca.fast import signing_cert_posts
from lacre.apps.ca.routes import ca_router
from lacre.apps.direct import DirectPosts
from lacre.apps.errors import install_error_handlers
from lacre.ca.ctlog import CtLog
from lacre.ca.issuer import CertificateAuthority
from lacre.ca.service import CaService
from lacre.keys import SoftwareSigner
from lacre.oidc import IssuerConfig, IssuerType, Jwk, TokenVerifier
from lacre.x509.profile import CaChain

ISSUER = "https://accounts.example.com"
SIGNING = "/api/v2/signingCert"
_CHAIN_KEY = "signedCertificateEmbeddedSct"
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


def _app(service: CaService, fast: bool) -> FastAPI:
    """The CA API, its signing-certificate POSTs answered by the router or the direct path."""
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(ca_router(service))
    if fast:
        app.add_middleware(DirectPosts, handlers=signing_cert_posts(service))
    return app


@pytest.fixture
def service(ca: tuple[CaChain, SoftwareSigner], ctlog: CtLog) -> CaService:
    authority = CertificateAuthority(ca[0], ca[1], ctlog)
    verifier = TokenVerifier([IssuerConfig(url=ISSUER, type=IssuerType.EMAIL)], StaticKeys())
    return CaService(authority, verifier)


@pytest.fixture(params=["router", "fast"])
def client(service: CaService, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """Every test runs against the documented route and against the direct path."""
    with TestClient(_app(service, request.param == "fast")) as test_client:
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


def _key_request(email: str = "alice@example.com") -> dict[str, object]:
    key = ec.generate_private_key(ec.SECP256R1())
    proof = key.sign(email.encode(), ec.ECDSA(hashes.SHA256()))
    return {
        "publicKeyRequest": {
            "publicKey": {"content": _pem_key(key)},
            "proofOfPossession": base64.b64encode(proof).decode(),
        }
    }


def _nested_token() -> str:
    header = base64.urlsafe_b64encode(b"[" * 20_000).decode().rstrip("=")
    return f"{header}.e30.AAAA"


@pytest.mark.parametrize(
    ("path", "body", "headers"),
    [
        ("/api/v2/signingCert", b"{", {}),
        ("/api/v2/signingCert", b"[]", {}),
        ("/api/v2/signingCert", b'{"certificateSigningRequest": "AAAA"}', {}),
        ("/api/v2/signingCert", b"{}", {"Authorization": "Bearer x.y.z"}),
        ("/api/v2/signingCert", b"\xff\xfe", {}),
        ("/api/v2/signingCert", b"[" * 100_000, {}),
        ("/api/v1/signingCert", b'{"publicKey": {"content": "AAAA"}}', {}),
        ("/api/v1/signingCert", b"{}", {"Authorization": "Bearer"}),
    ],
)
def test_the_direct_path_answers_refusals_exactly_as_the_router(
    service: CaService, path: str, body: bytes, headers: dict[str, str]
) -> None:
    with TestClient(_app(service, False)) as routed, TestClient(_app(service, True)) as direct:
        expected = routed.post(path, content=body, headers=headers)
        found = direct.post(path, content=body, headers=headers)
    assert 400 <= found.status_code < 500
    assert (found.status_code, found.content) == (expected.status_code, expected.content)
    assert found.headers["content-type"] == expected.headers["content-type"]


def test_the_direct_path_answers_certificates_in_the_router_shape(service: CaService) -> None:
    body = {"credentials": {"oidcIdentityToken": token()}, **_key_request()}
    with TestClient(_app(service, False)) as routed, TestClient(_app(service, True)) as direct:
        expected, found = routed.post(SIGNING, json=body), direct.post(SIGNING, json=body)
    assert found.status_code == expected.status_code == 200
    assert found.headers["content-type"] == expected.headers["content-type"]
    assert found.json().keys() == expected.json().keys()
    pems, routed_pems = (r.json()[_CHAIN_KEY]["chain"]["certificates"] for r in (found, expected))
    assert pems[1:] == routed_pems[1:]
    leaf, routed_leaf = _leaf(pems), _leaf(routed_pems)
    leaf.verify_directly_issued_by(_leaf(pems[1:]))
    assert [ext.oid for ext in leaf.extensions] == [ext.oid for ext in routed_leaf.extensions]
    assert leaf.extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    ) == routed_leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)


def test_the_direct_path_leaves_other_requests_to_the_app(service: CaService) -> None:
    with TestClient(_app(service, True)) as direct:
        assert direct.get(SIGNING).status_code == 405
        assert direct.get("/api/v2/trustBundle").status_code == 200
        assert direct.post("/api/v2/signingCert/x", json={}).status_code == 404


def test_an_unexpected_failure_on_the_direct_path_is_a_json_500(
    service: CaService, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(token: str | None, request: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(service, "sign", broken)
    body = {"credentials": {"oidcIdentityToken": token()}, **_key_request()}
    with TestClient(_app(service, True), raise_server_exceptions=False) as direct:
        answer = direct.post(SIGNING, json=body)
    assert answer.status_code == 500
    assert answer.json()["code"] == 500


def test_a_token_nested_too_deeply_is_refused_with_401(client: TestClient) -> None:
    body = {"credentials": {"oidcIdentityToken": _nested_token()}, **_key_request()}
    answer = client.post(SIGNING, json=body)
    assert answer.status_code == 401, answer.text
    assert "nested too deeply" in answer.json()["message"]


def test_every_answer_carries_the_ca_chain(client: TestClient, service: CaService) -> None:
    chain = service.authority.chain
    expected = [
        cert.public_bytes(serialization.Encoding.PEM).decode() for cert in chain.certificates
    ]
    for email in ("alice@example.com", "alice@example.com"):
        body = {"credentials": {"oidcIdentityToken": token(email)}, **_key_request(email)}
        pems = client.post(SIGNING, json=body).json()[_CHAIN_KEY]["chain"]["certificates"]
        assert pems[1:] == expected
        _leaf(pems).verify_directly_issued_by(chain.intermediate)
