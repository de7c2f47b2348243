"""``lacre dev``: helpers for a server running in development mode."""

from __future__ import annotations

import click
import httpx

from lacre.cli.reporting import reports_errors
from lacre.errors import InvalidInput, NetworkError

TIMEOUT_S = 10.0
"""How long ``lacre dev token`` waits for the server."""


def post_json(url: str, body: dict[str, str]) -> httpx.Response:
    """POST ``body`` as JSON to ``url`` (the one network call of ``lacre dev token``)."""
    return httpx.post(url, json=body, timeout=TIMEOUT_S)


def fetch_token(server: str, email: str, audience: str) -> str:
    """Ask the development OIDC issuer of ``server`` for a token for ``email``."""
    url = server.rstrip("/") + "/oidc/token"
    try:
        response = post_json(url, {"email": email, "audience": audience})
    except httpx.HTTPError as exc:
        raise NetworkError(
            f"cannot reach {url}: {str(exc) or type(exc).__name__}",
            expected="a lacre server running in development mode",
        ) from None
    if response.status_code == 404:
        raise NetworkError(
            f"{url} does not exist: is the server running in development mode?",
            found=f"HTTP {response.status_code}",
        )
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code != 200:
        message = answer.get("message") if isinstance(answer, dict) else None
        raise InvalidInput(
            f"the server refused the token request: {message or response.reason_phrase}",
            found=f"HTTP {response.status_code}",
        )
    token = answer.get("id_token") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token:
        raise NetworkError(f"{url} answered without a token", expected="a JSON id_token")
    return token


@click.group()
def dev() -> None:
    """Helpers for a lacre server running in development mode."""


@dev.command()
@click.option(
    "--server",
    required=True,
    metavar="URL",
    help="Base URL of the lacre server (e.g. http://localhost:8080).",
)
@click.option("--email", required=True, help="The email identity the token names.")
@click.option(
    "--audience", default="sigstore", show_default=True, help="The token's audience (aud)."
)
@reports_errors
def token(server: str, email: str, audience: str) -> None:
    """Print an identity token for --email from the server's built-in OIDC issuer.

    Works only against a server running in development mode, whose built-in issuer
    hands out tokens for any email address without authentication (never enable it in
    production). Only the token is printed, so it can be captured, as in
    TOKEN=$(lacre dev token --server http://localhost:8080 --email me@example.com).
    """
    click.echo(fetch_token(server, email, audience))
