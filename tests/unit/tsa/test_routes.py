"""The timestamp API in process: DER and JSON requests, rejections, limits, chain, OpenAPI."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Iterator

import pytest
import rfc3161_client
from cryptography import x509
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lacre.apps.direct import DirectPosts
from lacre.apps.errors import install_error_handlers
from lacre.apps.openapi import install_openapi
from lacre.apps.tsa.fast import timestamp_posts
from lacre.apps.tsa.routes import tsa_router
from lacre.keys import generate_signer
from lacre.tsa import MAX_REQUEST_BYTES, TimestampAuthority
from tests.unit.tsa.support import (
    DIGEST,
    WrappedSigner,
    load_rejection,
    make_request,
    make_tsa,
    tst_info,
)

PATH = "/api/v1/timestamp"
QUERY = {"content-type": "application/timestamp-query"}
REPLY = "application/timestamp-reply"
TSA = make_tsa(now=dt.datetime.now(dt.UTC))


def app_for(authority: TimestampAuthority, *, fast: bool = False) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    install_openapi(app)
    app.include_router(tsa_router(authority))
    if fast:
        app.add_middleware(DirectPosts, handlers=timestamp_posts(authority))
    return app


@pytest.fixture(scope="module", params=[False, True], ids=["routes", "fast path"])
def client(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """The API through the documented routes, and with the fast path in front of them."""
    app = app_for(TSA.authority, fast=request.param)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def verify(der: bytes, message: bytes) -> None:
    response = rfc3161_client.decode_timestamp_response(der)
    verifier = (
        rfc3161_client.VerifierBuilder()
        .tsa_certificate(TSA.chain.leaf)
        .add_root_certificate(TSA.chain.root)
        .build()
    )
    assert verifier.verify_message(response, message)


def test_der_request(client: TestClient) -> None:
    message = b"signature"
    answer = client.post(
        PATH, content=make_request(hashlib.sha256(message).digest()), headers=QUERY
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == REPLY
    verify(answer.content, message)


@pytest.mark.parametrize(
    "content_type",
    [
        "application/timestamp-query; charset=binary",
        "Application/Timestamp-Query",
        "application/octet-stream",
    ],
)
def test_other_application_types_are_der(client: TestClient, content_type: str) -> None:
    answer = client.post(PATH, content=make_request(), headers={"content-type": content_type})
    assert answer.status_code == 200
    assert tst_info(answer.content)["message_imprint"]["hashed_message"] == DIGEST


def test_der_rejection_is_a_400_time_stamp_resp(client: TestClient) -> None:
    answer = client.post(
        PATH, content=make_request(b"\x00" * 20, hash_algorithm="sha1"), headers=QUERY
    )
    assert answer.status_code == 400
    assert answer.headers["content-type"] == REPLY
    status = load_rejection(answer.content)
    assert status["fail_info"] == {"bad_alg"}
    assert "found sha1" in status["status_string"][0]


def test_garbage_der_is_rejected_not_a_500(client: TestClient) -> None:
    answer = client.post(PATH, content=b"\xff" * 100, headers=QUERY)
    assert answer.status_code == 400
    assert load_rejection(answer.content)["fail_info"] == {"bad_data_format"}


def test_json_request_of_sigstore_js(client: TestClient) -> None:
    message = b"signature"
    body = {
        "artifactHash": base64.b64encode(hashlib.sha256(message).digest()).decode(),
        "hashAlgorithm": "sha256",
    }
    answer = client.post(PATH, json=body)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == REPLY
    verify(answer.content, message)
    assert (
        rfc3161_client.decode_timestamp_response(answer.content).signed_data.certificates == set()
    )


def test_json_request_with_certificates_and_nonce(client: TestClient) -> None:
    body = {
        "artifactHash": base64.b64encode(DIGEST).decode(),
        "hashAlgorithm": "sha256",
        "certificates": True,
        "nonce": 42,
    }
    answer = client.post(
        PATH, json=body, headers={"content-type": "application/json; charset=utf-8"}
    )
    assert answer.status_code == 200
    response = rfc3161_client.decode_timestamp_response(answer.content)
    assert response.tst_info.nonce == 42
    assert len(response.signed_data.certificates) == 2


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"hashAlgorithm": "sha256"}', "artifactHash"),
        (b'{"artifactHash": "AA==", "hashAlgorithm": "md5"}', "unsupported hashAlgorithm"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"artifactHash": "AA==", "hashAlgorithm": "sha256", "nonce": NaN}', "not valid JSON"),
    ],
)
def test_json_refusals_are_400_json(client: TestClient, body: bytes, words: str) -> None:
    answer = client.post(PATH, content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["code"] == 400
    assert words in answer.json()["message"]


@pytest.mark.parametrize("content_type", [None, "text/plain", "multipart/form-data"])
def test_non_application_types_are_415(client: TestClient, content_type: str | None) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    answer = client.post(PATH, content=make_request(), headers=headers)
    assert answer.status_code == 415
    assert "expected application/timestamp-query or application/json" in answer.json()["message"]


def test_oversized_bodies_are_413(client: TestClient) -> None:
    answer = client.post(PATH, content=b"\x30" * (MAX_REQUEST_BYTES + 1), headers=QUERY)
    assert answer.status_code == 413
    assert f"at most {MAX_REQUEST_BYTES} bytes" in answer.json()["message"]


def test_oversized_streamed_bodies_are_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"\x00" * 4096

    answer = client.post(PATH, content=chunks(), headers=QUERY)
    assert answer.status_code == 413


def test_certchain(client: TestClient) -> None:
    answer = client.get(f"{PATH}/certchain")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pem-certificate-chain"
    assert x509.load_pem_x509_certificates(answer.content) == [TSA.chain.leaf, TSA.chain.root]


def test_wrong_method(client: TestClient) -> None:
    assert client.get(PATH).status_code == 405


def test_openapi_documents_the_routes(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    post = document["paths"][PATH]["post"]
    assert set(post["requestBody"]["content"]) == {
        "application/timestamp-query",
        "application/json",
    }
    assert REPLY in post["responses"]["200"]["content"]
    assert {"400", "413", "415", "500"} <= set(post["responses"])
    assert "422" not in post["responses"]
    get = document["paths"][f"{PATH}/certchain"]["get"]
    assert "application/pem-certificate-chain" in get["responses"]["200"]["content"]


@pytest.mark.parametrize("fast", [False, True])
def test_signers_outside_memory_sign_in_a_thread(fast: bool) -> None:
    signer = WrappedSigner(generate_signer())
    tsa = make_tsa(signer=signer, now=dt.datetime.now(dt.UTC))
    with TestClient(app_for(tsa.authority, fast=fast)) as test_client:
        answer = test_client.post(PATH, content=make_request(), headers=QUERY)
    assert answer.status_code == 200
    assert signer.calls == 1


@pytest.mark.parametrize("fast", [False, True])
def test_failing_key_answers_500(fast: bool) -> None:
    tsa = make_tsa(signer=WrappedSigner(generate_signer(), fail=True))
    app = app_for(tsa.authority, fast=fast)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        der_answer = test_client.post(PATH, content=make_request(), headers=QUERY)
        body = {"artifactHash": base64.b64encode(DIGEST).decode(), "hashAlgorithm": "sha256"}
        json_answer = test_client.post(PATH, json=body)
    assert der_answer.status_code == 500
    assert load_rejection(der_answer.content)["fail_info"] == {"system_failure"}
    assert json_answer.status_code == 500
    assert "token removed" in json_answer.json()["message"]


def test_fast_path_passes_other_requests_through() -> None:
    app = app_for(TSA.authority, fast=True)

    @app.post("/other")
    def other() -> dict[str, str]:
        return {"seen": "framework"}

    with TestClient(app) as test_client:
        assert test_client.post("/other").json() == {"seen": "framework"}
        assert test_client.get(PATH).status_code == 405
        assert test_client.get(f"{PATH}/certchain").status_code == 200


def test_fast_path_answers_a_bug_in_the_error_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    tsa = make_tsa(now=dt.datetime.now(dt.UTC))

    def broken(_: bytes) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(tsa.authority, "respond", broken)
    with TestClient(app_for(tsa.authority, fast=True)) as test_client:
        answer = test_client.post(PATH, content=make_request(), headers=QUERY)
    assert answer.status_code == 500
    assert answer.json() == {"code": 500, "message": "internal server error (RuntimeError)"}
