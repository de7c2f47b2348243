"""Getting an identity token for signing: explicit, ambient CI, browser (PKCE) or device code.

Order of precedence (:func:`obtain_token`): a token given explicitly (the
caller reads ``--identity-token`` or ``SIGSTORE_ID_TOKEN``), then an ambient CI
credential (GitHub Actions, GitLab, Buildkite, Google Cloud, through the ``id``
package), then an interactive login against the issuer: the authorization code
flow with PKCE on a loopback redirect, or the device authorization grant.

HTTP goes through an :class:`OidcHttp` port so this module stays free of any
HTTP library; the token is decoded (not verified: the CA verifies it) to name
its identity and to refuse an expired one early.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

from lacre.errors import ConfigError, InvalidInput, NetworkError
from lacre.jsontypes import type_name

DEFAULT_CLIENT_ID = "sigstore"
MAX_TOKEN_BYTES = 64 << 10
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class OidcHttp(Protocol):
    """The HTTP an interactive login needs."""

    def get_json(self, url: str) -> Mapping[str, Any]:
        """GET ``url`` and return its JSON object (raise on HTTP errors)."""
        ...

    def post_form(self, url: str, form: Mapping[str, str]) -> tuple[int, Mapping[str, Any]]:
        """POST ``form`` URL-encoded; return the status and the JSON object answered."""
        ...


@dataclass(frozen=True)
class IdentityToken:
    """An OIDC identity token and the claims signing relies on (decoded, not verified)."""

    raw: str
    issuer: str
    subject: str
    audiences: tuple[str, ...]
    expiry: int
    email: str | None = None

    @classmethod
    def parse(cls, raw: str) -> IdentityToken:
        """Decode the claims of ``raw`` (a compact JWT) and check their presence and types."""
        raw = raw.strip()
        if len(raw) > MAX_TOKEN_BYTES:
            raise InvalidInput(
                "identity token is too large", expected=f"<= {MAX_TOKEN_BYTES}", found=len(raw)
            )
        claims = _claims(raw)
        audience = claims.get("aud")
        audiences = (audience,) if isinstance(audience, str) else audience
        if not isinstance(audiences, list | tuple) or not all(
            isinstance(a, str) for a in audiences
        ):
            raise InvalidInput("identity token aud", expected="a string", found=type_name(audience))
        email = claims.get("email")
        return cls(
            raw=raw,
            issuer=_string_claim(claims, "iss"),
            subject=_string_claim(claims, "sub"),
            audiences=tuple(audiences),
            expiry=_int_claim(claims, "exp"),
            email=email if isinstance(email, str) and email else None,
        )

    @property
    def principal(self) -> str:
        """The name the CA certifies: the email if the token has one, else the subject."""
        return self.email or self.subject

    def check_usable(self, audience: str, now: float | None = None) -> None:
        """Refuse a token for another audience or that has expired."""
        if audience not in self.audiences:
            raise InvalidInput(
                "identity token is for another audience",
                expected=audience,
                found=", ".join(self.audiences) or "none",
            )
        moment = time.time() if now is None else now
        if self.expiry <= moment:
            raise InvalidInput(
                "identity token has expired",
                expected=f"exp after {int(moment)}",
                found=f"exp {self.expiry}",
            )


def _claims(raw: str) -> Mapping[str, Any]:
    parts = raw.split(".")
    if len(parts) != 3:
        raise InvalidInput(
            "identity token is not a JWT", expected="3 dot-separated parts", found=len(parts)
        )
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (binascii.Error, ValueError, RecursionError) as exc:
        raise InvalidInput(f"identity token claims are unreadable: {exc}") from None
    if not isinstance(claims, dict):
        raise InvalidInput("identity token claims", expected="an object", found=type_name(claims))
    return claims


def _string_claim(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"identity token {name}", expected="a string", found=type_name(value))
    return value


def _int_claim(claims: Mapping[str, Any], name: str) -> int:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"identity token {name}", expected="a number", found=type_name(value))
    return int(value)


def ambient_token(audience: str) -> str | None:
    """A token from the CI environment (GitHub Actions, GitLab, ...), or None outside CI."""
    import id as ambient  # the id package probes the environment when called

    try:
        return ambient.detect_credential(audience)
    except ambient.IdentityError as exc:
        raise ConfigError(f"cannot get the CI identity token: {exc}") from None


@dataclass(frozen=True, kw_only=True)
class Discovery:
    """The endpoints of an OpenID provider that a login uses."""

    issuer: str
    authorization_endpoint: str | None
    token_endpoint: str
    device_authorization_endpoint: str | None

    @classmethod
    def fetch(cls, http: OidcHttp, issuer: str) -> Discovery:
        """Read ``issuer``'s discovery document and check it names the same issuer."""
        document = http.get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
        named = document.get("issuer")
        if named != issuer.rstrip("/") and named != issuer:
            raise InvalidInput(
                "discovery document names another issuer", expected=issuer, found=named
            )
        token_endpoint = document.get("token_endpoint")
        if not isinstance(token_endpoint, str):
            raise InvalidInput("discovery token_endpoint", expected="a URL", found=token_endpoint)
        return cls(
            issuer=issuer,
            authorization_endpoint=_optional_url(document, "authorization_endpoint"),
            token_endpoint=token_endpoint,
            device_authorization_endpoint=_optional_url(document, "device_authorization_endpoint"),
        )


def _optional_url(document: Mapping[str, Any], name: str) -> str | None:
    value = document.get(name)
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class Pkce:
    """A PKCE verifier and its S256 challenge (RFC 7636)."""

    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        """A fresh random verifier (43 characters, 256 bits)."""
        verifier = secrets.token_urlsafe(32)
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        return cls(verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"))


class Redirect(Protocol):
    """Receives the authorization answer on the loopback redirect URI."""

    @property
    def uri(self) -> str:
        """The redirect URI registered in the authorization request."""
        ...

    def wait(self, timeout_s: float) -> Mapping[str, str]:
        """The query parameters the browser brought back."""
        ...


@dataclass(frozen=True, kw_only=True)
class Client:
    """An OAuth client of one issuer."""

    http: OidcHttp
    discovery: Discovery
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = ""

    def authorization_url(self, redirect_uri: str, pkce: Pkce, state: str, nonce: str) -> str:
        """The URL the browser opens to log in."""
        if self.discovery.authorization_endpoint is None:
            raise ConfigError("the issuer offers no authorization endpoint for a browser login")
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid email",
            "state": state,
            "nonce": nonce,
            "code_challenge": pkce.challenge,
            "code_challenge_method": "S256",
        }
        return f"{self.discovery.authorization_endpoint}?{urlencode(query)}"

    def browser_login(
        self, open_browser: Callable[[str], object], redirect: Redirect, timeout_s: float = 300
    ) -> str:
        """Authorization code flow with PKCE; returns the ID token."""
        pkce, state, nonce = Pkce.new(), secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        open_browser(self.authorization_url(redirect.uri, pkce, state, nonce))
        answer = redirect.wait(timeout_s)
        if "error" in answer:
            raise InvalidInput(f"login refused by the issuer: {answer['error']}")
        if not secrets.compare_digest(answer.get("state", ""), state):
            raise InvalidInput("login answer carries the wrong state", expected="our state")
        form = {
            "grant_type": "authorization_code",
            "code": answer.get("code", ""),
            "redirect_uri": redirect.uri,
            "code_verifier": pkce.verifier,
        }
        return self._token(form)

    def device_login(
        self, show: Callable[[str, str], object], *, sleep: Callable[[float], None] = time.sleep
    ) -> str:
        """Device authorization grant (RFC 8628); ``show(url, code)`` tells the user."""
        endpoint = self.discovery.device_authorization_endpoint
        if endpoint is None:
            raise ConfigError("the issuer offers no device authorization endpoint")
        status, answer = self.http.post_form(endpoint, self._with_client({"scope": "openid email"}))
        if status != 200:
            raise NetworkError(f"device authorization refused: {_oauth_error(answer)}")
        device_code = _field(answer, "device_code")
        url = answer.get("verification_uri_complete") or _field(answer, "verification_uri")
        show(str(url), _field(answer, "user_code"))
        interval = float(answer.get("interval", 5))
        deadline = time.monotonic() + float(answer.get("expires_in", 600))
        while time.monotonic() < deadline:
            sleep(interval)
            form = {"grant_type": DEVICE_GRANT, "device_code": device_code}
            status, answer = self.http.post_form(
                self.discovery.token_endpoint, self._with_client(form)
            )
            error = answer.get("error")
            if status == 200:
                return _field(answer, "id_token")
            if error == "slow_down":
                interval += 5
            elif error != "authorization_pending":
                raise InvalidInput(f"device login failed: {_oauth_error(answer)}")
        raise NetworkError("device login timed out", expected="the user to approve in time")

    def _token(self, form: Mapping[str, str]) -> str:
        status, answer = self.http.post_form(self.discovery.token_endpoint, self._with_client(form))
        if status != 200:
            raise InvalidInput(f"the token endpoint refused: {_oauth_error(answer)}")
        return _field(answer, "id_token")

    def _with_client(self, form: Mapping[str, str]) -> dict[str, str]:
        full = {**form, "client_id": self.client_id}
        if self.client_secret:
            full["client_secret"] = self.client_secret
        return full


def _field(answer: Mapping[str, Any], name: str) -> str:
    value = answer.get(name)
    if not isinstance(value, str) or not value:
        raise NetworkError(f"the issuer's answer lacks {name}", found=type_name(value))
    return value


def _oauth_error(answer: Mapping[str, Any]) -> str:
    error = answer.get("error", "unknown error")
    description = answer.get("error_description")
    return f"{error}: {description}" if description else str(error)


def obtain_token(
    *,
    explicit: str | None,
    audience: str = DEFAULT_CLIENT_ID,
    use_ambient: bool = True,
    interactive: Callable[[], str] | None = None,
) -> IdentityToken:
    """The identity token to sign with: explicit, else ambient CI, else ``interactive()``."""
    raw = explicit or (ambient_token(audience) if use_ambient else None)
    if raw is None:
        if interactive is None:
            raise ConfigError(
                "no identity token",
                expected="--identity-token, SIGSTORE_ID_TOKEN, a CI credential or a login",
            )
        raw = interactive()
    token = IdentityToken.parse(raw)
    token.check_usable(audience)
    return token
