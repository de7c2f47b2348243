"""Registry authentication: the bearer-token flow and basic auth.

A request is sent with a cached authorization if one matches its scopes. On a
``401`` the ``WWW-Authenticate`` challenge decides: ``Bearer realm=...,
service=..., scope=...`` fetches a token from the realm (with the user's
credentials if any, or their identity token through the OAuth2 refresh-token
grant) and resends; ``Basic`` resends with the user name and password. The
HTTP layer (:mod:`lacre.oci.http`) does the sending.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from lacre.errors import ConfigError, NetworkError
from lacre.oci.credentials import Credentials

CredentialSource = Callable[[str], Credentials | None]
"""Returns the credentials for a registry ``host[:port]`` (None: anonymous)."""


_PARAM = re.compile(r'([A-Za-z_][A-Za-z0-9_-]*)=("(?:[^"\\]|\\.)*"|[^,\s]*)')
_BASIC = ("*basic*",)
_CLIENT_ID = "lacre"


@dataclass(frozen=True)
class Challenge:
    """One ``WWW-Authenticate`` challenge: lowercase scheme and its parameters."""

    scheme: str
    params: dict[str, str]


def parse_challenge(header: str) -> Challenge | None:
    """Parse ``Scheme k="v",k=v``; None if the header names no scheme."""
    scheme, _, rest = header.strip().partition(" ")
    if not scheme or "=" in scheme:
        return None
    params = {}
    for key, value in _PARAM.findall(rest):
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params[key.lower()] = value
    return Challenge(scheme.lower(), params)


def pick_challenge(headers: Sequence[str]) -> Challenge | None:
    """The bearer challenge among ``headers`` if any, else the first basic one."""
    challenges = [c for c in map(parse_challenge, headers) if c is not None]
    for scheme in ("bearer", "basic"):
        for challenge in challenges:
            if challenge.scheme == scheme:
                return challenge
    return None


def basic_header(credentials: Credentials) -> str:
    """The ``Authorization: Basic`` value for ``credentials``."""
    raw = f"{credentials.username}:{credentials.password}".encode()
    return "Basic " + base64.b64encode(raw).decode()


TokenSender = Callable[[httpx.Request], tuple[int, bytes]]
"""Sends a token request; returns the status code and the (size-limited) body."""


class RegistryAuth:
    """Answers registry challenges and caches the resulting authorization per (host, scopes)."""

    def __init__(self, credentials: CredentialSource | None = None) -> None:
        """Use ``credentials`` to look up the user's credentials per registry host."""
        self._source = credentials
        self._credentials: dict[str, Credentials | None] = {}
        self._cache: dict[tuple[str, tuple[str, ...]], str] = {}

    def credentials(self, host: str) -> Credentials | None:
        """The credentials for ``host`` (looked up once)."""
        if host not in self._credentials:
            self._credentials[host] = self._source(host) if self._source else None
        return self._credentials[host]

    def cached(self, host: str, scopes: tuple[str, ...]) -> str | None:
        """A cached ``Authorization`` value usable for ``scopes`` on ``host``, if any."""
        exact = self._cache.get((host, scopes))
        if exact is not None:
            return exact
        wider = tuple(scope.replace(":pull", ":pull,push") for scope in scopes)
        return self._cache.get((host, wider)) or self._cache.get((host, _BASIC))

    def authorize(
        self,
        url: httpx.URL,
        scopes: tuple[str, ...],
        challenges: Sequence[str],
        send: TokenSender,
    ) -> str | None:
        """Answer the ``WWW-Authenticate`` ``challenges`` of a 401; None if we cannot."""
        host = url.netloc.decode()
        challenge = pick_challenge(challenges)
        if challenge is None:
            return None
        credentials = self.credentials(host)
        if challenge.scheme == "basic":
            if credentials is None or credentials.identity_token is not None:
                return None
            header = basic_header(credentials)
            self._cache[(host, _BASIC)] = header
            return header
        request = token_request(url, challenge, scopes, credentials)
        status, body = send(request)
        header = "Bearer " + _token_from(status, body, request.url.netloc.decode())
        self._cache[(host, scopes)] = header
        return header


def token_request(
    url: httpx.URL,
    challenge: Challenge,
    scopes: tuple[str, ...],
    credentials: Credentials | None,
) -> httpx.Request:
    """The request to the token realm of ``challenge`` for ``scopes``."""
    realm = _checked_realm(challenge.params.get("realm", ""), url)
    wanted = list(scopes)
    if "scope" in challenge.params and challenge.params["scope"] not in wanted:
        wanted.insert(0, challenge.params["scope"])
    service = challenge.params.get("service")
    if credentials is not None and credentials.identity_token is not None:
        form = {"grant_type": "refresh_token", "refresh_token": credentials.identity_token}
        form |= {"client_id": _CLIENT_ID, "scope": " ".join(wanted)}
        if service:
            form["service"] = service
        return httpx.Request("POST", realm, data=form)
    params: list[tuple[str, str | int | float | bool | None]] = [
        ("scope", scope) for scope in wanted
    ]
    if service:
        params.insert(0, ("service", service))
    headers = {"Authorization": basic_header(credentials)} if credentials else {}
    return httpx.Request("GET", realm, params=params, headers=headers)


def _checked_realm(realm: str, registry_url: httpx.URL) -> httpx.URL:
    try:
        url = httpx.URL(realm)
    except httpx.InvalidURL:
        url = httpx.URL("")
    if url.scheme not in ("http", "https") or not url.host:
        raise NetworkError(
            f"registry {registry_url.netloc.decode()} sent an unusable token realm",
            expected="an http(s) URL",
            found=repr(realm[:200]),
        )
    if url.scheme == "http" and registry_url.scheme == "https":
        raise NetworkError(
            f"registry {registry_url.netloc.decode()} asks for credentials over plain HTTP",
            expected="an https token realm",
            found=realm[:200],
        )
    return url


def _token_from(status: int, body: bytes, realm_host: str) -> str:
    if status in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
        raise ConfigError(
            f"the token service at {realm_host} refused the credentials (HTTP {status})",
            expected="valid credentials in the docker config or credential helper",
        )
    if status != httpx.codes.OK:
        raise NetworkError(
            f"the token service at {realm_host} failed",
            expected="HTTP 200 with a JSON token",
            found=f"HTTP {status}",
        )
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        document = None
    token = (
        document.get("token") or document.get("access_token")
        if isinstance(document, dict)
        else None
    )
    if not isinstance(token, str) or not token or not token.isprintable():
        raise NetworkError(
            f"the token service at {realm_host} answered without a token",
            expected='JSON {"token": "..."} or {"access_token": "..."}',
            found=body[:100].decode(errors="replace"),
        )
    return token
