"""Identity tokens: parsing, precedence, and the PKCE and device logins against a fake IdP."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
import pytest

from lacre.clients.oidc import HttpxOidc
from lacre.errors import ConfigError, InvalidInput, NetworkError
from lacre.oidc import flows
from lacre.oidc.flows import Client, Discovery, IdentityToken, Pkce, obtain_token

ISSUER = "https://idp.test"


def jwt(**claims: Any) -> str:
    def part(document: Mapping[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()

    base = {"iss": ISSUER, "sub": "u1", "aud": "sigstore", "exp": int(time.time()) + 600}
    return f"{part({'alg': 'ES256'})}.{part({**base, **claims})}.c2ln"


class FakeIdP:
    """An OpenID provider offering the code flow with PKCE and the device grant."""

    def __init__(self, *, pending: int = 2) -> None:
        self.challenge: str | None = None
        self.redirect_uri: str | None = None
        self.pending = pending
        self.polls: list[str] = []
        self.forms: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/.well-known/openid-configuration":
            return httpx.Response(
                200,
                json={
                    "issuer": ISSUER,
                    "authorization_endpoint": f"{ISSUER}/auth",
                    "token_endpoint": f"{ISSUER}/token",
                    "device_authorization_endpoint": f"{ISSUER}/device",
                },
            )
        form = dict(parse_qsl(request.content.decode()))
        self.forms.append(form)
        if path == "/device":
            return httpx.Response(
                200,
                json={
                    "device_code": "dev-1",
                    "user_code": "ABCD-EFGH",
                    "verification_uri": f"{ISSUER}/activate",
                    "interval": 1,
                    "expires_in": 60,
                },
            )
        return self._token(form)

    def _token(self, form: dict[str, str]) -> httpx.Response:
        if form.get("grant_type") == flows.DEVICE_GRANT:
            self.polls.append(form["device_code"])
            if self.pending > 0:
                self.pending -= 1
                error = "slow_down" if self.pending == 0 else "authorization_pending"
                return httpx.Response(400, json={"error": error})
            return httpx.Response(200, json={"id_token": jwt(email="dev@example.com")})
        verifier = form.get("code_verifier", "")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
        if form.get("code") != "code-1" or digest.decode() != self.challenge:
            return httpx.Response(
                400, json={"error": "invalid_grant", "error_description": "PKCE check failed"}
            )
        if form.get("redirect_uri") != self.redirect_uri:
            return httpx.Response(400, json={"error": "invalid_grant"})
        return httpx.Response(200, json={"id_token": jwt(email="alice@example.com")})


class Browser:
    """Plays the user's browser: reads the authorization URL, answers on the redirect."""

    def __init__(self, idp: FakeIdP, *, state: str | None = None, error: str | None = None) -> None:
        self.idp, self.state, self.error = idp, state, error
        self.answer: dict[str, str] = {}

    def open(self, url: str) -> None:
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        assert query["code_challenge_method"] == "S256"
        assert query["response_type"] == "code" and query["client_id"] == "sigstore"
        self.idp.challenge, self.idp.redirect_uri = query["code_challenge"], query["redirect_uri"]
        self.answer = {"code": "code-1", "state": self.state or query["state"]}
        if self.error:
            self.answer = {"error": self.error}

    @property
    def uri(self) -> str:
        return "http://127.0.0.1:9/auth/callback"

    def wait(self, timeout_s: float) -> Mapping[str, str]:
        return self.answer


def _client(idp: FakeIdP) -> Client:
    http = HttpxOidc(httpx.Client(transport=httpx.MockTransport(idp), timeout=5))
    return Client(http=http, discovery=Discovery.fetch(http, ISSUER))


def test_browser_login_with_pkce() -> None:
    idp = FakeIdP()
    browser = Browser(idp)
    token = _client(idp).browser_login(browser.open, browser)
    assert IdentityToken.parse(token).principal == "alice@example.com"
    assert idp.forms[-1]["grant_type"] == "authorization_code"
    assert idp.forms[-1]["client_id"] == "sigstore"


def test_browser_login_refuses_a_forged_state_and_idp_errors() -> None:
    idp = FakeIdP()
    forged = Browser(idp, state="attacker")
    with pytest.raises(InvalidInput, match="wrong state"):
        _client(idp).browser_login(forged.open, forged)
    denied = Browser(idp, error="access_denied")
    with pytest.raises(InvalidInput, match="access_denied"):
        _client(idp).browser_login(denied.open, denied)


def test_token_endpoint_refusal_is_reported() -> None:
    idp = FakeIdP()
    browser = Browser(idp)
    client = _client(idp)
    browser.open(client.authorization_url(browser.uri, Pkce.new(), "s", "n"))
    with pytest.raises(InvalidInput, match="PKCE check failed"):
        client._token(
            {
                "grant_type": "authorization_code",
                "code": "code-1",
                "code_verifier": "wrong",
                "redirect_uri": browser.uri,
            }
        )


def test_pkce_challenge_is_s256_of_a_fresh_verifier() -> None:
    first, second = Pkce.new(), Pkce.new()
    assert first.verifier != second.verifier and 43 <= len(first.verifier) <= 128
    expected = base64.urlsafe_b64encode(hashlib.sha256(first.verifier.encode()).digest()).rstrip(
        b"="
    )
    assert first.challenge == expected.decode()


def test_device_login_polls_until_approved_and_slows_down() -> None:
    idp = FakeIdP(pending=3)
    shown: list[tuple[str, str]] = []
    sleeps: list[float] = []
    token = _client(idp).device_login(
        lambda url, code: shown.append((url, code)), sleep=sleeps.append
    )
    assert IdentityToken.parse(token).email == "dev@example.com"
    assert shown == [(f"{ISSUER}/activate", "ABCD-EFGH")]
    assert idp.polls == ["dev-1"] * 4
    assert sleeps == [1.0, 1.0, 1.0, 6.0]


def test_device_login_stops_on_a_denial() -> None:
    idp = FakeIdP()
    idp._token = lambda form: httpx.Response(400, json={"error": "access_denied"})  # type: ignore[method-assign]
    with pytest.raises(InvalidInput, match="access_denied"):
        _client(idp).device_login(lambda url, code: None, sleep=lambda s: None)


def test_discovery_must_name_the_same_issuer() -> None:
    def liar(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"issuer": "https://evil.test", "token_endpoint": "x"})

    http = HttpxOidc(httpx.Client(transport=httpx.MockTransport(liar), timeout=5))
    with pytest.raises(InvalidInput, match="another issuer"):
        Discovery.fetch(http, ISSUER)
    broken = HttpxOidc(
        httpx.Client(
            transport=httpx.MockTransport(lambda r: httpx.Response(500, content=b"down")), timeout=5
        )
    )
    with pytest.raises(NetworkError, match="down"):
        Discovery.fetch(broken, ISSUER)


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ("not-a-jwt", "not a JWT"),
        ("a.!!!.c", "unreadable"),
        ("a." + base64.urlsafe_b64encode(b"[1]").decode() + ".c", "claims"),
        (jwt(iss=None), "iss"),
        (jwt(sub=""), "sub"),
        (jwt(exp="soon"), "exp"),
        (jwt(aud=[1]), "aud"),
        ("x" * (70 << 10), "too large"),
    ],
)
def test_malformed_tokens_are_refused(raw: str, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        IdentityToken.parse(raw)


def test_token_principal_audience_and_expiry() -> None:
    assert IdentityToken.parse(jwt()).principal == "u1"
    assert IdentityToken.parse(jwt(email="a@b.test")).principal == "a@b.test"
    with pytest.raises(InvalidInput, match="another audience"):
        IdentityToken.parse(jwt(aud=["other"])).check_usable("sigstore")
    with pytest.raises(InvalidInput, match="expired"):
        IdentityToken.parse(jwt(exp=1)).check_usable("sigstore")


def test_precedence_explicit_then_ambient_then_interactive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flows, "ambient_token", lambda audience: jwt(sub="ci"))
    assert obtain_token(explicit=jwt(sub="given")).subject == "given"
    assert obtain_token(explicit=None, interactive=lambda: jwt(sub="login")).subject == "ci"
    assert (
        obtain_token(explicit=None, use_ambient=False, interactive=lambda: jwt(sub="login")).subject
        == "login"
    )
    monkeypatch.setattr(flows, "ambient_token", lambda audience: None)
    with pytest.raises(ConfigError, match="no identity token"):
        obtain_token(explicit=None)


def test_an_unusable_ci_credential_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.delenv("ACTIONS_ID_TOKEN_REQUEST_URL", raising=False)
    monkeypatch.delenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="CI identity token"):
        flows.ambient_token("sigstore")
