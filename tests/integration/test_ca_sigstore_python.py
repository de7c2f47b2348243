"""The dev server's CA issues certificates sigstore-python accepts, SCT included."""

from __future__ import annotations

import subprocess
import sys

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from sigstore._internal.fulcio.client import FulcioClient, FulcioClientError
from sigstore._internal.sct import verify_sct
from sigstore._internal.trust import KeyringPurpose
from sigstore.models import TrustedRoot
from sigstore.oidc import IdentityToken

from tests.integration.conftest import StartServer
from tests.integration.servers import Server


def _token(server: Server, email: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "lacre", "dev", "token", "--server", server.url, "--email", email],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _csr(key: ec.EllipticCurvePrivateKey) -> x509.CertificateSigningRequest:
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .sign(key, hashes.SHA256())
    )


def test_sigstore_python_gets_a_certificate_with_a_valid_embedded_sct(
    start_server: StartServer,
) -> None:
    server = start_server()
    identity = IdentityToken(_token(server, "alice@example.com"))
    key = ec.generate_private_key(ec.SECP256R1())
    response = FulcioClient(server.url).signing_cert.post(_csr(key), identity)
    root = TrustedRoot.from_file(str(server.trusted_root))
    verify_sct(response.cert, response.chain, root.ct_keyring(KeyringPurpose.SIGN))
    san = response.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.RFC822Name) == ["alice@example.com"]
    fulcio_roots = root.get_fulcio_certs()
    assert response.chain[-1] in fulcio_roots or response.chain[0] in fulcio_roots
    info = server.http.get("/ct/v1/get-sth").json()
    assert info["tree_size"] == 1


def test_a_token_for_another_audience_is_refused(start_server: StartServer) -> None:
    server = start_server()
    answer = server.http.post(
        f"{server.url}/oidc/token", json={"email": "a@example.com", "audience": "foo"}
    )
    assert answer.status_code == 200, answer.text
    token = answer.json()["id_token"]
    key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(FulcioClientError):
        FulcioClient(server.url).signing_cert.post(_csr(key), IdentityToken(token, client_id="foo"))
    assert server.http.get("/ct/v1/get-sth").json()["tree_size"] == 0
