"""Over HTTP, the CA refuses every bad token, key or request with a precise JSON error.

One development server serves the whole module. Tokens are forged with PyJWT and
the development issuer's own key (``DATA_DIR/keys/oidc.pem``), so each one fails
exactly one check; every refusal must be a 4xx JSON ``{code, message}`` naming
that check, and no two refusals may share a message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from sigstore._internal.sct import verify_sct
from sigstore._internal.trust import KeyringPurpose
from sigstore.models import TrustedRoot

from lacre.keys import SoftwareSigner, load_signer
from tests.integration.servers import Server

EMAIL = "alice@example.com"
V2 = "/api/v2/signingCert"
V1 = "/api/v1/signingCert"


class Forger:
    """Mints tokens as the development issuer would, with any claim or header changed."""

    def __init__(self, server: Server) -> None:
        signer = load_signer(f"file:{server.data_dir / 'keys' / 'oidc.pem'}")
        assert isinstance(signer, SoftwareSigner)
        self.key = signer.private_key
        self.public_pem = signer.public_key.pem
        self.kid = hashlib.sha256(signer.public_key.spki_der).hexdigest()[:16]
        self.issuer = f"{server.url}/oidc"

    def claims(self, **changes: Any) -> dict[str, Any]:
        """Valid claims for ``EMAIL``, with ``changes`` applied (None removes a claim)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": EMAIL,
            "email": EMAIL,
            "email_verified": True,
            "aud": "sigstore",
            "iat": now,
            "nbf": now,
            "exp": now + 600,
        }
        claims.update(changes)
        return {name: value for name, value in claims.items() if value is not None}

    def token(
        self, key: PrivateKeyTypes | None = None, kid: str | None = None, **changes: Any
    ) -> str:
        """A token signed with ``key`` (the issuer's by default) under key id ``kid``."""
        return jwt.encode(
            self.claims(**changes),
            key or self.key,  # type: ignore[arg-type]
            algorithm="ES256",
            headers={"kid": kid or self.kid},
        )

    def unsigned(self, header: dict[str, Any], mac_key: bytes | None = None) -> str:
        """A token with ``header``, and an HMAC-SHA256 signature by ``mac_key`` or none."""
        head = _b64url(json.dumps(header).encode())
        body = _b64url(json.dumps(self.claims()).encode())
        signing_input = f"{head}.{body}".encode()
        signature = b"" if mac_key is None else hmac.new(mac_key, signing_input, "sha256").digest()
        return f"{head}.{body}.{_b64url(signature)}"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _pem(key: PrivateKeyTypes) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _csr_der(key: ec.EllipticCurvePrivateKey) -> bytes:
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.DER)


def _csr_body(key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    pem = x509.load_der_x509_csr(_csr_der(key)).public_bytes(serialization.Encoding.PEM)
    return {"certificateSigningRequest": _b64(pem)}


def _pkr_body(public_pem: str, proof: bytes) -> dict[str, Any]:
    return {
        "publicKeyRequest": {
            "publicKey": {"algorithm": "ECDSA", "content": public_pem},
            "proofOfPossession": _b64(proof),
        }
    }


def _ec_pkr(
    key: ec.EllipticCurvePrivateKey, signer: ec.EllipticCurvePrivateKey | None = None
) -> dict[str, Any]:
    proof = (signer or key).sign(EMAIL.encode(), ec.ECDSA(hashes.SHA256()))
    return _pkr_body(_pem(key), proof)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One development server for the module."""
    running = Server(tmp_path_factory.mktemp("ca-matrix"), "--dev")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def forger(server: Server) -> Forger:
    """Token forging with the server's issuer key."""
    return Forger(server)


@pytest.fixture(scope="module")
def user_key() -> ec.EllipticCurvePrivateKey:
    """The requester's key."""
    return ec.generate_private_key(ec.SECP256R1())


def _post(
    server: Server, body: dict[str, Any] | bytes, token: str | None, path: str = V2
) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return server.http.post(path, content=content, headers=headers)


def _refusal(answer: httpx.Response) -> str:
    """The message of a 4xx JSON refusal (failing the test on anything else)."""
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text)
    assert answer.headers["content-type"].startswith("application/json"), answer.headers
    document = answer.json()
    assert set(document) >= {"code", "message"}, document
    assert document["code"] == answer.status_code
    message = document["message"]
    assert isinstance(message, str)
    return message


Case = Callable[[Server, Forger, ec.EllipticCurvePrivateKey], httpx.Response]


def _with_token(token: Callable[[Forger], str]) -> Case:
    """A valid CSR request carrying the token ``token`` builds, in the header."""
    return lambda server, forger, key: _post(server, _csr_body(key), token(forger))


def _with_body(body: Callable[[ec.EllipticCurvePrivateKey], dict[str, Any] | bytes]) -> Case:
    """A request ``body`` with a valid token in the header."""
    return lambda server, forger, key: _post(server, body(key), forger.token())


def _broken_csr(key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    der = bytearray(_csr_der(key))
    der[-3] ^= 0x55  # inside the signature's last INTEGER
    return {"certificateSigningRequest": _b64(bytes(der))}


def _public_key_only(
    private: PrivateKeyTypes,
) -> Callable[[ec.EllipticCurvePrivateKey], dict[str, Any]]:
    """A publicKeyRequest for ``private``'s public key (the proof is never reached)."""
    return lambda _: _pkr_body(_pem(private), b"\x30\x00")


_DAY = 86_400
ES256_HEADER = _b64url(b'{"alg":"ES256"}')
NOT_JSON = _b64url(b"{not json")

CASES: dict[str, tuple[Case, int, list[str]]] = {
    "expired": (
        _with_token(
            lambda f: f.token(iat=int(time.time()) - _DAY, nbf=None, exp=int(time.time()) - 3600)
        ),
        401,
        ["expired"],
    ),
    "not yet valid": (
        _with_token(lambda f: f.token(nbf=int(time.time()) + 3600, exp=int(time.time()) + 7200)),
        401,
        ["not yet valid", "nbf"],
    ),
    "issued in the future": (
        _with_token(lambda f: f.token(iat=int(time.time()) + 3600, nbf=None)),
        401,
        ["issued in the future", "iat"],
    ),
    "wrong audience": (
        _with_token(lambda f: f.token(aud="somebody-else")),
        401,
        ["audience", "expected sigstore", "found somebody-else"],
    ),
    "unknown issuer": (
        _with_token(lambda f: f.token(iss="https://idp.invalid")),
        401,
        ["issuer https://idp.invalid not configured", "expected one of http"],
    ),
    "bad signature": (
        _with_token(lambda f: f.token(key=ec.generate_private_key(ec.SECP256R1()))),
        401,
        ["signature does not verify"],
    ),
    "alg none": (
        _with_token(lambda f: f.unsigned({"alg": "none", "typ": "JWT"})),
        401,
        ["alg none is not allowed", "expected one of", "ES256"],
    ),
    "HS256 with the public key as secret": (
        _with_token(lambda f: f.unsigned({"alg": "HS256", "kid": f.kid}, f.public_pem)),
        401,
        ["HS256 is not allowed", "expected one of", "ES256"],
    ),
    "unknown key id": (
        _with_token(lambda f: f.token(kid="00000000deadbeef")),
        401,
        ["unknown key id", "expected one of", "found 00000000deadbeef"],
    ),
    "email_verified missing": (
        _with_token(lambda f: f.token(email_verified=None)),
        401,
        ["claim email_verified is missing", "expected true"],
    ),
    "email_verified false": (
        _with_token(lambda f: f.token(email_verified=False)),
        401,
        ["claim email_verified is not true", "expected true, found false"],
    ),
    "oversized token": (
        _with_token(lambda f: f.token(padding="x" * 100_000)),
        413,
        ["token too large", "expected at most 65536 bytes", "found 1"],
    ),
    "token of two parts": (
        _with_token(lambda f: f.token().rsplit(".", 1)[0]),
        401,
        ["malformed token", "3 dot-separated parts", "found 2"],
    ),
    "token not base64url": (
        _with_token(lambda f: "e30!.e30.AAAA"),
        401,
        ["malformed token", "header is not base64url"],
    ),
    "token payload not JSON": (
        _with_token(lambda f: f"{ES256_HEADER}.{NOT_JSON}.AAAA"),
        401,
        ["malformed token", "payload is not JSON"],
    ),
    "missing Authorization header": (
        lambda server, forger, key: _post(server, _csr_body(key), None),
        401,
        ["no identity token", "Authorization"],
    ),
    "proof of possession by another key": (
        _with_body(lambda key: _ec_pkr(key, ec.generate_private_key(ec.SECP256R1()))),
        400,
        ["proof of possession does not verify", EMAIL],
    ),
    "CSR with a broken signature": (
        _with_body(_broken_csr),
        400,
        ["certificateSigningRequest: its self-signature does not verify", "expected"],
    ),
    "RSA-1024 key": (
        _with_body(_public_key_only(rsa.generate_private_key(65537, 1024))),
        400,
        ["weak RSA key", "expected 2048 to 4096 bits", "found 1024 bits"],
    ),
    "secp256k1 key": (
        _with_body(_public_key_only(ec.generate_private_key(ec.SECP256K1()))),
        400,
        ["unsupported curve", "expected P-256", "found secp256k1"],
    ),
    "DSA key": (
        _with_body(_public_key_only(dsa.generate_private_key(2048))),
        400,
        ["unsupported key type", "expected ECDSA", "found DSA"],
    ),
    "oversized body": (
        _with_body(lambda key: b'{"pad": "' + b"x" * (5 << 20) + b'"}'),
        413,
        ["request body too large", "expected at most 4194304 bytes", "found"],
    ),
}


@pytest.fixture(scope="module")
def refusals(
    server: Server, forger: Forger, user_key: ec.EllipticCurvePrivateKey
) -> dict[str, tuple[int, str]]:
    """Every case's status and message, sent once."""
    answers = {name: case(server, forger, user_key) for name, (case, _, _) in CASES.items()}
    return {name: (answer.status_code, _refusal(answer)) for name, answer in answers.items()}


@pytest.mark.parametrize("name", list(CASES))
def test_each_bad_request_is_refused_naming_its_check(
    name: str, refusals: dict[str, tuple[int, str]]
) -> None:
    status, message = refusals[name]
    _, expected_status, words = CASES[name]
    assert status == expected_status, message
    for word in words:
        assert word in message, (word, message)


def test_every_refusal_has_its_own_message(refusals: dict[str, tuple[int, str]]) -> None:
    by_message: dict[str, list[str]] = {}
    for name, (_, message) in refusals.items():
        by_message.setdefault(message, []).append(name)
    assert {m: names for m, names in by_message.items() if len(names) > 1} == {}


def test_nothing_refused_reached_the_ct_log(
    server: Server, refusals: dict[str, tuple[int, str]]
) -> None:
    assert len(refusals) == len(CASES)
    assert server.http.get("/ct/v1/get-sth").json()["tree_size"] == 0


def test_an_oversized_token_in_the_body_is_refused(server: Server, forger: Forger) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    body = {"credentials": {"oidcIdentityToken": "a" * 100_000}, **_ec_pkr(key)}
    message = _refusal(_post(server, body, forger.token()))
    assert message == (
        "credentials.oidcIdentityToken too long: expected at most 65536 characters, found 100000"
    )


def _leaf(server: Server, chain: list[str]) -> x509.Certificate:
    """The leaf of ``chain``, checked: issued by the chain, naming ``EMAIL``, SCT valid."""
    assert len(chain) == 3
    certificates = [x509.load_pem_x509_certificate(pem.encode()) for pem in chain]
    for child, parent in itertools.pairwise(certificates):
        child.verify_directly_issued_by(parent)
    leaf = certificates[0]
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.RFC822Name) == [EMAIL]
    root = TrustedRoot.from_file(str(server.trusted_root))
    verify_sct(leaf, certificates[1:], root.ct_keyring(KeyringPurpose.SIGN))
    return leaf


def _v2_chain(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    chain = answer.json()["signedCertificateEmbeddedSct"]["chain"]["certificates"]
    assert isinstance(chain, list)
    return chain


def _same_key(leaf: x509.Certificate, key: PrivateKeyTypes) -> bool:
    return (
        _pem(key)
        == leaf.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_csr_with_the_token_in_the_header_succeeds(server: Server, forger: Forger) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = _leaf(server, _v2_chain(_post(server, _csr_body(key), forger.token())))
    assert _same_key(leaf, key)


def test_public_key_request_with_the_token_in_the_header_succeeds(
    server: Server, forger: Forger
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = _leaf(server, _v2_chain(_post(server, _ec_pkr(key), forger.token())))
    assert _same_key(leaf, key)


def test_the_token_in_the_body_succeeds_and_wins_over_the_header(
    server: Server, forger: Forger
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    body = {"credentials": {"oidcIdentityToken": forger.token()}, **_ec_pkr(key)}
    leaf = _leaf(server, _v2_chain(_post(server, body, "not-a-token")))
    assert _same_key(leaf, key)


def test_the_legacy_v1_request_succeeds(server: Server, forger: Forger) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    body = {
        "publicKey": {"content": _b64(der), "algorithm": "ecdsa"},
        "signedEmailAddress": _b64(key.sign(EMAIL.encode(), ec.ECDSA(hashes.SHA256()))),
    }
    answer = _post(server, body, forger.token(), V1)
    assert answer.status_code == 201, answer.text
    assert answer.headers["content-type"].startswith("application/pem-certificate-chain")
    blocks = answer.text.split("-----END CERTIFICATE-----")
    chain = [block.strip() + "\n-----END CERTIFICATE-----\n" for block in blocks[:-1]]
    assert _same_key(_leaf(server, chain), key)


def test_the_legacy_v1_request_refuses_a_bad_token(server: Server, forger: Forger) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    body = {"certificateSigningRequest": _csr_body(key)["certificateSigningRequest"]}
    message = _refusal(_post(server, body, forger.token(aud="other"), V1))
    assert "audience mismatch" in message
