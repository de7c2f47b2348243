"""`lacre server` over HTTPS, and the services that run alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from tests.integration.servers import Server


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 made by openssl, as an operator would."""
    certificate, key = directory / "tls.crt", directory / "tls.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(certificate),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return certificate, key


def test_the_server_speaks_https_and_says_so(tmp_path: Path) -> None:
    certificate, key = self_signed(tmp_path)
    server = Server(
        tmp_path / "data", "--dev", "--tls-certificate", str(certificate), "--tls-key", str(key)
    )
    try:
        assert server.url.startswith("https://127.0.0.1:")
        with httpx.Client(verify=str(certificate), timeout=30) as client:
            assert client.get(f"{server.url}/healthz").json() == {"status": "ok"}
            config = client.get(f"{server.url}/api/v2/configuration").json()
        assert config["issuers"][0]["issuerUrl"] == f"{server.url}/oidc"
        with httpx.Client(timeout=30) as untrusting:
            try:
                untrusting.get(f"{server.url}/healthz")
                raise AssertionError("a client without the certificate connected")
            except httpx.ConnectError as exc:
                assert "CERTIFICATE_VERIFY_FAILED" in str(exc)
    finally:
        server.stop()


def test_a_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    certificate, _ = self_signed(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "lacre", "server", "--dev", "--data-dir", str(tmp_path / "d"),
         "--port", "0", "--tls-certificate", str(certificate)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "TLS needs both a certificate and its key" in done.stderr


def test_the_timestamp_authority_and_tuf_run_alone(tmp_path: Path) -> None:
    data = tmp_path / "data"
    everything = Server(data, "--dev")
    everything.stop()
    tsa = Server(data, "--dev", command=("serve", "tsa"))
    try:
        chain = tsa.http.get("/api/v1/timestamp/certchain")
        assert chain.status_code == 200 and chain.text.count("BEGIN CERTIFICATE") == 2
        assert tsa.http.get("/api/v1/log").status_code == 404
        assert tsa.http.get("/tuf/timestamp.json").status_code == 404
    finally:
        tsa.stop()
    tuf = Server(data, "--dev", command=("serve", "tuf"))
    try:
        assert tuf.http.get("/tuf/1.root.json").status_code == 200
        assert tuf.http.get("/api/v1/timestamp/certchain").status_code == 404
    finally:
        tuf.stop()
