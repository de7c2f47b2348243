import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from lacre.errors import ConfigError, InvalidInput
from lacre.keys import KeyAlgorithm, SoftwareSigner, generate_signer
from lacre.oidc import IssuerType, TokenError, TokenVerifier
from lacre.oidc.devissuer import DevIssuer

ISS = "http://localhost:8080/oidc"
NOW = 1_800_000_000


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def signer() -> SoftwareSigner:
    return generate_signer()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dev(signer: SoftwareSigner, clock: Clock) -> DevIssuer:
    return DevIssuer(ISS, signer, clock=clock)


def _verifier(dev: DevIssuer, clock: Clock) -> TokenVerifier:
    return TokenVerifier([dev.issuer_config()], dev.jwks_source(), clock)


def _decode(part: str) -> dict[str, object]:
    value = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    assert isinstance(value, dict)
    return value


def test_minted_tokens_verify_and_yield_the_email(dev: DevIssuer, clock: Clock) -> None:
    token = dev.mint("alice@example.com")
    principal = _verifier(dev, clock).principal(token)
    assert principal.name == "alice@example.com"
    assert principal.subject_alt_name.value == "alice@example.com"


def test_claims_and_header(dev: DevIssuer, signer: SoftwareSigner) -> None:
    header, payload, _ = dev.mint("bob@example.org", lifetime_s=30).split(".")
    assert _decode(header) == {"alg": "ES256", "typ": "JWT", "kid": dev.kid}
    assert _decode(payload) == {
        "iss": ISS,
        "sub": "bob@example.org",
        "email": "bob@example.org",
        "email_verified": True,
        "aud": "sigstore",
        "iat": NOW,
        "nbf": NOW,
        "exp": NOW + 30,
    }
    assert dev.kid == hashlib.sha256(signer.public_key.spki_der).hexdigest()[:16]


def test_expired_tokens_are_refused(dev: DevIssuer, clock: Clock) -> None:
    token = dev.mint("alice@example.com", lifetime_s=60)
    clock.now += 600
    with pytest.raises(TokenError, match="expired"):
        _verifier(dev, clock).verify(token)


def test_another_audience_is_refused(dev: DevIssuer, clock: Clock) -> None:
    token = dev.mint("alice@example.com", audience="foo")
    with pytest.raises(TokenError, match="audience"):
        _verifier(dev, clock).verify(token)


def test_another_issuers_key_does_not_verify(dev: DevIssuer, clock: Clock) -> None:
    other = DevIssuer(ISS, generate_signer(), clock=clock)
    with pytest.raises(TokenError):
        _verifier(dev, clock).verify(other.mint("alice@example.com"))


def test_jwks_source(dev: DevIssuer) -> None:
    source = dev.jwks_source()
    (key,) = source.keys(ISS)
    assert (key.kid, key.alg) == (dev.kid, "ES256")
    assert source.keys("https://elsewhere.example") == ()
    assert source.refresh(ISS) is False


def test_jwks_publishes_the_signers_key(dev: DevIssuer, signer: SoftwareSigner) -> None:
    keys = dev.jwks()["keys"]
    assert isinstance(keys, list) and len(keys) == 1
    entry: dict[str, str] = keys[0]
    assert {k: entry[k] for k in ("kty", "crv", "kid", "alg", "use")} == {
        "kty": "EC",
        "crv": "P-256",
        "kid": dev.kid,
        "alg": "ES256",
        "use": "sig",
    }
    assert "=" not in entry["x"] + entry["y"]
    x = int.from_bytes(base64.urlsafe_b64decode(entry["x"] + "=="), "big")
    y = int.from_bytes(base64.urlsafe_b64decode(entry["y"] + "=="), "big")
    public = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    assert public == signer.public_key.key


def test_discovery(dev: DevIssuer) -> None:
    assert dev.discovery() == {
        "issuer": ISS,
        "jwks_uri": f"{ISS}/jwks",
        "token_endpoint": f"{ISS}/token",
        "id_token_signing_alg_values_supported": ["ES256"],
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "grant_types_supported": ["client_credentials"],
    }


def test_issuer_config(dev: DevIssuer) -> None:
    config = dev.issuer_config()
    assert (config.url, config.type, config.client_id) == (ISS, IssuerType.EMAIL, "sigstore")


@pytest.mark.parametrize(
    "email",
    [
        "",
        "alice",
        "alice@",
        "@example.com",
        "a b@example.com",
        "a@b@example.com",
        "alice@localhost",
        "a\x00@example.com",
        "x" * 250 + "@example.com",
    ],
)
def test_malformed_emails_are_refused(dev: DevIssuer, email: str) -> None:
    with pytest.raises(InvalidInput, match="not an email"):
        dev.mint(email)


@pytest.mark.parametrize("lifetime", [0, -1, 3601, True])
def test_lifetime_out_of_range_is_refused(dev: DevIssuer, lifetime: int) -> None:
    with pytest.raises(InvalidInput, match="lifetime"):
        dev.mint("alice@example.com", lifetime_s=lifetime)


def test_lifetime_bounds_are_accepted(dev: DevIssuer, clock: Clock) -> None:
    for lifetime in (1, 3600):
        _verifier(dev, clock).verify(dev.mint("alice@example.com", lifetime_s=lifetime))


def test_empty_audience_is_refused(dev: DevIssuer) -> None:
    with pytest.raises(InvalidInput, match="audience"):
        dev.mint("alice@example.com", audience="")


def test_only_p256_keys(clock: Clock) -> None:
    for algorithm in (KeyAlgorithm.ECDSA_P384_SHA384, KeyAlgorithm.ED25519):
        with pytest.raises(ConfigError, match="P-256"):
            DevIssuer(ISS, generate_signer(algorithm), clock=clock)


def test_issuer_url_must_be_http(signer: SoftwareSigner) -> None:
    with pytest.raises(ConfigError):
        DevIssuer("localhost/oidc", signer)
