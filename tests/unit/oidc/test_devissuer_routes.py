import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lacre.apps.errors import install_error_handlers
from lacre.apps.oidc import oidc_router
from lacre.keys import generate_signer
from lacre.oidc import TokenVerifier
from lacre.oidc.accounts import Accounts
from lacre.oidc.devissuer import DevIssuer

ISS = "http://testserver/oidc"


@pytest.fixture
def dev() -> DevIssuer:
    return DevIssuer(ISS, generate_signer())


@pytest.fixture
def client(dev: DevIssuer) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(oidc_router(dev, Accounts(open_minting=True)))
    return TestClient(app, raise_server_exceptions=False)


def _principal_name(dev: DevIssuer, token: str) -> str:
    return TokenVerifier([dev.issuer_config()], dev.jwks_source()).principal(token).name


def test_discovery(client: TestClient, dev: DevIssuer) -> None:
    response = client.get("/oidc/.well-known/openid-configuration")
    assert response.status_code == 200
    assert response.json() == dev.discovery()
    assert response.json()["jwks_uri"] == f"{ISS}/jwks"


def test_jwks(client: TestClient, dev: DevIssuer) -> None:
    response = client.get("/oidc/jwks")
    assert response.status_code == 200
    assert response.json() == dev.jwks()


def test_token_from_json(client: TestClient, dev: DevIssuer) -> None:
    response = client.post("/oidc/token", json={"email": "alice@example.com"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 600
    assert body["access_token"] == body["id_token"]
    assert _principal_name(dev, body["id_token"]) == "alice@example.com"


def test_token_from_form(client: TestClient, dev: DevIssuer) -> None:
    response = client.post(
        "/oidc/token",
        data={"grant_type": "client_credentials", "client_id": "bob@example.org"},
    )
    assert response.status_code == 200, response.text
    assert _principal_name(dev, response.json()["id_token"]) == "bob@example.org"


def test_the_audience_can_be_chosen(client: TestClient, dev: DevIssuer) -> None:
    response = client.post(
        "/oidc/token", data={"client_id": "bob@example.org", "audience": "other"}
    )
    assert response.status_code == 200, response.text
    claims = jwt.decode(response.json()["id_token"], options={"verify_signature": False})
    assert claims["aud"] == "other"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"json": {"email": "not-an-email"}},
        {"json": {}},
        {"json": {"email": 42}},
        {"json": ["alice@example.com"]},
        {"json": {"email": "alice@example.com", "audience": ""}},
        {"content": b"{not json", "headers": {"content-type": "application/json"}},
        {"data": {"client_id": "nobody"}},
        {"data": {"grant_type": "password", "client_id": "alice@example.com"}},
        {"data": {}},
    ],
)
def test_bad_requests_are_refused(client: TestClient, kwargs: dict[str, object]) -> None:
    response = client.post("/oidc/token", **kwargs)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == 400 and body["message"]


def test_oversized_requests_are_refused(client: TestClient) -> None:
    response = client.post("/oidc/token", json={"email": "a@example.com", "pad": "x" * 20000})
    assert response.status_code == 413


def test_another_prefix(dev: DevIssuer) -> None:
    app = FastAPI()
    app.include_router(oidc_router(dev, Accounts(open_minting=True), prefix="/idp"))
    assert TestClient(app).get("/idp/jwks").status_code == 200
