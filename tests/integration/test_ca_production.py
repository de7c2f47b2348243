"""The CA outside development mode: `lacre ca init`, a configuration file, real issuers."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from sigstore._internal.fulcio.client import FulcioClient
from sigstore._internal.sct import verify_sct
from sigstore._internal.trust import KeyringPurpose
from sigstore.models import TrustedRoot
from sigstore.oidc import IdentityToken

from tests.integration.commands import python_module
from tests.integration.servers import Server

SECRET = "correct horse battery staple"


def ca_init(data_dir: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """``lacre ca init --data-dir DATA_DIR OPTIONS`` in its own process."""
    return python_module("lacre", "ca", "init", "--data-dir", str(data_dir), *options)


def make_log_keys(data_dir: Path) -> None:
    """Production log keys, made by openssl as an operator would."""
    keys = data_dir / "keys"
    keys.mkdir(parents=True, exist_ok=True)
    for name, args in (
        ("log.pem", ["-algorithm", "ed25519"]),
        ("rekor-v1.pem", ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]),
    ):
        subprocess.run(
            ["openssl", "genpkey", *args, "-out", str(keys / name)], check=True, timeout=30
        )


def csr(key: ec.EllipticCurvePrivateKey) -> x509.CertificateSigningRequest:
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([]))
    return builder.sign(key, hashes.SHA256())


def write_config(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture
def initialized(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    done = ca_init(data, "--organization", "Example Corp")
    assert done.returncode == 0, done.stderr
    make_log_keys(data)
    return data


@pytest.fixture
def production(initialized: Path, tmp_path: Path) -> Iterator[Server]:
    config = write_config(
        tmp_path / "lacre.yaml",
        f"""
data_dir: {initialized}
oidc:
  builtin:
    accounts:
      - client_id: release-bot
        email: release-bot@example.com
        secret_env: BOT_SECRET
""",
    )
    os.environ["BOT_SECRET"] = SECRET
    try:
        server = Server(initialized, "--config", str(config))
    finally:
        del os.environ["BOT_SECRET"]
    yield server
    server.stop()


def account_token(server: Server, client_id: str = "release-bot", secret: str = SECRET) -> str:
    answer = server.http.post(
        "/oidc/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert answer.status_code == 200, answer.text
    token = answer.json()["id_token"]
    assert isinstance(token, str)
    return token


def test_ca_init_writes_a_chain_and_refuses_to_overwrite_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = ca_init(data, "--organization", "Example Corp")
    assert first.returncode == 0, first.stderr
    assert "keep it offline" in first.stdout
    chain = x509.load_pem_x509_certificates((data / "ca" / "chain.pem").read_bytes())
    assert [c.subject.rfc4514_string() for c in chain] == [
        "O=Example Corp,CN=Example Corp intermediate",
        "O=Example Corp,CN=Example Corp root",
    ]
    chain[0].verify_directly_issued_by(chain[1])
    again = ca_init(data)
    assert again.returncode == 1
    assert "a CA chain already exists" in again.stderr and "--force" in again.stderr
    assert x509.load_pem_x509_certificates((data / "ca" / "chain.pem").read_bytes()) == chain


def test_ca_init_signs_with_an_existing_root_key_and_imports_a_chain(tmp_path: Path) -> None:
    made = tmp_path / "made"
    assert ca_init(made).returncode == 0
    other = tmp_path / "other"
    signed = ca_init(other, "--root-key", f"file:{made / 'keys' / 'ca-root.pem'}")
    assert signed.returncode == 0, signed.stderr
    assert "new root key" not in signed.stdout
    roots = [
        x509.load_pem_x509_certificates((d / "ca" / "chain.pem").read_bytes())[1]
        for d in (made, other)
    ]
    assert roots[0].public_key() == roots[1].public_key()

    imported = tmp_path / "imported"
    chain_file = made / "ca" / "chain.pem"
    key = f"file:{made / 'keys' / 'ca-intermediate.pem'}"
    done = ca_init(imported, "--import-chain", str(chain_file), "--key", key)
    assert done.returncode == 0, done.stderr
    assert (imported / "ca" / "chain.pem").read_bytes() == chain_file.read_bytes()


def test_ca_init_refuses_a_chain_that_does_not_match_the_key(tmp_path: Path) -> None:
    made = tmp_path / "made"
    assert ca_init(made).returncode == 0
    imported = tmp_path / "imported"
    done = ca_init(imported, "--import-chain", str(made / "ca" / "chain.pem"))
    assert done.returncode == 1
    assert "does not match the issuer certificate" in done.stderr
    assert not (imported / "ca" / "chain.pem").exists()


def test_ca_init_refuses_a_chain_in_the_wrong_order(tmp_path: Path) -> None:
    made = tmp_path / "made"
    assert ca_init(made).returncode == 0
    intermediate, root = x509.load_pem_x509_certificates((made / "ca" / "chain.pem").read_bytes())
    reversed_chain = tmp_path / "reversed.pem"
    reversed_chain.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in (root, intermediate)))
    done = ca_init(tmp_path / "x", "--import-chain", str(reversed_chain))
    assert done.returncode == 1
    assert "not self-signed" in done.stderr or "did not sign" in done.stderr


def test_a_server_without_a_ca_chain_says_how_to_make_one(tmp_path: Path) -> None:
    data = tmp_path / "data"
    make_log_keys(data)
    done = python_module("lacre", "server", "--data-dir", str(data), "--port", "0")
    assert done.returncode == 1
    assert "no CA key at" in done.stderr and "lacre ca init" in done.stderr


def test_a_ca_trusting_no_identity_provider_does_not_start(initialized: Path) -> None:
    done = python_module("lacre", "serve", "ca", "--data-dir", str(initialized), "--port", "0")
    assert done.returncode == 1
    assert "the CA trusts no identity provider" in done.stderr


def test_sigstore_python_gets_a_certificate_for_a_service_account(production: Server) -> None:
    token = IdentityToken(account_token(production))
    key = ec.generate_private_key(ec.SECP256R1())
    response = FulcioClient(production.url).signing_cert.post(csr(key), token)
    root = TrustedRoot.from_file(str(production.trusted_root))
    verify_sct(response.cert, response.chain, root.ct_keyring(KeyringPurpose.SIGN))
    san = response.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.RFC822Name) == ["release-bot@example.com"]
    assert response.chain[-1].subject.rfc4514_string() == "O=Example Corp,CN=Example Corp root"


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"client_id": "release-bot", "client_secret": "wrong"}, "client credentials refused"),
        ({"client_id": "nobody", "client_secret": SECRET}, "client credentials refused"),
        ({"client_id": "anyone@example.com"}, "needs client credentials"),
        ({"client_id": "release-bot", "grant_type": "password"}, "unsupported grant_type"),
    ],
)
def test_the_builtin_issuer_refuses_bad_credentials(
    production: Server, form: dict[str, str], message: str
) -> None:
    answer = production.http.post("/oidc/token", data=form)
    assert 400 <= answer.status_code < 500
    assert message in answer.json()["message"]


def test_basic_authentication_gets_a_token(production: Server) -> None:
    answer = production.http.post(
        "/oidc/token",
        data={"grant_type": "client_credentials"},
        auth=httpx.BasicAuth("release-bot", SECRET),
    )
    assert answer.status_code == 200, answer.text


def test_a_configured_external_issuer_is_discovered_over_http(
    initialized: Path, tmp_path: Path
) -> None:
    """A second server's built-in issuer plays an external identity provider."""
    provider = Server(tmp_path / "provider", "--dev")
    try:
        issuer = f"{provider.url}/oidc"
        config = write_config(
            tmp_path / "ca.yaml",
            f"""
services: [ca]
oidc:
  issuers:
    - url: {issuer}
      type: email
""",
        )
        ca = Server(initialized, "--config", str(config), command=("serve", "ca"))
        try:
            configuration = ca.http.get("/api/v2/configuration").json()
            assert configuration["issuers"][0]["issuerUrl"] == issuer
            assert ca.http.post("/oidc/token", json={"email": "a@example.com"}).status_code == 404
            token = provider.http.post("/oidc/token", json={"email": "carol@example.com"})
            key = ec.generate_private_key(ec.SECP256R1())
            response = FulcioClient(ca.url).signing_cert.post(
                csr(key), IdentityToken(token.json()["id_token"])
            )
            san = response.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
            assert san.value.get_values_for_type(x509.RFC822Name) == ["carol@example.com"]
            assert ca.http.get("/api/v1/log").status_code == 404
        finally:
            ca.stop()
    finally:
        provider.stop()
