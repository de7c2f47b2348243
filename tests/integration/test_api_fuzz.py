"""Schemathesis against a live server's ``/openapi.json``: no generated request gets a 5xx.

Every documented operation is fuzzed with schema-valid (positive) and, where it
has inputs, schema-violating (negative) requests, 50 of each per operation. The
checks:

* ``not_a_server_error``: no 5xx, ever;
* ``errors_are_json`` (ours): every 4xx is JSON ``{code, message}`` with
  ``code`` equal to the status;
* ``response_schema_conformance``: documented response bodies match;
* ``negative_data_rejection``: what the request schemas refuse, the server
  refuses (so ``lacre.apps.rekor.schemas`` stays truthful).

* ``status_code_conformance`` and ``content_type_conformance``: every status
  and media type the server answers with is documented.

Left out on purpose: ``positive_data_acceptance`` (schema-valid entries carry
random signatures, which the server rightly refuses).

The server runs on a real data directory seeded with one Rekor v1 and one v2
entry. Nothing the fuzzer sends may be written: both logs keep their size and
root, and ``lacre log fsck`` passes while the server still runs.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.rekor_load import hashedrekord_requests
from tests.integration.servers import Server

MAX_EXAMPLES = 50

OPERATIONS = {
    ("GET", "/healthz"),
    ("POST", "/api/v1/log/entries"),
    ("GET", "/api/v1/log/entries"),
    ("GET", "/api/v1/log/entries/{uuid}"),
    ("POST", "/api/v1/log/entries/retrieve"),
    ("GET", "/api/v1/log"),
    ("GET", "/api/v1/log/proof"),
    ("GET", "/api/v1/log/publicKey"),
    ("POST", "/api/v1/index/retrieve"),
    ("POST", "/api/v2/log/entries"),
    ("GET", "/checkpoint"),
    ("GET", "/tile/{path}"),
    ("GET", "/api/v2/checkpoint"),
    ("GET", "/api/v2/tile/{path}"),
    ("GET", "/logs/rekor-v1/checkpoint"),
    ("GET", "/logs/rekor-v1/tile/{path}"),
    ("POST", "/api/v2/signingCert"),
    ("POST", "/api/v1/signingCert"),
    ("GET", "/api/v2/trustBundle"),
    ("GET", "/api/v2/configuration"),
    ("GET", "/api/v1/rootCert"),
    ("POST", "/ct/v1/add-pre-chain"),
    ("POST", "/ct/v1/add-chain"),
    ("GET", "/ct/v1/get-sth"),
    ("GET", "/ct/v1/get-sth-consistency"),
    ("GET", "/ct/v1/get-proof-by-hash"),
    ("GET", "/ct/v1/get-entries"),
    ("GET", "/ct/v1/get-roots"),
    ("GET", "/oidc/.well-known/openid-configuration"),
    ("GET", "/oidc/jwks"),
    ("POST", "/oidc/token"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/tuf/{path}"),
    ("HEAD", "/tuf/{path}"),
    ("POST", "/api/v1/timestamp"),
    ("GET", "/api/v1/timestamp/certchain"),
}
"""Every documented operation."""

POSITIVE_ONLY = {
    (method, path)
    for method, path in OPERATIONS
    if path.endswith(
        (
            "/checkpoint",
            "/healthz",
            "/api/v1/log",
            "{uuid}",
            "{path}",
            "/get-sth",
            "/get-roots",
            "/trustBundle",
            "/configuration",
            "/rootCert",
            "/openid-configuration",
            "/jwks",
            "/readyz",
            "/metrics",
            "/certchain",
        )
    )
}
"""Operations without inputs, or whose only input is a path segment (any string): nothing
the schema forbids can be sent to them."""

RUNS = [
    pytest.param(method, path, mode, id=f"{method} {path} {mode.value}")
    for method, path in sorted(OPERATIONS, key=lambda operation: operation[::-1])
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or (method, path) not in POSITIVE_ONLY
]


@schemathesis.check
def errors_are_json(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> bool | None:
    """A 4xx answer is JSON ``{code, message}`` with ``code`` equal to the status.

    A HEAD answer has no body: only its content type is checked.
    """
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type == "application/json", f"error answered as {content_type!r}"
    if case.method.upper() == "HEAD":
        return None
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"code", "message"}, body
    assert body["code"] == response.status_code, body
    assert isinstance(body["message"], str) and body["message"], body
    return None


CHECKS = [
    not_a_server_error,
    errors_are_json,
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
    negative_data_rejection,
]


def _seed_requests() -> tuple[dict[str, Any], dict[str, Any]]:
    """A valid Rekor v1 hashedrekord and a valid v2 hashedRekordRequestV002."""
    key = ec.generate_private_key(ec.SECP256R1())
    digest = hashlib.sha256(b"an artifact for the fuzzed server").digest()
    return hashedrekord_requests(key, digest)


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A development server whose logs hold one entry each."""
    running = Server(tmp_path_factory.mktemp("fuzz") / "data", "--dev")
    try:
        v1, v2 = _seed_requests()
        for path, document in (("/api/v1/log/entries", v1), ("/api/v2/log/entries", v2)):
            response = running.http.post(path, json=document)
            assert response.status_code == 201, response.text
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def api_schema(fuzzed_server: Server) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{fuzzed_server.url}/openapi.json", timeout=30)


def log_state(server: Server) -> tuple[bytes, ...]:
    """The signed bodies (origin, size, root) of both logs' checkpoints."""
    notes = [server.http.get(path) for path in ("/checkpoint", "/logs/rekor-v1/checkpoint")]
    assert all(note.status_code == 200 for note in notes)
    return tuple(note.content.split(b"\n\n", 1)[0] for note in notes)


def assert_fsck_passes(server: Server) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lacre", "log", "fsck", "--data-dir", str(server.data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines and all(line.endswith(": ok") for line in lines), result.stdout


def test_every_documented_operation_is_fuzzed(api_schema: schemathesis.BaseSchema) -> None:
    documented: dict[tuple[str, str], list[Any]] = {}
    for result in api_schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        definition = operation.definition.raw
        inputs = [*definition.get("parameters", []), definition.get("requestBody")]
        documented[operation.method.upper(), operation.path] = [x for x in inputs if x]
    assert set(documented) == OPERATIONS
    for method_and_path in POSITIVE_ONLY:
        for parameter in documented[method_and_path]:
            assert parameter["in"] == "path" and parameter["schema"] == {
                "type": "string",
                "title": parameter["name"].title(),
            }, (method_and_path, parameter)


@pytest.mark.parametrize(("method", "path", "mode"), RUNS)
def test_no_request_gets_a_server_error(
    fuzzed_server: Server,
    api_schema: schemathesis.BaseSchema,
    method: str,
    path: str,
    mode: GenerationMode,
) -> None:
    operation = api_schema[path][method]
    session = requests.Session()
    before = log_state(fuzzed_server)
    statuses: dict[int, int] = {}

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode))
    def fuzz(case: schemathesis.Case[Any]) -> None:
        response = case.call(base_url=fuzzed_server.url, session=session, timeout=30)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        case.validate_response(response, checks=CHECKS)

    fuzz()
    assert statuses and max(statuses) < 500, statuses
    assert log_state(fuzzed_server) == before
    if method == "POST":
        assert_fsck_passes(fuzzed_server)
