"""The browser login's loopback redirect receives the authorization answer over real HTTP."""

from __future__ import annotations

import threading
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from lacre.clients.oidc import LoopbackRedirect
from lacre.errors import NetworkError
from lacre.oidc.flows import Client, Discovery, IdentityToken
from tests.unit.clients.test_oidc_flows import ISSUER, FakeIdP

pytestmark = pytest.mark.integration


def test_browser_login_over_a_real_loopback_redirect() -> None:
    from lacre.clients.oidc import HttpxOidc

    idp = FakeIdP()
    http = HttpxOidc(httpx.Client(transport=httpx.MockTransport(idp), timeout=5))
    client = Client(http=http, discovery=Discovery.fetch(http, ISSUER))

    def browser(url: str) -> None:
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        idp.challenge, idp.redirect_uri = query["code_challenge"], query["redirect_uri"]
        target = f"{query['redirect_uri']}?code=code-1&state={query['state']}"
        threading.Thread(target=lambda: httpx.get(target, timeout=5), daemon=True).start()

    redirect = LoopbackRedirect()
    assert redirect.uri.startswith("http://localhost:")
    token = client.browser_login(browser, redirect, timeout_s=10)
    assert IdentityToken.parse(token).email == "alice@example.com"


def test_other_paths_are_ignored_and_silence_times_out() -> None:
    redirect = LoopbackRedirect()
    base = redirect.uri.rsplit("/auth/", 1)[0]
    assert httpx.get(f"{base}/elsewhere?code=x", timeout=5).status_code == 404
    with pytest.raises(NetworkError, match="no login answer"):
        redirect.wait(0.2)
