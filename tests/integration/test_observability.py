"""Readiness, Prometheus metrics, request ids and JSON log lines of `lacre server`."""

from __future__ import annotations

import base64
import json

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from tests.integration.conftest import StartServer


def test_readyz_metrics_and_request_ids(start_server: StartServer) -> None:
    server = start_server("--workers", "2")
    assert server.http.get("/readyz").json() == {"status": "ready"}
    for _ in range(4):
        assert server.http.get("/api/v1/log").status_code == 200
    echoed = server.http.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    fresh = server.http.get("/healthz", headers={"X-Request-Id": "bad id\twith spaces"})
    assert fresh.headers["x-request-id"] != "bad id\twith spaces"
    assert len(fresh.headers["x-request-id"]) == 32

    answer = server.http.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    # Both workers' requests are summed, whichever worker answers the scrape.
    assert 'lacre_http_requests_total{method="GET",route="/api/v1/log",status="200"} 4.0' in text
    assert 'lacre_log_size{log="ct"} 0.0' in text
    assert 'lacre_log_size{log="main"}' in text and 'lacre_log_backlog{log="rekor-v1"}' in text
    assert "lacre_http_request_duration_seconds_bucket" in text
    assert 'route="unmatched"' not in text
    server.http.get("/no/such/path")
    assert 'route="unmatched",status="404"' in server.http.get("/metrics").text


def test_certificates_and_timestamps_issued_are_counted(start_server: StartServer) -> None:
    server = start_server()
    token = server.token("a@example.com")
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .sign(key, hashes.SHA256())
    )
    body = {"certificateSigningRequest": base64.b64encode(csr.public_bytes(Encoding.PEM)).decode()}
    issued = server.http.post(
        "/api/v2/signingCert", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert issued.status_code == 200, issued.text
    stamped = server.http.post(
        "/api/v1/timestamp",
        json={"artifactHash": base64.b64encode(b"\x01" * 32).decode(), "hashAlgorithm": "sha256"},
    )
    assert stamped.status_code == 200, stamped.text
    text = server.http.get("/metrics").text
    assert 'lacre_issued_total{kind="certificate"} 1.0' in text
    assert 'lacre_issued_total{kind="timestamp"} 1.0' in text
    assert 'route="/api/v2/signingCert",status="200"' in text
    assert 'lacre_log_size{log="ct"} 1.0' in text


def test_log_lines_are_json_with_the_request_id(start_server: StartServer) -> None:
    server = start_server("--log-level", "info")
    server.http.get("/healthz", headers={"X-Request-Id": "trace-42"})
    server.stop()
    lines = [json.loads(line) for line in server.stderr.splitlines() if line]
    requests = [line for line in lines if line.get("message") == "request"]
    assert {
        "request_id": "trace-42",
        "method": "GET",
        "path": "/healthz",
        "status": 200,
    }.items() <= next(r for r in requests if r.get("request_id") == "trace-42").items()
