import importlib

import httpx
import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lacre.apps.errors import install_error_handlers
from lacre.apps.oidc import oidc_router
from lacre.cli.main import cli
from lacre.keys import generate_signer
from lacre.oidc import TokenVerifier
from lacre.oidc.accounts import Accounts
from lacre.oidc.devissuer import DevIssuer

# lacre.cli.main registers the commands; import it first.
dev = importlib.import_module("lacre.cli.dev")

Calls = list[tuple[str, dict[str, str]]]


def _answer(monkeypatch: pytest.MonkeyPatch, response: httpx.Response) -> Calls:
    calls: Calls = []

    def post_json(url: str, body: dict[str, str]) -> httpx.Response:
        calls.append((url, body))
        return response

    monkeypatch.setattr(dev, "post_json", post_json)
    return calls


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli,
        ["dev", "token", "--server", "http://localhost:8080/", "--email", "a@example.com", *args],
    )
    return result.exit_code, result.stdout, result.stderr


def test_prints_only_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _answer(
        monkeypatch,
        httpx.Response(200, json={"id_token": "h.p.s", "access_token": "h.p.s"}),
    )
    code, out, err = _run()
    assert (code, out, err) == (0, "h.p.s\n", "")
    assert calls == [
        ("http://localhost:8080/oidc/token", {"email": "a@example.com", "audience": "sigstore"})
    ]


def test_the_audience_is_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _answer(monkeypatch, httpx.Response(200, json={"id_token": "t"}))
    assert _run("--audience", "foo")[0] == 0
    assert calls[0][1]["audience"] == "foo"


def test_unreachable_server(monkeypatch: pytest.MonkeyPatch) -> None:
    def post_json(url: str, body: dict[str, str]) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    monkeypatch.setattr(dev, "post_json", post_json)
    code, out, err = _run()
    assert code == 1 and out == ""
    assert "NetworkError" in err and "cannot reach http://localhost:8080/oidc/token" in err
    assert "Connection refused" in err


def test_refused_request(monkeypatch: pytest.MonkeyPatch) -> None:
    _answer(monkeypatch, httpx.Response(400, json={"code": 400, "message": "not an email"}))
    code, out, err = _run()
    assert code == 1 and out == ""
    assert "refused" in err and "not an email" in err and "HTTP 400" in err


def test_server_not_in_development_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    _answer(monkeypatch, httpx.Response(404, json={"code": 404, "message": "Not Found"}))
    code, out, err = _run()
    assert code == 1 and out == ""
    assert "development mode" in err


@pytest.mark.parametrize(
    "response",
    [httpx.Response(200, content=b"<html>"), httpx.Response(200, json={"token": "x"})],
)
def test_answer_without_token(monkeypatch: pytest.MonkeyPatch, response: httpx.Response) -> None:
    _answer(monkeypatch, response)
    code, out, err = _run()
    assert code == 1 and out == "" and "without a token" in err


def test_server_error_without_json(monkeypatch: pytest.MonkeyPatch) -> None:
    _answer(monkeypatch, httpx.Response(502, content=b"bad gateway"))
    code, _, err = _run()
    assert code == 1 and "Bad Gateway" in err


def test_help_mentions_development_mode() -> None:
    result = CliRunner().invoke(cli, ["dev", "token", "--help"])
    assert result.exit_code == 0
    assert "development mode" in result.output


def test_post_json_sets_a_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    def post(url: str, **kwargs: object) -> httpx.Response:
        seen.update(kwargs, url=url)
        return httpx.Response(200)

    monkeypatch.setattr(httpx, "post", post)
    dev.post_json("http://x/oidc/token", {"email": "a@example.com"})
    assert seen == {
        "url": "http://x/oidc/token",
        "json": {"email": "a@example.com"},
        "timeout": dev.TIMEOUT_S,
    }


def test_against_the_issuer_routes(monkeypatch: pytest.MonkeyPatch) -> None:
    issuer = DevIssuer("http://localhost:8080/oidc", generate_signer())
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(oidc_router(issuer, Accounts(open_minting=True)))
    client = TestClient(app)

    def post_json(url: str, body: dict[str, str]) -> httpx.Response:
        assert url.startswith("http://localhost:8080/")
        response: httpx.Response = client.post(url.removeprefix("http://localhost:8080"), json=body)
        return response

    monkeypatch.setattr(dev, "post_json", post_json)
    code, out, _ = _run()
    assert code == 0
    verifier = TokenVerifier([issuer.issuer_config()], issuer.jwks_source())
    assert verifier.principal(out.strip()).name == "a@example.com"

    code, out, err = _run("--audience", "")
    assert code == 1 and out == "" and "audience" in err


def test_error_without_message(monkeypatch: pytest.MonkeyPatch) -> None:
    def post_json(url: str, body: dict[str, str]) -> httpx.Response:
        raise httpx.ReadTimeout("")

    monkeypatch.setattr(dev, "post_json", post_json)
    code, _, err = _run()
    assert code == 1 and "ReadTimeout" in err
