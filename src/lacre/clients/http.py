"""Shared HTTP plumbing for the service clients: timeouts, size limits, errors, retries.

Every non-2xx answer becomes a lacre error carrying the server's message (the
``{"code", "message"}`` shape Sigstore services use). Requests are retried
with backoff only when that is safe: when the connection could not be made
(nothing reached the server) or, for idempotent requests, on pushback (503).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

import lacre
from lacre.errors import Error, InvalidInput, NetworkError, NotFound, PushbackError, TooLarge

DEFAULT_TIMEOUT_S = 30.0
"""Seconds a request may take (Rekor v2 answers only once the entry is checkpointed)."""
MAX_RESPONSE_BYTES = 8 << 20
"""The largest answer any client reads."""
RETRIES = 3
BACKOFF_S = 0.5
USER_AGENT = f"lacre/{lacre.__version__}"

Sleep = Callable[[float], None]


def new_client(
    *, timeout_s: float = DEFAULT_TIMEOUT_S, transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    """An ``httpx.Client`` with a timeout and lacre's user agent (``transport`` for tests)."""
    return httpx.Client(
        timeout=httpx.Timeout(timeout_s),
        headers={"User-Agent": USER_AGENT},
        transport=transport,
        follow_redirects=False,
    )


def send(
    client: httpx.Client,
    request: httpx.Request,
    *,
    service: str,
    idempotent: bool,
    sleep: Sleep = time.sleep,
) -> httpx.Response:
    """Send ``request``, read at most :data:`MAX_RESPONSE_BYTES`, retry when it is safe."""
    request.headers["User-Agent"] = USER_AGENT
    for attempt in range(RETRIES):
        last = attempt == RETRIES - 1
        try:
            response = _read(client, request, service)
        except httpx.ConnectError as exc:
            if last:
                raise NetworkError(f"cannot reach the {service} at {request.url}: {exc}") from None
            sleep(BACKOFF_S * 2**attempt)
            continue
        if response.status_code == 503 and idempotent and not last:
            sleep(_retry_after(response, BACKOFF_S * 2**attempt))
            continue
        return response
    raise AssertionError("unreachable")  # pragma: no cover


def _read(client: httpx.Client, request: httpx.Request, service: str) -> httpx.Response:
    try:
        response = client.send(request, stream=True)
    except httpx.ConnectError:
        raise
    except httpx.TimeoutException as exc:
        raise NetworkError(
            f"the {service} at {request.url} did not answer in time: {exc}"
        ) from None
    except httpx.HTTPError as exc:
        raise NetworkError(f"request to the {service} at {request.url} failed: {exc}") from None
    try:
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > MAX_RESPONSE_BYTES:
                raise TooLarge(
                    f"the {service} answered with too much data",
                    expected=f"<= {MAX_RESPONSE_BYTES} bytes",
                    found=f"more than {MAX_RESPONSE_BYTES}",
                )
    except httpx.HTTPError as exc:
        raise NetworkError(f"reading the {service}'s answer failed: {exc}") from None
    finally:
        response.close()
    return httpx.Response(
        response.status_code, headers=response.headers, content=bytes(body), request=request
    )


def _retry_after(response: httpx.Response, default: float) -> float:
    try:
        return min(float(response.headers.get("Retry-After", default)), 10.0)
    except ValueError:
        return default


def server_message(response: httpx.Response) -> str:
    """The ``message`` of a JSON error answer, else a short preview of the body."""
    try:
        document = json.loads(response.content)
    except ValueError:
        document = None
    if isinstance(document, Mapping) and isinstance(document.get("message"), str):
        return str(document["message"])[:500]
    text = response.content[:200].decode("utf-8", "replace").strip()
    return text or response.reason_phrase


def check_status(response: httpx.Response, service: str, *, ok: tuple[int, ...]) -> None:
    """Raise a lacre error naming ``service`` unless the status is one of ``ok``."""
    if response.status_code in ok:
        return
    status = response.status_code
    message = f"the {service} refused the request: {server_message(response)}"
    found = f"HTTP {status}"
    expected = " or ".join(f"HTTP {code}" for code in ok)
    error: Error
    if status == 404:
        error = NotFound(message, expected=expected, found=found)
    elif status == 413:
        error = TooLarge(message, expected=expected, found=found)
    elif status == 503:
        error = PushbackError(f"{message} ({found})", retry_after_s=_retry_after(response, 1.0))
    elif 400 <= status < 500:
        error = InvalidInput(message, expected=expected, found=found)
    else:
        error = NetworkError(message, expected=expected, found=found)
    raise error


def json_object(response: httpx.Response, service: str) -> Mapping[str, Any]:
    """The answer's body as a JSON object; garbage becomes a :class:`NetworkError`."""
    try:
        document = json.loads(response.content)
    except (ValueError, RecursionError):
        raise NetworkError(
            f"the {service} answered with something that is not JSON",
            expected="a JSON object",
            found=repr(response.content[:60]),
        ) from None
    if not isinstance(document, Mapping):
        raise NetworkError(
            f"the {service} answered with the wrong JSON type",
            expected="a JSON object",
            found=type(document).__name__,
        )
    return document


def json_request(
    client: httpx.Client, url: str, body: object, *, token: str | None = None
) -> httpx.Request:
    """A POST of ``body`` as JSON to ``url`` (with a bearer ``token`` if given)."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.build_request("POST", url, content=json.dumps(body).encode(), headers=headers)
