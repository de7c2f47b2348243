"""TokenVerifier: the refusal matrix, each with its message, and accepted tokens."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from lacre.errors import InvalidInput, TooLarge
from lacre.oidc import IssuerConfig, IssuerType, TokenError, TokenVerifier
from tests.unit.oidc.idp import (
    EC_KEY,
    ED_KEY,
    ISS,
    NOW,
    RSA_KEY,
    Clock,
    Idp,
    b64,
    b64json,
    claims,
    jwk,
    verifier,
)

PUBLIC_PEM = RSA_KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)
RS256 = b64json({"alg": "RS256"})
DUPLICATE = b64(b'{"alg":1,"alg":2}')
NAN = b64(b'{"exp":NaN}')
NOT_UTF8 = b64(b"\xff")


def refused(token: str, match: str, idp: Idp | None = None, *configs: IssuerConfig) -> TokenError:
    check, _ = verifier(idp or Idp(), *configs)
    with pytest.raises(TokenError, match=match) as info:
        check.verify(token)
    assert isinstance(info.value, InvalidInput)
    return info.value


def test_good_token_verifies() -> None:
    idp = Idp()
    check, _ = verifier(idp)
    verified = check.verify(idp.sign(claims()))
    assert verified.claims["sub"] == "alice-subject"
    assert verified.issuer.url == ISS
    assert verified.header["kid"] == "k1"


@pytest.mark.parametrize(
    ("kid", "key", "alg"),
    [
        ("ec", EC_KEY, "ES256"),
        ("ed", ED_KEY, "EdDSA"),
        ("k1", None, "PS256"),
        ("k1", None, "RS512"),
    ],
)
def test_every_key_family_verifies(kid: str, key: Any, alg: str) -> None:
    idp = Idp()
    if key is not None:
        idp.keys[kid] = key
    check, _ = verifier(idp)
    assert check.verify(idp.sign(claims(), kid=kid, alg=alg)).header["alg"] == alg


def test_expired() -> None:
    token = Idp().sign(claims(exp=NOW - 120))
    refused(
        token,
        r"^token expired at 2027-01-15T07:58:00\+00:00; now 2027-01-15T08:00:00\+00:00$",
    )


def test_expiry_within_skew_is_tolerated() -> None:
    idp = Idp()
    check, _ = verifier(idp)
    check.verify(idp.sign(claims(exp=NOW - 30)))


def test_not_yet_valid() -> None:
    refused(Idp().sign(claims(nbf=NOW + 600)), r"^token not yet valid \(nbf 2027-01-15T08:10:00")


def test_issued_in_the_future() -> None:
    refused(
        Idp().sign(claims(iat=NOW + 600)), r"^token issued in the future \(iat 2027-01-15T08:10"
    )


def test_missing_exp() -> None:
    refused(Idp().sign(claims(exp=None)), r"^claim exp is missing or not a NumericDate")


def test_wrong_audience() -> None:
    refused(Idp().sign(claims(aud="foo")), r"^audience mismatch: expected sigstore, found foo$")


def test_audience_list_containing_client_id_is_accepted() -> None:
    idp = Idp()
    check, _ = verifier(idp)
    check.verify(idp.sign(claims(aud=["other", "sigstore"])))


def test_custom_client_id() -> None:
    idp = Idp()
    config = IssuerConfig(url=ISS, type=IssuerType.EMAIL, client_id="lacre")
    refused(idp.sign(claims()), r"^audience mismatch: expected lacre, found sigstore$", idp, config)
    check, _ = verifier(idp, config)
    check.verify(idp.sign(claims(aud="lacre")))


def test_unknown_issuer() -> None:
    idp = Idp()
    refused(
        idp.sign(claims(iss="https://x")),
        r"^issuer https://x not configured: expected one of https://issuer.example$",
    )
    assert not idp.calls  # nothing fetched for an unconfigured issuer


def test_bad_signature() -> None:
    token = Idp().sign(claims())
    head, payload, _ = token.split(".")
    forged = Idp().sign(claims(sub="mallory"))
    tampered = f"{head}.{forged.split('.')[1]}.{token.split('.')[2]}"
    refused(tampered, r"^signature does not verify with key k1$")
    other = jwt.encode(claims(), rsa.generate_private_key(65537, 2048), "RS256", {"kid": "k1"})
    refused(other, r"^signature does not verify with key k1$")
    assert payload


@pytest.mark.parametrize(("kid", "alg"), [("k1", "RS256"), ("ec", "ES256"), ("ed", "EdDSA")])
@pytest.mark.parametrize("cut", ["empty", "truncated", "extended", "flipped"])
def test_mangled_signatures_do_not_verify(kid: str, alg: str, cut: str) -> None:
    idp = Idp()
    idp.keys.update({"ec": EC_KEY, "ed": ED_KEY})
    head, payload, signature = idp.sign(claims(), kid=kid, alg=alg).split(".")
    raw = jwt.utils.base64url_decode(signature)
    mangled = {
        "empty": b"",
        "truncated": raw[:-1],
        "extended": raw + b"\0",
        "flipped": raw[:-1] + bytes([raw[-1] ^ 1]),
    }[cut]
    token = f"{head}.{payload}.{b64(mangled)}"
    refused(token, rf"^signature does not verify with key {kid}$", idp)


@pytest.mark.parametrize("signature", ["", "c2ln"])
@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none(alg: str, signature: str) -> None:
    token = f"{b64json({'alg': alg, 'kid': 'k1'})}.{b64json(claims())}.{signature}"
    refused(token, rf"^alg {alg} is not allowed \(an unsigned token\): expected one of RS256, ")


def test_hs256_with_public_key_as_secret() -> None:
    signing_input = f"{b64json({'alg': 'HS256', 'kid': 'k1'})}.{b64json(claims())}"
    mac = hmac.new(PUBLIC_PEM, signing_input.encode(), hashlib.sha256).digest()
    refused(
        f"{signing_input}.{b64(mac)}",
        r"^HS256 is not allowed: expected one of RS256, RS384, RS512, PS256, .*EdDSA$",
    )


def test_unlisted_algorithm() -> None:
    token = f"{b64json({'alg': 'RS1'})}.{b64json(claims())}.c2ln"
    refused(token, r"^RS1 is not allowed: expected one of RS256")


def test_key_of_the_wrong_family_is_not_used() -> None:
    idp = Idp()
    token = jwt.encode(claims(), EC_KEY, "ES256", {"kid": "k1"})
    refused(token, r"^key k1 of https://issuer.example cannot verify ES256$", idp)


def test_ec_curve_must_match_alg() -> None:
    idp = Idp()
    idp.keys["p384"] = ec.generate_private_key(ec.SECP384R1())
    token = jwt.encode(claims(), EC_KEY, "ES256", {"kid": "p384"})
    refused(token, r"cannot verify ES256", idp)


def test_crit_header_is_refused() -> None:
    idp = Idp()
    token = jwt.encode(claims(), idp.keys["k1"], "RS256", {"kid": "k1", "crit": ["exp"]})
    refused(token, r"^header parameter crit is not supported$", idp)


def test_unknown_kid_refreshes_once_then_fails() -> None:
    idp = Idp()
    token = jwt.encode(claims(), EC_KEY, "ES256", {"kid": "abc"})
    refused(
        token, r"^unknown key id at https://issuer.example: expected one of k1, found abc$", idp
    )
    assert idp.calls[f"{ISS}/jwks"] == 2  # the initial fetch and one refresh
    assert idp.calls[f"{ISS}/.well-known/openid-configuration"] == 1


def test_unknown_kid_succeeds_after_rotation() -> None:
    idp = Idp()
    clock = Clock()
    check, _ = verifier(idp, clock=clock)
    check.verify(idp.sign(claims()))
    idp.keys["k2"] = EC_KEY
    assert check.verify(idp.sign(claims(), kid="k2", alg="ES256")).header["kid"] == "k2"
    assert idp.calls[f"{ISS}/jwks"] == 2


def test_refresh_is_rate_limited() -> None:
    idp = Idp()
    clock = Clock()
    check, _ = verifier(idp, clock=clock)
    for kid in ("x1", "x2"):
        with pytest.raises(TokenError, match=f"^unknown key id at .*, found {kid}$"):
            check.verify(jwt.encode(claims(), EC_KEY, "ES256", {"kid": kid}))
    assert idp.calls[f"{ISS}/jwks"] == 2  # the second unknown kid found refreshes throttled
    clock.now += 61
    idp.keys["x3"] = EC_KEY
    check.verify(idp.sign(claims(iat=clock.now), kid="x3", alg="ES256"))
    assert idp.calls[f"{ISS}/jwks"] == 3


def test_token_without_kid_tries_every_key() -> None:
    idp = Idp()
    idp.keys["ec"] = EC_KEY
    check, _ = verifier(idp)
    assert check.verify(jwt.encode(claims(), EC_KEY, "ES256")).claims["iss"] == ISS
    other = jwt.encode(claims(), rsa.generate_private_key(65537, 2048), "RS256")
    with pytest.raises(TokenError, match=r"^signature does not verify with any key of"):
        check.verify(other)


def test_missing_email_verified() -> None:
    refused(
        Idp().sign(claims(email_verified=None)), r"^claim email_verified is missing: expected true$"
    )


@pytest.mark.parametrize(
    ("value", "found"), [(False, "false"), ("false", '"false"'), (1, "1"), ("yes", '"yes"')]
)
def test_false_email_verified(value: object, found: str) -> None:
    refused(
        Idp().sign(claims(email_verified=value)),
        rf"^claim email_verified is not true: expected true, found {found}$",
    )


def test_null_email_verified_is_present_but_not_true() -> None:
    idp = Idp()
    signed = idp.sign({**claims(), "email_verified": None})
    refused(signed, r"^claim email_verified is not true: expected true, found null$", idp)


@pytest.mark.parametrize("value", [True, "true", "True"])
def test_true_email_verified_spellings(value: object) -> None:
    idp = Idp()
    check, _ = verifier(idp)
    check.verify(idp.sign(claims(email_verified=value)))


def test_skip_email_verification() -> None:
    idp = Idp()
    config = IssuerConfig(url=ISS, type=IssuerType.EMAIL, skip_email_verification=True)
    check, _ = verifier(idp, config)
    check.verify(idp.sign(claims(email_verified=None)))


def test_email_verified_not_required_for_workloads() -> None:
    idp = Idp()
    config = IssuerConfig(url=ISS, type=IssuerType.USERNAME, subject_domain="issuer.example")
    check, _ = verifier(idp, config)
    check.verify(idp.sign(claims(email_verified=None)))


def test_oversized() -> None:
    token = "a" * (65536 + 1)
    error = refused(token, r"^token too large: expected at most 65536 bytes, found 65537$")
    assert isinstance(error, TooLarge)


def test_size_limit_is_configurable() -> None:
    idp = Idp()
    check = TokenVerifier([IssuerConfig(url=ISS, type=IssuerType.EMAIL)], _NoKeys(), max_bytes=10)
    with pytest.raises(TokenError, match=r"found 11$"):
        check.verify("a.b.c.d.e.f")
    assert not idp.calls


class _NoKeys:
    def keys(self, issuer: str) -> list[Any]:
        raise AssertionError("no key lookup expected")

    def refresh(self, issuer: str) -> bool:
        raise AssertionError("no refresh expected")


@pytest.mark.parametrize(
    ("token", "match"),
    [
        ("a.b", r"^malformed token: expected 3 dot-separated parts, found 2$"),
        ("a.b.c.d", r"^malformed token: expected 3 dot-separated parts, found 4$"),
        ("", r"^malformed token: expected 3 dot-separated parts, found 1$"),
        (f"{b64json({'alg': 'RS256'})}.e30=.c2ln", r"^malformed token: payload is not base64url"),
        (f"{b64json({'alg': 'RS256'})}.e30.c2l+", r"^malformed token: signature is not base64url"),
        (f"abcde.{b64json({})}.c2ln", r"^malformed token: header is not base64url"),
        (f"{b64(b'not json')}.{b64json({})}.c2ln", r"^malformed token: header is not JSON"),
        (f"{b64json({'alg': 'RS256'})}.{b64(b'{')}.c2ln", r"^malformed token: payload is not JSON"),
        (f"{b64json([1])}.{b64json({})}.c2ln", r"^malformed token: header is not a JSON object"),
        (f"{b64json({'alg': 'RS256'})}.{b64json('x')}.c2ln", r"payload is not a JSON object"),
        (f"{DUPLICATE}.e30.c2ln", r"^malformed token: header is not JSON"),
        (f"{RS256}.{NAN}.c2ln", r"payload is not JSON"),
        (f"{RS256}.{NOT_UTF8}.c2ln", r"payload is not JSON"),
        ("é.é.é", r"^malformed token: header is not base64url"),
    ],
)
def test_malformed(token: str, match: str) -> None:
    check = TokenVerifier([IssuerConfig(url=ISS, type=IssuerType.EMAIL)], _NoKeys())
    with pytest.raises(TokenError, match=match):
        check.verify(token)


def test_missing_iss() -> None:
    token = f"{b64json({'alg': 'RS256'})}.{b64json({'sub': 'x'})}.c2ln"
    refused(token, r"^claim iss is missing or not a string")


def test_missing_sub() -> None:
    refused(Idp().sign(claims(sub=None)), r"^claim sub is missing")


def test_bad_numeric_date() -> None:
    refused(Idp().sign(claims(exp=True)), r"^claim exp is missing or not a NumericDate")
    refused(Idp().sign(claims(iat="yesterday")), r"^claim iat is missing or not a NumericDate")


def test_issuer_without_keys() -> None:
    idp = Idp()
    idp.keys.clear()
    token = jwt.encode(claims(), EC_KEY, "ES256")
    refused(token, r"^issuer https://issuer.example publishes no keys$", idp)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_small_rsa_key_is_not_used() -> None:
    idp = Idp()
    weak = rsa.generate_private_key(65537, 1024)
    idp.keys["weak"] = weak
    token = jwt.encode(claims(), weak, "RS256", {"kid": "weak"})
    refused(token, r"^key weak of https://issuer.example cannot verify RS256$", idp)


def test_jwk_alg_must_match_token_alg() -> None:
    idp = Idp()
    idp.keys.clear()
    idp.extra_jwks.append({**jwk("pinned", RSA_KEY), "alg": "RS256"})
    check, _ = verifier(idp)
    check.verify(jwt.encode(claims(), RSA_KEY, "RS256", {"kid": "pinned"}))
    with pytest.raises(TokenError, match=r"^key pinned of .* cannot verify PS256$"):
        check.verify(jwt.encode(claims(), RSA_KEY, "PS256", {"kid": "pinned"}))
